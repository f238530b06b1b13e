#!/usr/bin/env python3
"""Four `admitsim run` write one results database at once while another
connection holds its write lock for 11 s (longer than SQLite's usual 10 s
busy timeout): each run waits, says so on stderr, and stores every
iteration; the database ends with every run complete.

usage: store_concurrent_writers.py ADMITSIM SOURCE_DIR WORK_DIR
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import time

HOLD_SECONDS = 11
WRITERS = 4


def main():
    admitsim, src, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    db = os.path.join(work, "concurrent.db")
    scenario = os.path.join(src, "scenarios", "aimd_recovery.json")
    first = subprocess.run([admitsim, "run", os.path.join(src, "scenarios", "heavy_root.json"),
                            "--db", db], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr

    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    held_at = time.monotonic()
    writers = [subprocess.Popen([admitsim, "run", scenario, "--iterations", "3", "--seed",
                                 str(k + 1), "--db", db],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for k in range(WRITERS)]
    time.sleep(HOLD_SECONDS)
    holder.execute("COMMIT")
    holder.close()
    failures = []
    for k, w in enumerate(writers):
        _, err = w.communicate(timeout=120)
        if w.returncode != 0:
            failures.append(f"writer {k} exited {w.returncode}: {err}")
        elif "waiting for the write lock of" not in err:
            failures.append(f"writer {k} did not report its wait in progress: {err}")
        elif " s in all for the write lock of " not in err:
            failures.append(f"writer {k} did not report its waits: {err}")
    elapsed = time.monotonic() - held_at
    con = sqlite3.connect(db)
    complete = con.execute(
        "SELECT count(*) FROM runs r WHERE status = 'complete' AND"
        " (SELECT count(*) FROM iterations i WHERE i.run_id = r.run_id) = r.iterations"
    ).fetchone()[0]
    con.close()
    if complete != WRITERS + 1:
        failures.append(f"{complete} complete runs, not {WRITERS + 1}")
    if failures:
        print("store_concurrent_writers: " + "\n".join(failures), file=sys.stderr)
        return 1
    print(f"store_concurrent_writers: {WRITERS} writers done {elapsed:.1f} s after the lock"
          f" was taken (held {HOLD_SECONDS} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
