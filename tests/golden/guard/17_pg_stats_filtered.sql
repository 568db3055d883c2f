-- user: alice roles=analyst_west region_id=3
SELECT most_common_vals FROM pg_stats WHERE attname = 'email'
-- expect:
SELECT most_common_vals FROM (SELECT * FROM "pg_catalog"."pg_stats" WHERE ((schemaname, tablename) IN (VALUES ('retail', 'categories'), ('retail', 'customers'), ('retail', 'employees'), ('retail', 'order_items'), ('retail', 'products'), ('retail', 'regions'), ('retail', 'returns')) AND (schemaname, tablename, attname) NOT IN (VALUES ('retail', 'customers', 'email'), ('retail', 'customers', 'name'), ('retail', 'customers', 'phone'), ('retail', 'employees', 'salary'))) AND "attname" = 'email' OFFSET 0) AS "pg_stats" WHERE attname = 'email' LIMIT 10000
