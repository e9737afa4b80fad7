# shellcheck shell=bash
# Shared PostgreSQL helpers for run.sh and test.sh. Source this file, do not execute it.
#
# Everything here works both as root (server processes then run as the `postgres`
# OS user, because PostgreSQL refuses to run as root) and as a normal user (the
# server runs as that user). Clients (psql, pg_isready) always connect over TCP
# to 127.0.0.1 with a password, so they never depend on socket permissions.
#
# Functions:
#   pg_find_bindir                 print the directory holding initdb/pg_ctl/postgres
#   pg_ensure_installed            find the binaries or install the Debian package; sets PG_BIN
#   pg_port_in_use PORT            true if something listens on TCP PORT
#   pg_free_port [FIRST]           print a free TCP port (scanning up from FIRST, random if omitted)
#   pg_can_reach DIR               true if the server user can traverse DIR and its parents
#   pg_prepare_dir DIR             create DIR, owned by the server user, mode 700
#   pg_init_cluster DIR PASSWORD [SETTING...]
#                                  initdb (UTF8, C.UTF-8) with superuser postgres/PASSWORD;
#                                  each SETTING ("name = value") is appended to postgresql.conf
#   pg_start DIR PORT SOCKDIR      start the server (SOCKDIR may be "" for TCP only); waits until ready
#   pg_wait_ready PORT [SECONDS]   wait until the server on PORT accepts connections (default 60 s)
#   pg_is_running DIR              true if a server is running on data dir DIR
#   pg_running_port DIR            print the port of the server running on DIR
#   pg_start_on_free_port DIR SOCKDIR
#                                  start on a free port (three tries, another port each time)
#                                  and print the port
#   pg_stop DIR                    stop the server on DIR if it runs (fast, then immediate)
#   pg_throwaway_cleanup           stop the server on $PGDATA_DIR and remove $WORK, the
#                                  throwaway scripts' globals (for their EXIT trap)
#   pg_psql PORT PASSWORD ARGS...  psql as postgres over TCP, ON_ERROR_STOP, no psqlrc
#   pg_socket_dir_ok DIR           true if a socket path in DIR fits the Unix 107-byte limit
#   pg_make_standby PRIMARY_PORT PASSWORD DIR
#                                  a base backup of the server on PRIMARY_PORT in DIR, set up as
#                                  its streaming standby (pg_basebackup -R); start it with pg_start
#   pg_make_synchronous PORT PASSWORD
#                                  the server on PORT waits for a standby to apply each commit
#                                  before acknowledging it (synchronous_commit = remote_apply)
#   pg_kill DIR                    kill -9 the postmaster on DIR: a server that dies, not one that stops
#   pg_promote DIR                 promote the standby on DIR to a primary; waits until it is one

PG_VERSION_WANTED="${PG_VERSION_WANTED:-15}"
PG_SERVER_USER="${PG_SERVER_USER:-postgres}"
PG_BIN="${PG_BIN:-}"

pg_log() { printf '[pg] %s\n' "$*" >&2; }

pg_find_bindir() {
    local d
    for d in "$PG_BIN" "/usr/lib/postgresql/$PG_VERSION_WANTED/bin"; do
        if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            printf '%s\n' "$d"
            return 0
        fi
    done
    # Any other installed major version, newest first.
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5 -rn); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            printf '%s\n' "$d"
            return 0
        fi
    done
    # Non-Debian layouts: initdb on PATH.
    if d="$(command -v initdb 2>/dev/null)" && [ -n "$d" ]; then
        d="$(dirname "$d")"
        if [ -x "$d/pg_ctl" ]; then
            printf '%s\n' "$d"
            return 0
        fi
    fi
    return 1
}

pg_ensure_installed() {
    if PG_BIN="$(pg_find_bindir)"; then
        return 0
    fi
    pg_log "PostgreSQL server binaries not found; installing the Debian package 'postgresql'."
    local -a sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            pg_log "ERROR: not root and sudo is not available. Install PostgreSQL $PG_VERSION_WANTED yourself (apt-get install postgresql)."
            return 1
        fi
        if [ -t 0 ]; then sudo=(sudo); else sudo=(sudo -n); fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        pg_log "ERROR: apt-get not found. Install PostgreSQL $PG_VERSION_WANTED server binaries and retry."
        return 1
    fi
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 ||
       ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2; then
        pg_log "ERROR: installing postgresql failed."
        return 1
    fi
    if ! PG_BIN="$(pg_find_bindir)"; then
        pg_log "ERROR: postgresql installed, but initdb/pg_ctl still not found."
        return 1
    fi
}

# Run a command as the OS user that owns the server (postgres when we are root).
# Runs from / so that an unreadable current directory does not matter.
pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        if ! id -u "$PG_SERVER_USER" >/dev/null 2>&1; then
            pg_log "ERROR: running as root, but OS user '$PG_SERVER_USER' does not exist (install the postgresql package)."
            return 1
        fi
        if command -v runuser >/dev/null 2>&1; then
            (cd / && runuser -u "$PG_SERVER_USER" -- "$@")
        else
            (cd / && su "$PG_SERVER_USER" -s /bin/sh -c "$(printf '%q ' "$@")")
        fi
    else
        (cd / && "$@")
    fi
}

pg_port_in_use() {
    local port="$1"
    if command -v ss >/dev/null 2>&1; then
        [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]
    else
        timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null
    fi
}

# Another server may take a port between the check and the start: try another one.
pg_start_on_free_port() {
    local dir="$1" sockdir="$2" attempt candidate
    for attempt in 1 2 3; do
        candidate="$(pg_free_port)" || return 1
        if pg_start "$dir" "$candidate" "$sockdir"; then
            printf '%s\n' "$candidate"
            return 0
        fi
        pg_log "start attempt $attempt on port $candidate failed; retrying on another port"
    done
    pg_log "ERROR: could not start the throwaway PostgreSQL server."
    return 1
}

# test.sh and the benchmarks keep their server in $PGDATA_DIR inside the temp dir $WORK.
pg_throwaway_cleanup() {
    if [ -n "${PGDATA_DIR:-}" ]; then
        pg_stop "$PGDATA_DIR" || pg_log "WARNING: could not stop the throwaway server in $PGDATA_DIR"
        PGDATA_DIR=""
    fi
    if [ -n "${WORK:-}" ]; then
        rm -rf "$WORK"
        WORK=""
    fi
}

pg_free_port() {
    local port="${1:-$((20000 + RANDOM % 20000))}" i
    for ((i = 0; i < 500; i++, port++)); do
        if [ "$port" -gt 65535 ]; then port=20000; fi
        if ! pg_port_in_use "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    pg_log "ERROR: no free TCP port found."
    return 1
}

pg_can_reach() {
    pg_as_owner test -x "$1"
}

pg_prepare_dir() {
    local dir="$1"
    mkdir -p "$dir" || return 1
    if [ "$(id -u)" -eq 0 ]; then
        chown "$PG_SERVER_USER:" "$dir" || return 1
    fi
    chmod 700 "$dir" || return 1
    if ! pg_as_owner test -w "$dir"; then
        pg_log "ERROR: OS user '$PG_SERVER_USER' cannot reach $dir (a parent directory is not traversable)."
        pg_log "       Make the parent directories world-executable (chmod o+x) or move the checkout."
        return 1
    fi
}

pg_socket_dir_ok() {
    [ -n "$1" ] && [ "$(printf '%s/.s.PGSQL.65535' "$1" | wc -c)" -le 100 ]
}

pg_init_cluster() {
    local dir="$1" password="$2" pwfile rc setting
    shift 2
    pg_prepare_dir "$dir" || return 1
    pwfile="$(mktemp)" || return 1
    printf '%s\n' "$password" >"$pwfile"
    if [ "$(id -u)" -eq 0 ]; then chown "$PG_SERVER_USER:" "$pwfile"; fi
    pg_as_owner "$PG_BIN/initdb" -D "$dir" --username=postgres --pwfile="$pwfile" \
        --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$dir.initdb.log" 2>&1
    rc=$?
    rm -f "$pwfile"
    if [ "$rc" -ne 0 ]; then
        pg_log "ERROR: initdb failed for $dir:"
        cat "$dir.initdb.log" >&2
        rm -f "$dir.initdb.log"
        return 1
    fi
    rm -f "$dir.initdb.log"
    # Static settings. Port and socket directory change per start; they live in
    # crm_runtime.conf, rewritten by pg_start and included last.
    {
        printf '\n# ---- added by scripts/pg.sh ----\n'
        printf "listen_addresses = '127.0.0.1'\n"
        printf 'unix_socket_permissions = 0700\n'
        for setting in "$@"; do printf '%s\n' "$setting"; done
        printf "include_if_exists = 'crm_runtime.conf'\n"
    } | pg_as_owner tee -a "$dir/postgresql.conf" >/dev/null
}

pg_start() {
    local dir="$1" port="$2" sockdir="$3"
    if [ -n "$sockdir" ]; then
        pg_prepare_dir "$sockdir" || return 1
    fi
    printf "port = %s\nunix_socket_directories = '%s'\n" "$port" "${sockdir//\'/\'\'}" |
        pg_as_owner tee "$dir/crm_runtime.conf" >/dev/null || return 1
    if ! pg_as_owner "$PG_BIN/pg_ctl" start -D "$dir" -l "$dir/server.log" -w -t 60 -s >/dev/null 2>&1; then
        pg_log "ERROR: PostgreSQL failed to start on port $port. Last lines of $dir/server.log:"
        tail -n 20 "$dir/server.log" >&2 2>/dev/null || true
        return 1
    fi
    pg_wait_ready "$port"
}

pg_wait_ready() {
    local port="$1" deadline=$((SECONDS + ${2:-60}))
    while ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            pg_log "ERROR: PostgreSQL on port $port not ready after ${2:-60} s."
            return 1
        fi
        sleep 0.2
    done
}

pg_is_running() {
    [ -f "$1/PG_VERSION" ] && pg_as_owner "$PG_BIN/pg_ctl" status -D "$1" >/dev/null 2>&1
}

pg_running_port() {
    # postmaster.pid: line 1 pid, line 4 port.
    sed -n '4p' "$1/postmaster.pid" 2>/dev/null | tr -d '[:space:]'
}

pg_stop() {
    local dir="$1"
    pg_is_running "$dir" || return 0
    pg_as_owner "$PG_BIN/pg_ctl" stop -D "$dir" -m fast -w -t 60 -s >/dev/null 2>&1 ||
        pg_as_owner "$PG_BIN/pg_ctl" stop -D "$dir" -m immediate -w -t 30 -s >/dev/null 2>&1
}

pg_psql() {
    local port="$1" password="$2"
    shift 2
    PGPASSWORD="$password" PGCONNECT_TIMEOUT=10 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$port" -U postgres "$@"
}

# The backup copies the primary's configuration, so the standby starts with the same
# settings; its port and socket come from pg_start. The password lands in the standby's
# primary_conninfo (postgresql.auto.conf, readable by the server user only).
pg_make_standby() {
    local primary_port="$1" password="$2" dir="$3"
    pg_prepare_dir "$dir" || return 1
    if ! pg_as_owner env PGPASSWORD="$password" "$PG_BIN/pg_basebackup" -D "$dir" -R -X stream -c fast \
            -h 127.0.0.1 -p "$primary_port" -U postgres >"$dir.basebackup.log" 2>&1; then
        pg_log "ERROR: pg_basebackup from port $primary_port failed:"
        cat "$dir.basebackup.log" >&2
        rm -f "$dir.basebackup.log"
        return 1
    fi
    rm -f "$dir.basebackup.log"
}

# Set with ALTER SYSTEM after the standby's backup was taken, so the standby does not inherit
# it: a promoted standby waiting for a standby of its own would hang every commit.
pg_make_synchronous() {
    local port="$1" password="$2"
    pg_psql "$port" "$password" -d postgres \
        -c "ALTER SYSTEM SET synchronous_standby_names = '*'" \
        -c "ALTER SYSTEM SET synchronous_commit = 'remote_apply'" \
        -c "SELECT pg_reload_conf()" >/dev/null
}

pg_kill() {
    local dir="$1" postmaster
    postmaster="$(head -n 1 "$dir/postmaster.pid" 2>/dev/null)" || return 1
    [ -n "$postmaster" ] || return 1
    kill -9 "$postmaster"
}

pg_promote() {
    pg_as_owner "$PG_BIN/pg_ctl" promote -D "$1" -w -t 60 -s
}
