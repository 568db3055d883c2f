-- user: alice roles=analyst_west region_id=3
SELECT pg_sequence_last_value('retail.orders_order_id_seq')
-- expect:
ERROR 42501 function pg_sequence_last_value is not allowed for role(s) analyst_west
