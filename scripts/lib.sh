# Shared by scripts/test and the dev helpers: start and stop a throwaway PostgreSQL
# cluster and an SMTP sink, loopback only. Sourced, not run.

# Finds PostgreSQL's server binaries, installing Debian's package when missing and root.
pg_bin_dir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$dir" ] && command -v initdb >/dev/null; then
        dir=$(dirname "$(readlink -f "$(command -v initdb)")")
    fi
    if [ -z "$dir" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "scripts: PostgreSQL is missing; installing it with apt-get" >&2
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) >&2 \
                || { echo "scripts: apt-get install postgresql failed" >&2; return 1; }
            dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
        fi
    fi
    [ -n "$dir" ] && [ -x "$dir/initdb" ] || {
        echo "scripts: no PostgreSQL server binaries (initdb, pg_ctl) found; install PostgreSQL" >&2
        return 1
    }
    echo "$dir"
}

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Runs a command as the unprivileged postgres user when we are root (initdb refuses root).
as_pg_user() {
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# pg_start DIR: initialises and starts a cluster in DIR; sets PG_URL and PG_DIR.
pg_start() {
    local bin port
    bin=$(pg_bin_dir) || return 1
    PG_DIR="$1"
    port=$(free_port)
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
        chmod 755 "$(dirname "$PG_DIR")"
        chown postgres "$PG_DIR"
    fi
    as_pg_user "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --no-sync -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log" >&2; return 1; }
    # Tests trade durability for speed; benchmarks (PG_DURABLE=1) keep the defaults.
    # PG_SETTINGS adds server settings (e.g. "-c shared_buffers=4GB"); later ones win.
    local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${PG_DURABLE:-0}" = 1 ] && durability=""
    as_pg_user "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR $durability -c max_connections=400 -c shared_buffers=256MB ${PG_SETTINGS:-}" >/dev/null \
        || { cat "$PG_DIR/server.log" >&2; return 1; }
    PG_BIN="$bin"
    PG_PORT="$port"
    PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
    export PG_URL PG_DIR PG_BIN PG_PORT
}

pg_stop() {
    [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ] || return 0
    as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
}

# smtp_start DIR: starts an aiosmtpd sink that writes each message into DIR/mail/*.eml;
# sets SMTP_URL and SMTP_MAILDIR.
smtp_start() {
    local dir="$1" port
    python3 -c 'import aiosmtpd' 2>/dev/null || pip install --quiet --disable-pip-version-check aiosmtpd >&2 \
        || { echo "scripts: cannot install aiosmtpd (pip install aiosmtpd)" >&2; return 1; }
    port=$(free_port)
    SMTP_MAILDIR="$dir/mail"
    mkdir -p "$SMTP_MAILDIR"
    python3 "$(dirname "${BASH_SOURCE[0]}")/smtp_sink.py" 127.0.0.1 "$port" "$SMTP_MAILDIR" >"$dir/smtp.log" 2>&1 &
    SMTP_PID=$!
    for _ in $(seq 1 100); do
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
        sleep 0.1
    done
    SMTP_URL="smtp://127.0.0.1:$port"
    export SMTP_URL SMTP_MAILDIR SMTP_PID
}

smtp_stop() {
    [ -n "${SMTP_PID:-}" ] && kill "$SMTP_PID" 2>/dev/null && wait "$SMTP_PID" 2>/dev/null
    return 0
}
