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
   cancelled with no lease or waiter left, no artifact written.
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
p = subprocess.Popen([admitsim, "live", scenario, "--db", db2, "--out", out2], env=env,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
con.close()
check(not os.path.exists(out2) or not os.listdir(out2), "an interrupted run wrote files")
no_key_in_files(glob.glob(db2 + "*"), "cancelled live")
check(key not in so + se, "the API key was printed (cancelled)")

print(f"live_cli_test: {len(failures)} problems")
sys.exit(1 if failures else 0)
