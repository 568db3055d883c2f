-- user: alice roles=analyst_west region_id=3
SELECT order_id FROM retail.order_items ORDER BY 1 LIMIT 5 OFFSET 10
-- expect:
SELECT order_id FROM "retail"."order_items" ORDER BY 1 LIMIT 5 OFFSET 10
