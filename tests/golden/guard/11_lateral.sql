-- user: alice roles=analyst_west region_id=3
SELECT s.name, o.n FROM retail.stores s, LATERAL (SELECT count(*) AS n FROM retail.orders WHERE store_id = s.store_id) o
-- expect:
SELECT s.name, o.n FROM (SELECT "store_id", "name", "city", "region_id", "opened_on", "size_sqft" FROM "retail"."stores" WHERE region_id = '3' OFFSET 0) s, LATERAL (SELECT count(*) AS n FROM (SELECT "order_id", "customer_id", "store_id", "order_date", "channel", "status", "payment_method" FROM "retail"."orders" WHERE store_id IN (SELECT store_id FROM retail.stores WHERE region_id = '3') OFFSET 0) AS "orders" WHERE store_id = s.store_id) o LIMIT 10000
