#!/usr/bin/env python3
"""`admitsim suite` end to end.  usage: suite_test.py ADMITSIM SOURCE_DIR WORK_DIR

1. Two scenarios from a directory (a bad_ file there is skipped), 3 seeds:
   exit 0, report.md with an overview row and a section per scenario
   naming both arms, every picture it links exists, suite.json holds both
   experiments, the database every run (2 scenarios x 2 arms x 3 seeds),
   seed 1's artifacts and no other seed's.
2. The figures are those `ab` prints for the same arms and seeds.
3. A scenario that fails to load is reported FAILED, the others still run,
   the exit status is 1; a missing scenario directory is a usage error.
4. SCENARIO is resolved as run and ab resolve it: a shipped scenario's bare
   name from any directory; a slip of one names the nearest, exit 1,
   nothing run or written.
5. --baseline / --candidate compare those arms of every scenario, as ab's
   do; a scenario without a "baseline" arm says what to do about it."""
import json
import re
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
        print("suite_test: FAIL:", what)


def suite(*args, expect=0, cwd=None):
    p = subprocess.run([admitsim, "suite", *args], capture_output=True, text=True, cwd=cwd)
    check(p.returncode == expect, f"suite {' '.join(args)} exited {p.returncode}: {p.stderr[-600:]}")
    return p


scen = os.path.join(work, "scenarios")
os.makedirs(scen)
for name in ("heavy_root_peer_arrival", "neutral_ready_at_start"):
    shutil.copy(os.path.join(src, "scenarios", name + ".json"), scen)
open(os.path.join(scen, "bad_broken.json"), "w").write("{")
out = os.path.join(work, "out")
p = suite("--scenarios", scen, "--seeds", "3", "--jobs", "2", "--out", out)
report = open(os.path.join(out, "report.md")).read()
for name in ("heavy_root_peer_arrival", "neutral_ready_at_start"):
    check(f"| [{name}](#{name}) |" in report, f"an overview row for {name}")
    check(f"\n## {name}\n" in report, f"a section for {name}")
    check(os.path.exists(os.path.join(out, name, f"{name}-baseline-seed1.json")),
          f"seed 1's baseline artifact of {name}")
    check(os.path.exists(os.path.join(out, name, f"{name}-candidate-seed1.json")),
          f"seed 1's candidate artifact of {name}")
    check(not os.path.exists(os.path.join(out, name, f"{name}-candidate-seed2.json")),
          "no artifact of seed 2")
check("bad_broken" not in report, "bad_ files are not part of the matrix")
check("- baseline: StrictFair" in report and "- candidate: BoundedBorrow" in report,
      "the arms are described")
check("2.68x better on group.peer.wait_p95_seconds" in report, "the headline of the peer wait")
pictures = re.findall(r"!\[[^]]*\]\(([^)]+)\)", report)
check(len(pictures) == 18, f"pictures linked: {len(pictures)}")
for rel in pictures:
    check(os.path.getsize(os.path.join(out, rel)) > 0, f"picture {rel} exists")
doc = json.load(open(os.path.join(out, "suite.json")))
check([s["scenario"] for s in doc["scenarios"]] ==
      ["heavy_root_peer_arrival", "neutral_ready_at_start"], "suite.json lists both")
exp = doc["scenarios"][0]["experiment"]
runs = sqlite3.connect(os.path.join(out, "suite.db")).execute(
    "select count(*) from runs where status = 'complete'").fetchone()[0]
check(runs == 12, f"12 runs stored, got {runs}")

ab = subprocess.run([admitsim, "ab", os.path.join(scen, "heavy_root_peer_arrival.json"),
                     "--seeds", "3", "--no-db", "--format", "json"], capture_output=True,
                    text=True)
mine = {k: (v["baseline"]["mean"], v["candidate"]["mean"], v["verdict"])
        for k, v in exp["metrics"].items() if not k.startswith("host.")}
theirs = {k: (v["baseline"]["mean"], v["candidate"]["mean"], v["verdict"])
          for k, v in json.loads(ab.stdout)["metrics"].items() if not k.startswith("host.")}
check(mine == theirs, "the suite's figures are ab's")

bad = os.path.join(work, "bad.json")
open(bad, "w").write('{"schema": 1}')
p = suite(bad, os.path.join(scen, "neutral_ready_at_start.json"), "--seeds", "2", "--no-plots",
          "--out", os.path.join(work, "out2"), expect=1)
report = open(os.path.join(work, "out2", "report.md")).read()
check("| [bad](#bad) | FAILED |" in report, "a failed scenario is reported")
check("## neutral_ready_at_start" in report, "and the others still run")
check("bad.json" in p.stderr and "FAILED" in p.stderr, f"and said on stderr: {p.stderr[-300:]}")
# a scenario that says its arms give equal outputs, with arms that do not
liar = json.load(open(os.path.join(src, "scenarios", "hidden_waiter_proof.json")))
liar["scenario_id"] = "liar"
liar["check"] = {"tags": ["outputs_equal"]}
liar_path = os.path.join(work, "liar.json")
json.dump(liar, open(liar_path, "w"))
p = suite(liar_path, "--seeds", "2", "--no-plots", "--out", os.path.join(work, "out4"), expect=1)
report = open(os.path.join(work, "out4", "report.md")).read()
check("**DIFFER** (the scenario says equal)" in report, "outputs differing against the tag")
check("outputs DIFFER" in p.stderr, f"said on stderr: {p.stderr[-300:]}")
doc = json.load(open(os.path.join(out, "suite.json")))
check(doc["scenarios"][1]["experiment"]["outputs_equal"] is True,
      "neutral_ready_at_start: outputs equal across arms")
# one scenario given twice would share its directory
p = suite(os.path.join(scen, "neutral_ready_at_start.json"),
          os.path.join(scen, "neutral_ready_at_start.json"), "--out", os.path.join(work, "out5"),
          expect=2)
check("both scenario" in p.stderr, f"names the clash: {p.stderr[-300:]}")
# a scenario with one request resource: its picture, named by the resource, is in the report
p = suite(os.path.join(src, "scenarios", "hidden_waiter_proof.json"), "--seeds", "2",
          "--out", os.path.join(work, "out6"))
report = open(os.path.join(work, "out6", "report.md")).read()
check("plots/baseline/request-acme_gen-8b_chat.png" in report, "the request picture is in the report")
check("plots/experiment/limits-0.png" in report and "plots/experiment/deltas.png" in report,
      "the experiment's pictures are in the report")
db6 = os.path.join(work, "out6", "suite.db")
p = subprocess.run([admitsim, "plot", "experiment:1", "--db", db6, "--seed", "2", "--out",
                    os.path.join(work, "xp")], capture_output=True, text=True)
check(p.returncode == 0 and all(os.path.getsize(os.path.join(work, "xp", f)) > 0 for f in
                                ("deltas.png", "cdf.png", "timeline.png", "limits-0.png")),
      f"plot experiment:1 --seed 2 draws: {p.stderr[-300:]}")
p = subprocess.run([admitsim, "plot", "experiment:1", "--db", db6, "--seed", "3", "--out",
                    os.path.join(work, "xp3")], capture_output=True, text=True)
check(p.returncode == 1 and "no complete" in p.stderr, f"no run of seed 3: {p.stderr[-300:]}")
p = subprocess.run([admitsim, "plot", "experiment:9", "--db", db6], capture_output=True,
                   text=True)
check(p.returncode == 1 and "no experiment 9" in p.stderr, f"no experiment 9: {p.stderr[-300:]}")
suite("--scenarios", os.path.join(work, "nosuch"), "--out", os.path.join(work, "out3"), expect=2)

# 4. shipped scenarios by name from another directory, a slip of one
elsewhere = os.path.join(work, "elsewhere")
os.makedirs(elsewhere)
out7 = os.path.join(work, "out7")
p = suite("narrow_serial", "cancel_midrun.json", "--seeds", "2", "--no-plots", "--out", out7,
          cwd=elsewhere)
report = open(os.path.join(out7, "report.md")).read()
for name in ("narrow_serial", "cancel_midrun"):
    check(f"| [{name}](#{name}) | deterministic |" in report or
          f"| [{name}](#{name}) | paired |" in report, f"{name} by name is compared: {p.stderr}")
doc = json.load(open(os.path.join(out7, "suite.json")))
shipped = [os.path.join(src, "scenarios", e["scenario"] + ".json") for e in doc["scenarios"]]
check([os.path.exists(e["file"]) and os.path.samefile(e["file"], f)
       for e, f in zip(doc["scenarios"], shipped)] == [True, True],
      f"suite.json names the shipped files: {[e['file'] for e in doc['scenarios']]}")
out8 = os.path.join(work, "out8")
p = suite("narow_serial", "cancel_midrun", "--no-plots", "--out", out8, cwd=elsewhere, expect=1)
check("narow_serial: no such file, nor a shipped scenario (did you mean 'narrow_serial'?"
      in p.stderr, f"a slip of a scenario name: {p.stderr[-300:]}")
check("cancel_midrun" not in p.stderr and not os.path.exists(out8),
      f"nothing run or written: {p.stderr[-300:]}")
usage = suite("--help").stdout
check("shipped scenario's name" in usage and "--baseline ARM" in usage and
      "--candidate ARM" in usage, f"--help says so: {usage}")

# 5. a scenario without "baseline" and "candidate" arms; --baseline / --candidate
plain = json.load(open(os.path.join(src, "scenarios", "narrow_serial.json")))
del plain["arms"]
plain["scenario_id"] = "plain"
plain_path = os.path.join(work, "plain.json")
json.dump(plain, open(plain_path, "w"))
p = suite(plain_path, "--seeds", "2", "--no-plots", "--out", os.path.join(work, "out9"), expect=1)
check('declares no "baseline" arm: add one to its "arms", or name one with --baseline' in
      p.stderr, f"what to do about a missing arm: {p.stderr[-300:]}")
out10 = os.path.join(work, "out10")
p = suite(plain_path, "--baseline", "strict", "--candidate", "bounded", "--seeds", "2",
          "--no-plots", "--out", out10)
report = open(os.path.join(out10, "report.md")).read()
check("each its `strict` arm against its `bounded` arm" in report, "the arms compared are said")
check("[every metric](plain/ab-plain-bounded-vs-strict.md)" in report and
      os.path.exists(os.path.join(out10, "plain", "ab-plain-bounded-vs-strict.md")),
      "the experiment of those arms")
p = suite(plain_path, "--baseline", "strict", "--candidate", "nope", "--seeds", "2",
          "--no-plots", "--out", os.path.join(work, "out11"), expect=1)
check('has no arm "nope"' in p.stderr, f"an arm the scenario lacks: {p.stderr[-300:]}")

print(f"suite_test: {len(failures)} failures")
sys.exit(1 if failures else 0)
