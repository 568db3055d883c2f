-- user: alice roles=analyst_west region_id=3
WITH stores AS (SELECT * FROM retail.stores) SELECT count(*) FROM stores
-- expect:
WITH stores AS (SELECT * FROM (SELECT "store_id", "name", "city", "region_id", "opened_on", "size_sqft" FROM "retail"."stores" WHERE region_id = '3' OFFSET 0) AS "stores") SELECT count(*) FROM stores LIMIT 10000
