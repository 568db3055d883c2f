-- user: alice roles=analyst_west region_id=3
SET client_encoding TO gbk
-- expect:
ERROR 42501 changing setting "client_encoding" is not allowed for role(s) analyst_west: guarded sessions use UTF8 (or SQL_ASCII), the encoding the guard reads
