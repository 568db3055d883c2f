#!/usr/bin/env bash
# Cost of the guard: pgbench select-only at 8 clients through one Querent, as a guarded role
# (a row filter on pgbench_accounts, so every statement is parsed and rewritten) and as a
# trusted role (no check), interleaved, in simple, extended and prepared modes; then the
# microseconds per guard decision (cached and uncached) from examples/guard_bench.rs.
#
#   scripts/bench-guard.sh            DURATION=10 REPEAT=3 CLIENTS=8 by default
#   QUERENT_GUARD_PLAN_CACHE=off scripts/bench-guard.sh    the same without the plan cache
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION=${DURATION:-10}
REPEAT=${REPEAT:-3}
CLIENTS=${CLIENTS:-8}
DB=querent_bench
PGH="host=127.0.0.1 port=5432 user=root"
work=$(mktemp -d /tmp/bench-guard.XXXXXX)
QPID=""
cleanup() { [ -n "$QPID" ] && kill "$QPID" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM

cargo build --release --quiet
psql "$PGH dbname=postgres" -XAtc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 || createdb -h 127.0.0.1 -U root "$DB"
psql "$PGH dbname=$DB" -XAtc "SELECT count(*) FROM pgbench_branches" >/dev/null 2>&1 || pgbench -i -s 10 -q "$PGH dbname=$DB"

mkdir -p "$work/policies"
cat > "$work/policies/bench.toml" <<'TOML'
[role.bench_guarded]
read_only = true
tables = ["public.pgbench_*"]
[role.bench_guarded.row_filter]
"public.pgbench_accounts" = "aid > ${user.min_aid}"

[role.bench_trusted]
trusted = true
TOML
./target/release/querent user add guarded --users "$work/users.toml" --password x --role bench_guarded --attr min_aid=0 2>/dev/null
./target/release/querent user add trusted --users "$work/users.toml" --password x --role bench_trusted 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
./target/release/querent serve --listen "127.0.0.1:$port" --admin-listen "" --auth trust \
    --users "$work/users.toml" --policies "$work/policies" > "$work/querent.log" 2>&1 &
QPID=$!
for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

tps() { # user mode
    pgbench -h 127.0.0.1 -p "$port" -U "$1" -n -S -M "$2" -c "$CLIENTS" -j 2 -T "$DURATION" "$DB" 2>&1 \
        | awk '/^tps =/ {print $3}'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "Guard cost: pgbench -S, $CLIENTS clients, ${DURATION}s x $REPEAT per cell (median), $(nproc) CPUs, $(date -u '+%F %T') UTC"
printf '%-9s | %12s %12s | %9s\n' mode "trusted tps" "guarded tps" "TPS loss"
for mode in simple extended prepared; do
    t=(); g=()
    for _ in $(seq 1 "$REPEAT"); do
        t+=("$(tps trusted "$mode")"); g+=("$(tps guarded "$mode")")
    done
    tm=$(printf '%s\n' "${t[@]}" | median); gm=$(printf '%s\n' "${g[@]}" | median)
    loss=$(awk -v t="$tm" -v g="$gm" 'BEGIN {printf "%.1f%%", (1 - g / t) * 100}')
    printf '%-9s | %12.0f %12.0f | %9s\n' "$mode" "$tm" "$gm" "$loss"
done
echo "goal: <= 15 % TPS loss"
echo
cargo run --release --quiet --example guard_bench 20000
echo "goal: <= 50 us uncached, <= 5 us cached"
