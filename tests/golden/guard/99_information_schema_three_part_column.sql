-- user: alice roles=analyst_west region_id=3
SELECT information_schema.tables.table_name FROM information_schema.tables WHERE information_schema.tables.table_schema = 'retail'
-- expect:
SELECT tables.table_name FROM (SELECT * FROM "information_schema"."tables" WHERE (table_schema IN ('pg_catalog', 'information_schema') OR (table_schema, table_name) IN (VALUES ('retail', 'categories'), ('retail', 'customers'), ('retail', 'employees'), ('retail', 'order_items'), ('retail', 'orders'), ('retail', 'products'), ('retail', 'regions'), ('retail', 'returns'), ('retail', 'stores'))) AND "table_schema" = 'retail' OFFSET 0) AS "tables" WHERE tables.table_schema = 'retail' LIMIT 10000
