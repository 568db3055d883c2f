#!/usr/bin/env python3
"""ask('...') as a relation through asyncpg (extended protocol and binary everything): a
prepared statement's attributes before it runs (Describe), a $1 outside the call, a cursor with
prefetch in a transaction (Execute with a row limit), checked against PostgreSQL directly.

Usage: ask_relation_asyncpg.py PORT ADMIN:PASSWORD ALICE:PASSWORD
Env: QUERENT_DB (default querent_retail), PG_DIRECT_URL (default
postgres://root@127.0.0.1:5432/<QUERENT_DB>).
Prints "ok - ..." per check, "skip - ..." for ask_insights() while the server answers 0A000,
and exits non-zero naming the first mismatch.
"""

import asyncio
import os
import sys
from decimal import Decimal

import asyncpg

if len(sys.argv) != 4:
    sys.exit(__doc__)
PORT = sys.argv[1]
ADMIN, ADMIN_PW = sys.argv[2].split(":", 1)
ALICE, ALICE_PW = sys.argv[3].split(":", 1)
DB = os.environ.get("QUERENT_DB", "querent_retail")
DIRECT = os.environ.get("PG_DIRECT_URL", f"postgres://root@127.0.0.1:5432/{DB}")

Q = "revenue by region in 2024"
TRUTH_SQL = """
SELECT r.name, sum(oi.quantity * oi.unit_price * (1 - oi.discount))
FROM retail.order_items oi JOIN retail.orders o ON o.order_id = oi.order_id
JOIN retail.stores s ON s.store_id = o.store_id JOIN retail.regions r ON r.region_id = s.region_id
WHERE o.status = 'completed' AND o.order_date >= DATE '2024-01-01' AND o.order_date < DATE '2025-01-01'
GROUP BY r.name ORDER BY r.name
"""
SUPERSET = f"SELECT region, revenue FROM (SELECT * FROM ask('{Q}')) AS virtual_table LIMIT 1000"
TABLEAU = f"SELECT * FROM (SELECT * FROM ask('{Q}')) \"Custom SQL Query\" WHERE 1=0"
CTE = (
    f"WITH a AS (SELECT * FROM ask('{Q}')) "
    "SELECT region, revenue FROM a WHERE revenue > 0 ORDER BY revenue DESC"
)
REGION_REVENUE = [("region", "text"), ("revenue", "numeric")]


class Mismatch(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Mismatch(what)


def ok(msg):
    print(f"ok - {msg}", flush=True)


def attrs(stmt):
    return [(a.name, a.type.name) for a in stmt.get_attributes()]


def same_rows(got, want, what):
    got = sorted((r[0], r[1]) for r in got)
    check(got == want, f"{what}: rows {got}, want {want}")
    for _, v in got:
        check(isinstance(v, Decimal), f"{what}: revenue is {type(v).__name__}, want Decimal")


async def insights(conn, who, forbidden):
    """ask_insights(): (kind text, text text, score float8, columns text) rows, none naming what
    the user may not see (`forbidden`). A server without it answers 0A000: a printed skip."""
    try:
        stmt = await conn.prepare(f"SELECT * FROM ask_insights('{Q}')")
        rows = await stmt.fetch()
    except asyncpg.exceptions.FeatureNotSupportedError as e:
        print(f"skip - {who}: ask_insights() answers 0A000 ({e.message})", flush=True)
        return
    names = [a.name for a in stmt.get_attributes()]
    check(names == ["kind", "text", "score", "columns"], f"{who}: ask_insights columns {names}")
    types = [a.type.name for a in stmt.get_attributes()]
    check(types == ["text", "text", "float8", "text"], f"{who}: ask_insights types {types}")
    check(len(rows) >= 1, f"{who}: ask_insights gave no rows")
    for r in rows:
        check(r["kind"] and r["text"], f"{who}: ask_insights row without kind/text: {r}")
        check(isinstance(r["score"], float), f"{who}: score {r['score']!r}")
        for word in forbidden:
            check(word not in r["text"], f"{who}: ask_insights text names {word!r}: {r['text']}")
    ok(f"{who}: ask_insights {len(rows)} rows {names}")


async def run(user, pw, truth, forbidden):
    who = f"asyncpg {user}"
    conn = await asyncpg.connect(host="127.0.0.1", port=int(PORT), user=user, password=pw, database=DB)
    try:
        rows = await conn.fetch(f"SELECT * FROM ask('{Q}')")
        same_rows(rows, truth, f"{who}: SELECT * FROM ask()")
        check(list(rows[0].keys()) == ["region", "revenue"], f"{who}: record keys {list(rows[0].keys())}")
        ok(f"{who}: SELECT * FROM ask() -> {len(rows)} rows")
        # Describe before Execute: the answer's columns and types, and the statement's $1.
        stmt = await conn.prepare(f"SELECT * FROM ask('{Q}') WHERE revenue > $1")
        check(attrs(stmt) == REGION_REVENUE, f"{who}: attributes {attrs(stmt)}")
        params = [t.name for t in stmt.get_parameters()]
        check(params == ["numeric"], f"{who}: parameters {params}")
        same_rows(await stmt.fetch(Decimal(0)), truth, f"{who}: $1 = 0")
        check(await stmt.fetch(Decimal(10) ** 12) == [], f"{who}: $1 = 1e12 gave rows")
        ok(f"{who}: prepared with $1 outside the call: attributes before execute, reused")
        stmt = await conn.prepare(SUPERSET)
        check(attrs(stmt) == REGION_REVENUE, f"{who}: superset attributes {attrs(stmt)}")
        same_rows(await stmt.fetch(), truth, f"{who}: superset virtual_table")
        ok(f"{who}: Superset virtual_table")
        stmt = await conn.prepare(TABLEAU)
        check(attrs(stmt) == REGION_REVENUE, f"{who}: tableau attributes {attrs(stmt)}")
        check(await stmt.fetch() == [], f"{who}: Tableau WHERE 1=0 returned rows")
        ok(f"{who}: Tableau WHERE 1=0 -> no rows, columns region/revenue")
        rows = await conn.fetch(CTE)
        same_rows(rows, truth, f"{who}: CTE")
        revs = [r["revenue"] for r in rows]
        check(revs == sorted(revs, reverse=True), f"{who}: CTE order {revs}")
        ok(f"{who}: CTE ordered by revenue")
        # A cursor fetching 2 rows at a time (Execute with max_rows, PortalSuspended).
        async with conn.transaction():
            got = [r async for r in conn.cursor(CTE, prefetch=2)]
        same_rows(got, truth, f"{who}: cursor prefetch=2")
        ok(f"{who}: cursor with prefetch=2 in a transaction")
        stmt = await conn.prepare(f"SELECT * FROM ask_followups('{Q}')")
        check(attrs(stmt) == [("question", "text"), ("kind", "text")], f"{who}: ask_followups {attrs(stmt)}")
        fus = await stmt.fetch()
        check(2 <= len(fus) <= 3, f"{who}: ask_followups rows {fus}")
        for r in fus:
            literal = "'" + r["question"].replace("'", "''") + "'"
            n = await conn.fetchval(f"SELECT count(*) FROM ask({literal})")
            check(n > 0, f"{who}: follow-up {r['question']!r} answered no rows")
        ok(f"{who}: ask_followups {[r['question'] for r in fus]}")
        await insights(conn, who, forbidden)
    finally:
        await conn.close()


async def main():
    d = await asyncpg.connect(DIRECT)
    truth = sorted((r[0], r[1]) for r in await d.fetch(TRUTH_SQL))
    await d.close()
    check(len(truth) == 5, f"direct: {len(truth)} regions in 2024, want 5")
    east = [r for r in truth if r[0] == "East"]
    print(f"asyncpg {asyncpg.__version__}; truth {truth}")
    await run(ADMIN, ADMIN_PW, truth, [])
    # alice's insights must not name the regions she cannot see, nor the all-region total.
    hidden = [r for r, _ in truth if r != "East"] + [f"{int(sum(v for _, v in truth)):,}"]
    await run(ALICE, ALICE_PW, east, hidden)
    print("all ask() checks passed")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Mismatch as e:
        print(f"MISMATCH: {e}", file=sys.stderr)
        sys.exit(1)
