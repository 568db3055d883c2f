#!/usr/bin/env python3
"""ask('...') as a relation through psycopg 3 (extended protocol, binary cursors, prepared
statements, the simple protocol of ClientCursor), psycopg2 (what Superset's SQL Lab uses) and
SQLAlchemy 2 + pandas read_sql, checked against PostgreSQL directly.

Usage: ask_relation_psycopg.py PORT ADMIN:PASSWORD ALICE:PASSWORD
  PORT   the proxy, started with --policies policies --schemas schemas --auth scram
  ADMIN  a trusted user (sees every region); ALICE a guarded one who sees region East only
Env: QUERENT_DB (default querent_retail), PG_DIRECT_DSN (default
"host=127.0.0.1 port=5432 user=root dbname=<QUERENT_DB>").
Prints "ok - ..." per check, "skip - ..." for ask_insights() while the server answers 0A000,
and exits non-zero naming the first mismatch.
"""

import os
import sys
from decimal import Decimal

import psycopg
import psycopg2

if len(sys.argv) != 4:
    sys.exit(__doc__)
PORT = sys.argv[1]
ADMIN, ADMIN_PW = sys.argv[2].split(":", 1)
ALICE, ALICE_PW = sys.argv[3].split(":", 1)
DB = os.environ.get("QUERENT_DB", "querent_retail")
DIRECT = os.environ.get("PG_DIRECT_DSN", f"host=127.0.0.1 port=5432 user=root dbname={DB}")

Q = "revenue by region in 2024"
TEXT_OID, NUMERIC_OID, FLOAT8_OID = 25, 1700, 701
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


class Mismatch(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Mismatch(what)


def ok(msg):
    print(f"ok - {msg}", flush=True)


def dsn(user, pw):
    return f"host=127.0.0.1 port={PORT} dbname={DB} user={user} password={pw}"


def columns(desc):
    return [(d.name, d.type_code) for d in desc]


def want_cols(desc, what):
    got = columns(desc)
    check(
        got == [("region", TEXT_OID), ("revenue", NUMERIC_OID)],
        f"{what}: columns {got}, want region text(25), revenue numeric(1700)",
    )


def same_rows(got, want, what):
    got = sorted((r[0], r[1]) for r in got)
    check(got == want, f"{what}: rows {got}, want {want}")
    for _, v in got:
        check(isinstance(v, Decimal), f"{what}: revenue is {type(v).__name__}, want Decimal")


def insights(conn, who, forbidden):
    """ask_insights(): (kind text, text text, score float8, columns text) rows, none naming what
    the user may not see (`forbidden`). A server without it answers 0A000: a printed skip."""
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT * FROM ask_insights('{Q}')")
            names = [d.name for d in cur.description]
            types = [d.type_code for d in cur.description]
            rows = cur.fetchall()
    except psycopg.errors.FeatureNotSupported as e:
        conn.rollback()
        print(f"skip - {who}: ask_insights() answers 0A000 ({e.diag.message_primary})", flush=True)
        return
    check(names == ["kind", "text", "score", "columns"], f"{who}: ask_insights columns {names}")
    check(types == [TEXT_OID, TEXT_OID, FLOAT8_OID, TEXT_OID], f"{who}: ask_insights types {types}")
    check(len(rows) >= 1, f"{who}: ask_insights gave no rows")
    for kind, text, score, _cols in rows:
        check(kind and text, f"{who}: ask_insights row without kind/text: {(kind, text)}")
        check(isinstance(score, float), f"{who}: score {score!r}")
        for word in forbidden:
            check(word not in text, f"{who}: ask_insights text names {word!r}: {text}")
    ok(f"{who}: ask_insights {len(rows)} rows {names}")


def psycopg3(user, pw, truth, forbidden):
    who = f"psycopg {user}"
    with psycopg.connect(dsn(user, pw), autocommit=True) as conn:
        # Extended protocol (server-side binding): Parse/Bind/Describe/Execute.
        cur = conn.execute(f"SELECT * FROM ask('{Q}')")
        want_cols(cur.description, who)
        same_rows(cur.fetchall(), truth, f"{who}: SELECT * FROM ask()")
        ok(f"{who}: SELECT * FROM ask() -> {len(truth)} rows")
        # Binary results, and a prepared statement run twice.
        with conn.cursor(binary=True) as bcur:
            bcur.execute(SUPERSET, prepare=True)
            want_cols(bcur.description, f"{who} binary")
            same_rows(bcur.fetchall(), truth, f"{who}: superset virtual_table (binary)")
            bcur.execute(SUPERSET, prepare=True)
            same_rows(bcur.fetchall(), truth, f"{who}: superset virtual_table (prepared again)")
        ok(f"{who}: Superset virtual_table, binary + prepared")
        # Simple protocol (client-side binding) as psycopg2-era tools use it.
        with psycopg.ClientCursor(conn) as ccur:
            ccur.execute(TABLEAU)
            want_cols(ccur.description, f"{who} tableau")
            check(ccur.fetchall() == [], f"{who}: Tableau WHERE 1=0 returned rows")
        ok(f"{who}: Tableau WHERE 1=0 -> no rows, columns region/revenue")
        cur = conn.execute(CTE)
        want_cols(cur.description, f"{who} cte")
        rows = cur.fetchall()
        same_rows(rows, truth, f"{who}: CTE")
        check(rows == sorted(rows, key=lambda r: r[1], reverse=True), f"{who}: CTE order {rows}")
        ok(f"{who}: CTE ordered by revenue")
        # The statement's own parameter, outside the call.
        cur = conn.execute(f"SELECT * FROM ask('{Q}') WHERE revenue > %s", [Decimal(0)])
        same_rows(cur.fetchall(), truth, f"{who}: parameter outside the call")
        cur = conn.execute(f"SELECT * FROM ask('{Q}') WHERE revenue > %s", [Decimal(10) ** 12])
        check(cur.fetchall() == [], f"{who}: revenue > 1e12 gave rows")
        ok(f"{who}: %s parameter outside the call binds")
        cur = conn.execute(f"SELECT * FROM ask_followups('{Q}')")
        check(
            columns(cur.description) == [("question", TEXT_OID), ("kind", TEXT_OID)],
            f"{who}: ask_followups columns {columns(cur.description)}",
        )
        fus = cur.fetchall()
        check(2 <= len(fus) <= 3, f"{who}: ask_followups rows {fus}")
        for q, _kind in fus:
            literal = "'" + q.replace("'", "''") + "'"
            n = conn.execute(f"SELECT count(*) FROM ask({literal})").fetchone()[0]
            check(n > 0, f"{who}: follow-up {q!r} answered no rows")
        ok(f"{who}: ask_followups {[q for q, _ in fus]}")
        insights(conn, who, forbidden)


def psycopg2_lab(user, pw, truth):
    """Superset's SQL Lab runs through psycopg2 (simple protocol, client-side binding)."""
    who = f"psycopg2 {user}"
    conn = psycopg2.connect(dsn(user, pw))
    try:
        cur = conn.cursor()
        cur.execute(SUPERSET)
        got = [(d.name, d.type_code) for d in cur.description]
        check(got == [("region", TEXT_OID), ("revenue", NUMERIC_OID)], f"{who}: columns {got}")
        same_rows(cur.fetchall(), truth, f"{who}: superset virtual_table")
        cur.execute(TABLEAU)
        check(cur.fetchall() == [] and [d.name for d in cur.description] == ["region", "revenue"],
              f"{who}: Tableau WHERE 1=0")
        cur.execute(f"SELECT * FROM ask('{Q}') WHERE revenue > %s", (Decimal(0),))
        same_rows(cur.fetchall(), truth, f"{who}: %s parameter (client-side)")
        conn.rollback()
        ok(f"{who}: Superset virtual_table, Tableau WHERE 1=0, parameter")
    finally:
        conn.close()


def sqlalchemy_pandas(user, pw, truth):
    import pandas as pd
    import sqlalchemy
    from sqlalchemy import text

    for driver in ("psycopg2", "psycopg"):
        who = f"sqlalchemy+{driver} {user}"
        engine = sqlalchemy.create_engine(f"postgresql+{driver}://{user}:{pw}@127.0.0.1:{PORT}/{DB}")
        with engine.connect() as c:
            res = c.execute(text(f"SELECT * FROM ask('{Q}') WHERE revenue > :floor"), {"floor": 0})
            check(list(res.keys()) == ["region", "revenue"], f"{who}: keys {list(res.keys())}")
            same_rows(res.fetchall(), truth, f"{who}: text() with a bound parameter")
            df = pd.read_sql(text(SUPERSET), c, coerce_float=False)
            check(list(df.columns) == ["region", "revenue"], f"{who}: read_sql columns {list(df.columns)}")
            same_rows(list(df.itertuples(index=False, name=None)), truth, f"{who}: read_sql rows")
            empty = pd.read_sql(text(TABLEAU), c)
            check(list(empty.columns) == ["region", "revenue"] and len(empty) == 0, f"{who}: read_sql WHERE 1=0")
        engine.dispose()
        ok(f"{who}: text() + pandas {pd.__version__} read_sql ({len(truth)} rows)")


def forbidden(truth, want):
    """What a user's insights must not name: the regions she cannot see and, when that hides
    any, the total over all regions (as insights print it, e.g. "4,653,747")."""
    hidden = [r for r, _ in truth if r not in {w for w, _ in want}]
    return hidden + ([f"{int(sum(v for _, v in truth)):,}"] if hidden else [])


def main():
    with psycopg.connect(DIRECT) as d:
        truth = sorted((r[0], r[1]) for r in d.execute(TRUTH_SQL).fetchall())
    check(len(truth) == 5, f"direct: {len(truth)} regions in 2024, want 5")
    east = [r for r in truth if r[0] == "East"]
    print(f"psycopg {psycopg.__version__}, psycopg2 {psycopg2.__version__.split()[0]}; truth {truth}")
    for user, pw, want in ((ADMIN, ADMIN_PW, truth), (ALICE, ALICE_PW, east)):
        psycopg3(user, pw, want, forbidden(truth, want))
        psycopg2_lab(user, pw, want)
        sqlalchemy_pandas(user, pw, want)
    print("all ask() checks passed")


if __name__ == "__main__":
    try:
        main()
    except Mismatch as e:
        print(f"MISMATCH: {e}", file=sys.stderr)
        sys.exit(1)
