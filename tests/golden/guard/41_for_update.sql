-- user: alice roles=analyst_west region_id=3
SELECT store_id FROM retail.stores FOR UPDATE
-- expect:
ERROR 42501 row locks (FOR UPDATE/SHARE) are not allowed for read-only role(s) analyst_west
