#!/usr/bin/env bash
# Issue 6: how often does the harness catch the 1.4.3 agent without a `mesos-executor` file
# (the 1.11.0 master rejects its re-registration: "Task has an invalid ExecutorID")?
# Runs the regression test N times (default 10) and prints how many runs reported it.
# Usage: bash bench/repeat-executor-bug.sh [N]   (needs Docker and `upgrade-harness images build`)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10}"
test_name=issue_6_agent_1_4_without_mesos_executor_file_is_refused_by_the_new_master
cargo test --quiet --test tasks_live --no-run
caught=0
for i in $(seq 1 "$n"); do
  start=$(date +%s)
  if cargo test --quiet --test tasks_live -- --include-ignored --exact "$test_name" \
      >"target/repeat-executor-bug-$i.log" 2>&1; then
    caught=$((caught + 1)); verdict="reported at the master step"
  else
    verdict="NOT reported as expected (see target/repeat-executor-bug-$i.log)"
  fi
  echo "run $i: $verdict ($(( $(date +%s) - start )) s)"
done
echo "caught $caught of $n runs"
[ "$caught" -eq "$n" ]
