#!/bin/sh
# Keyed lock against one global lock on real threads: race --fixed=keyed
# and --fixed=mutex with 8 checkouts (4 customers), orders per second,
# median of 5 runs each. The global mutex serialises every 2 ms gateway
# call; the keyed lock lets the 4 customers' calls overlap (target: keyed
# at least 2x the mutex). A speed figure, so it lives here and not in the
# tests, which check the overlap exactly on the virtual clock.
set -eu
bin=${1:-build/concdemo}

median_rate() {
    for i in 1 2 3 4 5; do
        $bin race --fixed="$1" --threads 8 --iterations 64 --json |
            sed 's/.*"orders_per_sec":\([0-9]*\).*/\1/'
    done | sort -n | sed -n 3p
}

echo "== keyed lock vs global mutex ($bin; race, 8 threads, 64 orders, median of 5)"
mutex=$(median_rate mutex)
keyed=$(median_rate keyed)
ratio=$(awk -v k="$keyed" -v m="$mutex" 'BEGIN { printf "%.2f", (m > 0) ? k / m : 0 }')
verdict=OK
awk -v r="$ratio" 'BEGIN { exit !(r >= 2) }' || verdict="UNDER TARGET"
echo "  mutex $mutex orders/s, keyed $keyed orders/s: keyed is ${ratio}x (target >= 2x): $verdict"
