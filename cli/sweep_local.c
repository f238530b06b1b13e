/* The local engine (sweep.h): a pool of `jobs` child processes, each
** `admitsim sweep FILE --shard K --out DIR` (posix_spawn, no shell), its
** output appended to DIR/logs/shard-K.log.  The shards that are not
** complete run in index order; each child's end goes into the journal
** (exit status, signal, seconds) and a shard counts as done only when its
** files are in place, whatever its status said.  SIGINT or SIGTERM stops
** the pool: no new shard starts, the running ones get SIGTERM (and remove
** their temporary files), the driver waits for them and says how to
** resume.  The children die with the driver (Linux: PR_SET_PDEATHSIG via
** ADMITSIM_SWEEP_PARENT), so a killed driver leaves no shard running. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "program.h"
#include "sweep.h"

static volatile sig_atomic_t caught;

static void on_signal(int sig) {
    caught = sig;
}

void sweep_signals_catch(void) {
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int sweep_signal_caught(void) {
    return caught;
}

typedef struct child {
    pid_t pid;
    size_t shard;
    double start;
} child;

typedef struct pool {
    const sweep_plan *p;
    const sweep_dir *d;
    const sweep_engine_options *o;
    size_t *todo, ntodo, next;
    child *kids;
    size_t running, failed;
    bool stopping;
    sweep_progress g;
} pool;

static bool start_child(pool *pl, size_t shard) {
    char k[32], log[SWEEP_PATH_MAX + 64], err[1024];
    snprintf(k, sizeof k, "%zu", shard);
    snprintf(log, sizeof log, "%s/logs/shard-%06zu.log", pl->d->path, shard);
    char *argv[] = {(char *)pl->o->self, "sweep", (char *)pl->p->file, "--shard", k, "--out",
                    (char *)pl->d->path, NULL};
    pid_t pid;
    if (!cli_program_start(pl->o->self, argv, log, &pid, err, sizeof err)) {
        fprintf(stderr, "%s: shard %zu: %s\n", pl->o->who, shard, err);
        return false;
    }
    for (size_t i = 0; i < pl->o->jobs; i++)
        if (!pl->kids[i].pid) {
            pl->kids[i] = (child){pid, shard, cli_monotonic_seconds()};
            break;
        }
    pl->running++;
    return true;
}

/* A child ended with status: journal it, judge the shard by its files. */
static void child_ended(pool *pl, child *c, int status) {
    bool complete = sweep_shard_is_complete(pl->d->path, c->shard);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    double seconds = cli_monotonic_seconds() - c->start;
    sweep_journal(pl->d->path,
                  json_pack("{s:s, s:s, s:I, s:i, s:i, s:f, s:b, s:I}", "event", "shard", "engine",
                            "local", "shard", (json_int_t)c->shard, "exit", code, "signal", sig,
                            "seconds", seconds, "complete", complete, "pid", (json_int_t)c->pid));
    pl->running--;
    if (complete) {
        pl->g.done++;
    } else {
        pl->failed++;
        pl->g.failed++;
        if (!pl->stopping) {
            char how[256];
            if (code == 0)
                snprintf(how, sizeof how, "exited with status 0 but its files are not in place");
            else
                cli_program_describe("it", status, how, sizeof how);
            if (pl->g.tty && pl->g.drawn) fputc('\n', stderr);
            fprintf(stderr, "%s: shard %zu failed: %s (see %s/logs/shard-%06zu.log)\n", pl->o->who,
                    c->shard, how, pl->d->path, c->shard);
        }
    }
    *c = (child){0};
}

/* Reaps whatever ended; false when nothing did. */
static bool reap(pool *pl) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return false;
    for (size_t i = 0; i < pl->o->jobs; i++)
        if (pl->kids[i].pid == pid) {
            child_ended(pl, &pl->kids[i], status);
            sweep_progress_update(&pl->g, true);
        }
    return true;
}

static void stop_children(pool *pl) {
    pl->stopping = true;
    for (size_t i = 0; i < pl->o->jobs; i++)
        if (pl->kids[i].pid) kill(pl->kids[i].pid, SIGTERM);
}

static void run_pool(pool *pl) {
    while (pl->running || (pl->next < pl->ntodo && !pl->stopping)) {
        while (!pl->stopping && !sweep_signal_caught() && pl->running < pl->o->jobs &&
               pl->next < pl->ntodo) {
            size_t shard = pl->todo[pl->next++];
            if (!start_child(pl, shard)) {
                pl->failed++;
                pl->g.failed++;
            }
        }
        if (sweep_signal_caught() && !pl->stopping) stop_children(pl);
        pl->g.running = pl->running;
        pl->g.pending = pl->ntodo - pl->next;
        if (!reap(pl)) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
            sweep_progress_update(&pl->g, false);
        }
    }
}

int sweep_local_run(const sweep_plan *p, const sweep_dir *d, const sweep_engine_options *o) {
    pool pl = {.p = p, .d = d, .o = o};
    pl.todo = sweep_missing_shards(p, d->path, &pl.ntodo);
    pl.kids = calloc(o->jobs, sizeof *pl.kids);
    if (!pl.todo || !pl.kids) {
        fprintf(stderr, "%s: out of memory\n", o->who);
        free(pl.todo);
        free(pl.kids);
        return EXIT_FAILURE_RUN;
    }
    char parent[32];
    snprintf(parent, sizeof parent, "%ld", (long)getpid());
    setenv("ADMITSIM_SWEEP_PARENT", parent, 1);
    sweep_journal(d->path, json_pack("{s:s, s:s, s:I, s:I, s:I}", "event", "start", "engine",
                                     "local", "jobs", (json_int_t)o->jobs, "shards",
                                     (json_int_t)p->nshards, "to_run", (json_int_t)pl.ntodo));
    sweep_progress_init(&pl.g, o->who, p->nshards, p->nshards - pl.ntodo, o->quiet);
    run_pool(&pl);
    sweep_progress_end(&pl.g);
    unsetenv("ADMITSIM_SWEEP_PARENT");
    int rc = EXIT_OK;
    size_t done = pl.g.done;
    if (sweep_signal_caught()) {
        sweep_journal(d->path, json_pack("{s:s, s:i}", "event", "interrupted", "signal",
                                         sweep_signal_caught()));
        fprintf(stderr,
                "%s: interrupted (%s): %zu of %zu shards complete; --resume runs the rest\n",
                o->who, strsignal(sweep_signal_caught()), done, p->nshards);
        rc = EXIT_FAILURE_RUN;
    } else if (pl.failed) {
        fprintf(stderr, "%s: %zu shard%s failed (%zu of %zu complete); --resume reruns %s\n",
                o->who, pl.failed, pl.failed == 1 ? "" : "s", done, p->nshards,
                pl.failed == 1 ? "it" : "them");
        rc = EXIT_FAILURE_RUN;
    }
    free(pl.todo);
    free(pl.kids);
    return rc;
}
