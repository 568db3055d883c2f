-- user: alice roles=analyst_west region_id=3
SELECT 1; DELETE FROM retail.orders
-- expect:
ERROR 42501 DELETE FROM (writes through the guard) is not allowed for role(s) analyst_west
