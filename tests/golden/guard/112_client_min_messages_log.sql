-- user: alice roles=analyst_west region_id=3
SET client_min_messages = log
-- expect:
ERROR 42501 changing setting "client_min_messages" is not allowed for role(s) analyst_west: guarded roles see NOTICE, WARNING and ERROR messages
