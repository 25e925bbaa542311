#!/usr/bin/env bash
# Runs the README's first command (the first line of its first ```sh block, read from
# README.md itself) in a fresh clone of this repository with an empty target dir, as a new
# user would. Clones the committed HEAD: uncommitted changes are not part of the test.
# Slow: a full debug compile plus one real scenario run (Docker needed).
#
# Usage: bash ci/readme-commands.sh [--print] [--keep] [--here-if-fresh]
#   --print          only print the command
#   --keep           keep the clone (its path is printed) instead of removing it
#   --here-if-fresh  when this checkout is itself a fresh clone (no target/ yet, nothing
#                    modified: what CI starts from), run the command right here instead of in
#                    another clone: the same test, and its build serves the steps after it
#                    (.ci/run uses this)
set -euo pipefail
repo="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
print_only=false keep=false here_if_fresh=false
for arg in "$@"; do
  case "$arg" in
    --print) print_only=true ;;
    --keep) keep=true ;;
    --here-if-fresh) here_if_fresh=true ;;
    *) echo "readme-commands: unknown option $arg; usage: $0 [--print] [--keep] [--here-if-fresh]" >&2; exit 2 ;;
  esac
done

cmd="$(awk '/^```sh[[:space:]]*$/ { getline; print; exit }' "$repo/README.md")"
if [ -z "$cmd" ]; then
  echo "readme-commands: $repo/README.md has no \`\`\`sh block with a first line" >&2
  exit 2
fi
if $print_only; then
  printf '%s\n' "$cmd"
  exit 0
fi

fresh_here() {
  [ ! -e "$repo/target" ] && [ -z "${CARGO_TARGET_DIR:-}" ] \
    && [ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ]
}
if $here_if_fresh && fresh_here; then
  echo "readme-commands: this checkout is a fresh clone of $(git -C "$repo" rev-parse --short HEAD) with no target/; here:"
  printf '  %s\n' "$cmd"
  started=$(date +%s)
  set +e
  (cd "$repo" && bash -c "$cmd")
  code=$?
  set -e
  echo "readme-commands: exit $code after $(( $(date +%s) - started ))s"
  exit "$code"
fi

clone="$(mktemp -d "${TMPDIR:-/tmp}/readme-commands.XXXXXX")"
if $keep; then
  trap 'echo "readme-commands: clone kept in $clone"' EXIT
else
  trap 'rm -rf "$clone"' EXIT
fi
git clone -q "$repo" "$clone"
echo "readme-commands: in a fresh clone of $(git -C "$repo" rev-parse --short HEAD) ($clone):"
printf '  %s\n' "$cmd"
started=$(date +%s)
set +e
# No inherited target dir: the clone's own target/ starts empty.
(cd "$clone" && env -u CARGO_TARGET_DIR bash -c "$cmd")
code=$?
set -e
echo "readme-commands: exit $code after $(( $(date +%s) - started ))s"
exit "$code"
