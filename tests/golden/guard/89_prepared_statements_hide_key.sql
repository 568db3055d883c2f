-- user: alice roles=analyst_west region_id=3
SELECT name, statement FROM pg_prepared_statements
-- expect:
SELECT name, statement FROM (SELECT "name", (CASE WHEN pg_catalog.strpos(statement, 'golden-key') > 0 THEN '(hidden by Querent: the statement holds the hash mask key)' ELSE statement END) AS "statement", "prepare_time", "parameter_types", "from_sql", "generic_plans", "custom_plans" FROM "pg_catalog"."pg_prepared_statements" WHERE true OFFSET 0) AS "pg_prepared_statements" LIMIT 10000
