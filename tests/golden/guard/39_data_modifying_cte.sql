-- user: alice roles=analyst_west region_id=3
WITH d AS (DELETE FROM retail.orders RETURNING *) SELECT count(*) FROM d
-- expect:
ERROR 42501 data-modifying statements in WITH or subqueries are not allowed for role(s) analyst_west
