-- user: alice roles=analyst_west region_id=3
SELECT set_config(lower('ROLE'), 'postgres', false)
-- expect:
ERROR 42501 set_config with a computed setting name is not allowed for role(s) analyst_west
