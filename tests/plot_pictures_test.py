#!/usr/bin/env python3
"""What `admitsim plot` draws answers the scenario's question (README
"Pictures, exports and the artifact schema").
usage: plot_pictures_test.py ADMITSIM SOURCE_DIR WORK_DIR

1. timeline.dat: one state per virtual instant (each change as the old and
   the new values at its time), the task leases held by each group adding
   up to the leases in flight, and the task resource limits of the run's
   capacity plan in params.gp (the task slots first).
2. One request picture per request resource, named by its key; its data one
   row per instant (a release and the admission it lets in are no dip).
3. A run without model calls: no request picture and no request-wait panel
   (cdf_wait_groups empty), the rest drawn.
4. Plotting into a directory that holds an earlier plot: afterwards it
   holds exactly this plot's files (the earlier plot's request pictures and
   data gone, an experiment's arm directories emptied of its files), files
   admitsim plot did not write stay, a symbolic link is never followed, a
   name it writes held by a fifo or a link is refused, and a plot that
   fails (gnuplot failing, SIGTERM) leaves the directory as it was."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

admitsim, src, work = (os.path.abspath(x) for x in sys.argv[1:4])
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("plot_pictures_test: FAIL:", what)


if not shutil.which("gnuplot"):
    sys.exit("plot_pictures_test: gnuplot is not installed (scripts/setup.sh installs it)")
db = os.path.join(work, "p.db")
for scenario in ("cross_provider_cooldown", "heavy_root_peer_arrival"):
    p = subprocess.run([admitsim, "run", scenario, "--db", db], capture_output=True, text=True)
    check(p.returncode == 0, f"run {scenario}: {p.stderr}")
for run in ("1", "2"):
    p = subprocess.run([admitsim, "plot", run, "--db", db, "--out", os.path.join(work, run)],
                       capture_output=True, text=True)
    check(p.returncode == 0, f"plot {run}: {p.stderr}")


def params(run):
    text = open(os.path.join(work, run, "params.gp")).read()
    return dict(re.findall(r"^(\w+) = '(.*)'$", text, re.M))


# 1. the timeline of cross_provider_cooldown: two groups, 12 task slots
par = params("1")
groups = par["timeline_groups"].split()
check(groups == ["answer_a", "answer_b"], f"groups: {groups}")
check(par["timeline_capacity_values"].split()[:1] == ["12"] and
      par["timeline_capacity_names"].startswith('"task slots" '),
      f"the task slots first: {par['timeline_capacity_names']} = {par['timeline_capacity_values']}")
check("8" in par["timeline_capacity_values"].split(), "the request resources' limit of 8")
rows = [list(map(float, l.split())) for l in open(os.path.join(work, "1", "timeline.dat"))
        if not l.startswith("#")]
n = len(groups)
check(all(len(r) == 3 + 2 * n for r in rows), "every row has queued and held per group")
check(all(sum(r[3 + n:]) == r[1] for r in rows), "the groups' leases add up to the leases held")
times = [r[0] for r in rows]
check(all(a <= b for a, b in zip(times, times[1:])), "time never goes back")
for t in set(times):
    check(times.count(t) <= 2, f"at most two rows (old, new) at {t}")
    if times.count(t) > 2:
        break
check(max(r[1] for r in rows) <= 12, "never more leases than task slots")
# During provider A's cooldown (10 s to 40 s) answer_b holds the slots A does not.
mid = [r for r in rows if 20 <= r[0] <= 30]
check(mid and all(r[3 + n + 1] >= 8 for r in mid), "answer_b holds 8 slots during A's cooldown")

# 2. request pictures by resource key, one row per instant
pics = par["request_pictures"].split()
check(pics == ["request-provider-a_gen-a-large_chat", "request-provider-b_gen-b-large_chat"],
      f"request pictures named by key: {pics}")
for i, pic in enumerate(pics):
    check(os.path.exists(os.path.join(work, "1", pic + ".png")), f"{pic}.png drawn")
    t = [float(l.split()[0]) for l in open(os.path.join(work, "1", f"request-{i}.dat"))
         if not l.startswith("#")]
    check(all(a < b for a, b in zip(t, t[1:])), f"request-{i}.dat: one row per instant")
check(not os.path.exists(os.path.join(work, "1", "request-0.png")), "no request-0.png")

# 3. heavy_root_peer_arrival: no model calls
par = params("2")
check(par.get("cdf_wait_groups", "") == "", "no request-wait groups without model calls")
check(par.get("request_resources", "") == "", "no request resources")
check(not any(f.startswith("request-") and f.endswith(".png") for f in os.listdir(
    os.path.join(work, "2"))), "no request picture")
for pic in ("timeline", "cdf", "layers"):
    check(os.path.getsize(os.path.join(work, "2", pic + ".png")) > 10000, f"{pic}.png drawn")
for run in ("1", "2"):
    log = open(os.path.join(work, run, "gnuplot.log")).read()
    check(log == "", f"gnuplot said nothing for run {run}: {log[:300]}")

# 4. a directory plotted into again
def plot(run, out, env=None, timeout=120):
    try:
        return subprocess.run([admitsim, "plot", run, "--db", db, "--out", out],
                              capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess([], -999, "", "timed out")


def snapshot(d):
    """Every entry below d: its kind and, for a file, its contents."""
    got = {}
    for top, dirs, files in os.walk(d):
        for name in dirs + files:
            path = os.path.join(top, name)
            rel = os.path.relpath(path, d)
            if os.path.islink(path):
                got[rel] = ("link", os.readlink(path))
            elif os.path.isfile(path):
                got[rel] = ("file", open(path, "rb").read())
            else:
                got[rel] = ("other", None)
    return got


def plot_files(d):
    return sorted(f for f in os.listdir(d) if not f.startswith("."))


reuse = os.path.join(work, "reuse")
p = plot("1", reuse)
check(p.returncode == 0, f"plot 1 into reuse: {p.stderr}")
alone = os.path.join(work, "alone")
p = plot("2", alone)
check(p.returncode == 0, f"plot 2 alone: {p.stderr}")
open(os.path.join(reuse, "notes.txt"), "w").write("mine")
victim = os.path.join(work, "victim.txt")
open(victim, "w").write("outside")
os.unlink(os.path.join(reuse, "request-0.dat"))  # listed by plot 1, not written by plot 2
os.symlink(victim, os.path.join(reuse, "request-0.dat"))
p = plot("2", reuse)
check(p.returncode == 0, f"plot 2 into reuse: {p.stderr}")
left = plot_files(reuse)
check(not [f for f in left if f.startswith("request-") and f != "request-0.dat"],
      f"no earlier request picture or data left: {left}")
check(sorted(set(left) - {"notes.txt", "request-0.dat"}) == plot_files(alone),
      f"exactly plot 2's files: {left} vs {plot_files(alone)}")
check(open(os.path.join(reuse, "notes.txt")).read() == "mine", "a file of the user's stays")
check(os.path.islink(os.path.join(reuse, "request-0.dat")) and
      open(victim).read() == "outside", "a link at a listed name is left, its target too")
check(not [f for f in os.listdir(reuse) if f.startswith(".plot-")], "no stage left")

# a name the plot writes held by a link or a fifo: refused, nothing changed
os.unlink(os.path.join(reuse, "request-0.dat"))
os.unlink(os.path.join(reuse, "timeline.dat"))
os.symlink(victim, os.path.join(reuse, "timeline.dat"))
before = snapshot(reuse)
p = plot("1", reuse)
check(p.returncode == 1 and "timeline.dat is a symbolic link" in p.stderr,
      f"a link is refused: {p.stderr}")
check(open(victim).read() == "outside", "the link's target is not written")
check(snapshot(reuse) == before, "a refused plot changes nothing")
os.unlink(os.path.join(reuse, "timeline.dat"))
os.rename(os.path.join(reuse, "timeline.png"), os.path.join(reuse, "timeline.keep"))
os.mkfifo(os.path.join(reuse, "timeline.png"))
p = plot("1", reuse, timeout=60)
check(p.returncode == 1 and "timeline.png is a fifo" in p.stderr, f"a fifo is refused: {p.stderr}")
os.rename(os.path.join(reuse, "timeline.keep"), os.path.join(reuse, "timeline.png"))

# a list naming files outside the directory, itself, its stage: nothing outside goes
list_path = os.path.join(reuse, ".admitsim-plot")
open(list_path, "a").write("f ../victim.txt\nf " + victim + "\nf .\nf ..\nd ..\n"
                           "f .admitsim-plot\nf " + "x" * 5000 + "\nf notes.txt" + "y" * 300 +
                           "\n\0f notes.txt\n")
p = plot("2", reuse)
check(p.returncode == 0, f"plot 2 with a list of garbage: {p.stderr}")
check(open(victim).read() == "outside" and os.path.exists(os.path.join(reuse, "notes.txt")),
      "garbage in the list removes nothing")

# a NUL byte in a line of the list: that line ignored, not the next one
nul = os.path.join(work, "nul")
p = plot("1", nul)
check(p.returncode == 0, f"plot 1 into nul: {p.stderr}")
nul_list = os.path.join(nul, ".admitsim-plot")
text = open(nul_list, "rb").read()
check(b"f request-0.dat\n" in text, "plot 1 lists request-0.dat")
open(nul_list, "wb").write(text.replace(b"f request-0.dat\n", b"f bogus\0\nf request-0.dat\n"))
p = plot("2", nul)
check(p.returncode == 0 and not os.path.exists(os.path.join(nul, "request-0.dat")),
      f"the line after a NUL is read: {p.stderr} {plot_files(nul)}")

# a list cut short (its last line without '\n'): that line is not plot's
# ("f notes" cut from "f notes.dat"), so the user's file of that name stays
with open(os.path.join(nul, "notes"), "w") as f:
    f.write("mine\n")
with open(nul_list, "ab") as f:
    f.write(b"f notes")
p = plot("2", nul)
check(p.returncode == 0 and os.path.exists(os.path.join(nul, "notes")),
      f"a cut last line names nothing to remove: {p.stderr} {plot_files(nul)}")

# a list larger than 2 MiB (a sparse 4 GiB file): not plot's, so refused
# at once before anything changes (never moved aside nor removed), said
def stats(d):
    """Every entry below d: its mode, size, inode and time (files not read)."""
    got = {}
    for top, dirs, files in os.walk(d):
        for name in dirs + files:
            st = os.lstat(os.path.join(top, name))
            got[os.path.relpath(os.path.join(top, name), d)] = (
                st.st_mode, st.st_size, st.st_ino, st.st_mtime_ns)
    return got


os.truncate(nul_list, 4 << 30)
before = stats(nul)
start = time.time()
p = plot("2", nul)
took = time.time() - start
check(p.returncode == 1 and "/.admitsim-plot is larger than 2 MiB, not admitsim plot's list: "
      "admitsim plot does not replace it; move it away" in p.stderr,
      f"a huge list is refused: {p.returncode} {p.stderr}")
check(took < 10, f"a huge list is not read: {took:.1f} s")
check(stats(nul) == before and os.path.getsize(nul_list) == 4 << 30,
      "a huge list stays, and the directory is as it was")
os.unlink(nul_list)

# a failing plot: gnuplot exits 1, or SIGTERM while it draws
fake = os.path.join(work, "fakebin")
os.makedirs(fake)
open(os.path.join(fake, "gnuplot"), "w").write("#!/bin/sh\necho 'boom: bad font' >&2\nexit 1\n")
os.chmod(os.path.join(fake, "gnuplot"), 0o755)
before = snapshot(reuse)
p = plot("1", reuse, env=dict(os.environ, PATH=fake))
check(p.returncode == 1 and "boom: bad font" in p.stderr, f"gnuplot's failure said: {p.stderr}")
check(snapshot(reuse) == before, "a failed plot leaves the earlier files as they were")
slow = os.path.join(work, "slowbin")
os.makedirs(slow)
open(os.path.join(slow, "gnuplot"), "w").write(
    "#!/bin/sh\nsleep 3\nexec " + shutil.which("gnuplot") + ' "$@"\n')
os.chmod(os.path.join(slow, "gnuplot"), 0o755)
q = subprocess.Popen([admitsim, "plot", "1", "--db", db, "--out", reuse],
                     env=dict(os.environ, PATH=slow + os.pathsep + os.environ["PATH"]),
                     stderr=subprocess.PIPE, text=True)
time.sleep(1.5)
q.send_signal(signal.SIGTERM)
_, err = q.communicate(timeout=60)
check(q.returncode == -signal.SIGTERM, f"SIGTERM ends the plot by it: {q.returncode} {err}")
check(snapshot(reuse) == before, "an interrupted plot leaves the earlier files as they were")

# a directory that got into the stage (as one made at a picture's name while
# publishing would be): left with its files, and the stage kept, never removed
sneaky = os.path.join(work, "sneakybin")
os.makedirs(sneaky)
open(os.path.join(sneaky, "gnuplot"), "w").write(
    '#!/bin/sh\nd=$(dirname "$3")\nmkdir "$d/keepme" && echo mine > "$d/keepme/f"\n'
    '[ -z "$SNEAKY_KILL" ] || kill -TERM $PPID\nexec ' +
    shutil.which("gnuplot") + ' "$@"\n')
os.chmod(os.path.join(sneaky, "gnuplot"), 0o755)
p = plot("1", reuse, env=dict(os.environ, PATH=sneaky + os.pathsep + os.environ["PATH"]))
kept = [f for f in os.listdir(reuse) if f.startswith(".plot-")]
check(p.returncode == 1 and "keepme is a directory admitsim plot did not make" in p.stderr,
      f"a directory plot did not make is left, said: {p.stderr}")
check(len(kept) == 1 and open(os.path.join(reuse, kept[0], "keepme", "f")).read() == "mine\n",
      f"its files stay, in the stage kept: {kept}")
for k in kept:
    shutil.rmtree(os.path.join(reuse, k))
check(snapshot(reuse) == before, "the directory is as it was")
p = plot("1", reuse, env=dict(os.environ, SNEAKY_KILL="1",
                              PATH=sneaky + os.pathsep + os.environ["PATH"]))
check(p.returncode == -signal.SIGTERM and "interrupted (SIGTERM); some of its files are kept"
      in p.stderr, f"a stopped plot keeping files says so: {p.returncode} {p.stderr}")
for k in [f for f in os.listdir(reuse) if f.startswith(".plot-")]:
    shutil.rmtree(os.path.join(reuse, k))
check(snapshot(reuse) == before, "the directory is as it was")

# SIGTERM while waiting for another plot's lock on the directory: ends the wait
if shutil.which("flock"):
    holder = subprocess.Popen(["flock", reuse, "sleep", "60"], start_new_session=True)
    time.sleep(0.3)
    q = subprocess.Popen([admitsim, "plot", "1", "--db", db, "--out", reuse],
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline and not [f for f in os.listdir(reuse) if f.startswith(".plot-")]:
        time.sleep(0.05)
    time.sleep(3)  # drawn by now, waiting for the lock
    q.send_signal(signal.SIGTERM)
    try:
        _, err = q.communicate(timeout=2)
    except subprocess.TimeoutExpired:
        q.kill()
        _, err = q.communicate()
        err = "still waiting 2 s after SIGTERM " + err
    os.killpg(holder.pid, signal.SIGKILL)  # flock and its sleep, which holds the lock
    holder.wait()
    check(q.returncode == -signal.SIGTERM, f"SIGTERM ends the wait for the lock: {err}")
    check(snapshot(reuse) == before, "a plot stopped waiting for the lock changes nothing")

# another plot's lock held for 3 s: the wait is said, then the plot goes on
if shutil.which("flock"):
    holder = subprocess.Popen(["flock", reuse, "sleep", "3"], start_new_session=True)
    time.sleep(0.3)
    p = plot("1", reuse)
    holder.wait()
    check(p.returncode == 0 and p.stderr.count("note: waiting for another admitsim plot in ") == 1,
          f"a wait for the lock is said once, then the plot is made: {p.returncode} {p.stderr}")

# an experiment's plot, then a run's: the arms' directories lose their files
p = subprocess.run([admitsim, "suite", os.path.join(src, "scenarios", "hidden_waiter_proof.json"),
                    "--seeds", "2", "--no-plots", "--out", os.path.join(work, "suite")],
                   capture_output=True, text=True)
check(p.returncode == 0, f"suite: {p.stderr[-300:]}")
xp = os.path.join(work, "xp")
p = subprocess.run([admitsim, "plot", "experiment:1", "--db", os.path.join(work, "suite",
                    "suite.db"), "--seed", "2", "--out", xp], capture_output=True, text=True)
check(p.returncode == 0 and os.path.exists(os.path.join(xp, "candidate", "timeline.dat")),
      f"plot experiment:1: {p.stderr}")
# a step failing midway (an immutable earlier file, where chattr can make
# one: root on ext4 and the like): the steps before it are undone
stuck = os.path.join(xp, "candidate", "timeline.dat")
if shutil.which("chattr") and subprocess.run(["chattr", "+i", stuck],
                                              capture_output=True).returncode == 0:
    try:
        def ids():
            st = {k: os.lstat(os.path.join(xp, k))
                  for k in ("baseline/timeline.dat", "deltas.png", "plot.gp")}
            return {k: (v.st_ino, v.st_mtime_ns) for k, v in st.items()}
        inodes = ids()
        p = subprocess.run([admitsim, "plot", "experiment:1", "--db", os.path.join(
            work, "suite", "suite.db"), "--seed", "2", "--out", xp], capture_output=True, text=True)
        check(p.returncode == 1 and "nothing in" in p.stderr, f"a failed step said: {p.stderr}")
        check(ids() == inodes, "the files moved before the failed step are put back")
        check(not [f for f in os.listdir(xp) if f.startswith(".plot-")], "no stage left")
    finally:
        subprocess.run(["chattr", "-i", stuck])
# a link or a file where an arm's directory goes: refused, said plainly
xpdb = os.path.join(work, "suite", "suite.db")
os.rename(os.path.join(xp, "baseline"), os.path.join(xp, "baseline.keep"))
for make, kind in ((lambda: os.symlink("baseline.keep", os.path.join(xp, "baseline")),
                    "a symbolic link"),
                   (lambda: open(os.path.join(xp, "baseline"), "w").write("x"), "a regular file")):
    make()
    p = subprocess.run([admitsim, "plot", "experiment:1", "--db", xpdb, "--seed", "2", "--out", xp],
                       capture_output=True, text=True)
    check(p.returncode == 1 and f"/baseline is {kind}, not a directory: admitsim" in p.stderr,
          f"{kind} at baseline refused: {p.stderr}")
    os.unlink(os.path.join(xp, "baseline"))
os.rename(os.path.join(xp, "baseline.keep"), os.path.join(xp, "baseline"))
# a hand-edited list: many "d" lines and repeated ones never block a plot
open(os.path.join(xp, ".admitsim-plot"), "a").write(
    "".join(f"d sub{i}\n" for i in range(20)) + "d baseline\nd candidate\nf deltas.png\n")
for i in range(20):
    os.mkdir(os.path.join(xp, f"sub{i}"))
open(os.path.join(xp, "baseline", "mine.txt"), "w").write("mine")
p = plot("2", xp)
check(p.returncode == 0, f"plot 2 over an experiment's plot: {p.stderr}")
for i in range(20):
    os.rmdir(os.path.join(xp, f"sub{i}"))
check(plot_files(xp) == ["baseline"] + plot_files(alone),
      f"exactly plot 2's files: {plot_files(xp)}")
check(os.listdir(os.path.join(xp, "baseline")) == ["mine.txt"],
      f"only the user's file in baseline: {os.listdir(os.path.join(xp, 'baseline'))}")

# an earlier experiment's arm whose list is not plot's (larger than 2 MiB,
# a directory): a run's plot over it leaves that arm as it is, said
xp2 = os.path.join(work, "xp2")
p = subprocess.run([admitsim, "plot", "experiment:1", "--db", xpdb, "--seed", "2", "--out", xp2],
                   capture_output=True, text=True)
check(p.returncode == 0, f"plot experiment:1 into xp2: {p.stderr}")
os.truncate(os.path.join(xp2, "candidate", ".admitsim-plot"), 4 << 30)
cand = stats(os.path.join(xp2, "candidate"))
p = plot("2", xp2)
check(p.returncode == 0 and "/candidate/.admitsim-plot is larger than 2 MiB, not admitsim plot's "
      "list; " in p.stderr and "/candidate, of an earlier plot, is left as it is" in p.stderr,
      f"a huge list in an earlier arm is left, said: {p.returncode} {p.stderr}")
check(stats(os.path.join(xp2, "candidate")) == cand, "that arm is as it was")
check(plot_files(xp2) == sorted(["candidate"] + plot_files(alone)),
      f"the rest is plot 2's: {plot_files(xp2)}")
# an earlier arm whose list is a directory: left as it is, said
os.unlink(os.path.join(xp2, ".admitsim-plot"))
shutil.rmtree(xp2)
p = subprocess.run([admitsim, "plot", "experiment:1", "--db", xpdb, "--seed", "2", "--out", xp2],
                   capture_output=True, text=True)
check(p.returncode == 0, f"plot experiment:1 into xp2 again: {p.stderr}")
os.unlink(os.path.join(xp2, "baseline", ".admitsim-plot"))
os.mkdir(os.path.join(xp2, "baseline", ".admitsim-plot"))
base = stats(os.path.join(xp2, "baseline"))
p = plot("2", xp2)
check(p.returncode == 0 and "/baseline/.admitsim-plot is a directory, not admitsim plot's list; "
      in p.stderr and "/baseline, of an earlier plot, is left as it is" in p.stderr,
      f"a directory as an earlier arm's list: that arm left, said: {p.returncode} {p.stderr}")
check(stats(os.path.join(xp2, "baseline")) == base, "that arm is as it was")
check(plot_files(xp2) == sorted(["baseline"] + plot_files(alone)),
      f"the rest is plot 2's: {plot_files(xp2)}")

if failures:
    sys.exit(f"plot_pictures_test: {len(failures)} failure(s)")
print("plot_pictures_test: ok")
