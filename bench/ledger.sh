#!/usr/bin/env bash
# The change ledger's cost (issue: "≤ 15% on the 1M-order first sync and on a force sync that
# changes 10% of customers"), measured from outside through the real app: bench/run.sh's
# throwaway PostgreSQL 15 (fsync on, shared_buffers 1GB, max_wal_size 4GB) and Release builds,
# then Crm.Bench --ledger.
#
#   bench/ledger.sh                                   100 000 and 1 000 000 orders, 3 pairs each (~10 min)
#   bench/ledger.sh --orders 100000 --runs 5          one size, 5 pairs (~3 min)
#   bench/ledger.sh --orders 1000000 --runs 3 --explain   plus the plans of one customer's statistics job
#   bench/ledger.sh --orders 1000000 --breakdown      plus where the ledger's time goes (by SQL, trigger variants)
#   bench/ledger.sh --scale 100000,1000000,10000000   up to 10M orders (about 1 1/2 h, ~20 GB in /tmp)
#
# Per size, on one database loaded once (binary COPY of the generated orders, phones = orders / 5),
# the ledger's triggers enabled vs disabled in alternating pairs: (a) the first full sync into an
# empty customers table, (b) a force sync after 10% of the customers' latest orders got a new
# email and city, (c) the dry run of that force sync against the real one, and the revert of
# the real one. Every result is checked by SQL (customers, ledger rows per field). Prints one
# table per size and writes bench/results/ledger-<timestamp>.json. See bench/README.md.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

SIZE_GIVEN=""
for ARG in "$@"; do
    case "$ARG" in --orders|--scale) SIZE_GIVEN=1 ;; esac
done
if [ -z "$SIZE_GIVEN" ]; then
    set -- --scale 100000,1000000 "$@"
fi
exec "$ROOT/bench/run.sh" --ledger "$@"
