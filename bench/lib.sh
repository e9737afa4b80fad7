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
