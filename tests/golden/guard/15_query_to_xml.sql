-- user: alice roles=analyst_west region_id=3
SELECT query_to_xml('select * from retail.employees', true, false, '')
-- expect:
ERROR 42501 function query_to_xml is not allowed for role(s) analyst_west
