#!/usr/bin/env bash
# Installs what the real-client test suite (tests/real_clients.rs) needs on Debian 12:
#   psql, pgbench, pgjdbc, psycopg 3, psycopg2, SQLAlchemy 2, pandas, asyncpg, and node-postgres
#   (into tests/clients/node); and chromium for the page check (tests/page.rs).
# Idempotent: each piece is checked first and skipped when present, so a second run is fast.
# Run as root (apt-get). Java 17, node/npm and python3/pip are expected to be on the machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

say() { echo "install-test-deps: $*"; }

# ---- Debian packages -------------------------------------------------------------------
apt_pkgs=()
command -v psql >/dev/null 2>&1 || apt_pkgs+=(postgresql-client)
command -v openssl >/dev/null 2>&1 || apt_pkgs+=(openssl)
# Headless browser for the page's end-to-end check (tests/page.rs).
command -v chromium >/dev/null 2>&1 || apt_pkgs+=(chromium)
# On Debian 12 the pgbench binary for PG15 is shipped by the server package postgresql-15
# (`dpkg -S pgbench`: postgresql-15: /usr/lib/postgresql/15/bin/pgbench), not by
# postgresql-client-15; /usr/bin/pgbench is postgresql-client-common's pg_wrapper symlink.
if ! pgbench --version >/dev/null 2>&1; then
    apt_pkgs+=(postgresql-client-common postgresql-15)
fi
[ -f /usr/share/java/postgresql.jar ] || apt_pkgs+=(libpostgresql-jdbc-java)
command -v java >/dev/null 2>&1 || apt_pkgs+=(openjdk-17-jre-headless)
command -v node >/dev/null 2>&1 || apt_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_pkgs+=(npm)
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    apt_pkgs+=(python3 python3-pip)
elif ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    apt_pkgs+=(python3-pip)
fi

if [ ${#apt_pkgs[@]} -gt 0 ]; then
    say "apt-get install ${apt_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${apt_pkgs[@]}"
else
    say "Debian packages present (psql, chromium, pgbench, pgjdbc, java, node, npm, python)"
fi

# ---- Python drivers ----------------------------------------------------------------------
if "$PYTHON" -c 'import psycopg, asyncpg, psycopg2, sqlalchemy, pandas; assert psycopg.__version__.split(".")[0] == "3"; assert sqlalchemy.__version__.split(".")[0] == "2"; import psycopg_binary' >/dev/null 2>&1; then
    say "psycopg 3, psycopg2, SQLAlchemy 2, pandas and asyncpg present"
else
    say "pip install psycopg[binary] asyncpg psycopg2-binary sqlalchemy pandas"
    pip_flags=(--quiet --disable-pip-version-check)
    # Debian's own python3 is "externally managed" (PEP 668); a pyenv/venv python is not.
    if "$PYTHON" -c 'import sys, sysconfig, os; p = os.path.join(sysconfig.get_paths()["stdlib"], "EXTERNALLY-MANAGED"); sys.exit(0 if os.path.exists(p) else 1)'; then
        pip_flags+=(--break-system-packages)
    fi
    "$PYTHON" -m pip install "${pip_flags[@]}" 'psycopg[binary]>=3.1,<4' 'asyncpg>=0.29' \
        'psycopg2-binary>=2.9,<3' 'sqlalchemy>=2,<3' 'pandas>=2,<3'
fi

# ---- node-postgres -----------------------------------------------------------------------
NODE_DIR="$ROOT/tests/clients/node"
if [ -f "$NODE_DIR/node_modules/pg/package.json" ] && (cd "$NODE_DIR" && node -e 'require("pg")') >/dev/null 2>&1; then
    say "node pg present in tests/clients/node"
else
    say "npm ci (npm install without a lock file) in tests/clients/node"
    if [ -f "$NODE_DIR/package-lock.json" ]; then
        (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    else
        (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error)
    fi
fi

say "done"
