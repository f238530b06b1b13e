#!/usr/bin/env python3
"""`admitsim sweep` on the local engine and `admitsim merge`, end to end.
usage: sweep_test.py ADMITSIM SOURCE_DIR WORK_DIR

tests/data/sweep_small.json: 2 submission capacities x 2 AIMD decrease
factors x 3 seeds of a small cooldown scenario, 12 shards.

1. --dry-run lists the points and 12 shards and runs nothing; a parameter no
   arm overrides and a value the scenario refuses are errors naming them, as
   are a point's arm or a value too long to be stored whole.
2. --jobs 1 and --jobs 3 store the same rows (host facts aside) and the same
   result.json; every run carries its experiment, point (arm) and values.
3. A driver killed with SIGKILL halfway resumes with --resume: exactly one
   run per (point, seed), the same rows as an uninterrupted sweep.
4. SIGTERM stops the pool (journal: interrupted); --resume finishes.
5. Failing shards ($TMPDIR a file) are journaled with their exit
   status and the sweep exits 1; --resume reruns only those.
6. A directory holding a sweep is refused without --resume; --resume of a
   finished sweep runs nothing and merges nothing twice.
7. A shard completed twice (two processes) keeps the first one's files.
8. `admitsim merge` is idempotent and refuses mixed schema versions.
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweep_common import (complete_shards, db_rows, diff_rows, journal, runs_per_point_seed,
                          wait_for)

admitsim, src, work = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
sweep = os.path.join(src, "tests", "data", "sweep_small.json")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("sweep_test: FAIL:", what, flush=True)


def run(*args, expect=0, env=None):
    p = subprocess.run([admitsim, *args], capture_output=True, text=True, env=env)
    check(p.returncode == expect,
          f"{' '.join(args)} exited {p.returncode}, expected {expect}: {p.stderr[-600:]}")
    return p


def out(name):
    return os.path.join(work, name)


# 1. dry run and bad sweep files
p = run("sweep", sweep, "--dry-run")
check("4 points x 3 seeds = 12 runs in 12 shards" in p.stdout, f"dry run summary: {p.stdout}")
check(p.stdout.count("seed ") == 12, "dry run lists 12 runs")
check(not os.path.exists(os.path.join(src, "tests", "data", "out")), "dry run writes nothing")
plan = json.loads(run("sweep", sweep, "--dry-run", "--format", "json").stdout)
check(plan["points"] == 4 and plan["shards"] == 12 and len(plan["shard_runs"]) == 12,
      "dry run JSON: 4 points, 12 shards")
check(plan["parameters"][1]["values"] == [0.5, 0.9], f"a range of reals: {plan['parameters']}")


def bad_sweep(name, edit):
    doc = json.load(open(sweep))
    doc["scenario"] = os.path.join(src, "tests", "data", "sweep_scenario.json")
    edit(doc)
    path = out(name)
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


p = run("sweep", bad_sweep("bad_param.json",
                           lambda d: d["parameters"].__setitem__("capacity", [1, 2])),
        "--dry-run", expect=1)
check("expected a parameter an arm overrides" in p.stderr and "capacity" in p.stderr,
      f"an unknown parameter is named: {p.stderr}")
p = run("sweep", bad_sweep("bad_value.json",
                           lambda d: d["parameters"].__setitem__("capacity.submission", [6, -1])),
        "--dry-run", expect=1)
check("point 2 (capacity.submission=-1,request_admission.md_factor=0.5)" in p.stderr
      and "$.capacity.submission" in p.stderr, f"a refused value names its point: {p.stderr}")
# a capacity the scenario does not declare (a typo) would add a resource no
# task uses: every point the same, the sweep measuring nothing
p = run("sweep", bad_sweep("typo_capacity.json", lambda d: d.__setitem__(
    "parameters", {"capacity.submision": [2, 4]})), "--dry-run", expect=1)
check("point 0 (capacity.submision=2)" in p.stderr
      and 'expected a resource $.capacity declares' in p.stderr and '"submision"' in p.stderr,
      f"a capacity the scenario lacks is refused: {p.stderr}")
p = run("sweep", bad_sweep("bad_resource.json", lambda d: d.__setitem__(
    "parameters", {"request_admission.resources.gen-a.initial_limit": [2, 0]})),
    "--dry-run", expect=1)
check("point 1 (request_admission.resources.gen-a.initial_limit=0)" in p.stderr
      and "$.request_admission.resources[0].initial_limit" in p.stderr,
      f"a request resource's setting reaches the scenario's array entry: {p.stderr}")


# Two names of one setting (or one inside the other): each point would run
# with only the last one's value while its stored parameters name both, so
# the first parameter's values would vary nothing.  Refused, naming both.
for name, params in [
        ("alias_quoted", {"capacity.submission": [6, 12], 'capacity."submission"': [8]}),
        ("alias_policy", {"policy": ["strict", "bounded"], "policy.default": ["provider_aware"]}),
        ("alias_domain", {"providers.gen-a.max_concurrent": [1, 8],
                          "providers.gen-a/chat.max_concurrent": [4]}),
        ("alias_inside", {"providers.gen-a.latency.mu": [-2, 1],
                          "providers.gen-a.latency": [{"dist": "lognormal", "mu": -0.75,
                                                       "sigma": 0.25}]}),
        ("alias_resource", {"request_admission.resources.gen-a.initial_limit": [2, 4],
                            "request_admission.resources.gen-a/chat.initial_limit": [3]})]:
    first, second = list(params)
    p = run("sweep", bad_sweep(name + ".json", lambda d: d.__setitem__("parameters", params)),
            "--dry-run", expect=1)
    check(f'sets what parameter "{first}" sets too' in p.stderr and "$.parameters" in p.stderr
          and name + ".json" in p.stderr, f"{name}: overlapping parameters are refused: {p.stderr}")
# A provider entry's model or domain: an arm never changes them.
p = run("sweep", bad_sweep("endpoint.json", lambda d: d.__setitem__(
    "parameters", {"providers.gen-a.domain": ["chat", "embed"]})), "--dry-run", expect=1)
check("names its endpoint" in p.stderr, f"a provider's domain is not a parameter: {p.stderr}")
# The same value or seed twice: one point (or run) twice, its seeds counted
# twice in the point's figures (a zero-width interval from one run).
p = run("sweep", bad_sweep("dup_value.json", lambda d: d["parameters"].__setitem__(
    "capacity.submission", [6, 12, 6])), "--dry-run", expect=1)
check('$.parameters["capacity.submission"]: expected distinct values, got 6 more than once'
      in p.stderr, f"a value twice is refused: {p.stderr}")
p = run("sweep", bad_sweep("dup_range.json", lambda d: d["parameters"].__setitem__(
    "request_admission.md_factor", {"from": 0.5, "to": 0.5000000000001, "count": 3})),
    "--dry-run", expect=1)
check("expected distinct values, got 0.5 more than once" in p.stderr,
      f"a range whose values round alike is refused: {p.stderr}")
p = run("sweep", bad_sweep("dup_seed.json", lambda d: d.__setitem__("seeds", [1, 2, 1])),
        "--dry-run", expect=1)
check("$.seeds: expected distinct seeds, got 1 more than once" in p.stderr,
      f"a seed twice is refused: {p.stderr}")

# A point's arm (NAME=VALUE,...) was cut at 1023 bytes and a value's text
# at 255: two points differing only past the cut shared one arm, and the
# second's runs were skipped as the first's (the experiment held 2 of 4);
# a long value (a trace file's path in a latency object) was stored cut
# mid-JSON with exit 0.  Refused when the file is read, naming the parameter.
long_a, long_b = "a" * 90 + "-gen", "b" * 90 + "-gen"
text = open(os.path.join(src, "tests", "data", "sweep_scenario.json")).read()
with open(out("long_alias.json"), "w") as f:
    f.write(text.replace('"gen-a"', f'"{long_a}"').replace('"gen-b"', f'"{long_b}"'))
long_params = {}
for alias in (long_a, long_b):
    long_params[f"providers.{alias}/chat.max_concurrent"] = [8]
    long_params[f"providers.{alias}/chat.retry_after_seconds"] = [2.00000000000001]
    long_params[f"providers.{alias}/chat.latency.mu"] = [-0.750000000000001]
long_params[f"models.{long_a}.max_parallel_requests"] = [8]
long_params[f"models.{long_b}.max_parallel_requests"] = [7, 8]
p = run("sweep", bad_sweep("long_label.json", lambda d: d.update(
    scenario=out("long_alias.json"), parameters=long_params)), "--out", out("long_label"),
    "--quiet", expect=1)
check("long_label.json" in p.stderr and f'models.{long_b[:30]}' in p.stderr
      and "expected a point's arm" in p.stderr and "at most 1023 characters, got 1079" in p.stderr,
      f"a point's arm too long to store whole is refused: {p.stderr}")
check(not os.path.exists(out("long_label")), "nothing ran")
deep = out("d" * 120 + "/" + "e" * 120)
os.makedirs(deep)
with open(os.path.join(deep, "trace.csv"), "w") as f:
    f.write("0.3\n0.4\n0.5\n")
p = run("sweep", bad_sweep("long_value.json", lambda d: d.__setitem__("parameters", {
    "providers.gen-a.latency": [{"dist": "empirical", "file": os.path.join(deep, "trace.csv")},
                                {"dist": "lognormal", "mu": -0.75, "sigma": 0.25}]})),
    "--out", out("long_value"), "--quiet", expect=1)
check('long_value.json: $.parameters["providers.gen-a.latency"]: expected values of at most 255'
      in p.stderr, f"a value too long to store whole is refused: {p.stderr}")
check(not os.path.exists(out("long_value")), "nothing ran")

# A value whose text has a "," followed by "=" (before the next ","): in a
# point's arm, NAME=VALUE,..., it read as another parameter, and two points
# could get one arm.  Here points 0 and 3 (trace files whose paths hold
# ",NAME=") were both A=x,B=y,B=z: point 3's shards were skipped as point
# 0's runs ("holds 6 of the sweep's 8 runs", exit 1), and with shard_size 4
# both were stored under one arm with exit 0.  Refused when the file is read,
# naming the parameter and the value; a "," without "=" (a latency object)
# stays fine, as does a name without "," or "=".
file_a, file_b = "providers.gen-a.latency.file", "providers.gen-b.latency.file"
trace = out("traces")
paths = [f"{trace}/x,{file_b}={trace}/y", f"{trace}/x", f"{trace}/z", f"{trace}/y,{file_b}={trace}/z"]
for path in paths:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("0.3\n0.4\n0.5\n")
empirical = json.load(open(os.path.join(src, "tests", "data", "sweep_scenario.json")))
for provider in empirical["providers"]:
    provider["latency"] = {"dist": "empirical", "file": paths[1]}
with open(out("empirical.json"), "w") as f:
    json.dump(empirical, f)
p = run("sweep", bad_sweep("comma_value.json", lambda d: d.update(
    scenario=out("empirical.json"), seeds=2,
    parameters={file_a: [paths[0], paths[1]], file_b: [paths[2], paths[3]]})),
    "--out", out("comma_value"), "--quiet", expect=1)
check(f'comma_value.json: $.parameters["{file_a}"]: expected values without a "," followed by '
      f'"="' in p.stderr and f"got {paths[0]}" in p.stderr,
      f"a value that reads as another parameter in a point's arm is refused: {p.stderr}")
check(not os.path.exists(out("comma_value")), "nothing ran")
p = run("sweep", bad_sweep("comma_name.json", lambda d: d.__setitem__(
    "parameters", {'capacity."submission,x=1"': [6, 12]})), "--dry-run", expect=1)
check('a name without "," or "="' in p.stderr and "comma_name.json" in p.stderr,
      f"a parameter name holding , or = is refused: {p.stderr}")
p = run("sweep", bad_sweep("comma_object.json", lambda d: d.__setitem__("parameters", {
    "providers.gen-a.latency": [{"dist": "lognormal", "mu": -0.75, "sigma": 0.25},
                                {"dist": "empirical", "file": f"{trace}/a,b/t.csv"}]})),
    "--dry-run", expect=1)
check("a,b/t.csv" in p.stderr and "expected values without" not in p.stderr,
      f"a value with commas but no = after one is not refused as such: {p.stderr}")
os.makedirs(f"{trace}/a,b")
with open(f"{trace}/a,b/t.csv", "w") as f:
    f.write("0.3\n")
p = run("sweep", out("comma_object.json"), "--dry-run")
check('providers.gen-a.latency={"dist":"lognormal","mu":-0.75,"sigma":0.25}' in p.stdout,
      f"a latency object (commas, no =) is a value: {p.stdout}")

# --jobs 0: a usage error that says so (it said nothing but the hint)
p = run("sweep", sweep, "--jobs", "0", "--dry-run", expect=2)
check("--jobs expects an integer from 1 to 100000, got '0'" in p.stderr,
      f"--jobs 0 is named: {p.stderr}")

# 2. --jobs 1 and --jobs 3 store the same rows
run("sweep", sweep, "--out", out("j1"), "--jobs", "1", "--quiet")
p = run("sweep", sweep, "--out", out("j3"), "--jobs", "3")
check("wall_time_seconds (lower is better" in p.stdout, "the figures are printed")
reference = db_rows(out("j1/sweep.db"))
d = diff_rows(reference, db_rows(out("j3/sweep.db")))
check(d is None, f"--jobs 1 and --jobs 3 store the same rows: {d}")
r1 = json.load(open(out("j1/result.json")))
r3 = json.load(open(out("j3/result.json")))
check(r1 == r3, "--jobs 1 and --jobs 3 give the same result.json")
check(len(r1["points"]) == 4 and all(pt["runs"] == 3 for pt in r1["points"]),
      "4 points of 3 runs each")
wall = r1["points"][0]["metrics"]["wall_time_seconds"]
check(wall["n"] == 3 and wall["ci95_low"] <= wall["mean"] <= wall["ci95_high"],
      f"a point's figures: {wall}")
check(all(pt.get("n") == 3 for pt in r1["points"]), "each point's n: its 3 runs")

# How many seeds a figure averages: a request resource called by a branch
# only in some seeds' runs has no wait percentiles in the others, so its
# mean is over fewer seeds.  The table shows n per point and metric (it did
# not), the result each point's n (every run) beside each metric's n.
rare = json.load(open(os.path.join(src, "tests", "data", "sweep_scenario.json")))
rare["models"].append({"alias": "gen-c", "provider": "provider-c", "model": "gen-c-large",
                       "max_parallel_requests": 4})
rare["providers"].append({"model": "gen-c", "max_concurrent": 4, "retry_after_seconds": 2.0,
                          "latency": {"dist": "lognormal", "mu": -0.75, "sigma": 0.25}})
rare["columns"].append({"name": "rare", "rows": 4, "scheduling": {"kind": "model",
                                                                  "model": "gen-c"},
                        "program": [{"call": {"model": "gen-c", "count": {
                            "branch": 0.2, "then": 1, "else": 0}}}]})
with open(out("rare.json"), "w") as f:
    json.dump(rare, f)
rare_c = "request.provider-c/gen-c-large/chat.request_wait_p95_seconds"
p = run("sweep", bad_sweep("rare_sweep.json", lambda d: d.update(
    scenario=out("rare.json"), sweep_id="rare", metrics=["wall_time_seconds", rare_c])),
    "--out", out("rare"), "--jobs", "2")
rr = json.load(open(out("rare/result.json")))
check(all(pt.get("n") == 3 and pt["metrics"]["wall_time_seconds"]["n"] == 3 for pt in rr["points"]),
      f"every point has its 3 runs: {[pt.get('n') for pt in rr['points']]}")
rare_n = [pt["metrics"].get(rare_c, {"n": 0})["n"] for pt in rr["points"]]
check(any(n < 3 for n in rare_n), f"some seeds' runs lack {rare_c}: {rare_n}")


def table_n(text, metric):
    """The n column of metric's table, a row per point."""
    block = text.split(f"\n{metric} (")[1].split("\n\n")[0].splitlines()
    head = block[1].split()
    if "n" not in head:
        return None
    return [int(row.split()[head.index("n")]) for row in block[2:] if not row.startswith("  (")]


check(table_n(p.stdout, "wall_time_seconds") == [3] * 4,
      f"the table's n: 3 for wall time: {p.stdout[:600]}")
check(table_n(p.stdout, rare_c) == rare_n and "n below 3" in p.stdout,
      f"and fewer where runs lack the metric, said so: {p.stdout[-900:]}")

con = sqlite3.connect(out("j1/sweep.db"))
rows = con.execute("SELECT r.arm, json_extract(r.parameters, '$.\"capacity.submission\"'),"
                   " json_extract(r.parameters, '$.\"request_admission.md_factor\"'), r.seed,"
                   " e.kind FROM runs r JOIN experiments e USING (experiment_id)"
                   " ORDER BY r.run_id").fetchall()
check(len(rows) == 12 and rows[0] == ("capacity.submission=6,request_admission.md_factor=0.5",
                                      6, 0.5, 1, "sweep"), f"runs carry their point: {rows[:2]}")
check([r[3] for r in rows] == [1, 2, 3] * 4, "runs in (point, seed) order")
result_json = con.execute("SELECT result_json FROM experiments").fetchone()[0]
check(json.loads(result_json)["points"] == r1["points"], "the result is stored")
con.close()
check(runs_per_point_seed(out("j1/sweep.db")) == {(pt["arm"], s): 1 for pt in r1["points"]
                                                  for s in (1, 2, 3)}, "one run per (point, seed)")

# plot experiment:ID of a sweep: a metric against the first parameter, one
# line per value of the other, interval bars; a heatmap over both
p = run("plot", "experiment:1", "--db", out("j1/sweep.db"), "--out", out("plot"))
pics = sorted(f for f in os.listdir(out("plot")) if f.endswith(".png"))
check(pics == [f"{k}-{i}.png" for k in ("heatmap", "metric") for i in range(3)],
      f"a picture per metric and a heatmap per metric: {pics}")
blocks = open(out("plot/metric-0.dat")).read().split("\n\n\n")
first = [pt for pt in r1["points"] if pt["parameters"]["capacity.submission"] == 6
         and pt["parameters"]["request_admission.md_factor"] == 0.5][0]["metrics"]["wall_time_seconds"]
rows = [line.split() for line in blocks[0].splitlines() if line and not line.startswith("#")]
check(len(blocks) == 2 and len(rows) == 2 and float(rows[0][0]) == 6
      and abs(float(rows[0][1]) - first["mean"]) < 1e-6
      and abs(float(rows[0][3]) - first["ci95_high"]) < 1e-6,
      f"metric-0.dat: a block per md_factor, rows by submission with mean and interval: {blocks}")
heat = [line.split() for line in open(out("plot/heatmap-0.dat")) if not line.startswith("#")]
check(len(heat) == 4 and heat[0][:2] == ["0", "0"] and abs(float(heat[0][2]) - first["mean"]) < 1e-6,
      f"heatmap-0.dat: the mean per (submission, md_factor): {heat}")

# 3. SIGKILL of the driver halfway, then --resume
kill_dir = out("killed")
driver = subprocess.Popen([admitsim, "sweep", sweep, "--out", kill_dir, "--jobs", "1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
halfway = wait_for(lambda: len(complete_shards(kill_dir)) >= 5, 120)
driver.send_signal(signal.SIGKILL)
driver.wait()
done_before = len(complete_shards(kill_dir))
check(halfway and 5 <= done_before < 12, f"the driver was killed halfway ({done_before} of 12)")
time.sleep(0.3)  # the running shard's SIGTERM (it dies with its parent)
p = run("sweep", sweep, "--out", kill_dir, "--resume", "--jobs", "2")
started = [e for e in journal(kill_dir) if e["event"] == "start"]
check(len(started) == 2 and started[1]["to_run"] == 12 - done_before,
      f"--resume ran only the missing shards: {started}")
check(runs_per_point_seed(os.path.join(kill_dir, "sweep.db")) ==
      runs_per_point_seed(out("j1/sweep.db")), "exactly one run per (point, seed) after resume")
d = diff_rows(reference, db_rows(os.path.join(kill_dir, "sweep.db")))
check(d is None, f"a resumed sweep stores what an uninterrupted one does: {d}")
leftovers = [f for f in os.listdir(os.path.join(kill_dir, "shards"))
             if f.startswith(".tmp") or (f.endswith(".db") and f.count(".") >= 3 and
                                         not any(f in open(os.path.join(kill_dir, "shards", j)).read()
                                                 for j in complete_shards(kill_dir)))]
check(not leftovers, f"no stale shard files after the sweep: {leftovers}")

# 4. SIGTERM stops the pool; --resume finishes
term_dir = out("term")
driver = subprocess.Popen([admitsim, "sweep", sweep, "--out", term_dir, "--jobs", "2"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wait_for(lambda: len(complete_shards(term_dir)) >= 2, 120)
driver.send_signal(signal.SIGTERM)
_, err = driver.communicate(timeout=120)
check(driver.returncode == 1 and "interrupted" in err and "--resume" in err,
      f"SIGTERM: exit 1, says how to resume ({driver.returncode}: {err[-300:]})")
check(any(e["event"] == "interrupted" for e in journal(term_dir)), "journal: interrupted")
check(not os.path.exists(os.path.join(term_dir, "sweep.db")), "nothing merged when interrupted")
run("sweep", sweep, "--out", term_dir, "--resume", "--quiet")
check(diff_rows(reference, db_rows(os.path.join(term_dir, "sweep.db"))) is None,
      "SIGTERM then --resume: the same rows")

# 5. failing shards, then --resume reruns them
fail_dir = out("failing")
with open(out("a-file"), "w") as f:  # a $TMPDIR that is a file: no database can be made there
    f.write("x")
env = dict(os.environ, TMPDIR=out("a-file"))
p = run("sweep", sweep, "--out", fail_dir, "--jobs", "2", expect=1, env=env)
check("12 shards failed" in p.stderr and "--resume reruns them" in p.stderr,
      f"failed shards are reported: {p.stderr[-400:]}")
ends = [e for e in journal(fail_dir) if e["event"] == "shard"]
check(len(ends) == 12 and all(e["exit"] == 1 and not e["complete"] for e in ends),
      "each failed shard's exit status is journaled")
run("sweep", sweep, "--out", fail_dir, "--resume", "--quiet")
check(diff_rows(reference, db_rows(os.path.join(fail_dir, "sweep.db"))) is None,
      "failed shards rerun: the same rows")

# 6. a directory holding a sweep; --resume of a finished one
p = run("sweep", sweep, "--out", out("j1"), expect=1)
check("holds a sweep already: --resume" in p.stderr, f"an existing sweep is refused: {p.stderr}")
run("sweep", sweep, "--out", out("j1"), "--resume", "--quiet")
check(diff_rows(reference, db_rows(out("j1/sweep.db"))) is None,
      "resuming a finished sweep adds nothing")
other = bad_sweep("other.json", lambda d: d.__setitem__("seeds", 2))
p = run("sweep", other, "--out", out("j1"), "--resume", expect=1)
check("holds another sweep" in p.stderr, f"another sweep's directory is refused: {p.stderr}")

# A finished sweep merged into a --db that is then made anew (removed)
# and given another sweep's experiment under the same id: --resume must not
# take that experiment for its own (its runs would join the other sweep's,
# and its result replace the other's); it begins one of its own.
shared = out("shared.db")
run("sweep", sweep, "--out", out("first"), "--db", shared, "--quiet")
os.remove(shared)
two = bad_sweep("two.json", lambda d: (d.__setitem__("sweep_id", "two"),
                                       d.__setitem__("seeds", 1)))
run("sweep", two, "--out", out("two"), "--db", shared, "--quiet")
run("sweep", sweep, "--out", out("first"), "--db", shared, "--resume", "--quiet")
con = sqlite3.connect(shared)
exps = con.execute("SELECT e.experiment_id, e.name, json_extract(e.result_json, '$.sweep_id'),"
                   " count(r.run_id) FROM experiments e LEFT JOIN runs r USING (experiment_id)"
                   " GROUP BY 1 ORDER BY 1").fetchall()
con.close()
check(exps == [(1, "two", "two", 4), (2, "sweep_test", "sweep_test", 12)],
      f"a resumed sweep keeps to its own experiment in a database made anew: {exps}")
run("sweep", sweep, "--out", out("first"), "--db", shared, "--resume", "--quiet")
con = sqlite3.connect(shared)
n = con.execute("SELECT count(*) FROM experiments").fetchone()[0]
con.close()
check(n == 2, f"and reuses that one when resumed again: {n} experiments")

# A finished sweep whose shards/ was removed (to save space), resumed: every
# shard runs again into a new database; merging those would store each
# (point, seed) a second time in the experiment.  Not merged again: exactly
# one run per (point, seed), the same rows.
run("sweep", sweep, "--out", out("j3-again"), "--quiet", "--jobs", "2")
shutil.rmtree(os.path.join(out("j3-again"), "shards"))
run("sweep", sweep, "--out", out("j3-again"), "--resume", "--quiet", "--jobs", "2")
check(runs_per_point_seed(out("j3-again/sweep.db")) == runs_per_point_seed(out("j1/sweep.db")),
      "shards run again after their files were removed: one run per (point, seed)")
d = diff_rows(reference, db_rows(out("j3-again/sweep.db")))
check(d is None, f"shards run again: the same rows: {d}")

# Only the shard databases removed (their JSONs stay): each shard ran again
# and lost to its own stale JSON ("exited with status 0 but its files are
# not in place"), so no --resume could ever finish.  The stale JSON goes.
for f in os.listdir(os.path.join(out("j3-again"), "shards")):
    if ".db" in f:
        os.remove(os.path.join(out("j3-again"), "shards", f))
p = run("sweep", sweep, "--out", out("j3-again"), "--resume", "--quiet", "--jobs", "2")
check(runs_per_point_seed(out("j3-again/sweep.db")) == runs_per_point_seed(out("j1/sweep.db")),
      "shard databases removed, resumed: one run per (point, seed)")

# A --db that holds the sweep's runs already, under no experiment (its
# database merged there by admitsim merge): every run is skipped as there,
# the new experiment would hold none of them while its result counts them
# all.  Refused (exit 1), the experiment marked failed.
run("merge", out("outside.db"), shared)
p = run("sweep", sweep, "--out", out("first"), "--db", out("outside.db"), "--resume", "--quiet",
        expect=1)
check("holds 0 of the sweep's 12 runs" in p.stderr, f"runs outside the experiment: {p.stderr}")
con = sqlite3.connect(out("outside.db"))
st = con.execute("SELECT status FROM experiments").fetchall()
con.close()
check(st == [("failed",)], f"the experiment is marked failed: {st}")

# A trace file the scenario reads (an empirical latency) is part of the
# sweep: changed before --resume, the directory is refused, as for a
# changed scenario, instead of resuming with runs of the new trace beside
# runs of the old one; put back, it resumes.
traced = json.load(open(os.path.join(src, "tests", "data", "sweep_scenario.json")))
traced["providers"][1]["latency"] = {"dist": "empirical", "file": "trace-b.csv"}
with open(out("traced.json"), "w") as f:
    json.dump(traced, f)
with open(out("trace-b.csv"), "w") as f:
    f.write("0.3\n0.4\n0.5\n")
trace_sweep = bad_sweep("trace_sweep.json", lambda d: (
    d.__setitem__("scenario", out("traced.json")), d.__setitem__("seeds", 1),
    d.__setitem__("sweep_id", "traced")))
trace_dir = out("traced")
run("sweep", trace_sweep, "--out", trace_dir, "--quiet", "--jobs", "2")
os.remove(os.path.join(trace_dir, "shards", "shard-000003.json"))
with open(out("trace-b.csv"), "w") as f:
    f.write("3.0\n")
p = run("sweep", trace_sweep, "--out", trace_dir, "--resume", "--quiet", expect=1)
check("holds another sweep" in p.stderr, f"a changed trace file is a changed sweep: {p.stderr}")
with open(out("trace-b.csv"), "w") as f:
    f.write("0.3\n0.4\n0.5\n")
run("sweep", trace_sweep, "--out", trace_dir, "--resume", "--quiet")

# 7. one shard completed by two processes: the first one's files stay
first = json.load(open(out("j1/shards/shard-000000.json")))
p = run("sweep", sweep, "--shard", "0", "--out", out("j1"))
check("was completed by another process first" in p.stderr, f"second completion: {p.stderr}")
check(json.load(open(out("j1/shards/shard-000000.json"))) == first, "the first shard stays")

# 8. admitsim merge: idempotent, refuses mixed schema versions
shards = sorted(os.path.join(out("j1/shards"), f) for f in os.listdir(out("j1/shards"))
                if f.endswith(".db"))
check(len(shards) == 12, f"12 shard databases: {len(shards)}")
p = run("merge", out("merged.db"), *shards)
check("12 runs merged, 0 already there" in p.stdout, f"merge: {p.stdout[-200:]}")
p = run("merge", out("merged.db"), *shards)
check("0 runs merged, 12 already there" in p.stdout, f"merge again: {p.stdout[-200:]}")
shutil.copy(os.path.join(src, "tests", "data", "store-v6.db"), out("v6.db"))
p = run("merge", out("merged.db"), shards[0], out("v6.db"), expect=1)
check("mixed schema versions" in p.stderr and "v6.db (version 6)" in p.stderr
      and "admitsim migrate" in p.stderr, f"mixed versions refused: {p.stderr}")

if failures:
    print(f"sweep_test: {len(failures)} failure(s)")
    sys.exit(1)
print("sweep_test: ok")
