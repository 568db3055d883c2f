-- user: alice roles=analyst_west region_id=3
SELECT name, email, phone FROM retail.customers WHERE customer_id < 3
-- expect:
SELECT name, email, phone FROM (SELECT "customer_id", CASE WHEN "name" IS NULL THEN NULL ELSE '***' END AS "name", pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to('golden-key' || "email"::TEXT, 'UTF8')), 'hex') AS "email", CASE WHEN "phone" IS NULL THEN NULL ELSE pg_catalog.repeat('*', GREATEST(pg_catalog.length("phone"::TEXT) - 4, 0)) || pg_catalog.right("phone"::TEXT, 4) END AS "phone", "segment", "signup_date", "city", "region_id", "loyalty_tier" FROM "retail"."customers") AS "customers" WHERE customer_id < 3 LIMIT 10000
