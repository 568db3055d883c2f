-- user: alice roles=analyst_west region_id=3
SELECT * FROM pg_cursor()
-- expect:
ERROR 42501 function pg_cursor is not allowed for role(s) analyst_west
