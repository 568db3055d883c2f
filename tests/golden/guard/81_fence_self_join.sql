-- user: alice roles=analyst_west region_id=3
SELECT a.status FROM retail.orders a JOIN retail.orders b ON a.order_id = b.order_id WHERE b.order_id = 7
-- expect:
SELECT a.status FROM (SELECT "order_id", "customer_id", "store_id", "order_date", "channel", "status", "payment_method" FROM "retail"."orders" WHERE store_id IN (SELECT store_id FROM retail.stores WHERE region_id = '3') OFFSET 0) a JOIN (SELECT "order_id", "customer_id", "store_id", "order_date", "channel", "status", "payment_method" FROM "retail"."orders" WHERE (store_id IN (SELECT store_id FROM retail.stores WHERE region_id = '3')) AND "order_id" = 7 OFFSET 0) b ON a.order_id = b.order_id WHERE b.order_id = 7 LIMIT 10000
