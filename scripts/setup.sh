#!/usr/bin/env bash
# Installs the Debian packages admitsim needs to build, test and plot
# (libtsan2: the ThreadSanitizer runtime of the test command's TSan build;
# clang: the test command also compiles everything with clang -Werror).
# slurm-wlm and munge are for the test of `admitsim sweep --engine slurm`,
# which starts a single-node cluster of its own (not the packages' services,
# which Debian may start or not): when they cannot be installed, setup says
# so and goes on, and that test reports itself skipped with the reason.
# Idempotent: does nothing when every package is already present.
set -euo pipefail

# clang, its sanitizer and libFuzzer runtimes (libclang-rt-14-dev) and
# llvm-symbolizer (llvm-14) build and run the fuzz targets of tests/fuzz.
packages=(build-essential cmake pkg-config libgsl-dev libsqlite3-dev
          libcmocka-dev libjansson-dev gnuplot-nox sqlite3 valgrind python3
          python3-jsonschema libtsan2 clang libclang-rt-14-dev llvm-14
          libuv1-dev libcurl4-openssl-dev libmicrohttpd-dev)  # live runs and the mock
optional=(slurm-wlm munge)                                     # sweeps on Slurm (a test)

missing_of() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}
mapfile -t missing < <(missing_of "${packages[@]}")
mapfile -t missing_optional < <(missing_of "${optional[@]}")
[ ${#missing[@]} -eq 0 ] && [ ${#missing_optional[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ ${#missing_optional[@]} -gt 0 ]; then
  echo "setup: installing ${missing_optional[*]} (for the Slurm sweep test)" >&2
  $sudo apt-get install -y -q --no-install-recommends "${missing_optional[@]}" ||
    echo "setup: could not install ${missing_optional[*]}: the Slurm sweep test will be skipped" >&2
fi
