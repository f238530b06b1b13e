#!/usr/bin/env python3
"""`admitsim sweep --engine slurm` against fake Slurm tools: output larger
than any fixed buffer.
usage: sweep_slurm_fake_test.py ADMITSIM SOURCE_DIR WORK_DIR

A sweep of 8,000 shards (1,000 points x 8 seeds) on fake sbatch, squeue,
scontrol and scancel (small Python scripts on PATH, no cluster; the shards
never run):

1. squeue lists all 8,000 tasks PENDING (about 100 KB, more than the 64 KiB
   the driver once read; what was past it was dropped) for three polls,
   then none: the progress bar (stderr on a pseudo-terminal) says
   "8000 pending", and the driver polls until the list is empty;
2. scontrol -o show job says FAILED, ExitCode=3:0 of every task, one line
   of about 300 bytes each (2.4 MB, more than the 1 MiB once read): every
   shard is journaled with that state and exit code, none "unknown";
3. every shard is judged by its files: all 8,000 failed (exit 1).

Then a scontrol line longer than the driver's bound (1 MiB) is an error the
driver reports (warning, states unknown), not a line cut short.  Runs in a
few seconds, the same on the sanitizer build."""
import json
import os
import pty
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweep_common import journal

admitsim, src, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
work = os.path.abspath(work)
failures = []
NPOINTS, NSEEDS = 1000, 8
NTASKS = NPOINTS * NSEEDS
JOB = "4242"


def check(cond, what):
    if not cond:
        failures.append(what)
        print("sweep_slurm_fake_test: FAIL:", what, flush=True)


# The fake tools: each call appends its arguments to calls.log.  squeue
# lists every task PENDING for its first PENDING_POLLS calls, then nothing.
FAKE = {
    "sbatch": f"""
print("{JOB}")
""",
    "squeue": f"""
n = sum(1 for l in open(os.path.join(D, "calls.log")) if l.startswith("squeue"))
if n <= int(os.environ["PENDING_POLLS"]):
    sys.stdout.write("".join(f"{{i}} PENDING\\n" for i in range({NTASKS})))
""",
    "scontrol": f"""
if sys.argv[1:] == ["show", "config"]:
    print("MaxArraySize            = 1000001")
elif sys.argv[1:3] == ["-o", "show"]:
    pad = int(os.environ.get("COMMENT_BYTES", "0"))
    for i in range({NTASKS}):
        print(f"JobId={{int('{JOB}') + 1 + i}} ArrayJobId={JOB} ArrayTaskId={{i}} "
              f"JobName=admitsim-sweep_fake UserId=root(0) GroupId=root(0) Priority=4294901759 "
              f"Comment={{'x' * (pad if i == 0 else 0)}} JobState=FAILED Reason=NonZeroExitCode Dependency=(null) "
              f"Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:01 "
              f"TimeLimit=UNLIMITED Partition=debug NodeList=node0 NumNodes=1 NumCPUs=1")
""",
    "scancel": "",
}


def write_fakes(bindir):
    os.makedirs(bindir)
    for name, body in FAKE.items():
        path = os.path.join(bindir, name)
        with open(path, "w") as f:
            f.write(f"#!{sys.executable}\nimport os, sys\nD = {os.path.dirname(bindir)!r}\n"
                    f"open(os.path.join(D, 'calls.log'), 'a').write(' '.join(sys.argv[0:1] and "
                    f"[{name!r}] + sys.argv[1:]) + '\\n')\n{body}")
        os.chmod(path, 0o755)


def write_sweep(path):
    with open(path, "w") as f:
        json.dump({"schema": 1, "sweep_id": "sweep_fake",
                   "scenario": os.path.join(src, "tests", "data", "sweep_scenario.json"),
                   "arm": "baseline",
                   "parameters": {"capacity.submission": {"from": 1, "to": NPOINTS, "step": 1}},
                   "seeds": NSEEDS, "metrics": ["wall_time_seconds"]}, f)


def run_on_pty(argv, env, timeout=120):
    """Runs argv with stderr on a pseudo-terminal; (exit status, stderr)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=slave)
    os.close(slave)
    chunks, t0 = [], time.monotonic()
    while True:
        try:
            b = os.read(master, 65536)
        except OSError:  # EIO: the child's end closed
            break
        if not b:
            break
        chunks.append(b)
        if time.monotonic() - t0 > timeout:
            p.kill()
            break
    os.close(master)
    return p.wait(timeout=timeout), b"".join(chunks).decode(errors="replace")


def case(name, polls, comment_bytes):
    d = os.path.join(work, name)
    write_fakes(os.path.join(d, "bin"))
    sweep = os.path.join(d, "sweep.json")
    write_sweep(sweep)
    env = dict(os.environ, PATH=os.path.join(d, "bin") + ":" + os.environ["PATH"],
               PENDING_POLLS=str(polls), COMMENT_BYTES=str(comment_bytes))
    t0 = time.monotonic()
    rc, err = run_on_pty([admitsim, "sweep", sweep, "--engine", "slurm", "--out",
                          os.path.join(d, "out"), "--poll", "0.05"], env)
    took = time.monotonic() - t0
    calls = open(os.path.join(d, "calls.log")).read().splitlines()
    ends = [e for e in journal(os.path.join(d, "out")) if e["event"] == "shard"]
    print(f"sweep_slurm_fake_test: {name}: exit {rc} in {took:.1f} s, "
          f"{sum(c.startswith('squeue') for c in calls)} squeue calls", flush=True)
    return rc, err, calls, ends


def main():
    # 1-3: 8,000 tasks, squeue ~100 KB, scontrol ~2.4 MB
    rc, err, calls, ends = case("large", 3, 0)
    check(rc == 1 and f"{NTASKS} shards failed" in err,
          f"every shard failed, exit 1 ({rc}): {err[-300:]}")
    check(f"0 running, {NTASKS} pending" in err,
          f"the progress bar counts all {NTASKS} pending tasks: "
          f"{sorted(set(l[l.find('shards,'):l.find('failed')] for l in err.split(chr(13))))[:4]}")
    check(sum(c.startswith("squeue") for c in calls) == 4,
          "squeue polled until the list was empty (3 full, 1 empty)")
    check(len(ends) == NTASKS, f"every shard journaled ({len(ends)})")
    bad = [e for e in ends if (e["state"], e["exit"], e["signal"]) != ("FAILED", 3, 0)]
    check(not bad, f"scontrol's state of every task journaled ({len(bad)} not: {bad[:1]})")

    # a scontrol line longer than the bound: reported, the states unknown
    rc, err, calls, ends = case("long_line", 1, 1 << 20)
    check(rc == 1 and "scontrol" in err and "longer than" in err,
          f"a scontrol line over 1 MiB is reported ({rc}): {err[-400:]}")
    check(ends and all(e["state"] == "unknown" for e in ends),
          f"with it, no state is taken from a cut line: {ends[:1]}")
    return 1 if failures else 0


rc = main()
print(f"sweep_slurm_fake_test: {len(failures)} failure(s)" if rc else "sweep_slurm_fake_test: ok")
sys.exit(rc)
