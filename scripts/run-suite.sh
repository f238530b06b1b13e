#!/usr/bin/env bash
# The main job: installs what is missing, builds admitsim (Release), runs every
# shipped scenario under each task admission policy, prints the summaries,
# stores every run in the results database (results/admitsim.db, DB=...),
# writes the artifacts, Markdown and CSV to out/ (OUT_DIR=...) and the
# pictures to out/plots/<scenario>-<policy>/ (PLOT_DIR=...), then runs the
# benchmarks: simulated tasks/s with the per-event capture cost and the whole
# process's rate, the results store's insert rate, and the request admission
# and task admission cycle microbenchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DADMIT_TESTS=OFF >/dev/null
cmake --build build-release -j "$jobs" --target admitsim
bin=build-release/admitsim
out=${OUT_DIR:-out}
plots=${PLOT_DIR:-$out/plots}
db=${DB:-results/admitsim.db}
seed=${SEED:-1}
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for scenario in scenarios/*.json; do
  name=$(basename "$scenario" .json)
  for policy in strict bounded provider_aware; do
    echo "== $name / $policy" >&2
    if ! "$bin" run "$scenario" --policy "$policy" --seed "$seed" --out "$out" --db "$db" 2>"$log"; then
      cat "$log" >&2
      echo "admitsim: $scenario under $policy FAILED" >&2
      status=1
      continue
    fi
    cat "$log" >&2
    run=$(sed -n 's/^admitsim run: stored run \([0-9]*\) in .*/\1/p' "$log")
    if [ -n "$run" ] && ! "$bin" plot "$run" --db "$db" --out "$plots/$name-$policy"; then
      status=1
    fi
    echo
  done
done
echo "== simulator throughput and event capture cost" >&2
"$bin" bench --repeat 5 || status=1
echo "== results store insert rate" >&2
"$bin" bench --store --repeat 3 || status=1
echo "== request admission microbenchmarks" >&2
"$bin" bench --request --repeat 3 || status=1
echo "== task admission cycle microbenchmarks" >&2
"$bin" bench --cycle --repeat 3 || status=1
"$bin" runs --db "$db" | tail -n 5
exit $status
