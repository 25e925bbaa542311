#!/usr/bin/env bash
# Where the time of a real upgrade goes (issue 13). Runs each scenario alone, one after the
# other (nothing else should use Docker meanwhile), samples `docker stats` of that run's
# containers every second, then prints `upgrade-harness timing` for the run: per phase the
# actions, the floor (what Mesos itself needed, from its own log timestamps), saving logs,
# judging, probing; the ratio of cluster work to floor; the agents' longest absence against the
# ping budget; and the peak summed memory and CPU of the run's containers.
# Usage: bash bench/speed.sh [SCENARIO...]   (default: scenarios/local/1.10.0-to-1.11.0.yaml)
set -euo pipefail
cd "$(dirname "$0")/.."
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(scenarios/local/1.10.0-to-1.11.0.yaml)
cargo build --quiet
bin=./target/debug/upgrade-harness
out=target/bench-speed
mkdir -p "$out"

# shellcheck source=bench/lib.sh
. bench/lib.sh

for file in "${files[@]}"; do
  log="$out/$(basename "$file" .yaml).log"
  start=$(date +%s.%N)
  "$bin" run "$file" --out "$out" >"$log" 2>&1 &
  pid=$!
  peak_mem=0 peak_cpu=0
  while kill -0 "$pid" 2>/dev/null; do
    read -r m c < <(sample_runs "$pid")
    [ "${m:-0}" -gt "$peak_mem" ] && peak_mem=$m
    [ "${c:-0}" -gt "$peak_cpu" ] && peak_cpu=$c
    sleep 1
  done
  status=0; wait "$pid" || status=$?
  wall=$(awk -v a="$(date +%s.%N)" -v b="$start" "BEGIN { print a - b }")
  folder=$(grep -o 'results in [^ ]*' "$log" | tail -1 | cut -d' ' -f3)
  echo "## $file (exit $status, command wall $(printf %.1f "$wall") s; peak of the run's containers: ${peak_mem} MiB, ${peak_cpu} % CPU)"
  echo
  if [ -n "$folder" ]; then "$bin" timing "$folder"; else tail -5 "$log"; fi
  echo
done
