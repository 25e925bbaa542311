#!/usr/bin/env bash
# Installs what a fresh machine lacks: the Debian libraries the Mesos builds link against
# (docs/images.md), binutils for strip/readelf/objdump, g++/gcc for the launchers and node-init,
# static glibc for node-init, ZooKeeper and a JDK (jlink) for the ZooKeeper node, jq (the CI
# templates read the matrix with it), check-jsonschema (tests/ci_templates.rs validates
# ci/templates/ with it), cargo-nextest, and cargo-insta (failing snapshot tests say
# `cargo insta review`).
#
# Runs as root (containers, this project's CI) or as a user with sudo (hosted CI runners):
# only apt-get needs root, and it goes through sudo when the user is not root. Run it as the
# user who builds, not with sudo: cargo's tools and check-jsonschema go to that user.
#
# Usage: bash ci/install-deps.sh [--without-cargo-tools]
#   --without-cargo-tools  skip cargo-nextest, cargo-insta and the rustup components: for CI
#                          jobs that only run the harness binary, or that install them prebuilt
set -euo pipefail
cargo_tools=true
for arg in "$@"; do
  case "$arg" in
    --without-cargo-tools) cargo_tools=false ;;
    *) echo "install-deps: unknown option $arg; usage: $0 [--without-cargo-tools]" >&2; exit 2 ;;
  esac
done

pkgs=(binutils g++ gcc libc6-dev python3-pip python3-venv jq libsvn1 libapr1 libaprutil1
      libsasl2-2 libevent-2.1-7 libevent-pthreads-2.1-7 libunwind8 zlib1g zookeeper
      openjdk-17-jdk-headless)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "install-deps: installing ${missing[*]} needs root: run this as root, or as a user who can use sudo" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}${as_root[0]:+ (through sudo)}"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# check-jsonschema from PyPI, pinned: the GitHub and GitLab schemas it ships are what the
# templates are validated against. In a venv of its own, because Debian's and Ubuntu's
# Python refuse pip installs into the system (PEP 668): for root one for every user, linked
# into /usr/local/bin; for a user one in their home, linked into ~/.local/bin.
# Measured: 9 s from PyPI into an empty venv (python3 -m venv + pip, no pip cache).
check_jsonschema_version=0.39.0
if [ "$(check-jsonschema --version 2>/dev/null)" != "check-jsonschema, version $check_jsonschema_version" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    venv=/opt/upgrade-harness/check-jsonschema bin=/usr/local/bin
  else
    venv="${XDG_DATA_HOME:-$HOME/.local/share}/upgrade-harness/check-jsonschema" bin="$HOME/.local/bin"
  fi
  echo "installing: check-jsonschema $check_jsonschema_version in $venv"
  python3 -m venv --clear "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "check-jsonschema==$check_jsonschema_version"
  mkdir -p "$bin"
  ln -sf "$venv/bin/check-jsonschema" "$bin/check-jsonschema"
  case ":$PATH:" in
    *":$bin:"*) ;;
    *) echo "install-deps: $bin is not on PATH; add it, or the template tests cannot find check-jsonschema" >&2 ;;
  esac
fi

$cargo_tools || exit 0
command -v cargo-nextest >/dev/null 2>&1 || cargo install --locked cargo-nextest
# Once per machine: 3 min 45 s measured (66 crates, release build, 2 cores shared, load ~7).
command -v cargo-insta >/dev/null 2>&1 || cargo install --locked cargo-insta
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt || true
