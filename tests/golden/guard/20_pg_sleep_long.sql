-- user: alice roles=analyst_west region_id=3
SELECT pg_sleep(3600)
-- expect:
ERROR 42501 pg_sleep beyond 30 s is not allowed for role(s) analyst_west
