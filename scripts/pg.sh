#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster in a temp dir, on a free port of 127.0.0.1, with
# durability off (fsync etc.) since it lives for one test run only.
#
#   bash scripts/pg.sh CMD ARGS...   run CMD with DATABASE_URL pointing at a fresh database
#                                    "yingji", then stop the cluster and remove it, e.g.
#                                    bash scripts/pg.sh .venv/bin/pytest -q -m postgres_only
#   source scripts/pg.sh             define pg_start / pg_stop (scripts/test.sh does this)
#
# PostgreSQL refuses to run as root: as root the cluster belongs to the "postgres" user
# (runuser); as anyone else it simply runs as that user.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=""
PG_PORT=""
PG_URL=""

_pg_owner() {  # run a command as the cluster's owner, from a directory it can read
    if ((EUID == 0)); then
        (cd "$PG_DIR" && runuser -u postgres -- "$@")
    else
        (cd "$PG_DIR" && "$@")
    fi
}

_pg_free_port() {
    local py=python3
    [[ -x .venv/bin/python ]] && py=.venv/bin/python
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Start a cluster and create the database "yingji"; sets PG_DIR, PG_PORT and PG_URL.
# Returns non-zero (after printing the server log) if it cannot start; call pg_stop anyway.
pg_start() {
    if [[ ! -x $PG_BIN/initdb || ! -x $PG_BIN/pg_ctl ]]; then
        echo "pg: no PostgreSQL 15 in $PG_BIN (run: bash scripts/system-deps.sh)" >&2
        return 1
    fi
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/yingji-pg.XXXXXX") || return 1
    if ((EUID == 0)); then
        chown postgres: "$PG_DIR" || return 1
    fi
    if ! _pg_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-locale -E UTF8 \
        >"$PG_DIR/initdb.log" 2>&1; then
        echo "pg: initdb failed:" >&2
        cat "$PG_DIR/initdb.log" >&2
        return 1
    fi
    local attempt
    for attempt in 1 2 3; do  # the free port could be taken before the server binds it
        PG_PORT=$(_pg_free_port) || return 1
        if _pg_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 \
            -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null; then
            break
        fi
        echo "pg: start on port $PG_PORT failed (attempt $attempt)" >&2
        PG_PORT=""
    done
    if [[ -z $PG_PORT ]]; then
        cat "$PG_DIR/log" >&2 || true
        return 1
    fi
    if ! "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres yingji; then
        echo "pg: createdb failed" >&2
        return 1
    fi
    PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/yingji"
    echo "pg: PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}') on 127.0.0.1:$PG_PORT, data in $PG_DIR"
}

# Stop the cluster (if running) and remove its directory; safe to call more than once.
pg_stop() {
    [[ -n $PG_DIR && -d $PG_DIR ]] || return 0
    if [[ -f $PG_DIR/data/postmaster.pid ]]; then
        _pg_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
            || _pg_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 \
            || echo "pg: could not stop the server in $PG_DIR" >&2
    fi
    rm -rf "$PG_DIR"
    echo "pg: stopped and removed $PG_DIR"
    PG_DIR=""
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    if (($# == 0)); then
        echo "usage: bash scripts/pg.sh COMMAND [ARGS...]" >&2
        exit 2
    fi
    trap pg_stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    pg_start
    rc=0
    DATABASE_URL=$PG_URL "$@" || rc=$?
    exit "$rc"
fi
