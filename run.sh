#!/usr/bin/env bash
# The one command to run crm-minimal locally.
#
#   ./run.sh           start PostgreSQL (if needed), migrate, run the API in the foreground
#   ./run.sh db        only start PostgreSQL and create the database; print the connection string
#   ./run.sh psql      open psql on the crm database (further arguments go to psql)
#   ./run.sh status    tell whether the local PostgreSQL runs, and where its data is
#   ./run.sh stop      stop the local PostgreSQL
#   ./run.sh reset     stop the local PostgreSQL and delete its data (the next start begins afresh)
#
# PostgreSQL data lives in .data/pg (git-ignored) and survives between runs; the server
# keeps running after the app stops. As root in a checkout the postgres user cannot reach
# (a clone under /root, a mktemp -d directory), it lives instead in the postgres user's
# home, in crm-minimal/<checkout name>-<hash of the checkout's path>/pg; every command
# finds it again from the checkout's path. Environment overrides:
#   CRM_PG_PORT    PostgreSQL port (default 5433; remembered next to the data, in pg.port)
#   CRM_HTTP_PORT  HTTP port of the API (default 5080)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
# shellcheck source=scripts/pg.sh
. "$ROOT/scripts/pg.sh"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Set by locate_data.
DATA_ROOT=""
PGDATA_DIR=""
PORT_FILE=""
SOCKET_DIR=""
SHOWN=""
PG_PASSWORD=crm
DB_NAME=crm
HTTP_PORT="${CRM_HTTP_PORT:-5080}"
PORT=""

say() { printf '==> %s\n' "$*"; }
die() { printf 'run.sh: ERROR: %s\n' "$*" >&2; exit 1; }

# Outside the checkout: the server user's home, one directory per checkout path, so two
# checkouts never share a cluster.
outside_data_root() {
    local home name hash
    home="$(getent passwd "$PG_SERVER_USER" | cut -d: -f6)"
    if [ -z "$home" ] || [ ! -d "$home" ]; then
        die "OS user '$PG_SERVER_USER' has no home directory to keep PostgreSQL's data in."
    fi
    name="$(basename "$ROOT" | tr -c 'A-Za-z0-9._\n-' '_')"
    hash="$(printf '%s' "$(pwd -P)" | sha256sum | cut -c1-12)"
    printf '%s/crm-minimal/%s-%s\n' "$home" "$name" "$hash"
}

# .data/ of the checkout, unless we are root and the server user cannot reach it: then
# outside_data_root. An existing cluster is found where it is, whichever that is.
locate_data() {
    local outside
    DATA_ROOT="$ROOT/.data"
    if [ "$(id -u)" -eq 0 ] && [ ! -f "$DATA_ROOT/pg/PG_VERSION" ]; then
        outside="$(outside_data_root)"
        if [ -f "$outside/pg/PG_VERSION" ]; then
            DATA_ROOT="$outside"
        elif [ -d "$DATA_ROOT" ] && ! pg_can_reach "$DATA_ROOT"; then
            DATA_ROOT="$outside"
        elif ! pg_can_reach "$ROOT"; then
            DATA_ROOT="$outside"
        fi
    fi
    PGDATA_DIR="$DATA_ROOT/pg"
    PORT_FILE="$DATA_ROOT/pg.port"
    SOCKET_DIR="$DATA_ROOT/pg-socket"
    SHOWN="${PGDATA_DIR#"$ROOT/"}"
}

# The directory holding the data dir: owned by the server user when outside the checkout,
# with a note saying which checkout it belongs to.
prepare_data_root() {
    if [ "$DATA_ROOT" = "$ROOT/.data" ]; then
        [ -d "$DATA_ROOT" ] || mkdir -m 755 "$DATA_ROOT"
        return 0
    fi
    say "OS user '$PG_SERVER_USER' cannot reach this checkout; PostgreSQL's data goes to $DATA_ROOT"
    if ! pg_prepare_dir "$(dirname "$DATA_ROOT")" || ! pg_prepare_dir "$DATA_ROOT"; then
        die "could not create $DATA_ROOT."
    fi
    printf '%s\n' "$(pwd -P)" >"$DATA_ROOT/checkout"
}

# Start the local server (or find the one already running) and set PORT.
ensure_postgres() {
    pg_ensure_installed || die "PostgreSQL is not available."
    locate_data

    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        if [ -d "$PGDATA_DIR" ] && [ -n "$(ls -A "$PGDATA_DIR" 2>/dev/null)" ]; then
            die "$PGDATA_DIR exists but is not a PostgreSQL data directory; remove it and retry."
        fi
        prepare_data_root
        say "Initialising PostgreSQL data directory $PGDATA_DIR (first run)"
        pg_init_cluster "$PGDATA_DIR" "$PG_PASSWORD" || die "initdb failed."
    fi

    if pg_is_running "$PGDATA_DIR"; then
        PORT="$(pg_running_port "$PGDATA_DIR")"
        say "PostgreSQL already running on 127.0.0.1:$PORT (reusing it; data: $SHOWN)"
    else
        local wanted
        if [ -n "${CRM_PG_PORT:-}" ]; then
            wanted="$CRM_PG_PORT"
        elif [ -s "$PORT_FILE" ]; then
            wanted="$(tr -d '[:space:]' <"$PORT_FILE")"
        else
            wanted=5433
        fi
        PORT="$wanted"
        if pg_port_in_use "$PORT"; then
            PORT="$(pg_free_port $((wanted + 1)))" || die "no free port for PostgreSQL."
            say "Port $wanted is taken by another program; using $PORT instead (remembered in ${PORT_FILE#"$ROOT/"})"
        fi
        local sockdir=""
        if pg_socket_dir_ok "$SOCKET_DIR"; then sockdir="$SOCKET_DIR"; fi
        say "Starting PostgreSQL on 127.0.0.1:$PORT (data: $SHOWN, log: $SHOWN/server.log)"
        pg_start "$PGDATA_DIR" "$PORT" "$sockdir" || die "PostgreSQL did not start."
    fi
    printf '%s\n' "$PORT" >"$PORT_FILE"

    if [ -z "$(pg_psql "$PORT" "$PG_PASSWORD" -d postgres -tA \
            -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
        say "Creating database $DB_NAME"
        pg_psql "$PORT" "$PG_PASSWORD" -d postgres -c "CREATE DATABASE $DB_NAME" ||
            die "could not create database $DB_NAME."
    fi

    export ConnectionStrings__Crm="Host=127.0.0.1;Port=$PORT;Database=$DB_NAME;Username=postgres;Password=$PG_PASSWORD"
}

# Demo data on the first start (an empty orders table), so a newcomer sees customers of
# every category at once. Later starts keep whatever the database holds.
seed_demo_once() {
    local has_orders
    has_orders="$(pg_psql "$PORT" "$PG_PASSWORD" -d "$DB_NAME" -tA -c "SELECT EXISTS (SELECT 1 FROM orders)")"
    if [ "$has_orders" = "f" ]; then
        say "Loading demo orders (first start; CRM_DEMO_ORDERS=${CRM_DEMO_ORDERS:-2000})"
        dotnet run --project Crm.Api -c Release --no-build --no-launch-profile -- seed-demo --orders "${CRM_DEMO_ORDERS:-2000}" ||
            die "loading demo data failed."
    fi
}

cmd_start() {
    if pg_port_in_use "$HTTP_PORT"; then
        die "port $HTTP_PORT is already in use (another ./run.sh?). Set CRM_HTTP_PORT to use another one."
    fi
    ensure_postgres

    export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
    say "Building and migrating the database"
    dotnet run --project Crm.Api -c Release --no-launch-profile -- migrate ||
        die "migration failed (PostgreSQL keeps running; stop it with ./run.sh stop)."

    seed_demo_once

    local base="http://127.0.0.1:$HTTP_PORT"
    cat <<EOF

  API          $base/api/customers
  Scalar       $base/scalar
  Dashboard    $base/hangfire
  OpenAPI      $base/openapi/v1.json
  Health       $base/health/ready
  Metrics      $base/metrics
  PostgreSQL   $ConnectionStrings__Crm
  Its data     $SHOWN

  Try:  curl -s '$base/api/customers?category=vip&ordering=-totalSpent&pageSize=3'
        curl -s $base/api/categories

  Press Ctrl-C to stop the app. PostgreSQL keeps running afterwards; stop it with: ./run.sh stop

EOF
    # A handler (not an ignore) so that Ctrl-C reaches the app but this script
    # survives to print the note below.
    trap ':' INT
    local rc=0
    dotnet run --project Crm.Api -c Release --no-build --no-launch-profile -- --urls "$base" || rc=$?
    trap - INT
    echo
    say "App stopped. PostgreSQL is still running on 127.0.0.1:$PORT; stop it with: ./run.sh stop"
    return "$rc"
}

cmd_db() {
    ensure_postgres
    say "PostgreSQL is ready. Connection string (ConnectionStrings__Crm):"
    printf '%s\n' "$ConnectionStrings__Crm"
}

cmd_psql() {
    ensure_postgres
    PGPASSWORD="$PG_PASSWORD" exec "$PG_BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d "$DB_NAME" "$@"
}

cmd_status() {
    pg_ensure_installed >/dev/null 2>&1 || { echo "PostgreSQL is not installed."; return 0; }
    locate_data
    if pg_is_running "$PGDATA_DIR"; then
        echo "PostgreSQL is running on 127.0.0.1:$(pg_running_port "$PGDATA_DIR") (data: $SHOWN)."
    elif [ -f "$PGDATA_DIR/PG_VERSION" ]; then
        echo "PostgreSQL is stopped (data: $SHOWN)."
    else
        echo "No local PostgreSQL data directory yet; ./run.sh creates it in $SHOWN."
    fi
}

cmd_stop() {
    pg_ensure_installed >/dev/null 2>&1 || { echo "PostgreSQL is not installed."; return 0; }
    locate_data
    if pg_is_running "$PGDATA_DIR"; then
        pg_stop "$PGDATA_DIR" || die "could not stop PostgreSQL (see $SHOWN/server.log)."
        say "PostgreSQL stopped (data kept in $SHOWN)."
    else
        say "PostgreSQL is not running (data: $SHOWN)."
    fi
}

cmd_reset() {
    cmd_stop
    # Only what run.sh put there: .data/ holds nothing else.
    if [ -d "$DATA_ROOT" ]; then
        rm -rf "$DATA_ROOT"
        say "Deleted $DATA_ROOT; the next ./run.sh starts with a new database."
    fi
}

case "${1:-start}" in
    start) cmd_start ;;
    db) cmd_db ;;
    psql) shift; cmd_psql "$@" ;;
    status) cmd_status ;;
    stop) cmd_stop ;;
    reset) cmd_reset ;;
    -h|--help|help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$1' (try ./run.sh --help)" ;;
esac
