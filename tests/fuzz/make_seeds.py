#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz (README.md there says when to run it).

usage: make_seeds.py ADMITSIM SOURCE_DIR

corpus/scenario/: every shipped scenario shrunk to at most 24 records (row
counts, row groups and row-group limits scaled alike), so that one run fits
the fuzzer's per-input cap, plus a few small scenarios of their own.
corpus/store/: results databases written by ADMITSIM (the current build)
with 512-byte pages, so that a mutation lands in a table more often than in
empty page space: one run of one iteration (WAL); that and a run of two
iterations, interrupted, with NULLs where columns allow them (rollback
journal); one run stored with every event (its lifecycle events packed,
schema version 9); and the schema version 4 database of tests/data,
thinned out (a sixteenth of its events, a quarter of its metrics and
timelines).  The first two and the packed one again as SQL text
(one_run_wal.sql, interrupted.sql, all_events.sql), which fuzz_store runs
into an empty database (so that mutations reach the pack bodies).
corpus/trace/ is written by hand: see README.md.
"""
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

RECORDS = 24


def compact(doc):
    return json.dumps(doc, separators=(",", ":")) + "\n"


def shrink(doc):
    old = doc["records"]
    new = min(old, RECORDS)
    scale = lambda n: max(1, math.floor(n * new / old))  # monotonic: keeps rows <= deps' rows
    doc["records"] = new
    if "buffer_size" in doc:
        doc["buffer_size"] = max(1, min(doc["buffer_size"], new // 3 or 1))
    for c in doc["columns"]:
        if "rows" in c:
            c["rows"] = scale(c["rows"])
    return doc


def scenario_seeds(src, out):
    shipped = os.path.join(src, "scenarios")
    for name in sorted(os.listdir(shipped)):
        if name.endswith(".json") and not name.startswith("bad_"):
            with open(os.path.join(shipped, name)) as f:
                doc = shrink(json.load(f))
            with open(os.path.join(out, "small_" + name), "w") as f:
                f.write(compact(doc))


TINY = {
    "schema": 1, "scenario_id": "tiny_calls", "scenario_version": 1, "records": 3,
    "buffer_size": 2, "capacity": {"submission": 2, "llm_wait": 2},
    "models": [{"alias": "m", "provider": "p", "model": "x", "max_parallel_requests": 2}],
    "request_admission": {"cooldown_seconds": 0.5, "successes_until_increase": 2},
    "providers": [{"model": "m", "latency": {"dist": "constant", "seconds": 0.1},
                   "max_concurrent": 1, "retry_after_seconds": 0.2,
                   "windows": [{"kind": "outage", "start_seconds": 0.1, "end_seconds": 0.3}]}],
    "columns": [
        {"name": "a", "program": [{"call": {"model": "m", "count": {"until_valid": 0.5, "max": 2}}}],
         "retry": {"max_attempts": 2, "backoff_seconds": 0.1},
         "scheduling": {"kind": "model", "model": "m"}},
        {"name": "b", "depends_on": ["a"], "strategy": "full_column",
         "duration": {"dist": "uniform", "low": 0.1, "high": 0.2},
         "failure": {"retryable_probability": 0.3}}]}


def small_pages(db, wal=False):
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode = DELETE")
    con.execute("PRAGMA page_size = 512")
    con.execute("VACUUM")
    if wal:
        con.execute("PRAGMA journal_mode = WAL")
    con.close()


def store_seeds(admitsim, out):
    work = tempfile.mkdtemp(prefix="admit-seeds-")
    try:
        scenario = os.path.join(work, "tiny_calls.json")
        with open(scenario, "w") as f:
            f.write(compact(TINY))
        db = os.path.join(work, "one_run.db")
        subprocess.run([admitsim, "run", scenario, "--policy", "strict", "--db", db], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        small_pages(db, wal=True)
        shutil.copy(db, os.path.join(out, "one_run_wal.db"))
        subprocess.run([admitsim, "run", scenario, "--policy", "provider_aware", "--iterations",
                        "2", "--db", db], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        con = sqlite3.connect(db, isolation_level=None)
        con.execute("PRAGMA journal_mode = DELETE")
        con.executescript(
            "UPDATE runs SET status = 'running', finished_at = NULL, writer_pid = 2147483646,"
            " scenario_file = NULL, command_line = NULL WHERE run_id = 2;"
            "DELETE FROM iterations WHERE run_id = 2 AND iteration = 1;"
            "UPDATE event_rows SET task_id = NULL, resource = NULL WHERE event_id % 7 = 0;"
            "VACUUM;")
        con.close()
        shutil.copy(db, os.path.join(out, "interrupted.db"))
        db = os.path.join(work, "all_events.db")
        subprocess.run([admitsim, "run", scenario, "--policy", "strict", "--store-events", "all",
                        "--db", db], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        small_pages(db)
        shutil.copy(db, os.path.join(out, "all_events.db"))
    finally:
        shutil.rmtree(work)


def dump(db, sql):
    """db as SQL text (what sqlite3's .dump writes, plus its user_version)."""
    con = sqlite3.connect(db)
    version = con.execute("PRAGMA user_version").fetchone()[0]
    with open(sql, "w") as f:
        f.write(f"PRAGMA user_version = {version};\n")
        for line in con.iterdump():
            f.write(line + "\n")
    con.close()


def v4_seed(src, out):
    dst = os.path.join(out, "schema_v4.db")
    shutil.copy(os.path.join(src, "tests", "data", "store-v4.db"), dst)
    con = sqlite3.connect(dst, isolation_level=None)
    con.executescript("DELETE FROM events WHERE event_id % 16 != 0;"
                      "DELETE FROM metrics WHERE rowid % 4 != 0;"
                      "DELETE FROM task_timelines WHERE task_execution_id % 4 != 0;")
    con.close()
    small_pages(dst)


def main():
    admitsim, src = sys.argv[1:3]
    corpus = os.path.join(src, "tests", "fuzz", "corpus")
    scenario_seeds(src, os.path.join(corpus, "scenario"))
    with open(os.path.join(corpus, "scenario", "tiny_calls.json"), "w") as f:
        f.write(compact(TINY))
    store = os.path.join(corpus, "store")
    store_seeds(admitsim, store)
    v4_seed(src, store)
    for name in ("one_run_wal", "interrupted", "all_events"):
        dump(os.path.join(store, name + ".db"), os.path.join(store, name + ".sql"))


if __name__ == "__main__":
    main()
