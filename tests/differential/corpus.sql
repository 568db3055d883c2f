-- Differential corpus: every entry runs on a fresh direct connection and a fresh proxy
-- connection, and the backend messages after startup must be byte-identical.
--
-- Format: an entry starts at `-- name: <name>`; then optional directives, then SQL.
--   -- mode: value     (default) one statement, run three ways: simple Query, and extended
--                     protocol (Parse/Describe S/Bind/Describe P/Execute/Sync) with all-text
--                     and all-binary result formats
--   -- mode: simple    simple Query only; the SQL may hold several statements; a line
--                     `-- next` splits it into separate Query messages; a part that is just
--                     `<empty>` sends an empty query string, `<spaces>` one of three spaces
--   -- params: k=v ... startup parameters; several `params` lines = run once per line
--   -- pre: <sql>      a simple Query sent first (e.g. SET); repeatable
--   -- expect: <checks> rows=N error=SQLSTATE notice=SQLSTATE has=<tag> lacks=<tag>
--                     status=<ReadyForQuery statuses after pre, e.g. TEI>; then optionally
--                     contains=<text> (the rest of the line; checked on text results only)
-- `@schema@` is the per-run schema created by setup.sql. Other `--` lines are comments.

-- ===== integers =====
-- name: int2_limits
-- expect: rows=1 contains=-32768
SELECT (-32768)::int2 AS lo, 32767::int2 AS hi, 0::int2 AS zero, NULL::int2 AS nul

-- name: int4_limits
-- expect: rows=1 contains=2147483647
SELECT (-2147483648)::int4 AS lo, 2147483647::int4 AS hi, -1 AS neg, NULL::int4 AS nul

-- name: int8_limits
-- expect: rows=1 contains=-9223372036854775808
SELECT (-9223372036854775808)::int8 AS lo, 9223372036854775807::int8 AS hi, NULL::int8 AS nul

-- name: int_series
-- expect: rows=5
SELECT g AS n, g * g AS sq, (g % 2 = 0) AS even FROM generate_series(1, 5) g

-- name: int4_overflow
-- expect: error=22003
SELECT 2147483647::int4 + 1

-- ===== numeric =====
-- name: numeric_values
-- expect: rows=1 contains=1.000000000000000000000000000001
SELECT 'NaN'::numeric AS nan, 'Infinity'::numeric AS inf, '-Infinity'::numeric AS ninf,
       1.000000000000000000000000000001 AS big_scale, -123.456::numeric AS neg,
       0.000::numeric AS zero_scale, 0::numeric AS zero, NULL::numeric AS nul,
       12345678901234567890123456789012345678901234567890.123456789::numeric AS huge,
       1e-100::numeric AS tiny, 99999.99::numeric(7,2) AS typed

-- name: numeric_huge_precision
-- expect: rows=1
SELECT (2::numeric ^ 400) AS p, round(1::numeric / 3, 200) AS third, -(10::numeric ^ 1000) AS negbig

-- name: numeric_column_typmod
-- expect: rows=4 contains=1000000.99
SELECT price, price * 2 AS doubled FROM @schema@.items ORDER BY id

-- ===== floats (each extra_float_digits setting comes from the startup packet) =====
-- name: float_values
-- params: extra_float_digits=0
-- params: extra_float_digits=1
-- params: extra_float_digits=3
-- params: extra_float_digits=-15
-- expect: rows=1 contains=NaN
SELECT 'NaN'::float8 AS nan8, 'Infinity'::float8 AS inf8, '-Infinity'::float8 AS ninf8,
       '-0'::float8 AS negzero8, 1e-310::float8 AS denorm, 0.1::float8 AS tenth8,
       1.0/3 AS third_numeric, (1.0/3)::float8 AS third8, pi() AS pi,
       'NaN'::float4 AS nan4, '-0'::float4 AS negzero4, 0.1::float4 AS tenth4,
       3.4028235e38::float4 AS max4, 1.17549435e-38::float4 AS min4, NULL::float8 AS nul

-- name: float_series
-- params: extra_float_digits=0
-- params: extra_float_digits=3
-- expect: rows=6
SELECT g / 7.0::float8 AS f8, (g / 7.0)::float4 AS f4, 10::float8 ^ (g * 50) AS pow FROM generate_series(1, 6) g

-- name: float_overflow
-- expect: error=22003
SELECT 1e308::float8 * 10

-- ===== bool, text, bytea =====
-- name: bool_values
-- expect: rows=1 contains=t|f|NULL
SELECT true AS t, false AS f, NULL::bool AS n

-- name: text_values
-- expect: rows=1 contains=héllo wörld ✓ 🐘
SELECT 'héllo wörld ✓ 🐘' AS uni, '' AS empty, NULL::text AS nul, 'tab	and
newline' AS ctl, E'back\\slash' AS bs, 'x'::char(5) AS padded, 'abc'::varchar(10) AS vc,
       'name'::name AS nm, '"quoted"' AS q, repeat('z', 5000) AS long

-- name: bytea_hex
-- expect: rows=1 contains=\x00ff
SELECT '\x00ff10'::bytea AS b, ''::bytea AS empty, NULL::bytea AS nul, convert_to('é', 'UTF8') AS utf

-- name: bytea_escape
-- pre: SET bytea_output = 'escape'
-- expect: rows=1 contains=\000\377
SELECT '\x00ff10415c'::bytea AS b, ''::bytea AS empty, NULL::bytea AS nul

-- ===== dates and times =====
-- name: datetime_iso_utc
-- pre: SET TimeZone = 'UTC'
-- expect: rows=1 contains=2024-02-29
SELECT '2024-02-29'::date AS d, '23:59:59.999999'::time AS t, '12:00+05:30'::timetz AS ttz,
       '2024-02-29 13:14:15.123456'::timestamp AS ts,
       '2024-02-29 13:14:15.5+02'::timestamptz AS tstz,
       'infinity'::date AS dinf, '-infinity'::date AS dninf,
       'infinity'::timestamp AS tsinf, '-infinity'::timestamptz AS tstzninf,
       '4713-01-01 BC'::date AS bc, '294276-12-31'::date AS far, NULL::timestamptz AS nul

-- name: timestamptz_zones
-- params: TimeZone=UTC
-- params: TimeZone=America/New_York
-- params: TimeZone=Asia/Kolkata
-- params: TimeZone=Australia/Lord_Howe
-- params: TimeZone=Europe/Berlin DateStyle=SQL,DMY
-- expect: rows=1
SELECT '2024-03-10 06:59:59+00'::timestamptz AS before_dst, '2024-03-10 07:00:00+00'::timestamptz AS after_dst,
       '1900-01-01 00:00:00+00'::timestamptz AS old, '2000-06-15 12:00:00.25+00'::timestamptz AS summer,
       '2000-06-15 12:00'::timestamp AS naive, '10:00'::timetz AS ttz

-- name: datestyles
-- pre: SET TimeZone = 'Europe/Paris'
-- params: DateStyle=ISO,MDY
-- params: DateStyle=SQL,DMY
-- params: DateStyle=SQL,MDY
-- params: DateStyle=Postgres,DMY
-- params: DateStyle=German,DMY
-- expect: rows=1
SELECT '2001-02-03'::date AS d, '2001-02-03 04:05:06.7'::timestamp AS ts,
       '2001-02-03 04:05:06.7+00'::timestamptz AS tstz, 'infinity'::timestamptz AS inf

-- name: datestyle_set
-- pre: SET DateStyle = 'Postgres, YMD'
-- pre: SET TimeZone = 'PST8PDT'
-- expect: rows=1
SELECT '2001-02-03'::date AS d, '2001-02-03 04:05:06'::timestamptz AS tstz

-- name: bad_date
-- expect: error=22008
SELECT '2023-02-30'::date

-- ===== intervals =====
-- name: intervals
-- params: IntervalStyle=postgres
-- params: IntervalStyle=postgres_verbose
-- params: IntervalStyle=sql_standard
-- params: IntervalStyle=iso_8601
-- expect: rows=1
SELECT '1 year 2 mons 3 days 04:05:06.789'::interval AS i, '-1 day +2 hours'::interval AS mixed,
       '0'::interval AS zero, '-178000000 years'::interval AS huge_neg, '1.5 seconds'::interval AS frac,
       '3 days'::interval - '1 hour'::interval AS sub, NULL::interval AS nul

-- ===== uuid, json =====
-- name: uuid_values
-- expect: rows=1 contains=a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11
SELECT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid AS u, NULL::uuid AS nul

-- name: json_values
-- expect: rows=1
SELECT '{"b": 1, "a": [1, 2.50, null, "x"],  "a": 3}'::json AS j,
       '{"b": 1, "a": [1, 2.50, null, "x"],  "a": 3}'::jsonb AS jb,
       '"ünïcode \u00e9"'::jsonb AS s, 'null'::jsonb AS jnull, NULL::jsonb AS nul,
       jsonb_build_object('k', ARRAY[1,2], 'n', NULL) AS built

-- name: json_agg_rows
-- expect: rows=1 contains=apple
SELECT json_agg(i ORDER BY id) AS all_items FROM @schema@.items i

-- ===== arrays =====
-- name: arrays
-- expect: rows=1 contains=NULL,"a\"b"
SELECT ARRAY[1, 2, NULL]::int[] AS ints, ARRAY['a', NULL, 'a"b', 'with space', '', 'NULL', 'back\slash']::text[] AS texts,
       ARRAY[[1, 2], [3, 4]] AS two_d, '{}'::int[] AS empty, NULL::int[] AS nul,
       '[0:1]={7,8}'::int[] AS lower_bound, ARRAY[1.5, NULL]::float8[] AS floats,
       ARRAY['2020-01-01'::date] AS dates, ARRAY[true, false] AS bools, ARRAY['\x01'::bytea] AS byteas

-- name: array_columns
-- expect: rows=4
SELECT id, tags, array_length(tags, 1) AS n FROM @schema@.items ORDER BY id

-- ===== NULLs, rows, enums, domains =====
-- name: nulls_everywhere
-- expect: rows=1 contains=NULL|NULL|NULL
SELECT NULL AS unknown, NULL::int2 AS i2, NULL::int4 AS i4, NULL::int8 AS i8, NULL::numeric AS num,
       NULL::float4 AS f4, NULL::float8 AS f8, NULL::bool AS b, NULL::text AS t, NULL::bytea AS by,
       NULL::date AS d, NULL::time AS tm, NULL::timetz AS tmtz, NULL::timestamp AS ts,
       NULL::timestamptz AS tstz, NULL::interval AS iv, NULL::uuid AS u, NULL::json AS j,
       NULL::jsonb AS jb, NULL::int[] AS arr, NULL::@schema@.mood AS m, NULL::@schema@.pair AS p,
       NULL::@schema@.posint AS dom

-- name: composite_rows
-- expect: rows=1 contains=(1,"x y")
SELECT ROW(1, 'x y')::@schema@.pair AS typed, ROW(1, NULL, 'q"uote', ARRAY[1]) AS anon,
       (2, 'b')::@schema@.pair AS p2, ARRAY[ROW(3, 'c')::@schema@.pair] AS arr

-- name: enums_and_domains
-- expect: rows=4 contains=très "bien"
SELECT id, feeling, qty, qty + 1 AS qty_plus, name::@schema@.short_text AS short FROM @schema@.items ORDER BY id

-- name: enum_literals
-- expect: rows=1
SELECT 'sad'::@schema@.mood AS m, enum_range(NULL::@schema@.mood) AS all_moods, 'ok'::@schema@.mood < 'happy' AS cmp

-- name: domain_violation
-- expect: error=23514
SELECT (-1)::@schema@.posint

-- name: whole_table
-- expect: rows=4
SELECT * FROM @schema@.items ORDER BY id

-- name: table_row_value
-- expect: rows=4
SELECT i AS whole_row, i.id FROM @schema@.items i ORDER BY id

-- name: no_rows
-- expect: rows=0 has=T
SELECT id, name FROM @schema@.items WHERE false

-- ===== errors =====
-- name: division_by_zero
-- expect: error=22012 rows=0
SELECT 1 / 0

-- name: syntax_error_position
-- expect: error=42601 contains=syntax error at or near "nowhere"
SELECT 1 FORM nowhere

-- name: undefined_table
-- expect: error=42P01
SELECT * FROM @schema@.does_not_exist

-- name: undefined_column
-- expect: error=42703
SELECT nope FROM @schema@.items

-- name: unique_violation
-- mode: simple
-- expect: error=23505 status=I contains=uniq_email_key
INSERT INTO @schema@.uniq VALUES (2, 'a@example.com', 1)

-- name: pk_violation
-- mode: simple
-- expect: error=23505 contains=Key (id)=(1) already exists.
INSERT INTO @schema@.uniq VALUES (1, 'b@example.com', 1)

-- name: check_violation
-- mode: simple
-- expect: error=23514 contains=uniq_n_positive
INSERT INTO @schema@.uniq VALUES (3, 'c@example.com', -5)

-- name: not_null_violation
-- mode: simple
-- expect: error=23502
INSERT INTO @schema@.items (id, name) VALUES (99, NULL)

-- name: raise_with_detail_hint
-- mode: simple
-- expect: error=P0001 contains=some detail
DO $$ BEGIN RAISE EXCEPTION 'custom failure %', 42 USING DETAIL = 'some detail', HINT = 'some hint', ERRCODE = 'P0001'; END $$

-- name: raise_custom_sqlstate
-- mode: simple
-- expect: error=22023 contains=bad value
DO $$ BEGIN RAISE EXCEPTION USING MESSAGE = 'bad value', ERRCODE = 'invalid_parameter_value', COLUMN = 'c', TABLE = 't', SCHEMA = 's', CONSTRAINT = 'k', DATATYPE = 'int'; END $$

-- name: error_mid_multistatement
-- mode: simple
-- expect: rows=1 error=22012 status=I
SELECT 1 AS before; SELECT 1 / 0; SELECT 2 AS never_runs

-- name: notice_then_rows
-- mode: simple
-- expect: notice=00000 rows=1 contains=hello notice
DO $$ BEGIN RAISE NOTICE 'hello notice %', 1 USING DETAIL = 'd', HINT = 'h'; END $$; SELECT 'after' AS a

-- name: warning_levels
-- mode: simple
-- expect: notice=01000 contains=careful
DO $$ BEGIN RAISE WARNING 'careful'; RAISE INFO 'info msg'; RAISE LOG 'not sent'; END $$

-- ===== multi-statement, empty =====
-- name: multi_statement
-- mode: simple
-- expect: rows=5 status=I contains=SELECT 2
SELECT 1 AS a; SELECT 'x' AS b, 2 AS c; SET extra_float_digits = 2; SHOW extra_float_digits; VALUES (1), (2)

-- name: empty_query
-- mode: simple
-- expect: has=I rows=0 status=III
<empty>
-- next
;
-- next
<spaces>

-- name: show_and_set_reported
-- mode: simple
-- expect: rows=2 has=S
SET TimeZone = 'Asia/Tokyo'; SET application_name = 'diff test'; SHOW TimeZone; SHOW application_name; RESET TimeZone

-- ===== transactions =====
-- name: commit_transaction
-- mode: simple
-- expect: status=TTI rows=1
BEGIN
-- next
INSERT INTO @schema@.scratch VALUES (1, 'tx') RETURNING id
-- next
ROLLBACK

-- name: error_in_transaction
-- mode: simple
-- expect: status=TEEI error=22012 error=25P02
BEGIN; SELECT 1
-- next
SELECT 1 / 0
-- next
SELECT 1
-- next
ROLLBACK

-- name: commit_failed_transaction
-- mode: simple
-- expect: status=EI error=42P01 contains=ROLLBACK
BEGIN; SELECT * FROM nowhere_at_all
-- next
COMMIT

-- name: savepoints
-- mode: simple
-- expect: status=TTETTI rows=2 error=23505
BEGIN
-- next
SAVEPOINT a
-- next
INSERT INTO @schema@.uniq VALUES (1, 'dup@example.com', 1)
-- next
ROLLBACK TO SAVEPOINT a
-- next
SELECT count(*) AS n FROM @schema@.uniq; RELEASE SAVEPOINT a; SELECT 'still in tx' AS s
-- next
ROLLBACK

-- name: implicit_transaction_error
-- mode: simple
-- expect: status=I error=22012 rows=0
INSERT INTO @schema@.scratch VALUES (7, 'x'); SELECT 1 / 0; COMMIT

-- name: rollback_outside_tx
-- mode: simple
-- expect: notice=25P01 status=I
ROLLBACK

-- ===== COPY TO STDOUT =====
-- name: copy_text
-- mode: simple
-- expect: has=H has=d has=c contains=bänana
COPY (SELECT id, name, price, tags, born FROM @schema@.items ORDER BY id) TO STDOUT

-- name: copy_csv
-- mode: simple
-- expect: has=H has=d contains=id,name
COPY (SELECT id, name, price, tags, feeling FROM @schema@.items ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER true)

-- name: copy_binary
-- mode: simple
-- expect: has=H has=d has=c
COPY (SELECT id, name, price, tags FROM @schema@.items ORDER BY id) TO STDOUT WITH (FORMAT binary)

-- name: copy_large
-- mode: simple
-- expect: has=d contains=COPY 20000
COPY (SELECT g, md5(g::text), repeat('x', g % 100) FROM generate_series(1, 20000) g) TO STDOUT

-- name: copy_then_select
-- mode: simple
-- expect: rows=1 has=c
COPY (VALUES (1, NULL), (2, 'two')) TO STDOUT WITH (FORMAT csv); SELECT 'after copy' AS a

-- name: copy_error
-- mode: simple
-- expect: error=22012 status=I
COPY (SELECT 1 / (g - 3) FROM generate_series(1, 5) g) TO STDOUT

-- ===== larger results =====
-- name: many_rows
-- expect: rows=5000
SELECT g, g::text || '-' || md5(g::text) AS label, g::float8 / 3 AS f FROM generate_series(1, 5000) g

-- name: wide_value
-- expect: rows=1
SELECT repeat('ab✓', 100000) AS big, decode(repeat('00ff', 50000), 'hex') AS blob
