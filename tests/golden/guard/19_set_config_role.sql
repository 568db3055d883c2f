-- user: alice roles=analyst_west region_id=3
SELECT set_config('role', 'postgres', false)
-- expect:
ERROR 42501 changing setting "role" is not allowed for role(s) analyst_west: the policy fixes it
