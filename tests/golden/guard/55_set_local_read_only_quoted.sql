-- user: alice roles=analyst_west region_id=3
SET LOCAL "default_transaction_read_only" = off
-- expect:
ERROR 42501 changing setting "default_transaction_read_only" is not allowed for role(s) analyst_west: the policy fixes it
