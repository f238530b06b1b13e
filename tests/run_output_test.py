#!/usr/bin/env python3
"""`admitsim run`'s files and stored run when something goes wrong (README
"Using admitsim", --out).
usage: run_output_test.py ADMITSIM SOURCE_DIR WORK_DIR

1. --out DIR writes its four files as one set: a target that is a
   directory is refused before anything is renamed; no file of the failed
   run is left, no temporary file, and the files of an earlier good run
   stay as they were (never deleted).
2. --out - whose copy to standard output fails (/dev/full): the reason is
   said and the stored run is marked failed, as the message says.
3. SIGTERM or SIGINT during a run stops it after the iteration in
   progress: its temporary files (in --out DIR, and $TMPDIR's directory
   for --out -) are removed, the stored run reads cancelled (never running
   or complete) and the process ends by that signal.
4. --db naming one of the files --out writes is refused before running,
   exit 2: by device and inode when it exists, by the resolved path when
   not."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys

admitsim, src, work = sys.argv[1:4]
admitsim, src, work = (os.path.abspath(x) for x in (admitsim, src, work))
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []
BASE = "narrow_serial-bounded-seed1"
NAMES = [BASE + s for s in (".json", ".md", "-metrics.csv", "-tasks.csv")]


def check(cond, what):
    if not cond:
        failures.append(what)
        print("run_output_test: FAIL:", what)


def env(**more):
    e = dict(os.environ)
    e.pop("ADMITSIM_DB", None)
    e.update(more)
    return e


def run(*args, cwd=work, expect=None, stdout=subprocess.PIPE):
    p = subprocess.run([admitsim, *args], stdout=stdout, stderr=subprocess.PIPE, text=True,
                       cwd=cwd, env=env())
    if expect is not None:
        check(p.returncode == expect,
              f"{' '.join(args)} exited {p.returncode}, not {expect}: {p.stderr[-400:]}")
    return p


def digests(d):
    out = {}
    for n in sorted(os.listdir(d)):
        path = os.path.join(d, n)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out[n] = hashlib.sha256(f.read()).hexdigest()
        else:
            out[n] = "dir"
    return out


def status(db):
    p = run("runs", "--db", db, "--format", "json", expect=0)
    return json.loads(p.stdout or "[]")


def no_scratch(d, what):
    left = [n for n in os.listdir(d) if ".tmp." in n or ".old." in n]
    check(not left, f"{what}: no temporary or kept-aside file left: {left}")


# 1. all or none
h = os.path.join(work, "h")
os.makedirs(os.path.join(h, BASE + "-tasks.csv", "x"))
p = run("run", "narrow_serial", "--db", "h.db", "--out", "h", expect=1)
check("is a directory" in p.stderr, f"the directory in the way is named: {p.stderr!r}")
check(sorted(os.listdir(h)) == [BASE + "-tasks.csv"],
      f"a refused set leaves no file of the run: {sorted(os.listdir(h))}")
check([r["status"] for r in status("h.db")] == ["failed"], "the refused run is stored failed")

h3 = os.path.join(work, "h3")
run("run", "narrow_serial", "--no-db", "--out", "h3", expect=0)
os.remove(os.path.join(h3, BASE + "-tasks.csv"))
os.makedirs(os.path.join(h3, BASE + "-tasks.csv", "x"))
before = digests(h3)
check(len(before) == 4, f"the earlier run's files: {before}")
p = run("run", "narrow_serial", "--no-db", "--out", "h3", "--iterations", "2", expect=1)
check(digests(h3) == before,
      f"the earlier good files are kept as they were: {before} -> {digests(h3)}")
no_scratch(h3, "a refused rerun")
# the earlier run's files replaced whole by a good rerun
shutil.rmtree(os.path.join(h3, BASE + "-tasks.csv"))
run("run", "narrow_serial", "--no-db", "--out", "h3", "--iterations", "2", expect=0)
after = digests(h3)
check(sorted(after) == sorted(NAMES) and after[BASE + ".md"] != before[BASE + ".md"],
      f"a good rerun replaces the set: {after}")
no_scratch(h3, "a good rerun")

# 2. --out - to a full device: the reason, and the run stored failed
with open("/dev/full", "w") as full:
    p = run("run", "narrow_serial", "--db", "full.db", "--out", "-", stdout=full, expect=1)
check("cannot copy the artifact to standard output: No space left on device" in p.stderr,
      f"the copy's failure with its reason: {p.stderr!r}")
check("marked failed" in p.stderr, f"said marked failed: {p.stderr!r}")
check([r["status"] for r in status("full.db")] == ["failed"],
      f"and stored failed: {status('full.db')}")


# 3. signals
def interrupted(sig, out, db, tmpdir=None):
    """Runs aimd_recovery for 50 iterations, signals it once iteration 2 is
    under way; returns the exit status and stderr."""
    args = [admitsim, "run", "aimd_recovery", "--iterations", "50", "--out", out]
    args += ["--db", db] if db else ["--no-db"]
    e = env(**({"TMPDIR": tmpdir} if tmpdir else {}))
    proc = subprocess.Popen(args, cwd=work, env=e, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    err = ""
    for line in proc.stderr:
        err += line
        if "iteration 2/50" in line:
            proc.send_signal(sig)
            break
    err += proc.stderr.read()
    return proc.wait(), err


kt = os.path.join(work, "kt")
rc, err = interrupted(signal.SIGTERM, kt, "kt.db")
check(rc == -signal.SIGTERM, f"SIGTERM ends run by SIGTERM: {rc}, {err[-300:]!r}")
check("interrupted (SIGTERM); its temporary files are removed" in err, f"said: {err[-300:]!r}")
check(not os.path.exists(kt) or os.listdir(kt) == [],
      f"no file left in --out: {os.listdir(kt) if os.path.exists(kt) else []}")
runs = status("kt.db")
check(len(runs) == 1 and runs[0]["status"] == "cancelled" and
      0 < runs[0]["iterations_stored"] < 50 and "marked cancelled" in err,
      f"the stored run reads cancelled with the iterations done: {runs}")
tmp = os.path.join(work, "tmp")
os.makedirs(tmp)
rc, err = interrupted(signal.SIGINT, "-", None, tmpdir=tmp)
check(rc == -signal.SIGINT, f"SIGINT ends run --out - by SIGINT: {rc}, {err[-300:]!r}")
check(os.listdir(tmp) == [], f"--out -'s directory removed: {os.listdir(tmp)}")

# 4. --db naming an output file
col = os.path.join(work, "col")
os.makedirs(col)
p = run("run", "narrow_serial", "--out", ".", "--db", BASE + ".md", cwd=col, expect=2)
check("name another database" in p.stderr and os.listdir(col) == [],
      f"refused before running, nothing written: {p.stderr!r} {os.listdir(col)}")
run("run", "narrow_serial", "--no-db", "--out", ".", cwd=col, expect=0)
before = digests(col)
for out, db in ((".", BASE + "-tasks.csv"), ("sub/..", "./" + BASE + ".json"),
                (col, os.path.join(col, BASE + "-metrics.csv"))):
    p = run("run", "narrow_serial", "--out", out, "--db", db, cwd=col, expect=2)
    check("name another database" in p.stderr, f"--out {out} --db {db}: {p.stderr!r}")
os.symlink(BASE + ".json", os.path.join(col, "link.db"))
p = run("run", "narrow_serial", "--out", ".", "--db", "link.db", cwd=col, expect=2)
check("name another database" in p.stderr, f"a link to an output file: {p.stderr!r}")
os.remove(os.path.join(col, "link.db"))
check(digests(col) == before, "the refused runs left the files as they were")
run("run", "narrow_serial", "--out", "fresh", "--db", "fresh/x/../" + BASE + ".md", cwd=col,
    expect=2)
check(not os.path.exists(os.path.join(col, "fresh")), "nothing made for a refused run")
run("run", "narrow_serial", "--out", ".", "--db", "other.db", cwd=col, expect=0)

if failures:
    sys.exit(f"run_output_test: {len(failures)} failure(s)")
print("run_output_test: ok")
