-- user: alice roles=analyst_west region_id=3
WITH a AS (SELECT 1), stores AS (SELECT * FROM retail.stores WHERE store_id IN (SELECT store_id FROM stores)) SELECT * FROM stores
-- expect:
ERROR 42P01 relation stores does not exist
