-- user: alice roles=analyst_west region_id=3
SELECT order_id FROM retail.order_items LIMIT 50000
-- expect:
SELECT order_id FROM "retail"."order_items" LIMIT 10000
