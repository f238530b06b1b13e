#!/usr/bin/env bash
# Installs the Debian packages admitsim needs to build, test and plot
# (libtsan2: the ThreadSanitizer runtime of the test command's TSan build;
# clang: the test command also compiles everything with clang -Werror).
# Idempotent: does nothing when every package is already present.
set -euo pipefail

packages=(build-essential cmake pkg-config libgsl-dev libsqlite3-dev
          libcmocka-dev libjansson-dev gnuplot-nox sqlite3 valgrind python3
          python3-jsonschema libtsan2 clang
          libuv1-dev libcurl4-openssl-dev libmicrohttpd-dev)  # live runs and the mock

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
