-- user: alice roles=analyst_west region_id=3
SET work_mem = '64MB'
-- expect:
SET work_mem = '64MB'
