-- user: alice roles=analyst_west region_id=3
COPY retail.customers TO STDOUT
-- expect:
COPY (SELECT * FROM (SELECT "customer_id", CASE WHEN "name" IS NULL THEN NULL ELSE '***' END AS "name", pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to('golden-key' || "email"::TEXT, 'UTF8')), 'hex') AS "email", CASE WHEN "phone" IS NULL THEN NULL ELSE pg_catalog.repeat('*', GREATEST(pg_catalog.length("phone"::TEXT) - 4, 0)) || pg_catalog.right("phone"::TEXT, 4) END AS "phone", "segment", "signup_date", "city", "region_id", "loyalty_tier" FROM "retail"."customers") AS "customers" LIMIT 10000) TO STDOUT
