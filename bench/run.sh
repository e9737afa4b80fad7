#!/usr/bin/env bash
# The benchmark in one command: a throwaway PostgreSQL 15 (default settings: fsync on),
# Release builds of Crm.Api and bench/Crm.Bench, then the bench itself.
#
#   bench/run.sh                                  1 000 000 orders, median of 3 runs
#   bench/run.sh --orders 50000 --runs 1          a quick look
#   bench/run.sh --scale 100000,1000000,3000000 --runs 1   the scaling table
#   bench/run.sh --scale 100000,1000000,10000000 --runs 1  up to 10M orders (under an hour, ~20 GB in /tmp)
#
#   bench/run.sh --webhooks --lanes --baseline 45d3632   lanes: this checkout against a commit, alternately
#
# Arguments go to Crm.Bench (bench/README.md lists them), except --baseline REV: that commit is
# built in a scratch clone and passed as --baseline-app. It prints tables and writes
# bench/results/<timestamp>.json. The server and its data are removed on exit, also on
# failure or Ctrl-C.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
# shellcheck source=../scripts/pg.sh
. "$ROOT/scripts/pg.sh"
# shellcheck source=lib.sh
. "$ROOT/bench/lib.sh"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

PG_PASSWORD=postgres
WORK=""
PGDATA_DIR=""

trap pg_throwaway_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_ensure_installed || exit 1

# The database lives in /tmp, on disk: about 2 kB per order of the largest data set (orders
# with their indexes, customers, WAL, the checks' snapshots and sort files): 20 GB at 10M.
LARGEST=1000000
PREV=""
BASELINE=""
LANES=""
ARGS=()
for ARG in "$@"; do
    case "$PREV" in
        --orders) LARGEST="$ARG" ;;
        --scale) LARGEST="$(tr ',' '\n' <<<"$ARG" | sort -n | tail -n 1)" ;;
        --baseline) BASELINE="$ARG"; PREV=""; continue ;;
    esac
    PREV="$ARG"
    case "$ARG" in
        --baseline) continue ;;
        --lanes) LANES=1 ;;
    esac
    ARGS+=("$ARG")
done
set -- "${ARGS[@]}"
NEED_KB=$(( LARGEST * 2 ))
AVAIL_KB="$(df -Pk /tmp | awk 'NR == 2 { print $4 }')"
if [ -n "$AVAIL_KB" ] && [ "$AVAIL_KB" -lt "$NEED_KB" ]; then
    echo "bench/run.sh: /tmp has $(( AVAIL_KB / 1048576 )) GB free; $LARGEST orders need about $(( NEED_KB / 1048576 )) GB" >&2
    exit 1
fi
if [ "$(df --output=fstype /tmp 2>/dev/null | tail -n 1)" = tmpfs ]; then
    echo "bench/run.sh: warning: /tmp is a tmpfs: the database would live in memory, not on disk" >&2
fi

echo "==> Building Crm.Api and bench/Crm.Bench (Release)"
dotnet build Crm.Api/Crm.Api.csproj -c Release -v quiet -nologo || exit 1
dotnet build bench/Crm.Bench/Crm.Bench.csproj -c Release -v quiet -nologo || exit 1

bench_prepare_work crm-bench || exit 1
REVISION="$(bench_revision)"

if [ -n "$BASELINE" ]; then
    echo "==> Building the baseline $BASELINE (Crm.Api, Release) in a scratch clone"
    git clone -q --no-checkout "$ROOT" "$WORK/baseline-src" || exit 1
    git -C "$WORK/baseline-src" checkout -q "$BASELINE" || exit 1
    dotnet build "$WORK/baseline-src/Crm.Api/Crm.Api.csproj" -c Release -v quiet -nologo -o "$WORK/baseline-app" || exit 1
    set -- "$@" --baseline-app "$WORK/baseline-app/Crm.Api.dll"
    REVISION="$REVISION against $(git rev-parse --short "$BASELINE")"
fi

# The lanes bench reads per statement what a message costs (pg_stat_statements).
PRELOAD=()
if [ -n "$LANES" ]; then
    PRELOAD=("shared_preload_libraries = 'pg_stat_statements'")
fi

# fsync and synchronous_commit stay on (every commit pays a real WAL flush). Memory is sized
# for the data, as on a production server: the buffer cache holds 1 000 000 orders with
# their indexes (about 700 MB; 3 000 000 do not fit), and WAL may grow to 4 GB between
# checkpoints, so a bulk load is not interrupted by forced checkpoints. Everything else is
# PostgreSQL 15's default.
PGDATA_DIR="$WORK/pg"
pg_init_cluster "$PGDATA_DIR" "$PG_PASSWORD" \
    "shared_buffers = 1GB" \
    "max_wal_size = 4GB" "${PRELOAD[@]}" || exit 1

PORT="$(pg_start_on_free_port "$PGDATA_DIR" "$WORK")" || exit 1
pg_log "throwaway PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT ($PGDATA_DIR)"

dotnet bench/Crm.Bench/bin/Release/net10.0/Crm.Bench.dll \
    --postgres "Host=127.0.0.1;Port=$PORT;Username=postgres;Password=$PG_PASSWORD;Database=postgres" \
    --app "$WORK/app/Crm.Api.dll" \
    --work "$WORK/logs" \
    --server-log "$PGDATA_DIR/server.log" \
    --revision "$REVISION" \
    "$@"
RC=$?
if [ "$RC" -ne 0 ] && [ -d "$WORK/logs" ]; then
    echo "bench/run.sh: Crm.Bench exited with code $RC; last lines of the app's log:" >&2
    tail -n 30 "$WORK"/logs/*.log 2>/dev/null >&2 || true
fi
exit "$RC"
