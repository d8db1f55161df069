#!/usr/bin/env bash
# A throw-away PostgreSQL 15 on 127.0.0.1 for the database tests.
#
#   scripts/postgres.sh start        -> prints PGTEST_DIR=<dir> and PGTEST_URL=<sqlalchemy url>
#                                       (the superuser), PGTEST_OWNER_URL and PGTEST_APP_URL
#   scripts/postgres.sh stop <dir>   -> stops that server and deletes its folder
#
# Role separation, as a site sets it up: the database "caliper" is owned by the role
# caliper_owner, which runs the migrations (`caliper db init --app-role caliper_app`
# grants the application role its rights after each upgrade); workstations connect as
# caliper_app, which may read and append to the audit trail but cannot UPDATE, DELETE or
# TRUNCATE it, nor disable or drop its triggers (storage/db/roles.py).
# Installs the Debian "postgresql" package when initdb is missing (apt-get; needs
# root).  The cluster lives in a fresh /tmp folder, listens on a free loopback port
# with trust authentication and no fsync (tests only), and runs as the "postgres"
# user when this script runs as root (PostgreSQL refuses to run as root).
# Exit codes: 0 ok, 3 PostgreSQL cannot be installed, 1 anything else.
set -euo pipefail

PG_VERSION="${PG_VERSION:-15}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/${PG_VERSION}/bin}"

log() { echo "postgres.sh: $*" >&2; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

install_postgres() {
    [ -x "$PG_BIN/initdb" ] && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        log "PostgreSQL $PG_VERSION is not installed at $PG_BIN and cannot be installed (needs root and apt-get)"
        return 3
    fi
    log "installing the postgresql package"
    if ! apt-get install -y -o DPkg::Lock::Timeout=600 postgresql >&2; then
        apt-get update -o DPkg::Lock::Timeout=600 >&2 || true
        apt-get install -y -o DPkg::Lock::Timeout=600 postgresql >&2 || return 3
    fi
    [ -x "$PG_BIN/initdb" ] || { log "postgresql installed but $PG_BIN/initdb is missing"; return 3; }
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

create_roles() {
    local dir="$1" port="$2"
    as_owner "$PG_BIN/psql" -h "$dir/socket" -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 >&2 <<'SQL'
CREATE ROLE caliper_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE caliper_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE caliper OWNER caliper_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
    as_owner "$PG_BIN/psql" -h "$dir/socket" -p "$port" -U postgres -d caliper -q -v ON_ERROR_STOP=1 >&2 <<'SQL'
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO caliper_owner;
SQL
}

start() {
    install_postgres || exit 3
    local dir port
    dir="$(mktemp -d /tmp/caliper-pg.XXXXXX)"
    chmod 755 "$dir"
    mkdir -p "$dir/data" "$dir/socket"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
    as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    for attempt in 1 2 3; do
        port="$(free_port)"
        if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
            start >&2; then
            create_roles "$dir" "$port" || { cat "$dir/server.log" >&2; exit 1; }
            echo "PGTEST_DIR=$dir"
            echo "PGTEST_URL=postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
            echo "PGTEST_OWNER_URL=postgresql+psycopg://caliper_owner@127.0.0.1:$port/caliper"
            echo "PGTEST_APP_URL=postgresql+psycopg://caliper_app@127.0.0.1:$port/caliper"
            return 0
        fi
        log "start on port $port failed (attempt $attempt)"
    done
    cat "$dir/server.log" >&2 || true
    exit 1
}

stop() {
    local dir="${1:?usage: postgres.sh stop DIR}"
    case "$dir" in /tmp/caliper-pg.*) ;; *) log "refusing to remove $dir"; exit 1 ;; esac
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) shift; stop "$@" ;;
    *) echo "usage: $0 start | stop DIR" >&2; exit 1 ;;
esac
