-- user: alice roles=analyst_west region_id=3
EXPLAIN (analyse) SELECT count(*) FROM retail.stores
-- expect:
ERROR 42501 EXPLAIN ANALYZE of a row-filtered table is not allowed for role(s) analyst_west: its row counts would tell how many rows the filter hides
