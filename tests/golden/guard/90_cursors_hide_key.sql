-- user: alice roles=analyst_west region_id=3
SELECT statement FROM pg_catalog.pg_cursors
-- expect:
SELECT statement FROM (SELECT "name", (CASE WHEN pg_catalog.strpos(statement, 'golden-key') > 0 THEN '(hidden by Querent: the statement holds the hash mask key)' ELSE statement END) AS "statement", "is_holdable", "is_binary", "is_scrollable", "creation_time" FROM "pg_catalog"."pg_cursors" WHERE true OFFSET 0) AS "pg_cursors" LIMIT 10000
