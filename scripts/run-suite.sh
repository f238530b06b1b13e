#!/usr/bin/env bash
# The main job: installs what is missing, builds admitsim (Release), runs the
# scenario matrix with `admitsim suite` (every scenario's baseline arm against
# its candidate arm over seeds 1..10, paired by seed) into out/suite/
# (OUT_DIR=...; SEEDS=N): report.md with each scenario's verdicts, headline
# figures with their 95% intervals and pictures, suite.json, suite.db with
# every run, and seed 1's artifacts.  Then the benchmarks: simulated tasks/s
# with the per-event capture cost and the whole process's rate (without and
# with the default store), the results
# store's insert rate, and the request admission and task admission cycle
# microbenchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DADMIT_TESTS=OFF >/dev/null
cmake --build build-release -j "$jobs" --target admitsim
bin=build-release/admitsim
out=${OUT_DIR:-out/suite}
status=0
"$bin" suite --out "$out" --seeds "${SEEDS:-10}" || status=1
echo "== simulator throughput and event capture cost" >&2
"$bin" bench --repeat 5 || status=1
echo "== results store insert rate" >&2
"$bin" bench --store --repeat 3 || status=1
echo "== request admission microbenchmarks" >&2
"$bin" bench --request --repeat 3 || status=1
echo "== task admission cycle microbenchmarks" >&2
# (scenarios/microbench/admission_cycle.json; its JSON beside the report,
# for `admitsim check` against another build's)
"$bin" bench --cycle --repeat 3 --format json >"$out/microbench.json" || status=1
python3 - "$out/microbench.json" <<'PY' || status=1
import json, sys
doc = json.load(open(sys.argv[1]))
print(f"{'policy':8} {'mix':9} {'groups':>6} {'tasks':>7} {'p50_ns':>8} {'p95_ns':>8}")
for c in doc["cases"]:
    print(f"{c['policy']:8} {c['mix']:9} {c['groups']:6} {c['tasks']:7} "
          f"{c['cycle_p50_ns']:8.1f} {c['cycle_p95_ns']:8.1f}")
PY
echo "The report: $out/report.md" >&2
exit $status
