-- user: alice roles=analyst_west region_id=3
SELECT name FROM retail.stores WHERE store_id IN (1, 2, 3) AND size_sqft BETWEEN 100 AND 5000
-- expect:
SELECT name FROM (SELECT "store_id", "name", "city", "region_id", "opened_on", "size_sqft" FROM "retail"."stores" WHERE (region_id = '3') AND "store_id" IN (1, 2, 3) AND "size_sqft" BETWEEN 100 AND 5000 OFFSET 0) AS "stores" WHERE store_id IN (1, 2, 3) AND size_sqft BETWEEN 100 AND 5000 LIMIT 10000
