-- user: alice roles=analyst_west region_id=3
WITH stores AS (SELECT * FROM stores) SELECT * FROM stores
-- expect:
ERROR 42P01 relation stores does not exist
