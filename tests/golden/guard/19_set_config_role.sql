-- user: alice roles=analyst_west region_id=3
SELECT set_config('role', 'postgres', false)
-- expect:
ERROR 42501 set_config of this setting is not allowed for role(s) analyst_west
