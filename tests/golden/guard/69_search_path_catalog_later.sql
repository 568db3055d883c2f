-- user: alice roles=analyst_west region_id=3
SET search_path = retail, pg_catalog
-- expect:
ERROR 42501 a search_path with pg_catalog after other schemas is not allowed for role(s) analyst_west
