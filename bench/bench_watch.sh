#!/bin/sh
# Cost of concdemo watch on a program that takes 10^7 uncontended locks
# (bench/watch_loop.c, plain pthreads): its time watched against its time
# alone, runs interleaved, the median ratio of 5. Target: at most 3x.
set -eu
bin=${1:-build/concdemo}
prog=$(mktemp /tmp/concdemo-watch-loop.XXXXXX)
trap 'rm -f "$prog"' EXIT
cc -O2 -pthread bench/watch_loop.c -o "$prog"
secs() { # the wall time of "$@" in seconds, output thrown away
    s=$(date +%s%N); "$@" > /dev/null; e=$(date +%s%N)
    echo "$(( (e - s) / 1000 ))"
}
ratios=""
for i in 1 2 3 4 5; do
    plain=$(secs "$prog")
    watched=$(secs "$bin" watch -- "$prog")
    ratios="$ratios $(awk -v w="$watched" -v p="$plain" 'BEGIN { printf "%.2f", w / p }')"
done
sorted=$(echo $ratios | tr ' ' '\n' | sort -n)
median=$(echo "$sorted" | sed -n 3p)
low=$(echo "$sorted" | head -1); high=$(echo "$sorted" | tail -1)
verdict=$(awk -v m="$median" 'BEGIN { print (m <= 3.0) ? "OK" : "OVER TARGET" }')
echo "== concdemo watch: 10^7 uncontended lock+unlock, watched / alone"
echo "  median ${median}x of 5 (${low}x .. ${high}x; target <= 3x): $verdict"
