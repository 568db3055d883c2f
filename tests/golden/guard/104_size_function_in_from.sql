-- user: alice roles=analyst_west region_id=3
SELECT * FROM pg_relation_size('retail.orders')
-- expect:
ERROR 42501 pg_relation_size in FROM is not allowed for role(s) analyst_west
