#!/usr/bin/env python3
"""`admitsim run` on a full disk: it exits 1 saying so, leaves no partial
artifact and a consistent database.

usage: store_full_disk.py ADMITSIM SOURCE_DIR WORK_DIR

Needs root, to mount a 3 MB tmpfs; otherwise it prints why and exits 77
(ctest: skipped).  Three runs of heavy_root.json (8 iterations, about 1 MB
of database and 6 MB of artifact each iteration) fill a fresh tmpfs each:
  --out DIR --no-db   the artifact cannot be written;
  --db FILE           the database fills up after a few iterations;
  --out DIR --db FILE both at once;
  --db FILE           elsewhere, with TMPDIR on the tmpfs, filled first:
                      the spill files of the rows and notable events
                      (res/spill.h) cannot be written.
Each must exit 1 with "No space left on device" or "disk is full" on
stderr, leave no temporary file (*.tmp*) behind, and leave a database that
passes store_integrity.py (whole iterations, the run not complete) and that
`admitsim runs` reads.  The database is checked on a copy outside the full
tmpfs, where a reader has room for its -shm file.
"""
import glob
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import store_integrity  # noqa: E402

SKIP = 77
SIZE = "3m"
CASES = {
    "artifact": ["--out", "{mnt}/out", "--no-db"],
    "database": ["--db", "{mnt}/results.db"],
    "both": ["--out", "{mnt}/out", "--db", "{mnt}/results.db"],
    "spill": ["--db", "{work}/spill-results.db"],  # TMPDIR={mnt}, full
}
FULL = ("No space left on device", "disk is full")


def mounted(mnt):
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0755", "tmpfs", mnt],
                       capture_output=True, text=True)
    return r.returncode == 0, r.stderr.strip()


def fill(mnt):
    """Fills the tmpfs at mnt up to its last byte."""
    fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (65536, 1):
            try:
                while os.write(fd, b"\0" * size) == size:
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)


def one_case(admitsim, scenario, work, name, args):
    mnt = os.path.join(work, name)
    os.makedirs(mnt)
    ok, why = mounted(mnt)
    if not ok:
        return None, why
    failures = []
    try:
        cmd = [admitsim, "run", scenario, "--iterations", "8"]
        cmd += [a.format(mnt=mnt, work=work) for a in args]
        env = dict(os.environ)
        if name == "spill":  # the database made first: SQLite's own temporary files go there too
            subprocess.run(cmd[:3] + ["--iterations", "1"] + cmd[5:], capture_output=True,
                           check=True)
            env["TMPDIR"] = mnt
            env["ADMITSIM_SPILL_AFTER"] = "0"  # the run is small: spill from the first
            fill(mnt)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        if p.returncode != 1:
            failures.append(f"exited {p.returncode}, not 1: {p.stderr[-500:]}")
        if not any(f in p.stderr for f in FULL):
            failures.append(f"stderr does not say the disk is full: {p.stderr[-500:]}")
        if name == "spill" and "spill file" not in p.stderr:
            failures.append(f"stderr does not name the spill file: {p.stderr[-500:]}")
        left = [os.path.relpath(f, mnt) for f in glob.glob(os.path.join(mnt, "**", "*.tmp*"),
                                                            recursive=True)]
        if left:
            failures.append(f"temporary files left: {left}")
        db = os.path.join(mnt, "results.db") if name != "spill" else args[1].format(work=work)
        if os.path.exists(db):
            copy = os.path.join(work, f"{name}-copy")
            os.makedirs(copy)
            for f in glob.glob(db + "*"):
                shutil.copy(f, copy)
            copied = os.path.join(copy, os.path.basename(db))
            failures += store_integrity.check(copied)
            try:
                states = store_integrity.run_states(admitsim, copied)
                if name == "spill":  # run 1 made the database, with room
                    states.pop(1, None)
                failures += [f"run {r} reads {s}" for r, s in states.items()
                             if s[2] == "complete" or s[0] == s[1]]
                stored = ", ".join(f"run {r}: {s[0]}/{s[1]} {s[2]}" for r, s in states.items())
            except RuntimeError as e:
                failures.append(str(e))
                stored = "?"
        else:
            stored = "no database"
        message = next((line for line in p.stderr.splitlines() if any(f in line for f in FULL)),
                       "")
        return failures, f"{stored}; says: {message.strip()[:200]}"
    finally:
        subprocess.run(["umount", mnt], check=False)


def main():
    admitsim, src, work = sys.argv[1:4]
    if os.geteuid() != 0:
        print("store_full_disk: skipped: not root, and mounting a small tmpfs needs root")
        return SKIP
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    scenario = os.path.join(src, "scenarios", "heavy_root.json")
    failures = []
    for name, args in CASES.items():
        result, detail = one_case(admitsim, scenario, work, name, args)
        if result is None:
            print(f"store_full_disk: skipped: cannot mount a tmpfs: {detail}")
            return SKIP
        print(f"store_full_disk: {name}: {detail}")
        failures += [f"{name}: {f}" for f in result]
    if failures:
        print("store_full_disk: FAILED\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"store_full_disk: {len(CASES)} runs on a full {SIZE} tmpfs exit 1, no temporary "
          "file left, every database whole")
    return 0


if __name__ == "__main__":
    sys.exit(main())
