-- user: alice roles=analyst_west region_id=3
SET "STATEMENT_TIMEOUT" TO 0
-- expect:
ERROR 42501 changing setting "statement_timeout" is not allowed for role(s) analyst_west: the policy fixes it
