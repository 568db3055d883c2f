-- user: alice roles=analyst_west region_id=3
SET SESSION "role" = 'pg_read_all_data'
-- expect:
ERROR 42501 changing setting "role" is not allowed for role(s) analyst_west: the policy fixes it
