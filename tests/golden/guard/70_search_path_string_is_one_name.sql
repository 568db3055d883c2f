-- user: alice roles=analyst_west region_id=3
SET search_path = 'retail, public'
-- expect:
SET search_path = 'retail, public'
