-- user: alice roles=analyst_west region_id=3
COPY retail.regions FROM STDIN
-- expect:
ERROR 42501 COPY FROM, COPY to a file and COPY ... PROGRAM is not allowed for role(s) analyst_west
