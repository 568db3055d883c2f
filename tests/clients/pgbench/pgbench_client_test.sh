#!/usr/bin/env bash
# pgbench through the Querent proxy in all three query modes.
#
# Usage: pgbench_client_test.sh
# Environment: QUERENT_PORT (proxy port, required), QUERENT_HOST (default 127.0.0.1),
#   PGBENCH_DB (database, default querent_pgbench_<port>; created directly on the upstream if
#   missing; dropped at the end unless PGBENCH_KEEP_DB=1),
#   PG_DIRECT_HOST / PG_DIRECT_PORT / PG_DIRECT_USER (upstream, default 127.0.0.1 5432 root).
# The pgbench tables are initialised through the proxy (COPY FROM STDIN), checked directly,
# then select-only runs in -M simple/extended/prepared and a TPC-B-like (writing) run go
# through the proxy; every run must exit 0 with every transaction processed and none failed,
# and the TPC-B writes must be exactly visible upstream.
set -uo pipefail

HOST="${QUERENT_HOST:-127.0.0.1}"
PORT="${QUERENT_PORT:?QUERENT_PORT (proxy port) is required}"
DB="${PGBENCH_DB:-querent_pgbench_$PORT}"
DHOST="${PG_DIRECT_HOST:-127.0.0.1}"
DPORT="${PG_DIRECT_PORT:-5432}"
DUSER="${PG_DIRECT_USER:-root}"
CLIENTS=4
THREADS=2
TX=200

for v in $(env | grep -o '^PG[A-Z]*' || true); do
    case "$v" in PGBENCH_DB | PGBENCH_KEEP_DB) ;; *) unset "$v" ;; esac
done
export PGCONNECT_TIMEOUT=10

WORK="$(mktemp -d)"
cleanup() {
    rm -rf "$WORK"
    # --force: the proxy keeps idle pooled upstream connections to the database.
    [ "${PGBENCH_KEEP_DB:-0}" = 1 ] || dropdb --force --if-exists -h "$DHOST" -p "$DPORT" -U "$DUSER" "$DB" >/dev/null 2>&1
}
trap cleanup EXIT

fail() {
    echo "FAIL [pgbench]: $*" >&2
    exit 1
}
ok() { echo "ok - $*"; }
direct() { psql -X -At -h "$DHOST" -p "$DPORT" -U "$DUSER" -d "$DB" -v ON_ERROR_STOP=1 -c "$1"; }

# Database, created directly (a concurrent creator is fine).
if [ "$(psql -X -At -h "$DHOST" -p "$DPORT" -U "$DUSER" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]; then
    createdb -h "$DHOST" -p "$DPORT" -U "$DUSER" "$DB" 2>"$WORK/createdb.err" ||
        grep -q 'already exists' "$WORK/createdb.err" || fail "createdb $DB: $(cat "$WORK/createdb.err")"
    ok "created database $DB"
fi

# Initialise through the proxy: DROP/CREATE, COPY FROM STDIN, VACUUM, primary keys.
pgbench -i -s 1 -q -h "$HOST" -p "$PORT" -U root "$DB" >"$WORK/init.out" 2>&1 ||
    fail "pgbench -i through the proxy failed: $(cat "$WORK/init.out")"
grep -q 'done in' "$WORK/init.out" || fail "pgbench -i: unexpected output: $(cat "$WORK/init.out")"
counts=$(direct "SELECT (SELECT count(*) FROM pgbench_branches) || ',' || (SELECT count(*) FROM pgbench_tellers) || ',' || (SELECT count(*) FROM pgbench_accounts) || ',' || (SELECT count(*) FROM pgbench_history) || ',' || (SELECT sum(aid) FROM pgbench_accounts)")
[ "$counts" = "1,10,100000,0,5000050000" ] || fail "after pgbench -i through the proxy the upstream has branches,tellers,accounts,history,sum(aid) = $counts, expected 1,10,100000,0,5000050000"
ok "pgbench -i -s 1 through the proxy (COPY of 100000 rows verified upstream)"

# Checks one run's output: exit status 0, all transactions processed, none failed.
check_run() {
    local name="$1" status="$2" expected=$((CLIENTS * TX))
    [ "$status" = 0 ] || fail "$name: pgbench exited $status: $(cat "$WORK/$name.out")"
    grep -q "number of transactions actually processed: $expected/$expected" "$WORK/$name.out" ||
        fail "$name: not all $expected transactions processed: $(cat "$WORK/$name.out")"
    grep -q 'number of failed transactions: 0 ' "$WORK/$name.out" ||
        fail "$name: failed transactions reported: $(cat "$WORK/$name.out")"
    grep -qi 'error' "$WORK/$name.out" && fail "$name: pgbench printed an error: $(cat "$WORK/$name.out")"
    ok "$name: $expected/$expected transactions, 0 failed, $(grep -o 'tps = [0-9.]*' "$WORK/$name.out" | head -1)"
}

for mode in simple extended prepared; do
    pgbench -n -S -M "$mode" -t "$TX" -c "$CLIENTS" -j "$THREADS" -h "$HOST" -p "$PORT" -U root "$DB" >"$WORK/select-$mode.out" 2>&1
    check_run "select-$mode" $?
done

# TPC-B-like (UPDATE x3, SELECT, INSERT in a transaction), prepared statements.
before=$(direct "SELECT count(*) FROM pgbench_history")
pgbench -n -M prepared -t "$TX" -c "$CLIENTS" -j "$THREADS" -h "$HOST" -p "$PORT" -U root "$DB" >"$WORK/tpcb-prepared.out" 2>&1
check_run "tpcb-prepared" $?
after=$(direct "SELECT count(*) FROM pgbench_history")
[ $((after - before)) = $((CLIENTS * TX)) ] || fail "TPC-B run added $((after - before)) history rows upstream, expected $((CLIENTS * TX))"
balance=$(direct "SELECT (SELECT sum(abalance) FROM pgbench_accounts) = (SELECT sum(delta) FROM pgbench_history) AND (SELECT sum(bbalance) FROM pgbench_branches) = (SELECT sum(delta) FROM pgbench_history) AND (SELECT sum(tbalance) FROM pgbench_tellers) = (SELECT sum(delta) FROM pgbench_history)")
[ "$balance" = "t" ] || fail "after the TPC-B run the balances upstream do not add up to the history deltas"
ok "TPC-B writes visible upstream: +$((after - before)) history rows, balances consistent"

# The same in extended mode with the vacuum step (runs VACUUM through the proxy).
pgbench -M extended -t 100 -c 2 -j 2 -h "$HOST" -p "$PORT" -U root "$DB" >"$WORK/tpcb-extended.out" 2>&1
status=$?
[ "$status" = 0 ] || fail "tpcb-extended: pgbench exited $status: $(cat "$WORK/tpcb-extended.out")"
grep -q 'number of transactions actually processed: 200/200' "$WORK/tpcb-extended.out" || fail "tpcb-extended: $(cat "$WORK/tpcb-extended.out")"
grep -q 'number of failed transactions: 0 ' "$WORK/tpcb-extended.out" || fail "tpcb-extended: $(cat "$WORK/tpcb-extended.out")"
ok "tpcb-extended (with vacuum): 200/200 transactions, 0 failed"

echo "pgbench: all checks passed"
