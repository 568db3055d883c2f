-- user: alice roles=analyst_west region_id=3
SELECT pg_rotate_logfile_old()
-- expect:
ERROR 42501 function pg_rotate_logfile_old is not allowed for role(s) analyst_west
