#!/usr/bin/env bash
# Builds admitsim and runs every test: an optimised build with ctest, the
# installed core library used from outside (tests/install_test.sh), the unit
# tests again under valgrind, the libFuzzer targets for a minute each
# (tests/fuzz/run.sh; FUZZ_SECONDS=N for another time), then an ASan + UBSan
# build with ctest.
# Installs missing Debian packages first.  Non-zero exit if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (RelWithDebInfo) and test" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== install the core into a temporary prefix and build the examples against it" >&2
tests/install_test.sh build

echo "== valgrind over the unit tests" >&2
for t in build/tests/test_*; do
  [ -x "$t" ] || continue
  log="build/$(basename "$t").valgrind.txt"
  # The pthread stress test scales itself down under valgrind (it runs in full above).
  if ! ADMIT_STRESS_SCALE=0.02 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
       "$t" >/dev/null 2>"$log"; then
    echo "valgrind: $(basename "$t") FAILED" >&2
    cat "$log" >&2
    exit 1
  fi
done
echo "valgrind: every unit test clean" >&2

echo "== libFuzzer targets (clang, ASan + UBSan), 60 s each from their seed corpora" >&2
tests/fuzz/run.sh "${FUZZ_SECONDS:-60}"

echo "== build (ASan + UBSan) and test" >&2
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DADMIT_SANITIZE=ON >/dev/null
cmake --build build-sanitize -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure -j "$jobs"
