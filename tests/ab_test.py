#!/usr/bin/env python3
"""`admitsim ab` end to end.  usage: ab_test.py ADMITSIM SOURCE_DIR WORK_DIR

1. heavy_root_peer_arrival, strict vs bounded: deterministic, the peer
   group's wait p95 33.45 s -> 12.5 s, better.
2. A stochastic scenario: intervals of non-zero width and a verdict for
   every directed metric.
3. --jobs 1 and --jobs 2 store identical runs and print identical figures.
4. --baseline-bin/--candidate-bin (this very build as "another" one) give
   the figures the in-process runs give.
5. Without --baseline/--candidate the scenario's "baseline" and "candidate"
   arms are compared, with their descriptions; a scenario without them, or
   an unknown arm, is a usage error (exit 2).
6. The jobs keep the events their outputs need: an artifact's timeline and
   a store keeping every event get every event (the timeline is `run`'s),
   the default store the notable ones, and the task timelines either way.
7. A figure over an empty set is absent, not 0: the candidate (one slot) is
   cancelled before column b ever runs, so b's waits are not compared (the
   baseline's 0.5 s against a made-up 0 once read "100.0% better"), whether
   the figures come from the runs in process or from another build's output,
   and the store keeps no row for them."""
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
        print("ab_test: FAIL:", what)


def ab(*args, expect=0):
    p = subprocess.run([admitsim, "ab", *args], capture_output=True, text=True)
    check(p.returncode == expect, f"ab {' '.join(args)} exited {p.returncode}: {p.stderr[-400:]}")
    return p


def figures(doc):
    """Metric -> (baseline mean, candidate mean, verdict), host timing left out."""
    return {k: (v["baseline"]["mean"], v["candidate"]["mean"], v["verdict"])
            for k, v in doc["metrics"].items() if not k.startswith("host.")}


scenario = os.path.join(src, "scenarios", "heavy_root_peer_arrival.json")
doc = json.loads(ab(scenario, "--baseline", "strict", "--candidate", "bounded", "--format", "json",
                    "--no-db").stdout)
check(doc["deterministic"] is True, "heavy_root_peer_arrival is deterministic")
peer = doc["metrics"]["group.peer.wait_p95_seconds"]
check(peer["baseline"]["mean"] == 33.45 and peer["candidate"]["mean"] == 12.5,
      f"peer wait p95 33.45 -> 12.5, got {peer['baseline']['mean']} -> {peer['candidate']['mean']}")
check(peer["verdict"] == "better" and peer["diff"]["ci95_low"] is None,
      "a deterministic difference has a verdict and no interval")
check(doc["seeds"] == list(range(1, 11)), "seeds 1..10 by default")

stochastic = os.path.join(src, "scenarios", "cross_provider_cooldown.json")
doc = json.loads(ab(stochastic, "--baseline", "strict", "--candidate", "provider_aware",
                    "--seeds", "5", "--format", "json", "--no-db").stdout)
check(doc["deterministic"] is False, "cross_provider_cooldown is not deterministic")
wall = doc["metrics"]["wall_time_seconds"]
check(wall["diff"]["ci95_low"] < wall["diff"]["ci95_high"], "a non-zero-width interval")
check(wall["verdict"] == "better", f"provider_aware shortens the wall time: {wall['verdict']}")
for name, m in doc["metrics"].items():
    if m["direction"] != "none":
        check(m["verdict"] in ("better", "worse", "no_difference", "identical"),
              f"{name} has a verdict ({m['verdict']})")

runs = {}
for jobs in ("1", "2"):
    db = os.path.join(work, f"jobs{jobs}.db")
    p = ab(os.path.join(src, "scenarios", "failures_salvage.json"), "--baseline", "strict",
           "--candidate", "provider_aware", "--seeds", "4", "--jobs", jobs, "--db", db,
           "--format", "json")
    runs[jobs] = (figures(json.loads(p.stdout)), db)
check(runs["1"][0] == runs["2"][0], "--jobs 1 and --jobs 2 print the same figures")
stored = {}
for jobs, (_, db) in runs.items():
    con = sqlite3.connect(db)
    stored[jobs] = (
        con.execute("SELECT run_id, policy, seed, status FROM runs ORDER BY run_id").fetchall(),
        con.execute("SELECT run_id, iteration, scope, name, value FROM metrics WHERE name != "
                    "'cpu_seconds' ORDER BY run_id, iteration, scope, name").fetchall(),
        con.execute("SELECT run_id, iteration, output_hash, event_count FROM iterations "
                    "ORDER BY run_id").fetchall())
    con.close()
check(stored["1"] == stored["2"], "--jobs 1 and --jobs 2 store identical runs")
con = sqlite3.connect(runs["1"][1])
exps = con.execute("SELECT experiment_id, kind, baseline_arm, candidate_arm, seeds, status, "
                   "result_json FROM experiments").fetchall()
check(len(exps) == 1 and exps[0][1:6] == ("ab", "strict", "provider_aware", 4, "complete"),
      f"the experiment is stored: {[e[:6] for e in exps]}")
check(exps and json.loads(exps[0][6])["metrics"]["wall_time_seconds"]["verdict"] in
      ("better", "worse", "no_difference", "identical"), "with its verdict")
arms = con.execute("SELECT arm, count(*), min(experiment_id), max(parameters) FROM runs "
                   "GROUP BY arm ORDER BY arm").fetchall()
check(arms == [("provider_aware", 4, 1, '{"policy":{"default":"provider_aware"}}'),
               ("strict", 4, 1, '{"policy":{"default":"strict"}}')],
      f"every run names its experiment, arm and parameters: {arms}")
con.close()
check(len(stored["1"][0]) == 8, f"8 runs stored, got {len(stored['1'][0])}")

p = ab(os.path.join(src, "scenarios", "failures_salvage.json"), "--baseline", "strict",
       "--candidate", "provider_aware", "--seeds", "4", "--format", "json", "--no-db",
       "--baseline-bin", admitsim, "--candidate-bin", admitsim)
other = figures(json.loads(p.stdout))


def close(a, b):  # another build's figures come from its printed output: 15 digits
    return a == b or (isinstance(a, float) and isinstance(b, float)
                      and abs(a - b) <= 1e-13 * max(abs(a), abs(b)))


check(set(other) == set(runs["1"][0]) and all(
    all(close(x, y) for x, y in zip(other[k], runs["1"][0][k])) for k in other),
      "another build's runs (here this one) give the in-process figures")

ab(scenario, "--baseline", "strict", "--candidate", "nosuch", expect=2)
doc = json.loads(ab(scenario, "--format", "json", "--no-db", "--seeds", "2").stdout)
check(doc["baseline"] == {"arm": "baseline", "description": "StrictFair"} and
      doc["candidate"] == {"arm": "candidate", "description": "BoundedBorrow"},
      f"the scenario's own arms by default: {doc['baseline']} {doc['candidate']}")
peer = doc["metrics"]["group.peer.wait_p95_seconds"]
check((peer["baseline"]["mean"], peer["candidate"]["mean"]) == (33.45, 12.5),
      "the declared arms are strict and bounded")
plain = json.load(open(scenario))
del plain["arms"]
bare = os.path.join(work, "no_arms.json")
json.dump(plain, open(bare, "w"))
p = ab(bare, "--baseline", "strict", expect=2)
check('declares no "candidate" arm' in p.stderr, f"says which arm is missing: {p.stderr}")

# a build compared with itself through --baseline-bin: no verdict but identical
doc = json.loads(ab(scenario, "--baseline", "bounded", "--candidate", "bounded", "--seeds", "2",
                    "--no-db", "--format", "json", "--baseline-bin", admitsim).stdout)
odd = {k: v["verdict"] for k, v in doc["metrics"].items()
       if not k.startswith("host.") and v["verdict"] != "identical"}
check(not odd, f"a build against itself is identical on every metric: {odd}")

# warm-ups (they once freed their runs twice)
ab(scenario, "--seeds", "2", "--warmups", "1", "--no-db")
# one seed: no interval, no verdict, not deterministic
doc = json.loads(ab(scenario, "--seeds", "1", "--no-db", "--format", "json").stdout)
check(doc["deterministic"] is False, "one seed is not deterministic")
check(all(v["verdict"] in ("undetermined", "identical") for v in doc["metrics"].values()),
      "one seed gives no verdict")
# a failing arm stops the experiment: exit 1, its words, no scratch left
before = set(os.listdir("/tmp"))
p = ab(scenario, "--seeds", "20", "--candidate-bin", "/bin/false", "--no-db", expect=1)
check("exited with status 1" in p.stderr, f"says how the other build failed: {p.stderr[-300:]}")
left = [d for d in set(os.listdir("/tmp")) - before if d.startswith("admitsim-ab-")]
check(not left, f"no scratch directory left: {left}")
# another build whose output is not run's summary
fake = os.path.join(work, "fake.sh")
open(fake, "w").write("#!/bin/sh\necho '{}'\n")
os.chmod(fake, 0o755)
p = ab(scenario, "--seeds", "2", "--candidate-bin", fake, "--no-db", expect=1)
check("no wall_time_seconds" in p.stderr, f"an empty summary is refused: {p.stderr[-300:]}")
# output that cannot be written is a failure
with open("/dev/full", "w") as full:
    p = subprocess.run([admitsim, "ab", scenario, "--seeds", "2", "--no-db", "--format", "json"],
                       stdout=full, stderr=subprocess.PIPE, text=True)
check(p.returncode == 1, f"a full disk under stdout exits 1, got {p.returncode}")

# 6. the events each job keeps are what its outputs need
out6, db6, db7 = (os.path.join(work, n) for n in ("out6", "all.db", "notable.db"))
ab(scenario, "--baseline", "strict", "--candidate", "bounded", "--seeds", "2", "--out", out6,
   "--db", db6, "--store-events", "all")
ab(scenario, "--baseline", "strict", "--candidate", "bounded", "--seeds", "2", "--db", db7)
ref6 = os.path.join(work, "ref6")
p = subprocess.run([admitsim, "run", scenario, "--policy", "bounded", "--seed", "2", "--no-db",
                    "--out", ref6], capture_output=True, text=True)
check(p.returncode == 0, f"run --out: {p.stderr[-300:]}")
name = "heavy_root_peer_arrival-bounded-seed2.json"
got = json.load(open(os.path.join(out6, name)))["iterations"][0]["timeline"]
want = json.load(open(os.path.join(ref6, name)))["iterations"][0]["timeline"]
check(len(got) > 1000 and got == want, f"an ab artifact's timeline is run's ({len(got)} events)")
for path, every in ((db6, True), (db7, False)):
    con = sqlite3.connect(path)
    rows = con.execute("SELECT event_count, events_stored, (SELECT count(*) FROM task_timelines t"
                       " WHERE t.run_id = i.run_id) FROM iterations i").fetchall()
    con.close()
    check(len(rows) == 4 and all(made > 1000 and (kept == made if every else 0 < kept < made)
                                 and timelines > 0 for made, kept, timelines in rows),
          f"{os.path.basename(path)}: events made, stored and task timelines per run: {rows}")

# 7. figures over an empty set are absent: not compared, never a verdict
abz = os.path.join(work, "abz.json")
with open(abz, "w") as f:
    json.dump({"schema": 1, "scenario_id": "abz", "scenario_version": 1, "records": 4,
               "buffer_size": 4, "capacity": {"submission": 2}, "cancel_at_seconds": 6,
               "columns": [{"name": "a", "duration": {"dist": "constant", "seconds": 1}},
                           {"name": "c", "duration": {"dist": "constant", "seconds": 1.5}},
                           {"name": "b", "strategy": "full_column", "depends_on": ["a"],
                            "duration": {"dist": "constant", "seconds": 1}}],
               "arms": {"baseline": {"description": "two slots"},
                        "candidate": {"description": "one slot",
                                      "capacity": {"submission": 1}}}}, f)
db8 = os.path.join(work, "abz.db")
for extra in (("--no-db",), ("--db", db8), ("--no-db", "--candidate-bin", admitsim)):
    doc = json.loads(ab(abz, "--seeds", "3", "--format", "json", *extra).stdout)
    for leaf in ("first_wait_seconds", "wait_mean_seconds", "wait_p50_seconds",
                 "wait_p95_seconds", "wait_p99_seconds", "wait_max_seconds"):
        name = f"group.b.{leaf}"
        check(name not in doc["metrics"] and
              doc["not_compared"].get(name) == {"baseline_seeds": 3, "candidate_seeds": 0},
              f"{' '.join(extra)}: {name} not compared: {doc['metrics'].get(name)}")
    check("group.b.wait_p95_seconds" not in doc["headline"], "an absent metric is no headline")
    check(doc["metrics"]["group.b.idle_seconds"]["candidate"]["mean"] == 6,
          "the idle time of a column that never ran is the wall time (6 s)")
p = ab(abz, "--seeds", "3", "--no-db")
check("better on group.b" not in p.stdout and
      "group.b.wait_p95_seconds NOT COMPARED: the candidate has it for 0 of 3 seeds" in p.stdout,
      f"the table names b's wait p95 as not compared: {p.stdout[:900]}")
con = sqlite3.connect(db8)
rows = con.execute("SELECT r.arm, m.name FROM metrics m JOIN runs r USING (run_id)"
                   " WHERE m.scope = 'group:b' ORDER BY r.arm, m.name").fetchall()
con.close()
cand = sorted({n for a, n in rows if a == "candidate"})
check(cand == ["busy_task_seconds", "dispatches", "idle_seconds", "tasks"],
      f"the store keeps no wait of a column that never ran: {cand}")
check(any(a == "baseline" and n == "wait_p95_seconds" for a, n in rows),
      "the baseline's b waits are stored")

print(f"ab_test: {len(failures)} failures")
sys.exit(1 if failures else 0)
