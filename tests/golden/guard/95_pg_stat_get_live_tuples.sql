-- user: alice roles=analyst_west region_id=3
SELECT pg_stat_get_live_tuples('retail.orders'::regclass)
-- expect:
ERROR 42501 function pg_stat_get_live_tuples is not allowed for role(s) analyst_west
