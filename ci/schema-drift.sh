#!/bin/sh
# Regenerates scenarios/schema.json (the scenario format) and module-fixtures/certify.schema.json
# (the certification manifest) from their models and fails if a committed file differs.
# Fix a failure with: cargo run -q -- schema > scenarios/schema.json
#                     cargo run -q -- schema --certify > module-fixtures/certify.schema.json
set -eu
cd "$(dirname "$0")/.."
generated="$(mktemp)"
trap 'rm -f "$generated"' EXIT
check() {
    committed="$1"
    shift
    cargo run -q --locked -- schema "$@" > "$generated"
    if ! diff -u "$committed" "$generated"; then
        echo "$committed is stale: run 'cargo run -q -- schema $* > $committed' and commit it" >&2
        exit 1
    fi
    echo "$committed is current"
}
check scenarios/schema.json
check module-fixtures/certify.schema.json --certify
