/* The Slurm engine (sweep.h): the shards that are not complete go to Slurm
** as one job array, `sbatch --parsable --array=INDICES[%M]` with a job
** script that execs one shard per task (`admitsim sweep FILE --shard
** $SLURM_ARRAY_TASK_ID --out DIR`, so Slurm's signals reach the shard
** itself), its output in DIR/logs/slurm-<job>_<task>.log.  The driver polls
** `squeue -h -r -j JOB` until no task of the array is left, and judges each
** shard by its files in DIR, never by an exit code (sbatch --wait says 0
** for cancelled and never-started tasks; it is not used).  What Slurm says
** of each task (`scontrol -o show job JOB`: JobState, ExitCode=code:signal)
** goes into the journal.  SIGINT or SIGTERM cancels the array (scancel) and
** waits for its tasks to leave the queue.  --resume first adopts an array a
** killed driver left queued (polls it to its end), then submits only the
** shards still missing.  Every program runs without a shell
** (cli/program.h).  What squeue and scontrol print is read a line at a time
** (cli_program_lines): no bound on its length (an array of a million tasks
** lists a million lines), only on a line's, SLURM_LINE_MAX; a longer line
** fails the command as it would fail, never read cut short. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "program.h"
#include "sweep.h"

/* The longest line of squeue or scontrol output read (a task's line of
** `scontrol -o show job` is a few hundred bytes). */
#define SLURM_LINE_MAX (1 << 20)

typedef struct slurm {
    const sweep_plan *p;
    const sweep_dir *d;
    const sweep_engine_options *o;
    char sbatch[SWEEP_PATH_MAX], squeue[SWEEP_PATH_MAX], scontrol[SWEEP_PATH_MAX],
        scancel[SWEEP_PATH_MAX];
} slurm;

static bool find_programs(slurm *s) {
    struct {
        const char *name;
        char *path;
    } progs[] = {{"sbatch", s->sbatch},
                 {"squeue", s->squeue},
                 {"scontrol", s->scontrol},
                 {"scancel", s->scancel}};
    for (size_t i = 0; i < sizeof progs / sizeof *progs; i++)
        if (!cli_program_find(progs[i].name, progs[i].path, SWEEP_PATH_MAX)) {
            fprintf(stderr,
                    "%s: %s is not on PATH (--engine slurm needs Slurm's sbatch, squeue, scontrol "
                    "and scancel)\n",
                    s->o->who, progs[i].name);
            return false;
        }
    return true;
}

static void trim(char *s) {
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

/* After a failed command: errs (what it said) followed by why it failed
** (how it ended, or that its output was too long). */
static void failed_because(char *errs, size_t errlen, const char *why) {
    trim(errs);
    size_t n = strlen(errs);
    if (n + 4 < errlen) snprintf(errs + n, errlen - n, n ? " (%s)" : "%s", why);
}

/* Runs a Slurm command; its output in out (all of it, or a failure), what
** it said in errs. */
static bool slurm_cmd(const char *path, char *const argv[], char *out, size_t outlen, char *errs,
                      size_t errlen) {
    char why[512];
    bool ok = cli_program_capture(path, argv, out, outlen, errs, errlen, why, sizeof why);
    if (!ok) failed_because(errs, errlen, why);
    return ok;
}

/* Runs a Slurm command, each line of its output to fn(ctx, line); what it
** said in errs. */
static bool slurm_lines(const char *path, char *const argv[], cli_line_fn *fn, void *ctx,
                        char *errs, size_t errlen) {
    char why[512];
    bool ok = cli_program_lines(path, argv, SLURM_LINE_MAX, fn, ctx, errs, errlen, why, sizeof why);
    if (!ok) failed_because(errs, errlen, why);
    return ok;
}

/* ---- the job script and the array --------------------------------------------- */

/* s in single quotes for sh ('\'' for a quote). */
static void sh_quote(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

static bool write_script(const slurm *s, char *path, size_t len) {
    char dir[SWEEP_PATH_MAX + 16];
    sweep_dir_file(s->d->path, "slurm", dir, sizeof dir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create %s: %s\n", s->o->who, dir, strerror(errno));
        return false;
    }
    snprintf(path, len, "%s/shard.sh", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write %s: %s\n", s->o->who, path, strerror(errno));
        return false;
    }
    fprintf(f,
            "#!/bin/sh\n"
            "# One shard of sweep %s per array task (written by admitsim sweep --engine\n"
            "# slurm): the task's index is the shard.  exec hands the task to admitsim, so\n"
            "# scancel and the time limit signal the shard itself.  The shard writes its\n"
            "# database in $TMPDIR (node-local), then copies it into the directory.\n"
            "exec ",
            s->p->sweep_id);
    sh_quote(f, s->o->self);
    fputs(" sweep ", f);
    sh_quote(f, s->p->file);
    fputs(" --shard \"$SLURM_ARRAY_TASK_ID\" --out ", f);
    sh_quote(f, s->d->path);
    fputc('\n', f);
    bool ok = !ferror(f);
    if (fclose(f) != 0 || !ok || chmod(path, 0755) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", s->o->who, path);
        return false;
    }
    return true;
}

/* "0-3,7,9-12" of the sorted indices, "%M" after when given. */
static char *array_spec(const size_t *idx, size_t n, uint64_t throttle) {
    size_t cap = n * 24 + 32, len = 0;
    char *spec = malloc(cap);
    for (size_t i = 0; spec && i < n;) {
        size_t j = i;
        while (j + 1 < n && idx[j + 1] == idx[j] + 1)
            j++;
        if (j > i)
            len +=
                (size_t)snprintf(spec + len, cap - len, "%s%zu-%zu", i ? "," : "", idx[i], idx[j]);
        else
            len += (size_t)snprintf(spec + len, cap - len, "%s%zu", i ? "," : "", idx[i]);
        i = j + 1;
    }
    if (spec && throttle) snprintf(spec + len, cap - len, "%%%llu", (unsigned long long)throttle);
    return spec;
}

/* A line of `scontrol show config`: "MaxArraySize = N" into *(size_t *)ctx. */
static void config_line(void *ctx, char *line) {
    line += strspn(line, " \t");
    const char *at = strchr(line, '=');
    if (!strncmp(line, "MaxArraySize", 12) && at) *(size_t *)ctx = strtoul(at + 1, NULL, 10);
}

/* The cluster's MaxArraySize (array indices must be below it); 1001 when
** scontrol does not say. */
static size_t max_array_size(const slurm *s) {
    char errs[512];
    char *argv[] = {"scontrol", "show", "config", NULL};
    size_t max = 0;
    if (!slurm_lines(s->scontrol, argv, config_line, &max, errs, sizeof errs)) return 1001;
    return max ? max : 1001;
}

/* sbatch; the job id into job.  False with the reason on stderr. */
static bool submit(const slurm *s, const char *script, const char *spec, char *job, size_t len) {
    char name[128], output[SWEEP_PATH_MAX + 64];
    char *arr = malloc(strlen(spec) + 16);
    if (!arr) return false;
    sprintf(arr, "--array=%s", spec);
    snprintf(name, sizeof name, "--job-name=admitsim-%s", s->p->sweep_id);
    snprintf(output, sizeof output, "--output=%s/logs/slurm-%%A_%%a.log", s->d->path);
    char part[SWEEP_SBATCH_VALUE_MAX + 16], time_limit[SWEEP_SBATCH_VALUE_MAX + 16],
        account[SWEEP_SBATCH_VALUE_MAX + 16];
    const char *argv[8 + SWEEP_SBATCH_ARGS_MAX + 2]; /* the fixed ones, the user's, script, NULL */
    size_t n = 0;
    argv[n++] = "sbatch";
    argv[n++] = "--parsable";
    argv[n++] = name;
    argv[n++] = arr;
    argv[n++] = output;
    if (s->o->partition)
        snprintf(part, sizeof part, "--partition=%s", s->o->partition), argv[n++] = part;
    if (s->o->time_limit)
        snprintf(time_limit, sizeof time_limit, "--time=%s", s->o->time_limit),
            argv[n++] = time_limit;
    if (s->o->account)
        snprintf(account, sizeof account, "--account=%s", s->o->account), argv[n++] = account;
    for (size_t i = 0; i < s->o->nsbatch_args; i++)
        argv[n++] = s->o->sbatch_args[i];
    argv[n++] = script;
    argv[n] = NULL;
    char out[512], errs[1024];
    bool ok = slurm_cmd(s->sbatch, (char *const *)argv, out, sizeof out, errs, sizeof errs);
    free(arr);
    trim(out);
    trim(errs);
    char *semi = strchr(out, ';');
    if (semi) *semi = '\0';
    if (!ok || !out[0] || strspn(out, "0123456789") != strlen(out)) {
        fprintf(stderr, "%s: sbatch failed: %s%s%s\n", s->o->who, errs,
                out[0] ? "; it printed " : "", out);
        return false;
    }
    snprintf(job, len, "%.40s", out);
    return true;
}

/* ---- polling --------------------------------------------------------------------- */

/* The tasks squeue lists: [0] pending, [1] the others (running, ...). */
typedef struct queue_count {
    size_t tasks[2];
} queue_count;

/* A line of `squeue -o "%K %T"`: a task and its state. */
static void queue_line(void *ctx, char *line) {
    char *task = strtok(line, " \t"), *state = task ? strtok(NULL, " \t") : NULL;
    if (state) ((queue_count *)ctx)->tasks[strcmp(state, "PENDING") != 0]++;
}

/* The array's tasks still queued: counts of pending and running; false
** when the array has left the queue.  Every line squeue prints is read (no
** bound on their number); a failed squeue says nothing has left. */
static bool still_queued(const slurm *s, const char *job, size_t *pending, size_t *running,
                         int *errors) {
    char errs[1024];
    char *argv[] = {"squeue", "-h", "-r", "-j", (char *)job, "-o", "%K %T", NULL};
    queue_count q = {{0, 0}};
    *pending = *running = 0;
    if (!slurm_lines(s->squeue, argv, queue_line, &q, errs, sizeof errs)) {
        if (strstr(errs, "Invalid job id")) return false; /* gone from the controller */
        if (++*errors % 30 == 1)
            fprintf(stderr, "%s: squeue failed (%s); trying again\n", s->o->who, errs);
        return true;
    }
    *errors = 0;
    *pending = q.tasks[0];
    *running = q.tasks[1];
    return q.tasks[0] + q.tasks[1] > 0;
}

static size_t count_complete(const slurm *s, const size_t *idx, size_t n) {
    size_t done = 0;
    for (size_t i = 0; i < n; i++)
        done += sweep_shard_is_complete(s->d->path, idx[i]);
    return done;
}

static void cancel(const slurm *s, const char *job) {
    char errs[1024];
    char *argv[] = {"scancel", (char *)job, NULL};
    if (!slurm_cmd(s->scancel, argv, NULL, 0, errs, sizeof errs))
        fprintf(stderr, "%s: scancel %s failed: %s\n", s->o->who, job, errs);
}

static void sleep_seconds(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Polls the array until no task of it is queued (after a signal: cancels
** it first).  idx: its shards (for the progress). */
static void poll_array(const slurm *s, const char *job, const size_t *idx, size_t n,
                       sweep_progress *g) {
    bool cancelled = false;
    int errors = 0;
    for (;;) {
        size_t pending, running;
        bool queued = still_queued(s, job, &pending, &running, &errors);
        size_t before = g->done;
        g->done = g->done_before + count_complete(s, idx, n);
        g->running = running;
        g->pending = pending;
        sweep_progress_update(g, g->done != before);
        if (!queued) break;
        if (sweep_signal_caught() && !cancelled) {
            if (g->tty && g->drawn) fputc('\n', stderr);
            fprintf(stderr, "%s: %s: cancelling job %s\n", s->o->who,
                    strsignal(sweep_signal_caught()), job);
            cancel(s, job);
            cancelled = true;
        }
        sleep_seconds(cancelled ? 0.2 : s->o->poll_seconds);
    }
}

/* ---- what Slurm says of each task ----------------------------------------------- */

/* "KEY=" value of a scontrol line into buf. */
static bool field(const char *line, const char *key, char *buf, size_t len) {
    const char *at = line;
    size_t klen = strlen(key);
    while ((at = strstr(at, key))) {
        if ((at == line || at[-1] == ' ') && at[klen] == '=') {
            at += klen + 1;
            size_t n = strcspn(at, " \n");
            snprintf(buf, len, "%.*s", (int)n, at);
            return true;
        }
        at += klen;
    }
    return false;
}

/* What scontrol says of a task: JobState, ExitCode ("" when it does not). */
typedef struct task_said {
    char state[32], code[32];
} task_said;

/* The array's shards (idx, sorted) and what scontrol says of each. */
typedef struct array_said {
    const size_t *idx;
    size_t n;
    task_said *said;
} array_said;

static int size_cmp(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* A line of `scontrol -o show job`: one task (or a range of pending ones,
** "ArrayTaskId=5-9", left alone); a later line of a task wins. */
static void job_line(void *ctx, char *line) {
    array_said *a = ctx;
    char id[32], *end;
    if (!field(line, "ArrayTaskId", id, sizeof id) || !isdigit((unsigned char)id[0])) return;
    size_t task = (size_t)strtoull(id, &end, 10);
    const size_t *at = *end ? NULL : bsearch(&task, a->idx, a->n, sizeof *a->idx, size_cmp);
    if (!at) return;
    task_said *t = &a->said[at - a->idx];
    field(line, "JobState", t->state, sizeof t->state);
    field(line, "ExitCode", t->code, sizeof t->code);
}

/* What scontrol says of each shard of the array (n entries, to free), every
** one "unknown" when it says nothing (MinJobAge past: the job forgotten) or
** fails (then with a warning); NULL when out of memory. */
static task_said *ask_scontrol(const slurm *s, const char *job, const size_t *idx, size_t n) {
    array_said a = {idx, n, calloc(n ? n : 1, sizeof(task_said))};
    char errs[1024];
    char *argv[] = {"scontrol", "-o", "show", "job", (char *)job, NULL};
    if (!a.said) return NULL;
    bool ok = slurm_lines(s->scontrol, argv, job_line, &a, errs, sizeof errs);
    if (!ok && !strstr(errs, "Invalid job id"))
        fprintf(stderr, "%s: scontrol show job %s failed (%s): the tasks' states are unknown\n",
                s->o->who, job, errs);
    for (size_t i = 0; i < n; i++)
        if (!ok)
            a.said[i] = (task_said){"unknown", ""};
        else if (!a.said[i].state[0])
            snprintf(a.said[i].state, sizeof a.said[i].state, "unknown");
    return a.said;
}

/* Journals every shard of the array (idx sorted): its files, and Slurm's
** state and exit code when scontrol still knows the task.  The number
** incomplete. */
static size_t judge(const slurm *s, const char *job, const size_t *idx, size_t n) {
    task_said *said = ask_scontrol(s, job, idx, n);
    if (!said) fprintf(stderr, "%s: out of memory: the tasks' states are unknown\n", s->o->who);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        const char *state = said ? said[i].state : "unknown", *code = said ? said[i].code : "";
        int exit_code = -1, sig = 0;
        sscanf(code, "%d:%d", &exit_code, &sig);
        bool complete = sweep_shard_is_complete(s->d->path, idx[i]);
        sweep_journal(s->d->path,
                      json_pack("{s:s, s:s, s:s, s:I, s:s, s:i, s:i, s:b}", "event", "shard",
                                "engine", "slurm", "job", job, "shard", (json_int_t)idx[i], "state",
                                state, "exit", exit_code, "signal", sig, "complete", complete));
        if (complete) continue;
        failed++;
        if (!sweep_signal_caught())
            fprintf(stderr,
                    "%s: shard %zu failed: Slurm says %s, exit code %s (see "
                    "%s/logs/slurm-%s_%zu.log)\n",
                    s->o->who, idx[i], state, code[0] ? code : "unknown", s->d->path, job, idx[i]);
    }
    free(said);
    return failed;
}

/* ---- the engine ------------------------------------------------------------------ */

/* Arrays the journal says were submitted that still have tasks queued:
** polled to their end (a driver killed while they ran). */
static void adopt(const slurm *s) {
    json_t *journal = sweep_journal_read(s->d->path), *e;
    size_t i;
    json_array_foreach(journal, i, e) {
        const char *ev = json_string_value(json_object_get(e, "event"));
        const char *job = json_string_value(json_object_get(e, "job"));
        if (!ev || !job || strcmp(ev, "submit") != 0) continue;
        size_t pending, running;
        int errors = 0;
        if (!still_queued(s, job, &pending, &running, &errors) || sweep_signal_caught()) continue;
        fprintf(stderr, "%s: job %s (submitted before) is still queued: waiting for it\n",
                s->o->who, job);
        json_t *shards = json_object_get(e, "shards");
        size_t n = json_array_size(shards), *idx = calloc(n ? n : 1, sizeof *idx);
        for (size_t k = 0; idx && k < n; k++)
            idx[k] = (size_t)json_integer_value(json_array_get(shards, k));
        if (idx) qsort(idx, n, sizeof *idx, size_cmp); /* for judge */
        sweep_progress g;
        sweep_progress_init(&g, s->o->who, s->p->nshards, s->p->nshards - n, s->o->quiet);
        if (idx) {
            poll_array(s, job, idx, n, &g);
            judge(s, job, idx, n);
        }
        sweep_progress_end(&g);
        free(idx);
    }
    json_decref(journal);
}

static int run_array(const slurm *s, const size_t *idx, size_t n) {
    char script[SWEEP_PATH_MAX + 32], job[64];
    size_t max = max_array_size(s);
    if (idx[n - 1] >= max) {
        fprintf(stderr,
                "%s: shard %zu is beyond this cluster's array indices (MaxArraySize %zu): give the "
                "sweep a larger shard_size so that it has at most %zu shards\n",
                s->o->who, idx[n - 1], max, max);
        return EXIT_FAILURE_RUN;
    }
    char *spec = array_spec(idx, n, s->o->jobs_given ? s->o->jobs : 0);
    bool ok =
        spec && write_script(s, script, sizeof script) && submit(s, script, spec, job, sizeof job);
    if (ok) {
        json_t *shards = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(shards, json_integer((json_int_t)idx[i]));
        sweep_journal(s->d->path,
                      json_pack("{s:s, s:s, s:s, s:s, s:o}", "event", "submit", "engine", "slurm",
                                "job", job, "array", spec, "shards", shards));
        if (!s->o->quiet)
            fprintf(stderr, "%s: submitted job %s: %zu shard%s (--array=%s)\n", s->o->who, job, n,
                    n == 1 ? "" : "s", spec);
    }
    free(spec);
    if (!ok) return EXIT_FAILURE_RUN;
    sweep_progress g;
    sweep_progress_init(&g, s->o->who, s->p->nshards, s->p->nshards - n, s->o->quiet);
    poll_array(s, job, idx, n, &g);
    size_t failed = judge(s, job, idx, n);
    g.done = g.done_before + n - failed;
    sweep_progress_end(&g);
    if (sweep_signal_caught()) {
        sweep_journal(s->d->path, json_pack("{s:s, s:s, s:i}", "event", "interrupted", "job", job,
                                            "signal", sweep_signal_caught()));
        fprintf(stderr,
                "%s: interrupted (%s): job %s cancelled, %zu of %zu shards complete; --resume "
                "submits the rest\n",
                s->o->who, strsignal(sweep_signal_caught()), job, g.done, s->p->nshards);
        return EXIT_FAILURE_RUN;
    }
    if (failed) {
        fprintf(stderr, "%s: %zu shard%s failed (%zu of %zu complete); --resume resubmits %s\n",
                s->o->who, failed, failed == 1 ? "" : "s", g.done, s->p->nshards,
                failed == 1 ? "it" : "them");
        return EXIT_FAILURE_RUN;
    }
    return EXIT_OK;
}

int sweep_slurm_run(const sweep_plan *p, const sweep_dir *d, const sweep_engine_options *o) {
    slurm s = {.p = p, .d = d, .o = o};
    if (!find_programs(&s)) return EXIT_FAILURE_RUN;
    adopt(&s);
    if (sweep_signal_caught()) return EXIT_FAILURE_RUN;
    size_t n;
    size_t *idx = sweep_missing_shards(s.p, s.d->path, &n);
    if (!idx) {
        fprintf(stderr, "%s: out of memory\n", o->who);
        return EXIT_FAILURE_RUN;
    }
    int rc = n ? run_array(&s, idx, n) : EXIT_OK;
    free(idx);
    return rc;
}
