#!/bin/sh
# Lints on every target (library, binary, tests); warnings fail.
set -eu
cd "$(dirname "$0")/.."
cargo clippy --all-targets --locked -- -D warnings
