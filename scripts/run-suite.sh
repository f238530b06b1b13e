#!/usr/bin/env bash
# The main job: installs what is missing, builds admitsim (Release), runs every
# shipped scenario under each task admission policy, prints the summaries and
# writes the artifacts to out/ (override with OUT_DIR=...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DADMIT_TESTS=OFF >/dev/null
cmake --build build-release -j "$jobs" --target admitsim
bin=build-release/admitsim
out=${OUT_DIR:-out}
seed=${SEED:-1}
status=0
for scenario in scenarios/*.json; do
  for policy in strict bounded provider_aware; do
    echo "== $(basename "$scenario" .json) / $policy" >&2
    if ! "$bin" run "$scenario" --policy "$policy" --seed "$seed" --out "$out"; then
      echo "admitsim: $scenario under $policy FAILED" >&2
      status=1
    fi
    echo
  done
done
echo "== request admission microbenchmarks" >&2
"$bin" bench --request --repeat 3 || status=1
exit $status
