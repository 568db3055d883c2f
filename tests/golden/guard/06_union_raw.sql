-- user: alice roles=analyst_west region_id=3
SELECT store_id FROM retail.stores UNION ALL SELECT store_id FROM retail.stores
-- expect:
SELECT store_id FROM (SELECT "store_id", "name", "city", "region_id", "opened_on", "size_sqft" FROM "retail"."stores" WHERE region_id = '3' OFFSET 0) AS "stores" UNION ALL SELECT store_id FROM (SELECT "store_id", "name", "city", "region_id", "opened_on", "size_sqft" FROM "retail"."stores" WHERE region_id = '3' OFFSET 0) AS "stores" LIMIT 10000
