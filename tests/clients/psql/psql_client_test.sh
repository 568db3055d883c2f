#!/usr/bin/env bash
# psql against the Querent proxy, compared with psql against PostgreSQL directly.
#
# Usage: psql_client_test.sh SECTION
#   meta    \d, \dt, \d+, \l, \x through the proxy give the same text as directly  (QUERENT_PORT)
#   cancel  Ctrl-C (SIGINT) on a running pg_sleep cancels it upstream             (QUERENT_PORT)
#   tls     sslmode=require / verify-full against a TLS proxy; require against a proxy
#           without TLS fails cleanly          (QUERENT_PORT = TLS proxy, QUERENT_PLAIN_PORT)
#   scram   SCRAM-SHA-256 login: right password, wrong password, unknown user, no password
#           (QUERENT_PORT, QUERENT_USER, QUERENT_PASSWORD)
#   password  the same for --auth password over TLS, and refused without TLS
# Environment: QUERENT_HOST (default 127.0.0.1), PG_DIRECT (libpq conninfo of the upstream,
# default "host=127.0.0.1 port=5432 user=root dbname=test"), QUERENT_REPO (repository root,
# for fixtures/tls/ca.pem).
# Exits non-zero with a message naming the first mismatch.
set -uo pipefail

SECTION="${1:?usage: psql_client_test.sh meta|cancel|tls|scram|password}"
HOST="${QUERENT_HOST:-127.0.0.1}"
PORT="${QUERENT_PORT:?QUERENT_PORT (proxy port) is required}"
DIRECT="${PG_DIRECT:-host=127.0.0.1 port=5432 user=root dbname=test}"
REPO="${QUERENT_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
PROXY="host=$HOST port=$PORT user=root dbname=test"

# Nothing from the caller's libpq environment may change what we connect to.
for v in $(env | grep -o '^PG[A-Z]*' || true); do
    case "$v" in PG_DIRECT) ;; *) unset "$v" ;; esac
done
export PGCONNECT_TIMEOUT=10 PSQLRC=/dev/null PAGER=cat PSQL_PAGER=cat LC_ALL=C.UTF-8
unset PSQL_HISTORY

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

fail() {
    echo "FAIL [psql $SECTION]: $*" >&2
    exit 1
}
ok() { echo "ok - $*"; }

# Runs psql (no psqlrc, no pager), stdout+stderr to $WORK/$1.out, returns psql's status.
run_psql() {
    local name="$1"
    shift
    psql -X -P pager=off "$@" >"$WORK/$name.out" 2>&1
}

# Runs the same psql arguments directly and through the proxy; the exit status and the whole
# output (stdout and stderr) must be identical.
same_output() {
    local what="$1" sd sp
    shift
    run_psql "direct" "$DIRECT" "$@"
    sd=$?
    run_psql "proxy" "$PROXY" "$@"
    sp=$?
    if ! diff -u "$WORK/direct.out" "$WORK/proxy.out" >"$WORK/diff"; then
        fail "$what: output through the proxy differs from direct (--- direct, +++ proxy):
$(cat "$WORK/diff")"
    fi
    [ "$sd" = "$sp" ] || fail "$what: psql exit status $sp through the proxy, $sd directly; output: $(cat "$WORK/proxy.out")"
    [ -s "$WORK/proxy.out" ] || fail "$what: no output at all"
    return "$sp"
}

section_meta() {
    local schema="querent_psql_$PORT"
    run_psql setup "$DIRECT" -v ON_ERROR_STOP=1 -c "DROP SCHEMA IF EXISTS $schema CASCADE" -c "CREATE SCHEMA $schema" \
        -c "CREATE TABLE $schema.gadgets (id int PRIMARY KEY, name text NOT NULL DEFAULT 'x', price numeric(10,2), tags text[], made timestamptz, CONSTRAINT price_positive CHECK (price > 0))" \
        -c "COMMENT ON TABLE $schema.gadgets IS 'gadgets for the psql test'" \
        -c "COMMENT ON COLUMN $schema.gadgets.name IS 'display name'" \
        -c "CREATE INDEX gadgets_name_idx ON $schema.gadgets (name)" \
        -c "CREATE VIEW $schema.cheap AS SELECT id, name FROM $schema.gadgets WHERE price < 10" \
        -c "CREATE SEQUENCE $schema.counter" \
        -c "INSERT INTO $schema.gadgets VALUES (1, 'sprocket', 9.99, '{a,b}', '2024-01-02 03:04:05+00'), (2, 'widget', 120.50, NULL, NULL), (3, 'naïve ☃', 0.01, '{}', '1999-12-31 23:59:59.999999+00')" ||
        fail "setup on the upstream failed: $(cat "$WORK/setup.out")"
    trap 'psql -X -q "$DIRECT" -c "DROP SCHEMA IF EXISTS '"$schema"' CASCADE" >/dev/null 2>&1; rm -rf "$WORK"' EXIT

    # search_path through the startup packet's options (the proxy applies it when it binds).
    export PGOPTIONS="-c search_path=$schema"
    same_output '\d' -c '\d' || fail "psql failed: $(cat "$WORK/proxy.out")"
    grep -q 'gadgets' "$WORK/proxy.out" || fail '\d does not list the table: '"$(cat "$WORK/proxy.out")"
    ok '\d identical'
    same_output '\dt' -c '\dt' || fail "psql failed: $(cat "$WORK/proxy.out")"
    grep -q "$schema | gadgets | table" "$WORK/proxy.out" || fail '\dt does not list the table: '"$(cat "$WORK/proxy.out")"
    ok '\dt identical'
    same_output '\d+ gadgets' -c '\d+ gadgets' || fail "psql failed: $(cat "$WORK/proxy.out")"
    grep -q 'price_positive' "$WORK/proxy.out" || fail '\d+ misses the check constraint: '"$(cat "$WORK/proxy.out")"
    grep -q 'display name' "$WORK/proxy.out" || fail '\d+ misses the column comment: '"$(cat "$WORK/proxy.out")"
    ok '\d+ gadgets identical'
    same_output '\d+ cheap (view)' -c '\d+ cheap' || fail "psql failed: $(cat "$WORK/proxy.out")"
    ok '\d+ cheap identical'
    same_output '\dt+ with a schema pattern' -c "\\dt+ $schema.*" || fail "psql failed: $(cat "$WORK/proxy.out")"
    ok '\dt+ schema.* identical'
    unset PGOPTIONS
    same_output '\l test' -c '\l test' || fail "psql failed: $(cat "$WORK/proxy.out")"
    grep -q '^ test ' "$WORK/proxy.out" || fail '\l test does not list database test: '"$(cat "$WORK/proxy.out")"
    ok '\l test identical'
    same_output '\x select' -c '\x' -c "SELECT * FROM $schema.gadgets ORDER BY id" || fail "psql failed: $(cat "$WORK/proxy.out")"
    grep -q 'Expanded display is on' "$WORK/proxy.out" || fail '\x did not switch on: '"$(cat "$WORK/proxy.out")"
    grep -q 'name  | naïve ☃' "$WORK/proxy.out" || fail '\x output misses a row: '"$(cat "$WORK/proxy.out")"
    ok '\x expanded select identical'
    same_output 'aligned select with NULLs and arrays' -c "SELECT id, name, price, tags, made, made IS NULL AS no_date FROM $schema.gadgets ORDER BY id" || fail "psql failed: $(cat "$WORK/proxy.out")"
    ok 'aligned select identical'
    same_output 'error text' -v VERBOSITY=verbose -c "SELECT 1/0" && fail "SELECT 1/0 succeeded"
    grep -q 'ERROR:  22012: division by zero' "$WORK/proxy.out" || fail "division by zero: unexpected output: $(cat "$WORK/proxy.out")"
    ok 'ERROR text (with SQLSTATE 22012) identical'
}

section_cancel() {
    cancel_check "$PROXY" plain
}

# Ctrl-C on psql running pg_sleep(30) over the connection string $1 ($2 names it).
cancel_check() {
    local conn="$1" label="$2"
    local tag="querent_cancel_${label}_${PORT}_$$"
    local start end status
    start=$(date +%s.%N)
    psql -X "$conn" -c "SELECT pg_sleep(30) /* $tag */" >"$WORK/cancel.out" 2>&1 &
    local pid=$!
    # Wait until the statement is really running upstream, then ~1s more, then Ctrl-C.
    local seen=0
    for _ in $(seq 1 100); do
        if [ "$(psql -X -At "$DIRECT" -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%$tag%' AND pid <> pg_backend_pid() AND state = 'active'")" = "1" ]; then
            seen=1
            break
        fi
        sleep 0.05
    done
    [ "$seen" = 1 ] || {
        kill -KILL "$pid" 2>/dev/null
        fail "pg_sleep never showed up as active upstream; psql said: $(cat "$WORK/cancel.out")"
    }
    sleep 1
    kill -INT "$pid"
    # psql must finish within a few seconds of the Ctrl-C.
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
        sleep 0.1
        waited=$((waited + 1))
        if [ "$waited" -gt 50 ]; then
            kill -KILL "$pid" 2>/dev/null
            fail "psql still running 5s after SIGINT (cancel not forwarded?); output: $(cat "$WORK/cancel.out")"
        fi
    done
    wait "$pid"
    status=$?
    end=$(date +%s.%N)
    [ "$status" -ne 0 ] || fail "psql exited 0 after Ctrl-C; output: $(cat "$WORK/cancel.out")"
    grep -q 'canceling statement due to user request' "$WORK/cancel.out" ||
        fail "psql did not report the cancel; output: $(cat "$WORK/cancel.out")"
    ok "$label: Ctrl-C cancelled pg_sleep(30) after $(awk "BEGIN { printf \"%.1f\", $end - $start }")s: $(tr '\n' ' ' <"$WORK/cancel.out")"
    # Nothing may be left running upstream.
    local left=""
    for _ in $(seq 1 20); do
        left=$(psql -X -At "$DIRECT" -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%$tag%' AND pid <> pg_backend_pid() AND state = 'active'")
        [ "$left" = "0" ] && break
        sleep 0.1
    done
    [ "$left" = "0" ] || fail "pg_sleep still active upstream after the cancel ($left backends)"
    ok "$label: no pg_sleep backend left in pg_stat_activity"
    # The proxy session is still usable for a new client afterwards.
    run_psql after "$conn" -At -c "SELECT 'after-cancel'" || fail "a query after the cancel failed: $(cat "$WORK/after.out")"
    grep -qx 'after-cancel' "$WORK/after.out" || fail "unexpected answer after cancel: $(cat "$WORK/after.out")"
    ok "$label: proxy still answers after the cancel"
}

section_tls() {
    local plain="${QUERENT_PLAIN_PORT:?QUERENT_PLAIN_PORT (proxy without TLS) is required}"
    local ca="$REPO/fixtures/tls/ca.pem"
    [ -f "$ca" ] || fail "missing $ca"
    run_psql require "host=$HOST port=$PORT user=root dbname=test sslmode=require" -v ON_ERROR_STOP=1 -c '\conninfo' -c "SELECT 'tls-ok'" ||
        fail "sslmode=require against the TLS proxy failed: $(cat "$WORK/require.out")"
    grep -q 'SSL connection (protocol: TLS' "$WORK/require.out" || fail "sslmode=require: \\conninfo does not mention SSL: $(cat "$WORK/require.out")"
    grep -q 'tls-ok' "$WORK/require.out" || fail "sslmode=require: query answer missing: $(cat "$WORK/require.out")"
    ok "sslmode=require: $(grep 'SSL connection' "$WORK/require.out")"
    run_psql verify "host=localhost port=$PORT user=root dbname=test sslmode=verify-full sslrootcert=$ca" -v ON_ERROR_STOP=1 -c '\conninfo' -c "SELECT 'verified-ok'" ||
        fail "sslmode=verify-full (host=localhost) against the TLS proxy failed: $(cat "$WORK/verify.out")"
    grep -q 'SSL connection (protocol: TLS' "$WORK/verify.out" || fail "verify-full: \\conninfo does not mention SSL: $(cat "$WORK/verify.out")"
    grep -q 'verified-ok' "$WORK/verify.out" || fail "verify-full: query answer missing: $(cat "$WORK/verify.out")"
    ok "sslmode=verify-full host=localhost"
    run_psql verify-ip "host=127.0.0.1 port=$PORT user=root dbname=test sslmode=verify-full sslrootcert=$ca" -v ON_ERROR_STOP=1 -At -c "SELECT 'ip-ok'" ||
        fail "sslmode=verify-full (host=127.0.0.1, in the SAN) failed: $(cat "$WORK/verify-ip.out")"
    ok "sslmode=verify-full host=127.0.0.1"
    # A CA that did not sign the certificate must be refused by psql (the proxy really serves
    # the configured certificate, and verification is real).
    command -v openssl >/dev/null || fail "missing openssl: run scripts/install-test-deps.sh"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/other.key" -out "$WORK/other.pem" -days 1 -subj /CN=other >"$WORK/openssl.out" 2>&1 ||
        fail "openssl could not make a throwaway CA: $(cat "$WORK/openssl.out")"
    if run_psql wrong-ca "host=localhost port=$PORT user=root dbname=test sslmode=verify-full sslrootcert=$WORK/other.pem" -c "SELECT 1"; then
        fail "verify-full with an unrelated CA succeeded: $(cat "$WORK/wrong-ca.out")"
    fi
    grep -q 'certificate verify failed' "$WORK/wrong-ca.out" || fail "verify-full with an unrelated CA: unexpected error: $(cat "$WORK/wrong-ca.out")"
    ok "verify-full with an unrelated CA is refused"
    # Large result over TLS (many TLS records).
    run_psql big2 "host=$HOST port=$PORT user=root dbname=test sslmode=require" -v ON_ERROR_STOP=1 -At -c "SELECT repeat(md5(i::text), 20) FROM generate_series(1, 20000) i" ||
        fail "big result over TLS failed: $(cat "$WORK/big2.out")"
    psql -X -At "$DIRECT" -c "SELECT repeat(md5(i::text), 20) FROM generate_series(1, 20000) i" >"$WORK/big2.direct" 2>&1
    cmp -s "$WORK/big2.out" "$WORK/big2.direct" || fail "20000-row result over TLS differs from the direct one"
    ok "20000-row result over TLS identical to direct"
    # Ctrl-C on a TLS session (libpq sends the CancelRequest on a new connection).
    cancel_check "host=$HOST port=$PORT user=root dbname=test sslmode=require" tls
    # sslmode=require against a proxy without TLS: psql refuses cleanly.
    if run_psql notls "host=$HOST port=$plain user=root dbname=test sslmode=require" -c "SELECT 1"; then
        fail "sslmode=require against a proxy without TLS succeeded: $(cat "$WORK/notls.out")"
    fi
    grep -q 'server does not support SSL' "$WORK/notls.out" || fail "sslmode=require without TLS: unexpected error: $(cat "$WORK/notls.out")"
    ok "sslmode=require without TLS: $(tr '\n' ' ' <"$WORK/notls.out")"
    # sslmode=prefer against that proxy falls back to plain text and works.
    run_psql prefer "host=$HOST port=$plain user=root dbname=test sslmode=prefer" -v ON_ERROR_STOP=1 -At -c "SELECT 'plain-ok'" ||
        fail "sslmode=prefer against a proxy without TLS failed: $(cat "$WORK/prefer.out")"
    grep -qx 'plain-ok' "$WORK/prefer.out" || fail "sslmode=prefer: unexpected output $(cat "$WORK/prefer.out")"
    ok "sslmode=prefer without TLS falls back to plain"
}

# SCRAM (section scram) or cleartext password over TLS (section password): the same checks,
# the latter with sslmode=require, plus a refusal of password auth on a plain connection.
section_login() {
    local user="${QUERENT_USER:?QUERENT_USER is required}"
    local pass="${QUERENT_PASSWORD:?QUERENT_PASSWORD is required}"
    local ssl="sslmode=disable"
    [ "$SECTION" = password ] && ssl="sslmode=require"
    PGPASSWORD="$pass" run_psql right "host=$HOST port=$PORT user=$user dbname=test $ssl" -v ON_ERROR_STOP=1 -At -c "SELECT 'login-ok', current_user" -c '\conninfo' ||
        fail "right password refused: $(cat "$WORK/right.out")"
    grep -qx 'login-ok|root' "$WORK/right.out" || fail "right password: unexpected output: $(cat "$WORK/right.out")"
    if [ "$SECTION" = password ]; then
        grep -q 'SSL connection (protocol: TLS' "$WORK/right.out" || fail "password login: \\conninfo does not mention SSL: $(cat "$WORK/right.out")"
    fi
    ok "right password logs in (upstream user root)"
    if PGPASSWORD="not-$pass" run_psql wrong "host=$HOST port=$PORT user=$user dbname=test $ssl" -c "SELECT 1"; then
        fail "wrong password accepted: $(cat "$WORK/wrong.out")"
    fi
    grep -q "password authentication failed for user \"$user\"" "$WORK/wrong.out" || fail "wrong password: unexpected error: $(cat "$WORK/wrong.out")"
    ok "wrong password: $(tr '\n' ' ' <"$WORK/wrong.out")"
    if PGPASSWORD="$pass" run_psql unknown "host=$HOST port=$PORT user=nosuch_$PORT dbname=test $ssl" -c "SELECT 1"; then
        fail "unknown user accepted: $(cat "$WORK/unknown.out")"
    fi
    grep -q "password authentication failed for user \"nosuch_$PORT\"" "$WORK/unknown.out" || fail "unknown user: unexpected error: $(cat "$WORK/unknown.out")"
    ok "unknown user: $(tr '\n' ' ' <"$WORK/unknown.out")"
    # No password at all (psql -w never prompts): refused, no hang.
    if run_psql nopass "host=$HOST port=$PORT user=$user dbname=test $ssl" -w -c "SELECT 1"; then
        fail "login without a password accepted: $(cat "$WORK/nopass.out")"
    fi
    grep -q 'no password supplied' "$WORK/nopass.out" || fail "no password: unexpected error: $(cat "$WORK/nopass.out")"
    ok "no password: refused"
    if [ "$SECTION" = password ]; then
        if PGPASSWORD="$pass" run_psql plain "host=$HOST port=$PORT user=$user dbname=test sslmode=disable" -c "SELECT 1"; then
            fail "cleartext password accepted on an unencrypted connection: $(cat "$WORK/plain.out")"
        fi
        grep -q 'requires an encrypted connection' "$WORK/plain.out" || fail "password auth without TLS: unexpected error: $(cat "$WORK/plain.out")"
        ok "password auth on a plain connection refused: $(tr '\n' ' ' <"$WORK/plain.out")"
    fi
}

case "$SECTION" in
meta) section_meta ;;
cancel) section_cancel ;;
tls) section_tls ;;
scram | password) section_login ;;
*) fail "unknown section $SECTION" ;;
esac
echo "psql $SECTION: all checks passed"
