# shellcheck shell=bash
# What the benches that run the app as a child process share (sourced after scripts/pg.sh,
# from the checkout's root).

# bench_prepare_work PREFIX: sets WORK to a new temp dir owned by the server user (postgres
# when root): it holds the data dir, the socket, the app's logs (logs/) and a copy of the
# app's build (app/). The app runs from that copy: a concurrent `dotnet build`/`dotnet test`
# in this checkout rewrites Crm.Api/bin/Release while the bench's app is running from it.
bench_prepare_work() {
    WORK="$(mktemp -d "/tmp/$1.XXXXXX")" || return 1
    pg_prepare_dir "$WORK" || return 1
    chmod 711 "$WORK"
    mkdir -p "$WORK/logs" "$WORK/app"
    cp -a Crm.Api/bin/Release/net10.0/. "$WORK/app/"
}

# The revision measured: HEAD, and how many tracked files differ from it.
bench_revision() {
    local revision dirty
    revision="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    dirty="$(git status --porcelain --untracked-files=no 2>/dev/null | wc -l)"
    if [ "$dirty" -gt 0 ]; then revision="$revision + $dirty uncommitted file(s)"; fi
    echo "$revision"
}

# Milliseconds between two times in seconds (date +%s.%N).
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

load() { awk '{ print $1" "$2" "$3 }' /proc/loadavg; }

# Before each timed part: no test run on this shared 2-core machine. Waits at most
# $MAX_WAIT seconds (0: not at all); prints the seconds waited, or "busy" if it gave up.
# Uses the sourcing script's say and warn.
wait_quiet() {
    local waited=0
    while [ "$MAX_WAIT" -gt 0 ] && pgrep -f "crm-test\.|dotnet test" >/dev/null; do
        if [ "$waited" -ge "$MAX_WAIT" ]; then
            warn "a test run is still going after ${MAX_WAIT}s; running anyway (load $(load))"
            echo "busy"
            return
        fi
        [ "$waited" -eq 0 ] && say "a test run is going; waiting for it to end (polling every 15 s)"
        sleep 15
        waited=$((waited + 15))
    done
    echo "$waited"
}
