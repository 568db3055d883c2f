-- user: alice roles=analyst_west region_id=3
EXPLAIN ANALYZE SELECT count(*) FROM retail.products
-- expect:
EXPLAIN ANALYZE SELECT count(*) FROM "retail"."products"
