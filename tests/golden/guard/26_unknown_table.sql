-- user: alice roles=analyst_west region_id=3
SELECT * FROM retail.nope
-- expect:
ERROR 42P01 relation retail.nope does not exist
