-- user: alice roles=analyst_west region_id=3
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r, retail.stores
-- expect:
WITH RECURSIVE r (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r, (SELECT "store_id", "name", "city", "region_id", "opened_on", "size_sqft" FROM "retail"."stores" WHERE region_id = '3' OFFSET 0) AS "stores" LIMIT 10000
