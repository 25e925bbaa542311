#!/usr/bin/env bash
# How long certifying one module path takes (issue 14; target: under 2 minutes per path on 2
# cores): runs the module scenarios (the 1.10.0 -> 1.11.0 upgrade with the fixture Anonymous
# module on every node, and the stale-build must-fail) N times each with warm caches (the
# builds, fixtures and node image are made by the first run) and prints the wall time per run.
# Usage: bash bench/modules.sh [N]   (default: 3)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
cargo build --quiet
bin=./target/debug/upgrade-harness
out=target/bench-modules
mkdir -p "$out"
# Warm-up: builds (per-version Mesos, fixture modules, node image) are not what is measured.
"$bin" run scenarios/modules/anonymous-1.10.0-to-1.11.0.yaml --out "$out" >"$out/warmup.log" 2>&1 || true
echo "| scenario | run | exit | wall (s) |"
echo "|---|---:|---:|---:|"
for file in scenarios/modules/anonymous-1.10.0-to-1.11.0.yaml scenarios/must-fail/stale-module-build.yaml; do
  for ((i = 1; i <= n; i++)); do
    start=$(date +%s.%N)
    set +e
    "$bin" run "$file" --out "$out" >"$out/$(basename "$file" .yaml)-$i.log" 2>&1
    code=$?
    set -e
    end=$(date +%s.%N)
    printf '| %s | %d | %d | %.1f |\n' "$(basename "$file" .yaml)" "$i" "$code" "$(echo "$end - $start" | bc)"
  done
done
