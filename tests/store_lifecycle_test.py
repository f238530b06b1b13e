#!/usr/bin/env python3
"""The default store keeps only the notable events, yet the readers give
what they gave from every event: for shipped scenarios with request
resources, rate limits and retries, a run stored by default (--store-events
notable) and the same run stored with --store-events all give
byte-identical `export --format chrome-trace` output and identical `plot`
data files (*.dat, params.gp, plot.gp), the lifecycle events rebuilt from
task_timelines and request_attempts (also for an execution retried at the
instant the one before it ended).  The `all` store packs the lifecycle
events (schema version 9: event_rows holds the notable ones alone) and its
events view reads every one.  And schema version 8's migration back-fills
request_attempts from a store's events with the very rows the writer
writes: the `all` database taken back to version 8 (its events a table
again, filled from the view) and then to version 7 (its version 8 parts
removed), and migrated again, holds the same request_attempts and reads
the same events.

usage: store_lifecycle_test.py ADMITSIM SOURCE_DIR WORK_DIR
"""
import filecmp
import json
import os
import shutil
import sqlite3
import subprocess
import sys

SCENARIOS = ["cross_provider_cooldown", "aimd_recovery", "heavy_root", "dynamic_request_calls",
             "failures_salvage"]

# A zero-second execution that fails retryably, is salvaged at the same
# instant and runs again there: the rebuilt events must put the second
# execution's readiness after the first one's dispatch, or the trace pairs
# the first selection with the second enqueue (a queue wait of 0, not 0.5 s).
ZERO_RETRY = {
    "schema": 1, "scenario_id": "zero_retry", "scenario_version": 1, "records": 1,
    "capacity": {"submission": 1},
    "failures": {"salvage_max_rounds": 2, "shutdown_error_rate": 1},
    "columns": [
        {"name": "block", "duration": {"dist": "constant", "seconds": 1.0}},
        {"name": "z", "ready_at_seconds": 0.5, "duration": {"dist": "constant", "seconds": 0},
         "failure": {"retryable_probability": 1.0}}]}


def call(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"store_lifecycle_test: {' '.join(cmd)} exited {p.returncode}: "
                         f"{p.stderr}")
    return p.stdout


def stored(db):
    con = sqlite3.connect(db)
    rows = con.execute("SELECT event_count, events_stored, (SELECT count(*) FROM events)"
                       " FROM iterations").fetchall()
    con.close()
    return rows


def readers(admitsim, db, out):
    """The chrome trace and the plot directory of run 1 of db, in out."""
    trace = os.path.join(out, "trace.json")
    call([admitsim, "export", "1", "--db", db, "--format", "chrome-trace", "--out", trace])
    plots = os.path.join(out, "plots")
    call([admitsim, "plot", "1", "--db", db, "--out", plots, "--quiet"])
    for name in os.listdir(plots):  # the pictures are drawn from the data; compare the data
        if not name.endswith((".dat", ".gp")):
            os.remove(os.path.join(plots, name))
        else:  # the scripts name their directory
            path = os.path.join(plots, name)
            with open(path) as f:
                text = f.read().replace(out, "OUT")
            with open(path, "w") as f:
                f.write(text)
    return trace, plots


ATTEMPTS = "SELECT * FROM request_attempts ORDER BY run_id, iteration, request_attempt_id"


# The events table of versions 4 to 8 (migration 4 of results/src/store.c).
EVENTS_V8 = (
    "CREATE TABLE events_v8 ("
    " event_id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL,"
    " iteration INTEGER NOT NULL,"
    " stream TEXT NOT NULL CHECK (stream IN ('scheduler', 'request')),"
    " sequence INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " captured_at_ns INTEGER NOT NULL,"
    " task_id INTEGER,"
    " execution_id INTEGER,"
    " task_lease_id INTEGER,"
    " request_attempt_id INTEGER,"
    " request_lease_id INTEGER,"
    " resource TEXT,"
    " reason TEXT,"
    " value INTEGER,"
    " row_group INTEGER,"
    " column_name TEXT,"
    " lifecycle INTEGER NOT NULL DEFAULT 0);")
EVENT_COLUMNS = ("run_id, iteration, stream, sequence, kind, captured_at_ns, task_id, execution_id,"
                 " task_lease_id, request_attempt_id, request_lease_id, resource, reason, value,"
                 " row_group, column_name, lifecycle")
# Every event, without the event_id the store allocates, in capture order
# (both streams, the scheduler's first at one instant: event_id order).
EVENTS = (f"SELECT {EVENT_COLUMNS} FROM events"
          " ORDER BY run_id, iteration, captured_at_ns, stream DESC, sequence")

NOTABLE = EVENTS.replace("FROM events", "FROM notable_events")


def query(db, sql):
    con = sqlite3.connect(db)
    rows = con.execute(sql).fetchall()
    con.close()
    return rows


def back_to_v8(db):
    """Takes a version 9 database back to version 8: events a table again
    as versions 4 to 8 have it (event_id in capture order, its indexes,
    the notable_events view over it and its delete trigger), filled from
    the events view; event_rows, event_packs and their triggers gone."""
    con = sqlite3.connect(db)
    con.executescript(
        EVENTS_V8 +
        f"INSERT INTO events_v8 ({EVENT_COLUMNS}) {EVENTS};"
        "DROP VIEW notable_events; DROP VIEW events;"
        "DROP TRIGGER iterations_delete_event_rows; DROP TRIGGER iterations_delete_event_packs;"
        "DROP TABLE event_rows; DROP TABLE event_packs;"
        "ALTER TABLE events_v8 RENAME TO events;"
        "CREATE INDEX events_by_run_time ON events(run_id, iteration, captured_at_ns);"
        "CREATE INDEX events_by_notable_kind ON events(kind, run_id) WHERE lifecycle = 0;"
        "CREATE INDEX events_by_notable_resource ON events(resource, run_id)"
        " WHERE lifecycle = 0 AND resource IS NOT NULL;"
        "CREATE VIEW notable_events AS SELECT * FROM events WHERE lifecycle = 0;"
        "CREATE TRIGGER iterations_delete_events AFTER DELETE ON iterations BEGIN"
        " DELETE FROM events WHERE run_id = old.run_id AND iteration = old.iteration; END;"
        "DELETE FROM schema_migrations WHERE version = 9; PRAGMA user_version = 8;")
    con.close()


def back_to_v7(db):
    """Takes a version 8 database back to version 7: its request_attempts
    and events_stored gone, task_timelines' column index back (its delete
    trigger gone; its foreign key, which version 8 drops, not restored)."""
    con = sqlite3.connect(db)
    con.executescript(
        "DROP TRIGGER iterations_delete_request_attempts; DROP TABLE request_attempts;"
        "DROP TRIGGER iterations_delete_task_timelines;"
        "ALTER TABLE iterations DROP COLUMN events_stored;"
        "CREATE INDEX task_timelines_by_column ON task_timelines(run_id, column_name);"
        "DELETE FROM schema_migrations WHERE version = 8; PRAGMA user_version = 7;")
    con.close()


def main():
    admitsim, src, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    failures = []
    zero = os.path.join(work, "zero_retry.json")
    with open(zero, "w") as f:
        json.dump(ZERO_RETRY, f)
    for scenario in [os.path.join(src, "scenarios", n + ".json") for n in SCENARIOS] + [zero]:
        name = os.path.basename(scenario)[:-5]
        side = {}
        for mode in ("notable", "all"):
            out = os.path.join(work, name, mode)
            os.makedirs(out)
            db = os.path.join(out, "store.db")
            call([admitsim, "run", scenario, "--db", db, "--seed", "2"] +
                 (["--store-events", "all"] if mode == "all" else []))
            side[mode] = (db, stored(db)) + readers(admitsim, db, out)
        (ndb, nrows, ntrace, nplots), (adb, arows, atrace, aplots) = side["notable"], side["all"]
        if not all(0 < kept == n < made for made, kept, n in nrows):
            failures.append(f"{name}: the default store kept {nrows} (made, stored, rows)")
        if not all(made == kept == n for made, kept, n in arows):
            failures.append(f"{name}: --store-events all kept {arows} (made, stored, rows)")
        if not filecmp.cmp(ntrace, atrace, shallow=False):
            failures.append(f"{name}: the chrome traces differ ({ntrace} {atrace})")
        names = sorted(os.listdir(aplots))
        if sorted(os.listdir(nplots)) != names:
            failures.append(f"{name}: plot files {sorted(os.listdir(nplots))} vs {names}")
        _, mismatch, errors = filecmp.cmpfiles(nplots, aplots, names, shallow=False)
        if mismatch or errors:
            failures.append(f"{name}: plot data differ: {mismatch + errors}")
        # the lifecycle events packed, every event read through the view
        con = sqlite3.connect(adb)
        packed, = con.execute("SELECT coalesce(sum(events), 0) FROM event_packs").fetchone()
        rows, lifecycle = con.execute("SELECT count(*), count(*) FILTER (WHERE lifecycle = 1)"
                                      " FROM event_rows").fetchone()
        viewed = con.execute(EVENTS).fetchall()
        written = con.execute(ATTEMPTS).fetchall()
        con.close()
        made = sum(r[0] for r in arows)
        if not (packed > 0 and lifecycle == 0 and rows + packed == len(viewed) == made):
            failures.append(f"{name}: --store-events all packed {packed} events, stored {rows} "
                            f"rows ({lifecycle} of lifecycle events), the view reads "
                            f"{len(viewed)} of {made}")
        notable = [query(d, NOTABLE) for d in (ndb, adb)]
        if notable[0] != notable[1] or len(notable[0]) != rows:
            failures.append(f"{name}: the notable events differ between the stores "
                            f"({len(notable[0])} and {len(notable[1])} of {rows} rows)")
        # the migration's back-fill gives the writer's rows
        back_to_v8(adb)
        back_to_v7(adb)
        call([admitsim, "migrate", "--db", adb])
        con = sqlite3.connect(adb)
        filled = con.execute(ATTEMPTS).fetchall()
        migrated = con.execute(EVENTS).fetchall()
        con.close()
        if filled != written:
            failures.append(f"{name}: the migration back-filled {len(filled)} request attempts, "
                            f"the run wrote {len(written)}, or they differ")
        if migrated != viewed:
            failures.append(f"{name}: migrated again, the events view reads {len(migrated)} "
                            f"events, the packed store {len(viewed)}, or they differ")
        if name == "cross_provider_cooldown" and not any(r[8] for r in written):
            failures.append(f"{name}: no rate-limited attempt stored")
        print(f"store_lifecycle_test: {name}: {nrows[0][1]} of {nrows[0][0]} events stored, "
              f"{len(written)} request attempts; trace and {len(names)} plot files identical",
              flush=True)
    if failures:
        print("store_lifecycle_test: FAILED\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
