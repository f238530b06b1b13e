#!/usr/bin/env python3
"""`admitsim run --db` killed with SIGKILL at random moments: the database
stays whole every time.

usage: store_sigkill.py ADMITSIM SOURCE_DIR WORK_DIR [TRIALS]

A first, uninterrupted run of heavy_root.json (8 iterations) into a fresh
database measures how long a run takes (T) and must store a complete run.
Then TRIALS (default 24) runs of the same are each killed with SIGKILL
after a delay drawn uniformly from [0, T] (random.Random with a fixed seed,
printed; ADMIT_SIGKILL_SEED=N draws others), more trials (up to twice
as many) until at least 20 runs were killed before they finished; a run
that finished first shrinks T by a quarter.  Even trials into a
database of their own (so some kills land while the schema is created),
odd ones into one shared database that keeps every earlier trial's run.
After every kill (store_integrity.py): integrity_check and
foreign_key_check pass, every stored iteration is whole (its events_stored
matches its events rows: the notable ones by default, fewer than its
event_count, or with --store-events all, which half the trials use, every
one; its task timelines, metrics, snapshots, plan and request attempts
exist, no rows of an unstored iteration), and a run with iterations
missing is not complete; `admitsim runs` reads the database and calls that
run abandoned.  (A kill while a new database's schema is being created,
one migration per transaction, can leave it empty, at an older schema
version, or with a hot journal, and no run: `runs` may refuse it, and
`admitsim migrate` must then finish it.)  Last, one more run into the shared database completes and
records every killed run there as abandoned.
"""
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import store_integrity  # noqa: E402

SEED = int(os.environ.get("ADMIT_SIGKILL_SEED", "20261101"))
ITERATIONS = 8
KILLS = 20  # at least this many runs killed before they finished
schema_kills = 0  # kills while a database's schema was being created


def run(admitsim, scenario, db, seed):
    """Seeds 2, 3 store the notable events (the default), 4, 5 every event, ..."""
    mode = ["--store-events", "all"] if seed // 2 % 2 else []
    return [admitsim, "run", scenario, "--iterations", str(ITERATIONS), "--seed", str(seed),
            "--db", db] + mode


def start(cmd):
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def killed_run(admitsim, scenario, db, seed, delay):
    """Runs into db, SIGKILLs it after delay s; True when it was killed
    (False: it had finished by then, and must have exited 0)."""
    p = start(run(admitsim, scenario, db, seed))
    time.sleep(delay)
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    _, err = p.communicate(timeout=120)
    if p.returncode == -signal.SIGKILL:
        return True
    if p.returncode != 0:
        raise AssertionError(f"run exited {p.returncode} before it was killed: {err}")
    return False


def check_after_kill(admitsim, db, killed):
    """Failures of db after a kill (nothing if the writer never created it)."""
    if not os.path.exists(db):
        return []
    # First what `admitsim runs` (read-only: it neither rolls back nor
    # recovers anything) makes of the database as the kill left it, then
    # the database as the next writer finds it.
    try:
        states, refused = store_integrity.run_states(admitsim, db), None
    except RuntimeError as e:
        states, refused = {}, str(e)
    failures = store_integrity.check(db)
    if failures:
        return failures
    if refused:
        if store_integrity.run_count(db):
            return [f"runs refuses a database with runs: {refused}"]
        # Killed while the schema was being created (one migration per
        # transaction): the file is empty, or older than readers take, or
        # holds a hot journal readers cannot roll back; no run stored.
        # The next writer (here `migrate`) must finish it.
        global schema_kills
        schema_kills += 1
        p = subprocess.run([admitsim, "migrate", "--db", db], capture_output=True, text=True)
        if p.returncode != 0:
            return [f"migrate after a kill during the schema exited {p.returncode}: {p.stderr}"]
        try:
            states = store_integrity.run_states(admitsim, db)
        except RuntimeError as again:
            return [f"after migrate: {again}"]
    for run_id, (stored, requested, state) in states.items():
        if stored < requested and state != "abandoned":
            failures.append(f"runs shows run {run_id} ({stored}/{requested}) as {state}, "
                            "not abandoned")
        if killed and stored == requested and state != "complete":
            failures.append(f"runs shows run {run_id} ({stored}/{requested}) as {state}")
    return failures


def main():
    admitsim, src, work = sys.argv[1:4]
    trials = int(sys.argv[4]) if len(sys.argv) > 4 else 24
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    scenario = os.path.join(src, "scenarios", "heavy_root.json")
    print(f"store_sigkill: seed {SEED} (ADMIT_SIGKILL_SEED), {trials} trials", flush=True)
    least = min(KILLS, trials)
    rng = random.Random(SEED)

    full = os.path.join(work, "full.db")
    began = time.monotonic()
    p = subprocess.run(run(admitsim, scenario, full, 1), capture_output=True, text=True)
    whole = time.monotonic() - began
    assert p.returncode == 0, p.stderr
    failures = store_integrity.check(full)
    states = store_integrity.run_states(admitsim, full)
    if states != {1: (ITERATIONS, ITERATIONS, "complete")}:
        failures.append(f"the uninterrupted run reads {states}")
    con = sqlite3.connect(full)
    partial = con.execute("SELECT count(*) FROM iterations WHERE events_stored < event_count"
                          " AND events_stored > 0").fetchone()[0]
    con.close()
    if partial != ITERATIONS:  # the default keeps the notable events: fewer than made
        failures.append(f"{partial} of {ITERATIONS} iterations stored fewer events than made")

    shared = os.path.join(work, "shared.db")
    kills = mid = trial = 0
    span = whole
    while trial < trials or (kills < least and trial < 2 * trials):
        db = shared if trial % 2 else os.path.join(work, f"trial-{trial}.db")
        delay = rng.uniform(0, span)
        killed = killed_run(admitsim, scenario, db, trial + 2, delay)
        kills += killed
        if not killed:  # the machine got faster than when it was measured
            span *= 0.75
        problems = check_after_kill(admitsim, db, killed)
        if os.path.exists(db) and os.path.getsize(db) > 0 and killed:
            mid += 1
        failures += [f"trial {trial} (killed after {delay:.3f} s, {db}): {f}"
                     for f in problems]
        trial += 1

    p = subprocess.run(run(admitsim, scenario, shared, 999), capture_output=True, text=True)
    if p.returncode != 0:
        failures.append(f"the run after the kills exited {p.returncode}: {p.stderr}")
    failures += [f"shared database at the end: {f}" for f in store_integrity.check(shared)]
    con = sqlite3.connect(shared)
    left = con.execute("SELECT run_id, status FROM runs WHERE status = 'running'").fetchall()
    at_kill = con.execute(  # iterations each run of the shared database had stored
        "SELECT group_concat(n, ' ') FROM (SELECT count(i.iteration) AS n FROM runs r"
        " LEFT JOIN iterations i USING (run_id)"
        " WHERE r.run_id < (SELECT max(run_id) FROM runs) GROUP BY r.run_id"
        " ORDER BY r.run_id)").fetchone()[0]
    con.close()
    if left:
        failures.append(f"runs the last writer left as running (not abandoned): {left}")
    if kills < least:
        failures.append(f"only {kills} of {trial} runs were killed before they finished")
    if failures:
        print("store_sigkill: FAILED\n  " + "\n  ".join(failures), file=sys.stderr)
        print(f"store_sigkill: replay with ADMIT_SIGKILL_SEED={SEED}", file=sys.stderr)
        return 1
    print(f"store_sigkill: {trial} trials, {kills} killed ({mid} with a database on disk), "
          f"an uninterrupted run takes {whole:.2f} s; iterations stored by the shared "
          f"database's runs: {at_kill}; {schema_kills} killed while creating the schema "
          "(finished by migrate); every database whole")
    return 0


if __name__ == "__main__":
    sys.exit(main())
