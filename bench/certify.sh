#!/usr/bin/env bash
# How long certifying one module path takes (issue 14; target: under 2 minutes per path on 2
# cores): `upgrade-harness certify` on the fixture manifest, one path at a time (--only, one
# cluster at a time, --fresh so that the path really runs), N times each, warm caches (the
# Mesos builds, fixture modules and node images are made by a warm-up run). Each run is the
# whole certification of the path: both versions alone, the rolling upgrade with the module,
# every bad fixture on both versions, and the stale-build control through the upgrade.
# Usage: bash bench/certify.sh [N] [PATH_REGEX]   (default: 1, every path of the manifest)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1}
only=${2:-}
cargo build --quiet
bin=./target/debug/upgrade-harness
manifest=module-fixtures/certify.yaml
out=target/bench-certify
mkdir -p "$out"
paths=$(grep -oE '^  - [0-9.]+-to-[0-9.]+' "$manifest" | sed 's/^  - //')
if [ -n "$only" ]; then
  paths=$(echo "$paths" | grep -E "$only")
fi
# Warm-up (not measured): builds and images.
"$bin" certify "$manifest" --out "$out/warmup" --jobs 2 >"$out/warmup.log" 2>&1 || true
echo "| path | run | exit | verdicts | wall (s) |"
echo "|---|---:|---:|---|---:|"
for p in $paths; do
  for ((i = 1; i <= n; i++)); do
    log="$out/$p-$i.log"
    start=$(date +%s.%N)
    set +e
    "$bin" certify "$manifest" --only "^${p//./\\.}\$" --jobs 1 --fresh --out "$out/$p-$i" >"$log" 2>&1
    code=$?
    set -e
    end=$(date +%s.%N)
    verdicts=$(grep -oE '[0-9]+ of [0-9]+ verdicts as required' "$log" || echo '?')
    printf '| %s | %d | %d | %s | %.1f |\n' "$p" "$i" "$code" "$verdicts" "$(echo "$end - $start" | bc)"
  done
done
