#!/usr/bin/env bash
# A/B of the pass-through path: pgbench -S -c 8 through two Querent binaries (BASE and NEW,
# release builds), interleaved, 3 runs of 5 s per mode; prints the medians and NEW/BASE.
# The pgbench database is the one scripts/bench-proxy.sh initialises (querent_bench).
#
#   scripts/bench-ab.sh BASE_BINARY NEW_BINARY
#   e.g. git worktree add /tmp/base <commit> && (cd /tmp/base && cargo build --release)
#        scripts/bench-ab.sh /tmp/base/target/release/querent target/release/querent
set -u
BASE="${1:?base binary}"
NEW="${2:?new binary}"
DB=querent_bench
start() { "$1" serve --listen 127.0.0.1:$2 --admin-listen "" --upstream postgres://root@127.0.0.1:5432/$DB >/dev/null 2>&1 & echo $!; }
B=$(start "$BASE" 6701)
N=$(start "$NEW" 6702)
sleep 2
LOG=$(mktemp)
for mode in simple extended prepared; do
  for r in 1 2 3; do
    for t in base:6701 new:6702; do
      name=${t%%:*}; port=${t##*:}
      tps=$(pgbench -S -n -M $mode -c 8 -j 2 -T 5 -h 127.0.0.1 -p $port -U root $DB 2>/dev/null | awk '/^tps/ {print $3}')
      echo "$mode $name $tps" | tee -a "$LOG"
    done
  done
done
kill $B $N
python3 - "$LOG" <<'PY'
import collections, statistics, sys
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) == 3 and p[2] != "":
        d[(p[0], p[1])].append(float(p[2]))
for m in ("simple", "extended", "prepared"):
    b, n = statistics.median(d[(m, "base")]), statistics.median(d[(m, "new")])
    print(f"{m:9} base {b:8.0f} tps  new {n:8.0f} tps  new/base {n / b:.3f}")
PY
