-- user: alice roles=analyst_west region_id=3
SELECT order_id FROM retail.orders WHERE (order_date::text || 'x')::int = 0 AND order_id > 10
-- expect:
SELECT order_id FROM (SELECT "order_id", "customer_id", "store_id", "order_date", "channel", "status", "payment_method" FROM "retail"."orders" WHERE (store_id IN (SELECT store_id FROM retail.stores WHERE region_id = '3')) AND "order_id" > 10 OFFSET 0) AS "orders" WHERE (order_date::TEXT || 'x')::INT = 0 AND order_id > 10 LIMIT 10000
