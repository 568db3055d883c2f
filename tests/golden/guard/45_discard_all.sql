-- user: alice roles=analyst_west region_id=3
DISCARD ALL
-- expect:
ERROR 42501 DISCARD ALL is not allowed for role(s) analyst_west
