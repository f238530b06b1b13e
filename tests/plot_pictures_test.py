#!/usr/bin/env python3
"""What `admitsim plot` draws answers the scenario's question (README
"Pictures, exports and the artifact schema").
usage: plot_pictures_test.py ADMITSIM SOURCE_DIR WORK_DIR

1. timeline.dat: one state per virtual instant (each change as the old and
   the new values at its time), the task leases held by each group adding
   up to the leases in flight, and the task resource limits of the run's
   capacity plan in params.gp (the task slots first).
2. One request picture per request resource, named by its key; its data one
   row per instant (a release and the admission it lets in are no dip).
3. A run without model calls: no request picture and no request-wait panel
   (cdf_wait_groups empty), the rest drawn."""
import os
import re
import shutil
import subprocess
import sys

admitsim, src, work = (os.path.abspath(x) for x in sys.argv[1:4])
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("plot_pictures_test: FAIL:", what)


if not shutil.which("gnuplot"):
    sys.exit("plot_pictures_test: gnuplot is not installed (scripts/setup.sh installs it)")
db = os.path.join(work, "p.db")
for scenario in ("cross_provider_cooldown", "heavy_root_peer_arrival"):
    p = subprocess.run([admitsim, "run", scenario, "--db", db], capture_output=True, text=True)
    check(p.returncode == 0, f"run {scenario}: {p.stderr}")
for run in ("1", "2"):
    p = subprocess.run([admitsim, "plot", run, "--db", db, "--out", os.path.join(work, run)],
                       capture_output=True, text=True)
    check(p.returncode == 0, f"plot {run}: {p.stderr}")


def params(run):
    text = open(os.path.join(work, run, "params.gp")).read()
    return dict(re.findall(r"^(\w+) = '(.*)'$", text, re.M))


# 1. the timeline of cross_provider_cooldown: two groups, 12 task slots
par = params("1")
groups = par["timeline_groups"].split()
check(groups == ["answer_a", "answer_b"], f"groups: {groups}")
check(par["timeline_capacity_values"].split()[:1] == ["12"] and
      par["timeline_capacity_names"].startswith('"task slots" '),
      f"the task slots first: {par['timeline_capacity_names']} = {par['timeline_capacity_values']}")
check("8" in par["timeline_capacity_values"].split(), "the request resources' limit of 8")
rows = [list(map(float, l.split())) for l in open(os.path.join(work, "1", "timeline.dat"))
        if not l.startswith("#")]
n = len(groups)
check(all(len(r) == 3 + 2 * n for r in rows), "every row has queued and held per group")
check(all(sum(r[3 + n:]) == r[1] for r in rows), "the groups' leases add up to the leases held")
times = [r[0] for r in rows]
check(all(a <= b for a, b in zip(times, times[1:])), "time never goes back")
for t in set(times):
    check(times.count(t) <= 2, f"at most two rows (old, new) at {t}")
    if times.count(t) > 2:
        break
check(max(r[1] for r in rows) <= 12, "never more leases than task slots")
# During provider A's cooldown (10 s to 40 s) answer_b holds the slots A does not.
mid = [r for r in rows if 20 <= r[0] <= 30]
check(mid and all(r[3 + n + 1] >= 8 for r in mid), "answer_b holds 8 slots during A's cooldown")

# 2. request pictures by resource key, one row per instant
pics = par["request_pictures"].split()
check(pics == ["request-provider-a_gen-a-large_chat", "request-provider-b_gen-b-large_chat"],
      f"request pictures named by key: {pics}")
for i, pic in enumerate(pics):
    check(os.path.exists(os.path.join(work, "1", pic + ".png")), f"{pic}.png drawn")
    t = [float(l.split()[0]) for l in open(os.path.join(work, "1", f"request-{i}.dat"))
         if not l.startswith("#")]
    check(all(a < b for a, b in zip(t, t[1:])), f"request-{i}.dat: one row per instant")
check(not os.path.exists(os.path.join(work, "1", "request-0.png")), "no request-0.png")

# 3. heavy_root_peer_arrival: no model calls
par = params("2")
check(par.get("cdf_wait_groups", "") == "", "no request-wait groups without model calls")
check(par.get("request_resources", "") == "", "no request resources")
check(not any(f.startswith("request-") and f.endswith(".png") for f in os.listdir(
    os.path.join(work, "2"))), "no request picture")
for pic in ("timeline", "cdf", "layers"):
    check(os.path.getsize(os.path.join(work, "2", pic + ".png")) > 10000, f"{pic}.png drawn")
for run in ("1", "2"):
    log = open(os.path.join(work, run, "gnuplot.log")).read()
    check(log == "", f"gnuplot said nothing for run {run}: {log[:300]}")

if failures:
    sys.exit(f"plot_pictures_test: {len(failures)} failure(s)")
print("plot_pictures_test: ok")
