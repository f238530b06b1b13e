#!/usr/bin/env bash
# Builds admitsim and runs every test twice: a normal optimised build, then
# under AddressSanitizer + UndefinedBehaviorSanitizer.  Installs missing
# Debian packages first.  Exit status is non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (RelWithDebInfo) and test" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== build (ASan + UBSan) and test" >&2
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DADMIT_SANITIZE=ON >/dev/null
cmake --build build-sanitize -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure -j "$jobs"
