#!/usr/bin/env bash
# Benchmark of following the shop's database (issue 12): the app's logical-replication
# follower (Crm.Jobs/Shop) measured from outside, against a bare COPY in the same run.
#
#   bench/shop.sh                         1 000 000 shop orders, 1 run
#   bench/shop.sh --orders 100000         100 000 shop orders, median of 3 runs
#   bench/shop.sh --orders 100000 --runs 1
#
# Options: --orders N (default 1000000), --runs R (default 3 below 1 000 000 orders, else 1),
# --writes W single-order writes timed (default 200), --max-wait S (seconds to wait for a
# test run on the machine to end before each run, default 1200; 0: do not wait),
# --snapshot-only (step 1 only: the snapshot and the bare COPY),
# --log-statements MS (log the statements of MS ms or more; the server's and the app's logs are
# kept next to the JSON: where the time goes).
#
# One throwaway PostgreSQL 15 (scripts/pg.sh; fsync on, wal_level = logical) holds two
# databases: the CRM's (`crm`, migrated by the app's `migrate`) and the shop's (`shop`, the
# Django-shaped orders_order of scripts/shop-orders-order.sql). Per run, both are created
# fresh, then:
#   1. snapshot: N orders in the shop, ANALYZE, a bare psql COPY of them into an unindexed
#      table of the CRM database (the reference), the floor (a binary psql COPY of them, typed
#      as orders' columns, into a scratch copy of orders with its primary key and unique
#      (source, source_id), then orders' secondary indexes built: what a snapshot must do at
#      least), then the app (role all) started following
#      the shop: process start -> shop_follower 'following' with snapshot_rows = N, and
#      -> every customer exact (polled every 100 ms);
#   2. stream: one shop transaction of 100 000 orders: its commit -> orders_applied grown by
#      100 000 (polled every 20 ms), the orders present, then -> every customer exact again;
#   3. single writes: W one-order shop transactions 100-200 ms apart, each for another existing
#      customer: commit -> the customers row holds the new total_orders/total_spent (the
#      customers table polled every 10 ms by a server-side watcher; one GET
#      /api/customers?search= at the end checks the API shows the same).
# All times are taken on the server's clock (clock_timestamp() right after the commit and
# where a poll first sees the condition), except the process start (the same machine's clock).
# It prints a table and writes bench/results/shop-<timestamp>.json (git-ignored).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
# shellcheck source=../scripts/pg.sh
. "$ROOT/scripts/pg.sh"
# shellcheck source=lib.sh
. "$ROOT/bench/lib.sh"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

ORDERS=1000000
RUNS=""
WRITES=200
MAX_WAIT=1200
LOG_MS=""
SNAPSHOT_ONLY=""
STREAM=100000
while [ $# -gt 0 ]; do
    case "$1" in
        --orders) ORDERS="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --writes) WRITES="$2"; shift 2 ;;
        --max-wait) MAX_WAIT="$2"; shift 2 ;;
        --log-statements) LOG_MS="$2"; shift 2 ;;
        --snapshot-only) SNAPSHOT_ONLY=1; shift ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "bench/shop.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
if [ -z "$RUNS" ]; then
    if [ "$ORDERS" -ge 1000000 ]; then RUNS=1; else RUNS=3; fi
fi
PHONES=$(( ORDERS / 5 > 0 ? ORDERS / 5 : 1 ))

PG_PASSWORD=postgres
WORK=""
PGDATA_DIR=""
APP_PID=""

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'bench/shop.sh: WARNING: %s\n' "$*" >&2; }

stop_app() {
    if [ -n "$APP_PID" ]; then
        kill "$APP_PID" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$APP_PID" 2>/dev/null
        wait "$APP_PID" 2>/dev/null
        APP_PID=""
    fi
}
cleanup() {
    stop_app
    pg_throwaway_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_ensure_installed || exit 1

NEED_KB=$(( ORDERS * 3 ))
AVAIL_KB="$(df -Pk /tmp | awk 'NR == 2 { print $4 }')"
if [ -n "$AVAIL_KB" ] && [ "$AVAIL_KB" -lt "$NEED_KB" ]; then
    echo "bench/shop.sh: /tmp has $(( AVAIL_KB / 1048576 )) GB free; $ORDERS orders need about $(( NEED_KB / 1048576 )) GB" >&2
    exit 1
fi

say "Building Crm.Api (Release)"
dotnet build Crm.Api/Crm.Api.csproj -c Release -v quiet -nologo -clp:ErrorsOnly || exit 1

bench_prepare_work crm-bench-shop || exit 1
REVISION="$(bench_revision)"

# fsync and synchronous_commit on; memory as bench/run.sh's; logical decoding for the follower.
PGDATA_DIR="$WORK/pg"
pg_init_cluster "$PGDATA_DIR" "$PG_PASSWORD" \
    "shared_buffers = 1GB" \
    "max_wal_size = 4GB" \
    "wal_level = logical" \
    "max_replication_slots = 10" \
    "max_wal_senders = 10" \
    ${LOG_MS:+"log_min_duration_statement = $LOG_MS"} || exit 1
PORT="$(pg_start_on_free_port "$PGDATA_DIR" "$WORK")" || exit 1
say "throwaway PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (fsync on, wal_level = logical)"

CRM_CS="Host=127.0.0.1;Port=$PORT;Username=postgres;Password=$PG_PASSWORD;Database=crm"
SHOP_CS="Host=127.0.0.1;Port=$PORT;Username=postgres;Password=$PG_PASSWORD;Database=shop"
SHOP_LIBPQ="host=127.0.0.1 port=$PORT user=postgres password=$PG_PASSWORD dbname=shop"
API_KEY="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"

q() { local db="$1"; shift; pg_psql "$PORT" "$PG_PASSWORD" -d "$db" -At "$@"; }
now() { date +%s.%N; }

SHOP_DDL="$(cat scripts/shop-orders-order.sql)" || { echo "bench/shop.sh: scripts/shop-orders-order.sql is missing" >&2; exit 1; }

# The shop's rows: phone i % P in the shop's "+7 9xx xxx-xx-xx" spelling, one person per phone,
# 75% completed, 10% cancelled, 7% processing, 8% new, dates over 400 days, 70% with an email.
shop_rows_sql() { # FROM TO PHONES
    cat <<SQL
SELECT 'Покупатель ' || (ARRAY['Иван','Мария','Пётр','Анна','Сергей','Ольга','Дмитрий','Елена'])[p % 8 + 1]
           || ' ' || (ARRAY['Иванов','Смирнова','Кузнецов','Попова','Соколов','Лебедева','Козлов','Новикова'])[p / 8 % 8 + 1],
       '+7 ' || substr(d, 1, 3) || ' ' || substr(d, 4, 3) || '-' || substr(d, 7, 2) || '-' || substr(d, 9, 2),
       CASE WHEN p % 10 < 7 THEN 'client' || p || '@example.ru' ELSE '' END,
       (ARRAY['Москва','Санкт-Петербург','Новосибирск','Екатеринбург','Казань','Нижний Новгород','Челябинск','Самара','Омск','Ростов-на-Дону'])[p % 10 + 1],
       'ул. ' || (ARRAY['Ленина','Гагарина','Мира','Советская','Школьная'])[i % 5 + 1] || ', д. ' || (p % 150 + 1) || ', кв. ' || (i % 300 + 1),
       ((i::bigint * 7919) % 4990000 + 10000) / 100.0,
       CASE WHEN i % 100 < 75 THEN 'completed' WHEN i % 100 < 85 THEN 'cancelled' WHEN i % 100 < 92 THEN 'processing' ELSE 'new' END,
       now() - ((i::bigint * 7907) % 576000) * interval '1 minute',
       now() - ((i::bigint * 7907) % 576000) * interval '1 minute'
FROM (SELECT i, i % $3 AS p, (9000000000 + (i % $3)::bigint * 4099 % 1000000000)::text AS d
      FROM generate_series($1, $2) AS i) AS g
SQL
}
SHOP_COLUMNS="customer_name, customer_phone, customer_email, delivery_city, delivery_address, total_amount, status, created_at, updated_at"

# Polls, server-side: a procedure commits between polls (no snapshot held) and returns the
# server's clock when the condition was first true (NULL after the timeout).
BENCH_SQL="$(cat <<'SQL'
CREATE PROCEDURE bench_wait(cond text, period float8, timeout float8, INOUT done_at float8 DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE deadline timestamptz := clock_timestamp() + timeout * interval '1 second'; ok boolean;
BEGIN
    LOOP
        EXECUTE 'SELECT coalesce((' || cond || '), false)' INTO ok;
        IF ok THEN done_at := extract(epoch FROM clock_timestamp()); RETURN; END IF;
        COMMIT;
        EXIT WHEN clock_timestamp() > deadline;
        PERFORM pg_sleep(period);
    END LOOP;
END $$;
CREATE TABLE bench_write (phone text PRIMARY KEY, expect_orders int, expect_spent numeric, committed_at timestamptz);
CREATE TABLE bench_exact (phone text PRIMARY KEY, exact_at timestamptz);
-- The single writes: one shop transaction each (dblink autocommits), 100-200 ms apart.
CREATE PROCEDURE bench_writes(shop text, n int) LANGUAGE plpgsql AS $$
DECLARE r record; amount numeric;
BEGIN
    PERFORM dblink_connect('shop', shop);
    FOR r IN SELECT phone, name, total_orders, total_spent FROM customers ORDER BY md5(phone) LIMIT n LOOP
        amount := 500 + floor(random() * 9500);
        INSERT INTO bench_write VALUES (r.phone, r.total_orders + 1, r.total_spent + amount, NULL);
        COMMIT;
        PERFORM dblink_exec('shop', format(
            'INSERT INTO orders_order (customer_name, customer_phone, customer_email, delivery_city, delivery_address, '
            'total_amount, status, created_at, updated_at) VALUES (%L, %L, '''', ''Москва'', ''ул. Ленина, 1'', %s, ''completed'', now(), now())',
            r.name, r.phone, amount));
        UPDATE bench_write SET committed_at = clock_timestamp() WHERE phone = r.phone;
        COMMIT;
        PERFORM pg_sleep(0.1 + random() * 0.1);
    END LOOP;
    PERFORM dblink_disconnect('shop');
END $$;
-- The watcher: every period, which written customers' rows hold their new order.
CREATE PROCEDURE bench_watch(n int, period float8, timeout float8) LANGUAGE plpgsql AS $$
DECLARE deadline timestamptz := clock_timestamp() + timeout * interval '1 second'; done int;
BEGIN
    LOOP
        INSERT INTO bench_exact
        SELECT w.phone, clock_timestamp() FROM bench_write w JOIN customers c ON c.phone = w.phone
        WHERE c.total_orders >= w.expect_orders AND c.total_spent >= w.expect_spent
          AND NOT EXISTS (SELECT 1 FROM bench_exact e WHERE e.phone = w.phone);
        SELECT count(*) INTO done FROM bench_exact;
        COMMIT;
        EXIT WHEN done >= n OR clock_timestamp() > deadline;
        PERFORM pg_sleep(period);
    END LOOP;
END $$;
SQL
)"

wait_for() { # DB COND PERIOD TIMEOUT -> epoch or ""
    q "$1" -c "CALL bench_wait(\$c\$$2\$c\$, $3, $4)"
}

RESULTS=()   # one JSON object per run

one_run() {
    local run="$1" waited load_before
    waited="$(wait_quiet)"
    load_before="$(load)"
    say "run $run/$RUNS: $ORDERS shop orders over $PHONES phones (load $load_before)"

    stop_app
    local slot="crm_bench_shop_$run"
    PGOPTIONS="-c client_min_messages=warning" q postgres -c "DROP DATABASE IF EXISTS crm" -c "DROP DATABASE IF EXISTS shop" -c "CREATE DATABASE crm" -c "CREATE DATABASE shop" || return 1
    ConnectionStrings__Crm="$CRM_CS" dotnet "$WORK/app/Crm.Api.dll" migrate >"$WORK/logs/migrate-$run.log" 2>&1 ||
        { tail -n 20 "$WORK/logs/migrate-$run.log" >&2; return 1; }
    q crm -c "CREATE EXTENSION dblink" >/dev/null || return 1
    q crm <<<"$BENCH_SQL" >/dev/null || return 1
    q shop -c "$SHOP_DDL" || return 1
    q crm -c "$(sed 's/orders_order/orders_ref/; s/ GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY//' <<<"$SHOP_DDL")" || return 1

    # 1. The shop's N orders.
    local t0 t1
    t0="$(now)"
    q shop -c "INSERT INTO orders_order ($SHOP_COLUMNS) $(shop_rows_sql 1 "$ORDERS" "$PHONES")" -c "ANALYZE orders_order" -c "CHECKPOINT" || return 1
    t1="$(now)"
    local fill_ms; fill_ms="$(ms "$t0" "$t1")"
    local phones completed_sum
    phones="$(q shop -c "SELECT count(DISTINCT customer_phone) FROM orders_order")"
    completed_sum="$(q shop -c "SELECT sum(total_amount) FROM orders_order WHERE status = 'completed'")"

    # The reference: the same rows as text, psql COPY out of the shop into an unindexed table.
    q crm -c "CHECKPOINT" >/dev/null
    t0="$(now)"
    q shop -c "COPY (SELECT $SHOP_COLUMNS FROM orders_order) TO STDOUT" |
        q crm -c "COPY orders_ref ($SHOP_COLUMNS) FROM STDIN" || return 1
    t1="$(now)"
    local copy_ms; copy_ms="$(ms "$t0" "$t1")"
    local copied; copied="$(q crm -c "SELECT count(*) FROM orders_ref")"
    [ "$copied" = "$ORDERS" ] || warn "bare COPY copied $copied rows, not $ORDERS"
    q crm -c "DROP TABLE orders_ref" -c "CHECKPOINT" >/dev/null

    # The floor: what a snapshot must do at least. Binary COPY out of the shop, typed as the
    # CRM's columns (the phone normalized by SQL, unchecked: its spelling here is fixed), straight
    # into a scratch copy of orders with the indexes the snapshot keeps while it copies (the
    # primary key, the unique (source, source_id)), then orders' secondary indexes built.
    q crm -c "CREATE TABLE orders_floor (LIKE orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)" \
          -c "ALTER TABLE orders_floor ADD PRIMARY KEY (id)" \
          -c "CREATE UNIQUE INDEX ON orders_floor (source, source_id) WHERE source_id IS NOT NULL" >/dev/null || return 1
    local floor_indexes
    # orders' secondary indexes as pg_get_indexdef prints them ("CREATE INDEX ix_… ON public.orders …").
    floor_indexes="$(q crm -c "SELECT string_agg(replace(replace(pg_get_indexdef(i.indexrelid),
                                   'CREATE INDEX ix_', 'CREATE INDEX floor_ix_'), ' ON public.orders ', ' ON public.orders_floor '), '; ')
                               FROM pg_index i WHERE i.indrelid = 'orders'::regclass AND NOT i.indisunique AND NOT i.indisprimary")"
    t0="$(now)"
    q shop -c "COPY (SELECT customer_name::varchar(200), customer_phone::varchar(50),
                            ('+' || translate(customer_phone, '+ -', ''))::varchar(20),
                            customer_email, delivery_city, delivery_address::varchar(500), total_amount::numeric(12, 2),
                            status, created_at, now(), 'shop'::varchar(10), id::text::varchar(100)
                     FROM orders_order) TO STDOUT (FORMAT BINARY)" |
        q crm -c "COPY orders_floor (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                     delivery_address, total_amount, status, created_at, updated_at, source, source_id)
                  FROM STDIN (FORMAT BINARY)" || return 1
    t1="$(now)"
    q crm -c "SET maintenance_work_mem = '256MB'" -c "$floor_indexes" >/dev/null || return 1
    local t2; t2="$(now)"
    local floor_copy_ms floor_ms
    floor_copy_ms="$(ms "$t0" "$t1")"
    floor_ms="$(ms "$t0" "$t2")"
    copied="$(q crm -c "SELECT count(*) FROM orders_floor")"
    [ "$copied" = "$ORDERS" ] || warn "the floor copied $copied rows, not $ORDERS"
    q crm -c "DROP TABLE orders_floor" -c "CHECKPOINT" >/dev/null
    say "floor: binary COPY into a copy of orders $floor_copy_ms ms, with its secondary indexes built $floor_ms ms; bare COPY $copy_ms ms"

    # The app, following the shop.
    local http_port; http_port="$(pg_free_port)"
    local app_log="$WORK/logs/app-$run.log"
    t0="$(now)"
    ConnectionStrings__Crm="$CRM_CS" ASPNETCORE_ENVIRONMENT=Production \
        Crm__Sync__Cron="" Crm__Privacy__HashKey="bench-only-privacy-hash-key-0123456789" \
        Crm__Auth__ApiKeys__0__Name=bench Crm__Auth__ApiKeys__0__Key="$API_KEY" Crm__Auth__ApiKeys__0__Roles=admin \
        Crm__RateLimit__PermitsPerMinute=1000000 \
        Crm__Shop__ConnectionString="$SHOP_CS" Crm__Shop__Slot="$slot" Crm__Shop__StatusInterval=00:00:01 \
        dotnet "$WORK/app/Crm.Api.dll" --urls "http://127.0.0.1:$http_port" --role all >"$app_log" 2>&1 &
    APP_PID=$!
    local tsnap tfollow texact
    tsnap="$(wait_for crm "SELECT true FROM shop_follower WHERE state IN ('snapshotting', 'following')" 0.1 600)"
    tfollow="$(wait_for crm "SELECT state = 'following' AND snapshot_rows = $ORDERS FROM shop_follower" 0.1 3600)"
    [ -n "$tfollow" ] || { warn "the follower did not reach 'following' with $ORDERS rows"; q crm -c "SELECT * FROM shop_follower" >&2; tail -n 30 "$app_log" >&2; return 1; }
    # The app's CPU time (user + system) up to 'following': what the snapshot costs the app,
    # less dependent on the machine's load than the wall time.
    local app_cpu_ms; app_cpu_ms="$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f", ($14 + $15) * 1000 / hz }' "/proc/$APP_PID/stat" 2>/dev/null || echo 0)"
    texact="$(wait_for crm "SELECT count(*) = $phones AND sum(total_spent) = $completed_sum FROM customers" 0.1 3600)"
    [ -n "$texact" ] || { warn "customers never became exact after the snapshot"; return 1; }
    local snap_start_ms snapshot_ms exact_ms
    snap_start_ms="$(ms "$t0" "$tsnap")"
    snapshot_ms="$(ms "$t0" "$tfollow")"
    exact_ms="$(ms "$t0" "$texact")"
    local shop_orders; shop_orders="$(q crm -c "SELECT count(*) FROM orders WHERE source = 'shop'")"
    [ "$shop_orders" = "$ORDERS" ] || warn "orders holds $shop_orders shop orders after the snapshot, not $ORDERS"
    say "snapshot: following after $snapshot_ms ms (state seen at $snap_start_ms ms; app CPU $app_cpu_ms ms), customers exact after $exact_ms ms; bare COPY $copy_ms ms"

    # 2. One shop transaction of $STREAM orders.
    local stream_ms=0 stream_exact_ms=0 stream_rate=0 p50=0 p99=0 max=0 missing=0 pairs=""
    if [ -z "$SNAPSHOT_ONLY" ]; then
        q crm -c "CHECKPOINT" >/dev/null
        local applied0; applied0="$(q crm -c "SELECT orders_applied FROM shop_follower")"
        local tcommit tapplied tstream_exact
        tcommit="$(q shop -c "INSERT INTO orders_order ($SHOP_COLUMNS) $(shop_rows_sql $((ORDERS + 1)) $((ORDERS + STREAM)) "$PHONES")" \
                          -c "SELECT extract(epoch FROM clock_timestamp())" | tail -n 1)"
        tapplied="$(wait_for crm "SELECT orders_applied >= $applied0 + $STREAM FROM shop_follower" 0.02 1800)"
        [ -n "$tapplied" ] || { warn "the stream's $STREAM orders were not applied"; q crm -c "SELECT * FROM shop_follower" >&2; return 1; }
        shop_orders="$(q crm -c "SELECT count(*) FROM orders WHERE source = 'shop'")"
        [ "$shop_orders" = "$((ORDERS + STREAM))" ] || warn "orders holds $shop_orders shop orders after the stream, not $((ORDERS + STREAM))"
        completed_sum="$(q shop -c "SELECT sum(total_amount) FROM orders_order WHERE status = 'completed'")"
        tstream_exact="$(wait_for crm "SELECT count(*) = $phones AND sum(total_spent) = $completed_sum FROM customers" 0.1 1800)"
        [ -n "$tstream_exact" ] || { warn "customers never became exact after the stream"; return 1; }
        stream_ms="$(ms "$tcommit" "$tapplied")"
        stream_exact_ms="$(ms "$tcommit" "$tstream_exact")"
        stream_rate="$(awk -v n="$STREAM" -v t="$stream_ms" 'BEGIN { printf "%.0f", n / (t / 1000) }')"
        say "stream: $STREAM orders applied $stream_ms ms after their commit ($stream_rate orders/s), customers exact after $stream_exact_ms ms"

        # 3. Single writes -> customer exact.
        q crm -c "CHECKPOINT" >/dev/null
        q crm -c "CALL bench_watch($WRITES, 0.01, $((WRITES + 300)))" &
        local watcher=$!
        q crm -c "CALL bench_writes('$SHOP_LIBPQ', $WRITES)" || { kill "$watcher" 2>/dev/null; return 1; }
        wait "$watcher"
        # In commit order: [ms after the first write's commit, ms to exact] (a stall shows as a ramp).
        pairs="$(q crm -c "SELECT '[' || round(extract(epoch FROM w.committed_at - min(w.committed_at) OVER ()) * 1000)
                                            || ',' || round(extract(epoch FROM e.exact_at - w.committed_at) * 1000) || ']'
                                            FROM bench_write w JOIN bench_exact e USING (phone) ORDER BY w.committed_at")"
        local lat; lat="$(tr -d '[]' <<<"$pairs" | cut -d, -f2)"
        missing="$(q crm -c "SELECT count(*) FROM bench_write w WHERE NOT EXISTS (SELECT 1 FROM bench_exact e WHERE e.phone = w.phone)")"
        [ "$missing" = 0 ] || warn "$missing single writes never showed in their customer"
        # The API shows the same as the table (one customer).
        local check_phone api_check
        check_phone="$(q crm -c "SELECT phone FROM bench_write ORDER BY committed_at DESC LIMIT 1")"
        api_check="$(curl -s -G -H "X-Api-Key: $API_KEY" --data-urlencode "search=$check_phone" "http://127.0.0.1:$http_port/api/customers" |
            grep -o '"totalOrders":[0-9]*' | head -n 1 | cut -d: -f2)"
        local expect_orders; expect_orders="$(q crm -c "SELECT expect_orders FROM bench_write WHERE phone = '$check_phone'")"
        [ "$api_check" = "$expect_orders" ] || warn "GET /api/customers?search=$check_phone shows totalOrders $api_check, expected $expect_orders"
        read -r p50 p99 max < <(grep -v '^$' <<<"$lat" | sort -n | awk '{ v[NR] = $1 } END {
            r50 = int((NR * 50 + 99) / 100); r99 = int((NR * 99 + 99) / 100); print v[r50], v[r99], v[NR] }')
        say "single writes: commit -> customer exact p50 $p50 ms, p99 $p99 ms, max $max ms"
    fi

    local state; state="$(q crm -F '|' -c "SELECT state, snapshot_rows, orders_applied, rejected, coalesce(error, '') FROM shop_follower")"
    local load_after; load_after="$(load)"
    stop_app
    q shop -c "SELECT pg_drop_replication_slot('$slot')" >/dev/null 2>&1

    local samples; samples="$(grep -v '^$' <<<"$pairs" | paste -sd, -)"
    RESULTS+=("$(cat <<JSON
    {"run": $run, "waitedForTestsSeconds": "$waited", "loadBefore": "$load_before", "loadAfter": "$load_after",
     "fillMs": $fill_ms, "distinctPhones": $phones,
     "bareCopyMs": $copy_ms, "snapshotStateSeenMs": $snap_start_ms, "snapshotFollowingMs": $snapshot_ms,
     "snapshotCustomersExactMs": $exact_ms, "snapshotAppCpuMs": $app_cpu_ms,
     "snapshotOverBareCopy": $(awk -v a="$snapshot_ms" -v b="$copy_ms" 'BEGIN { printf "%.2f", a / b }'),
     "floorCopyMs": $floor_copy_ms, "floorMs": $floor_ms,
     "floorOverBareCopy": $(awk -v a="$floor_ms" -v b="$copy_ms" 'BEGIN { printf "%.2f", a / b }'),
     "snapshotOverFloor": $(awk -v a="$snapshot_ms" -v b="$floor_ms" 'BEGIN { printf "%.2f", a / b }'),
     "streamOrders": $STREAM, "streamAppliedMs": $stream_ms, "streamOrdersPerSecond": $stream_rate,
     "streamCustomersExactMs": $stream_exact_ms,
     "writes": $WRITES, "writeExactP50Ms": $p50, "writeExactP99Ms": $p99, "writeExactMaxMs": $max,
     "writesNeverExact": $missing, "writeCommitAndExactMs": [$samples],
     "followerAtEnd": "$state"}
JSON
)")
}

for run in $(seq 1 "$RUNS"); do
    one_run "$run" || { warn "run $run failed; the app's log: $WORK/logs/app-$run.log"; tail -n 40 "$WORK/logs/app-$run.log" >&2 2>/dev/null; exit 1; }
done

mkdir -p bench/results
OUT="bench/results/shop-$(date -u +%Y%m%dT%H%M%SZ).json"
{
    printf '{\n  "bench": "shop", "revision": "%s", "date": "%s", "orders": %s, "phones": %s, "runs": %s,\n' \
        "$REVISION" "$(date -u +%FT%TZ)" "$ORDERS" "$PHONES" "$RUNS"
    printf '  "machine": {"nproc": %s, "cpu": "%s", "memGB": %s, "postgres": "%s", "dotnet": "%s"},\n' \
        "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
        "$(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)" \
        "$("$PG_BIN/postgres" --version | awk '{print $3}')" "$(dotnet --version)"
    printf '  "results": [\n'
    for i in "${!RESULTS[@]}"; do
        [ "$i" -gt 0 ] && printf ',\n'
        printf '%s' "${RESULTS[$i]}"
    done
    printf '\n  ]\n}\n'
} >"$OUT"

# The table: median (min-max) over the runs.
col() { printf '%s\n' "${RESULTS[@]}" | grep -o "\"$1\": [0-9.]*" | awk '{ print $2 }'; }
med() { col "$1" | sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
          if (NR > 1) printf "%s (%s–%s)", m, v[1], v[NR]; else printf "%s", m }'; }
echo
printf 'Following the shop: %s orders over %s phones, %s run(s), revision %s\n' "$ORDERS" "$PHONES" "$RUNS" "$REVISION"
printf '%-62s %s\n' "figure" "median (min–max)"
printf '%-62s %s\n' "bare COPY shop -> CRM (psql | psql), ms" "$(med bareCopyMs)"
printf '%-62s %s\n' "floor: binary COPY into a copy of orders, ms" "$(med floorCopyMs)"
printf '%-62s %s\n' "floor: that + orders' secondary indexes built, ms" "$(med floorMs)"
printf '%-62s %s\n' "floor / bare COPY (same run)" "$(med floorOverBareCopy)"
printf '%-62s %s\n' "snapshot: process start -> 'following', snapshot_rows = N, ms" "$(med snapshotFollowingMs)"
printf '%-62s %s\n' "snapshot / bare COPY (same run)" "$(med snapshotOverBareCopy)"
printf '%-62s %s\n' "snapshot / floor (same run)" "$(med snapshotOverFloor)"
printf '%-62s %s\n' "snapshot: process start -> every customer exact, ms" "$(med snapshotCustomersExactMs)"
printf '%-62s %s\n' "stream: $STREAM-order transaction commit -> applied, ms" "$(med streamAppliedMs)"
printf '%-62s %s\n' "stream: orders/s" "$(med streamOrdersPerSecond)"
printf '%-62s %s\n' "stream: commit -> every customer exact, ms" "$(med streamCustomersExactMs)"
printf '%-62s %s\n' "single order commit -> customer exact p50, ms" "$(med writeExactP50Ms)"
printf '%-62s %s\n' "single order commit -> customer exact p99, ms" "$(med writeExactP99Ms)"
printf '%-62s %s\n' "single order commit -> customer exact max, ms" "$(med writeExactMaxMs)"
printf 'load averages before/after each run: %s\n' "$(printf '%s\n' "${RESULTS[@]}" | grep -o '"load[A-Za-z]*": "[^"]*"' | cut -d'"' -f4 | paste -sd'|' - | sed 's/|/ \/ /g')"
printf 'written to %s\n' "$OUT"
if [ -n "$LOG_MS" ]; then
    cp "$PGDATA_DIR/server.log" "${OUT%.json}-server.log" && cat "$WORK"/logs/app-*.log >"${OUT%.json}-app.log"
    printf 'statements of %s ms or more: %s (the app: %s)\n' "$LOG_MS" "${OUT%.json}-server.log" "${OUT%.json}-app.log"
fi
