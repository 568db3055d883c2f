-- user: eve roles=nobody
SELECT * FROM retail.regions
-- expect:
ERROR 42501 table retail.regions is not readable by role(s) (none)
