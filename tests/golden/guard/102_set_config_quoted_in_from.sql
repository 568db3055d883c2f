-- user: alice roles=analyst_west region_id=3
SELECT * FROM "set_config"('session_authorization', 'postgres', false)
-- expect:
ERROR 42501 changing setting "session_authorization" is not allowed for role(s) analyst_west: the policy fixes it
