#!/usr/bin/env python3
"""psycopg 3 against the Querent proxy, checked against exact values and against PostgreSQL
directly.

Usage: psycopg_client_test.py [PROXY_DSN [DIRECT_DSN]]
  PROXY_DSN  libpq conninfo of the proxy (or env QUERENT_DSN)
  DIRECT_DSN libpq conninfo of the upstream (or env PG_DIRECT_DSN;
             default "host=127.0.0.1 port=5432 user=root dbname=test")
Exits non-zero with a message naming the first mismatch.
"""

import datetime as dt
import os
import sys
import threading
import time
import uuid
from decimal import Decimal

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

PROXY = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("QUERENT_DSN", "")
DIRECT = (
    sys.argv[2]
    if len(sys.argv) > 2
    else os.environ.get("PG_DIRECT_DSN", "host=127.0.0.1 port=5432 user=root dbname=test")
)
if not PROXY:
    sys.exit("usage: psycopg_client_test.py PROXY_DSN [DIRECT_DSN] (or QUERENT_DSN)")

TAG = "".join(c for c in PROXY if c.isdigit())[-5:] or str(os.getpid())
SCHEMA = f"querent_psycopg_{TAG}"


class Mismatch(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Mismatch(what)


def eq(got, want, what):
    if got != want or type(got) is not type(want):
        raise Mismatch(f"{what}: got {got!r} ({type(got).__name__}), want {want!r} ({type(want).__name__})")


def ok(msg):
    print(f"ok - {msg}", flush=True)


UTC = dt.timezone.utc
TYPES_SQL = """
SELECT 32767::int2 AS i2, '-2147483648'::int4 AS i4, 9223372036854775807::int8 AS i8,
       '-12345678901234567890.000123456789'::numeric AS num, 'NaN'::numeric AS num_nan,
       1.5::float4 AS f4, 3.141592653589793::float8 AS f8, '-Infinity'::float8 AS f8_inf,
       true AS b_t, false AS b_f, 'héllo ☃ wörld'::text AS t, ''::text AS t_empty,
       '\\x00ff10deadbeef'::bytea AS ba, ''::bytea AS ba_empty,
       '2024-02-29'::date AS d, '0001-01-01'::date AS d_min,
       '2024-03-10 12:34:56.789012+00'::timestamptz AS tstz,
       '2000-01-01 00:00:00'::timestamp AS ts,
       '1 day 02:03:04.5'::interval AS iv, '-3 days'::interval AS iv_neg,
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u,
       '{"a": [1, 2.5, null, "x"], "b": {"c": true}}'::jsonb AS j,
       ARRAY[1, NULL, 3]::int4[] AS arr_i, ARRAY['x', 'y z', NULL, '']::text[] AS arr_t,
       '{{1,2},{3,4}}'::int8[] AS arr_2d, '{}'::int4[] AS arr_empty,
       NULL::int4 AS n_int, NULL::text AS n_text, NULL::bytea AS n_bytea
"""
TYPES_WANT = {
    "i2": 32767,
    "i4": -2147483648,
    "i8": 9223372036854775807,
    "num": Decimal("-12345678901234567890.000123456789"),
    "num_nan": None,  # compared specially (NaN != NaN)
    "f4": 1.5,
    "f8": 3.141592653589793,
    "f8_inf": float("-inf"),
    "b_t": True,
    "b_f": False,
    "t": "héllo ☃ wörld",
    "t_empty": "",
    "ba": b"\x00\xff\x10\xde\xad\xbe\xef",
    "ba_empty": b"",
    "d": dt.date(2024, 2, 29),
    "d_min": dt.date(1, 1, 1),
    "tstz": dt.datetime(2024, 3, 10, 12, 34, 56, 789012, tzinfo=UTC),
    "ts": dt.datetime(2000, 1, 1),
    "iv": dt.timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=500000),
    "iv_neg": dt.timedelta(days=-3),
    "u": uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    "j": {"a": [1, 2.5, None, "x"], "b": {"c": True}},
    "arr_i": [1, None, 3],
    "arr_t": ["x", "y z", None, ""],
    "arr_2d": [[1, 2], [3, 4]],
    "arr_empty": [],
    "n_int": None,
    "n_text": None,
    "n_bytea": None,
}


def check_types_row(row, names, what):
    got = dict(zip(names, row))
    for k, want in TYPES_WANT.items():
        v = got[k]
        if k == "num_nan":
            check(isinstance(v, Decimal) and v.is_nan(), f"{what}: num_nan is {v!r}")
        elif k == "tstz":
            eq(v.astimezone(UTC), want, f"{what}: {k}")
        elif k == "ba" or k == "ba_empty":
            eq(bytes(v), want, f"{what}: {k}")
        else:
            eq(v, want, f"{what}: {k}")


def types_binary(conn, direct):
    for binary in (True, False):
        mode = "binary" if binary else "text"
        with conn.cursor(binary=binary) as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute(TYPES_SQL)
            check(cur.pgresult.fformat(0) == (1 if binary else 0), f"{mode} cursor got format {cur.pgresult.fformat(0)}")
            names = [d.name for d in cur.description]
            row = cur.fetchone()
            check_types_row(row, names, f"{mode} results through the proxy")
        with direct.cursor(binary=binary) as dcur:
            dcur.execute("SET TIME ZONE 'UTC'")
            dcur.execute(TYPES_SQL)
            drow = dcur.fetchone()
        for n, a, b in zip(names, row, drow):
            if n != "num_nan":
                eq(a, b, f"{mode} {n}: proxy vs direct")
        ok(f"cursor(binary={binary}): {len(TYPES_WANT)} typed columns exact and equal to direct")


def server_side_binding(conn):
    # psycopg 3 sends parameters separately (Parse/Bind with $n placeholders).
    params = (
        7,
        -(2**40),
        Decimal("12.3400"),
        2.25,
        True,
        "it's a \"quote\" \\ and ☃",
        b"\x00\x01\xff",
        dt.date(1999, 12, 31),
        dt.datetime(2020, 5, 17, 1, 2, 3, 456789, tzinfo=UTC),
        dt.timedelta(hours=-5, microseconds=1),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        Jsonb({"k": ["v", 1, None]}),
        [1, 2, None],
        ["a", None, "b,c"],
        None,
    )
    for binary in (False, True):
        with conn.cursor(binary=binary) as cur:
            cur.execute(
                "SELECT %s::int4, %s::int8, %s::numeric, %s::float8, %s::bool, %s::text, %s::bytea, %s::date,"
                " %s::timestamptz, %s::interval, %s::uuid, %s::jsonb, %s::int4[], %s::text[], %s::text,"
                " pg_typeof(%s)::text",
                params + (5,),
            )
            row = cur.fetchone()
            want = list(params)
            want[11] = {"k": ["v", 1, None]}
            for i, (g, w) in enumerate(zip(row, want)):
                if isinstance(w, bytes):
                    g = bytes(g)
                if isinstance(w, dt.datetime):
                    g = g.astimezone(UTC)
                eq(g, w, f"parameter {i + 1} round trip (binary={binary})")
            check(row[-1] in ("smallint", "integer", "bigint", "numeric"), f"pg_typeof of an int param is {row[-1]}")
    with conn.cursor() as cur:
        cur.execute("SELECT %(a)s || %(b)s, %(a)s", {"a": "x", "b": "y"})
        eq(cur.fetchone(), ("xy", "x"), "named parameters")
        # A statement with no parameters and many rows (extended protocol).
        cur.execute("SELECT g, md5(g::text) FROM generate_series(1, 5000) g WHERE g > %s", (0,))
        rows = cur.fetchall()
        eq(len(rows), 5000, "rows of a 5000-row parameterized query")
        check(rows[4999] == (5000, "a35fe7f7fe8217b4369a0af4244d1fca"), f"last row {rows[4999]!r}")
    ok("server-side parameter binding round-trips 15 parameter types (text and binary)")


def prepared(conn):
    with conn.cursor() as cur:
        cur.execute("DEALLOCATE ALL")
        for i in range(30):
            cur.execute("SELECT %s::int * 2, %s::text", (i, f"v{i}"), prepare=True)
            eq(cur.fetchone(), (i * 2, f"v{i}"), f"prepared execution {i}")
        cur.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::int * 2%%'")
        eq(cur.fetchone()[0], 1, "prepared statements named by psycopg on the session")
        # psycopg's automatic preparation (prepare_threshold=5) of another query.
        for i in range(10):
            cur.execute("SELECT %s::int8 + 1", (i,))
            eq(cur.fetchone()[0], i + 1, f"auto-prepared execution {i}")
        cur.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::int8 + 1%%'")
        eq(cur.fetchone()[0], 1, "auto-prepared statement on the session")
        # executemany pipelines Bind/Execute for one prepared statement.
        cur.execute(sql.SQL("CREATE TABLE {}.many (id int PRIMARY KEY, v text)").format(sql.Identifier(SCHEMA)))
        cur.executemany(
            sql.SQL("INSERT INTO {}.many VALUES (%s, %s)").format(sql.Identifier(SCHEMA)),
            [(i, f"row {i}") for i in range(200)],
        )
        cur.execute(sql.SQL("SELECT count(*), sum(id), max(v) FROM {}.many").format(sql.Identifier(SCHEMA)))
        eq(cur.fetchone(), (200, 19900, "row 99"), "executemany result")
    ok("prepare=True x30, auto-prepare x10 and executemany x200 use server-side prepared statements")


def transactions(conn, direct):
    tbl = sql.Identifier(SCHEMA, "tx")
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, v text)").format(tbl))
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("INSERT INTO {} VALUES (1, 'rolled back')").format(tbl))
            eq(conn.info.transaction_status, psycopg.pq.TransactionStatus.INTRANS, "status inside a transaction")
            with direct.cursor() as d:
                d.execute(sql.SQL("SELECT count(*) FROM {}").format(tbl))
                eq(d.fetchone()[0], 0, "uncommitted row visible directly")
        conn.rollback()
        eq(conn.info.transaction_status, psycopg.pq.TransactionStatus.IDLE, "status after rollback")
        with conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(tbl))
            eq(cur.fetchone()[0], 0, "row after rollback")
            cur.execute(sql.SQL("INSERT INTO {} VALUES (2, 'committed')").format(tbl))
        with conn.transaction():
            with conn.cursor() as cur:
                cur.execute(sql.SQL("INSERT INTO {} VALUES (3, 'inner')").format(tbl))
        try:
            with conn.transaction():
                with conn.cursor() as cur:
                    cur.execute(sql.SQL("INSERT INTO {} VALUES (4, 'savepoint rolled back')").format(tbl))
                    cur.execute(sql.SQL("INSERT INTO {} VALUES (2, 'duplicate')").format(tbl))
        except psycopg.errors.UniqueViolation as e:
            eq(e.sqlstate, "23505", "duplicate key sqlstate")
        else:
            raise Mismatch("duplicate key did not raise")
        eq(conn.info.transaction_status, psycopg.pq.TransactionStatus.INTRANS, "status after savepoint rollback")
        conn.commit()
    finally:
        conn.rollback()
        conn.autocommit = True
    with direct.cursor() as d:
        d.execute(sql.SQL("SELECT array_agg(id ORDER BY id) FROM {}").format(tbl))
        eq(d.fetchone()[0], [2, 3], "committed rows seen directly")
    ok("transaction rollback, commit, savepoint rollback on error (23505) as seen directly")


def copy(conn, direct):
    q = "COPY (SELECT g, 'line ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE g * 1.5 END FROM generate_series(1, 3000) g) TO STDOUT"
    with conn.cursor() as cur:
        with cur.copy(q) as cp:
            rows = list(cp.rows())
    eq(len(rows), 3000, "COPY TO STDOUT row count")
    eq(rows[0], ("1", "line 1", "1.5"), "COPY first row")
    eq(rows[2], ("3", "line 3", None), "COPY NULL row")
    # The raw bytes equal what PostgreSQL sends directly.
    for fmt in ("", " (FORMAT binary)", " (FORMAT csv, HEADER true)"):
        blobs = []
        for c in (conn, direct):
            with c.cursor() as cur:
                with cur.copy(q.replace("TO STDOUT", "TO STDOUT" + fmt)) as cp:
                    blobs.append(b"".join(bytes(b) for b in cp))
        check(len(blobs[0]) > 10000, f"COPY{fmt}: only {len(blobs[0])} bytes")
        check(blobs[0] == blobs[1], f"COPY{fmt} bytes differ between proxy and direct")
    # COPY FROM STDIN through the proxy.
    tbl = sql.Identifier(SCHEMA, "copied")
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE TABLE {} (id int, t text, b bytea)").format(tbl))
        with cur.copy(sql.SQL("COPY {} FROM STDIN").format(tbl)) as cp:
            for i in range(2000):
                cp.write_row((i, f"tab\there {i}", bytes([i % 256, 0])))
    with direct.cursor() as d:
        d.execute(sql.SQL("SELECT count(*), sum(id), max(t), bool_and(length(b) = 2) FROM {}").format(tbl))
        eq(d.fetchone(), (2000, 1999000, "tab\there 999", True), "COPY FROM STDIN rows seen directly")
    ok("COPY TO STDOUT (text/binary/csv bytes identical to direct) and COPY FROM STDIN")


def named_cursor(conn):
    conn.autocommit = False
    try:
        with conn.cursor(name=f"querent_named_{TAG}") as cur:
            cur.itersize = 7
            cur.execute("SELECT g, repeat('x', g %% 50) FROM generate_series(1, 1000) g WHERE g > %s ORDER BY g", (0,))
            seen = 0
            for g, x in cur:
                seen += 1
                eq(g, seen, "named cursor row order")
                eq(x, "x" * (seen % 50), "named cursor value")
            eq(seen, 1000, "rows through the named cursor")
        with conn.cursor(name=f"querent_named2_{TAG}", binary=True) as cur:
            cur.execute("SELECT g::int8, g::numeric / 4 FROM generate_series(1, 100) g")
            first = cur.fetchmany(3)
            eq(first, [(1, Decimal("0.25")), (2, Decimal("0.50")), (3, Decimal("0.75"))], "binary named cursor fetchmany")
            rest = cur.fetchall()
            eq(len(rest), 97, "binary named cursor rest")
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_cursors")
            eq(cur.fetchone()[0], 0, "cursors left open")
        conn.commit()
    finally:
        conn.rollback()
        conn.autocommit = True
    ok("server-side named cursors (itersize=7 over 1000 rows, binary fetchmany) in a transaction")


def listen_notify(conn, direct, proxy_dsn):
    chan = f"querent_chan_{TAG}"
    with conn.cursor() as cur:
        cur.execute(sql.SQL("LISTEN {}").format(sql.Identifier(chan)))

    def senders():
        time.sleep(0.3)
        with psycopg.connect(DIRECT, autocommit=True) as d:
            d.execute("SELECT pg_notify(%s, %s)", (chan, "from direct"))
        with psycopg.connect(proxy_dsn, autocommit=True) as p:
            p.execute("SELECT pg_notify(%s, %s)", (chan, "from another proxy client ☃"))
            p.execute(sql.SQL("NOTIFY {}, 'plain notify'").format(sql.Identifier(chan)))

    t = threading.Thread(target=senders)
    t.start()
    got = []
    deadline = time.time() + 10
    for n in conn.notifies(timeout=10, stop_after=3):
        got.append((n.channel, n.payload))
        if time.time() > deadline:
            break
    t.join()
    eq(
        got,
        [(chan, "from direct"), (chan, "from another proxy client ☃"), (chan, "plain notify")],
        "notifications received",
    )
    # A notification sent while the listener is idle arrives with the next query's results.
    with psycopg.connect(DIRECT, autocommit=True) as d:
        d.execute("SELECT pg_notify(%s, 'idle')", (chan,))
    seen = []
    conn.add_notify_handler(lambda n: seen.append(n.payload))
    time.sleep(0.2)
    conn.execute("SELECT 1")
    check("idle" in seen, f"notification sent while idle not delivered (got {seen})")
    conn.execute(sql.SQL("UNLISTEN {}").format(sql.Identifier(chan)))
    ok("LISTEN/NOTIFY: 4 notifications delivered (from direct, from another proxy client, NOTIFY)")


def errors(conn):
    for q, params in (("SELECT 1/0", None), ("SELECT %s::int / %s::int", (1, 0))):
        try:
            conn.execute(q, params)
        except psycopg.errors.DivisionByZero as e:
            eq(e.sqlstate, "22012", "division by zero sqlstate")
            eq(e.diag.message_primary, "division by zero", "division by zero message")
            eq(e.diag.severity, "ERROR", "severity")
        else:
            raise Mismatch(f"{q} did not raise")
    try:
        conn.execute("SELECT * FROM querent_no_such_table_xyz")
    except psycopg.errors.UndefinedTable as e:
        eq(e.sqlstate, "42P01", "undefined table sqlstate")
        eq(e.diag.message_primary, 'relation "querent_no_such_table_xyz" does not exist', "undefined table message")
        check(e.diag.statement_position == "15", f"statement position {e.diag.statement_position!r}")
    else:
        raise Mismatch("undefined table did not raise")
    try:
        conn.execute("SELECT %s::int", ("not a number",))
    except psycopg.errors.InvalidTextRepresentation as e:
        eq(e.sqlstate, "22P02", "invalid input sqlstate")
        eq(e.diag.message_primary, 'invalid input syntax for type integer: "not a number"', "invalid input message")
    else:
        raise Mismatch("bad integer did not raise")
    try:
        conn.execute("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'QX123', MESSAGE = 'custom ☃', DETAIL = 'd', HINT = 'h'; END $$")
    except psycopg.Error as e:
        eq(e.sqlstate, "QX123", "custom sqlstate")
        eq((e.diag.message_primary, e.diag.message_detail, e.diag.message_hint), ("custom ☃", "d", "h"), "custom error fields")
    else:
        raise Mismatch("RAISE did not raise")
    # Notices arrive too.
    notices = []
    conn.add_notice_handler(lambda d: notices.append((d.severity, d.message_primary)))
    conn.execute("DO $$ BEGIN RAISE NOTICE 'hello notice'; END $$")
    eq(notices, [("NOTICE", "hello notice")], "notices")
    eq(conn.execute("SELECT 'still usable'").fetchone()[0], "still usable", "connection after errors")
    ok("errors keep sqlstate and message (22012, 42P01 with position, 22P02, custom QX123 with detail/hint), notices")


def pipeline(conn):
    # Pipeline mode: many Parse/Bind/Execute without waiting, Syncs in between, an error in
    # the middle that aborts only its own segment.
    with conn.pipeline() as p:
        curs = []
        for i in range(100):
            c = conn.cursor()
            c.execute("SELECT %s::int * 10, %s::text", (i, f"p{i}"))
            curs.append(c)
        p.sync()
        for i, c in enumerate(curs):
            eq(c.fetchone(), (i * 10, f"p{i}"), f"pipelined result {i}")
    try:
        with conn.pipeline():
            conn.execute("SELECT 1")
            conn.execute("SELECT 1/0")
            conn.execute("SELECT 2")
    except psycopg.errors.DivisionByZero as e:
        eq(e.sqlstate, "22012", "pipeline error sqlstate")
    else:
        raise Mismatch("pipeline with 1/0 did not raise")
    eq(conn.execute("SELECT 'after pipeline'").fetchone()[0], "after pipeline", "connection after a failed pipeline")
    ok("pipeline mode: 100 pipelined queries, an aborted pipeline (22012) leaves the connection usable")


def copy_fail_and_big_values(conn, direct):
    tbl = sql.Identifier(SCHEMA, "copyfail")
    conn.execute(sql.SQL("CREATE TABLE {} (id int)").format(tbl))
    try:
        with conn.cursor() as cur:
            with cur.copy(sql.SQL("COPY {} FROM STDIN").format(tbl)) as cp:
                for i in range(1000):
                    cp.write_row((i,))
                raise RuntimeError("client gives up mid-COPY")
    except RuntimeError:
        pass
    except psycopg.errors.QueryCanceled as e:  # CopyFail surfaces as 57014
        eq(e.sqlstate, "57014", "CopyFail sqlstate")
    eq(conn.execute("SELECT 'after copyfail'").fetchone()[0], "after copyfail", "connection after CopyFail")
    with direct.cursor() as d:
        d.execute(sql.SQL("SELECT count(*) FROM {}").format(tbl))
        eq(d.fetchone()[0], 0, "rows after CopyFail")
    big = bytes(range(256)) * (24 * 1024)  # 6 MiB parameter and result
    with conn.cursor(binary=True) as cur:
        cur.execute("SELECT %b::bytea, md5(%b::bytea)", (big, big))
        got, digest = cur.fetchone()
    eq(bytes(got), big, "6 MiB bytea round trip")
    import hashlib

    eq(digest, hashlib.md5(big).hexdigest(), "md5 of the 6 MiB parameter upstream")
    ok("CopyFail mid-COPY leaves no rows and a usable connection; 6 MiB bytea parameter/result exact")


def session_reset(proxy_dsn):
    # A client leaves state behind; the next client of the pool must not see it.
    with psycopg.connect(proxy_dsn, autocommit=True) as a:
        pid_a = a.execute("SELECT pg_backend_pid()").fetchone()[0]
        a.execute("SET search_path TO pg_catalog")
        a.execute("SET statement_timeout TO '1234s'")
        a.execute("CREATE TEMP TABLE leftover (x int)")
        a.execute("PREPARE leftover_stmt AS SELECT 1")
        a.execute("LISTEN leftover_channel")
        a.execute("SELECT set_config('querent.custom', 'left', false)")
        a.execute("BEGIN")
        a.execute("DECLARE leftover_cursor CURSOR WITH HOLD FOR SELECT 1")
    state_sql = (
        "SELECT pg_backend_pid(), current_setting('search_path'), current_setting('statement_timeout'),"
        # Only this session's temp schema: pg_class lists every session's temp tables, and the
        # previous client's may not be dropped yet when its connection is still being reset.
        " (SELECT count(*) FROM pg_class WHERE relname = 'leftover' AND relnamespace = pg_my_temp_schema()),"
        " (SELECT count(*) FROM pg_prepared_statements), (SELECT count(*) FROM pg_listening_channels()),"
        " coalesce(current_setting('querent.custom', true), ''), (SELECT count(*) FROM pg_cursors),"
        " current_setting('TimeZone'), current_setting('DateStyle')"
    )
    import time

    time.sleep(0.3)  # let the proxy finish ROLLBACK + DISCARD ALL so the next client reuses it
    with psycopg.connect(proxy_dsn, autocommit=True) as b:
        row = b.execute(state_sql).fetchone()
    with psycopg.connect(DIRECT, autocommit=True) as fresh:
        want = fresh.execute(state_sql).fetchone()
    pid_b = row[0]
    eq(row[1:], want[1:], f"session state seen by the next client vs a fresh direct session (upstream pid {pid_b}, previous {pid_a})")
    ok(f"next client sees a clean session (same upstream backend: {pid_a == pid_b})")


def main():
    with psycopg.connect(DIRECT, autocommit=True) as direct:
        direct.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
        direct.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
        try:
            with psycopg.connect(PROXY, autocommit=True) as conn:
                eq(conn.info.parameter_status("server_version").split(".")[0], "15", "server_version reported")
                eq(conn.info.parameter_status("client_encoding"), "UTF8", "client_encoding reported")
                server_side_binding(conn)
                types_binary(conn, direct)
                prepared(conn)
                transactions(conn, direct)
                copy(conn, direct)
                named_cursor(conn)
                listen_notify(conn, direct, PROXY)
                errors(conn)
                pipeline(conn)
                copy_fail_and_big_values(conn, direct)
            session_reset(PROXY)
        finally:
            direct.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
    print("psycopg: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except Mismatch as e:
        print(f"FAIL [psycopg]: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:
        import traceback

        traceback.print_exc()
        print(f"FAIL [psycopg]: unexpected {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
