#!/usr/bin/env python3
"""admitsim live, mock-provider and the secrets rule, end to end on loopback.

usage: live_cli_test.py ADMITSIM SOURCE_DIR WORK_DIR

1. `live` against its own mock with an API key in the environment: exit 0,
   an artifact that says mode live and validates against the schema, a
   stored run with clean iterations; the key's value appears in no output
   file, no database file (db, -wal, -shm), no line printed.
2. `mock-provider --port 0` prints its port; `live --endpoint` runs against
   it; the mock stops on SIGINT.
3. SIGINT during `live`: exit 1, the run stored as cancelled, its iteration
   cancelled with no lease or waiter left (stored with --store-events all:
   its events release every request lease they acquire, as many as its
   request_attempts rows say acquired and released), no artifact written.
4. `fidelity --format json` on tests/data/fidelity_count.json (a rate-limit
   count that varies between iterations): a count judged by its distance
   outside the range `run --iterations N` gives it (one iteration: the
   seed's count alone), every other metric against the seed's value; --realtime reported as requested, applied or not with
   the reason; the exit code follows the verdict.
Every child has a timeout.
"""
import glob
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time

import jsonschema

admitsim, src, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
scenario = os.path.join(src, "tests", "data", "live_secret.json")
key = "sk-admitsim-" + secrets.token_hex(16)
env = dict(os.environ, ADMITSIM_TEST_API_KEY=key)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("live_cli_test: FAILED:", what)


def run(args, timeout=120):
    return subprocess.run([admitsim] + args, capture_output=True, text=True, env=env,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def no_key_in_files(paths, what):
    for p in paths:
        with open(p, "rb") as f:
            check(key.encode() not in f.read(), f"{what}: the API key is in {p}")


# 1. live against its own mock, the key in the environment
out, db = os.path.join(work, "out"), os.path.join(work, "live.db")
for p in glob.glob(db + "*"):
    os.remove(p)
r = run(["live", scenario, "--time-scale", "0.25", "--out", out, "--db", db, "--format", "json"])
check(r.returncode == 0, f"live exited {r.returncode}: {r.stderr}")
check(key not in r.stdout and key not in r.stderr, "the API key was printed")
summary = json.loads(r.stdout)
check(summary["final_task_leases"] == 0 and summary["final_request_leases"] == 0,
      "live left leases")
art_path = os.path.join(out, "live_secret-strict-seed1.json")
art = json.load(open(art_path))
check(art["mode"] == "live", "artifact mode is not live")
check(art["live"]["calls_to"] == "mock" and art["live"]["time_scale"] == 0.25,
      f"artifact live block: {art.get('live')}")
schema = json.load(open(os.path.join(src, "results", "artifact.schema.json")))
try:
    jsonschema.validate(art, schema)
except jsonschema.ValidationError as e:
    check(False, f"the live artifact does not validate: {e.message}")
attempts = os.path.join(out, "live_secret-strict-seed1-attempts.csv")
check(os.path.exists(attempts), "no attempts CSV")
rows = open(attempts).read().splitlines()
check(len(rows) > 30 and rows[0].startswith("iteration,attempt_id,"), "attempts CSV")
check(any(",200,success,ok," in row for row in rows), "no successful attempt in the CSV")
check(any(",429,rate_limited," in row for row in rows), "no 429 in the CSV (server cap 3 < 4)")
files = [p for p in glob.glob(os.path.join(out, "**"), recursive=True) if os.path.isfile(p)]
check(len(files) >= 5, f"expected artifact, Markdown, 3 CSVs: {files}")
no_key_in_files(files + glob.glob(db + "*"), "live")
con = sqlite3.connect(db)
status, = con.execute("SELECT status FROM runs").fetchone()
check(status == "complete", f"run status {status}")
dump = "\n".join(con.iterdump())
check(key not in dump, "the API key is in a database row")
con.close()
art_sim = json.load(open(art_path))  # the simulator says simulated
r = run(["run", scenario, "--no-db", "--out", os.path.join(work, "sim")])
check(json.load(open(os.path.join(work, "sim", "live_secret-strict-seed1.json")))["mode"] ==
      "simulated", "the simulator's artifact does not say simulated")

# 2. a standalone mock and live --endpoint
mock = subprocess.Popen([admitsim, "mock-provider", scenario, "--time-scale", "0.25"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
try:
    port = int(mock.stdout.readline())
    check(port > 0, "mock-provider printed no port")
    r = run(["live", scenario, "--endpoint", f"http://127.0.0.1:{port}/v1", "--time-scale", "0.25",
             "--no-db"])
    check(r.returncode == 0, f"live --endpoint exited {r.returncode}: {r.stderr}")
    check(key not in r.stdout + r.stderr, "the API key was printed (--endpoint)")
finally:
    mock.send_signal(signal.SIGINT)
    try:
        _, err = mock.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        mock.kill()
        err = ""
        check(False, "mock-provider did not stop on SIGINT")
check(mock.returncode == 0 and "stopping after" in err, f"mock-provider exit {mock.returncode}")
check(key not in err, "the API key was printed by the mock")

# 3. SIGINT cancels a live run; it is stored as cancelled, clean
db2, out2 = os.path.join(work, "cancel.db"), os.path.join(work, "cancel-out")
for p in glob.glob(db2 + "*"):
    os.remove(p)
p = subprocess.Popen([admitsim, "live", scenario, "--db", db2, "--out", out2,
                      "--store-events", "all"],  # the default keeps no lease event
                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(1.0)
p.send_signal(signal.SIGINT)
try:
    so, se = p.communicate(timeout=30)
except subprocess.TimeoutExpired:
    p.kill()
    so, se = p.communicate()
    check(False, "live did not stop after SIGINT")
check(p.returncode == 1, f"interrupted live exited {p.returncode}: {se}")
check("cancelled" in se, f"no cancellation message: {se}")
con = sqlite3.connect(db2)
status, = con.execute("SELECT status FROM runs").fetchone()
check(status == "cancelled", f"interrupted run stored as {status}")
it = con.execute("SELECT status, final_task_leases, final_request_leases, final_request_waiters "
                 "FROM iterations").fetchall()
check(it == [("cancelled", 0, 0, 0)], f"interrupted iteration rows: {it}")
acq = con.execute("SELECT count(*) FROM events WHERE kind = 'request_lease_acquired'").fetchone()[0]
rel = con.execute("SELECT count(*) FROM events WHERE kind = 'request_lease_released'").fetchone()[0]
check(acq == rel, f"request leases acquired {acq}, released {rel}")
leases = con.execute("SELECT count(lease_acquired_at), count(lease_released_at)"
                     " FROM request_attempts").fetchone()
check(leases == (acq, rel), f"request_attempts acquired and released {leases}, the events "
      f"{(acq, rel)}")
con.close()
check(not os.path.exists(out2) or not os.listdir(out2), "an interrupted run wrote files")
no_key_in_files(glob.glob(db2 + "*"), "cancelled live")
check(key not in so + se, "the API key was printed (cancelled)")



# 4. fidelity: the rules of its verdict
count_scenario = os.path.join(src, "tests", "data", "fidelity_count.json")


def fidelity(extra):
    r = run(["fidelity", count_scenario, "--time-scale", "0.25", "--format", "json"] + extra)
    check(r.returncode in (0, 1), f"fidelity {extra} exited {r.returncode}: {r.stderr}")
    doc = json.loads(r.stdout)
    check((r.returncode == 0) == doc["within_tolerance"],
          f"fidelity {extra}: exit {r.returncode} but within_tolerance {doc['within_tolerance']}")
    for m in doc["metrics"]:
        sim, live, err = m["simulated"], m["live"], m["relative_error"]
        if sim is None or live is None:  # a figure one run lacks: no error, outside
            check(err is None and not m["within"] and (sim, live) != (None, None),
                  f"{m['name']}: one side absent: {m}")
            continue
        scale = max(abs(sim), m["floor"])
        if m["name"].endswith(".rate_limited"):
            lo, hi = m["simulated_range"]
            check(lo <= sim <= hi, f"{m['name']}: the range {lo, hi} misses the seed's {sim}")
            out = lo - live if live < lo else live - hi if live > hi else 0
            check(abs(err - out / scale) < 1e-9, f"{m['name']}: error {err}, outside by {out}")
            check(abs(m["relative_error_to_seed"] - abs(live - sim) / scale) < 1e-9,
                  f"{m['name']}: error to the seed {m['relative_error_to_seed']}")
        else:
            check("simulated_range" not in m, f"{m['name']}: a range on a non-count")
            check(abs(err - abs(live - sim) / scale) < 1e-9, f"{m['name']}: error {err}")
        check(m["within"] == (err <= doc["tolerance"]), f"{m['name']}: within {m['within']}")
    return doc


sim_out = os.path.join(work, "fidelity_sim")
r = run(["run", count_scenario, "--iterations", "12", "--no-db", "--out", sim_out])
check(r.returncode == 0, f"run --iterations 12 exited {r.returncode}: {r.stderr}")
with open(glob.glob(os.path.join(sim_out, "fidelity_count-*.json"))[0]) as f:
    counts = [sum(e["event_kind"] == "request_rate_limited" for e in it["timeline"])
              for it in json.load(f)["iterations"]]
check(min(counts) < max(counts), f"the count does not vary between iterations: {counts}")
doc = fidelity(["--ensemble", "12", "--realtime"])
check(doc["ensemble"] == 12, f"ensemble {doc['ensemble']}")
ranged = [m for m in doc["metrics"] if "simulated_range" in m]
check(len(ranged) == 1 and ranged[0]["simulated_range"] == [min(counts), max(counts)]
      and ranged[0]["simulated"] == counts[0], f"range {ranged}, iterations' counts {counts}")
rt = doc["realtime"]
check(rt["requested"] and (rt["applied"] or rt.get("reason")), f"realtime block {rt}")
doc = fidelity(["--ensemble", "1"])
check(doc["realtime"] == {"requested": False, "applied": False}, f"realtime {doc['realtime']}")
for m in doc["metrics"]:
    if "simulated_range" in m:
        check(m["simulated_range"] == [m["simulated"]] * 2, f"one iteration's range: {m}")
r = run(["fidelity", scenario, "--ensemble", "0"])
check(r.returncode == 2 and "--ensemble" in r.stderr, f"--ensemble 0: {r.returncode} {r.stderr}")

print(f"live_cli_test: {len(failures)} problems")
sys.exit(1 if failures else 0)
