#!/usr/bin/env python3
"""bench --cycle gives no figure it did not measure.

1. With the real clock, one small case: exit 0, every cycle figure above
   zero, every operation a number above zero or null (below what the clock
   resolves), and bounded over strict a finite ratio.
2. With a clock that never moves (tests/frozen_clock.c, LD_PRELOAD), every
   cycle lasts 0 ns less the clock read: bench says it measured nothing,
   exit 1, and prints no JSON document (it printed zeros, exit 0).
3. With a clock that leaps 100,000 s a read, the scale mode's rates are
   tiny: its table shows each tasks/s to three significant digits, as its
   JSON has it, never 0 (it printed 0 for a rate below 0.5).
4. With a clock that creeps 1 us a read, the scale mode's times are tiny:
   its table shows each to three significant digits, never 0.0000.

usage: bench_cycle_clock_test.py ADMITSIM FROZEN_CLOCK_SO
"""
import json
import math
import os
import subprocess
import sys

admitsim, frozen = (os.path.abspath(x) for x in sys.argv[1:3])
failures = 0


def check(ok, what):
    global failures
    if not ok:
        failures += 1
        print(f"bench_cycle_clock_test: FAIL: {what}", file=sys.stderr)


case = ["bench", "--cycle", "--groups", "8", "--tasks", "1000", "--mix", "mixed",
        "--repeat", "3", "--warmup", "0", "--format", "json"]

# 1. the real clock
p = subprocess.run([admitsim, *case], capture_output=True, text=True, timeout=300)
check(p.returncode == 0, f"bench --cycle: exit {p.returncode}: {p.stderr}")
if p.returncode == 0:
    doc = json.loads(p.stdout)
    check(len(doc["cases"]) == 2, f"one strict and one bounded case: {len(doc['cases'])}")
    for c in doc["cases"]:
        for k in ("cycle_p50_ns", "cycle_p50_min_ns", "cycle_p95_ns", "cycle_mean_ns"):
            check(isinstance(c[k], (int, float)) and c[k] > 0, f"{c['policy']} {k}: {c[k]}")
        check(sorted(c["ops_ns"]) == sorted(["enqueue", "select", "acquire", "commit", "release"]),
              f"every operation named: {c['ops_ns']}")
        for op, v in c["ops_ns"].items():
            check(v is None or v > 0, f"{c['policy']} {op}: {v} (a figure above 0, or null)")
    ratios = doc["bounded_over_strict"]
    check(len(ratios) == 1 and all(math.isfinite(x) and x > 0 for x in ratios.values()),
          f"bounded over strict: {ratios}")

# 2. a clock that never moves
env = dict(os.environ, LD_PRELOAD=frozen, ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=0")
p = subprocess.run([admitsim, *case], capture_output=True, text=True, env=env, timeout=300)
check(p.returncode == 1, f"frozen clock: exit {p.returncode} (want 1); stdout {p.stdout[:300]!r}")
check("at or below what this clock resolves" in p.stderr,
      f"frozen clock: says it measured nothing: {p.stderr!r}")
check(p.stdout.strip() == "", f"frozen clock: no document: {p.stdout[:300]!r}")

scale = ["bench", "--scale", "1", "--repeat", "1", "--warmup", "0"]


def table_matches_json(what, env, columns, figures, limit):
    """The scale mode's table and JSON under env: each row's figures in
    columns (a slice) are the JSON's (figures(doc): a tuple per row) to
    0.5%, above zero, and each JSON figure is below limit (tiny)."""
    table = subprocess.run([admitsim, *scale], capture_output=True, text=True, env=env, timeout=300)
    p = subprocess.run([admitsim, *scale, "--format", "json"], capture_output=True, text=True,
                       env=env, timeout=300)
    check(table.returncode == 0 and p.returncode == 0,
          f"{what}: exit {table.returncode}, {p.returncode}: {table.stderr} {p.stderr}")
    if table.returncode != 0 or p.returncode != 0:
        return
    rows = [line.split() for line in table.stdout.splitlines()
            if line.split()[:1] and line.split()[0] in ("strict", "bounded", "provider_aware")]
    want = figures(json.loads(p.stdout))
    check(len(rows) == len(want), f"{what}: a table row per JSON row: {table.stdout}")
    for row, exact_row in zip(rows, want):
        for shown, exact in zip(row[columns], exact_row):
            check(0 < exact < limit and float(shown) > 0
                  and abs(float(shown) - exact) <= 0.005 * exact,
                  f"{what}: {shown!r} in the table, {exact} in JSON: {row}")


# 3. a clock that leaps: tiny rates, shown as figures, not 0
env = dict(env, FROZEN_CLOCK_STEP_SECONDS="100000")
table_matches_json("leaping clock, tasks/s", env, slice(6, None), lambda doc: [
    (r["best_tasks_per_second"], r["median_tasks_per_second"]) for r in doc["process"]] + [
    (r["best_tasks_per_second"], r["median_tasks_per_second"], r["cpu_tasks_per_second"])
    for r in doc["simulated"]], 0.5)

# 4. a clock that creeps: tiny times, shown as figures, not 0.0000
env = dict(env, FROZEN_CLOCK_STEP_SECONDS="0", FROZEN_CLOCK_STEP_NS="1000")
table_matches_json("creeping clock, seconds", env, slice(3, 5), lambda doc: [
    (r["best_seconds"], r["median_seconds"]) for r in doc["process"] + doc["simulated"]], 0.001)

if failures:
    print(f"bench_cycle_clock_test: {failures} failure(s)", file=sys.stderr)
    sys.exit(1)
print("bench_cycle_clock_test: ok")
