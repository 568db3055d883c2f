-- user: alice roles=analyst_west region_id=3
RESET ALL
-- expect:
ERROR 42501 RESET ALL is not allowed for role(s) analyst_west
