#!/usr/bin/env bash
# ASK's plumbing around a language model, measured on real questions: a replay model
# (scripts/replay-model.py) answers every question of a questions file in run_defog.py's
# format with its gold SQL ("gold"), or first with broken SQL and the gold SQL only after the
# error comes back ("repair"); Querent runs with llm.mode = always, so every answer goes
# through the model stage (answer parsing, read-only check, guard, EXPLAIN, repairs).
# Prints run_defog.py's score per mode and the proxy-side time per ASK (model time excluded,
# from the NOTICEs). With a real endpoint, set QUERENT_LLM_URL (and QUERENT_LLM_MODEL,
# QUERENT_LLM_API_KEY): the replay model is then not started and the mode is "real".
# Usage: scripts/bench-ask-model.sh [--questions FILE --data-dir DIR] [gold] [repair]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared=${QUERENT_SHARED:-$root/../shared}
defog=$shared/bench/defog/run_defog.py
questions=$shared/bench/defog/questions.csv
data=$shared/bench/defog/data
modes=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --questions) questions=$2; shift 2 ;;
    --data-dir) data=$2; shift 2 ;;
    *) modes+=("$1"); shift ;;
  esac
done
real_url=${QUERENT_LLM_URL:-}
if [[ -n $real_url ]]; then modes=(real); elif [[ ${#modes[@]} -eq 0 ]]; then modes=(gold repair); fi
cargo build -q --bin querent
bin=$root/target/debug/querent
out=${TMPDIR:-/tmp}/querent-ask-model
mkdir -p "$out"
python3 "$defog" --data-dir "$data" --questions "$questions" --load >/dev/null 2>&1
pids=()
trap 'kill ${pids[@]} 2>/dev/null || true' EXIT
port=6590
for mode in "${modes[@]}"; do
  port=$((port + 1))
  url=$real_url
  if [[ $mode != real ]]; then
    python3 scripts/replay-model.py --questions "$questions" --mode "$mode" --port $((port + 100)) \
      >"$out/$mode.model.log" 2>&1 &
    pids+=($!)
    url=http://127.0.0.1:$((port + 100))/v1
  fi
  QUERENT_LISTEN=127.0.0.1:$port QUERENT_ADMIN_LISTEN= QUERENT_LLM_URL=$url \
    QUERENT_LLM_MODEL=${QUERENT_LLM_MODEL:-replay} QUERENT_LLM_MODE=always \
    QUERENT_LLM_TIMEOUT=${QUERENT_LLM_TIMEOUT:-60s} "$bin" serve >"$out/$mode.querent.log" 2>&1 &
  pids+=($!)
  sleep 1.5
  python3 "$defog" --data-dir "$data" --questions "$questions" \
    --proxy-dsn "host=127.0.0.1 port=$port user=root" --jsonl-out "$out/$mode.jsonl" \
    >"$out/$mode.txt" 2>&1 || true
  summary=$(python3 - "$out/$mode.jsonl" <<'PY'
import json, re, statistics, sys
own, repairs, n = [], 0, 0
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    for t in r.get("notices") or []:
        m = re.search(r"\((?:a plan|SQL); (\d+) repair\(s\).*Querent ([\d.]+) ms\)", t)
        if m:
            n += 1
            repairs += int(m.group(1))
            own.append(float(m.group(2)))
            break
if own:
    own.sort()
    p = lambda q: own[min(len(own) - 1, int(q * len(own)))]
    print(f"model answers {n}, repairs {repairs}, Querent per ASK p50 {p(0.5):.1f} ms p95 {p(0.95):.1f} ms")
else:
    print("no model answers")
PY
)
  printf '%-7s %s | %s\n' "$mode" "$(tail -1 "$out/$mode.txt")" "$summary"
done
echo "details: $out/{$(IFS=,; echo "${modes[*]}")}.{txt,jsonl}"
