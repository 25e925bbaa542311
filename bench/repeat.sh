#!/usr/bin/env bash
# No flakes (issue 13): runs every real scenario of the suite (the `run::` trials of the
# scenario tests: the whole runnable matrix) K times, at the concurrency the suite uses
# (UPGRADE_HARNESS_MAX_CLUSTERS, default 6), and reports per repeat the passed and failed
# counts and the wall time, then the total of failures. Nothing else should use Docker meanwhile.
# Usage: bash bench/repeat.sh [K]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
k=${1:-5}
export CI=true # Docker unreachable fails instead of skipping
cargo nextest run --profile ci --no-run 2>/dev/null || cargo build --tests --quiet
failures=0
echo "| repeat | passed | failed | wall (s) |"
echo "|---:|---:|---:|---:|"
for ((i = 1; i <= k; i++)); do
  log="target/bench-repeat-$i.log"
  start=$(date +%s)
  cargo nextest run --profile ci --no-fail-fast -E 'binary(scenarios) & test(/^run::/)' >"$log" 2>&1 || true
  summary=$(grep -E '^ +Summary ' "$log" | tail -1)
  passed=$(echo "$summary" | grep -o '[0-9]* passed' | cut -d' ' -f1)
  failed=$(echo "$summary" | grep -o '[0-9]* failed' | cut -d' ' -f1)
  failures=$((failures + ${failed:-0}))
  echo "| $i | ${passed:-?} | ${failed:-0} | $(($(date +%s) - start)) |"
  grep -E '^ +FAIL ' "$log" | sort -u | sed 's/^/    /' || true
done
echo
echo "failures over $k repeats: $failures"
