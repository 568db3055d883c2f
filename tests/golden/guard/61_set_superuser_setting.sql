-- user: alice roles=analyst_west region_id=3
SET log_statement = 'none'
-- expect:
ERROR 42501 changing setting "log_statement" is not allowed for role(s) analyst_west: only settings any user may change are allowed through the guard (this one needs more privileges, or cannot change in a session)
