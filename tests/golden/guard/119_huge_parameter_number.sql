-- user: alice roles=analyst_west region_id=3
SELECT order_id FROM retail.orders WHERE order_id = $4294967297
-- expect:
ERROR 0A000 the guard cannot print this statement so that PostgreSQL reads it as checked: the number $4294967297 is not one PostgreSQL reads as written
