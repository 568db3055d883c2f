#!/usr/bin/env bash
# ASK accuracy on three question sets, through a proxy built from this checkout:
#   retail   shared/bench retail dev set, with schemas/ annotations (run_eval.py)
#   defog    shared/bench/defog dev split (5 public databases, comments only, no annotations)
#   saas     bench/saas (50 questions on fixtures/catalog/saas.sql, no annotations, no comments)
#   review   bench/review (129 questions an outside reviewer wrote on three schemas of their own)
# Prints one score line per set. Needs PostgreSQL on 127.0.0.1:5432 and ../shared beside the
# repository. Usage: scripts/bench-ask-sets.sh [--release] [retail|defog|saas ...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared=${QUERENT_SHARED:-$root/../shared}
profile=debug
if [[ ${1:-} == --release ]]; then profile=release; shift; fi
sets=("$@")
[[ ${#sets[@]} -eq 0 ]] && sets=(retail defog saas review)
cargo build -q $([[ $profile == release ]] && echo --release) --bin querent
bin=$root/target/$profile/querent
out=${TMPDIR:-/tmp}/querent-ask-sets
mkdir -p "$out"
defog=$shared/bench/defog/run_defog.py
# Load first: the proxies read their catalogs at start.
python3 "$shared/bench/run_eval.py" --load "$shared/bench/retail/retail.sql" --db bench --self-test >/dev/null
python3 "$defog" --load >/dev/null
python3 "$defog" --data-dir bench/saas/data --questions bench/saas/questions.csv --load >/dev/null 2>&1
python3 "$defog" --data-dir bench/review/data --questions bench/review/questions.csv --load >/dev/null 2>&1
QUERENT_LISTEN=127.0.0.1:6581 QUERENT_ADMIN_LISTEN= QUERENT_SCHEMAS=$root/schemas "$bin" serve >"$out/annotated.log" 2>&1 &
p1=$!
QUERENT_LISTEN=127.0.0.1:6582 QUERENT_ADMIN_LISTEN= "$bin" serve >"$out/plain.log" 2>&1 &
p2=$!
trap 'kill $p1 $p2 2>/dev/null' EXIT
sleep 1.5
for s in "${sets[@]}"; do
  case $s in
    retail) python3 "$shared/bench/run_eval.py" --db bench \
              --proxy-dsn "host=127.0.0.1 port=6581 user=root dbname=bench" >"$out/retail.txt" 2>&1 || true ;;
    defog)  python3 "$defog" --proxy-dsn "host=127.0.0.1 port=6582 user=root" \
              --jsonl-out "$out/defog.jsonl" >"$out/defog.txt" 2>&1 || true ;;
    saas)   python3 "$defog" --data-dir bench/saas/data --questions bench/saas/questions.csv \
              --proxy-dsn "host=127.0.0.1 port=6582 user=root" --jsonl-out "$out/saas.jsonl" >"$out/saas.txt" 2>&1 || true ;;
    review) python3 "$defog" --data-dir bench/review/data --questions bench/review/questions.csv \
              --proxy-dsn "host=127.0.0.1 port=6582 user=root" --jsonl-out "$out/review.jsonl" >"$out/review.txt" 2>&1 || true ;;
    *) echo "unknown set $s" >&2; exit 2 ;;
  esac
  printf '%-7s %s\n' "$s" "$(tail -1 "$out/$s.txt")"
done
echo "details: $out/{retail,defog,saas,review}.txt and .jsonl"
