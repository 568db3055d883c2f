-- user: alice roles=analyst_west region_id=3
SELECT * FROM set_config('role', 'pg_monitor', false)
-- expect:
ERROR 42501 changing setting "role" is not allowed for role(s) analyst_west: the policy fixes it
