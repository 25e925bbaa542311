#!/bin/sh
# Regenerates scenarios/schema.json from the model and fails if the committed file differs.
# Fix a failure with: cargo run -q -- schema > scenarios/schema.json
set -eu
cd "$(dirname "$0")/.."
generated="$(mktemp)"
trap 'rm -f "$generated"' EXIT
cargo run -q --locked -- schema > "$generated"
if ! diff -u scenarios/schema.json "$generated"; then
    echo "scenarios/schema.json is stale: run 'cargo run -q -- schema > scenarios/schema.json' and commit it" >&2
    exit 1
fi
echo "scenarios/schema.json is current"
