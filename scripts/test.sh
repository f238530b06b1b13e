#!/usr/bin/env bash
# Builds admitsim and runs every test: an optimised build with ctest, the
# installed core library used from outside (tests/install_test.sh), the unit
# and model tests again under valgrind, then one clang build of everything
# (warnings are errors) with ASan + UBSan and the libFuzzer targets: the
# fuzz targets for a minute each (tests/fuzz/run.sh; FUZZ_SECONDS=N for
# another time) and ctest in it; then a ThreadSanitizer build of the request
# admission tests (the thread-safe controller's pthread stress test and
# acquire_sync tests).
# Installs missing Debian packages first.  Non-zero exit if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
# Each stage is announced with "==" and ends with its time, so that the
# 15-minute budget is watched stage by stage.
stage_name='' stage_start=$SECONDS
stage() {
  [ -n "$stage_name" ] && echo "   ($stage_name: $((SECONDS - stage_start)) s)" >&2
  stage_name=${1:-} stage_start=$SECONDS
  [ -n "$stage_name" ] && echo "== $stage_name" >&2
  return 0
}

stage "build (RelWithDebInfo) and test"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

stage "install the core into a temporary prefix and build the examples against it"
tests/install_test.sh build

stage "valgrind over the unit and model tests, $jobs at a time"
# The pthread stress test and the model tests scale themselves down under
# valgrind (they run in full above and in the sanitizer build).
valgrind_one() {
  local t=$1 log
  log="build/$(basename "$t").valgrind.txt"
  if ! ADMIT_STRESS_SCALE=0.02 ADMIT_MODEL_SCALE=0.1 \
       valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
       "$t" >/dev/null 2>"$log"; then
    echo "valgrind: $(basename "$t") FAILED" >&2
    cat "$log" >&2
    return 1
  fi
}
export -f valgrind_one
# the slowest under valgrind first, so the lanes end together
slow=(test_store_merge test_store_packs test_store_concurrency test_check_store test_pipeline
      test_live_provider test_live_run)
{
  for t in "${slow[@]}"; do [ -x "build/tests/$t" ] && echo "build/tests/$t"; done
  for t in build/tests/test_* build/tests/model_*; do
    [ -x "$t" ] && [ -f "$t" ] && [[ " ${slow[*]} " != *" $(basename "$t") "* ]] && echo "$t"
  done
} | xargs -P "$jobs" -I{} bash -c 'valgrind_one "$1"' _ {}
echo "valgrind: every unit and model test clean" >&2

stage "clang build: ASan + UBSan, warnings as errors, with the libFuzzer targets"
# One clang build serves three stages: the compiler other than the first
# build's gcc (-Wall -Wextra -Wpedantic -Werror), the sanitizer tests, and
# the fuzz targets (every library instrumented for libFuzzer's coverage).
CC=clang CXX=clang++ cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DADMIT_SANITIZE=ON \
  -DADMIT_FUZZ=ON >/dev/null
cmake --build build-sanitize -j "$jobs"

stage "libFuzzer targets, ${FUZZ_SECONDS:-60} s each from their seed corpora, $jobs at a time"
FUZZ_BUILD=build-sanitize FUZZ_CONFIGURED=1 FUZZ_PARALLEL="$jobs" tests/fuzz/run.sh "${FUZZ_SECONDS:-60}"

stage "ASan + UBSan: every test but the fidelity runs"
# fidelity compares a live run's timing with the simulator's: under the
# sanitizers the live side is what is slow, so it is judged in the first
# build only (its code paths run here in live_cli and the live unit tests).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure -j "$jobs" -E '^fidelity_'

stage "ThreadSanitizer build of the request admission tests"
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
stage
echo "all tests passed in $SECONDS s" >&2
