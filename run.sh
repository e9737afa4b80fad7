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
#   ./run.sh ha-demo   as ./run.sh, on two servers: the primary and a synchronous streaming
#                      standby of it on the next port; the app writes to whichever is the primary
#                      and reads from the standby (see docs/OPERATIONS.md, high availability demo)
#   ./run.sh failover  kill -9 the primary of ha-demo's pair and promote its standby (--stop:
#                      stop the primary cleanly instead); the running app finds the new primary
#   ./run.sh rejoin    make the old primary a standby of the new one (pg_rewind, else a new copy)
#
# PostgreSQL data lives in .data/pg (git-ignored) and survives between runs; the server
# keeps running after the app stops. As root in a checkout the postgres user cannot reach
# (a clone under /root, a mktemp -d directory), it lives instead in the postgres user's
# home, in crm-minimal/<checkout name>-<hash of the checkout's path>/pg; every command
# finds it again from the checkout's path. ha-demo adds pg-2 beside pg (its port in
# pg-2.port) and ha.primary, naming which of the two is the primary: every command follows
# it, and status, stop, psql and db know the pair. Environment overrides:
#   CRM_PG_PORT    port of the server in pg (default 5433; remembered next to the data, in pg.port)
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
SOCKET_DIR=""
SHOWN=""
# The two servers of ha-demo: data directories $DATA_ROOT/pg and $DATA_ROOT/pg-2. PRIMARY
# names the primary (pg unless ha.primary says otherwise), OTHER the other one.
PRIMARY=pg
OTHER=pg-2
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
    if [ "$(id -u)" -eq 0 ] && ! holds_data "$DATA_ROOT"; then
        outside="$(outside_data_root)"
        if holds_data "$outside"; then
            DATA_ROOT="$outside"
        elif [ -d "$DATA_ROOT" ] && ! pg_can_reach "$DATA_ROOT"; then
            DATA_ROOT="$outside"
        elif ! pg_can_reach "$ROOT"; then
            DATA_ROOT="$outside"
        fi
    fi
    PRIMARY=pg
    if [ -s "$DATA_ROOT/ha.primary" ]; then
        PRIMARY="$(tr -d '[:space:]' <"$DATA_ROOT/ha.primary")"
    fi
    case "$PRIMARY" in
        pg) OTHER=pg-2 ;;
        pg-2) OTHER=pg ;;
        *) die "$DATA_ROOT/ha.primary names '$PRIMARY'; it should name pg or pg-2." ;;
    esac
    PGDATA_DIR="$DATA_ROOT/$PRIMARY"
    # Both servers of a pair put their sockets here (the file names hold the port).
    SOCKET_DIR="$DATA_ROOT/pg-socket"
    SHOWN="$(shown "$PGDATA_DIR")"
}

# A data root in use: a cluster in pg, or a pair (whose pg may be being copied afresh).
holds_data() {
    [ -f "$1/pg/PG_VERSION" ] || [ -f "$1/ha.primary" ]
}

# A path as the messages show it: relative to the checkout when inside it.
shown() {
    printf '%s\n' "${1#"$ROOT/"}"
}

# ha-demo has made a pair here.
is_pair() {
    [ -f "$DATA_ROOT/ha.primary" ]
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

# Start the local server (or find the one already running) and set PORT. In a pair the
# standby starts too (STANDBY_ON_START=1): its primary waits for it at every commit.
STANDBY_ON_START=1
ensure_postgres() {
    pg_ensure_installed || die "PostgreSQL is not available."
    locate_data

    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        if is_pair; then
            die "$SHOWN, the primary named in $(shown "$DATA_ROOT/ha.primary"), holds no data; ./run.sh reset starts afresh."
        fi
        if [ -d "$PGDATA_DIR" ] && [ -n "$(ls -A "$PGDATA_DIR" 2>/dev/null)" ]; then
            die "$PGDATA_DIR exists but is not a PostgreSQL data directory; remove it and retry."
        fi
        prepare_data_root
        say "Initialising PostgreSQL data directory $PGDATA_DIR (first run)"
        pg_init_cluster "$PGDATA_DIR" "$PG_PASSWORD" || die "initdb failed."
    fi

    if is_pair; then
        start_node "$PRIMARY" "the primary" || die "the primary did not start."
    else
        start_node "$PRIMARY" PostgreSQL || die "PostgreSQL did not start."
    fi
    PORT="$NODE_PORT"
    if is_pair && [ "$STANDBY_ON_START" = 1 ]; then
        start_pair_standby
    fi

    if [ -z "$(pg_psql "$PORT" "$PG_PASSWORD" -d postgres -tA \
            -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
        say "Creating database $DB_NAME"
        pg_psql "$PORT" "$PG_PASSWORD" -d postgres -c "CREATE DATABASE $DB_NAME" ||
            die "could not create database $DB_NAME."
    fi

    export ConnectionStrings__Crm="Host=127.0.0.1;Port=$PORT;Database=$DB_NAME;Username=postgres;Password=$PG_PASSWORD"
}

# The port the server in $DATA_ROOT/NAME starts on: for pg CRM_PG_PORT, else the one it had,
# else 5433; for pg-2 the one it had, else the primary's next.
wanted_port() {
    local name="$1"
    if [ "$name" = pg ] && [ -n "${CRM_PG_PORT:-}" ]; then
        printf '%s\n' "$CRM_PG_PORT"
    elif [ -s "$DATA_ROOT/$name.port" ]; then
        tr -d '[:space:]' <"$DATA_ROOT/$name.port"
        echo
    elif [ "$name" = pg ]; then
        echo 5433
    else
        echo $((PORT + 1))
    fi
}

# Start the server on $DATA_ROOT/NAME (LABEL names it in the messages), or find it running.
# Sets NODE_PORT and remembers it in NAME.port. Fails if the server does not start.
NODE_PORT=""
start_node() {
    local name="$1" label="$2" dir="$DATA_ROOT/$1" wanted
    if pg_is_running "$dir"; then
        NODE_PORT="$(pg_running_port "$dir")"
        say "${label^} already running on 127.0.0.1:$NODE_PORT (reusing it; data: $(shown "$dir"))"
    else
        wanted="$(wanted_port "$name")"
        NODE_PORT="$wanted"
        if pg_port_in_use "$NODE_PORT"; then
            NODE_PORT="$(pg_free_port $((wanted + 1)))" || die "no free port for PostgreSQL."
            say "Port $wanted is taken by another program; using $NODE_PORT instead (remembered in $(shown "$DATA_ROOT/$name.port"))"
        fi
        say "Starting $label on 127.0.0.1:$NODE_PORT (data: $(shown "$dir"), log: $(shown "$dir")/server.log)"
        pg_start "$dir" "$NODE_PORT" "$(socket_dir_arg)" || return 1
    fi
    printf '%s\n' "$NODE_PORT" >"$DATA_ROOT/$name.port"
}

# The standby of a pair starts with its primary. An old primary not rejoined yet stays
# stopped: started as it is, it would be a second primary.
start_pair_standby() {
    local dir="$DATA_ROOT/$OTHER"
    if [ -f "$dir/standby.signal" ]; then
        start_node "$OTHER" "the standby" ||
            die "the standby did not start (see $(shown "$dir")/server.log); ./run.sh rejoin makes it again."
    elif [ -f "$dir/PG_VERSION" ]; then
        say "The old primary in $(shown "$dir") is not a standby yet: ./run.sh rejoin makes it one"
    fi
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

# ---- ha-demo, failover, rejoin: the app on a primary and a synchronous standby ----

# pg_rewind, which turns an old primary into a standby of the new one (rejoin), needs the
# old primary to have logged hint-bit changes (wal_log_hints, a restart) or data checksums,
# which initdb left off; and full_page_writes, on by default. wal_keep_size keeps the WAL
# a rewound server replays from the point where the two diverged.
ensure_rewindable() {
    local hints checksums fpw keep
    hints="$(pg_psql "$PORT" "$PG_PASSWORD" -d postgres -tA -c "SHOW wal_log_hints")"
    checksums="$(pg_psql "$PORT" "$PG_PASSWORD" -d postgres -tA -c "SHOW data_checksums")"
    fpw="$(pg_psql "$PORT" "$PG_PASSWORD" -d postgres -tA -c "SHOW full_page_writes")"
    keep="$(pg_psql "$PORT" "$PG_PASSWORD" -d postgres -tA -c "SELECT setting FROM pg_settings WHERE name = 'wal_keep_size'")"
    [ "$fpw" = on ] || die "full_page_writes is off on 127.0.0.1:$PORT; pg_rewind needs it on."
    if [ "$keep" = 0 ]; then
        pg_psql "$PORT" "$PG_PASSWORD" -d postgres -c "ALTER SYSTEM SET wal_keep_size = '256MB'" \
            -c "SELECT pg_reload_conf()" >/dev/null || die "could not set wal_keep_size."
    fi
    if [ "$hints" = on ] || [ "$checksums" = on ]; then
        return 0
    fi
    pg_psql "$PORT" "$PG_PASSWORD" -d postgres -c "ALTER SYSTEM SET wal_log_hints = on" || die "could not set wal_log_hints."
    say "Restarting PostgreSQL on 127.0.0.1:$PORT for wal_log_hints = on (pg_rewind needs it)"
    say "(kept in $SHOWN/postgresql.auto.conf; connections of other programs to this server are cut)"
    pg_stop "$PGDATA_DIR" || die "could not stop PostgreSQL (see $SHOWN/server.log)."
    pg_start "$PGDATA_DIR" "$PORT" "$(socket_dir_arg)" || die "PostgreSQL did not start again (see $SHOWN/server.log)."
    hints="$(pg_psql "$PORT" "$PG_PASSWORD" -d postgres -tA -c "SHOW wal_log_hints")"
    [ "$hints" = on ] || die "PostgreSQL restarted with wal_log_hints = $hints (see $SHOWN/server.log)."
}

# The WAL receiver's status on the server on PORT (streaming, …) if it receives from the
# primary on $PORT, else nothing.
receiver_status() {
    pg_psql "$1" "$PG_PASSWORD" -d postgres -tA \
        -c "SELECT status FROM pg_stat_wal_receiver WHERE sender_port = $PORT" 2>/dev/null || true
}

# True once the standby on PORT streams from the primary on $PORT; false after 60 s.
wait_streaming() {
    local port="$1" deadline=$((SECONDS + 60))
    until [ "$(receiver_status "$port")" = streaming ]; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

# A copy or a rewind brings the other server's log along with its files: start it empty.
empty_log() {
    : | pg_as_owner tee "$1/server.log" >/dev/null
}

# pg_rewind copies back from the new primary the blocks the old one changed after the two
# diverged, and its configuration; --write-recovery-conf makes it a standby of the new one.
# A server that was killed is first recovered by pg_rewind itself (single-user mode). A
# promoted server's control file names its new timeline only after a checkpoint; before
# one, pg_rewind finds both on the same timeline and rewinds nothing.
rewind_node() {
    local dir="$DATA_ROOT/$1" log="$DATA_ROOT/$1.rewind.log"
    pg_psql "$PORT" "$PG_PASSWORD" -d postgres -c "CHECKPOINT" >/dev/null || return 1
    say "Rewinding $(shown "$dir") onto the primary on 127.0.0.1:$PORT (pg_rewind; its output: $(shown "$log"))"
    pg_as_owner env PGPASSWORD="$PG_PASSWORD" "$PG_BIN/pg_rewind" --target-pgdata="$dir" \
        --source-server="host=127.0.0.1 port=$PORT user=postgres dbname=postgres" \
        --write-recovery-conf >"$log" 2>&1 || return 1
    empty_log "$dir"
}

# A new copy of the primary in $DATA_ROOT/NAME, whatever was there (pg_basebackup -R).
clone_node() {
    local dir="$DATA_ROOT/$1"
    pg_stop "$dir" || die "could not stop the server in $(shown "$dir")."
    rm -rf "$dir"
    say "Copying the primary on 127.0.0.1:$PORT into $(shown "$dir") (pg_basebackup -R)"
    pg_make_standby "$PORT" "$PG_PASSWORD" "$dir" || die "could not copy the primary."
    empty_log "$dir"
}

# Make $DATA_ROOT/NAME a streaming standby of the primary on $PORT, whatever it is now: a
# standby already (started if it is stopped), an old primary (rewound; copied afresh if that
# fails) or nothing yet (copied). Sets STANDBY_PORT.
STANDBY_PORT=""
make_standby() {
    local name="$1" dir="$DATA_ROOT/$1"
    if [ -f "$dir/standby.signal" ]; then
        if start_node "$name" "the standby" && wait_streaming "$NODE_PORT"; then
            STANDBY_PORT="$NODE_PORT"
            return 0
        fi
        say "The standby in $(shown "$dir") does not stream from the primary; copying the primary afresh"
    elif [ -f "$dir/PG_VERSION" ]; then
        pg_stop "$dir" || die "could not stop the server in $(shown "$dir")."
        if rewind_node "$name" && start_node "$name" "the rewound old primary" && wait_streaming "$NODE_PORT"; then
            STANDBY_PORT="$NODE_PORT"
            return 0
        fi
        say "pg_rewind did not make $(shown "$dir") a standby (see $(shown "$DATA_ROOT/$name.rewind.log") and its server.log); copying the primary afresh"
    fi
    clone_node "$name"
    start_node "$name" "the standby" || die "the standby did not start (see $(shown "$dir")/server.log)."
    wait_streaming "$NODE_PORT" || die "the standby does not stream from the primary (see $(shown "$dir")/server.log)."
    STANDBY_PORT="$NODE_PORT"
}

# The pair, then the app on both: writes go to whichever server is read-write (Npgsql tries
# the hosts and asks each), reads to the standby while there is one.
ha_prepare() {
    ensure_rewindable
    make_standby "$OTHER"
    printf '%s\n' "$PRIMARY" >"$DATA_ROOT/ha.primary"
    # After the copy, so that the standby does not inherit it: promoted, it would wait for a
    # standby of its own at every commit.
    pg_make_synchronous "$PORT" "$PG_PASSWORD" || die "could not make the primary synchronous."
    local hosts="Host=127.0.0.1:$PORT,127.0.0.1:$STANDBY_PORT;Database=$DB_NAME;Username=postgres;Password=$PG_PASSWORD;Host Recheck Seconds=1"
    export ConnectionStrings__Crm="$hosts;Target Session Attributes=read-write"
    export Crm__Database__ReadConnectionString="$hosts;Target Session Attributes=prefer-standby"
}

cmd_ha_demo() {
    # make_standby starts the standby, whatever state it is in.
    STANDBY_ON_START=0
    prepare_app ha_prepare
    print_urls
    cat <<EOF
  HA demo      every commit on the primary waits until the standby has applied it
               (synchronous_commit = remote_apply): a promoted standby has every answered write
  Primary      127.0.0.1:$PORT  (data: $SHOWN)
  Standby      127.0.0.1:$STANDBY_PORT  (data: $(shown "$DATA_ROOT/$OTHER")), a hot standby: reads
  Reads        Crm__Database__ReadConnectionString=$Crm__Database__ReadConnectionString
               (writes: PostgreSQL above, ConnectionStrings__Crm, asks for the read-write server)

  Fail over, in another terminal, while the app runs:
          ./run.sh failover     # kill -9 the primary, promote the standby; the app is told nothing
          ./run.sh status       # which server is the primary now
          ./run.sh rejoin       # the old primary becomes the new one's standby (pg_rewind)
          ./run.sh failover     # and back again

EOF
    run_app
    echo
    say "App stopped. Both servers keep running; ./run.sh status shows them, ./run.sh stop stops them."
    return "$APP_RC"
}

now_ms() { date +%s%3N; }

# A process that runs: neither gone nor a zombie waiting to be reaped.
process_alive() {
    local state
    state="$(ps -o stat= -p "$1" 2>/dev/null || true)"
    [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

# kill -9 of the postmaster and of every process it started, as when its machine fails: no
# backend finishes its commit, no WAL sender sends what it still had. The postmaster is
# stopped first, so that it starts no process between the listing and the kill.
kill_node() {
    local dir="$1" postmaster pid deadline=$((SECONDS + 10))
    local -a children=()
    postmaster="$(head -n 1 "$dir/postmaster.pid")"
    kill -STOP "$postmaster" || return 1
    mapfile -t children < <(pgrep -P "$postmaster" || true)
    pg_kill "$dir" || return 1
    for pid in "${children[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    for pid in "$postmaster" "${children[@]}"; do
        while process_alive "$pid"; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                say "Process $pid of the killed server is still there after 10 s"
                return 0
            fi
            sleep 0.1
        done
    done
}

cmd_failover() {
    local how="${1:---kill}"
    case "$how" in
        --kill | --stop) ;;
        *) die "unknown option '$how' (./run.sh failover [--kill | --stop])" ;;
    esac
    pg_ensure_installed || die "PostgreSQL is not available."
    locate_data
    is_pair || die "there is no standby here; ./run.sh ha-demo starts a primary with one."

    local old_dir="$PGDATA_DIR" new_dir="$DATA_ROOT/$OTHER" new_port old_port="" started promoted wrote
    if ! pg_is_running "$new_dir" || [ ! -f "$new_dir/standby.signal" ]; then
        die "the standby ($(shown "$new_dir")) is not running; there is nothing to promote (./run.sh status)."
    fi
    new_port="$(pg_running_port "$new_dir")"

    if pg_is_running "$old_dir"; then
        old_port="$(pg_running_port "$old_dir")"
        PORT="$old_port"
        # A standby that does not follow the primary would lose, promoted, what it missed.
        [ "$(receiver_status "$new_port")" = streaming ] ||
            die "the standby on 127.0.0.1:$new_port does not stream from the primary; promoting it could lose writes (./run.sh status)."
        started="$(now_ms)"
        if [ "$how" = --kill ]; then
            kill_node "$old_dir" || die "could not kill the primary."
            say "Killed the primary on 127.0.0.1:$old_port (kill -9 of all its processes, as when its machine fails)"
        else
            pg_stop "$old_dir" || die "could not stop the primary (see $SHOWN/server.log)."
            say "Stopped the primary on 127.0.0.1:$old_port (pg_ctl stop -m fast: it sent the standby all its WAL first)"
        fi
    else
        say "The primary in $SHOWN is not running"
        started="$(now_ms)"
    fi

    pg_promote "$new_dir" || die "could not promote the standby (see $(shown "$new_dir")/server.log)."
    promoted="$(now_ms)"
    printf '%s\n' "$OTHER" >"$DATA_ROOT/ha.primary"
    # Alone now, the new primary must not wait for a standby at its commits (a copy made
    # while the old primary was synchronous carries the setting).
    pg_psql "$new_port" "$PG_PASSWORD" -d postgres \
        -c "ALTER SYSTEM RESET synchronous_standby_names" \
        -c "ALTER SYSTEM RESET synchronous_commit" \
        -c "SELECT pg_reload_conf()" >/dev/null || die "could not reset synchronous_standby_names on the new primary."
    # A transaction that takes a transaction id is a write: only a primary commits it.
    pg_psql "$new_port" "$PG_PASSWORD" -d "$DB_NAME" -tA -c "SELECT txid_current()" >/dev/null ||
        die "the new primary on 127.0.0.1:$new_port takes no write (see $(shown "$new_dir")/server.log)."
    wrote="$(now_ms)"

    say "Promoted the standby on 127.0.0.1:$new_port: a primary $((promoted - started)) ms after the old one went, committing a write after $((wrote - started)) ms"
    cat <<EOF

  The primary is now 127.0.0.1:$new_port ($(shown "$new_dir")), alone: its commits wait for no standby.
  A running app finds it by itself: its connection string names both servers and asks for the
  read-write one (Target Session Attributes=read-write). Its requests failed while there was no
  primary; retried, they succeed.

  The old primary ($SHOWN${old_port:+, port $old_port}) must not start as it is: it would be a second
  primary, and it may hold WAL the new one never received. Make it the new one's standby:
          ./run.sh rejoin      # pg_rewind onto the new primary, else a new copy (pg_basebackup -R);
                               # the new primary then waits for it at every commit, as the old one did
  By hand, as the server's OS user, the same is:
          pg_rewind --target-pgdata=$old_dir --write-recovery-conf \\
              --source-server='host=127.0.0.1 port=$new_port user=postgres dbname=postgres'
      or  rm -rf $old_dir && pg_basebackup -D $old_dir -R -X stream -h 127.0.0.1 -p $new_port -U postgres
      and start it on its port${old_port:+ ($old_port)}, which the app's connection string names.

EOF
}

cmd_rejoin() {
    # make_standby starts the standby, whatever state it is in.
    STANDBY_ON_START=0
    ensure_postgres
    is_pair || die "there is no pair here; ./run.sh ha-demo starts a primary with a standby."
    [ "$(pg_psql "$PORT" "$PG_PASSWORD" -d postgres -tA -c "SELECT pg_is_in_recovery()")" = f ] ||
        die "the server in $SHOWN, which ha.primary names, is a standby: promote it first (./run.sh failover)."
    local started
    started="$(now_ms)"
    make_standby "$OTHER"
    pg_make_synchronous "$PORT" "$PG_PASSWORD" || die "could not make the primary synchronous."
    say "$(shown "$DATA_ROOT/$OTHER") is a standby of the primary again, on 127.0.0.1:$STANDBY_PORT ($(($(now_ms) - started)) ms)"
    say "The primary on 127.0.0.1:$PORT waits for it at every commit again (remote_apply); ./run.sh failover fails over again."
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
    if is_pair; then
        echo "A primary and its standby (./run.sh ha-demo):"
        node_status "$PRIMARY"
        node_status "$OTHER"
    elif pg_is_running "$PGDATA_DIR"; then
        echo "PostgreSQL is running on 127.0.0.1:$(pg_running_port "$PGDATA_DIR") (data: $SHOWN)."
    elif [ -f "$PGDATA_DIR/PG_VERSION" ]; then
        echo "PostgreSQL is stopped (data: $SHOWN)."
    else
        echo "No local PostgreSQL data directory yet; ./run.sh creates it in $SHOWN."
    fi
}

# One line on a server of the pair: what it is, from the server itself when it runs.
node_status() {
    local name="$1" dir="$DATA_ROOT/$1" port what
    if [ ! -f "$dir/PG_VERSION" ]; then
        what="no data directory; ./run.sh rejoin copies the primary into it"
    elif ! pg_is_running "$dir"; then
        if [ "$name" = "$PRIMARY" ]; then
            what="the primary, stopped"
        elif [ -f "$dir/standby.signal" ]; then
            what="the standby, stopped"
        else
            what="the old primary, stopped; ./run.sh rejoin makes it a standby of the primary"
        fi
    else
        port="$(pg_running_port "$dir")"
        if [ "$(pg_psql "$port" "$PG_PASSWORD" -d postgres -tA -c "SELECT pg_is_in_recovery()")" = t ]; then
            what="a standby on 127.0.0.1:$port, $(pg_psql "$port" "$PG_PASSWORD" -d postgres -tA -c "
                SELECT coalesce((SELECT status || ' from port ' || sender_port FROM pg_stat_wal_receiver), 'not receiving')
                       || ', replayed up to ' || pg_last_wal_replay_lsn()")"
        else
            what="a primary on 127.0.0.1:$port, $(pg_psql "$port" "$PG_PASSWORD" -d postgres -tA -c "
                SELECT CASE WHEN current_setting('synchronous_standby_names') = '' THEN 'commits wait for no standby'
                            ELSE 'commits wait for a standby (' || current_setting('synchronous_commit') || ')' END
                       || ', standbys: ' || coalesce((SELECT string_agg(state || ' ' || sync_state || ', replay lag '
                                                        || coalesce(replay_lag::text, '0'), '; ')
                                                      FROM pg_stat_replication), 'none')
                       || ', WAL at ' || pg_current_wal_lsn()")"
            if [ "$name" != "$PRIMARY" ]; then
                what="$what; A SECOND PRIMARY: stop it (./run.sh stop), then ./run.sh rejoin"
            fi
        fi
    fi
    printf '  %-5s %s (data: %s)\n' "$name" "$what" "$(shown "$dir")"
}

# In a pair the primary stops first: stopping, it sends the standby all its WAL, and a
# primary left without its synchronous standby would make every commit wait meanwhile.
cmd_stop() {
    pg_ensure_installed >/dev/null 2>&1 || { echo "PostgreSQL is not installed."; return 0; }
    locate_data
    if ! is_pair; then
        stop_node "$PRIMARY" PostgreSQL
        return 0
    fi
    stop_node "$PRIMARY" "the primary"
    if [ -f "$DATA_ROOT/$OTHER/standby.signal" ]; then
        stop_node "$OTHER" "the standby"
    else
        stop_node "$OTHER" "the old primary"
    fi
}

stop_node() {
    local dir="$DATA_ROOT/$1" label="$2"
    if pg_is_running "$dir"; then
        pg_stop "$dir" || die "could not stop $label (see $(shown "$dir")/server.log)."
        say "${label^} stopped (data kept in $(shown "$dir"))."
    else
        say "${label^} is not running (data: $(shown "$dir"))."
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
    ha-demo) cmd_ha_demo ;;
    failover) shift; cmd_failover "$@" ;;
    rejoin) cmd_rejoin ;;
    -h|--help|help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$1' (try ./run.sh --help)" ;;
esac
