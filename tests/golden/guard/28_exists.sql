-- user: alice roles=analyst_west region_id=3
SELECT count(*) FROM retail.regions r WHERE EXISTS (SELECT 1 FROM retail.stores s WHERE s.region_id = r.region_id)
-- expect:
SELECT count(*) FROM "retail"."regions" r WHERE EXISTS (SELECT 1 FROM (SELECT "store_id", "name", "city", "region_id", "opened_on", "size_sqft" FROM "retail"."stores" WHERE region_id = '3' OFFSET 0) s WHERE s.region_id = r.region_id) LIMIT 10000
