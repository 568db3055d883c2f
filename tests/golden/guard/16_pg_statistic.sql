-- user: alice roles=analyst_west region_id=3
SELECT * FROM pg_statistic
-- expect:
ERROR 42501 catalog relation pg_catalog.pg_statistic is not readable by role(s) analyst_west
