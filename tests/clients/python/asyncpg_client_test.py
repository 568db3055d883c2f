#!/usr/bin/env python3
"""asyncpg (binary protocol for everything) against the Querent proxy, checked against exact
values and against PostgreSQL directly.

Usage: asyncpg_client_test.py [PROXY_URL [DIRECT_URL]]
  PROXY_URL  postgres:// URL of the proxy (or env QUERENT_URL)
  DIRECT_URL postgres:// URL of the upstream (or env PG_DIRECT_URL;
             default postgres://root@127.0.0.1:5432/test)
Exits non-zero with a message naming the first mismatch.
"""

import asyncio
import datetime as dt
import io
import json
import os
import sys
import uuid
from decimal import Decimal

import asyncpg

PROXY = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("QUERENT_URL", "")
DIRECT = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("PG_DIRECT_URL", "postgres://root@127.0.0.1:5432/test")
if not PROXY:
    sys.exit("usage: asyncpg_client_test.py PROXY_URL [DIRECT_URL] (or QUERENT_URL)")

TAG = "".join(c for c in PROXY.split("@")[-1] if c.isdigit())[-9:] or str(os.getpid())
SCHEMA = f"querent_asyncpg_{TAG}"
UTC = dt.timezone.utc


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


TYPES_SQL = """
SELECT 32767::int2 AS i2, '-2147483648'::int4 AS i4, 9223372036854775807::int8 AS i8,
       '-12345678901234567890.000123456789'::numeric AS num, 1.5::float4 AS f4,
       3.141592653589793::float8 AS f8, 'Infinity'::float8 AS f8_inf,
       true AS b_t, false AS b_f, 'héllo ☃ wörld'::text AS t, ''::text AS t_empty,
       '\\x00ff10deadbeef'::bytea AS ba, '2024-02-29'::date AS d,
       '2024-03-10 12:34:56.789012+00'::timestamptz AS tstz, '2000-01-01 00:00:00'::timestamp AS ts,
       '1 day 02:03:04.5'::interval AS iv, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u,
       '{"a": [1, 2.5, null, "x"]}'::jsonb AS j, ARRAY[1, NULL, 3]::int4[] AS arr_i,
       ARRAY['x', 'y z', NULL, '']::text[] AS arr_t, '{}'::int8[] AS arr_empty,
       NULL::int4 AS n_int, NULL::text AS n_text
"""
TYPES_WANT = {
    "i2": 32767,
    "i4": -2147483648,
    "i8": 9223372036854775807,
    "num": Decimal("-12345678901234567890.000123456789"),
    "f4": 1.5,
    "f8": 3.141592653589793,
    "f8_inf": float("inf"),
    "b_t": True,
    "b_f": False,
    "t": "héllo ☃ wörld",
    "t_empty": "",
    "ba": b"\x00\xff\x10\xde\xad\xbe\xef",
    "d": dt.date(2024, 2, 29),
    "tstz": dt.datetime(2024, 3, 10, 12, 34, 56, 789012, tzinfo=UTC),
    "ts": dt.datetime(2000, 1, 1),
    "iv": dt.timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=500000),
    "u": uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    "j": '{"a": [1, 2.5, null, "x"]}',  # asyncpg returns json/jsonb as text by default
    "arr_i": [1, None, 3],
    "arr_t": ["x", "y z", None, ""],
    "arr_empty": [],
    "n_int": None,
    "n_text": None,
}


async def types(conn, direct):
    row = await conn.fetchrow(TYPES_SQL)
    for k, want in TYPES_WANT.items():
        got = row[k]
        if isinstance(got, uuid.UUID):  # asyncpg's own UUID subclass
            got = uuid.UUID(str(got))
        if k == "tstz":
            got = got.astimezone(UTC)
        eq(got, want, f"binary column {k}")
    drow = await direct.fetchrow(TYPES_SQL)
    eq(list(row.items()), list(drow.items()), "whole row proxy vs direct")
    ok(f"{len(TYPES_WANT)} binary-decoded typed columns exact and equal to direct")


async def params(conn):
    vals = [
        ("int2", 7),
        ("int4", -123456),
        ("int8", -(2**62)),
        ("numeric", Decimal("12.3400")),
        ("float4", 0.5),
        ("float8", -2.25e-300),
        ("bool", True),
        ("text", "it's \"quoted\" \\ ☃"),
        ("bytea", b"\x00\x01\xff"),
        ("date", dt.date(1999, 12, 31)),
        ("timestamptz", dt.datetime(2020, 5, 17, 1, 2, 3, 456789, tzinfo=UTC)),
        ("timestamp", dt.datetime(1970, 1, 1, 0, 0, 0, 1)),
        ("interval", dt.timedelta(days=-2, microseconds=5)),
        ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")),
        ("jsonb", json.dumps({"k": ["v", 1, None]})),
        ("int4[]", [1, None, 3]),
        ("text[]", ["a", None, "b,c", ""]),
        ("text", None),
    ]
    q = "SELECT " + ", ".join(f"${i + 1}::{t}" for i, (t, _) in enumerate(vals))
    row = await conn.fetchrow(q, *[v for _, v in vals])
    for i, (t, v) in enumerate(vals):
        got = row[i]
        if isinstance(got, uuid.UUID):
            got = uuid.UUID(str(got))
        if t == "jsonb":
            got, v = json.loads(got), json.loads(v)
        eq(got, v, f"parameter ${i + 1}::{t} round trip")
    eq(await conn.fetchval("SELECT $1::text || $2::text", "a", "b"), "ab", "fetchval with params")
    rows = await conn.fetch("SELECT g, md5(g::text) FROM generate_series(1, $1::int) g", 5000)
    eq(len(rows), 5000, "5000-row fetch")
    eq(tuple(rows[-1]), (5000, "a35fe7f7fe8217b4369a0af4244d1fca"), "last row of the 5000-row fetch")
    ok(f"fetch with {len(vals)} binary parameters round-trips; 5000-row fetch")


async def prepared(conn):
    stmt = await conn.prepare("SELECT $1::int8 * 3 AS x, $2::text AS y")
    eq([a.name for a in stmt.get_attributes()], ["x", "y"], "prepared statement attributes")
    eq([p.name for p in stmt.get_parameters()], ["int8", "text"], "prepared statement parameter types")
    for i in range(50):
        row = await stmt.fetchrow(i, f"v{i}")
        eq((row["x"], row["y"]), (i * 3, f"v{i}"), f"prepared execution {i}")
    eq(await stmt.fetchval(7, "z"), 21, "fetchval on a prepared statement")
    n = await conn.fetchval("SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int8 * 3 AS x, $2::text AS y'")
    eq(n, 1, "server-side prepared statement exists on the session")
    # The statement cache: the same query text repeated reuses one server statement.
    for i in range(20):
        eq(await conn.fetchval("SELECT $1::int4 + 100", i), i + 100, f"cached statement execution {i}")
    n = await conn.fetchval("SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int4 + 100'")
    eq(n, 1, "cached statement prepared once")
    ok("prepared statement reused 51 times, statement cache reuse x20")


async def cursors(conn):
    async with conn.transaction():
        got = []
        async for r in conn.cursor("SELECT g, g::numeric / 8 FROM generate_series(1, $1::int) g ORDER BY g", 1000, prefetch=13):
            got.append((r[0], r[1]))
        eq(len(got), 1000, "rows through cursor(prefetch=13)")
        eq(got[0], (1, Decimal("0.125")), "first cursor row")
        eq(got[-1], (1000, Decimal("125.000")), "last cursor row")
        check([g for g, _ in got] == list(range(1, 1001)), "cursor rows out of order")
        cur = await conn.cursor("SELECT g FROM generate_series(1, 100) g")
        eq([r[0] for r in await cur.fetch(5)], [1, 2, 3, 4, 5], "cursor.fetch(5)")
        eq(await cur.forward(10), 10, "cursor.forward(10)")
        eq((await cur.fetchrow())[0], 16, "cursor.fetchrow after forward")
        eq(len(await cur.fetch(1000)), 84, "cursor.fetch of the rest")
    ok("cursor() in a transaction with prefetch=13 over 1000 rows; fetch/forward/fetchrow")


async def copy(conn, direct):
    q = "SELECT g, 'line ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE g * 1.5 END FROM generate_series(1, 3000) g"
    for fmt in ("text", "binary", "csv"):
        outs = []
        for c in (conn, direct):
            buf = io.BytesIO()
            status = await c.copy_from_query(q, output=buf, format=fmt)
            eq(status, "COPY 3000", f"copy_from_query {fmt} status")
            outs.append(buf.getvalue())
        check(len(outs[0]) > 10000, f"copy_from_query {fmt}: only {len(outs[0])} bytes")
        check(outs[0] == outs[1], f"copy_from_query {fmt}: bytes differ between proxy and direct")
    await conn.execute(f"CREATE TABLE {SCHEMA}.copied (id int, t text, b bytea)")
    res = await conn.copy_records_to_table(
        "copied", schema_name=SCHEMA, records=[(i, f"tab\there {i}", bytes([i % 256])) for i in range(2000)]
    )
    eq(res, "COPY 2000", "copy_records_to_table status")
    row = await direct.fetchrow(f"SELECT count(*), sum(id), max(t) FROM {SCHEMA}.copied")
    eq(tuple(row), (2000, 1999000, "tab\there 999"), "binary COPY FROM rows seen directly")
    ok("copy_from_query (text/binary/csv bytes identical to direct) and copy_records_to_table")


async def executemany(conn, direct):
    await conn.execute(f"CREATE TABLE {SCHEMA}.many (id int PRIMARY KEY, v text, n numeric)")
    await conn.executemany(
        f"INSERT INTO {SCHEMA}.many VALUES ($1, $2, $3)", [(i, f"row {i}", Decimal(i) / 4) for i in range(500)]
    )
    row = await direct.fetchrow(f"SELECT count(*), sum(id), sum(n), max(v) FROM {SCHEMA}.many")
    eq(tuple(row), (500, 124750, Decimal("31187.50"), "row 99"), "executemany rows seen directly")
    # A failing executemany is atomic and reports the error.
    try:
        await conn.executemany(f"INSERT INTO {SCHEMA}.many VALUES ($1, $2, $3)", [(1000, "a", 1), (1001, "b", 2), (5, "dup", 3)])
    except asyncpg.UniqueViolationError as e:
        eq(e.sqlstate, "23505", "executemany duplicate sqlstate")
    else:
        raise Mismatch("executemany with a duplicate did not raise")
    eq(await direct.fetchval(f"SELECT count(*) FROM {SCHEMA}.many"), 500, "rows after a failed executemany")
    ok("executemany x500 and an atomic failing executemany (23505)")


async def transactions(conn, direct):
    await conn.execute(f"CREATE TABLE {SCHEMA}.tx (id int)")
    tr = conn.transaction()
    await tr.start()
    await conn.execute(f"INSERT INTO {SCHEMA}.tx VALUES (1)")
    eq(await direct.fetchval(f"SELECT count(*) FROM {SCHEMA}.tx"), 0, "uncommitted row visible directly")
    await tr.rollback()
    async with conn.transaction():
        await conn.execute(f"INSERT INTO {SCHEMA}.tx VALUES (2)")
        try:
            async with conn.transaction():  # savepoint
                await conn.execute(f"INSERT INTO {SCHEMA}.tx VALUES (3)")
                await conn.execute("SELECT 1/0")
        except asyncpg.DivisionByZeroError:
            pass
    eq(await direct.fetchval(f"SELECT array_agg(id) FROM {SCHEMA}.tx"), [2], "rows after rollback/savepoint/commit")
    ok("transaction rollback, savepoint rollback, commit as seen directly")


async def errors(conn):
    try:
        await conn.fetchval("SELECT $1::int / $2::int", 1, 0)
    except asyncpg.DivisionByZeroError as e:
        eq(e.sqlstate, "22012", "division by zero sqlstate")
        eq(e.args[0], "division by zero", "division by zero message")
    else:
        raise Mismatch("division by zero did not raise")
    try:
        await conn.execute("SELECT * FROM querent_no_such_table_xyz")
    except asyncpg.UndefinedTableError as e:
        eq(e.sqlstate, "42P01", "undefined table sqlstate")
        eq(str(e), 'relation "querent_no_such_table_xyz" does not exist', "undefined table message")
    else:
        raise Mismatch("undefined table did not raise")
    try:
        await conn.execute("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'QX123', MESSAGE = 'custom', DETAIL = 'd', HINT = 'h'; END $$")
    except asyncpg.PostgresError as e:
        eq((e.sqlstate, e.message, e.detail, e.hint), ("QX123", "custom", "d", "h"), "custom error fields")
    else:
        raise Mismatch("RAISE did not raise")
    # Errors during Parse (prepare) of a bad statement.
    try:
        await conn.prepare("SELEC 1")
    except asyncpg.PostgresSyntaxError as e:
        eq(e.sqlstate, "42601", "syntax error sqlstate")
    else:
        raise Mismatch("syntax error did not raise")
    eq(await conn.fetchval("SELECT 'still usable'"), "still usable", "connection after errors")
    ok("exceptions keep sqlstate and message (22012, 42P01, QX123 with detail/hint, 42601)")


async def listen(conn, direct):
    chan = f"querent_chan_{TAG}"
    got = asyncio.Queue()

    def on_notify(_conn, _pid, ch, payload):
        got.put_nowait((ch, payload))

    await conn.add_listener(chan, on_notify)
    await direct.execute(f"NOTIFY {chan}, 'hello from direct'")
    eq(await asyncio.wait_for(got.get(), 10), (chan, "hello from direct"), "notification")
    await conn.remove_listener(chan, on_notify)
    ok("LISTEN via add_listener delivers a NOTIFY sent directly")


async def cancel(conn, direct):
    # asyncpg cancels a timed-out query with a CancelRequest on a new connection to the proxy.
    tag = f"querent_asyncpg_cancel_{TAG}"
    t0 = asyncio.get_running_loop().time()
    try:
        await conn.fetchval(f"SELECT pg_sleep(20) /* {tag} */", timeout=1.0)
    except asyncio.TimeoutError:
        pass
    else:
        raise Mismatch("pg_sleep(20) with timeout=1 did not time out")
    eq(await conn.fetchval("SELECT 'usable after cancel'"), "usable after cancel", "connection after a cancelled query")
    took = asyncio.get_running_loop().time() - t0
    check(took < 6, f"cancelled query plus next query took {took:.1f}s")
    active = await direct.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE $1 AND state = 'active' AND pid <> pg_backend_pid()", f"%{tag}%"
    )
    eq(active, 0, "pg_sleep still active upstream after the cancel")
    ok(f"timeout=1 on pg_sleep(20) cancels it upstream; connection usable ({took:.1f}s)")


async def main():
    direct = await asyncpg.connect(DIRECT)
    await direct.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
    try:
        await direct.execute("SET TIME ZONE 'UTC'")
        conn = await asyncpg.connect(PROXY, server_settings={"timezone": "UTC", "application_name": "querent-asyncpg"})
        try:
            eq(await conn.fetchval("SHOW application_name"), "querent-asyncpg", "server_settings applied")
            await params(conn)
            await types(conn, direct)
            await prepared(conn)
            await cursors(conn)
            await copy(conn, direct)
            await executemany(conn, direct)
            await transactions(conn, direct)
            await errors(conn)
            await listen(conn, direct)
            await cancel(conn, direct)
        finally:
            await conn.close()
    finally:
        await direct.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        await direct.close()
    print("asyncpg: all checks passed")


if __name__ == "__main__":
    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    except Mismatch as e:
        print(f"FAIL [asyncpg]: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:
        import traceback

        traceback.print_exc()
        print(f"FAIL [asyncpg]: unexpected {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
