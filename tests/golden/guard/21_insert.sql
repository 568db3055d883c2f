-- user: alice roles=analyst_west region_id=3
INSERT INTO retail.regions VALUES (9, 'x')
-- expect:
ERROR 42501 INSERT INTO (writes through the guard) is not allowed for role(s) analyst_west
