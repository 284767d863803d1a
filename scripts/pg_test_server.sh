#!/usr/bin/env bash
# Throwaway PostgreSQL server for tests.
#
#   scripts/pg_test_server.sh start    # prints the SQLAlchemy URL on stdout
#   scripts/pg_test_server.sh url      # URL of the running server (exit 1 if none)
#   scripts/pg_test_server.sh status   # exit 0 if running
#   scripts/pg_test_server.sh stop     # stops it and deletes its files
#   scripts/pg_test_server.sh restart  # stop + start, same port and data (chaos tests)
#
# State lives in $PG_TEST_DIR (default /tmp/handoff-pg-test): data dir, unix
# socket, log, port and password. `start` is idempotent (a running server is
# reused); `stop` is idempotent too. The server listens on 127.0.0.1 only,
# on a free port (or $PG_TEST_PORT), with fsync off: test data only.
#
# Needs the Debian `postgresql` package; when run as root and it is missing,
# it is installed (apt-get update once, then apt-get install). PostgreSQL
# refuses to run as root, so as root the server runs as user `postgres`.
set -euo pipefail

DIR="${PG_TEST_DIR:-/tmp/handoff-pg-test}"
DB="${PG_TEST_DB:-handoff_test}"
PGUSER_NAME="postgres"

log() { echo "pg_test_server: $*" >&2; }

find_bindir() {
    local d
    # Newest installed major version first.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
    done
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"; return 0
    fi
    return 1
}

ensure_installed() {
    if find_bindir >/dev/null; then return 0; fi
    if [[ $(id -u) -ne 0 ]]; then
        log "PostgreSQL is not installed and we are not root (apt-get install -y postgresql)"
        return 1
    fi
    log "installing PostgreSQL (apt-get)…"
    export DEBIAN_FRONTEND=noninteractive
    # The package's own cluster must not be started in a container.
    apt-get update -qq >&2 || true
    apt-get install -y -qq --no-install-recommends postgresql >&2
    find_bindir >/dev/null
}

ensure_owner_user() {
    if ! id "$PGUSER_NAME" >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash "$PGUSER_NAME"
    fi
}

# Run a command as the server's owner (postgres when we are root).
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        ensure_owner_user
        runuser -u "$PGUSER_NAME" -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 - <<'PY' 2>/dev/null || echo 54329
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

url() {
    [[ -f "$DIR/port" && -f "$DIR/password" ]] || return 1
    echo "postgresql+psycopg2://${PGUSER_NAME}:$(cat "$DIR/password")@127.0.0.1:$(cat "$DIR/port")/${DB}"
}

is_running() {
    local bindir
    bindir=$(find_bindir) || return 1
    [[ -d "$DIR/data" ]] || return 1
    as_owner "$bindir/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

start() {
    ensure_installed
    local bindir port password
    bindir=$(find_bindir)
    mkdir -p "$DIR"
    if [[ $(id -u) -eq 0 ]]; then
        ensure_owner_user
        chown "$PGUSER_NAME" "$DIR"
    fi
    chmod 700 "$DIR"

    if is_running; then
        url
        return 0
    fi

    if [[ ! -f "$DIR/data/PG_VERSION" ]]; then
        rm -rf "$DIR/data"
        password=$(python3 -c 'import secrets; print(secrets.token_hex(12))' 2>/dev/null || echo "handoff-test")
        echo "$password" > "$DIR/password"
        chmod 600 "$DIR/password"
        if [[ $(id -u) -eq 0 ]]; then chown "$PGUSER_NAME" "$DIR/password"; fi
        as_owner "$bindir/initdb" -D "$DIR/data" -U "$PGUSER_NAME" --pwfile="$DIR/password" \
            -A scram-sha-256 -E UTF8 --locale=C --no-sync --no-instructions >"$DIR/initdb.log" 2>&1 \
            || { log "initdb failed:"; cat "$DIR/initdb.log" >&2; return 1; }
    fi

    port="${PG_TEST_PORT:-$(free_port)}"
    echo "$port" > "$DIR/port"
    mkdir -p "$DIR/sock"
    if [[ $(id -u) -eq 0 ]]; then chown "$PGUSER_NAME" "$DIR/sock" "$DIR/port"; fi
    # 9>&-: the server must not inherit (and hold) our lock file.
    as_owner "$bindir/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
        -o "-p $port -k $DIR/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
        start >/dev/null 9>&- \
        || { log "server did not start:"; tail -n 30 "$DIR/server.log" >&2; return 1; }

    # Create the test database (over the socket; idempotent).
    local exists
    exists=$(as_owner env PGPASSWORD="$(cat "$DIR/password")" "$bindir/psql" -h "$DIR/sock" -p "$port" -U "$PGUSER_NAME" \
        -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")
    if [[ "$exists" != "1" ]]; then
        as_owner env PGPASSWORD="$(cat "$DIR/password")" "$bindir/createdb" -h "$DIR/sock" -p "$port" -U "$PGUSER_NAME" "$DB"
    fi
    url
}

restart() {
    # Chaos in the scale test: the same server (port, data) stopped and started again;
    # every client connection is cut.
    local bindir
    bindir=$(find_bindir)
    as_owner "$bindir/pg_ctl" -D "$DIR/data" -m fast -w -t 60 restart >/dev/null 9>&- \
        || { log "restart failed:"; tail -n 30 "$DIR/server.log" >&2; return 1; }
    url
}

stop() {
    local bindir
    if bindir=$(find_bindir) && [[ -d "$DIR/data" ]]; then
        as_owner "$bindir/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    # Delete only what start() made, never a whole directory we were pointed at.
    rm -rf "$DIR/data" "$DIR/sock"
    rm -f "$DIR/port" "$DIR/password" "$DIR/server.log" "$DIR/initdb.log"
    rmdir "$DIR" 2>/dev/null || true
}

cmd="${1:-}"
case "$cmd" in
    start|stop|restart)
        # One start/stop at a time per state dir (parallel test sessions).
        mkdir -p "$(dirname "$DIR")"
        exec 9>"$DIR.lock"
        flock -w 120 9 || { log "lock timeout on $DIR.lock"; exit 1; }
        "$cmd"
        if [[ "$cmd" == stop ]]; then rm -f "$DIR.lock"; fi
        ;;
    url) url ;;
    status) is_running ;;
    *) echo "usage: $0 start|stop|url|status" >&2; exit 2 ;;
esac
