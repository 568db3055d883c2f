-- user: alice roles=analyst_west region_id=3
EXPLAIN (ANALYZE false) SELECT count(*) FROM retail.stores
-- expect:
EXPLAIN (ANALYZE false) SELECT count(*) FROM (SELECT "store_id", "name", "city", "region_id", "opened_on", "size_sqft" FROM "retail"."stores" WHERE region_id = '3' OFFSET 0) AS "stores"
