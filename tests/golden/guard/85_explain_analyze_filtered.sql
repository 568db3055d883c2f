-- user: alice roles=analyst_west region_id=3
EXPLAIN ANALYZE SELECT * FROM retail.orders WHERE store_id = 17
-- expect:
ERROR 42501 EXPLAIN ANALYZE of a row-filtered table is not allowed for role(s) analyst_west: its row counts would tell how many rows the filter hides
