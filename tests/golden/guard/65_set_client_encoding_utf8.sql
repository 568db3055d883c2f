-- user: alice roles=analyst_west region_id=3
SET client_encoding = 'UTF-8'
-- expect:
SET client_encoding = 'UTF-8'
