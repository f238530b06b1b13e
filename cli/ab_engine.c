/* The A/B engine (ab.h): a pool of worker threads simulating (arm, seed)
** jobs ahead, and the caller taking them in order through the run
** pipeline. */
#define _GNU_SOURCE /* strdup */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ab.h"
#include "cli.h"
#include "program.h"
#include "res/pipeline.h"
#include "res/store.h"
#include "res/report_files.h"
#include "sim/engine.h"

/* One (arm, seed) to run: a warm-up, or a measured pair member. */
typedef struct ab_job {
    int arm;
    uint64_t seed;
    bool warmup;
    bool done, failed;
    res_run_record *record; /* this build */
    res_metric_set metrics; /* another build's */
    uint64_t output_hash;   /* this build's */
    double elapsed;         /* seconds of host time */
    char error[1100];
} ab_job;

typedef struct ab_pool {
    const ab_spec *args;
    sim_scenario *sc[2];
    char *parameters[2]; /* each arm's overrides as a JSON object */
    ab_job *jobs;
    size_t njobs, next, taken; /* next to hand out, next to take */
    size_t window;             /* how far the workers may run ahead of taking */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char tmp[64]; /* scratch directory for other builds' output */
} ab_pool;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- running one job -------------------------------------------------------- */

/* The pipeline options of job j (a run of this build stored and written
** like `run --seed S`); ctx is the pipeline's. */
static res_pipeline_options job_pipeline(const ab_spec *a, const sim_scenario *sc,
                                         const char *parameters, const ab_job *j, void *ctx);

/* Simulates job j, keeping only the events its outputs will need (none
** for a warm-up) and building its summary as the run goes. */
static void run_here(ab_pool *p, ab_job *j) {
    res_pipeline_options po = job_pipeline(p->args, p->sc[j->arm], p->parameters[j->arm], j, NULL);
    sim_run_options o = {.seed = j->seed,
                         .capture_events = true,
                         .summarize = true,
                         .keep = j->warmup ? RES_KEEP_NO_EVENTS : res_pipeline_events_needed(&po)};
    sim_error err = {0};
    double t0 = now_seconds();
    j->record = sim_run_execute(p->sc[j->arm], &o, &err);
    j->elapsed = now_seconds() - t0;
    if (!j->record) {
        j->failed = true;
        snprintf(j->error, sizeof j->error, "%s", err.message);
    }
}

/* Reads the summary object another build printed into j->metrics. */
static void read_output(ab_job *j, const char *path) {
    json_error_t jerr;
    json_t *summary = json_load_file(path, 0, &jerr);
    if (!summary) {
        j->failed = true;
        snprintf(j->error, sizeof j->error, "its output is not JSON: %s", jerr.text);
        return;
    }
    if (!res_metrics_from_summary(summary, &j->metrics)) {
        j->failed = true;
        snprintf(j->error, sizeof j->error, "out of memory reading its output");
    } else if (!res_metric_find(&j->metrics, "wall_time_seconds")) {
        j->failed = true;
        snprintf(j->error, sizeof j->error,
                 "its output has no wall_time_seconds: not the summary `run --format json` "
                 "prints");
    }
    json_decref(summary);
}

/* Another build: `BIN run SCENARIO --arm|--policy A --seed S --iterations 1 --no-db
** --format json`, its summary read back. */
static void run_there(ab_pool *p, ab_job *j, size_t index) {
    const char *arm = p->args->arm[j->arm];
    run_policy_kind pol;
    char seed[32], out[128], errs[128], why[1024];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)j->seed);
    snprintf(out, sizeof out, "%s/%zu.json", p->tmp, index);
    snprintf(errs, sizeof errs, "%s/%zu.err", p->tmp, index);
    char *argv[] = {(char *)p->args->bin[j->arm],
                    "run",
                    (char *)p->args->scenario,
                    run_policy_parse(arm, &pol) ? "--policy" : "--arm",
                    (char *)arm,
                    "--seed",
                    seed,
                    "--iterations",
                    "1",
                    "--no-db",
                    "--format",
                    "json",
                    NULL};
    double t0 = now_seconds();
    bool ok = cli_program_run_split(p->args->bin[j->arm], argv, out, errs, why, sizeof why);
    j->elapsed = now_seconds() - t0;
    if (ok) read_output(j, out);
    if (!ok) {
        char said[400];
        cli_file_tail(errs, said, sizeof said);
        j->failed = true;
        snprintf(j->error, sizeof j->error, "%.600s%s%s", why, said[0] ? "; it said: " : "", said);
    }
    remove(errs);
    remove(out);
}

static void *worker(void *arg) {
    ab_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->next < p->njobs && p->next >= p->taken + p->window)
            pthread_cond_wait(&p->cv, &p->mu);
        size_t i = p->next < p->njobs ? p->next++ : p->njobs;
        pthread_mutex_unlock(&p->mu);
        if (i == p->njobs) return NULL;
        ab_job *j = &p->jobs[i];
        if (p->args->bin[j->arm])
            run_there(p, j, i);
        else
            run_here(p, j);
        pthread_mutex_lock(&p->mu);
        j->done = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

static ab_job *wait_job(ab_pool *p, size_t i) {
    pthread_mutex_lock(&p->mu);
    while (!p->jobs[i].done)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return &p->jobs[i];
}

/* Job i is taken: the workers may go on. */
static void job_taken(ab_pool *p, size_t i) {
    pthread_mutex_lock(&p->mu);
    p->taken = i + 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ---- the measured runs through the pipeline --------------------------------- */

typedef struct pipe_ctx {
    ab_job *job;
    res_metric_set *metrics;
    bool like_json; /* the other arm is another build's: read its figures alike */
} pipe_ctx;

static res_run_record *hand_over(void *ctx, uint32_t iteration, res_error *err) {
    (void)iteration;
    (void)err;
    pipe_ctx *c = ctx;
    res_run_record *r = c->job->record;
    c->job->record = NULL;
    return r;
}

static void collect(void *ctx, const res_run_record *r, const res_summary *s) {
    pipe_ctx *c = ctx;
    c->job->output_hash = r->output_hash_all;
    json_t *j = res_summary_to_json(s, r);
    if (j && c->like_json) {
        /* Another build's figures come through `run --format json` (15
        ** significant digits); this build's go the same way, or a build
        ** compared with itself differs in the 16th digit. */
        char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
        json_decref(j);
        j = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
    }
    if (!j || !res_metrics_from_summary(j, c->metrics)) c->job->failed = true;
    json_decref(j);
}

static res_pipeline_options job_pipeline(const ab_spec *a, const sim_scenario *sc,
                                         const char *parameters, const ab_job *j, void *ctx) {
    return (res_pipeline_options){
        .config = &sc->config,
        .policy = sc->config.default_policy,
        .seed = j->seed,
        .iterations = 1,
        .db_path = a->db_path,
        .store_all_events = a->store_all_events,
        .experiment_id = a->experiment_id,
        .arm = a->arm[j->arm],
        .parameters = parameters,
        .out_dir = !a->artifact_seeds || j->seed <= a->artifact_seeds ? a->out_dir : NULL,
        .command_line = a->command_line,
        .on_iteration = collect,
        .ctx = ctx};
}

/* A job of this build: stored and written like `run --seed S`; its metrics. */
static bool pipe_job(ab_spec *a, sim_scenario *sc, const char *parameters, ab_job *j,
                     res_metric_set *m) {
    pipe_ctx c = {.job = j, .metrics = m, .like_json = a->bin[0] || a->bin[1]};
    res_environment env = {.ctx = &c, .run_iteration = hand_over};
    res_pipeline_options po = job_pipeline(a, sc, parameters, j, &c);
    res_pipeline_result result;
    res_error err;
    res_status st = res_pipeline_run(&po, &env, &result, &err);
    if (j->seed == 1) a->first_run[j->arm] = result.run_id;
    if (st != RES_OK || j->failed) {
        fprintf(stderr, "%s: %s seed %llu: %s\n", a->who, a->arm[j->arm],
                (unsigned long long)j->seed, j->failed ? "out of memory" : err.message);
        return false;
    }
    return true;
}

static bool take_job(ab_spec *a, ab_pool *p, ab_job *j, res_experiment *e, size_t pair) {
    if (j->failed) {
        fprintf(stderr, "%s: %s seed %llu: %s\n", a->who, a->arm[j->arm],
                (unsigned long long)j->seed, j->error);
        return false;
    }
    res_metric_set m = {0};
    if (j->record) {
        if (!pipe_job(a, p->sc[j->arm], p->parameters[j->arm], j, &m)) {
            res_metric_set_free(&m);
            return false;
        }
        res_experiment_set_outputs(e, j->arm, pair, j->output_hash);
    } else {
        m = j->metrics;
        j->metrics = (res_metric_set){0};
    }
    if (!res_metric_set_add(&m, "host.elapsed_seconds", j->elapsed)) {
        res_metric_set_free(&m);
        return false;
    }
    res_experiment_set(e, j->arm, pair, &m);
    return true;
}

/* ---- the experiment ------------------------------------------------------------ */

static void list_arms(const run_arm_list *arms) {
    for (int i = 0; run_policy_names[i]; i++)
        fprintf(stderr, "%s%s", i ? ", " : "", run_policy_names[i]);
    for (uint32_t i = 0; i < arms->count; i++)
        fprintf(stderr, ", %s", arms->names[i]);
}

/* The arms to compare: as asked, else the scenario's "baseline" and
** "candidate".  0, or the exit code. */
static int pick_arms(const ab_spec *a, const run_arm_list *arms, const char *arm[2]) {
    static const char *const role[2] = {"baseline", "candidate"};
    for (int k = 0; k < 2; k++) {
        arm[k] = a->arm[k] ? a->arm[k] : role[k];
        if (run_arms_is_known(arms, arm[k])) continue;
        if (a->arm[k])
            fprintf(stderr, "%s: %s has no arm \"%s\" (it has ", a->who, a->scenario, arm[k]);
        else
            fprintf(stderr,
                    "%s: %s declares no \"%s\" arm: add one to its \"arms\", or name one with "
                    "--%s (it has ",
                    a->who, a->scenario, role[k], role[k]);
        list_arms(arms);
        fprintf(stderr, ")\n");
        return EXIT_USAGE;
    }
    return 0;
}

/* An arm's overrides as compact JSON text: the scenario's "arms" entry, or
** {"policy": {"default": NAME}} for a policy's implicit arm. */
static char *arm_parameters(const char *scenario, const char *arm) {
    json_t *doc = json_load_file(scenario, JSON_REJECT_DUPLICATES, NULL);
    json_t *over = json_object_get(json_object_get(doc, "arms"), arm);
    json_t *made = over ? json_incref(over) : json_pack("{s:{s:s}}", "policy", "default", arm);
    char *text = made ? json_dumps(made, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(made);
    json_decref(doc);
    return text;
}

/* 0 when both arms loaded, else the exit code (an unknown arm is a usage error). */
static int load_arms(const ab_spec *a, ab_pool *p, const char *arm[2], char desc[2][256]) {
    sim_error err;
    sim_scenario *plain = sim_scenario_load(a->scenario, &err);
    if (!plain) {
        fprintf(stderr, "%s: %s\n", a->who, err.message);
        return EXIT_FAILURE_RUN;
    }
    int rc = pick_arms(a, &plain->config.arms, arm);
    for (int k = 0; k < 2 && rc == 0; k++) {
        desc[k][0] = 0;
        for (uint32_t i = 0; i < plain->config.arms.count; i++)
            if (!strcmp(plain->config.arms.names[i], arm[k]))
                snprintf(desc[k], 256, "%s", plain->config.arms.descriptions[i]);
    }
    sim_scenario_free(plain);
    for (int k = 0; k < 2 && rc == 0; k++) {
        p->sc[k] = sim_scenario_load_arm(a->scenario, arm[k], &err);
        if (!p->sc[k]) {
            fprintf(stderr, "%s: %s\n", a->who, err.message);
            rc = EXIT_FAILURE_RUN;
        } else if (!(p->parameters[k] = arm_parameters(a->scenario, arm[k]))) {
            fprintf(stderr, "%s: out of memory\n", a->who);
            rc = EXIT_FAILURE_RUN;
        }
    }
    return rc;
}

/* Warm-ups of each arm first, then (baseline, candidate) per seed. */
static bool plan_jobs(const ab_spec *a, ab_pool *p) {
    p->njobs = 2 * (a->warmups + a->seeds);
    p->jobs = calloc(p->njobs, sizeof *p->jobs);
    if (!p->jobs) return false;
    size_t n = 0;
    for (uint64_t w = 0; w < a->warmups; w++)
        for (int k = 0; k < 2; k++)
            p->jobs[n++] = (ab_job){.arm = k, .seed = w + 1, .warmup = true};
    for (uint64_t s = 1; s <= a->seeds; s++)
        for (int k = 0; k < 2; k++)
            p->jobs[n++] = (ab_job){.arm = k, .seed = s};
    return true;
}

static void free_job(ab_job *j) {
    res_run_record_free(j->record);
    j->record = NULL;
    res_metric_set_free(&j->metrics);
}

/* No more work handed out; how many jobs were (they still finish). */
static size_t stop_pool(ab_pool *p) {
    pthread_mutex_lock(&p->mu);
    size_t handed = p->next;
    p->next = p->njobs;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return handed;
}

static void report_pair(const ab_spec *a, uint64_t done) {
    if (a->on_pair)
        a->on_pair(a->ctx, done, a->seeds);
    else if (isatty(STDERR_FILENO) || done % 10 == 0 || done == a->seeds)
        fprintf(stderr, "%s: %llu of %llu seeds done\n", a->who, (unsigned long long)done,
                (unsigned long long)a->seeds);
}

/* Takes every job in order as the workers finish them; after a failure,
** only waits for the jobs already handed out. */
static bool collect_all(ab_spec *a, ab_pool *p, res_experiment *e) {
    bool ok = true;
    size_t handed = p->njobs;
    for (size_t i = 0; i < handed; i++) {
        ab_job *j = wait_job(p, i);
        if (ok && !j->warmup) {
            size_t pair = (i - 2 * a->warmups) / 2;
            ok = take_job(a, p, j, e, pair);
            if (ok && j->arm == 1) report_pair(a, pair + 1);
            if (!ok) handed = stop_pool(p);
        }
        free_job(j);
        job_taken(p, i);
    }
    return ok;
}

static bool run_pool(ab_spec *a, ab_pool *p, res_experiment *e) {
    size_t nthreads = a->jobs < p->njobs ? a->jobs : p->njobs;
    pthread_t *threads = calloc(nthreads, sizeof *threads);
    if (!threads) return false;
    json_decref(json_object()); /* jansson seeds its hashing once, before any thread */
    size_t started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&threads[started], NULL, worker, p) != 0) break;
    bool ok = started > 0;
    if (!ok) fprintf(stderr, "%s: cannot start a worker thread\n", a->who);
    if (ok) ok = collect_all(a, p, e);
    stop_pool(p);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    for (size_t i = 0; i < p->njobs; i++) /* jobs never taken after a failure */
        free_job(&p->jobs[i]);
    free(threads);
    return ok;
}

/* The experiments row, when there is a database. */
static bool begin_stored(ab_spec *a, const ab_pool *p, const char *arm[2]) {
    if (!a->db_path) return true;
    res_store *st = NULL;
    res_error err;
    char name[160];
    snprintf(name, sizeof name, "%s vs %s", arm[1], arm[0]);
    res_store_experiment_info info = {.kind = RES_EXPERIMENT_AB,
                                      .scenario_id = p->sc[0]->config.scenario_id,
                                      .scenario_file = a->scenario,
                                      .name = name,
                                      .baseline_arm = arm[0],
                                      .candidate_arm = arm[1],
                                      .seeds = a->seeds,
                                      .command_line = a->command_line};
    bool ok = res_store_open(a->db_path, RES_STORE_OPEN_CREATE, &st, &err) == RES_OK &&
              res_store_begin_experiment(st, &info, &a->experiment_id, &err) == RES_OK;
    res_store_close(st);
    if (!ok) fprintf(stderr, "%s: %s\n", a->who, err.message);
    return ok;
}

/* Its verdict (e: the experiment) or its failure (e NULL). */
static bool finish_stored(const ab_spec *a, const res_experiment *e) {
    res_store *st = NULL;
    res_error err;
    json_t *j = e ? res_experiment_json(e) : NULL;
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(j);
    bool ok =
        (!e || text) && res_store_open(a->db_path, RES_STORE_OPEN_EXISTING, &st, &err) == RES_OK &&
        res_store_finish_experiment(st, a->experiment_id, e ? "complete" : "failed", text, &err) ==
            RES_OK;
    res_store_close(st);
    free(text);
    if (!ok) fprintf(stderr, "%s: %s\n", a->who, e && !text ? "out of memory" : err.message);
    return ok;
}

static int experiment(ab_spec *a, ab_pool *p, const char *arm[2], char desc[2][256],
                      res_experiment **out) {
    uint64_t *seeds = malloc(a->seeds * sizeof *seeds);
    if (!seeds || !plan_jobs(a, p)) {
        free(seeds);
        fprintf(stderr, "%s: out of memory\n", a->who);
        return EXIT_FAILURE_RUN;
    }
    for (uint64_t s = 0; s < a->seeds; s++)
        seeds[s] = s + 1;
    res_experiment *e =
        res_experiment_create(p->sc[0]->config.scenario_id, arm[0], arm[1], seeds, a->seeds);
    free(seeds);
    if (e) {
        res_experiment_describe(e, 0, desc[0]);
        res_experiment_describe(e, 1, desc[1]);
    }
    bool ok = e && begin_stored(a, p, arm) && run_pool(a, p, e) && res_experiment_compare(e);
    if (a->experiment_id && !finish_stored(a, ok ? e : NULL)) ok = false;
    if (!ok) {
        res_experiment_free(e);
        return EXIT_FAILURE_RUN;
    }
    *out = e;
    return EXIT_OK;
}

int ab_experiment_run(ab_spec *spec, res_experiment **out) {
    ab_spec a = *spec;
    const char *arm[2] = {NULL, NULL};
    char desc[2][256];
    ab_pool p = {.args = &a,
                 .window = a.jobs + 1,
                 .mu = PTHREAD_MUTEX_INITIALIZER,
                 .cv = PTHREAD_COND_INITIALIZER};
    snprintf(p.tmp, sizeof p.tmp, "/tmp/admitsim-ab-XXXXXX");
    bool external = a.bin[0] || a.bin[1];
    *out = NULL;
    int rc = load_arms(&a, &p, arm, desc);
    a.arm[0] = arm[0];
    a.arm[1] = arm[1];
    if (rc == 0 && external && !mkdtemp(p.tmp)) {
        fprintf(stderr, "%s: cannot create %s\n", a.who, p.tmp);
        rc = EXIT_FAILURE_RUN;
    } else if (rc == 0) {
        rc = experiment(&a, &p, arm, desc, out);
        if (external) rmdir(p.tmp);
    }
    spec->first_run[0] = a.first_run[0];
    spec->first_run[1] = a.first_run[1];
    spec->experiment_id = a.experiment_id;
    free(p.parameters[0]);
    free(p.parameters[1]);
    sim_scenario_free(p.sc[0]);
    sim_scenario_free(p.sc[1]);
    free(p.jobs);
    return rc;
}

bool ab_write_report(const res_experiment *e, const char *dir, const char *who) {
    char name[512], err[1100] = "out of memory";
    json_t *j = res_experiment_json(e);
    char base[400];
    snprintf(base, sizeof base, "ab-%.150s-%s-vs-%s", res_experiment_scenario(e),
             res_experiment_arm(e, 1), res_experiment_arm(e, 0));
    snprintf(name, sizeof name, "%s.json", base);
    char *text = json_dumps(j, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
    json_decref(j);
    bool ok = text && res_write_text_atomic(text, dir, name, err, sizeof err) == 0;
    free(text);
    char *md = NULL;
    size_t len = 0;
    FILE *f = ok ? open_memstream(&md, &len) : NULL;
    if (f) {
        res_experiment_print(e, f, RES_EXPERIMENT_MARKDOWN);
        fclose(f);
        snprintf(name, sizeof name, "%s.md", base);
        ok = md && res_write_text_atomic(md, dir, name, err, sizeof err) == 0;
    }
    free(md);
    if (!ok) fprintf(stderr, "%s: %s\n", who, err);
    return ok;
}
