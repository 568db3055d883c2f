-- user: eve roles=nobody
SELECT * FROM retail.regions
-- expect:
ERROR 42501 table retail.regions is not readable: the user has no role in the policies, so it can read no table
