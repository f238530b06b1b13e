#!/usr/bin/env python3
"""The command line's conventions end to end (README "Using admitsim").
usage: cli_conventions_test.py ADMITSIM SOURCE_DIR WORK_DIR

1. Mistakes: one line "admitsim <command>: ..." and the hint, never the
   usage; a slip of a command or an option names the nearest one; -V and
   --version name the commit.
2. Scenarios: a shipped scenario's bare name from any directory, "-" for
   standard input.
3. The database: --db, else $ADMITSIM_DB, else results/admitsim.db; the
   run that creates it says so, later runs do not.
4. runs: --scenario, --policy, --since, --limit, --format json.
5. Absent runs and iterations: exit 1 with a message, nothing written, for
   export (csv, chrome-trace), show and plot; export --out - is standard
   output, run --out - the artifact on standard output.
6. The run table: a legend, the iteration it shows, mean +- stddev over
   iterations; the command line stored as an argv array that runs again.
7. bench finds its scenario from any directory, warms up, runs every
   policy, with and without the store as a process, has --format json and
   flags a capture cost within its noise; SIGINT or SIGTERM leaves no
   temporary file behind and ends it by that signal, and so does its
   output closed early (SIGPIPE, `bench | head`); a relative trace file
   of its scenario is found by the children too; a --scale past the
   records limit is refused before anything runs.
8. The live commands run in admitsim-live (cli/live_exec.c): admitsim does
   not load libcurl, yet `live --help` works; an admitsim without its
   admitsim-live says where it looked, exit 1."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

admitsim, src, work = sys.argv[1:4]
admitsim, src, work = (os.path.abspath(x) for x in (admitsim, src, work))
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("cli_conventions_test: FAIL:", what)


def run(*args, cwd=work, env=None, stdin=None, expect=None):
    e = dict(os.environ)
    e.pop("ADMITSIM_DB", None)
    e.update(env or {})
    p = subprocess.run([admitsim, *args], capture_output=True, text=True, cwd=cwd, env=e,
                       input=stdin)
    if expect is not None:
        check(p.returncode == expect,
              f"{' '.join(args)} exited {p.returncode}, not {expect}: {p.stderr[-400:]}")
    return p


def one_line_and_hint(p, cmd, *contains):
    lines = p.stderr.splitlines()
    hint = f"see 'admitsim {cmd} --help'" if cmd else "see 'admitsim help'"
    check(len(lines) == 2 and lines[1] == hint, f"two lines, message and hint: {p.stderr!r}")
    prefix = f"admitsim {cmd}: " if cmd else "admitsim: "
    check(lines and lines[0].startswith(prefix), f"prefixed {prefix!r}: {p.stderr!r}")
    for c in contains:
        check(c in p.stderr, f"{c!r} in {p.stderr!r}")
    check(p.stdout == "", f"nothing on stdout: {p.stdout[:200]!r}")


# 1. mistakes
one_line_and_hint(run("run", "heavy_root", "--polcy", "strict", expect=2), "run",
                  "unknown option '--polcy' (did you mean '--policy'?)")
one_line_and_hint(run("runn", expect=2), None, "unknown command 'runn' (did you mean 'run'?)")
one_line_and_hint(run("frobnicate", expect=2), None, "unknown command 'frobnicate'")
one_line_and_hint(run("bench", "--reqest", expect=2), "bench", "did you mean '--request'?")
one_line_and_hint(run("export", "1", "--iteratoin", "2", expect=2), "export",
                  "did you mean '--iteration'?")
one_line_and_hint(run("run", "heavy_root", "--policy", "lenient", expect=2), "run",
                  "--policy expects strict, bounded or provider_aware")
one_line_and_hint(run("show", expect=2), "show", "expected exactly one RUN id")
one_line_and_hint(run("sweep", "--jbos", "2", "x.json", expect=2), "sweep",
                  "unknown option '--jbos' (did you mean '--jobs'?)")
one_line_and_hint(run("sweep", expect=2), "sweep", "expected exactly one SWEEP file")
one_line_and_hint(run("sweep", "x.json", *["--sbatch-arg=--x"] * 33, expect=2), "sweep",
                  "--sbatch-arg is given at most 32 times")
one_line_and_hint(run("search", "s.json", "--account", "a" * 401, expect=2), "search",
                  "--account is at most 400 bytes, got 401")
one_line_and_hint(run("search", "--slo", "x<=1", "--vary", "policy.a=1:2", "--seds", "2", "s.json",
                      expect=2), "search", "did you mean '--seeds'?")
one_line_and_hint(run("search", "s.json", expect=2), "search", "--vary PARAM=LO:HI is required")
one_line_and_hint(run("merge", "only.db", expect=2), "merge",
                  "expected DEST and at least one SOURCE database")
one_line_and_hint(run("merge", "--experiement", "1", "a.db", "b.db", expect=2), "merge",
                  "did you mean '--experiment'?")
for flag in ("-V", "--version", "version"):
    p = run(flag, expect=0)
    check(p.stdout.startswith("admitsim ") and "(commit " in p.stdout,
          f"{flag} names the commit: {p.stdout!r}")
# the commit named is one of this repository's (the build's HEAD, which may
# be older than the checkout's when it was built before a commit)
named = run("-V").stdout.split("(commit ")[-1].rstrip(")\n").split("-dirty")[0].split("-g")[-1]
git = subprocess.run(["git", "-C", src, "cat-file", "-e", named + "^{commit}"],
                     capture_output=True, text=True)
if subprocess.run(["git", "-C", src, "rev-parse", "HEAD"], capture_output=True).returncode == 0:
    check(git.returncode == 0, f"-V names a commit of the repository: {named!r}")

# 2. scenarios by name from another directory, and from standard input
elsewhere = os.path.join(work, "elsewhere")
os.makedirs(elsewhere)
by_name = run("run", "heavy_root", "--no-db", "--format", "json", cwd=elsewhere, expect=0)
with open(os.path.join(src, "scenarios", "heavy_root.json")) as f:
    text = f.read()
by_stdin = run("run", "-", "--no-db", "--format", "json", cwd=elsewhere, stdin=text, expect=0)
by_path = run("run", os.path.join(src, "scenarios", "heavy_root.json"), "--no-db", "--format",
              "json", expect=0)
check(by_name.stdout == by_path.stdout and by_stdin.stdout == by_path.stdout,
      "a bare name, standard input and the path run the same scenario")
check(not os.path.exists(os.path.join(elsewhere, "results")), "--no-db created no database")
p = run("run", "heavy_rot", "--no-db", cwd=elsewhere, expect=1)
check("heavy_rot: no such file, nor a shipped scenario (did you mean 'heavy_root'?" in p.stderr,
      f"a slip of a scenario name: {p.stderr!r}")
p = run("ab", "heavy_rot", "--no-db", cwd=elsewhere, expect=1)
check("admitsim ab: heavy_rot: no such file, nor a shipped scenario (did you mean 'heavy_root'?"
      in p.stderr, f"ab names the nearest too: {p.stderr!r}")

# 3. the database: --db > ADMITSIM_DB > results/admitsim.db, creation said once
env_db = os.path.join(work, "env.db")
p = run("run", "heavy_root", env={"ADMITSIM_DB": env_db}, cwd=elsewhere, expect=0)
check(os.path.exists(env_db), "ADMITSIM_DB names the database run writes")
check(f"created the results database {env_db}" in p.stderr, f"creation said: {p.stderr!r}")
p = run("run", "heavy_root", "--policy", "strict", env={"ADMITSIM_DB": env_db}, cwd=elsewhere,
        expect=0)
check("created" not in p.stderr, f"a second run creates nothing: {p.stderr!r}")
flag_db = os.path.join(work, "flag.db")
run("run", "heavy_root", "--db", flag_db, env={"ADMITSIM_DB": env_db}, cwd=elsewhere, expect=0)
check(os.path.exists(flag_db), "--db wins over ADMITSIM_DB")
check(not os.path.exists(os.path.join(elsewhere, "results")), "no default database created")
p = run("run", "heavy_root", cwd=elsewhere, expect=0)
check(os.path.exists(os.path.join(elsewhere, "results", "admitsim.db")),
      "without both: results/admitsim.db")
check("created the results database results/admitsim.db" in p.stderr, p.stderr)

# 3b. values that can never be right are usage errors (exit 2), nothing run or
# written: a --db (or ADMITSIM_DB) SQLite would keep in memory or in a
# temporary file (the run said "stored" and was lost), an empty --out, a seed
# past INT64_MAX (the JSON and the store said it negative)
bad = os.path.join(work, "bad")
os.makedirs(bad)
for db in ("", ":memory:"):
    for args in (("run", "heavy_root"), ("ab", "heavy_root"), ("runs",), ("show", "1"),
                 ("export", "1"), ("experiments",), ("migrate",), ("plot", "1"),
                 ("check", "run:1"), ("suite", "heavy_root")):
        cmd = args[0]
        one_line_and_hint(run(*args, "--db", db, cwd=bad, expect=2), cmd,
                          f"--db '{db}' names no database file")
    one_line_and_hint(run("check", "run:1", "--baseline-db", db, cwd=bad, expect=2), "check",
                      f"--baseline-db '{db}' names no database file")
    for cmd in ("sweep", "search"):
        one_line_and_hint(run(cmd, "x.json", "--db", db, cwd=bad, expect=2), cmd,
                          f"--db '{db}' names no database file")
    one_line_and_hint(run("merge", db, "x.db", cwd=bad, expect=2), "merge",
                      f"DEST '{db}' names no database file")
for cmd in ("run", "runs", "show"):
    args = (cmd, "heavy_root") if cmd == "run" else (cmd, "1") if cmd == "show" else (cmd,)
    one_line_and_hint(run(*args, env={"ADMITSIM_DB": ":memory:"}, cwd=bad, expect=2), cmd,
                      "ADMITSIM_DB ':memory:' names no database file")
for args in (("run", "heavy_root"), ("ab", "heavy_root"), ("suite", "heavy_root"),
             ("sweep", "x.json"), ("search", "x.json"), ("export", "1"), ("plot", "1")):
    one_line_and_hint(run(*args, "--out", "", cwd=bad, expect=2), args[0],
                      "--out expects a path, got ''")
for seed in ("9223372036854775808", "18446744073709551615", "99999999999999999999999"):
    for args in (("run", "heavy_root"), ("bench",), ("plot", "experiment:1"),
                 ("mock-provider", "x.json")):
        one_line_and_hint(run(*args, "--seed", seed, cwd=bad, expect=2), args[0],
                          f"--seed expects an integer from 0 to 9223372036854775807, got '{seed}'")
# standard input is a scenario for run only: ab and suite read the file per run
for args in (("ab", "-"), ("suite", "heavy_root", "-")):
    one_line_and_hint(run(*args, cwd=bad, expect=2), args[0],
                      "SCENARIO '-' (standard input) is for run only")
check(os.listdir(bad) == [], f"nothing written by the refused commands: {os.listdir(bad)}")
# ... but the environment's value is used only without --db and --no-db:
# either one makes a bad ADMITSIM_DB irrelevant, so the command runs
mem = {"ADMITSIM_DB": ":memory:"}
given = os.path.join(work, "given.db")
run("run", "heavy_root", "--db", given, env=mem, expect=0)
run("run", "heavy_root", "--no-db", env=mem, expect=0)
listed = json.loads(run("runs", "--db", given, "--format", "json", env=mem, expect=0).stdout)
check(len(listed) == 1, f"the run stored in --db despite ADMITSIM_DB=:memory:: {listed}")
run("show", "1", "--db", given, env=mem, expect=0)
top = json.loads(run("run", "heavy_root", "--no-db", "--seed", "9223372036854775807", "--format",
                     "json", expect=0).stdout)
check(top["seed"] == 9223372036854775807, f"the largest seed as it is: {top['seed']}")
one_line_and_hint(run("run", "heavy_root", "--iterations", "5000", cwd=bad, expect=2), "run",
                  "--iterations expects an integer from 1 to 4096, got '5000'")
one_line_and_hint(run("ab", "heavy_root", "--seeds", "0", cwd=bad, expect=2), "ab",
                  "--seeds expects an integer from 1 to 10000, got '0'")

# 4. runs and its filters (env.db: run 1 bounded, run 2 strict)
runs = json.loads(run("runs", "--format", "json", env={"ADMITSIM_DB": env_db}, expect=0).stdout)
check([r["run_id"] for r in runs] == [1, 2], f"both runs: {runs}")
check(set(runs[0]) == {"run_id", "created_at", "scenario_id", "policy", "seed", "iterations",
                       "iterations_stored", "status", "mean_wall_time_seconds", "experiment_id",
                       "arm"}, f"the documented keys: {sorted(runs[0])}")
strict = json.loads(run("runs", "--db", env_db, "--policy", "strict", "--format", "json").stdout)
check([r["run_id"] for r in strict] == [2], f"--policy strict: {strict}")
last = json.loads(run("runs", "--db", env_db, "--limit", "1", "--format", "json").stdout)
check([r["run_id"] for r in last] == [2], f"--limit 1 is the most recent: {last}")
none = json.loads(run("runs", "--db", env_db, "--scenario", "heavy", "--format", "json").stdout)
check(none == [], f"--scenario matches the whole id: {none}")
later = json.loads(run("runs", "--db", env_db, "--since", "2999", "--format", "json").stdout)
check(later == [], f"--since 2999: {later}")
since = json.loads(run("runs", "--db", env_db, "--since", runs[1]["created_at"], "--format",
                       "json").stdout)
check(2 in [r["run_id"] for r in since], f"--since its own time keeps run 2: {since}")
table = run("runs", "--db", env_db, "--policy", "bounded", expect=0).stdout.splitlines()
check(len(table) == 2 and table[1].split()[0] == "1", f"the table filtered: {table}")
one_line_and_hint(run("runs", "--since", "yesterday", expect=2), "runs", "--since expects")

# 5. absent runs and iterations, --out -
out = os.path.join(work, "x.csv")
for fmt in ("csv", "chrome-trace"):
    p = run("export", "1", "--db", env_db, "--format", fmt, "--iteration", "9", "--out", out,
            expect=1)
    check("run 1 has no iteration 9" in p.stderr, f"export {fmt}: {p.stderr!r}")
    check(p.stdout == "" and not os.path.exists(out) and not os.path.exists(out + ".tmp"),
          f"export {fmt} of an absent iteration wrote nothing")
p = run("export", "7", "--db", env_db, expect=1)
check("no run 7" in p.stderr, p.stderr)
p = run("show", "7", "--db", env_db, expect=1)
check("no run 7" in p.stderr, p.stderr)
if shutil.which("gnuplot"):
    p = run("plot", "1", "--db", env_db, "--iteration", "9", "--out",
            os.path.join(work, "pics"), expect=1)
    check("iteration 9" in p.stderr, p.stderr)
p = run("export", "1", "--db", env_db, "--format", "csv", "--out", "-", expect=0)
check(p.stdout.startswith("stream,sequence,kind"), "export --out - writes standard output")
check(not os.path.exists(os.path.join(work, "-")), "export --out - creates no file named -")
p = run("run", "heavy_root", "--no-db", "--out", "-", expect=0)
art = json.loads(p.stdout)
check(art["scenario_id"] == "heavy_root" and len(art["iterations"]) == 1,
      "run --out - prints the artifact")
check(not os.path.exists(os.path.join(work, "-")), "run --out - creates no directory named -")

# 6. the run table: legend, which iteration, the spread over iterations;
# the command line stored as its argv, which runs again as it is
p = run("run", "cross_provider_cooldown", "--no-db", "--iterations", "3", expect=0)
check("iteration 0 of 3" in p.stdout and "over all 3 iterations (mean +- sample stddev)"
      in p.stdout, f"the table says which iteration and the spread: {p.stdout[:300]!r}")
header = next((l.split() for l in p.stdout.splitlines() if l.startswith("request resource")), [])
check("legend:" in p.stdout and "rate_limited" in header and "429s" not in header
      and "util_oc" not in header, f"readable headers and a legend: {header}")
odd_db = os.path.join(work, "it's a db.db")
run("run", "heavy_root", "--seed", "2", "--db", odd_db, cwd=elsewhere, expect=0)
doc = json.loads(run("export", "1", "--db", odd_db, expect=0).stdout)
argv = doc["run"]["command_line"]
check(argv == ["admitsim", "run", "heavy_root", "--seed", "2", "--db", odd_db],
      f"the stored argv: {argv}")
run(*argv[1:], cwd=elsewhere, expect=0)  # the stored argv runs again: run 2, the same figures
again = json.loads(run("export", "2", "--db", odd_db, expect=0).stdout)
check(again["iterations"][0]["output_hash"] == doc["iterations"][0]["output_hash"],
      "the re-run stored argv reproduces the run")
shown = run("show", "1", "--db", odd_db, expect=0).stdout
check("argv (JSON)" in shown and "'" in shown, f"show quotes the line for a shell: {shown[:600]}")

# 7. bench from another directory: every policy, warm-ups, JSON, noise flagged
p = run("bench", "--scale", "1", "--repeat", "2", "--warmup", "1", "--format", "json",
        cwd=elsewhere, expect=0)
doc = json.loads(p.stdout)
check(doc["warmup"] == 1 and doc["repeat"] == 2 and doc["scenario_id"] == "heavy_root_peer_arrival",
      f"bench's document: {sorted(doc)}")
policies = ["strict", "bounded", "provider_aware"]
check([r["policy"] for r in doc["simulated"]] == [p for p in policies for _ in (0, 1)],
      f"each policy captured and counted: {[r['policy'] for r in doc['simulated']]}")
check([(r["policy"], r["process"]) for r in doc["process"]]
      == [(p, k) for p in policies for k in ("run", "store")],
      f"each policy as a process, without and with the store: {doc['process']}")
for r in doc["process"]:
    check(("over_no_db" in r) == (r["process"] == "store"), f"over_no_db on store rows: {r}")
    if r["process"] == "store":
        run_row = next(x for x in doc["process"] if x["policy"] == r["policy"])
        check(abs(r["over_no_db"] - r["median_seconds"] / run_row["median_seconds"]) < 1e-9,
              f"over_no_db is the store's median over the run's: {r}, {run_row}")
for r in doc["simulated"]:
    check(r["best_seconds"] <= r["median_seconds"] and r["spread"] >= 0, f"median, spread: {r}")
    if r["events"] == "counted":
        cost, noise = r["capture_ns_per_event"], r["noise_ns_per_event"]
        check(r["within_noise"] == (doc["repeat"] < 2 or cost < 0 or cost <= noise),
              f"within_noise says so: {r}")
p = run("bench", "--scale", "1", "--repeat", "1", "--warmup", "0", cwd=elsewhere, expect=0)
check("provider_aware" in p.stdout and "after 0 warm-ups" in p.stdout, p.stdout[:300])
one_line_and_hint(run("bench", "--request", "--format", "json", expect=2), "bench",
                  "--warmup and --format go with the scale mode or --cycle")
for mode in ("--request", "--cycle"):  # no scenario to scale or seed: not ignored quietly
    for opt in (("--scale", "5"), ("--seed", "3")):
        one_line_and_hint(run("bench", mode, *opt, expect=2), "bench",
                          "--scale and --seed go with the scale mode or --store")
# one run each: no spread, so no noise estimate: every policy's capture cost
# is flagged as no measurement (a spread of 0 made any positive cost count)
warned = [line for line in p.stdout.splitlines() if line.startswith("warning:")]
check(len(warned) == 3 and all("one run's, with no noise estimate" in line
                               and "no measurement" in line for line in warned),
      f"--repeat 1: each capture cost flagged: {warned}")

# bench --store in both store modes: every event stored, or the notable ones
for mode in ("all", "notable"):
    p = run("bench", "--store", "--scale", "1", "--repeat", "1", "--store-events", mode,
            cwd=elsewhere, expect=0)
    m = re.search(r"(\d+) events per iteration .*, (\d+) of them stored \(--store-events "
                  + mode + r"\)", p.stdout)
    check(m is not None and int(m.group(2)) > 0 and
          (int(m.group(2)) == int(m.group(1))) == (mode == "all"),
          f"bench --store --store-events {mode}: {p.stdout[:300]}")
one_line_and_hint(run("bench", "--store-events", "all", expect=2), "bench",
                  "--store-events goes with --store")

# bench on a scenario whose trace file is relative to it, from elsewhere:
# the scaled copy in $TMPDIR still finds the trace (the children too)
traced = os.path.join(work, "traced")
os.makedirs(os.path.join(traced, "traces"))
with open(os.path.join(traced, "traces", "draft.csv"), "w") as f:
    f.write("seconds\n0.05\n0.10\n0.20\n0.15\n")
sc = json.load(open(os.path.join(src, "scenarios", "narrow_serial.json")))
sc["scenario_id"] = "narrow_traced"
sc["columns"][1]["duration"] = {"dist": "empirical", "file": "traces/draft.csv"}
with open(os.path.join(traced, "traced.json"), "w") as f:
    json.dump(sc, f)
p = run("bench", os.path.join("..", "traced", "traced.json"), "--scale", "1", "--repeat", "1",
        "--warmup", "0", "--format", "json", cwd=elsewhere, expect=0)
check(p.returncode == 0 and len(json.loads(p.stdout)["process"]) == 6,
      f"bench of a scenario with a relative trace: {p.stdout[:300]} {p.stderr[-400:]}")

# bench --scale past the records limit: refused before anything runs, as
# past the tasks and the planned work limits (scenarios/README.md "Limits")
one_col = {"schema": 1, "scenario_id": "one_full_column", "scenario_version": 1,
           "records": 100000, "capacity": {"submission": 2, "llm_wait": 2},
           "columns": [{"name": "all", "strategy": "full_column",
                        "duration": {"dist": "constant", "seconds": 0.01}}]}
with open(os.path.join(work, "one_full_column.json"), "w") as f:
    json.dump(one_col, f)
for mode in ((), ("--store",)):
    p = run("bench", os.path.join(work, "one_full_column.json"), *mode, "--scale", "1001",
            "--repeat", "1", expect=2)
    check("100100000 records" in p.stderr and "100000000" in p.stderr and p.stdout == "",
          f"bench {' '.join(mode)} --scale past the records limit: {p.stdout[:200]!r} {p.stderr!r}")


def bench_interrupted(sig, *args):
    """bench stopped by sig while its temporary files exist: it removes
    them and ends by that signal, saying so."""
    tmp = os.path.join(work, f"bench-tmp-{sig}")
    os.makedirs(tmp)
    e = dict(os.environ, TMPDIR=tmp)
    e.pop("ADMITSIM_DB", None)
    # a suite started in the background (&, nohup) has SIGINT ignored, which
    # bench keeps: the child gets the default action
    b = subprocess.Popen([admitsim, "bench", *args], cwd=elsewhere, env=e,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(sig, signal.SIG_DFL))
    for _ in range(2000):  # its directory (and the scaled scenario) appear
        if os.listdir(tmp) or b.poll() is not None:
            break
        time.sleep(0.01)
    time.sleep(0.2)
    b.send_signal(sig)
    try:
        _, err = b.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        b.kill()
        _, err = b.communicate()
    check(b.returncode == -sig, f"bench {' '.join(args)} ended by signal {sig}: {b.returncode}")
    check("interrupted" in err and "removed" in err, f"bench says it was interrupted: {err!r}")
    check(os.listdir(tmp) == [], f"bench left {os.listdir(tmp)} in its TMPDIR")


bench_interrupted(signal.SIGINT, "--scale", "20", "--repeat", "1000")
bench_interrupted(signal.SIGTERM, "--store", "--scale", "10", "--repeat", "1000")


def bench_output_closed():
    """`admitsim bench | head -1`: the reader goes after the first line;
    bench's next write raises SIGPIPE, which ends it as it would have, but
    only once its temporary files are removed, and without a word."""
    tmp = os.path.join(work, "bench-tmp-pipe")
    os.makedirs(tmp)
    e = dict(os.environ, TMPDIR=tmp)
    e.pop("ADMITSIM_DB", None)
    b = subprocess.Popen([admitsim, "bench", "--scale", "1", "--repeat", "30", "--warmup", "0"],
                         cwd=elsewhere, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    first = b.stdout.readline()  # its first line, flushed with strict's rows
    b.stdout.close()
    try:
        err = b.stderr.read()
        b.wait(timeout=120)
    except subprocess.TimeoutExpired:
        b.kill()
        b.wait()
    check(first.startswith("bench heavy_root_peer_arrival"), f"bench's first line: {first!r}")
    check(b.returncode == -signal.SIGPIPE, f"bench | head ended by SIGPIPE: {b.returncode}")
    check("interrupted" not in err, f"SIGPIPE is not reported: {err!r}")
    check(os.listdir(tmp) == [], f"bench | head left {os.listdir(tmp)} in its TMPDIR")


bench_output_closed()

# 8. the live commands' executable
ldd = subprocess.run(["ldd", admitsim], capture_output=True, text=True)
check(ldd.returncode == 0 and "libcurl" not in ldd.stdout and "libmicrohttpd" not in ldd.stdout,
      f"admitsim loads no libcurl nor libmicrohttpd: {ldd.stdout}")
for cmd in ("live", "mock-provider", "fidelity"):
    p = run(cmd, "--help", expect=0)
    check(p.stdout.startswith(f"usage: admitsim {cmd} "), f"{cmd} --help: {p.stdout[:200]!r}")
alone = os.path.join(work, "alone")
os.makedirs(alone)
shutil.copy(admitsim, alone)
p = subprocess.run([os.path.join(alone, os.path.basename(admitsim)), "live", "heavy_root"],
                   capture_output=True, text=True)
check(p.returncode == 1 and "the live runtime (admitsim-live) is not installed" in p.stderr
      and os.path.join(alone, "admitsim-live") in p.stderr,
      f"without admitsim-live: exit {p.returncode}, {p.stderr!r}")

if failures:
    sys.exit(f"cli_conventions_test: {len(failures)} failure(s)")
print("cli_conventions_test: ok")
