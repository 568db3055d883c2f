-- user: alice roles=analyst_west region_id=3
SELECT * FROM "retail"."Stores"
-- expect:
ERROR 42P01 relation "retail"."Stores" does not exist
