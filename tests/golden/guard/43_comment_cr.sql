-- user: alice roles=analyst_west region_id=3
-- only a comment, and a carriage return SELECT salary FROM retail.employees
-- expect:
ERROR 42501 column "salary" of retail.employees is not readable by role(s) analyst_west
