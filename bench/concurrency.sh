#!/usr/bin/env bash
# How many clusters this machine holds at once (issue 13): for each N, starts N real scenarios
# at the same moment (the `local/` ones, in order, repeated if N is larger) and reports whether
# all passed, the wall time of the batch, the slowest run's cluster work, and the peak summed
# memory and CPU of every harness container. Use it to size UPGRADE_HARNESS_MAX_CLUSTERS for a
# CI runner (docs/performance.md). Nothing else should use Docker meanwhile.
# Usage: bash bench/concurrency.sh [N...]   (default: 1 3 6 9)
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 3 6 9)
cargo build --quiet
bin=./target/debug/upgrade-harness
mapfile -t pool < <(ls scenarios/local/*.yaml)
out=target/bench-concurrency
mkdir -p "$out"

# shellcheck source=bench/lib.sh
. bench/lib.sh

echo "| clusters at once | passed | batch wall (s) | cluster work per run, min-max (s) | peak memory (MiB) | peak CPU (%) | load average after |"
echo "|---:|---:|---:|---|---:|---:|---|"
for n in "${counts[@]}"; do
  start=$(date +%s.%N)
  pids=()
  for ((i = 0; i < n; i++)); do
    file=${pool[$((i % ${#pool[@]}))]}
    "$bin" run "$file" --out "$out/$n" >"$out/$n-$i.log" 2>&1 &
    pids+=($!)
  done
  peak_mem=0 peak_cpu=0
  alive() { for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done; return 1; }
  while alive; do
    read -r m c < <(sample_runs "${pids[@]}")
    [ "${m:-0}" -gt "$peak_mem" ] && peak_mem=$m
    [ "${c:-0}" -gt "$peak_cpu" ] && peak_cpu=$c
    sleep 1
  done
  passed=0
  for pid in "${pids[@]}"; do wait "$pid" && passed=$((passed + 1)) || true; done
  wall=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.1f", a - b }')
  # The last line of each run: "<scenario>: passed in 14.2s (11 phases); results in ...".
  spread=$(grep -ho ': [a-z]* in [0-9.]*s (' "$out/$n"-*.log | grep -o '[0-9.]*s' | tr -d s |
    sort -n | awk 'NR == 1 { min = $1 } { max = $1 } END { printf "%s-%s", min, max }')
  echo "| $n | $passed/$n | $wall | $spread | $peak_mem | $peak_cpu | $(cut -d' ' -f1-3 /proc/loadavg) |"
done
