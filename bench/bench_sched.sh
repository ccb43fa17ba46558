#!/bin/sh
# Controlled scheduler benchmark: schedules per second (race at 50,000/s,
# every scenario at its explore size at 5,000/s: medians of 5 interleaved
# repetitions), and how many schedules each strategy needs to find each
# broken variant's bug (with the latency windows, and without them:
# --latency-scale 0).
set -eu
bin=${1:-build/concdemo}

# One exploration's rate: schedules per second of wall time, and per
# second of the process's CPU time (what the machine's load leaves out).
rate() {
    out=$($bin explore "$@" --json 2>/dev/null) || true
    wall=$(echo "$out" | sed -n 's/.*"schedules_per_sec":\([0-9]*\).*/\1/p')
    cpu=$(echo "$out" | sed -n 's/.*"runs":\([0-9]*\).*"cpu_seconds":\([0-9.]*\).*/\1 \2/p' |
          awk '{ printf "%.0f", ($2 > 0) ? $1 / $2 : 0 }')
    echo "${wall:-0} ${cpu:-0}"
}

# Median over 5 interleaved repetitions of each exploration (one rep of
# every row, then the next), with the spread: a noisy run cannot flip a
# verdict. Prints one row per exploration and judges it against its target.
rows() {
    target=$1; shift
    : >"$tmp"
    for rep in 1 2 3 4 5; do
        for row in "$@"; do
            # shellcheck disable=SC2086
            echo "$row $(rate $row)" >>"$tmp"
        done
    done
    for row in "$@"; do
        walls=$(awk -v row="$row " 'index($0, row) == 1 { print $(NF - 1) }' "$tmp" | sort -n)
        cpus=$(awk -v row="$row " 'index($0, row) == 1 { print $NF }' "$tmp" | sort -n)
        med=$(echo "$walls" | sed -n 3p)
        verdict=OK; [ "$med" -ge "$target" ] || verdict="UNDER TARGET"
        printf '  %-58s %6s/s (spread %s-%s; %s/s per CPU second)  target >= %s: %s\n' \
            "$row" "$med" "$(echo "$walls" | head -1)" "$(echo "$walls" | tail -1)" \
            "$(echo "$cpus" | sed -n 3p)" "$target" "$verdict"
    done
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== schedules per second, median of 5 (load average $load on $(nproc) CPUs)"
echo "  race at its explore size (2 threads, 1 order), random:"
rows 50000 "race --fixed=mutex --strategy=random --runs=10000"
echo "  every scenario at its explore size, its recommended fix, pct:"
set --
for scenario in $($bin list --json | grep -o '"name":"[a-z-]*"' | cut -d'"' -f4); do
    # A scenario of processes cannot be explored (concdemo explore says so).
    $bin explore "$scenario" --runs 1 >/dev/null 2>&1 || [ $? -eq 1 ] || continue
    set -- "$@" "$scenario --fixed --strategy=pct --runs=2000 --budget=1"
done
rows 5000 "$@"

echo "== schedules needed to find each broken variant's bug"
for scenario in $($bin list --json | grep -o '"name":"[a-z-]*"' | cut -d'"' -f4); do
    for scale in 1 0; do
        for strategy in pct random dfs; do
            out=$($bin explore "$scenario" --strategy=$strategy --latency-scale $scale \
                  --budget 20 --runs 100000 --json 2>/dev/null || true)
            runs=$(echo "$out" | sed 's/.*"runs":\([0-9]*\).*/\1/')
            found=$(echo "$out" | grep -q '"found":true' && echo found || echo "NOT found")
            printf '  %-12s latency x%s  %-6s %s after %s schedule(s)\n' \
                "$scenario" "$scale" "$strategy" "$found" "$runs"
        done
    done
done
