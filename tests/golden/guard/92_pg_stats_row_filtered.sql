-- user: alice roles=analyst_west region_id=3
SELECT tablename, most_common_vals FROM pg_stats WHERE tablename IN ('orders', 'products')
-- expect:
SELECT tablename, most_common_vals FROM (SELECT * FROM "pg_catalog"."pg_stats" WHERE ((schemaname, tablename) IN (VALUES ('retail', 'categories'), ('retail', 'customers'), ('retail', 'employees'), ('retail', 'order_items'), ('retail', 'products'), ('retail', 'regions'), ('retail', 'returns')) AND (schemaname, tablename, attname) NOT IN (VALUES ('retail', 'customers', 'email'), ('retail', 'customers', 'name'), ('retail', 'customers', 'phone'), ('retail', 'employees', 'salary'))) AND "tablename" IN ('orders', 'products') OFFSET 0) AS "pg_stats" WHERE tablename IN ('orders', 'products') LIMIT 10000
