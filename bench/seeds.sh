#!/usr/bin/env bash
# Randomized runs (issue 17): `upgrade-harness run --seed N` over the real paths, N seeds in
# all, spread round-robin over scenarios/local/*.yaml; one line per run (seed, scenario,
# verdict, seconds, what the seed varied, the first failure), and the replay command of each
# failed one. Docker needed; run alone.
#   bash bench/seeds.sh [N] [FIRST_SEED]
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
first=${2:-1}
bin=./target/debug/upgrade-harness
out=target/upgrade-harness-seeds
mkdir -p "$out"
mapfile -t files < <(ls scenarios/local/*.yaml)
printf '%-6s %-40s %-8s %7s  %s\n' seed scenario verdict seconds "varied / first failure"
for i in $(seq 0 $((n - 1))); do
  seed=$((first + i))
  file=${files[$((i % ${#files[@]}))]}
  log="$out/seed-$seed.log"
  started=$(date +%s)
  "$bin" run "$file" --seed "$seed" --out "$out" >"$log" 2>&1
  code=$?
  took=$(( $(date +%s) - started ))
  varied=$("$bin" plan "$file" --seed "$seed" | sed -n '/^seed:/,/^nodes:/p' | grep '^  ' | sed 's/^  //' | paste -sd ';' -)
  if [ "$code" -eq 0 ]; then verdict=passed; why=""; else verdict="FAILED($code)"; why=" | $(grep -m1 -E '^FAIL|^  ×|failed' "$log" | cut -c1-200)"; fi
  printf '%-6s %-40s %-8s %7s  %s%s\n' "$seed" "$(basename "$file" .yaml)" "$verdict" "$took" "${varied:-nothing}" "$why"
  [ "$code" -eq 0 ] || echo "       replay: $bin run $file --seed $seed   (log: $log)"
done
