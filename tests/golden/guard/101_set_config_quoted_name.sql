-- user: alice roles=analyst_west region_id=3
SELECT "set_config"('default_transaction_read_only', 'off', false)
-- expect:
ERROR 42501 changing setting "default_transaction_read_only" is not allowed for role(s) analyst_west: the policy fixes it
