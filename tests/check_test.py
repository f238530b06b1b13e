#!/usr/bin/env python3
"""`admitsim check` on crafted artifact pairs, every gate passing and failing; on
stored runs and experiments (run:ID, experiment:ID), edited with SQL.
usage: check_test.py ADMITSIM SOURCE_DIR WORK_DIR"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys

admitsim, src, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("check_test: FAIL:", what)


def run(scenario, out, *args):
    subprocess.run([admitsim, "run", os.path.join(src, "scenarios", scenario), "--no-db",
                    "--out", out, *args], check=True, capture_output=True)


def judge(cand, base, *args, expect):
    p = subprocess.run([admitsim, "check", cand, "--baseline", base, "--format", "json", *args],
                       capture_output=True, text=True)
    check(p.returncode == expect, f"check {cand} vs {base}: exit {p.returncode}, expected "
                                  f"{expect}: {p.stderr.strip()[:300]}")
    return json.loads(p.stdout) if p.stdout.strip() else None


def status(verdict, gate, scenario=None):
    for r in verdict["results"]:
        if r["gate"] == gate and (scenario is None or r["scenario"] == scenario):
            return r["status"]
    return None


def artifacts(d):
    return [os.path.join(d, f) for f in sorted(os.listdir(d))
            if f.endswith(".json")]


def edit(path, fn):
    doc = json.load(open(path))
    fn(doc)
    json.dump(doc, open(path, "w"))


base, same = os.path.join(work, "base"), os.path.join(work, "same")
for seed in ("1", "2", "3"):
    for d in (base, same):
        run("neutral_ready_at_start.json", d, "--seed", seed, "--iterations", "2")
        run("heavy_root.json", d, "--seed", seed)

# identical sets: every gate passes or does not apply
v = judge(same, base, expect=0)
check(v["passed"] is True, "identical sets pass")
check(status(v, "neutral_wall_time", "neutral_ready_at_start") == "pass",
      "the neutral gate applies to a neutral scenario")
check(status(v, "neutral_wall_time", "heavy_root") == "not_applicable",
      "the neutral gate does not apply to heavy_root")
check(status(v, "outputs_equal", "heavy_root") == "pass", "outputs equal")
check(status(v, "claims_hold", "heavy_root") == "not_applicable", "no claims, nothing to hold")

# the candidate's recorded wall times 8% higher on the neutral scenario: a regression
slow = os.path.join(work, "slow")
shutil.copytree(same, slow)
for path in artifacts(slow):
    if "neutral_ready_at_start" not in path:
        continue
    edit(path, lambda d: [it.__setitem__("wall_time_seconds", it["wall_time_seconds"] * 1.08)
                          for it in d["derived_metrics"]["iterations"]])
v = judge(slow, base, expect=1)
check(status(v, "neutral_wall_time", "neutral_ready_at_start") == "fail",
      "8% slower on a neutral scenario fails the 5% gate")
# ... and a scenario that allows 10% passes it
for path in artifacts(slow):
    if "neutral_ready_at_start" in path:
        edit(path, lambda d: d["inputs"]["check"]["thresholds"].update(neutral_wall_time=0.10))
v = judge(slow, base, expect=0)
check(status(v, "neutral_wall_time", "neutral_ready_at_start") == "pass",
      "a scenario's threshold replaces the gates file's")


# a threshold naming no gate that reads one is bad input naming the artifact, the
# JSON path, the gates that do and the nearest name (it was ignored: the gates
# file's 5% judged, exit 1 or 0 by a threshold the scenario did not ask for)
def refused(cand, base, *args, says):
    p = subprocess.run([admitsim, "check", cand, "--baseline", base, "--format", "json", *args],
                       capture_output=True, text=True)
    check(p.returncode == 2 and not p.stdout.strip() and all(s in p.stderr for s in says),
          f"check {cand}: exit {p.returncode} (expected 2, no verdict), stderr "
          f"{p.stderr.strip()[:400]!r} should say {says}")


def with_thresholds(name, thresholds):
    d = os.path.join(work, name)
    shutil.copytree(same, d)
    for path in artifacts(d):
        if "neutral_ready_at_start" in path:
            edit(path, lambda doc: doc["inputs"]["check"].__setitem__("thresholds", thresholds))
    return d


typo = with_thresholds("t_typo", {"neutral_wal_time": 0.10})
victim = [p for p in artifacts(typo) if "neutral_ready_at_start" in p][0]
refused(typo, base, says=[victim, "$.inputs.check.thresholds.neutral_wal_time: no such gate",
                          "gates.json that takes a threshold: neutral_wall_time",
                          'did you mean "neutral_wall_time"?'])
refused(with_thresholds("t_none", {"outputs_equal": 0.10}), base,
        says=["$.inputs.check.thresholds.outputs_equal: a gate of kind output_hashes_equal, "
              "which takes no threshold", "takes a threshold: neutral_wall_time"])
refused(with_thresholds("t_bench", {"admission_cycle_p95": 0.10}), base,
        says=["$.inputs.check.thresholds.admission_cycle_p95: a gate of kind bench_not_worse"])
refused(with_thresholds("t_value", {"neutral_wall_time": "0.1"}), base,
        says=["$.inputs.check.thresholds.neutral_wall_time: expected a number 0 to 1e9"])
# ... by the gates file in use: one without the named gate refuses it, naming that file
renamed = os.path.join(work, "g_renamed.json")
doc = json.load(open(os.path.join(src, "gates", "gates.json")))
for g in doc["gates"]:
    if g["name"] == "neutral_wall_time":
        g["name"] = "neutral_walltime"
json.dump(doc, open(renamed, "w"))
kept = with_thresholds("t_kept", {"neutral_wall_time": 0.10})
refused(kept, base, "--gates", renamed,
        says=[f"expected a gate of {renamed} that takes a threshold: neutral_walltime)",
              'did you mean "neutral_walltime"?'])
v = judge(kept, base, expect=0)  # a valid threshold is judged as before
check(v is not None and [r["threshold"] for r in v["results"] if r["gate"] ==
      "neutral_wall_time" and r["scenario"] == "neutral_ready_at_start"] == [0.10],
      "a valid scenario threshold is the one judged")
# the baseline's check section is not read (the candidate's thresholds are judged)
v = judge(same, typo, expect=0)
check(v is not None and v["passed"], "a baseline's unread thresholds are not judged")

# a gated metric missing from a run is a failure, never a gate that quietly does not
# apply (it passed: exit 0); likewise a gates file naming a metric no run records
unrecorded = os.path.join(work, "unrecorded")
shutil.copytree(same, unrecorded)
victim = [p for p in artifacts(unrecorded) if "neutral_ready_at_start" in p][0]
edit(victim, lambda d: d["derived_metrics"]["iterations"][1].pop("wall_time_seconds"))
v = judge(unrecorded, base, expect=1)
check(v is not None and status(v, "neutral_wall_time", "neutral_ready_at_start") == "fail",
      "a candidate without wall_time_seconds fails the neutral gate")
v = judge(same, unrecorded, expect=1)
check(v is not None and status(v, "neutral_wall_time", "neutral_ready_at_start") == "fail",
      "a baseline without wall_time_seconds fails the neutral gate")
typo_gates = os.path.join(work, "typo_gates.json")
doc = json.load(open(os.path.join(src, "gates", "gates.json")))
for g in doc["gates"]:
    if g["name"] == "neutral_wall_time":
        g["metric"] = "wall_time_secs"
json.dump(doc, open(typo_gates, "w"))
v = judge(same, base, "--gates", typo_gates, expect=1)
check(v is not None and status(v, "neutral_wall_time", "neutral_ready_at_start") == "fail",
      "a gate on a metric no run records fails")
# a reason longer than its 512 bytes is cut whole characters at a time: a
# metric name of 300 two-byte characters cut mid-character lost the row
long_gates = os.path.join(work, "long_gates.json")
for g in doc["gates"]:
    if g["name"] == "neutral_wall_time":
        g["metric"] = "\u00e9" * 300
json.dump(doc, open(long_gates, "w"))
for extra in ("", "x"):  # either parity of the cut
    named = long_gates.replace(".json", f"{extra}.json")
    if extra:
        g = next(g for g in doc["gates"] if g["name"] == "neutral_wall_time")
        g["metric"] = "x" + g["metric"]
        json.dump(doc, open(named, "w"))
    v = judge(same, base, "--gates", named, expect=1)
    rows = [r for r in (v or {}).get("results", []) if r["gate"] == "neutral_wall_time"
            and r["scenario"] == "neutral_ready_at_start"]
    check(len(rows) == 1 and rows[0]["status"] == "fail" and "\u00e9" * 100 in rows[0]["reason"],
          f"the row of a gate with a long reason is kept ({extra!r}): {rows}")

# a lease left at the end, and changed outputs
leaky = os.path.join(work, "leaky")
shutil.copytree(same, leaky)
victim = [p for p in artifacts(leaky) if "heavy_root" in p][0]
edit(victim, lambda d: d["iterations"][0]["final_task_snapshot"].__setitem__("task_leases", 1))
v = judge(leaky, base, expect=1)
check(status(v, "final_snapshots_clean", "heavy_root") == "fail", "a lease left fails")
hidden = os.path.join(work, "hidden")
shutil.copytree(same, hidden)
victim = [p for p in artifacts(hidden) if "heavy_root" in p][0]
edit(victim, lambda d: d["iterations"][0]["stats"].pop("hidden_scheduler_resource_waiters"))
judge(hidden, base, expect=2)  # a missing count is not a zero
changed = os.path.join(work, "changed")
shutil.copytree(same, changed)
victim = [p for p in artifacts(changed) if "heavy_root" in p][0]
edit(victim, lambda d: d["iterations"][0]["output_hashes"].__setitem__("all", "0" * 16))
v = judge(changed, base, expect=1)
check(status(v, "outputs_equal", "heavy_root") == "fail", "changed outputs fail")

# claims: the candidate claims a shorter wall time; true and false
claim = os.path.join(work, "claim")
shutil.copytree(same, claim)
for i, path in enumerate(p for p in artifacts(claim) if "heavy_root" in p):
    def better(d, i=i):
        d["inputs"]["check"]["claims"] = ["wall_time_seconds"]
        for it in d["derived_metrics"]["iterations"]:
            it["wall_time_seconds"] *= 0.9 - 0.01 * i
    edit(path, better)
v = judge(claim, base, expect=0)
check(status(v, "claims_hold", "heavy_root") == "pass", "a true claim holds")
check(status(v, "claims_survive_trimming", "heavy_root") == "pass", "and survives trimming")
for path in (p for p in artifacts(claim) if "heavy_root" in p):
    edit(path, lambda d: [it.__setitem__("wall_time_seconds", it["wall_time_seconds"] / 0.8)
                          for it in d["derived_metrics"]["iterations"]])
v = judge(claim, base, expect=1)
check(status(v, "claims_hold", "heavy_root") == "fail", "a false claim fails")

# a claimed metric the runs do not record fails, naming it
for path in (p for p in artifacts(claim) if "heavy_root" in p):
    edit(path, lambda d: d["inputs"]["check"].__setitem__("claims", ["group.nope.wait_p95_seconds"]))
v = judge(claim, base, expect=1)
check(status(v, "claims_hold", "heavy_root") == "fail", "a claim on an unrecorded metric fails")

# request accounting: leases match admitted attempts; a lease too many fails
calls_base, calls_same = os.path.join(work, "calls_base"), os.path.join(work, "calls_same")
for seed in ("1", "2"):
    for d in (calls_base, calls_same):
        run("dynamic_request_calls.json", d, "--seed", seed)
v = judge(calls_same, calls_base, expect=0)
check(status(v, "request_accounting") == "pass", "request accounting holds on a real run")
check(status(v, "outputs_equal") == "pass", "dynamic calls: outputs equal")
v = judge(same, base, expect=0)
check(status(v, "request_accounting", "heavy_root") == "not_applicable",
      "no model calls, no request accounting")
extra = os.path.join(work, "extra_lease")
shutil.copytree(calls_same, extra)
victim = artifacts(extra)[0]
def one_more(d):
    rr = d["derived_metrics"]["iterations"][0]["request_resources"]
    first = sorted(rr)[0]
    rr[first]["leases"] += 1
edit(victim, one_more)
v = judge(extra, calls_base, expect=1)
check(status(v, "request_accounting") == "fail", "a request lease without an attempt fails")
unreleased = os.path.join(work, "unreleased")
shutil.copytree(calls_same, unreleased)
edit(artifacts(unreleased)[0], lambda d: d["iterations"][0]["final_request_snapshot"].__setitem__(
    "leases_released", d["iterations"][0]["final_request_snapshot"]["leases_released"] - 1))
v = judge(unreleased, calls_base, expect=1)
check(status(v, "request_accounting") == "fail", "a request lease never released fails")

# bad input: a truncated file, mismatched sets, an unknown gate
trunc = os.path.join(work, "trunc.json")
text = open(artifacts(base)[0]).read()
open(trunc, "w").write(text[: len(text) // 2])
judge(trunc, artifacts(base)[0], expect=2)
judge(artifacts(same)[0], base, expect=2)  # one run against many: mismatched
bad_gates = os.path.join(work, "gates.json")
json.dump({"gates_version": 1, "gates": [{"name": "x", "kind": "vibes"}]}, open(bad_gates, "w"))
judge(same, base, "--gates", bad_gates, expect=2)
# a gates file with a misspelt key, a threshold out of range or a name twice is bad
# input naming the JSON path (each was read as written, or as a default: exit 0)
shipped = json.load(open(os.path.join(src, "gates", "gates.json")))
def gates_edit(name, fn, says):
    doc = json.loads(json.dumps(shipped))
    fn(doc, {g["name"]: g for g in doc["gates"]})
    path = os.path.join(work, name)
    json.dump(doc, open(path, "w"))
    p = subprocess.run([admitsim, "check", same, "--baseline", base, "--gates", path],
                       capture_output=True, text=True)
    check(p.returncode == 2 and path in p.stderr and says in p.stderr,
          f"gates file {name}: exit {p.returncode}, expected 2 saying {says!r}: {p.stderr.strip()}")
gates_edit("g_typo.json", lambda d, g: g["neutral_wall_time"].__setitem__(
    "when_tags", g["neutral_wall_time"].pop("when_tag")), "$.gates[3].when_tags: unknown key")
gates_edit("g_top.json", lambda d, g: d.__setitem__("gate", []), "$.gate: unknown key")
gates_edit("g_negative.json", lambda d, g: g["neutral_wall_time"].__setitem__("threshold", -0.05),
           "$.gates[3].threshold: expected a number 0 to 1e9")
gates_edit("g_huge.json", lambda d, g: g["neutral_wall_time"].__setitem__("threshold", 1e300),
           "$.gates[3].threshold: expected a number 0 to 1e9")
gates_edit("g_string.json", lambda d, g: g["neutral_wall_time"].__setitem__("threshold", "NaN"),
           "$.gates[3].threshold")
gates_edit("g_twice.json", lambda d, g: d["gates"].append(dict(g["neutral_wall_time"])),
           "$.gates[7].name")
gates_edit("g_tag.json", lambda d, g: g["outputs_equal"].__setitem__("when_tag", ["x"]),
           "$.gates[2].when_tag")
gates_edit("g_lost.json", lambda d, g: g["final_snapshots_clean"].__setitem__("threshold", 0.1),
           "$.gates[0].threshold: kind final_snapshots_clean takes no threshold")
zero = os.path.join(work, "g_zero.json")
doc = json.loads(json.dumps(shipped))
[g.__setitem__("threshold", 0) for g in doc["gates"] if g["name"] == "neutral_wall_time"]
json.dump(doc, open(zero, "w"))
v = judge(same, base, "--gates", zero, expect=0)  # a threshold of 0: no worse at all
check(v is not None and status(v, "neutral_wall_time", "neutral_ready_at_start") == "pass",
      "a threshold of 0 on identical runs passes")

# artifacts missing what the gates read are bad input, not zeros that pass
def broken(name, fn):
    d = os.path.join(work, name)
    shutil.copytree(same, d)
    edit(artifacts(d)[0], fn)
    return d
judge(broken("no_req", lambda d: d["iterations"][0].pop("final_request_snapshot")), base, expect=2)
judge(broken("real_lease", lambda d: d["iterations"][0]["final_task_snapshot"].__setitem__(
    "task_leases", 1.0)), base, expect=2)
judge(broken("no_its", lambda d: d.__setitem__("iterations", [])), base, expect=2)
judge(broken("num_claim", lambda d: d["inputs"]["check"].__setitem__("claims", [42])), base,
      expect=2)
# the table names the arm
p = subprocess.run([admitsim, "check", same, "--baseline", base], capture_output=True, text=True)
check("heavy_root / bounded" in p.stdout, f"the table names scenario and arm: {p.stdout[:300]}")

# ---- stored runs: run:ID and experiment:ID ------------------------------------------

def stored(scenario, db, *args, out=None):
    """`admitsim run` into db; its run id."""
    p = subprocess.run([admitsim, "run", scenario, "--db", db, *(["--out", out] if out else []),
                        *args], check=True, capture_output=True, text=True)
    return int(p.stderr.split("stored run ")[1].split()[0])


def ab(scenario, db, *args, out=None):
    """`admitsim ab` into db; the experiment's id."""
    subprocess.run([admitsim, "ab", scenario, "--db", db, "--jobs", "1",
                    *(["--out", out] if out else []), *args], check=True, capture_output=True)
    with sqlite3.connect(db) as c:
        return c.execute("SELECT max(experiment_id) FROM experiments").fetchone()[0]


def sql(db, statement):
    with sqlite3.connect(db) as c:
        c.execute(statement)


def reason(verdict, gate, scenario=None):
    for r in verdict["results"]:
        if r["gate"] == gate and (scenario is None or r["scenario"] == scenario):
            return r["reason"]
    return ""


def judge_err(*argv, expect=2, says=""):
    p = subprocess.run([admitsim, "check", *argv], capture_output=True, text=True)
    check(p.returncode == expect and says in p.stderr,
          f"check {' '.join(argv)}: exit {p.returncode} (expected {expect}), "
          f"stderr {p.stderr.strip()[:300]!r} should say {says!r}")


neutral = os.path.join(src, "scenarios", "neutral_ready_at_start.json")
db_a, db_b = os.path.join(work, "a.db"), os.path.join(work, "b.db")
runs_out = os.path.join(work, "runs_out")
ra = stored(neutral, db_a, "--seed", "2", "--iterations", "2", out=runs_out)
rb = stored(neutral, db_b, "--seed", "2", "--iterations", "2")
rb2 = stored(neutral, db_b, "--seed", "2", "--iterations", "2")

# run:ID against run:ID, in two databases and in one
v = judge(f"run:{ra}", f"run:{rb}", "--db", db_a, "--baseline-db", db_b, expect=0)
check(status(v, "neutral_wall_time") == "pass", "run vs run: the neutral gate applies")
check(status(v, "outputs_equal") == "pass" and "all-columns" in reason(v, "outputs_equal"),
      f"run vs run: outputs compared by the all-columns hash: {reason(v, 'outputs_equal')}")
check(status(v, "final_snapshots_clean") == "pass", "run vs run: snapshots clean")
judge(f"run:{rb2}", f"run:{rb}", "--db", db_b, expect=0)
# mixed sides: the run's own artifact against it, both ways
v = judge(runs_out, f"run:{ra}", "--db", db_a, expect=0)
check(status(v, "neutral_wall_time") == "pass", "artifact vs run: the neutral gate passes")
judge(f"run:{ra}", runs_out, "--db", db_a, expect=0)
# a stored run without its hidden-waiter count is bad input, not a clean run
db_h = os.path.join(work, "hidden.db")
shutil.copy(db_b, db_h)
sql(db_h, f"DELETE FROM metrics WHERE run_id = {rb} AND scope = 'run' AND "
          "name = 'hidden_scheduler_resource_waiters'")
judge(f"run:{rb}", f"run:{rb2}", "--db", db_h, expect=2)

# a run of an explicit arm stores its arm, so it matches its own artifact
arm_out = os.path.join(work, "arm_out")
rarm = stored(os.path.join(src, "scenarios", "heavy_root.json"), db_a, "--arm", "candidate",
              "--seed", "1", out=arm_out)
with sqlite3.connect(db_a) as c:
    check(c.execute(f"SELECT arm FROM runs WHERE run_id = {rarm}").fetchone()[0] == "candidate",
          "run --arm stores its arm")
v = judge(f"run:{rarm}", arm_out, "--db", db_a, expect=0)
check({r["arm"] for r in v["results"]} == {"candidate"}, "a stored arm run is judged as its arm")

# an edited stored figure: 8% more wall time fails the neutral gate; a lease
# left in the iterations row or in a snapshot fails the snapshot gate
slow_db = os.path.join(work, "slow.db")
shutil.copy(db_b, slow_db)
sql(slow_db, f"UPDATE metrics SET value = value * 1.08 WHERE run_id = {rb} AND scope = 'run' "
             "AND name = 'wall_time_seconds'")
v = judge(f"run:{rb}", f"run:{ra}", "--db", slow_db, "--baseline-db", db_a, expect=1)
check(status(v, "neutral_wall_time") == "fail", "8% more stored wall time fails the neutral gate")
check(abs(v["results"][3]["candidate"] / v["results"][3]["baseline"] - 1.08) < 1e-9,
      f"the gate shows both means: {v['results'][3]}")
leak_db = os.path.join(work, "leak.db")
shutil.copy(db_b, leak_db)
sql(leak_db, f"UPDATE iterations SET final_task_leases = 1 WHERE run_id = {rb} AND iteration = 1")
v = judge(f"run:{rb}", f"run:{ra}", "--db", leak_db, "--baseline-db", db_a, expect=1)
check(status(v, "final_snapshots_clean") == "fail" and "iteration 1" in
      reason(v, "final_snapshots_clean"), "a lease left in the iterations row fails")
shutil.copy(db_b, leak_db)
sql(leak_db, f"UPDATE snapshots SET json = json_set(json, '$.waiters', 2) WHERE run_id = {rb} "
             "AND kind = 'final_request'")
v = judge(f"run:{rb}", f"run:{ra}", "--db", leak_db, "--baseline-db", db_a, expect=1)
check(status(v, "final_snapshots_clean") == "fail", "a waiter left in a snapshot fails")
shutil.copy(db_b, leak_db)
sql(leak_db, f"UPDATE iterations SET output_hash = '0000000000000000' WHERE run_id = {rb}")
v = judge(f"run:{rb}", runs_out, "--db", leak_db, expect=1)
check(status(v, "outputs_equal") == "fail", "a changed stored output hash fails")

# bad input: malformed and unknown ids, no database, a run never finished,
# options that do not fit
judge_err("run:abc", "--baseline", f"run:{ra}", "--db", db_a, says="expected run:ID")
judge_err("run:0", "--baseline", f"run:{ra}", "--db", db_a, says="expected run:ID")
judge_err("experiment:1x", "--baseline", runs_out, "--db", db_a, says="expected experiment:ID")
judge_err("run:99", "--baseline", f"run:{ra}", "--db", db_a, says="no run 99")
judge_err("experiment:7", "--baseline", runs_out, "--db", db_a, says="no experiment 7")
judge_err(f"run:{ra}", "--baseline", f"run:{ra}", "--db", os.path.join(work, "none.db"),
          says="none.db")
judge_err(f"run:{ra}", "--baseline", runs_out, "--db", db_a, "--baseline-db", db_b,
          says="--baseline-db")
judge_err(f"run:{ra}", "--db", db_a, says="experiment:ID")
judge_err(runs_out, says="--baseline")
unfinished = os.path.join(work, "unfinished.db")
shutil.copy(db_a, unfinished)
sql(unfinished, f"DELETE FROM iterations WHERE run_id = {ra} AND iteration = 1")
sql(unfinished, f"UPDATE runs SET status = 'failed' WHERE run_id = {ra}")
judge_err(f"run:{ra}", "--baseline", runs_out, "--db", unfinished, says="only a complete run")
# a run of another scenario or seed is a mismatch, as artifacts are
other = stored(neutral, db_a, "--seed", "3")
judge_err(f"run:{other}", "--baseline", f"run:{ra}", "--db", db_a, says="mismatched")

# experiment:ID against experiment:ID: two `ab` runs, two databases
exp_a, exp_b = os.path.join(work, "exp_a.db"), os.path.join(work, "exp_b.db")
exp_out = os.path.join(work, "exp_out")
ea = ab(neutral, exp_a, "--seeds", "3", out=exp_out)
eb = ab(neutral, exp_b, "--seeds", "3")
v = judge(f"experiment:{ea}", f"experiment:{eb}", "--db", exp_a, "--baseline-db", exp_b, expect=0)
arms = sorted({r["arm"] for r in v["results"]})
check(arms == ["baseline", "candidate"], f"experiment vs experiment: judged per arm: {arms}")
check(status(v, "neutral_wall_time") == "pass" and status(v, "outputs_equal") == "pass",
      "experiment vs experiment: the neutral and output gates pass")
# mixed: the experiment's artifacts (ab --out) against the stored experiment
judge(exp_out, f"experiment:{eb}", "--db", exp_b, expect=0)
# the candidate arm's stored wall times 8% higher: a regression
sql(exp_b, f"UPDATE metrics SET value = value * 1.08 WHERE name = 'wall_time_seconds' AND "
           f"scope = 'run' AND run_id IN (SELECT run_id FROM runs WHERE experiment_id = {eb} "
           "AND arm = 'candidate')")
v = judge(f"experiment:{eb}", f"experiment:{ea}", "--db", exp_b, "--baseline-db", exp_a, expect=1)
check([r["status"] for r in v["results"] if r["gate"] == "neutral_wall_time"] ==
      ["pass", "fail"], "8% slower candidate arm: its neutral gate fails, the baseline's passes")

# experiment:ID alone: its candidate arm against its baseline arm, by seed
peer = os.path.join(src, "scenarios", "heavy_root_peer_arrival.json")
ep = ab(peer, exp_a, "--seeds", "3")
p = subprocess.run([admitsim, "check", f"experiment:{ep}", "--db", exp_a, "--format", "json"],
                   capture_output=True, text=True)
check(p.returncode == 0, f"experiment alone: exit {p.returncode}: {p.stderr[:300]}")
v = json.loads(p.stdout) if p.stdout.strip() else {"results": []}
check({r["arm"] for r in v["results"]} == {"candidate vs baseline"},
      "experiment alone: judged as candidate vs baseline")
check(status(v, "claims_hold") == "pass" and status(v, "claims_survive_trimming") == "pass",
      f"experiment alone: the scenario's claims hold: {reason(v, 'claims_hold')}")
# ... the candidate's peer wait p95 made worse than the baseline's: the claim fails
sql(exp_a, f"UPDATE metrics SET value = value * 10 WHERE name = 'wait_p95_seconds' AND "
           f"scope = 'group:peer' AND run_id IN (SELECT run_id FROM runs WHERE experiment_id = "
           f"{ep} AND arm = 'candidate')")
p = subprocess.run([admitsim, "check", f"experiment:{ep}", "--db", exp_a, "--format", "json"],
                   capture_output=True, text=True)
check(p.returncode == 1, f"experiment alone, claim broken: exit {p.returncode}")
v = json.loads(p.stdout) if p.stdout.strip() else {"results": []}
check(status(v, "claims_hold") == "fail" and "group.peer.wait_p95_seconds" in
      reason(v, "claims_hold"), f"the broken claim is named: {reason(v, 'claims_hold')}")
judge_err(f"experiment:{ep}", "--baseline", f"experiment:{ea}", "--db", exp_a,
          says="mismatched")  # another scenario
# an arm run by another build is not stored: nothing to judge it against
eo = ab(neutral, exp_a, "--seeds", "2", "--baseline-bin", admitsim)
judge_err(f"experiment:{eo}", "--db", exp_a,
          says="its baseline arm \"baseline\" has no stored runs")

# the scenario file gone: the gates its check section selects are not applicable, saying so
gone = os.path.join(work, "gone.json")
shutil.copy(neutral, gone)
gone_db = os.path.join(work, "gone.db")
eg = ab(gone, gone_db, "--seeds", "2")
os.unlink(gone)
p = subprocess.run([admitsim, "check", f"experiment:{eg}", "--db", gone_db, "--format", "json"],
                   capture_output=True, text=True)
check(p.returncode == 0, f"scenario file gone: exit {p.returncode}: {p.stderr[:300]}")
v = json.loads(p.stdout) if p.stdout.strip() else {"results": []}
for gate in ("neutral_wall_time", "outputs_equal", "claims_hold"):
    check(status(v, gate) == "not_applicable" and f"{gone} is gone" in reason(v, gate),
          f"{gate} with the scenario file gone: {status(v, gate)}: {reason(v, gate)}")
check(status(v, "final_snapshots_clean") == "pass", "the snapshots are still judged")

# a stored run's thresholds are its scenario file's: a misspelt one is refused there
typo_file = os.path.join(work, "typo_thresholds.json")
doc = json.load(open(neutral))
doc["check"]["thresholds"] = {"neutral_wal_time": 0.10}
json.dump(doc, open(typo_file, "w"))
typo_db = os.path.join(work, "typo.db")
et = ab(typo_file, typo_db, "--seeds", "2")
judge_err(f"experiment:{et}", "--db", typo_db,
          says=f"(its scenario file {typo_file}): $.check.thresholds.neutral_wal_time: no such "
               "gate")
judge_err(f"experiment:{et}", "--db", typo_db, says='did you mean "neutral_wall_time"?')
doc["check"]["thresholds"] = {"claims_hold": 0.10}
json.dump(doc, open(typo_file, "w"))  # the same scenario and version, edited
judge_err(f"experiment:{et}", "--db", typo_db,
          says="$.check.thresholds.claims_hold: a gate of kind claims_better, which takes no "
               "threshold")

# a claim on a figure the store does not keep is not judged, and says why
claims_file = os.path.join(work, "claims_throughput.json")
doc = json.load(open(neutral))
doc["check"]["claims"] = ["throughput_records_per_second"]
json.dump(doc, open(claims_file, "w"))
ec = ab(claims_file, gone_db, "--seeds", "2")
p = subprocess.run([admitsim, "check", f"experiment:{ec}", "--db", gone_db, "--format", "json"],
                   capture_output=True, text=True)
v = json.loads(p.stdout) if p.stdout.strip() else {"results": []}
check(p.returncode == 0 and status(v, "claims_hold") == "not_applicable" and
      "throughput_records_per_second not judged: the results store does not keep it" in
      reason(v, "claims_hold"),
      f"a claim the store cannot judge: exit {p.returncode}, {reason(v, 'claims_hold')}")


# admission-cycle microbench results (bench --cycle --format json): a small
# matrix run for real, then judged against crafted copies of itself
matrix = os.path.join(work, "matrix.json")
json.dump({"scenario_id": "tiny_microbench", "scenario_version": 1, "kind": "microbench",
           "tasks": [200], "groups": [1, 4], "mixes": ["local", "mixed"],
           "policies": ["strict", "bounded"], "warmups": 0, "repeats": 3}, open(matrix, "w"))
bench_a = os.path.join(work, "bench_a.json")
p = subprocess.run([admitsim, "bench", "--cycle", matrix, "--format", "json"],
                   capture_output=True, text=True)
check(p.returncode == 0, f"bench --cycle MATRIX: exit {p.returncode}: {p.stderr[:300]}")
open(bench_a, "w").write(p.stdout)
bench = json.loads(p.stdout)
check(len(bench["cases"]) == 8 and bench["scenario_id"] == "tiny_microbench",
      f"the matrix's 2 x 2 x 2 cases: {len(bench['cases'])}")
v = judge(bench_a, bench_a, expect=0)
rows = [r for r in v["results"] if r["gate"] == "admission_cycle_p95"] if v else []
check(len(rows) == 8 and all(r["status"] == "pass" for r in rows),
      f"a bench against itself passes per case: {rows[:2]}")


def bench_edit(name, fn):
    path = os.path.join(work, name)
    doc = json.loads(open(bench_a).read())
    fn(doc)
    json.dump(doc, open(path, "w"))
    return path


def slower(factor, spread):
    def fn(doc):
        c = doc["cases"][0]
        for k in ("cycle_p95_ns", "cycle_p95_min_ns", "cycle_p95_max_ns"):
            c[k] = c[k] * (factor if k == "cycle_p95_ns" or spread else 1)
        if spread:  # every timed run slower than the baseline's slowest
            c["cycle_p95_min_ns"] = c["cycle_p95_max_ns"] = max(
                c["cycle_p95_ns"], bench["cases"][0]["cycle_p95_max_ns"] + 1)
    return fn


worse = bench_edit("bench_worse.json", slower(1.5, True))
v = judge(worse, bench_a, expect=1)
first = [r for r in v["results"] if r["gate"] == "admission_cycle_p95"][0] if v else {}
check(first.get("status") == "fail" and "+50.0%" in first.get("reason", ""),
      f"p95 50% worse beyond the runs' spread fails: {first}")
noisy = bench_edit("bench_noisy.json", slower(1.15, False))
c0 = bench["cases"][0]
if c0["cycle_p95_min_ns"] <= c0["cycle_p95_ns"]:
    v = judge(noisy, bench_a, expect=0)
    first = [r for r in v["results"] if r["gate"] == "admission_cycle_p95"][0] if v else {}
    check(first.get("status") == "pass" and "within the runs' spread" in first.get("reason", ""),
          f"a median 15% worse whose fastest run matches the baseline's median is noise: {first}")
# ... but not 50% worse, however wide the runs' spread
v = judge(bench_edit("bench_far.json", slower(1.5, False)), bench_a, expect=1)
first = [r for r in v["results"] if r["gate"] == "admission_cycle_p95"][0] if v else {}
check(first.get("status") == "fail", f"50% worse is never noise: {first}")
# the matrix file's threshold replaces the gates file's; both sides must carry it
with_check = lambda d: d.__setitem__("check", {"thresholds": {"admission_cycle_p95": 0.6}})
allowed = bench_edit("bench_allowed.json", lambda d: (slower(1.5, True)(d), with_check(d)))
base_allowed = bench_edit("bench_base_allowed.json", with_check)
v = judge(allowed, base_allowed, expect=0)
check(v is not None and v["passed"], "the matrix file's threshold replaces the gates file's")
judge(allowed, bench_a, expect=2)  # the candidate alone cannot loosen its gate
judge(bench_edit("bench_oops.json", lambda d: d.__setitem__(
    "check", {"thresholds": {"admission_cycle_p95": "oops"}})), bench_a, expect=2)
judge(bench_edit("bench_v2.json", lambda d: d.__setitem__("scenario_version", 2)), bench_a,
      expect=2)
judge(bench_edit("bench_r1.json", lambda d: d.__setitem__("repeats", 1)), bench_a, expect=2)
fewer = bench_edit("bench_fewer.json", lambda d: d["cases"].pop())
judge(fewer, bench_a, expect=2)
other = bench_edit("bench_other.json", lambda d: d.__setitem__("scenario_id", "another"))
judge(other, bench_a, expect=2)
no_p95 = bench_edit("bench_no_p95.json", lambda d: d["cases"][1].pop("cycle_p95_ns"))
judge(no_p95, bench_a, expect=2)
# a p95 of 0 ns was measured by nobody: bad input, not two zeros that pass
judge(bench_edit("bench_zero.json", lambda d: [c.__setitem__("cycle_p95_ns", 0.0)
                                              for c in d["cases"]]),
      bench_edit("bench_zero_b.json", lambda d: [c.__setitem__("cycle_p95_ns", 0.0)
                                                 for c in d["cases"]]), expect=2)
# a gate on a figure the cases lack fails with one row per case (its rows were lost:
# REGRESSION with no result saying which)
p99_gates = os.path.join(work, "p99_gates.json")
doc = json.load(open(os.path.join(src, "gates", "gates.json")))
[g.__setitem__("metric", "cycle_p99_ns") for g in doc["gates"] if g["kind"] == "bench_not_worse"]
json.dump(doc, open(p99_gates, "w"))
v = judge(bench_a, bench_a, "--gates", p99_gates, expect=1)
rows = [r for r in v["results"] if r["gate"] == "admission_cycle_p95"] if v else []
check(len(rows) == 8 and all(r["status"] == "fail" and r["candidate"] is None for r in rows),
      f"a bench gate on an unrecorded figure: one failing row per case: {rows[:1]}")
judge(bench_a, os.path.join(same), expect=2)  # bench results against runs: mismatched
truncated = os.path.join(work, "bench_truncated.json")
open(truncated, "w").write(open(bench_a).read()[:200])
judge(truncated, bench_a, expect=2)
# the matrix file's errors name the JSON path
bad = os.path.join(work, "bad_matrix.json")
json.dump({"scenario_id": "x", "scenario_version": 1, "kind": "microbench", "tasks": [10],
           "groups": [2, 2], "mixes": ["local"], "policies": ["strict"], "warmups": 0,
           "repeats": 1}, open(bad, "w"))
p = subprocess.run([admitsim, "bench", "--cycle", bad], capture_output=True, text=True)
check(p.returncode == 2 and "$.groups[1]: repeats an earlier value" in p.stderr,
      f"a bad matrix file: exit {p.returncode}: {p.stderr.strip()}")
p = subprocess.run([admitsim, "bench", "--cycle", matrix, "--groups", "7"], capture_output=True,
                   text=True)
check(p.returncode == 2 and "no case of" in p.stderr,
      f"filters that leave no case: exit {p.returncode}: {p.stderr.strip()}")

print(f"check_test: {len(failures)} failures")
sys.exit(1 if failures else 0)
