#!/usr/bin/env bash
# Runs the whole test suite against a throwaway PostgreSQL server.
#
#   ./test.sh                                  all tests
#   ./test.sh --filter "FullyQualifiedName~Search"   extra args go to `dotnet test`
#
# Installs what the tests need when it is missing (scripts/test-tools.sh: chromium and
# docker-compose from Debian as root, the pinned Redocly CLI into .tools/), checks the
# code's format (whole runs only), starts PostgreSQL on a free port in a temp dir,
# exports CRM_TEST_POSTGRES, runs `dotnet test -c Release`, then removes the server
# (also on failure or Ctrl-C). The last line of output is "N passed, N failed, N skipped", summed
# over the TRX files of all test assemblies. Exit code is non-zero if the build
# fails, any test fails, or no test ran.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT" || exit 1
# shellcheck source=scripts/pg.sh
. "$ROOT/scripts/pg.sh"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

PG_PASSWORD=postgres
WORK=""
PGDATA_DIR=""

trap pg_throwaway_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_ensure_installed || exit 1

# What the tests need besides PostgreSQL, installed when missing: Debian's Chromium (the
# dashboard's browser tests), docker-compose v1 (validates docker-compose.yml without an
# engine), the pinned Redocly CLI (the OpenAPI lint test).
# shellcheck source=scripts/test-tools.sh
. "$ROOT/scripts/test-tools.sh"
tools_ensure_debian chromium:/usr/bin/chromium docker-compose:/usr/bin/docker-compose || exit 1
tools_ensure_redocly || exit 1

# The code's layout is checked with the whole suite (a filtered run is for a quick look).
FORMAT_RC=0
if [ $# -eq 0 ]; then
    echo "test.sh: dotnet format --verify-no-changes"
    dotnet format crm-minimal.sln --verify-no-changes || FORMAT_RC=$?
fi

# The temp dir is owned by the server user (postgres when root): it holds the
# data dir and the socket. Test results are written into it by us.
WORK="$(mktemp -d /tmp/crm-test.XXXXXX)" || exit 1
pg_prepare_dir "$WORK" || exit 1
RESULTS="$WORK/results"
mkdir -p "$RESULTS"

PGDATA_DIR="$WORK/pg"
pg_init_cluster "$PGDATA_DIR" "$PG_PASSWORD" \
    "max_connections = 400" \
    "fsync = off" \
    "synchronous_commit = off" \
    "full_page_writes = off" || exit 1

PORT="$(pg_start_on_free_port "$PGDATA_DIR" "$WORK")" || exit 1
pg_log "throwaway PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT ($PGDATA_DIR)"

export CRM_TEST_POSTGRES="Host=127.0.0.1;Port=$PORT;Username=postgres;Password=$PG_PASSWORD;Database=postgres"

# Which solution to test: crm-minimal.sln, else crm-minimal.slnx, else let dotnet find one.
SOLUTION=()
for s in crm-minimal.sln crm-minimal.slnx; do
    if [ -f "$s" ]; then SOLUTION=("$s"); break; fi
done

dotnet test "${SOLUTION[@]}" -c Release \
    --results-directory "$RESULTS" \
    --logger trx \
    "$@"
TEST_RC=$?

# Sum the <Counters .../> element of every TRX file (one per test assembly and
# target framework; the default TRX names are made unique by the logger itself,
# unlike LogFileName/LogFilePrefix, which can collide between assemblies).
# Skipped tests are not in any counter of their own (notExecuted stays 0 for
# xunit skips): skipped = total - executed. error/timeout/aborted count as failed.
read -r PASSED FAILED SKIPPED TRX_FILES < <(
    find "$RESULTS" -name '*.trx' -type f -print0 2>/dev/null |
        xargs -0 -r grep -h -o '<Counters [^>]*>' 2>/dev/null |
        awk '
            function attr(name,   m) {
                if (match($0, " " name "=\"[0-9]+\"")) {
                    m = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", m); return m + 0
                }
                return 0
            }
            { n++; p += attr("passed"); f += attr("failed") + attr("error") + attr("timeout") + attr("aborted"); s += attr("total") - attr("executed") }
            END { printf "%d %d %d %d\n", p, f, s, n }'
)

pg_throwaway_cleanup

RC=0
if [ "$FORMAT_RC" -ne 0 ]; then
    echo "test.sh: dotnet format found code to reformat (run: dotnet format crm-minimal.sln)"
    RC=1
fi
if [ "$TEST_RC" -ne 0 ]; then
    RC="$TEST_RC"
    if [ "$FAILED" -eq 0 ]; then
        echo "test.sh: dotnet test exited with code $TEST_RC ($TRX_FILES result file(s); build error or test host crash?)"
    fi
elif [ "$FAILED" -gt 0 ]; then
    RC=1
elif [ $((PASSED + FAILED)) -eq 0 ]; then
    echo "test.sh: no tests ran"
    RC=1
fi
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
exit "$RC"
