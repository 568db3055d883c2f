-- user: alice roles=analyst_west region_id=3
SELECT * INTO TEMP leak_copy FROM retail.customers
-- expect:
ERROR 42501 SELECT INTO is not allowed for role(s) analyst_west
