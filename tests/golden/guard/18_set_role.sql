-- user: alice roles=analyst_west region_id=3
SET ROLE postgres
-- expect:
ERROR 42501 SET ROLE is not allowed for role(s) analyst_west
