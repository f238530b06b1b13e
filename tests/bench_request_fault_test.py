#!/usr/bin/env python3
"""bench --request reports a case it could not measure as failed, never a figure.

1. All threads start: every case a figure above zero, exit 0.
2. The third of the threaded case's 8 threads cannot start (tests/fail_thread.c,
   LD_PRELOAD, FAIL_THREAD_AFTER=2): that row reads `failed`, stderr names the
   thread and the reason, the other cases are still measured, exit 1.
3. No thread starts (FAIL_THREAD_AFTER=0): the same for the first thread.

usage: bench_request_fault_test.py ADMITSIM FAIL_THREAD_SO
"""
import os
import subprocess
import sys

admitsim, shim = (os.path.abspath(x) for x in sys.argv[1:3])
failures = 0
THREADED = "8 threads acquire_sync+release, attempts/s"


def check(ok, what):
    global failures
    if not ok:
        failures += 1
        print(f"bench_request_fault_test: FAIL: {what}", file=sys.stderr)


def bench(after=None):
    env = dict(os.environ, LD_PRELOAD=shim)
    env.pop("FAIL_THREAD_AFTER", None)
    if after is not None:
        env["FAIL_THREAD_AFTER"] = str(after)
    p = subprocess.run([admitsim, "bench", "--request", "--repeat", "1"], capture_output=True,
                       text=True, env=env, timeout=300)
    rows = {}
    for line in p.stdout.splitlines()[2:]:
        name, _, value = line.rpartition(" ")
        rows[name.strip()] = value
    return p, rows


# 1. every thread starts (the shim passes them through)
p, rows = bench()
check(p.returncode == 0, f"all threads: exit {p.returncode}: {p.stderr}")
check(len(rows) == 7 and all(float(v) > 0 for v in rows.values()),
      f"all threads: seven figures above zero: {rows}")

# 2. and 3. a thread that cannot start fails its case, and only its case
for after, thread in ((2, 3), (0, 1)):
    p, rows = bench(after)
    check(p.returncode == 1, f"thread {thread} refused: exit {p.returncode}, expected 1")
    check(rows.get(THREADED) == "failed", f"thread {thread} refused: the row reads failed: {rows}")
    others = [v for k, v in rows.items() if k != THREADED]
    check(len(others) == 6 and all(float(v) > 0 for v in others),
          f"thread {thread} refused: the other six cases measured: {rows}")
    check(f"cannot start thread {thread}: Resource temporarily unavailable" in p.stderr,
          f"thread {thread} refused: stderr says which and why: {p.stderr!r}")

if failures:
    print(f"bench_request_fault_test: {failures} failure(s)", file=sys.stderr)
    sys.exit(1)
print("bench_request_fault_test: ok")
