#!/usr/bin/env python3
"""SCRAM-SHA-256 logins through the Querent proxy with psycopg 3 (libpq) and asyncpg (its own
SCRAM code), on plain TCP and on TLS verified against the test CA.

Usage: scram_login_test.py PROXY_PORT USER PASSWORD CA_PEM
The proxy must run with --auth scram and TLS. Exits non-zero naming the first mismatch.
"""

import asyncio
import ssl
import sys

import asyncpg
import psycopg

PORT, USER, PASSWORD, CA = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]


def fail(msg):
    print(f"FAIL [scram python]: {msg}", file=sys.stderr)
    sys.exit(1)


def psycopg_checks():
    for label, extra in (("plain", "sslmode=disable"), ("tls", f"sslmode=verify-full sslrootcert={CA}")):
        base = f"host=localhost port={PORT} dbname=test {extra}"
        with psycopg.connect(base, user=USER, password=PASSWORD) as c:
            row = c.execute("SELECT current_user, %s::text", ("param",)).fetchone()
            if row != ("root", "param"):
                fail(f"psycopg {label}: unexpected row {row!r}")
            if (c.info.pgconn.ssl_in_use) != (label == "tls"):
                fail(f"psycopg {label}: ssl_in_use is {c.info.pgconn.ssl_in_use}")
        for who, pw, code in ((USER, "wrong-" + PASSWORD, "28P01"), (f"nosuch_{PORT}", PASSWORD, "28P01")):
            try:
                psycopg.connect(base, user=who, password=pw).close()
            except psycopg.OperationalError as e:
                # libpq 15 reports no SQLSTATE for a failed login; when it does, it must match.
                # An unknown user fails exactly like a wrong password (no user enumeration).
                want = "password authentication failed"
                if want not in str(e) or (e.sqlstate is not None and e.sqlstate != code):
                    fail(f"psycopg {label}: login as {who}: sqlstate {e.sqlstate}, message {e} (want {code}, {want!r})")
            else:
                fail(f"psycopg {label}: login as {who} with password {pw!r} succeeded")
        print(f"ok - psycopg SCRAM over {label}: right password works, wrong/unknown refused")


async def asyncpg_checks():
    ctx = ssl.create_default_context(cafile=CA)
    for label, sslarg in (("plain", False), ("tls", ctx)):
        kw = dict(host="localhost", port=int(PORT), database="test", ssl=sslarg)
        c = await asyncpg.connect(user=USER, password=PASSWORD, **kw)
        row = await c.fetchrow("SELECT current_user, $1::int8 * 2", 21)
        if tuple(row) != ("root", 42):
            fail(f"asyncpg {label}: unexpected row {tuple(row)!r}")
        await c.close()
        for who, pw, exc, code in (
            (USER, "wrong-" + PASSWORD, asyncpg.InvalidPasswordError, "28P01"),
            (f"nosuch_{PORT}", PASSWORD, asyncpg.InvalidPasswordError, "28P01"),
        ):
            try:
                await (await asyncpg.connect(user=who, password=pw, **kw)).close()
            except exc as e:
                if e.sqlstate != code:
                    fail(f"asyncpg {label}: login as {who}: sqlstate {e.sqlstate}, want {code}")
            except Exception as e:
                fail(f"asyncpg {label}: login as {who}: {type(e).__name__}: {e} (want sqlstate {code})")
            else:
                fail(f"asyncpg {label}: login as {who} with password {pw!r} succeeded")
        print(f"ok - asyncpg SCRAM over {label}: right password works, 28P01 for a wrong password or an unknown user")


psycopg_checks()
asyncio.run(asyncpg_checks())
print("scram python: all checks passed")
