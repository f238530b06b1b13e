"""What the sweep tests share: a merged database's rows without host facts,
and waiting on a sweep's journal."""
import json
import os
import sqlite3
import time

# Columns that are host facts (when, where, which process, the command
# line, where a merged run was first written) and the one host metric.
HOST_COLUMNS = {
    "runs": {"created_at", "finished_at", "writer_host", "writer_pid", "writer_instance",
             "heartbeat_at", "command_line", "source"},
    "experiments": {"created_at", "finished_at", "writer_host", "writer_pid", "writer_instance",
                    "heartbeat_at", "command_line"},
}
# The tables, not the views: events (schema 9) is a view of event_rows and
# event_packs, which has no rowid to order by; they are compared instead.
TABLES = ["runs", "experiments", "iterations", "event_rows", "event_packs", "metrics",
          "snapshots", "task_timelines", "capacity_plans", "request_attempts"]
HOST_METRICS = ("cpu_seconds",)


def db_rows(path):
    """{table: [row, ...]} of every table a sweep stores, host facts left out."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    out = {}
    for t in TABLES:
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})")
                if r[1] not in HOST_COLUMNS.get(t, ())]
        if not cols:
            raise ValueError(f"{path}: no table {t}")
        where = ""
        if t == "metrics":
            where = " WHERE name NOT IN (%s)" % ",".join("'%s'" % m for m in HOST_METRICS)
        order = {"event_packs": "pack_id",
                 "task_timelines": "run_id, iteration, task_execution_id",
                 "request_attempts": "run_id, iteration, request_attempt_id"}.get(t, "rowid")
        out[t] = con.execute(f"SELECT {', '.join(cols)} FROM {t}{where} ORDER BY {order}").fetchall()
    con.close()
    return out


def diff_rows(a, b):
    """The first difference between two db_rows(), or None."""
    for t in TABLES:
        if len(a[t]) != len(b[t]):
            return f"{t}: {len(a[t])} rows vs {len(b[t])}"
        for i, (x, y) in enumerate(zip(a[t], b[t])):
            if x != y:
                return f"{t} row {i}: {x} vs {y}"
    return None


def runs_per_point_seed(path):
    """{(arm, seed): number of runs} of the database's experiment runs."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = con.execute("SELECT arm, seed, count(*) FROM runs WHERE experiment_id IS NOT NULL"
                       " GROUP BY arm, seed").fetchall()
    con.close()
    return {(a, s): n for a, s, n in rows}


def journal(out_dir):
    try:
        with open(os.path.join(out_dir, "journal")) as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


def complete_shards(out_dir):
    d = os.path.join(out_dir, "shards")
    try:
        return sorted(f for f in os.listdir(d) if f.startswith("shard-") and f.endswith(".json"))
    except OSError:
        return []


def wait_for(cond, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return False
