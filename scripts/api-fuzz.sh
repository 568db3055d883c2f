#!/usr/bin/env bash
# Runs schemathesis (PyPI) against Querent's OpenAPI document: every operation of
# /v1/openapi.json is called with generated requests (valid and invalid), and every check
# schemathesis has must pass except `positive_data_acceptance` (a question the planner
# declines is a valid request answered 422 by design). No 5xx, answers matching the
# document, the one error shape, Allow on 405.
#
#   scripts/api-fuzz.sh [MAX_EXAMPLES]       (default 100; FUZZ_BIN or target/debug/querent)
#
# Installs schemathesis into target/schemathesis-venv on first use. Starts its own Querent
# in trust mode on the retail database (querent_retail, loaded by the tests).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MAX="${1:-100}"
VENV="$ROOT/target/schemathesis-venv"
if [ ! -x "$VENV/bin/schemathesis" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi
BIN="${FUZZ_BIN:-$ROOT/target/debug/querent}"
[ -x "$BIN" ] || cargo build --quiet
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P=$(port); A=$(port)
"$BIN" serve --listen "127.0.0.1:$P" --admin-listen "127.0.0.1:$A" \
    --upstream "${FUZZ_UPSTREAM:-postgres://root@127.0.0.1:5432/querent_retail}" --schemas schemas \
    >"$ROOT/target/api-fuzz-querent.log" 2>&1 &
Q=$!
trap 'kill $Q 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$A/healthz', timeout=1)" 2>/dev/null && break
    sleep 0.1
done
"$VENV/bin/schemathesis" run "http://127.0.0.1:$A/v1/openapi.json" --url "http://127.0.0.1:$A" \
    --checks all --exclude-checks positive_data_acceptance --max-examples "$MAX" \
    --seed 1 --no-color
