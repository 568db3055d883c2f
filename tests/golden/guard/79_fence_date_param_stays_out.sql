-- user: alice roles=analyst_west region_id=3
SELECT count(*) FROM retail.orders WHERE order_date >= $1
-- expect:
SELECT count(*) FROM (SELECT "order_id", "customer_id", "store_id", "order_date", "channel", "status", "payment_method" FROM "retail"."orders" WHERE store_id IN (SELECT store_id FROM retail.stores WHERE region_id = '3') OFFSET 0) AS "orders" WHERE order_date >= $1 LIMIT 10000
