# shellcheck shell=bash
# What the tests need beyond the .NET SDK and PostgreSQL, installed when missing, for
# test.sh. Source this file, do not execute it.
#
#   tools_ensure_debian PACKAGE:PATH...  install each Debian PACKAGE whose PATH is missing
#                                        (as root; else sudo -n; else say what to run)
#   tools_ensure_redocly                 the Redocly CLI, at the version the OpenAPI lint
#                                        test names, in .tools/redocly of the checkout
#
# Each says what it installs and why on stderr, and prints the installer's output only
# when it fails.

tools_log() { printf '[tools] %s\n' "$*" >&2; }

# Runs apt-get as root: directly, or with sudo when it needs no password.
tools_apt_get() {
    local -a sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            return 1
        fi
    fi
    # Another apt-get (an unattended upgrade) may hold the lock for a while: wait for it.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"
}

tools_ensure_debian() {
    local spec package path out
    local -a missing=()
    for spec in "$@"; do
        package="${spec%%:*}"
        path="${spec#*:}"
        [ -e "$path" ] || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        tools_log "ERROR: the tests need ${missing[*]}; install them with your package manager."
        return 1
    fi
    tools_log "installing Debian package(s) the tests need: ${missing[*]}"
    if ! out="$(tools_apt_get update -qq 2>&1 && tools_apt_get install -y -qq "${missing[@]}" 2>&1)"; then
        printf '%s\n' "$out" >&2
        tools_log "ERROR: could not install ${missing[*]} (as root: apt-get install ${missing[*]})."
        return 1
    fi
}

tools_ensure_redocly() {
    local root version cli out
    root="$(pwd)"
    # One version, named where the test that uses it is.
    version="$(sed -n 's/.*RedoclyVersion = "\([^"]*\)".*/\1/p' "$root/Crm.Tests/Host/OpenApiLintTests.cs")"
    if [ -z "$version" ]; then
        tools_log "ERROR: no RedoclyVersion in Crm.Tests/Host/OpenApiLintTests.cs."
        return 1
    fi
    cli="$root/.tools/redocly/node_modules/.bin/redocly"
    if [ "$(REDOCLY_TELEMETRY=off "$cli" --version 2>/dev/null)" = "$version" ]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        tools_ensure_debian npm:/usr/bin/npm || return 1
    fi
    tools_log "installing @redocly/cli $version into .tools/redocly (the OpenAPI lint test)"
    if ! out="$(npm install --prefix "$root/.tools/redocly" --no-audit --no-fund "@redocly/cli@$version" 2>&1)"; then
        printf '%s\n' "$out" >&2
        tools_log "ERROR: npm could not install @redocly/cli $version."
        return 1
    fi
}
