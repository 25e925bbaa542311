#!/usr/bin/env bash
# Issue 7: wall time and memory of an HA scenario (3 masters + ZooKeeper) next to the
# single-master one of the same path. For each path, runs scenarios/local/<path>.yaml and
# scenarios/local-ha/<path>.yaml one after the other (nothing else should run meanwhile) and
# samples `docker stats` of the run's containers every 2 s; prints a markdown table with the
# harness's own "passed in" time (cluster work, without image preparation), the command's wall
# time, and the peak of the summed container memory.
# Usage: bash bench/ha-vs-single.sh [PATH...]   e.g. 1.10.0-to-1.11.0 (the default)
set -euo pipefail
cd "$(dirname "$0")/.."
paths=("$@")
[ ${#paths[@]} -gt 0 ] || paths=(1.10.0-to-1.11.0)
cargo build --quiet
bin=./target/debug/upgrade-harness
# shellcheck source=bench/lib.sh
. bench/lib.sh
echo "| scenario | result | cluster work (s) | wall (s) | peak memory (MiB) | containers |"
echo "|---|---|---|---|---|---|"
for p in "${paths[@]}"; do
  for dir in local local-ha; do
    file="scenarios/$dir/$p.yaml"
    log="target/bench-$dir-$p.log"
    start=$(date +%s.%N)
    "$bin" run "$file" >"$log" 2>&1 &
    pid=$!
    peak=0; most=0
    while kill -0 "$pid" 2>/dev/null; do
      # This run's containers only (another run's would inflate the peak).
      read -r m _ < <(sample_runs "$pid")
      n=$(docker ps -q --filter "label=upgrade-harness.owner-pid=$pid" | wc -l)
      [ "${m:-0}" -gt "$peak" ] && peak=$m
      [ "$n" -gt "$most" ] && most=$n
      sleep 2
    done
    rc=0; wait "$pid" || rc=$?
    wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
    work=$(grep -o 'in [0-9.]*s (' "$log" | tail -1 | tr -dc '0-9.')
    result=$([ $rc -eq 0 ] && echo passed || echo "FAILED ($log)")
    printf '| %s/%s | %s | %s | %.1f | %s | %s |\n' "$dir" "$p" "$result" "$work" "$wall" "$peak" "$most"
  done
done
