-- user: alice roles=analyst_west region_id=3
SELECT pg_catalog.pg_read_binary_file('/etc/passwd')
-- expect:
ERROR 42501 function pg_read_binary_file is not allowed for role(s) analyst_west
