#!/usr/bin/env bash
# The test command: installs what the tests need (idempotent), makes sure PostgreSQL is up,
# checks formatting and lints, then runs every test with nextest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-services.sh
bash scripts/install-test-deps.sh
ulimit -n 65536 2>/dev/null || true
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
cargo nextest run --no-fail-fast "$@"
