#!/bin/sh
# Formatting check, as CI runs it.
set -eu
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
