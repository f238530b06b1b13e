#!/usr/bin/env python3
"""`admitsim sweep --engine slurm` against a real single-node Slurm cluster.
usage: sweep_slurm_test.py ADMITSIM SOURCE_DIR WORK_DIR

Starts munged, slurmctld and slurmd in a temporary directory on loopback
and free ports (tests/slurm_cluster.py), then with tests/data/sweep_small.json
(12 shards):

1. the Slurm engine's merged database equals the local engine's, row for
   row (host facts aside), and so does result.json; the shards wrote their
   databases in a node-local $TMPDIR on another file system (/dev/shm) and
   copied them in;
2. Ctrl-C (SIGINT) of the driver while the array runs cancels it (scancel:
   no task of it left in the queue, journal "interrupted"); --resume
   submits only the missing shards and ends with the same rows;
3. a driver killed with SIGKILL leaves its array running; --resume adopts
   it (waits for it), submits what is still missing, and ends with exactly
   one run per (point, seed) and the same rows.

Stops the daemons by the pids it started.  When Slurm cannot be installed or
started here the test exits 77 (ctest: skipped) and says why."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slurm_cluster import SlurmCluster, SlurmUnavailable
from sweep_common import (complete_shards, db_rows, diff_rows, journal, runs_per_point_seed,
                          wait_for)

SKIP = 77
admitsim, src, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
work = os.path.abspath(work)
sweep = os.path.join(src, "tests", "data", "sweep_small.json")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("sweep_slurm_test: FAIL:", what, flush=True)


def out(name):
    return os.path.join(work, name)


def sweep_cmd(*args, env=None, expect=0):
    t0 = time.monotonic()
    p = subprocess.run([admitsim, "sweep", sweep, *args], capture_output=True, text=True,
                       env=env, timeout=300)
    check(p.returncode == expect,
          f"sweep {' '.join(args)} exited {p.returncode}, expected {expect}: {p.stderr[-800:]}")
    return p, time.monotonic() - t0


def queue_of(cluster, job):
    r = cluster.run("squeue", "-h", "-r", "-j", job, "-o", "%K %T")
    return r.stdout.strip() if r.returncode == 0 else ""


def submitted_jobs(d):
    return [e["job"] for e in journal(d) if e["event"] == "submit"]


def main():
    t0 = time.monotonic()
    p, local_s = sweep_cmd("--out", out("local"), "--jobs", "2", "--quiet")
    reference = db_rows(out("local/sweep.db"))
    try:
        cluster = SlurmCluster()
        cluster.start()
    except SlurmUnavailable as e:
        print(f"sweep_slurm_test: SKIPPED: Slurm is not available here: {e}")
        return SKIP
    try:
        print(f"sweep_slurm_test: cluster up in {time.monotonic() - t0 - local_s:.1f} s "
              f"({cluster.dir})", flush=True)
        node_tmp = "/dev/shm" if os.access("/dev/shm", os.W_OK) else os.path.join(cluster.dir, "tmp")
        env = dict(cluster.env, TMPDIR=node_tmp)

        # 1. the same rows as the local engine
        p, slurm_s = sweep_cmd("--engine", "slurm", "--out", out("slurm"), "--poll", "0.2",
                               env=env)
        print(f"sweep_slurm_test: 12 shards: local {local_s:.1f} s, slurm {slurm_s:.1f} s",
              flush=True)
        d = diff_rows(reference, db_rows(out("slurm/sweep.db")))
        check(d is None, f"slurm and local engines store the same rows: {d}")
        check(json.load(open(out("slurm/result.json"))) == json.load(open(out("local/result.json"))),
              "slurm and local engines give the same result.json")
        ends = [e for e in journal(out("slurm")) if e["event"] == "shard"]
        check(len(ends) == 12 and all(e["state"] == "COMPLETED" and e["complete"] for e in ends),
              f"every task journaled COMPLETED: {ends[:2]}")
        check(not [f for f in os.listdir(node_tmp) if f.startswith("admitsim-sweep_test")],
              "no shard database left in the node-local $TMPDIR")

        # 2. Ctrl-C cancels the array; --resume submits only what is missing
        cdir = out("cancelled")
        driver = subprocess.Popen([admitsim, "sweep", sweep, "--engine", "slurm", "--out", cdir,
                                   "--jobs", "1", "--poll", "0.2"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        check(wait_for(lambda: len(complete_shards(cdir)) >= 2, 120), "two shards complete")
        driver.send_signal(signal.SIGINT)
        _, err = driver.communicate(timeout=120)
        check(driver.returncode == 1 and "cancelling job" in err and "--resume" in err,
              f"SIGINT cancels the array ({driver.returncode}: {err[-400:]})")
        job = submitted_jobs(cdir)[0]
        check(queue_of(cluster, job) == "", "no task of the cancelled array is left in the queue")
        check(any(e["event"] == "interrupted" for e in journal(cdir)), "journal: interrupted")
        done = len(complete_shards(cdir))
        check(done < 12, f"the array was cancelled before its end ({done} of 12)")
        p, _ = sweep_cmd("--engine", "slurm", "--out", cdir, "--resume", "--poll", "0.2",
                         env=env)
        arrays = [e for e in journal(cdir) if e["event"] == "submit"]
        check(len(arrays) == 2 and len(arrays[1]["shards"]) == 12 - done,
              f"--resume submitted only the {12 - done} missing shards: {arrays[-1]}")
        d = diff_rows(reference, db_rows(os.path.join(cdir, "sweep.db")))
        check(d is None, f"cancelled then resumed: the same rows: {d}")

        # 3. SIGKILL of the driver: --resume adopts the running array
        kdir = out("killed")
        driver = subprocess.Popen([admitsim, "sweep", sweep, "--engine", "slurm", "--out", kdir,
                                   "--jobs", "1", "--poll", "0.2"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        check(wait_for(lambda: len(complete_shards(kdir)) >= 2, 120), "two shards complete")
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        job = submitted_jobs(kdir)[0]
        check(queue_of(cluster, job) != "", "the killed driver's array still runs")
        p, _ = sweep_cmd("--engine", "slurm", "--out", kdir, "--resume", "--poll", "0.2",
                         env=env)
        check(f"job {job} (submitted before) is still queued: waiting for it" in p.stderr,
              f"--resume adopts the running array: {p.stderr[-400:]}")
        check(runs_per_point_seed(os.path.join(kdir, "sweep.db")) ==
              runs_per_point_seed(out("local/sweep.db")), "exactly one run per (point, seed)")
        d = diff_rows(reference, db_rows(os.path.join(kdir, "sweep.db")))
        check(d is None, f"killed then resumed: the same rows: {d}")
    finally:
        cluster.stop()
    print(f"sweep_slurm_test: {time.monotonic() - t0:.1f} s in all")
    return 1 if failures else 0


rc = main()
if rc == 1:
    print(f"sweep_slurm_test: {len(failures)} failure(s)")
elif rc == 0:
    print("sweep_slurm_test: ok")
sys.exit(rc)
