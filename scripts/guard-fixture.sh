#!/usr/bin/env bash
# Regenerates the guard's offline catalog (fixtures/guard/) from the retail dataset loaded in
# database querent_retail (the leak suite loads it): every relation of the retail schema and of
# pg_catalog / information_schema with its columns and types, PostgreSQL's built-in function
# names, and every setting's context. Used by tests/guard_golden.rs, tests/guard_depth.rs,
# the fuzz targets and examples/guard_bench.rs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PSQL=(psql -XAt -h 127.0.0.1 -U root -d "${DB:-querent_retail}")
"${PSQL[@]}" -c "
SELECT n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' ||
       string_agg(a.attname || ':' || replace(format_type(a.atttypid, NULL), ' ', '+'), ' ' ORDER BY a.attnum)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r','v','m','p','f') AND n.nspname IN ('retail', 'pg_catalog', 'information_schema')
GROUP BY n.nspname, c.relname, c.relkind ORDER BY 1" > fixtures/guard/retail_catalog.txt
"${PSQL[@]}" -c "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'pg_catalog'::regnamespace GROUP BY 1
    HAVING bool_and(p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')) ORDER BY 1" \
    > fixtures/guard/builtin_functions.txt
"${PSQL[@]}" -F' ' -c "SELECT name, context FROM pg_settings ORDER BY 1" > fixtures/guard/settings.txt
wc -l fixtures/guard/*.txt
