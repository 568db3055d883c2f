-- user: alice roles=analyst_west region_id=3
SELECT pg_read_file_old('/etc/passwd', 0, 120)
-- expect:
ERROR 42501 function pg_read_file_old is not allowed for role(s) analyst_west
