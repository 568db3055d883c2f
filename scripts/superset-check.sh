#!/usr/bin/env bash
# Opt-in check: Apache Superset against Querent's ask() relation, through Superset's own REST API.
#
#   bash scripts/superset-check.sh
#
# 1. Installs apache-superset (pinned, see SUPERSET_VERSION) and psycopg2-binary into a venv
#    (SUPERSET_VENV, default /tmp/superset-venv; kept between runs, so the second run is fast).
# 2. Initialises a SQLite metadata DB (superset db upgrade, fab create-admin, init) in a fresh
#    work dir and starts Superset on a free 127.0.0.1 port.
# 3. Unless QUERENT_ADMIN_DSN and QUERENT_ALICE_DSN are given (postgresql://USER:PW@HOST:PORT/DB
#    of a running Querent, trusted and guarded user), loads the retail dataset into
#    querent_retail if missing, builds Querent (cargo build) and starts
#    `target/debug/querent serve` with the flags the tests use (--policies policies --schemas
#    schemas --auth scram --users FILE, alice = analyst_west region_id=3, admin = admin).
# 4. Logs in (/api/v1/security/login + /api/v1/security/csrf_token/), registers one database
#    per Querent user, and per database: SQL Lab runs SELECT * FROM ask('revenue by region in
#    2024') (admin: 5 rows; alice: East only) and ask_followups()/ask_insights() (alice's
#    insights name no hidden region), a virtual dataset with that SQL is created, a bar
#    chart (sum of revenue by region) is saved on it and its data fetched. Also reports what
#    SQL Lab says to the statement form ASK '...'.
# Prints PASS/FAIL lines; exits 1 if any check failed, 2 if setup (install, start) failed.
# Needs: python3 (3.10/3.11), PyPI, PostgreSQL on 127.0.0.1:5432 (user root), cargo.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
SUPERSET_VERSION="${SUPERSET_VERSION:-5.0.0}"
VENV="${SUPERSET_VENV:-/tmp/superset-venv}"
WORK="$(mktemp -d /tmp/superset-check.XXXXXX)"
PIDS=()

say() { echo "superset-check: $*"; }
die() { echo "superset-check: SETUP FAILED: $*"; exit 2; }
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { # host port seconds
    for _ in $(seq 1 "$(( $3 * 4 ))"); do
        (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
        sleep 0.25
    done
    return 1
}

# ---- 1. Superset into a venv ---------------------------------------------------------------
# Superset 5.0.0's own metadata does not bound marshmallow: pip picks marshmallow 4, and
# `superset db upgrade` then dies with "TypeError: Field.__init__() got an unexpected keyword
# argument 'minLength'" (superset/charts/schemas.py). marshmallow 3 and a marshmallow-sqlalchemy
# that accepts it fix that.
PIP_PKGS=("apache-superset==$SUPERSET_VERSION" 'marshmallow>=3.20,<4' 'marshmallow-sqlalchemy>=1,<1.5' 'psycopg2-binary>=2.9,<3')
if [ -x "$VENV/bin/superset" ] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('apache-superset') != '$SUPERSET_VERSION' or m.version('marshmallow')[0] != '3')" 2>/dev/null \
    && "$VENV/bin/python" -c 'import psycopg2' 2>/dev/null; then
    say "apache-superset $SUPERSET_VERSION present in $VENV"
else
    say "pip install ${PIP_PKGS[*]} into $VENV"
    started=$SECONDS
    "$PYTHON" -m venv "$VENV" || die "python3 -m venv $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PIP_PKGS[@]}" >"$WORK/pip.log" 2>&1 \
        || { tail -n 30 "$WORK/pip.log"; die "pip install apache-superset==$SUPERSET_VERSION (log above)"; }
    say "installed in $(( SECONDS - started ))s"
fi

# ---- 2. Superset's metadata DB and server ----------------------------------------------------
export SUPERSET_CONFIG_PATH="$WORK/superset_config.py" FLASK_APP=superset
cat >"$SUPERSET_CONFIG_PATH" <<EOF
SECRET_KEY = "superset-check-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SQLALCHEMY_DATABASE_URI = "sqlite:///$WORK/superset.db"
EOF
SS_PW="check-$RANDOM$RANDOM"
started=$SECONDS
"$VENV/bin/superset" db upgrade >"$WORK/db-upgrade.log" 2>&1 || { tail -n 20 "$WORK/db-upgrade.log"; die "superset db upgrade"; }
"$VENV/bin/superset" fab create-admin --username admin --firstname Check --lastname Run \
    --email admin@example.invalid --password "$SS_PW" >"$WORK/create-admin.log" 2>&1 \
    || { tail -n 20 "$WORK/create-admin.log"; die "superset fab create-admin"; }
"$VENV/bin/superset" init >"$WORK/init.log" 2>&1 || { tail -n 20 "$WORK/init.log"; die "superset init"; }
say "metadata DB initialised in $(( SECONDS - started ))s"
SS_PORT="$(free_port)"
"$VENV/bin/superset" run -h 127.0.0.1 -p "$SS_PORT" --with-threads >"$WORK/superset.log" 2>&1 &
PIDS+=($!)

# ---- 3. Querent -------------------------------------------------------------------------------
if [ -n "${QUERENT_ADMIN_DSN:-}" ] && [ -n "${QUERENT_ALICE_DSN:-}" ]; then
    say "using the running Querent: QUERENT_ADMIN_DSN / QUERENT_ALICE_DSN"
else
    loaded="$(psql -XAt -h 127.0.0.1 -p 5432 -U root -d querent_retail -c "SELECT to_regclass('retail.returns') IS NOT NULL" 2>/dev/null)"
    if [ "$loaded" != "t" ]; then
        say "loading the retail dataset into querent_retail"
        psql -XAtq -h 127.0.0.1 -p 5432 -U root -d postgres -c "CREATE DATABASE querent_retail" 2>/dev/null
        psql -Xq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 5432 -U root -d querent_retail \
            -f "$ROOT/../shared/bench/retail/retail.sql" >/dev/null || die "loading retail.sql"
    fi
    (cd "$ROOT" && cargo build -q --bin querent) || die "cargo build"
    Q="$ROOT/target/debug/querent"
    "$Q" user add alice --users "$WORK/users.toml" --password wonderland-ss --role analyst_west --attr region_id=3 >/dev/null 2>&1 || die "querent user add alice"
    "$Q" user add admin --users "$WORK/users.toml" --password admin-ss --role admin >/dev/null 2>&1 || die "querent user add admin"
    Q_PORT="$(free_port)"
    (cd "$ROOT" && exec "$Q" serve --listen "127.0.0.1:$Q_PORT" --admin-listen "127.0.0.1:$(free_port)" \
        --upstream postgres://root@127.0.0.1:5432/test --policies policies --schemas schemas \
        --auth scram --users "$WORK/users.toml") >"$WORK/querent.log" 2>&1 &
    PIDS+=($!)
    wait_port 127.0.0.1 "$Q_PORT" 20 || { tail -n 20 "$WORK/querent.log"; die "querent did not start"; }
    QUERENT_ADMIN_DSN="postgresql://admin:admin-ss@127.0.0.1:$Q_PORT/querent_retail"
    QUERENT_ALICE_DSN="postgresql://alice:wonderland-ss@127.0.0.1:$Q_PORT/querent_retail"
    say "querent on 127.0.0.1:$Q_PORT (log $WORK/querent.log)"
fi

wait_port 127.0.0.1 "$SS_PORT" 120 || { tail -n 30 "$WORK/superset.log"; die "superset did not start"; }
say "superset $SUPERSET_VERSION on 127.0.0.1:$SS_PORT"

# ---- 4. Through Superset's REST API ------------------------------------------------------------
SS_URL="http://127.0.0.1:$SS_PORT" SS_PW="$SS_PW" QUERENT_ADMIN_DSN="$QUERENT_ADMIN_DSN" \
    QUERENT_ALICE_DSN="$QUERENT_ALICE_DSN" "$VENV/bin/python" "$ROOT/scripts/superset_check.py"
rc=$?
if [ $rc -ne 0 ]; then
    say "superset log tail:"; tail -n 40 "$WORK/superset.log"
    [ -f "$WORK/querent.log" ] && { say "querent log tail:"; tail -n 20 "$WORK/querent.log"; }
fi
exit $rc
