-- user: alice roles=analyst_west region_id=3
SELECT * FROM retail.stores, LATERAL set_config('standard_conforming_strings', 'off', false) x
-- expect:
ERROR 42501 changing setting "standard_conforming_strings" is not allowed for role(s) analyst_west: it stays on, so PostgreSQL reads strings as the guard does
