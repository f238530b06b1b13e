#!/usr/bin/env python3
"""`admitsim search` end to end on the local engine.
usage: search_test.py ADMITSIM SOURCE_DIR WORK_DIR

tests/data/sweep_scenario.json (arm baseline): provider A's p95 request wait
falls as its server-side concurrency (providers.gen-a.max_concurrent) grows;
over seeds 1-3 its 95% interval is entirely <= 3 s from 8 up (7: [0.16,
5.09], 6: [3.53, 4.34]; measured by a sweep of 1..12) and entirely >= 3 s
up to 6.

1. Bad command lines are usage errors naming the problem.
2. The smallest value with the interval <= 3: probes 12 (the far end), 1
   (the near end), then halves: 6, 9, 7, 8; the answer is 8 and 7, one step
   below, does not meet it; one experiment of kind search holds 6 probes x 3
   seeds, one run per (probe, seed), each run's arm and parameters its
   value; result.json is the stored result.
3. The largest value with the interval >= 3 is 6 (7 above does not).
4. An objective no value meets: exit 3, answer null, one probe.
5. A driver killed with SIGKILL during its third probe resumes with
   --resume: the same probes and figures, exactly one run per (probe,
   seed), the same rows as the uninterrupted search.
6. A directory holding a search is refused without --resume, and with
   --resume when the search differs; a metric the runs do not record is an
   error naming it.
7. A --db holding the search's runs outside its experiment (merged there)
   is refused: the experiment would hold none of the runs it counts.
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweep_common import db_rows, diff_rows, wait_for

admitsim, src, work = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
scenario = os.path.join(src, "tests", "data", "sweep_scenario.json")
WAIT = "request.provider-a/gen-a-large/chat.request_wait_p95_seconds"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("search_test: FAIL:", what, flush=True)


def out(name):
    return os.path.join(work, name)


def search(*args, expect=0, slo=WAIT + "<=3", vary="providers.gen-a.max_concurrent=1:12"):
    cmd = [admitsim, "search", scenario, "--arm", "baseline", "--seeds", "3", "--jobs", "2"]
    cmd += (["--vary", vary] if vary else []) + (["--slo", slo] if slo else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    check(p.returncode == expect,
          f"{' '.join(args)} exited {p.returncode}, expected {expect}: {p.stderr[-600:]}")
    return p


def probes(d):
    return [p["value"] for p in json.load(open(os.path.join(d, "result.json")))["probes"]]


# 1. usage errors
for args, slo, vary, says in [
        ((), None, "providers.gen-a.max_concurrent=1:12", "--slo 'METRIC<=X' is required"),
        ((), WAIT + "<3", "providers.gen-a.max_concurrent=1:12", "--slo expects"),
        ((), WAIT + "<=3", "capacity=1:12", "expected a parameter an arm overrides"),
        # a probe's arm is NAME=VALUE: a name holding "," or "=" reads otherwise
        ((), WAIT + "<=3", 'capacity."submission,x"=1:12', 'a name without "," or "="'),
        ((), WAIT + "<=3", "providers.gen-a.max_concurrent=12:1", "LO < HI"),
        (("--step", "5"), WAIT + "<=3", "providers.gen-a.max_concurrent=1:12", "divides HI - LO"),
        (("--seeds", "1"), WAIT + "<=3", "providers.gen-a.max_concurrent=1:12", "at least 2")]:
    p = subprocess.run([admitsim, "search", scenario, *(["--vary", vary] if vary else []),
                        *(["--slo", slo] if slo else []), *args], capture_output=True, text=True)
    check(p.returncode == 2 and says in p.stderr, f"usage error '{says}': {p.returncode} {p.stderr}")
p = search("--out", out("bad_value"), vary="providers.gen-a.max_concurrent=-1:12", expect=1)
check("max_concurrent" in p.stderr and "-1" in p.stderr,
      f"a value the scenario refuses is reported before any probe: {p.stderr}")

# 2. the smallest value
p = search("--out", out("smallest"))
check(probes(out("smallest")) == [12, 1, 6, 9, 7, 8], f"bisection probes: {probes(out('smallest'))}")
r = json.load(open(out("smallest/result.json")))
check(r["answer"] == 8 and r["neighbour"]["value"] == 7 and not r["neighbour"]["meets"],
      f"answer 8, 7 below does not meet it: {r['answer']}, {r['neighbour']}")
answer = [pr for pr in r["probes"] if pr["value"] == 8][0]["figures"]
check(answer["ci95_high"] <= 3 < r["neighbour"]["figures"]["ci95_high"],
      "the answer's interval is below 3, its neighbour's is not")
check("answer: providers.gen-a.max_concurrent = 8 (7, one step below, does not meet it)"
      in p.stdout, f"the answer is printed: {p.stdout[-300:]}")
rows = [line.split() for line in p.stdout.splitlines() if line.split()[:1] and line.split()[0].isdigit()]
check(rows and p.stdout.count(" n  ") >= 1 and all(row[2] == "3" for row in rows)
      and len(rows) == len(r["probes"]) and "n below" not in p.stdout,
      f"each probe's n (3 seeds, each recording the metric) in the table: {p.stdout}")
con = sqlite3.connect(out("smallest/search.db"))
exps = con.execute("SELECT experiment_id, kind, seeds, status, result_json FROM experiments").fetchall()
check(len(exps) == 1 and exps[0][1:4] == ("search", 3, "complete"), f"one search experiment: {exps}")
check(json.loads(exps[0][4]) == r, "the experiment's result is result.json")
rows = con.execute("SELECT arm, json_extract(parameters, '$.\"providers.gen-a.max_concurrent\"'),"
                   " seed, count(*) FROM runs WHERE experiment_id = ? GROUP BY arm, seed"
                   " ORDER BY min(run_id)", (exps[0][0],)).fetchall()
check(len(rows) == 18 and all(n == 1 for *_, n in rows), f"one run per (probe, seed): {len(rows)}")
check(rows[0] == ("providers.gen-a.max_concurrent=12", 12, 1, 1), f"runs carry the value: {rows[0]}")
con.close()

# plot experiment:ID of a search: the objective metric by value, the threshold
subprocess.run([admitsim, "plot", "experiment:1", "--db", out("smallest/search.db"), "--out",
                out("plot"), "--quiet"], check=False)
rows = [line.split() for line in open(out("plot/metric-0.dat")) if not line.startswith("#")
        and line.strip()] if os.path.exists(out("plot/metric-0.dat")) else []
check([float(x[0]) for x in rows] == [1, 6, 7, 8, 9, 12] and os.path.exists(out("plot/metric-0.png")),
      f"the search's picture: its probes by value: {rows}")
check("threshold = 3" in open(out("plot/plot.gp")).read() if os.path.exists(out("plot/plot.gp"))
      else False, "the objective's threshold is drawn")

# 3. the largest value
search("--out", out("largest"), "--largest", slo=WAIT + ">=3")
r = json.load(open(out("largest/result.json")))
check(r["answer"] == 6 and r["neighbour"]["value"] == 7 and r["goal"] == "largest",
      f"largest: 6, 7 above does not: {r['answer']} {r['neighbour']}")

# 4. nothing meets it
p = search("--out", out("none"), slo=WAIT + "<=1", expect=3)
r = json.load(open(out("none/result.json")))
check(r["answer"] is None and len(r["probes"]) == 1 and "answer: none" in p.stdout,
      f"no value meets <= 1: {r['answer']}, {len(r['probes'])} probes")

# 5. SIGKILL of the driver in its third probe, then --resume
kdir = out("killed")
cmd = [admitsim, "search", scenario, "--arm", "baseline", "--seeds", "3", "--jobs", "1",
       "--vary", "providers.gen-a.max_concurrent=1:12", "--slo", WAIT + "<=3", "--out", kdir]
driver = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
third = os.path.join(kdir, "probes", "probe-02", "shards", "shard-000000.json")
check(wait_for(lambda: os.path.exists(third), 120), "the third probe started")
driver.send_signal(signal.SIGKILL)
driver.wait()
check(not os.path.exists(os.path.join(kdir, "result.json")), "killed before its end")
p = subprocess.run(cmd, capture_output=True, text=True)
check(p.returncode == 1 and "--resume" in p.stderr, f"a search's directory needs --resume: {p.stderr}")
p = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=300)
check(p.returncode == 0, f"--resume: {p.returncode} {p.stderr[-400:]}")
a = json.load(open(out("smallest/result.json")))
b = json.load(open(os.path.join(kdir, "result.json")))
check(a["probes"] == b["probes"] and a["answer"] == b["answer"], "resumed: the same probes")
d = diff_rows(db_rows(out("smallest/search.db")), db_rows(os.path.join(kdir, "search.db")))
check(d is None, f"resumed: the same rows (one run per (probe, seed)): {d}")

# 6. another search in the same directory; a metric not recorded
p = search("--out", kdir, "--resume", slo=WAIT + "<=2.5", expect=1)
check("holds another search" in p.stderr, f"another search is refused: {p.stderr}")
p = search("--out", out("nometric"), slo="request.nope/x/chat.request_wait_p95_seconds<=3", expect=1)
check("record no metric named request.nope/x/chat.request_wait_p95_seconds" in p.stderr,
      f"an unknown metric is named: {p.stderr[-300:]}")

# 7. A --db holding the search's runs already, under no experiment (its
# database merged there by admitsim merge), then the search resumed into it:
# every run was skipped as there, and the new experiment held none of the
# runs its result counts (exit 0, "18 runs stored").  Refused (exit 1), the
# experiment marked failed.
subprocess.run([admitsim, "merge", out("outside.db"), out("smallest/search.db")],
               capture_output=True, check=True)
p = search("--out", out("smallest"), "--resume", "--db", out("outside.db"), "--quiet", expect=1)
check("holds 0 of the search's 18 runs" in p.stderr, f"runs outside the experiment: {p.stderr}")
con = sqlite3.connect(out("outside.db"))
st = con.execute("SELECT kind, status FROM experiments").fetchall()
con.close()
check(st == [("search", "failed")], f"the experiment is marked failed: {st}")

if failures:
    print(f"search_test: {len(failures)} failure(s)")
    sys.exit(1)
print("search_test: ok")
