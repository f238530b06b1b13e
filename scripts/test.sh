#!/usr/bin/env bash
# Builds admitsim and runs every test: an optimised build with ctest, the
# installed core library used from outside (tests/install_test.sh), the unit
# and model tests again under valgrind, the libFuzzer targets for a minute
# each (tests/fuzz/run.sh; FUZZ_SECONDS=N for another time), an ASan + UBSan
# build with ctest, a clang build of everything (warnings are errors), then a
# ThreadSanitizer build of the request admission tests (the thread-safe
# controller's pthread stress test and acquire_sync tests).
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

echo "== valgrind over the unit and model tests" >&2
for t in build/tests/test_* build/tests/model_*; do
  [ -x "$t" ] || continue
  log="build/$(basename "$t").valgrind.txt"
  # The pthread stress test and the model tests scale themselves down under
  # valgrind (they run in full above and in the sanitizer build).
  if ! ADMIT_STRESS_SCALE=0.02 ADMIT_MODEL_SCALE=0.1 \
       valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
       "$t" >/dev/null 2>"$log"; then
    echo "valgrind: $(basename "$t") FAILED" >&2
    cat "$log" >&2
    exit 1
  fi
done
echo "valgrind: every unit and model test clean" >&2

echo "== libFuzzer targets (clang, ASan + UBSan), 60 s each from their seed corpora" >&2
tests/fuzz/run.sh "${FUZZ_SECONDS:-60}"

echo "== build (ASan + UBSan) and test" >&2
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DADMIT_SANITIZE=ON >/dev/null
cmake --build build-sanitize -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure -j "$jobs"

echo "== compile everything with clang (-Wall -Wextra -Wpedantic -Werror)" >&2
CC=clang CXX=clang++ cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-clang -j "$jobs"

echo "== ThreadSanitizer build of the request admission tests" >&2
# Only test_request_admission runs threads against the core (the thread_safe
# controller: the pthread stress test, acquire_sync, cancel tokens).  Any
# report fails the run (halt_on_error: exit 66).
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread >/dev/null
cmake --build build-tsan -j "$jobs" --target test_request_admission
tsan_log=build-tsan/test_request_admission.tsan.txt
tsan_run() {
  ADMIT_STRESS_SCALE=0.25 TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" \
    "$@" build-tsan/tests/test_request_admission >"$tsan_log" 2>&1
}
if ! tsan_run; then
  # gcc 12's TSan runtime cannot lay out its shadow memory on kernels that
  # randomise more address bits (vm.mmap_rnd_bits > 28): run once more
  # without address randomisation for this one process.
  if ! grep -q "unexpected memory mapping" "$tsan_log" || ! tsan_run setarch "$(uname -m)" -R; then
    echo "tsan: test_request_admission FAILED" >&2
    cat "$tsan_log" >&2
    exit 1
  fi
fi
echo "tsan: request admission tests clean ($(grep -o 'stress: [^,]*' "$tsan_log"))" >&2
