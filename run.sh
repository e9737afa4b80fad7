#!/usr/bin/env bash
# The one command to run crm-minimal locally.
#
#   ./run.sh           start PostgreSQL (if needed), migrate, run the API in the foreground
#   ./run.sh db        only start PostgreSQL and create the database; print the connection string
#   ./run.sh psql      open psql on the crm database (further arguments go to psql)
#   ./run.sh status    tell whether the local PostgreSQL runs, and where its data is
#   ./run.sh stop      stop the local PostgreSQL
#   ./run.sh reset     stop the local PostgreSQL and delete its data (the next start begins afresh)
#   ./run.sh shop-demo as ./run.sh, but the app also follows a demo shop database (`shop` on the
#                      same server, switched to wal_level = logical) into which a few orders a
#                      second are inserted while the app runs (see docs/SHOP.md)
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

# Progress goes to stderr: stdout carries only answers (db's connection string, psql's rows).
say() { printf '==> %s\n' "$*" >&2; }
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
        local sockdir
        sockdir="$(socket_dir_arg)"
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

# The local socket directory for pg_start, or "" when its path would be too long.
socket_dir_arg() {
    if pg_socket_dir_ok "$SOCKET_DIR"; then printf '%s\n' "$SOCKET_DIR"; fi
}

# Everything ./run.sh does before the app runs: PostgreSQL, the build, migrations, demo data.
prepare_app() {
    if pg_port_in_use "$HTTP_PORT"; then
        die "port $HTTP_PORT is already in use (another ./run.sh?). Set CRM_HTTP_PORT to use another one."
    fi
    ensure_postgres
    "$@"

    export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
    say "Building and migrating the database"
    dotnet run --project Crm.Api -c Release --no-launch-profile -- migrate ||
        die "migration failed (PostgreSQL keeps running; stop it with ./run.sh stop)."

    seed_demo_once
}

print_urls() {
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
}

# The app in the foreground until Ctrl-C; sets APP_RC.
APP_RC=0
run_app() {
    # A handler (not an ignore) so that Ctrl-C reaches the app but this script
    # survives to print the note below.
    trap ':' INT
    APP_RC=0
    dotnet run --project Crm.Api -c Release --no-build --no-launch-profile -- --urls "http://127.0.0.1:$HTTP_PORT" || APP_RC=$?
    trap - INT
}

cmd_start() {
    prepare_app
    print_urls
    run_app
    echo
    say "App stopped. PostgreSQL is still running on 127.0.0.1:$PORT; stop it with: ./run.sh stop"
    return "$APP_RC"
}

# ---- shop-demo: the app following a Django-shaped shop database on the same server ----

SHOP_DB=shop
SHOP_INSERTER_PID=""

# Logical replication needs wal_level = logical (a restart) and a slot and a WAL sender
# for the follower. Set with ALTER SYSTEM (postgresql.auto.conf), so they stay; plain
# ./run.sh works the same on such a server.
ensure_logical() {
    local wal slots senders changed=""
    wal="$(pg_psql "$PORT" "$PG_PASSWORD" -d postgres -tA -c "SHOW wal_level")"
    slots="$(pg_psql "$PORT" "$PG_PASSWORD" -d postgres -tA -c "SHOW max_replication_slots")"
    senders="$(pg_psql "$PORT" "$PG_PASSWORD" -d postgres -tA -c "SHOW max_wal_senders")"
    if [ "$wal" != logical ]; then
        pg_psql "$PORT" "$PG_PASSWORD" -d postgres -c "ALTER SYSTEM SET wal_level = logical" || die "could not set wal_level."
        changed="wal_level = logical (was $wal)"
    fi
    if [ "$slots" -lt 10 ]; then
        pg_psql "$PORT" "$PG_PASSWORD" -d postgres -c "ALTER SYSTEM SET max_replication_slots = 10" || die "could not set max_replication_slots."
        changed="${changed:+$changed, }max_replication_slots = 10 (was $slots)"
    fi
    if [ "$senders" -lt 10 ]; then
        pg_psql "$PORT" "$PG_PASSWORD" -d postgres -c "ALTER SYSTEM SET max_wal_senders = 10" || die "could not set max_wal_senders."
        changed="${changed:+$changed, }max_wal_senders = 10 (was $senders)"
    fi
    if [ -z "$changed" ]; then
        say "PostgreSQL already runs with wal_level = logical ($slots replication slots, $senders WAL senders)"
        return 0
    fi
    say "Restarting PostgreSQL on 127.0.0.1:$PORT for logical replication: $changed"
    say "(kept in $SHOWN/postgresql.auto.conf; connections of other programs to this server are cut)"
    pg_stop "$PGDATA_DIR" || die "could not stop PostgreSQL (see $SHOWN/server.log)."
    pg_start "$PGDATA_DIR" "$PORT" "$(socket_dir_arg)" || die "PostgreSQL did not start again (see $SHOWN/server.log)."
    wal="$(pg_psql "$PORT" "$PG_PASSWORD" -d postgres -tA -c "SHOW wal_level")"
    [ "$wal" = logical ] || die "PostgreSQL restarted with wal_level = $wal (see $SHOWN/server.log)."
}

# The shop's database as Django's migration for its Order model creates it
# (scripts/shop-orders-order.sql, shared with the tests and the bench).
ensure_shop_database() {
    if [ -z "$(pg_psql "$PORT" "$PG_PASSWORD" -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$SHOP_DB'")" ]; then
        say "Creating the demo shop's database $SHOP_DB"
        pg_psql "$PORT" "$PG_PASSWORD" -d postgres -c "CREATE DATABASE $SHOP_DB" ||
            die "could not create database $SHOP_DB."
    fi
    if [ "$(pg_psql "$PORT" "$PG_PASSWORD" -d "$SHOP_DB" -tA -c "SELECT to_regclass('public.orders_order') IS NULL")" = t ]; then
        say "Creating the shop's table $SHOP_DB.public.orders_order (Django's Order model)"
        pg_psql "$PORT" "$PG_PASSWORD" -d "$SHOP_DB" -c "$(cat "$ROOT/scripts/shop-orders-order.sql")" || die "could not create the shop's table."
    fi
}

# The shop's customers: a small pool, so the same people order again (name|phone|email|city|address).
SHOP_CUSTOMERS=(
    "Анна Кузнецова|+7 (916) 204-11-37|anna.kuznetsova@mail.ru|Москва|ул. Тверская, д. 12, кв. 45"
    "Дмитрий Смирнов|8 912 345 67 01|d.smirnov@yandex.ru|Екатеринбург|ул. Малышева, д. 5, кв. 17"
    "Елена Попова|+79261183402|elena.popova@gmail.com|Москва|Ленинский пр-т, д. 60, кв. 112"
    "Сергей Иванов|+7 921 555-20-14|ivanov.sergey@mail.ru|Санкт-Петербург|Невский пр-т, д. 88, кв. 3"
    "Ольга Васильева|8 (903) 771-09-52||Казань|ул. Баумана, д. 21, кв. 8"
    "Алексей Петров|+7 950 612 44 90|a.petrov@bk.ru|Новосибирск|Красный пр-т, д. 33, кв. 71"
    "Мария Соколова|+7 (987) 310-65-23|maria.sokolova@yandex.ru|Нижний Новгород|ул. Большая Покровская, д. 4, кв. 19"
    "Андрей Михайлов|89135028817|andrey.m@mail.ru|Красноярск|пр-т Мира, д. 47, кв. 5"
    "Татьяна Новикова|+7 962 404-38-16|t.novikova@gmail.com|Ростов-на-Дону|ул. Пушкинская, д. 101, кв. 26"
    "Иван Фёдоров|+7 (999) 120-77-45||Самара|ул. Ленинградская, д. 15, кв. 9"
    "Наталья Морозова|8 917 233 90 61|natalia.morozova@list.ru|Уфа|ул. Ленина, д. 28, кв. 40"
    "Михаил Волков|+7 929 845-12-03|m.volkov@yandex.ru|Воронеж|пр-т Революции, д. 9, кв. 14"
    "Юлия Алексеева|+79055561428|yulia.alekseeva@mail.ru|Москва|ул. Профсоюзная, д. 93, кв. 201"
    "Николай Лебедев|+7 (911) 702-35-88|n.lebedev@gmail.com|Санкт-Петербург|ул. Марата, д. 31, кв. 12"
    "Екатерина Семёнова|8 (937) 418-26-70|ekaterina.s@yandex.ru|Казань|ул. Пушкина, д. 52, кв. 33"
    "Павел Егоров|+7 953 290 11 56||Пермь|Комсомольский пр-т, д. 18, кв. 7"
    "Светлана Павлова|+7 960 377-48-29|svetlana.pavlova@mail.ru|Челябинск|пр-т Ленина, д. 64, кв. 58"
    "Артём Козлов|+7 (915) 866-03-41|artem.kozlov@gmail.com|Тула|ул. Советская, д. 7, кв. 2"
    "Ирина Степанова|89222144375|irina.stepanova@bk.ru|Тюмень|ул. Республики, д. 142, кв. 86"
    "Владимир Николаев|+7 982 531-67-90|v.nikolaev@yandex.ru|Омск|ул. Ленина, д. 20, кв. 11"
)
SHOP_STATUSES=(completed completed completed completed completed completed completed processing new cancelled)

# One tick of the shop: 1 to 4 new orders in one shop transaction, and the oldest unfinished
# order completed (an update) every few ticks.
shop_tick_sql() {
    local n i customer name phone email city address amount status
    n=$((1 + RANDOM % 4))
    printf 'BEGIN;\n'
    for ((i = 0; i < n; i++)); do
        customer="${SHOP_CUSTOMERS[RANDOM % ${#SHOP_CUSTOMERS[@]}]}"
        IFS='|' read -r name phone email city address <<<"$customer"
        amount="$((300 + RANDOM % 25000)).$(printf '%02d' $((RANDOM % 100)))"
        status="${SHOP_STATUSES[RANDOM % ${#SHOP_STATUSES[@]}]}"
        printf "INSERT INTO orders_order (customer_name, customer_phone, customer_email, delivery_city, delivery_address, total_amount, status, created_at, updated_at) VALUES ('%s', '%s', '%s', '%s', '%s', %s, '%s', now(), now());\n" \
            "$name" "$phone" "$email" "$city" "$address" "$amount" "$status"
    done
    printf 'COMMIT;\n'
    if [ $((RANDOM % 4)) -eq 0 ]; then
        printf "UPDATE orders_order SET status = 'completed', updated_at = now() WHERE id = (SELECT min(id) FROM orders_order WHERE status IN ('new', 'processing'));\n"
    fi
}

# In the background until stopped: a tick a second. A TERM ends it after the current tick.
start_shop_inserter() {
    (
        trap 'exit 0' TERM
        warned=""
        while :; do
            if ! shop_tick_sql | pg_psql "$PORT" "$PG_PASSWORD" -d "$SHOP_DB" >/dev/null 2>&1 && [ -z "$warned" ]; then
                printf 'run.sh: shop-demo: an insert into %s.orders_order failed; still trying every second\n' "$SHOP_DB" >&2
                warned=1
            fi
            sleep 1
        done
    ) </dev/null &
    SHOP_INSERTER_PID=$!
}

stop_shop_inserter() {
    if [ -n "$SHOP_INSERTER_PID" ]; then
        kill -TERM "$SHOP_INSERTER_PID" 2>/dev/null || true
        wait "$SHOP_INSERTER_PID" 2>/dev/null || true
        SHOP_INSERTER_PID=""
        say "Stopped inserting into the shop's orders_order."
    fi
}

cmd_shop_demo() {
    prepare_app shop_prepare
    local base="http://127.0.0.1:$HTTP_PORT"
    local shop="Host=127.0.0.1;Port=$PORT;Database=$SHOP_DB;Username=postgres;Password=$PG_PASSWORD"
    print_urls
    cat <<EOF
  Shop demo    the app follows the shop's database by logical replication (docs/SHOP.md):
  Shop DB      $shop
               (Crm__Shop__ConnectionString; ./run.sh psql -d $SHOP_DB opens it)
  Inserting    1 to 4 orders a second into $SHOP_DB.orders_order, 20 repeating customers,
               while the app runs; ${SHOP_DB}'s existing rows are copied first

  Watch:  curl -s $base/api/shop                      # state (snapshotting → following), counts, lag
          curl -s $base/api/shop/rejections           # shop rows skipped as invalid
          curl -s '$base/api/orders?pageSize=5'         # newest orders: "source":"shop"
          curl -s '$base/api/customers?ordering=-lastOrderDate&pageSize=5'
          $base/hangfire                         # the sync jobs the shop's orders cause

  The slot crm_shop_orders stays on this server after the app stops and keeps WAL until the
  follower runs again (docs/SHOP.md, "What a slot costs").

EOF
    trap 'stop_shop_inserter' EXIT
    start_shop_inserter
    say "Inserting into $SHOP_DB.orders_order in the background (pid $SHOP_INSERTER_PID)"
    export Crm__Shop__ConnectionString="$shop"
    run_app
    echo
    stop_shop_inserter
    trap - EXIT
    say "App stopped. PostgreSQL is still running on 127.0.0.1:$PORT; stop it with: ./run.sh stop"
    return "$APP_RC"
}

shop_prepare() {
    ensure_logical
    ensure_shop_database
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
    shop-demo) cmd_shop_demo ;;
    -h|--help|help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$1' (try ./run.sh --help)" ;;
esac
