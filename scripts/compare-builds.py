#!/usr/bin/env python3
"""Compares the figures of two admitsim builds over every shipped scenario x
policy x seed: the proof a behaviour-preserving change owes (DEVELOPERS.md).

usage: scripts/compare-builds.py OLD_ADMITSIM NEW_ADMITSIM [--seeds 1,2,3]
                                 [--scenarios DIR] [--work DIR] [--keep]
                                 [--store-only]

For each (scenario, policy, seed) both binaries run
`run SCENARIO --policy P --seed S --iterations I --format json --out D --db F`
(I = 2 by default, so a second iteration is compared too; --store-only
leaves out --out, so the run keeps what the default store needs and the
artifact's files are not compared) and the script compares:
  * stdout (`--format json`): every key the old output has must be present
    with an equal value in the new one (new keys are allowed);
  * the artifact (`--out`), minus `host`: the same rule, recursively;
  * the Markdown summary and both CSVs: byte-identical;
  * the store: every metric (but the host-dependent run cpu_seconds), every
    iteration, task timeline and event row (the old build's columns, in their
    natural key order; ids the database allocates excluded), every snapshot
    and capacity plan (old keys must be present and equal).  Events: every
    row when both builds stored every event, else the notable rows (those
    not of the lifecycle kinds: what `--store-events notable`, the default
    from schema version 8, keeps), which both stored; the lifecycle events'
    times are the task timelines' columns, compared whole.
Exits 0 when nothing differs, 1 with the first differences listed otherwise,
2 on a usage error.  Progress goes to stderr.
"""
import argparse
import concurrent.futures
import glob
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

POLICIES = ("strict", "bounded", "provider_aware")


def subset_diff(old, new, path, out, limit=8):
    """Appends to out the places where old is not contained in new."""
    if len(out) >= limit:
        return
    if isinstance(old, dict):
        if not isinstance(new, dict):
            out.append(f"{path}: object became {type(new).__name__}")
            return
        for k, v in old.items():
            if k not in new:
                out.append(f"{path}.{k}: missing in the new output")
            else:
                subset_diff(v, new[k], f"{path}.{k}", out, limit)
    elif isinstance(old, list):
        if not isinstance(new, list) or len(old) != len(new):
            n = len(new) if isinstance(new, list) else type(new).__name__
            out.append(f"{path}: list of {len(old)} became {n}")
            return
        for i, (a, b) in enumerate(zip(old, new)):
            subset_diff(a, b, f"{path}[{i}]", out, limit)
    elif old != new or type(old) is not type(new):
        out.append(f"{path}: {old!r} -> {new!r}")


def run(binary, scenario, policy, seed, iterations, out_dir, db, store_only):
    os.makedirs(out_dir, exist_ok=True)
    cmd = [binary, "run", scenario, "--policy", policy, "--seed", str(seed),
           "--iterations", str(iterations), "--format", "json", "--db", db]
    if not store_only:
        cmd += ["--out", out_dir]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


ORDERED = {
    "metrics": ("iteration, scope, name", "iteration, scope, name, value"),
    "iterations": ("iteration", "iteration, status, wall_time_seconds, final_task_leases, "
                   "final_request_leases, final_request_waiters, output_hash, event_count"),
    "task_timelines": ("iteration, task_execution_id", None),
    "events": ("iteration, stream, sequence", None),
    "snapshots": ("iteration, kind", "iteration, kind, json"),
    "capacity_plans": ("iteration", "iteration, json"),
}
HOST_DEPENDENT = {("run", "cpu_seconds")}


def table_columns(con, table):
    return [r[1] for r in con.execute(f"PRAGMA table_info({table})") if r[1] not in ("run_id", "event_id")]


def stored_every_event(con):
    """True when every iteration of the database stored each event it made."""
    return con.execute("SELECT count(*) FROM iterations i WHERE event_count !="
                       " (SELECT count(*) FROM events e WHERE e.run_id = i.run_id"
                       " AND e.iteration = i.iteration)").fetchone()[0] == 0


def store_diff(odb, ndb, diffs):
    """Compares every table of ORDERED, old columns only, in natural key order."""
    old, new = sqlite3.connect(odb), sqlite3.connect(ndb)
    both_all = stored_every_event(old) and stored_every_event(new)
    for table, (order, cols) in ORDERED.items():
        cols = cols or ", ".join(table_columns(old, table))
        where = " WHERE lifecycle = 0" if table == "events" and not both_all else ""
        sql = f"SELECT {cols} FROM {table}{where} ORDER BY {order}"
        try:
            a, b = old.execute(sql).fetchall(), new.execute(sql).fetchall()
        except sqlite3.Error as e:
            diffs.append(f"store {table}: {e}")
            continue
        if table == "metrics":
            a = [r for r in a if (r[1], r[2]) not in HOST_DEPENDENT]
            b = [r for r in b if (r[1], r[2]) not in HOST_DEPENDENT]
            new_m = {r[:3]: r[3] for r in b}
            for r in a:
                if r[:3] not in new_m:
                    diffs.append(f"store metric {r[:3]}: missing")
                elif new_m[r[:3]] != r[3]:
                    diffs.append(f"store metric {r[:3]}: {r[3]!r} -> {new_m[r[:3]]!r}")
                if len(diffs) > 8:
                    break
            continue
        if table in ("snapshots", "capacity_plans"):
            if len(a) != len(b):
                diffs.append(f"store {table}: {len(a)} rows -> {len(b)}")
            for i, (x, y) in enumerate(zip(a, b)):
                subset_diff(json.loads(x[-1]), json.loads(y[-1]), f"store {table}[{i}]", diffs)
            continue
        if a != b:
            first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            diffs.append(f"store {table}: rows differ ({len(a)} -> {len(b)} rows, first at {first}:"
                         f" {a[first] if first < len(a) else None} -> {b[first] if first < len(b) else None})")
    old.close()
    new.close()


def strip_host(raw):
    """The artifact's bytes before its last key, "host" (None when not found)."""
    at = raw.rfind(b'"host":')
    return raw[:at] if at >= 0 else None


def compare_case(args, work, scenario, policy, seed):
    name = os.path.splitext(os.path.basename(scenario))[0]
    tag = f"{name}/{policy}/seed{seed}"
    res = {}
    for side, binary in (("old", args.old), ("new", args.new)):
        d = os.path.join(work, side, name, policy, str(seed))
        shutil.rmtree(d, ignore_errors=True)
        db = os.path.join(d, "store.db")
        rc, out, err = run(binary, scenario, policy, seed, args.iterations, os.path.join(d, "out"), db,
                           args.store_only)
        res[side] = (rc, out, err, d, db)
    diffs = []
    (orc, oout, oerr, odir, odb), (nrc, nout, nerr, ndir, ndb) = res["old"], res["new"]
    if orc != nrc:
        diffs.append(f"exit {orc} -> {nrc}: {nerr.strip()[:300]}")
        return tag, diffs
    if orc != 0:
        return tag, []  # both failed alike (e.g. a scenario that ends with leases)
    try:
        subset_diff(json.loads(oout), json.loads(nout), "stdout", diffs)
    except json.JSONDecodeError as e:
        diffs.append(f"stdout is not JSON: {e}")
    ofiles = sorted(os.listdir(os.path.join(odir, "out")))
    nfiles = sorted(os.listdir(os.path.join(ndir, "out")))
    for f in ofiles:
        if f not in nfiles:
            diffs.append(f"out/{f}: not written by the new build")
            continue
        a, b = os.path.join(odir, "out", f), os.path.join(ndir, "out", f)
        if f.endswith(".json"):
            ra, rb = open(a, "rb").read(), open(b, "rb").read()
            if strip_host(ra) is not None and strip_host(ra) == strip_host(rb):
                continue
            ja, jb = json.loads(ra), json.loads(rb)
            ja.pop("host", None)
            jb.pop("host", None)
            subset_diff(ja, jb, f"out/{f}", diffs)
        elif open(a, "rb").read() != open(b, "rb").read():
            diffs.append(f"out/{f}: bytes differ")
    store_diff(odb, ndb, diffs)
    if not args.keep:
        shutil.rmtree(os.path.join(work, "old", name, policy, str(seed)), ignore_errors=True)
        shutil.rmtree(os.path.join(work, "new", name, policy, str(seed)), ignore_errors=True)
    return tag, diffs


def report(results, total):
    for i, (tag, diffs) in enumerate(results, 1):
        print(f"[{i}/{total}] {tag}: {'same' if not diffs else 'DIFFERENT'}", file=sys.stderr)
        yield tag, diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--iterations", type=int, default=2)
    ap.add_argument("--scenarios", default=os.path.join(os.path.dirname(__file__), "..", "scenarios"))
    ap.add_argument("--work", default=None, help="scratch directory (default: a temporary one)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", action="store_true", help="keep every output for inspection")
    ap.add_argument("--store-only", action="store_true",
                    help="runs without --out (the default store alone, as `run --db` keeps it:"
                         " no event is kept in memory but the notable ones); compares stdout and"
                         " the store")
    args = ap.parse_args()
    for b in (args.old, args.new):
        if not os.access(b, os.X_OK):
            ap.error(f"{b}: not an executable")
    seeds = [int(s) for s in args.seeds.split(",") if s]
    scenarios = sorted(glob.glob(os.path.join(args.scenarios, "*.json")))
    if not scenarios:
        ap.error(f"{args.scenarios}: no scenarios")
    work = args.work or tempfile.mkdtemp(prefix="admitsim-compare-")
    cases = [(s, p, d) for s in scenarios for p in POLICIES for d in seeds]
    bad = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = pool.map(lambda c: compare_case(args, work, *c), cases)
        results = list(report(results, len(cases)))
    for tag, diffs in results:
        if diffs:
            bad += 1
            for line in diffs[:8]:
                print(f"  {tag}: {line}")
    if not args.work and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(f"compare-builds: {len(cases) - bad} of {len(cases)} cases identical"
          f" ({len(scenarios)} scenarios x {len(POLICIES)} policies x {len(seeds)} seeds,"
          f" {args.iterations} iterations each)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
