#!/bin/sh
# db-race's fixes on real processes: checkouts per second (each order is
# submitted twice, so a checkout is one submission) with 1, 4 and 16
# instances, median of 3 runs of 64 orders each, on SQLite and, when
# DB_RACE_PG names a server (postgresql://...), on PostgreSQL. No target:
# the table is the worksheet's (lessons/19-db-race.md), the ranking is the
# lesson - how much of each fix's time is spent holding a lock across the
# 2 ms gateway call. A speed figure, so it lives here and not in the tests.
set -eu
bin=${1:-build/concdemo}

rate() { # fix instances [--db URL]
    $bin db-race --fixed="$1" --instances "$2" --iterations 64 ${3:+--db "$3"} \
        --json | sed 's/.*"checkouts_per_sec":\([0-9]*\).*/\1/'
}

table() { # label db fixes... (db "": a temporary SQLite file each run)
    label=$1 db=$2
    shift 2
    echo "== db-race on $label ($bin; 64 orders, checkouts/s, median of 3)"
    printf '  %-10s %8s %8s %8s\n' fix 1 4 16
    for fix in "$@"; do
        printf '  %-10s' "$fix"
        for n in 1 4 16; do
            printf ' %8s' "$(for k in 1 2 3; do rate "$fix" "$n" "$db"; done |
                sort -n | sed -n 2p)"
        done
        echo
    done
}

table SQLite "" cas tx unique
if [ -n "${DB_RACE_PG:-}" ]; then
    table PostgreSQL "$DB_RACE_PG" cas tx unique advisory
fi
