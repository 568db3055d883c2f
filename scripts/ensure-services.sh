#!/usr/bin/env bash
# Makes sure the services the tests talk to are up and set up as the tests expect:
# PostgreSQL on 127.0.0.1:5432 with role root (superuser), database test, and trust auth for
# loopback TCP; Redis on 127.0.0.1:6379 (the shared cache of ASK's model answers). Idempotent; run as root. Safe to run on a developer machine.
set -euo pipefail
say() { echo "ensure-services: $*"; }

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1; then
    say "installing postgresql-client"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q --no-install-recommends postgresql-client
fi

if ! pg_up; then
    ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1 || true)
    if [ -z "$ver" ]; then
        say "no PostgreSQL cluster on this machine; installing postgresql"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q && apt-get install -y -q postgresql
        ver=$(ls /etc/postgresql | sort -V | tail -n1)
    fi
    say "starting PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 1 50); do pg_up && break; sleep 0.2; done
fi
pg_up || { say "PostgreSQL did not come up on 127.0.0.1:5432"; exit 1; }

# Trust for loopback TCP, made explicit (a fresh machine may default to scram).
if ! psql -h 127.0.0.1 -U root -d test -XAtc 'select 1' >/dev/null 2>&1; then
    ver=$(ls /etc/postgresql | sort -V | tail -n1)
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
        say "adding trust for 127.0.0.1 to $hba"
        sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    fi
    su postgres -c "psql -XAtc \"select pg_reload_conf()\"" >/dev/null
    su postgres -c "psql -XAtc \"do \\\$\\\$ begin if not exists (select from pg_roles where rolname='root') then create role root superuser login; end if; end \\\$\\\$\"" >/dev/null
    su postgres -c "psql -XAtc \"select 1 from pg_database where datname='test'\"" | grep -q 1 \
        || su postgres -c "createdb -O root test"
fi
psql -h 127.0.0.1 -U root -d test -XAtc 'select 1' >/dev/null
say "PostgreSQL ready (root@127.0.0.1:5432/test, trust)"

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! command -v redis-server >/dev/null 2>&1; then
    say "installing redis-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q --no-install-recommends redis-server
fi
if ! redis_up; then
    say "starting Redis"
    redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no >/dev/null
    for _ in $(seq 1 50); do redis_up && break; sleep 0.2; done
fi
redis_up || { say "Redis did not come up on 127.0.0.1:6379"; exit 1; }
say "Redis ready (127.0.0.1:6379)"
