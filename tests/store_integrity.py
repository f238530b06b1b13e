"""What a results database must satisfy after any interruption of its
writer (a SIGKILL, a full disk): used by store_sigkill.py and
store_full_disk.py.

check(db) returns a list of what is wrong, empty when the database
  - passes PRAGMA integrity_check and foreign_key_check;
  - holds only whole iterations: each stored iteration's events rows are
    as many as it says it stored (events_stored, schema 8: every event,
    event_count, or the notable ones, fewer; before, event_count), it
    has its task timelines, metrics, both final snapshots and its capacity
    plan, a request_attempts row per attempt its stored request events
    name (schema 8), and no events, metrics, timelines or attempts belong
    to an iteration that is not stored (from schema 9 events is a view of
    event_rows and of the lifecycle events packed in event_packs: what is
    counted is its rows, every one with a kind, and each pack must be one
    the view reads whole: 1 to 4,096 events, as many as its body holds,
    its strings a JSON array; before, events is a table);
  - says a run is complete only when every requested iteration is stored,
    and calls a run with iterations missing running, failed or abandoned.
A database file the writer never got to give a schema (empty, or no
tables) passes: nothing was stored.
"""
import sqlite3

ITERATION_ROWS = {  # table -> (rows an iteration needs at least, at most)
    "task_timelines": (1, None),
    "metrics": (1, None),
    "snapshots": (2, 2),
    "capacity_plans": (1, 1),
}


def rows_by_iteration(con, table):
    return {(r, i): n for r, i, n in con.execute(
        f"SELECT run_id, iteration, count(*) FROM {table} GROUP BY run_id, iteration")}


def check(db):
    """Opened as the next writer would: SQLite rolls back a hot journal (a
    writer killed in a rollback-journal transaction, e.g. while creating
    the schema) and recovers the WAL, which a read-only connection cannot."""
    con = sqlite3.connect(db)
    try:
        return check_open(con)
    finally:
        con.close()


def run_count(db):
    """Runs stored in db (0 when it has no runs table)."""
    con = sqlite3.connect(db)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone():
            return 0
        return con.execute("SELECT count(*) FROM runs").fetchone()[0]
    finally:
        con.close()


def check_open(con):
    failures = []
    integrity = [r[0] for r in con.execute("PRAGMA integrity_check")]
    if integrity != ["ok"]:
        failures.append(f"integrity_check: {integrity[:5]}")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return failures  # killed before the schema: nothing stored
    if "runs" not in tables:
        return failures + [f"tables {sorted(tables)} but no runs table"]
    fk = con.execute("PRAGMA foreign_key_check").fetchall()
    if fk:
        failures.append(f"foreign_key_check: {fk[:5]}")
    views = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    packed = bool(tables & {"event_rows", "event_packs"})  # schema 9: events is a view
    complete = set(ITERATION_ROWS) | {"iterations", "experiments"}
    complete |= {"event_rows", "event_packs"} if packed else {"events"}
    columns = {r[1] for r in con.execute("PRAGMA table_info(iterations)")}
    if not complete <= tables or (packed and "events" not in views) or \
            "event_count" not in columns:
        # Killed while the schema was being created (one migration per
        # transaction): no run may be stored in half a schema.
        runs = con.execute("SELECT count(*) FROM runs").fetchone()[0]
        if runs:
            failures.append(f"{runs} runs stored in an incomplete schema "
                            f"(tables {sorted(tables)})")
        return failures
    if packed:  # a pack the view cannot read, or reads short, hides its events
        broken = [f"event pack {pack}: {n} events, a body of {length}, strings {strings}"
                  for pack, n, length, strings in con.execute(
                      "SELECT pack_id, events, body_length, strings_type FROM ("
                      " SELECT pack_id, events, CASE WHEN json_valid(body) THEN CASE"
                      " json_type(body) WHEN 'array' THEN json_array_length(body) END END"
                      " AS body_length, CASE WHEN json_valid(strings) THEN json_type(strings)"
                      " END AS strings_type FROM event_packs)"
                      " WHERE body_length IS NOT events OR events NOT BETWEEN 1 AND 4096"
                      " OR strings_type IS NOT 'array'")]
        if broken:
            return failures + broken
    v8 = "events_stored" in columns
    stored = {(r, i): (n, kept) for r, i, n, kept in con.execute(
        "SELECT run_id, iteration, event_count, %s FROM iterations"
        % ("events_stored" if v8 else "event_count"))}
    events, kindless = {}, {}
    for r, i, n, k in con.execute("SELECT run_id, iteration, count(*), count(kind) FROM events"
                                  " GROUP BY run_id, iteration"):
        events[r, i] = n
        if k != n:
            kindless[r, i] = n - k
    for key, n in kindless.items():
        failures.append(f"run {key[0]} iteration {key[1]}: {n} events without a kind")
    for key, (count, kept) in stored.items():
        if kept is None or kept > count or events.get(key, 0) != kept:
            failures.append(f"run {key[0]} iteration {key[1]}: event_count {count}, "
                            f"events_stored {kept}, {events.get(key, 0)} events stored")
    if v8:
        attempts = rows_by_iteration(con, "request_attempts")
        named = {(r, i): n for r, i, n in con.execute(
            "SELECT run_id, iteration, count(DISTINCT request_attempt_id) FROM events"
            " WHERE request_attempt_id IS NOT NULL GROUP BY run_id, iteration")}
        for key in stored:
            if attempts.get(key, 0) < named.get(key, 0):
                failures.append(f"run {key[0]} iteration {key[1]}: {attempts.get(key, 0)} "
                                f"request attempts, {named[key]} named by its events")
        for key in attempts.keys() - stored.keys():
            failures.append(f"run {key[0]} iteration {key[1]}: request_attempts rows of an "
                            "iteration that is not stored")
    for key in events.keys() - stored.keys():
        failures.append(f"run {key[0]} iteration {key[1]}: {events[key]} events of an "
                        "iteration that is not stored (half an iteration)")
    for table, (least, most) in ITERATION_ROWS.items():
        have = rows_by_iteration(con, table)
        for key in stored:
            n = have.get(key, 0)
            if n < least or (most is not None and n > most):
                failures.append(f"run {key[0]} iteration {key[1]}: {n} rows of {table}")
        for key in have.keys() - stored.keys():
            failures.append(f"run {key[0]} iteration {key[1]}: {table} rows of an iteration "
                            "that is not stored")
    for run_id, requested, status in con.execute(
            "SELECT run_id, iterations, status FROM runs"):
        n = sum(1 for (r, _) in stored if r == run_id)
        if n > requested:
            failures.append(f"run {run_id}: {n} iterations stored of {requested} requested")
        elif n < requested and status not in ("running", "failed", "abandoned"):
            failures.append(f"run {run_id}: {n} of {requested} iterations stored, "
                            f"yet status {status}")
        elif n == requested and status not in ("complete", "failed"):
            failures.append(f"run {run_id}: every iteration stored, yet status {status}")
    return failures


def run_states(admitsim, db):
    """`admitsim runs --db db` as {run_id: (stored, requested, state)}."""
    import subprocess
    out = subprocess.run([admitsim, "runs", "--db", db], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"admitsim runs exited {out.returncode}: {out.stderr}")
    states = {}
    for line in out.stdout.splitlines()[1:]:
        f = line.split()
        done, requested = f[-3].split("/")
        states[int(f[0])] = (int(done), int(requested), f[-2])
    return states
