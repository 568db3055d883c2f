-- user: alice roles=analyst_west region_id=3
EXPLAIN SELECT statement FROM pg_prepared_statements
-- expect:
ERROR 42501 EXPLAIN of this statement is not allowed for role(s) analyst_west: its plan would show the hash mask's key
