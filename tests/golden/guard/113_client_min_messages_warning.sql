-- user: alice roles=analyst_west region_id=3
SET client_min_messages = warning
-- expect:
SET client_min_messages = warning
