-- user: alice roles=analyst_west region_id=3
SET debug_print_parse = on
-- expect:
ERROR 42501 changing setting "debug_print_parse" is not allowed for role(s) analyst_west: it reports the server's internals (query trees, plans, sorts)
