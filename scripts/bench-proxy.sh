#!/usr/bin/env bash
# Querent vs pgbouncer vs direct PostgreSQL: pgbench -S throughput, latency, proxy CPU per
# transaction, and proxy memory per idle client — all measured in this one run.
#
#   scripts/bench-proxy.sh                 # full run: clients 1 8 32, 10 s per pgbench run (~6 min)
#   QUICK=1 scripts/bench-proxy.sh         # smoke run: clients 1 8, 2 s per run
#
# Environment (all optional):
#   DURATION=10        seconds per pgbench run (QUICK=1: 2)
#   CLIENTS="1 8 32"   client counts (QUICK=1: "1 8")
#   MODES="simple extended prepared"
#   IDLE_CLIENTS=1000  idle connections for the memory test
#   OUT=.bench/proxy-bench.txt   where the table is written (raw pgbench logs go beside it)
#   PAUSE=2            seconds between runs (lets pgbouncer drop idle server connections)
#   REPEAT=1           runs per target per cell; with more, TPS and latency are medians and CPU
#                      per transaction is total proxy CPU / total transactions
#   PGHOST_BENCH=127.0.0.1 PGPORT_BENCH=5432 PGUSER_BENCH=root   the upstream PostgreSQL
#
# Needs: root (apt-get for pgbouncer; pgbouncer itself runs as the `postgres` OS user via -u),
# a local PostgreSQL with trust auth for $PGUSER_BENCH on 127.0.0.1, cargo, python3.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

QUICK=${QUICK:-0}
if [[ "$QUICK" == "1" ]]; then
    DURATION=${DURATION:-2}
    CLIENTS=${CLIENTS:-"1 8"}
else
    DURATION=${DURATION:-10}
    CLIENTS=${CLIENTS:-"1 8 32"}
fi
MODES=${MODES:-"simple extended prepared"}
IDLE_N=${IDLE_CLIENTS:-1000}
OUT=${OUT:-.bench/proxy-bench.txt}
PAUSE=${PAUSE:-2}
REPEAT=${REPEAT:-1}
PG_HOST=${PGHOST_BENCH:-127.0.0.1}
PG_PORT=${PGPORT_BENCH:-5432}
PG_USER=${PGUSER_BENCH:-root}
DB=querent_bench
SCALE=10
TARGETS=(direct pgbouncer querent)

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- cleanup
WORK=""
QUERENT_PID=""
PGB_PID=""
HELPER_PID=""
PGBENCH_PID=""
BG_PID=""
POLICY_RC_CREATED=0

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in "$BG_PID" "$PGBENCH_PID" "$HELPER_PID" "$QUERENT_PID" "$PGB_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    # Give them a moment, then make sure.
    for pid in "$BG_PID" "$PGBENCH_PID" "$HELPER_PID" "$QUERENT_PID" "$PGB_PID"; do
        [[ -z "$pid" ]] && continue
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    done
    if [[ "$POLICY_RC_CREATED" == "1" ]]; then rm -f /usr/sbin/policy-rc.d; fi
    if [[ -n "$WORK" && -d "$WORK" ]]; then rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
# Sleep in the background and wait, so a signal sent to this script alone (not to its whole
# process group) is acted on at once: bash drops SIGINT that arrives during a foreground child
# which itself exits normally.
nap() { sleep "$1" & wait $! || true; }
# Same for longer commands: run in the background (tracked for cleanup) and wait.

bg_run() { # logfile command...
    local rc=0 logf=$1; shift
    "$@" >"$logf" 2>&1 &
    BG_PID=$!
    wait "$BG_PID" || rc=$?
    BG_PID=""
    return "$rc"
}
trap 'log "interrupted; cleaning up"; exit 130' INT
trap 'log "terminated; cleaning up"; exit 143' TERM

# ---------------------------------------------------------------- prerequisites
APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null || die "apt-get not found; install $* by hand"
    [[ $(id -u) == 0 ]] || die "need root to apt-get install $*"
    if [[ "$APT_UPDATED" == 0 ]]; then
        log "apt-get update"
        apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    # Do not let the package start its own service (Debian's pgbouncer listens on 6432).
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        POLICY_RC_CREATED=1
    fi
    log "apt-get install -y $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    if [[ "$POLICY_RC_CREATED" == "1" ]]; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
}

command -v psql >/dev/null || apt_install postgresql-client
PGB_BIN=$(command -v pgbouncer || true)
[[ -z "$PGB_BIN" && -x /usr/sbin/pgbouncer ]] && PGB_BIN=/usr/sbin/pgbouncer
if [[ -z "$PGB_BIN" ]]; then
    apt_install pgbouncer
    PGB_BIN=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
    [[ -x "$PGB_BIN" ]] || die "pgbouncer did not install"
fi
if ! command -v pgbench >/dev/null; then
    # Debian ships pgbench in the server package postgresql-<major> (wrapper in postgresql-client-common).
    major=$(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -Atc "select current_setting('server_version_num')::int / 10000" 2>/dev/null || echo 15)
    apt_install "postgresql-$major" postgresql-client-common
    command -v pgbench >/dev/null || die "pgbench did not install"
fi
command -v python3 >/dev/null || die "python3 not found"
CLK_TCK=$(getconf CLK_TCK)

# File descriptors: 1,000 idle clients per proxy plus upstream connections.
hard=$(ulimit -Hn)
want=20000
if [[ "$hard" != "unlimited" && "$hard" -lt "$want" ]]; then want=$hard; fi
ulimit -n "$want" 2>/dev/null || true
[[ $(ulimit -n) -ge $((IDLE_N + 200)) ]] || log "warning: ulimit -n is $(ulimit -n); the idle-client test may fail"

# ---------------------------------------------------------------- build
WORK=$(mktemp -d /tmp/bench-proxy.XXXXXX)
chmod 755 "$WORK"

log "cargo build --release"
if ! bg_run "$WORK/build.log" cargo build --release; then
    tail -40 "$WORK/build.log" >&2
    die "cargo build --release failed"
fi

# Copy the binary: others may rebuild target/ while this runs.
cp target/release/querent "$WORK/querent"

mkdir -p "$(dirname "$OUT")"
LOGDIR="${OUT%.*}-logs"
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"

PSQL=(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -X -q -v ON_ERROR_STOP=1)

# ---------------------------------------------------------------- database
"${PSQL[@]}" -d postgres -Atc "select 1" >/dev/null || die "cannot reach PostgreSQL at $PG_HOST:$PG_PORT as $PG_USER"
if [[ $("${PSQL[@]}" -d postgres -Atc "select count(*) from pg_database where datname = '$DB'") != 1 ]]; then
    log "createdb $DB"
    createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$DB"
fi
inited=$("${PSQL[@]}" -d "$DB" -Atc "select (select count(*) from pgbench_branches) = $SCALE
    and (select count(*) from pgbench_accounts) = $((SCALE * 100000))" 2>/dev/null || echo f)
if [[ "$inited" != "t" ]]; then
    log "pgbench -i -s $SCALE $DB"
    bg_run "$LOGDIR/pgbench-init.log" pgbench -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -i -s "$SCALE" -q "$DB" \
        || { tail -20 "$LOGDIR/pgbench-init.log" >&2; die "pgbench -i failed"; }
else
    log "$DB already initialised at scale $SCALE"
fi

maxconn=$("${PSQL[@]}" -d postgres -Atc "show max_connections")
inuse=$("${PSQL[@]}" -d postgres -Atc "select count(*) from pg_stat_activity where backend_type = 'client backend'")
maxc=0; for c in $CLIENTS; do if (( c > maxc )); then maxc=$c; fi; done
# Worst case at once: a direct run plus Querent's idle pool (it keeps up to pool.max_idle).
if (( maxconn - inuse < 2 * maxc + 5 )); then
    log "warning: PostgreSQL max_connections=$maxconn with $inuse in use; runs at $maxc clients may be refused"
fi

# ---------------------------------------------------------------- helpers
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() { # name port pid
    local name=$1 port=$2 pid=$3
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || die "$name exited during startup (see $LOGDIR/$name.log)"
        if psql -h 127.0.0.1 -p "$port" -U "$PG_USER" -d "$DB" -X -Atc "select 1" >/dev/null 2>&1; then
            return 0
        fi
        nap 0.1
    done
    die "$name did not accept connections on port $port"
}

cpu_ticks() { # utime + stime of a process (all threads), in clock ticks
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo $(( ${12} + ${13} ))
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

upstream_backends() {
    "${PSQL[@]}" -d postgres -Atc "select count(*) from pg_stat_activity
        where datname = '$DB' and backend_type = 'client backend' and pid <> pg_backend_pid()"
}

# ---------------------------------------------------------------- start the proxies
PGB_PORT=$(free_port)
PGB_DIR="$WORK/pgbouncer"
mkdir -p "$PGB_DIR"
cat >"$PGB_DIR/userlist.txt" <<EOF
"root" ""
"postgres" ""
"$PG_USER" ""
EOF
cat >"$PGB_DIR/pgbouncer.ini" <<EOF
[databases]
* = host=$PG_HOST port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = trust
auth_file = $PGB_DIR/userlist.txt
pool_mode = session
max_client_conn = 2000
default_pool_size = 50
server_idle_timeout = 1
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
logfile = $PGB_DIR/pgbouncer.log
pidfile = $PGB_DIR/pgbouncer.pid
EOF
PGB_ARGS=()
if [[ $(id -u) == 0 ]]; then
    id postgres >/dev/null 2>&1 || die "pgbouncer refuses to run as root and there is no 'postgres' OS user"
    chown -R postgres "$PGB_DIR"
    PGB_ARGS=(-u postgres)
fi
"$PGB_BIN" "${PGB_ARGS[@]}" "$PGB_DIR/pgbouncer.ini" >"$LOGDIR/pgbouncer.log" 2>&1 &
PGB_PID=$!

Q_PORT=$(free_port)
"$WORK/querent" serve --listen "127.0.0.1:$Q_PORT" --upstream "postgres://$PG_USER@$PG_HOST:$PG_PORT/$DB" \
    --admin-listen "" >"$LOGDIR/querent.log" 2>&1 &
QUERENT_PID=$!

wait_ready pgbouncer "$PGB_PORT" "$PGB_PID"
wait_ready querent "$Q_PORT" "$QUERENT_PID"
PGB_VERSION=$("$PGB_BIN" --version 2>/dev/null | head -1)
log "pgbouncer pid $PGB_PID on :$PGB_PORT ($PGB_VERSION); querent pid $QUERENT_PID on :$Q_PORT"

port_of() {
    case $1 in
        direct) echo "$PG_PORT" ;;
        pgbouncer) echo "$PGB_PORT" ;;
        querent) echo "$Q_PORT" ;;
    esac
}
pid_of() {
    case $1 in
        pgbouncer) echo "$PGB_PID" ;;
        querent) echo "$QUERENT_PID" ;;
        *) echo "" ;;
    esac
}

# ---------------------------------------------------------------- idle-client memory
# Measured first, on freshly started proxies (after one warm-up query each), so allocator
# caches left by the throughput runs do not hide the per-client cost.
declare -A MEM
measure_idle() { # target
    local t=$1 port pid before after closed ready b0 b1 status
    port=$(port_of "$t"); pid=$(pid_of "$t")
    psql -h 127.0.0.1 -p "$port" -U "$PG_USER" -d "$DB" -X -Atc "select 1" >/dev/null
    nap 1
    before=$(rss_kib "$pid")
    b0=$(upstream_backends)
    ready="$WORK/idle-$t.ready"
    python3 "$ROOT/scripts/idle_clients.py" --host 127.0.0.1 --port "$port" --user "$PG_USER" --db "$DB" \
        -n "$IDLE_N" --ready-file "$ready" --hold 600 2>"$LOGDIR/idle-$t.log" &
    HELPER_PID=$!
    for _ in $(seq 1 1200); do
        [[ -s "$ready" ]] && break
        kill -0 "$HELPER_PID" 2>/dev/null || break
        nap 0.1
    done
    status=$(cat "$ready" 2>/dev/null || echo "FAILED 0 no ready file")
    if [[ "$status" != READY* ]]; then
        log "idle clients to $t: $status"
        kill -TERM "$HELPER_PID" 2>/dev/null || true; wait "$HELPER_PID" 2>/dev/null || true; HELPER_PID=""
        MEM[$t]="$t: idle-client test FAILED ($status); RSS before ${before} KiB"
        return
    fi
    local n secs
    n=$(awk '{print $2}' <<<"$status"); secs=$(awk '{print $3}' <<<"$status")
    nap 1
    after=$(rss_kib "$pid")
    b1=$(upstream_backends)
    kill -TERM "$HELPER_PID" 2>/dev/null || true
    wait "$HELPER_PID" 2>/dev/null || true
    HELPER_PID=""
    nap 1
    closed=$(rss_kib "$pid")
    MEM[$t]=$(awk -v t="$t" -v n="$n" -v b="$before" -v a="$after" -v c="$closed" -v s="$secs" \
        -v u0="$b0" -v u1="$b1" 'BEGIN {
        printf "%-9s %5d idle clients (startup in %s s): RSS %6d KiB -> %6d KiB = %6.2f KiB per idle client; upstream backends on the db %d -> %d; RSS after they left %d KiB",
            t, n, s, b, a, (a - b) / n, u0, u1, c }')
    MEM[$t.kib]=$(awk -v n="$n" -v b="$before" -v a="$after" 'BEGIN { printf "%.2f", (a - b) / n }')
    log "${MEM[$t]}"
}
log "idle-client memory: $IDLE_N connections each to querent and pgbouncer"
measure_idle querent
measure_idle pgbouncer

# ---------------------------------------------------------------- throughput
declare -A TPS LAT CPU ERR TPS_ALL LAT_ALL TICKS TXNS
run_one() { # target mode clients repetition
    local t=$1 mode=$2 c=$3 r=$4 port pid j logf t0=0 t1=0 rc=0 tps lat txns cpu=""
    port=$(port_of "$t"); pid=$(pid_of "$t")
    j=$(( c < 2 ? c : 2 ))
    logf="$LOGDIR/$mode-c$c-$t.log"
    (( REPEAT > 1 )) && logf="$LOGDIR/$mode-c$c-$t-r$r.log"
    [[ -n "$pid" ]] && t0=$(cpu_ticks "$pid")
    pgbench -h 127.0.0.1 -p "$port" -U "$PG_USER" -n -S -M "$mode" -c "$c" -j "$j" -T "$DURATION" "$DB" >"$logf" 2>&1 &
    PGBENCH_PID=$!
    wait "$PGBENCH_PID" || rc=$?
    PGBENCH_PID=""
    [[ -n "$pid" ]] && t1=$(cpu_ticks "$pid")
    tps=$(awk '/^tps = / {print $3; exit}' "$logf")
    lat=$(awk '/^latency average = / {print $4; exit}' "$logf")
    txns=$(awk -F': ' '/^number of transactions actually processed/ {split($2, a, "/"); print a[1]; exit}' "$logf")
    local key="$mode:$c:$t"
    if (( rc != 0 )) || [[ -z "$tps" || -z "$txns" ]] || grep -qiE 'aborted|error' "$logf"; then
        ERR[$key]=1
        log "  $t: pgbench FAILED (exit $rc); see $logf:"
        grep -iE 'error|abort|fatal' "$logf" | head -5 >&2 || true
    fi
    if [[ -n "$tps" ]]; then TPS_ALL[$key]="${TPS_ALL[$key]:-} $tps"; fi
    if [[ -n "$lat" ]]; then LAT_ALL[$key]="${LAT_ALL[$key]:-} $lat"; fi
    if [[ -n "$pid" && -n "$txns" && "$txns" -gt 0 ]]; then
        TICKS[$key]=$(( ${TICKS[$key]:-0} + t1 - t0 ))
        TXNS[$key]=$(( ${TXNS[$key]:-0} + txns ))
        cpu=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$txns" 'BEGIN { printf "%.1f", d * 1e6 / hz / n }')
    fi
    log "  $t: tps ${tps:-?}  latency ${lat:-?} ms  txns ${txns:-?}${cpu:+  proxy CPU $cpu us/txn}"
}

median() { # numbers...
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ncells=0
for mode in $MODES; do for c in $CLIENTS; do ncells=$((ncells + 1)); done; done
log "throughput: $ncells cells x ${#TARGETS[@]} targets x $REPEAT repetition(s) x ${DURATION}s (pgbench -S, scale $SCALE)"
cell=0
for mode in $MODES; do
    for c in $CLIENTS; do
        for r in $(seq 1 "$REPEAT"); do
            log "cell $((cell / REPEAT + 1))/$ncells: -M $mode, $c clients$( (( REPEAT > 1 )) && echo ", repetition $r/$REPEAT")"
            # Rotate the target order from run to run so drift does not favour one target.
            for k in 0 1 2; do
                t=${TARGETS[$(( (cell + k) % 3 ))]}
                run_one "$t" "$mode" "$c" "$r"
                nap "$PAUSE"
            done
            cell=$((cell + 1))
        done
        for t in "${TARGETS[@]}"; do
            key="$mode:$c:$t"
            # shellcheck disable=SC2086
            TPS[$key]=$(median ${TPS_ALL[$key]:-})
            # shellcheck disable=SC2086
            LAT[$key]=$(median ${LAT_ALL[$key]:-})
            if [[ -n "${TXNS[$key]:-}" ]]; then
                CPU[$key]=$(awk -v d="${TICKS[$key]}" -v hz="$CLK_TCK" -v n="${TXNS[$key]}" 'BEGIN { printf "%.1f", d * 1e6 / hz / n }')
            fi
        done
    done
done

# ---------------------------------------------------------------- report
ratio() { # a b
    if [[ -n "$1" && -n "$2" ]]; then awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'
    else echo "-"; fi
}
fmt() { if [[ -n "$1" ]]; then printf '%s' "$1"; else printf 'ERR'; fi; }
num0() { if [[ -n "$1" ]]; then awk -v x="$1" 'BEGIN { printf "%.0f", x }'; else printf 'ERR'; fi; }
num3() { if [[ -n "$1" ]]; then awk -v x="$1" 'BEGIN { printf "%.3f", x }'; else printf 'ERR'; fi; }

REPORT="$WORK/report.txt"
{
    echo "Querent proxy benchmark — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "querent $(git rev-parse --short HEAD 2>/dev/null || echo '?')$( [[ -n "$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ]] && echo ' (+ uncommitted changes in src/)'), $PGB_VERSION, $(pgbench --version)"
    echo "pgbench -S -n, scale $SCALE, ${DURATION}s per run x $REPEAT per target per cell (median), -j min(clients,2); $(nproc) CPUs; load avg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "targets per cell run interleaved (rotating order); TPS excludes initial connection time; latency = pgbench average, ms"
    echo "CPU us/txn = proxy process utime+stime (all threads) during the run / transactions"
    echo
    printf '%-8s %3s | %9s %9s %9s | %7s %7s | %7s %7s %7s | %8s %8s | %s\n' \
        mode cli "direct" "pgbouncer" "querent" "q/dir" "q/pgb" "lat dir" "lat pgb" "lat q" "q cpu" "pgb cpu" "8-client goal"
    printf '%-8s %3s | %9s %9s %9s | %7s %7s | %7s %7s %7s | %8s %8s | %s\n' \
        "" "" tps tps tps "" "" ms ms ms "us/txn" "us/txn" "q>=0.9x dir, q>=1.0x pgb"
    printf '%.0s-' $(seq 1 132); echo
    GOAL_FAIL=0; GOAL_ROWS=0
    for mode in $MODES; do
        for c in $CLIENTS; do
            d="$mode:$c:direct"; p="$mode:$c:pgbouncer"; q="$mode:$c:querent"
            rd=$(ratio "${TPS[$q]:-}" "${TPS[$d]:-}")
            rp=$(ratio "${TPS[$q]:-}" "${TPS[$p]:-}")
            goal=""
            if [[ "$c" == 8 ]]; then
                GOAL_ROWS=$((GOAL_ROWS + 1))
                if [[ "$rd" != "-" && "$rp" != "-" ]] && awk -v a="$rd" -v b="$rp" 'BEGIN { exit !(a >= 0.9 && b >= 1.0) }' \
                    && [[ -z "${ERR[$q]:-}" ]]; then
                    goal="PASS"
                else
                    goal="MISS"; GOAL_FAIL=$((GOAL_FAIL + 1))
                fi
            fi
            flag=""
            for k in "$d" "$p" "$q"; do if [[ -n "${ERR[$k]:-}" ]]; then flag=" (errors in ${k##*:} run)"; fi; done
            printf '%-8s %3s | %9s %9s %9s | %7s %7s | %7s %7s %7s | %8s %8s | %s\n' \
                "$mode" "$c" "$(num0 "${TPS[$d]:-}")" "$(num0 "${TPS[$p]:-}")" "$(num0 "${TPS[$q]:-}")" "$rd" "$rp" \
                "$(num3 "${LAT[$d]:-}")" "$(num3 "${LAT[$p]:-}")" "$(num3 "${LAT[$q]:-}")" \
                "$(fmt "${CPU[$q]:-}")" "$(fmt "${CPU[$p]:-}")" "$goal$flag"
        done
    done
    echo
    echo "Idle clients (memory = VmRSS of the proxy process):"
    echo "  ${MEM[querent]:-querent: not measured}"
    echo "  ${MEM[pgbouncer]:-pgbouncer: not measured}"
    echo
    echo "Goals:"
    if (( GOAL_ROWS > 0 )); then
        echo "  at 8 clients, querent >= 0.9x direct and >= 1.0x pgbouncer in every mode: $(( GOAL_ROWS - GOAL_FAIL ))/$GOAL_ROWS modes met -> $([[ $GOAL_FAIL == 0 ]] && echo MET || echo NOT MET)"
    else
        echo "  at 8 clients ...: not measured (8 not in CLIENTS)"
    fi
    qk=${MEM[querent.kib]:-}
    if [[ -n "$qk" ]]; then
        echo "  querent < 16 KiB per idle client: ${qk} KiB -> $(awk -v x="$qk" 'BEGIN { print (x < 16) ? "MET" : "NOT MET" }')"
    else
        echo "  querent < 16 KiB per idle client: not measured"
    fi
    echo
    echo "raw pgbench output: $LOGDIR/"
} >"$REPORT"

cp "$REPORT" "$OUT"
echo
cat "$REPORT"
echo "(written to $OUT)"
