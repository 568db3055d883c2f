-- user: alice roles=analyst_west region_id=3
SELECT * FROM pg_logical_slot_peek_changes('s', NULL, NULL)
-- expect:
ERROR 42501 function pg_logical_slot_peek_changes is not allowed for role(s) analyst_west
