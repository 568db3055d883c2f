-- user: alice roles=analyst_west region_id=3
SELECT pg_catalog.set_config('standard_conforming_strings', 'off', true)
-- expect:
ERROR 42501 changing setting "standard_conforming_strings" is not allowed for role(s) analyst_west: it stays on, so PostgreSQL reads strings as the guard does
