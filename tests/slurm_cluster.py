#!/usr/bin/env python3
"""A single-node Slurm cluster for the tests, started without systemd.

Everything lives in one temporary directory (mode 0755, as munged needs):
the munge key, socket, pid and seed files, slurm.conf, state, spool, logs
and pid files.  Clients find the cluster through SLURM_CONF=<dir>/slurm.conf
(cluster.env); the daemons get -f <conf>.  The controller and the node
listen on 127.0.0.1 on free ports, the node named after `hostname -s`, so
two clusters coexist and nothing goes in /etc.  Facts this follows
(../shared/notes/slurm-single-node.md): proctrack/pgid and task/none (the
cgroup tracker aborts batch steps on these machines yet records them
COMPLETED), batch_sched_delay=0, no accounting, AuthInfo naming the socket.

    with SlurmCluster() as c:           # or c = SlurmCluster(); c.start(); c.stop()
        subprocess.run(["sbatch", ...], env=c.env)

start() raises SlurmUnavailable (with the reason) when the programs are
missing or the node never becomes idle; stop() cancels every job, waits for
the queue to drain, stops slurmd, slurmctld and munged by the pids it
started, then any stray process that carries this cluster's SLURM_CONF.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

PROGRAMS = ["munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol",
            "scancel", "sinfo"]


class SlurmUnavailable(Exception):
    pass


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _find(name):
    for d in os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/sbin", "/usr/bin"]:
        p = os.path.join(d or ".", name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


class SlurmCluster:
    def __init__(self, parent=None):
        # parent None: $TMPDIR or /tmp, whose directories everyone may enter
        # (munged and the job scripts need that of the cluster's directory)
        self.parent = parent
        self.dir = None
        self.pids = {}
        self.env = None
        self.bin = {}

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---- start -----------------------------------------------------------
    def start(self, timeout=30):
        for p in PROGRAMS:
            self.bin[p] = _find(p)
            if not self.bin[p]:
                raise SlurmUnavailable(f"{p} is not installed (scripts/setup.sh installs "
                                       "slurm-wlm and munge)")
        if os.geteuid() != 0:
            raise SlurmUnavailable("starting slurmd needs root (SlurmdUser=root)")
        self.dir = tempfile.mkdtemp(prefix="admitsim-slurm-", dir=self.parent)
        d = self.dir
        os.chmod(d, 0o755)
        for sub in ("munge", "state", "spool", "log", "tmp"):
            os.makedirs(os.path.join(d, sub), mode=0o755, exist_ok=True)
            os.chmod(os.path.join(d, sub), 0o755)
        os.chmod(os.path.join(d, "tmp"), 0o1777)
        self._start_munge()
        self._write_conf()
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        self._spawn("slurmctld", [self.bin["slurmctld"], "-D", "-f", self.conf])
        self._spawn("slurmd", [self.bin["slurmd"], "-D", "-f", self.conf, "-N", self.node])
        self._wait_idle(timeout)

    def _start_munge(self):
        d = self.dir
        self.munge_key = os.path.join(d, "munge", "munge.key")
        self.munge_socket = os.path.join(d, "munge", "munge.sock")
        r = subprocess.run([self.bin["mungekey"], "-c", "-k", self.munge_key],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SlurmUnavailable(f"mungekey failed: {r.stderr.strip()}")
        self._spawn("munged", [self.bin["munged"], "-F", "--key-file", self.munge_key,
                               "--socket", self.munge_socket,
                               "--pid-file", os.path.join(d, "munge", "munged.pid"),
                               "--seed-file", os.path.join(d, "munge", "munged.seed"),
                               "--log-file", os.path.join(d, "log", "munged.log")])
        deadline = time.monotonic() + 10
        while not os.path.exists(self.munge_socket):
            if self.procs["munged"].poll() is not None or time.monotonic() > deadline:
                raise SlurmUnavailable("munged did not start: " + self._tail("munged.log"))
            time.sleep(0.05)

    def _write_conf(self):
        d = self.dir
        self.node = socket.gethostname().split(".")[0] or "localhost"
        cpus = os.cpu_count() or 1
        r = subprocess.run([self.bin["slurmd"], "-C"], capture_output=True, text=True)
        for word in r.stdout.split():
            if word.startswith("CPUs="):
                cpus = int(word[5:])
        self.cpus = cpus
        self.conf = os.path.join(d, "slurm.conf")
        lines = [
            "ClusterName=admitsimtest",
            f"SlurmctldHost={self.node}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            f"StateSaveLocation={d}/state",
            f"SlurmdSpoolDir={d}/spool",
            f"SlurmctldPidFile={d}/slurmctld.pid",
            f"SlurmdPidFile={d}/slurmd.pid",
            f"SlurmctldLogFile={d}/log/slurmctld.log",
            f"SlurmdLogFile={d}/log/slurmd.log",
            "ProctrackType=proctrack/pgid",
            "TaskPlugin=task/none",
            "SchedulerType=sched/backfill",
            "SchedulerParameters=batch_sched_delay=0",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_CPU",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/filetxt",
            f"JobCompLoc={d}/log/jobcomp.txt",
            "MpiDefault=none",
            "ReturnToService=2",
            "MinJobAge=300",
            "SlurmctldTimeout=30",
            "SlurmdTimeout=30",
            "InactiveLimit=0",
            "KillWait=2",
            "MaxArraySize=1001",
            f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN",
            f"PartitionName=debug Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
        ]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _spawn(self, name, argv):
        if not hasattr(self, "procs"):
            self.procs = {}
        log = open(os.path.join(self.dir, "log", name + ".out"), "wb")
        self.procs[name] = subprocess.Popen(argv, cwd=self.dir, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            env=self.env or os.environ)
        log.close()
        self.pids[name] = self.procs[name].pid

    def _tail(self, name, n=600):
        for p in (os.path.join(self.dir, "log", name),
                  os.path.join(self.dir, "log", name.split(".")[0] + ".out")):
            try:
                with open(p, errors="replace") as f:
                    return f.read()[-n:].replace("\n", " | ")
            except OSError:
                continue
        return "(no log)"

    def _wait_idle(self, timeout):
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            for name in ("slurmctld", "slurmd"):
                if self.procs[name].poll() is not None:
                    raise SlurmUnavailable(f"{name} exited with status "
                                           f"{self.procs[name].returncode}: "
                                           + self._tail(name + ".log"))
            r = subprocess.run([self.bin["sinfo"], "-h", "-N", "-o", "%T"], env=self.env,
                               capture_output=True, text=True)
            state = r.stdout.strip()
            if r.returncode == 0 and state.startswith("idle"):
                return
            time.sleep(0.1)
        raise SlurmUnavailable(f"the node did not become idle in {timeout} s (state "
                               f"'{state}'): " + self._tail("slurmd.log"))

    # ---- helpers ---------------------------------------------------------
    def run(self, *argv):
        return subprocess.run([self.bin.get(argv[0], argv[0]), *argv[1:]], env=self.env,
                              capture_output=True, text=True)

    def queue_empty(self):
        r = self.run("squeue", "-h", "-o", "%i")
        return r.returncode == 0 and not r.stdout.strip()

    # ---- stop ------------------------------------------------------------
    def stop(self):
        if not self.dir:
            return
        if self.env and "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            self.run("scancel", "--full", "-u", "root")
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not self.queue_empty():
                time.sleep(0.1)
        for name in ("slurmd", "slurmctld", "munged"):
            p = getattr(self, "procs", {}).get(name)
            if p is None or p.poll() is not None:
                continue
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self._kill_strays()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def _kill_strays(self):
        """Processes (slurmstepd, a job's children) that carry this cluster's SLURM_CONF."""
        mark = ("SLURM_CONF=" + self.conf).encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    env = f.read().split(b"\0")
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if mark in env or self.conf.encode() in cmd:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass


if __name__ == "__main__":
    # A smoke test: start, run a two-task array, stop.
    with SlurmCluster() as c:
        t0 = time.monotonic()
        script = os.path.join(c.dir, "hello.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho task $SLURM_ARRAY_TASK_ID > " + c.dir +
                    "/out-$SLURM_ARRAY_TASK_ID\n")
        os.chmod(script, 0o755)
        r = c.run("sbatch", "--parsable", "--array=0-1", "-o", c.dir + "/log/%A_%a.log", script)
        print("sbatch:", r.returncode, r.stdout.strip(), r.stderr.strip())
        while not c.queue_empty():
            time.sleep(0.1)
        print(sorted(f for f in os.listdir(c.dir) if f.startswith("out-")),
              f"{time.monotonic() - t0:.1f} s")
