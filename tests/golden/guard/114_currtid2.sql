-- user: alice roles=analyst_west region_id=3
SELECT currtid2('retail.orders', '(560,1)')
-- expect:
ERROR 42501 function currtid2 is not allowed for role(s) analyst_west
