#!/usr/bin/env bash
# ASK planning speed on the retail schema: link + plan + compile for the 60 shared questions,
# 200 rounds, release build; the retail dataset must be loaded (the test suite loads it into
# querent_retail; or pass another URL). No timing here is asserted by tests.
#
#   scripts/bench-ask.sh [postgres://root@127.0.0.1:5432/querent_retail] [rounds]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "ASK planning benchmark, $(nproc) CPUs, $(date -u '+%F %T') UTC"
cargo run --release --quiet --example ask_bench -- "$@"
