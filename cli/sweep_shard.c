/* One shard of a sweep, in a process of its own (sweep.h): `admitsim sweep
** FILE --shard K --out DIR`, started by the local engine or as a Slurm array
** task.
**
** Its runs go through the run pipeline into a database in $TMPDIR
** (node-local on a cluster; else /tmp), one run per (point, seed), each
** point an arm of the scenario.  When every run is in, the database is
** moved into DIR/shards/ under a name of its own (renamed when on the same
** file system, else copied and synced), and then the shard's JSON (its
** figures, naming the database) is linked into place: link() fails when
** the name exists, so when two processes complete one shard (a resumed
** driver beside a task of the killed one) the first wins and the second
** removes its own files.  A shard killed by SIGTERM, SIGINT or SIGHUP
** removes its temporary database first; one killed by SIGKILL leaves
** nothing in DIR but a database no JSON names, which `sweep_dir_clean`
** removes once the sweep is done. */
#define _GNU_SOURCE /* strdup */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "cli.h"
#include "res/pipeline.h"
#include "res/summary.h"
#include "sim/engine.h"
#include "sweep.h"

/* The temporary database and its companions, removed by the signal handler. */
static char tmp_paths[4][SWEEP_PATH_MAX + 16];

static void remove_tmp(void) {
    for (int i = 0; i < 4; i++)
        if (tmp_paths[i][0]) unlink(tmp_paths[i]);
}

static void on_signal(int sig) {
    remove_tmp();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_signals(void) {
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* A child of the local engine ends with it (Linux): the driver's pid is in
** ADMITSIM_SWEEP_PARENT. */
static void die_with_parent(void) {
#ifdef __linux__
    const char *parent = getenv("ADMITSIM_SWEEP_PARENT");
    if (!parent) return;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != (pid_t)strtol(parent, NULL, 10)) raise(SIGTERM);
#endif
}

/* ---- the runs ------------------------------------------------------------- */

typedef struct shard_run {
    const sweep_plan *plan;
    json_t *metrics; /* kept figures of the run */
    uint64_t output_hash;
    bool oom;
} shard_run;

static void collect(void *ctx, const res_run_record *r, const res_summary *s) {
    shard_run *c = ctx;
    c->output_hash = r->output_hash_all;
    json_t *j = res_summary_to_json(s, r);
    res_metric_set m = {0};
    if (!j || !res_metrics_from_summary(j, &m)) c->oom = true;
    for (size_t i = 0; i < m.count; i++)
        if (sweep_metric_is_kept(c->plan, m.m[i].name))
            json_object_set_new(c->metrics, m.m[i].name, json_real(m.m[i].value));
    res_metric_set_free(&m);
    json_decref(j);
}

/* Run r of the plan into db; its entry of the shard's JSON appended to runs. */
static bool run_one(const sweep_plan *p, size_t r, const char *db, const char *command_line,
                    json_t *runs) {
    size_t point = sweep_run_point(p, r);
    char err[2048], label[SWEEP_LABEL_MAX];
    sim_scenario *sc = sweep_point_scenario(p, point, err, sizeof err);
    if (!sc) {
        fprintf(stderr, "admitsim sweep: %s\n", err);
        return false;
    }
    sweep_point_label(p, point, label, sizeof label);
    json_t *values = sweep_point_values(p, point);
    char *parameters = json_dumps(values, JSON_COMPACT | JSON_REAL_PRECISION(17));
    shard_run c = {.plan = p, .metrics = json_object()};
    sim_runner runner = {.scenario = sc,
                         .options = {.seed = sweep_run_seed(p, r), .capture_events = true}};
    res_environment env = sim_runner_environment(&runner);
    res_pipeline_options po = {.config = &sc->config,
                               .policy = sc->config.default_policy,
                               .seed = sweep_run_seed(p, r),
                               .iterations = 1,
                               .db_path = db,
                               .arm = label,
                               .parameters = parameters,
                               .command_line = command_line,
                               .on_iteration = collect,
                               .ctx = &c};
    res_pipeline_result result;
    res_error perr;
    res_status st = res_pipeline_run(&po, &env, &result, &perr);
    bool ok = st == RES_OK && !c.oom;
    if (!ok)
        fprintf(stderr, "admitsim sweep: point %zu (%s) seed %llu: %s\n", point, label,
                (unsigned long long)sweep_run_seed(p, r), c.oom ? "out of memory" : perr.message);
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)c.output_hash);
    if (ok)
        json_array_append_new(runs, json_pack("{s:I, s:I, s:I, s:s, s:o, s:s, s:O}", "run",
                                              (json_int_t)r, "point", (json_int_t)point, "seed",
                                              (json_int_t)sweep_run_seed(p, r), "arm", label,
                                              "parameters", values, "output_hash", hash, "metrics",
                                              c.metrics));
    else
        json_decref(values);
    json_decref(c.metrics);
    free(parameters);
    sim_scenario_free(sc);
    return ok;
}

/* ---- moving the database into place ---------------------------------------------- */

static bool sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

/* Copies from to `to`, synced; false with err. */
static bool copy_file(const char *from, const char *to, char *err, size_t errlen) {
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    bool ok = in >= 0 && out >= 0;
    char buf[1 << 16];
    ssize_t n = 0;
    while (ok && (n = read(in, buf, sizeof buf)) > 0)
        ok = write(out, buf, (size_t)n) == n;
    ok = ok && n == 0 && fsync(out) == 0;
    if (!ok) snprintf(err, errlen, "cannot copy %.900s to %.900s: %s", from, to, strerror(errno));
    if (in >= 0) close(in);
    if (out >= 0 && close(out) != 0) ok = false;
    if (!ok) unlink(to);
    return ok;
}

/* tmp -> shards/name: renamed, or copied when another file system holds it. */
static bool move_db(const char *tmp, const char *shards, const char *name, char *err,
                    size_t errlen) {
    char final[2 * SWEEP_PATH_MAX], part[2 * SWEEP_PATH_MAX];
    snprintf(final, sizeof final, "%s/%s", shards, name);
    if (rename(tmp, final) == 0) return sync_dir(shards) || true;
    if (errno != EXDEV) {
        snprintf(err, errlen, "cannot move %.900s to %.900s: %s", tmp, final, strerror(errno));
        return false;
    }
    snprintf(part, sizeof part, "%s/.tmp-%s", shards, name);
    if (!copy_file(tmp, part, err, errlen)) return false;
    if (rename(part, final) != 0) {
        snprintf(err, errlen, "cannot rename %.1500s: %s", part, strerror(errno));
        unlink(part);
        return false;
    }
    unlink(tmp);
    sync_dir(shards);
    return true;
}

/* The shard's JSON into place (linked: never over another's); *lost when
** another process completed the shard first. */
static bool place_json(json_t *shard, const char *dir, size_t k, const char *unique, bool *lost,
                       char *err, size_t errlen) {
    char final[SWEEP_PATH_MAX + 64], part[2 * SWEEP_PATH_MAX];
    sweep_shard_json_path(dir, k, final, sizeof final);
    snprintf(part, sizeof part, "%s/shards/.tmp-%s.json", dir, unique);
    *lost = false;
    FILE *f = fopen(part, "w");
    bool ok = f && json_dumpf(shard, f, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) == 0 &&
              fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (f && fclose(f) != 0) ok = false;
    if (!ok) {
        snprintf(err, errlen, "cannot write %.1500s: %s", part, strerror(errno));
    } else if (link(part, final) != 0) {
        *lost = errno == EEXIST;
        ok = *lost;
        if (!ok) snprintf(err, errlen, "cannot place %.1500s: %s", final, strerror(errno));
    }
    unlink(part);
    char shards[SWEEP_PATH_MAX + 16];
    sweep_dir_file(dir, "shards", shards, sizeof shards);
    sync_dir(shards);
    return ok;
}

/* ---- the shard ---------------------------------------------------------------------- */

static int finish(const sweep_plan *p, const char *dir, size_t k, const char *tmp, json_t *runs) {
    char err[2048], unique[128], name[160], shards[SWEEP_PATH_MAX + 16];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(unique, sizeof unique, "shard-%06zu.%ld.%lx%09lx", k, (long)getpid(),
             (unsigned long)ts.tv_sec, (unsigned long)ts.tv_nsec);
    snprintf(name, sizeof name, "%s.db", unique);
    sweep_dir_file(dir, "shards", shards, sizeof shards);
    char wal[SWEEP_PATH_MAX + 16];
    snprintf(wal, sizeof wal, "%.4000s-wal", tmp);
    if (access(wal, F_OK) == 0) {
        fprintf(stderr, "admitsim sweep: %s still has a WAL file after its last writer\n", tmp);
        return EXIT_FAILURE_RUN;
    }
    if (!move_db(tmp, shards, name, err, sizeof err)) {
        fprintf(stderr, "admitsim sweep: shard %zu: %s\n", k, err);
        return EXIT_FAILURE_RUN;
    }
    json_t *shard = json_pack("{s:s, s:s, s:I, s:s, s:O}", "sweep_id", p->sweep_id, "digest",
                              p->digest, "shard", (json_int_t)k, "db", name, "runs", runs);
    bool lost = false;
    bool ok = place_json(shard, dir, k, unique, &lost, err, sizeof err);
    json_decref(shard);
    if (!ok || lost) {
        char db[2 * SWEEP_PATH_MAX];
        snprintf(db, sizeof db, "%s/%s", shards, name);
        unlink(db);
    }
    if (!ok) {
        fprintf(stderr, "admitsim sweep: shard %zu: %s\n", k, err);
        return EXIT_FAILURE_RUN;
    }
    fprintf(stderr, "admitsim sweep: shard %zu %s\n", k,
            lost ? "was completed by another process first; its files stay" : "complete");
    return EXIT_OK;
}

int sweep_shard_main(const char *path, size_t k, const char *dir, const char *command_line) {
    die_with_parent();
    char err[2048];
    sweep_plan p;
    if (!sweep_plan_load_for_shard(path, k, &p, err, sizeof err)) {
        fprintf(stderr, "admitsim sweep: %s\n", err);
        return EXIT_FAILURE_RUN;
    }
    int rc = EXIT_FAILURE_RUN;
    if (!sweep_dir_check_plan(dir, &p, err, sizeof err)) {
        fprintf(stderr, "admitsim sweep: %s\n", err);
        sweep_plan_free(&p);
        return rc;
    }
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
    snprintf(tmp_paths[0], sizeof tmp_paths[0], "%s/admitsim-%s-shard-%zu-%ld.db", tmpdir,
             p.sweep_id, k, (long)getpid());
    static const char *const suffix[] = {"-wal", "-shm", "-journal"};
    for (int i = 1; i < 4; i++)
        snprintf(tmp_paths[i], sizeof tmp_paths[i], "%.4000s%s", tmp_paths[0], suffix[i - 1]);
    remove_tmp();
    catch_signals();
    size_t first, count;
    sweep_shard_runs(&p, k, &first, &count);
    json_t *runs = json_array();
    bool ok = true;
    for (size_t r = first; ok && r < first + count; r++)
        ok = run_one(&p, r, tmp_paths[0], command_line, runs);
    if (ok) rc = finish(&p, dir, k, tmp_paths[0], runs);
    remove_tmp();
    json_decref(runs);
    sweep_plan_free(&p);
    return rc;
}
