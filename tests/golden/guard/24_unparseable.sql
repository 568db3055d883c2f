-- user: alice roles=analyst_west region_id=3
SELEC 1
-- expect:
ERROR 42601 Querent cannot check this statement: sql parser error: Expected: an SQL statement, found: SELEC at Line: 1, Column: 1
