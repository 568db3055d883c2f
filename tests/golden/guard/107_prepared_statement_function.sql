-- user: alice roles=analyst_west region_id=3
SELECT name, statement FROM pg_prepared_statement()
-- expect:
ERROR 42501 function pg_prepared_statement is not allowed for role(s) analyst_west
