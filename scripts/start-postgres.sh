#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on loopback for the tests, and print its URL.
#
#   scripts/start-postgres.sh [DATA_DIR] [PORT]     # defaults: a new /tmp dir, port 54329
#   scripts/start-postgres.sh --stop DATA_DIR
#
# It initdb's a cluster in DATA_DIR (unless one is there), starts it on 127.0.0.1:PORT with
# trust auth for loopback (tests only!), creates database llmlab_test and prints, as the
# last line on stdout:  postgresql+psycopg://postgres@127.0.0.1:PORT/llmlab_test
# Typical use:  export LLMLAB_TEST_PG_URL="$(scripts/start-postgres.sh | tail -n1)"
# PostgreSQL refuses to run as root: when run as root, the server runs as the OS user
# `postgres` (created if missing). PG_BIN overrides where initdb/pg_ctl are looked up.
set -euo pipefail

find_bin() {
    if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
    if [[ -n "$dir" ]]; then echo "$dir"; return; fi
    dirname "$(command -v initdb)"
}
BIN=$(find_bin)
[[ -x "$BIN/initdb" ]] || { echo "start-postgres: initdb not found (set PG_BIN)" >&2; exit 2; }

as_pg() {  # run a command as the server's OS user
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [[ "${1:-}" == "--stop" ]]; then
    as_pg "$BIN/pg_ctl" -D "${2:?usage: --stop DATA_DIR}" -m fast -w stop >&2
    exit 0
fi

DATA=${1:-$(mktemp -d /tmp/llmlab-pg.XXXXXX)}
PORT=${2:-54329}

if [[ $(id -u) -eq 0 ]]; then
    id -u postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent \
        --shell /usr/sbin/nologin postgres
    mkdir -p "$DATA"
    chown postgres "$DATA"
    chmod 700 "$DATA"
fi

if [[ ! -f "$DATA/PG_VERSION" ]]; then
    as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$DATA.initdb.log" 2>&1 || { cat "$DATA.initdb.log" >&2; exit 1; }
fi

if ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    # fsync off: a test server whose data may be lost on a crash, and much faster.
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start \
        -o "-h 127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off \
            -c full_page_writes=off -c max_connections=200" >&2 \
        || { cat "$DATA/server.log" >&2; exit 1; }
fi

if ! as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'llmlab_test'" | grep -q 1; then
    as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres llmlab_test
fi

echo "stop it with: $0 --stop $DATA" >&2
echo "postgresql+psycopg://postgres@127.0.0.1:${PORT}/llmlab_test"
