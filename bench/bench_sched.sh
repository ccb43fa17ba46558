#!/bin/sh
# Controlled scheduler benchmark: schedules per second on the race scenario,
# and how many schedules each strategy needs to find each broken variant's
# bug (with the latency windows, and without them: --latency-scale 0).
set -eu
bin=${1:-build/concdemo}
target=5000

echo "== schedules per second (race: 2 threads, 1 order)"
for fix in mutex keyed cas; do
    line=$($bin explore race --fixed=$fix --strategy=random --runs=20000 | head -1)
    echo "  ${line#explore }"
done
rate=$($bin explore race --fixed=mutex --strategy=random --runs=20000 --json |
       sed 's/.*"schedules_per_sec":\([0-9]*\).*/\1/')
verdict=OK; [ "$rate" -ge "$target" ] || verdict="UNDER TARGET"
echo "  race --fixed=mutex: $rate schedules/s (target >= $target): $verdict"

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
