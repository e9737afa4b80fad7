#!/usr/bin/env bash
# HTTP and job benchmark of crm-minimal: latency and throughput of the API, the bare
# minimal-API peer, the order burst, Hangfire's raw throughput and job pick-up latency.
#
#   bench/http.sh                      the default run (about 10 minutes)
#   bench/http.sh --duration 3         shorter wrk runs (seconds); other options:
#   bench/http.sh --help               see Crm.Bench.Http's usage
#   bench/http.sh --phases enqueue     the job engine's own cost (issue 23; not in the default run)
#
# Starts its own throwaway PostgreSQL 15 (fsync on, as in production; pg_stat_statements
# loaded) on a free port, installs wrk when missing, builds Crm.Api, bench/BarePeer and
# bench/Crm.Bench.Http in Release, then runs the benchmark. It prints a table and writes
# bench/results/http-<timestamp>.json (git-ignored). The server is removed on exit.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
# shellcheck source=../scripts/pg.sh
. "$ROOT/scripts/pg.sh"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

PG_PASSWORD=postgres
WORK=""
PGDATA_DIR=""
APP_COPY=""

cleanup() {
    pg_throwaway_cleanup
    if [ -n "$APP_COPY" ]; then
        rm -rf "$APP_COPY"
        APP_COPY=""
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '==> %s\n' "$*"; }

# wrk is Debian's package; hey is not packaged in Debian 12, so wrk is the only load generator.
if ! command -v wrk >/dev/null 2>&1; then
    say "Installing wrk (Debian package)"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then sudo=(sudo -n); fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null ||
        { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
          "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } ||
        { echo "http.sh: could not install wrk (apt-get install wrk)" >&2; exit 1; }
fi

pg_ensure_installed || exit 1

say "Building Crm.Api, bench/BarePeer and bench/Crm.Bench.Http (Release)"
for project in Crm.Api/Crm.Api.csproj bench/BarePeer/BarePeer.csproj bench/Crm.Bench.Http/Crm.Bench.Http.csproj; do
    dotnet build "$project" -c Release -nologo -v q -clp:ErrorsOnly || { echo "http.sh: build of $project failed" >&2; exit 1; }
done

# The app runs from a copy of its build: a `dotnet test` or build in the checkout meanwhile
# rewrites Crm.Api/bin/Release, and the benchmark starts app processes until its end.
APP_COPY="$(mktemp -d /tmp/crm-bench-http-app.XXXXXX)" || exit 1
cp -r Crm.Api/bin/Release/net10.0/. "$APP_COPY/" || exit 1

WORK="$(mktemp -d /tmp/crm-bench-http.XXXXXX)" || exit 1
pg_prepare_dir "$WORK" || exit 1
PGDATA_DIR="$WORK/pg"
# fsync and synchronous_commit stay at their defaults (on): every enqueue and order write
# pays a real WAL flush, as in production. The buffer cache holds the whole data set
# (200 000 customers are about 150 MB with their indexes), as a production server's would.
pg_init_cluster "$PGDATA_DIR" "$PG_PASSWORD" \
    "max_connections = 300" \
    "shared_buffers = 512MB" \
    "max_wal_size = 4GB" \
    "shared_preload_libraries = 'pg_stat_statements'" || exit 1

PORT="$(pg_start_on_free_port "$PGDATA_DIR" "$WORK")" || exit 1
say "Throwaway PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (fsync on)"

export CRM_BENCH_POSTGRES="Host=127.0.0.1;Port=$PORT;Username=postgres;Password=$PG_PASSWORD;Database=postgres"
export CRM_BENCH_PG_LOG="$PGDATA_DIR/server.log"
dotnet bench/Crm.Bench.Http/bin/Release/net10.0/Crm.Bench.Http.dll --root "$ROOT" --app "$APP_COPY/Crm.Api.dll" "$@"
RC=$?
exit "$RC"
