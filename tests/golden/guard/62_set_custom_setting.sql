-- user: alice roles=analyst_west region_id=3
SET app.tenant_id = '7'
-- expect:
ERROR 42501 changing setting "app.tenant_id" is not allowed for role(s) analyst_west: custom settings are not allowed through the guard
