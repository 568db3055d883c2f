-- user: alice roles=analyst_west region_id=3
SELECT order_id FROM retail.orders LIMIT 2 + 3
-- expect:
SELECT order_id FROM (SELECT "order_id", "customer_id", "store_id", "order_date", "channel", "status", "payment_method" FROM "retail"."orders" WHERE store_id IN (SELECT store_id FROM retail.stores WHERE region_id = '3') OFFSET 0) AS "orders" LIMIT (LEAST(2 + 3, 10000))
