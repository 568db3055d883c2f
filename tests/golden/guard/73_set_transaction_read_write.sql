-- user: alice roles=analyst_west region_id=3
SET TRANSACTION READ WRITE
-- expect:
ERROR 42501 a READ WRITE transaction is not allowed for role(s) analyst_west
