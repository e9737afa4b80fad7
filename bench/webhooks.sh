#!/usr/bin/env bash
# Signed outbound webhooks under load (issue: "a recalculation that moves 50 000 customers —
# time to write the events, time until the receiver has them all, requests sent"), measured
# from outside through the real app: bench/run.sh's throwaway PostgreSQL 15 (fsync on,
# shared_buffers 1GB, max_wal_size 4GB) and Release builds, then Crm.Bench --webhooks.
#
#   bench/webhooks.sh                                  100 000 and 1 000 000 orders, 3 pairs each
#   bench/webhooks.sh --orders 1000000 --runs 5        one size, 5 pairs
#   bench/webhooks.sh --orders 10000000 --runs 3       10M orders (~20 GB in /tmp)
#   bench/webhooks.sh --orders 1000000 --moved 10000   another number of customers moved
#
# Per size, on one database loaded once (binary COPY of the generated orders, phones = orders / 5)
# and synced, with a receiver in the bench's process (Kestrel on 127.0.0.1, every request
# verified with StandardWebhooks): a recalculation that moves --moved customers across the
# inactivity threshold, with one subscription to customer.category_changed vs none enabled, in
# alternating pairs; with the subscription, until the receiver has every event. Then the plans
# of the trigger and the delivery's statements (auto_explain, one more run). Every run is
# checked by SQL. Prints one table per size and writes bench/results/webhooks-<timestamp>.json.
# See bench/README.md.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

SIZE_GIVEN=""
for ARG in "$@"; do
    case "$ARG" in --orders|--scale) SIZE_GIVEN=1 ;; esac
done
if [ -z "$SIZE_GIVEN" ]; then
    set -- --scale 100000,1000000 "$@"
fi
exec "$ROOT/bench/run.sh" --webhooks "$@"
