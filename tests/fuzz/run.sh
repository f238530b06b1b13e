#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang in their own build
# directory and runs each for a while from its seed corpus (README.md here).
#
# usage: tests/fuzz/run.sh [SECONDS [TARGET...]]
#   SECONDS  how long each target runs (default 60)
#   TARGET   scenario, trace or store (default: all three, two at a time)
# Environment: FUZZ_BUILD (default build-fuzz), FUZZ_CONFIGURED (set: do
# not configure FUZZ_BUILD), FUZZ_JOBS (build jobs, 2),
# FUZZ_PARALLEL (targets running at once, 2).
# Each target's corpus grows in $FUZZ_BUILD/fuzz-work/TARGET/corpus (new
# each run) and its log is $FUZZ_BUILD/fuzz-work/TARGET/log.  Exit status 1
# when a target finds a crash, a leak, a failed check or a slow input: its
# report is printed and the input is in $FUZZ_BUILD/fuzz-work/TARGET/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario trace store)
build=${FUZZ_BUILD:-build-fuzz}

# FUZZ_CONFIGURED=1: $build is configured already (clang, -DADMIT_FUZZ=ON),
# as the test command's sanitizer build is.
if [ -z "${FUZZ_CONFIGURED:-}" ]; then
  CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DADMIT_TESTS=OFF \
    -DADMIT_FUZZ=ON >/dev/null
fi
cmake --build "$build" -j "${FUZZ_JOBS:-2}" --target fuzzers >/dev/null

symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer
# One target: its corpus, its run; prints its line, returns non-zero when
# it found something.
fuzz_one() {
  local t=$1 work=$build/fuzz-work/$1 started
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  local seeds=(tests/fuzz/corpus/"$t") extra=()
  case $t in
    scenario) seeds+=(scenarios) extra=(-dict=tests/fuzz/scenario.dict -max_len=8192) ;;
    trace) extra=(-max_len=8192) ;; # past the 4,096-byte line limit
    store) ;;                       # as long as the longest seed database
  esac
  started=$(date +%s)
  if "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 \
       -print_final_stats=1 -artifact_prefix="$work/artifacts/" "${extra[@]}" \
       "$work/corpus" "${seeds[@]}" >"$work/log" 2>&1; then
    local done_line execs cov
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" | tail -1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    cov=$(echo "$done_line" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [^ ]+' || true)
    echo "fuzz_$t: ok after $(($(date +%s) - started)) s: $execs inputs, $cov"
    return 0
  fi
  echo "fuzz_$t: FAILED (log: $work/log); the end of its log:" >&2
  grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)|^[[:space:]]+NEW_FUNC' "$work/log" |
    tail -60 >&2 || true
  for a in "$work"/artifacts/*; do
    [ -e "$a" ] && echo "fuzz_$t: reproduce with: $build/tests/fuzz/fuzz_$t $a" >&2
  done
  return 1
}

for t in "${targets[@]}"; do
  case $t in
    scenario | trace | store) ;;
    *) echo "fuzz: unknown target '$t' (scenario, trace, store)" >&2; exit 2 ;;
  esac
done
# The targets run side by side (FUZZ_PARALLEL at once, default 2: the
# machine's cores), each for SECONDS.
pids=()
passed=0
failed=0
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "${FUZZ_PARALLEL:-2}" ]; then
    if wait -n; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  pids+=($!)
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  if wait -n; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  running=$((running - 1))
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
