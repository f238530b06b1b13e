#!/usr/bin/env python3
"""`admitsim check` on crafted artifact pairs, every gate passing and failing.
usage: check_test.py ADMITSIM SOURCE_DIR WORK_DIR"""
import json
import os
import shutil
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

# a lease left at the end, and changed outputs
leaky = os.path.join(work, "leaky")
shutil.copytree(same, leaky)
victim = [p for p in artifacts(leaky) if "heavy_root" in p][0]
edit(victim, lambda d: d["iterations"][0]["final_task_snapshot"].__setitem__("task_leases", 1))
v = judge(leaky, base, expect=1)
check(status(v, "final_snapshots_clean", "heavy_root") == "fail", "a lease left fails")
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

print(f"check_test: {len(failures)} failures")
sys.exit(1 if failures else 0)
