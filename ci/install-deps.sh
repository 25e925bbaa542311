#!/usr/bin/env bash
# Installs what a fresh machine lacks: the Debian libraries the Mesos builds link against
# (docs/images.md), binutils for strip/readelf/objdump, g++/gcc for the launchers and node-init,
# static glibc for node-init, ZooKeeper and a JDK (jlink) for the ZooKeeper node, cargo-nextest,
# and cargo-insta (failing snapshot tests say `cargo insta review`).
set -euo pipefail
pkgs=(binutils g++ gcc libc6-dev python3-pip libsvn1 libapr1 libaprutil1 libsasl2-2
      libevent-2.1-7 libevent-pthreads-2.1-7 libunwind8 zlib1g zookeeper openjdk-17-jdk-headless)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
command -v cargo-nextest >/dev/null 2>&1 || cargo install --locked cargo-nextest
# Once per machine: 3 min 45 s measured (66 crates, release build, 2 cores shared, load ~7).
command -v cargo-insta >/dev/null 2>&1 || cargo install --locked cargo-insta
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt || true
