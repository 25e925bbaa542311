#!/usr/bin/env bash
# Installs what a fresh machine lacks: the Debian libraries the Mesos builds link against,
# binutils for strip/readelf/objdump, g++ for the launchers, and cargo-nextest.
set -euo pipefail
pkgs=(libsvn1 libapr1 libaprutil1 libsasl2-2 libevent-2.1-7 libunwind8 binutils g++ gcc libc6-dev)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
command -v cargo-nextest >/dev/null 2>&1 || cargo install --locked cargo-nextest
