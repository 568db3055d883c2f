-- user: alice roles=analyst_west region_id=3
EXPLAIN (ANALYSE TRUE, COSTS OFF) SELECT count(*) FROM retail.orders
-- expect:
ERROR 42501 EXPLAIN ANALYZE of a row-filtered table is not allowed for role(s) analyst_west: its row counts would tell how many rows the filter hides
