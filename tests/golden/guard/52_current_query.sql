-- user: alice roles=analyst_west region_id=3
SELECT current_query()
-- expect:
ERROR 42501 function current_query is not allowed for role(s) analyst_west
