-- user: alice roles=analyst_west region_id=3
-- search_path: retail, public
SELECT count(*) FROM stores
-- expect:
SELECT count(*) FROM (SELECT "store_id", "name", "city", "region_id", "opened_on", "size_sqft" FROM "retail"."stores" WHERE region_id = '3' OFFSET 0) AS "stores" LIMIT 10000
