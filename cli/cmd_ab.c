/* admitsim ab: two arms of one scenario, paired by seed, every metric
** compared (res/experiment.h).  Runs go through the run pipeline (store,
** artifacts) in (arm, seed) order whatever --jobs is, so the stored results
** and the printed figures do not depend on it; the simulation itself runs
** ahead on --jobs worker threads.  An arm with --baseline-bin or
** --candidate-bin runs another admitsim build as a child process
** (`BIN run ... --format json`), and its figures come from that output. */
#define _GNU_SOURCE /* strdup */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "program.h"
#include "res/atomic_file.h"
#include "res/experiment.h"
#include "res/pipeline.h"
#include "res/report_files.h"
#include "sim/engine.h"

typedef struct ab_args {
    const char *scenario, *arm[2], *bin[2], *out_dir, *db_path;
    uint64_t seeds, warmups, jobs;
    int format; /* 0 table, 1 json, 2 markdown */
} ab_args;

/* One (arm, seed) to run: a warm-up, or a measured pair member. */
typedef struct ab_job {
    int arm;
    uint64_t seed;
    bool warmup;
    bool done, failed;
    res_run_record *record; /* this build */
    res_metric_set metrics; /* another build's */
    double elapsed;         /* seconds of host time */
    char error[1100];
} ab_job;

typedef struct ab_pool {
    const ab_args *args;
    sim_scenario *sc[2];
    ab_job *jobs;
    size_t njobs, next;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char tmp[64]; /* scratch directory for other builds' output */
} ab_pool;

static void ab_usage(FILE *f) {
    fprintf(f, "usage: admitsim ab SCENARIO --baseline ARM --candidate ARM [options]\n"
               "\n"
               "Runs two arms of SCENARIO (each policy name is an arm; a scenario may declare\n"
               "more in \"arms\") for seeds 1..N, pairs them by seed (common random numbers)\n"
               "and compares every metric: per arm mean, stddev, p50, p95, min and max, and the\n"
               "paired difference with its 95%% confidence interval (Student's t), relative\n"
               "change and verdict (better, worse, no_difference; identical when\n"
               "deterministic).\n"
               "\n"
               "options:\n"
               "  --seeds N               seeds 1..N (default 10)\n"
               "  --warmups N             runs per arm before the measured ones, for the host\n"
               "                          timing metric only (default 0)\n"
               "  --jobs N                simulations at once (default: the number of CPUs); the\n"
               "                          results are the same for every N\n"
               "  --format table|json|markdown\n"
               "  --out DIR               also write each run's artifact and the experiment's\n"
               "                          JSON and Markdown to DIR\n"
               "  --db FILE               store the runs in FILE (default results/admitsim.db)\n"
               "  --no-db                 do not store them\n"
               "  --baseline-bin PATH     run the baseline with another admitsim build\n"
               "  --candidate-bin PATH    run the candidate with another admitsim build\n"
               "  -h, --help              this text\n"
               "\n"
               "exit codes: 0 compared (whatever the verdicts), 1 a run failed, 2 usage error\n");
}

/* -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, ab_args *a) {
    static const struct option opts[] = {{"baseline", required_argument, 0, 'b'},
                                         {"candidate", required_argument, 0, 'c'},
                                         {"seeds", required_argument, 0, 's'},
                                         {"warmups", required_argument, 0, 'w'},
                                         {"jobs", required_argument, 0, 'j'},
                                         {"format", required_argument, 0, 'f'},
                                         {"out", required_argument, 0, 'o'},
                                         {"db", required_argument, 0, 'd'},
                                         {"no-db", no_argument, 0, 'n'},
                                         {"baseline-bin", required_argument, 0, 'B'},
                                         {"candidate-bin", required_argument, 0, 'C'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    *a = (ab_args){
        .seeds = 10, .jobs = cpus > 0 ? (uint64_t)cpus : 1, .db_path = RES_STORE_DEFAULT_PATH};
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': a->arm[0] = optarg; break;
        case 'c': a->arm[1] = optarg; break;
        case 's':
            if (!cli_parse_u64("ab", "--seeds", optarg, 10000, &a->seeds) || !a->seeds) {
                if (!a->seeds) fprintf(stderr, "admitsim ab: --seeds must be at least 1\n");
                return EXIT_USAGE;
            }
            break;
        case 'w':
            if (!cli_parse_u64("ab", "--warmups", optarg, 1000, &a->warmups)) return EXIT_USAGE;
            break;
        case 'j':
            if (!cli_parse_u64("ab", "--jobs", optarg, 256, &a->jobs) || !a->jobs) {
                if (!a->jobs) fprintf(stderr, "admitsim ab: --jobs must be at least 1\n");
                return EXIT_USAGE;
            }
            break;
        case 'f':
            a->format = !strcmp(optarg, "table")      ? 0
                        : !strcmp(optarg, "json")     ? 1
                        : !strcmp(optarg, "markdown") ? 2
                                                      : -1;
            if (a->format < 0) {
                fprintf(stderr, "admitsim ab: --format expects table, json or markdown, got '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 'o': a->out_dir = optarg; break;
        case 'd': a->db_path = optarg; break;
        case 'n': a->db_path = NULL; break;
        case 'B': a->bin[0] = optarg; break;
        case 'C': a->bin[1] = optarg; break;
        case 'h': ab_usage(stdout); return EXIT_OK;
        default: ab_usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !a->arm[0] || !a->arm[1]) {
        fprintf(stderr,
                "admitsim ab: expected one SCENARIO, --baseline ARM and --candidate ARM\n\n");
        ab_usage(stderr);
        return EXIT_USAGE;
    }
    a->scenario = argv[optind];
    return -1;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- running one job -------------------------------------------------------- */

static void run_here(ab_pool *p, ab_job *j) {
    sim_run_options o = {.seed = j->seed, .capture_events = true};
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
        j->failed = true;
        snprintf(j->error, sizeof j->error, "%.600s (its messages: %s)", why, errs);
    } else {
        remove(errs);
    }
    remove(out);
}

static void *worker(void *arg) {
    ab_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
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

/* ---- the measured runs through the pipeline --------------------------------- */

typedef struct pipe_ctx {
    ab_job *job;
    res_metric_set *metrics;
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
    json_t *j = res_summary_to_json(s, r);
    if (!j || !res_metrics_from_summary(j, c->metrics)) c->job->failed = true;
    json_decref(j);
}

/* A job of this build: stored and written like `run --seed S`; its metrics. */
static bool pipe_job(const ab_args *a, sim_scenario *sc, ab_job *j, const char *cmdline,
                     res_metric_set *m) {
    pipe_ctx c = {.job = j, .metrics = m};
    res_environment env = {.ctx = &c, .run_iteration = hand_over};
    res_pipeline_options po = {.config = &sc->config,
                               .policy = sc->config.default_policy,
                               .seed = j->seed,
                               .iterations = 1,
                               .db_path = a->db_path,
                               .out_dir = a->out_dir,
                               .command_line = cmdline,
                               .on_iteration = collect,
                               .ctx = &c};
    res_pipeline_result result;
    res_error err;
    if (res_pipeline_run(&po, &env, &result, &err) != RES_OK || j->failed) {
        fprintf(stderr, "admitsim ab: %s seed %llu: %s\n", a->arm[j->arm],
                (unsigned long long)j->seed, j->failed ? "out of memory" : err.message);
        return false;
    }
    return true;
}

static bool take_job(const ab_args *a, ab_pool *p, ab_job *j, const char *cmdline,
                     res_experiment *e, size_t pair) {
    if (j->failed) {
        fprintf(stderr, "admitsim ab: %s seed %llu: %s\n", a->arm[j->arm],
                (unsigned long long)j->seed, j->error);
        return false;
    }
    res_metric_set m = {0};
    if (j->record) {
        if (!pipe_job(a, p->sc[j->arm], j, cmdline, &m)) {
            res_metric_set_free(&m);
            return false;
        }
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

/* 0 when both arms loaded, else the exit code (an unknown arm is a usage error). */
static int load_arms(const ab_args *a, ab_pool *p) {
    sim_error err;
    sim_scenario *plain = sim_scenario_load(a->scenario, &err);
    if (!plain) {
        fprintf(stderr, "admitsim ab: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    for (int k = 0; k < 2; k++)
        if (!run_arms_is_known(&plain->config.arms, a->arm[k])) {
            fprintf(stderr, "admitsim ab: %s has no arm \"%s\" (", a->scenario, a->arm[k]);
            for (int i = 0; run_policy_names[i]; i++)
                fprintf(stderr, "%s%s", i ? ", " : "", run_policy_names[i]);
            for (uint32_t i = 0; i < plain->config.arms.count; i++)
                fprintf(stderr, ", %s", plain->config.arms.names[i]);
            fprintf(stderr, ")\n");
            sim_scenario_free(plain);
            return EXIT_USAGE;
        }
    sim_scenario_free(plain);
    for (int k = 0; k < 2; k++) {
        p->sc[k] = sim_scenario_load_arm(a->scenario, a->arm[k], &err);
        if (!p->sc[k]) {
            fprintf(stderr, "admitsim ab: %s\n", err.message);
            return EXIT_FAILURE_RUN;
        }
    }
    return 0;
}

/* Warm-ups of each arm first, then (baseline, candidate) per seed. */
static bool plan_jobs(const ab_args *a, ab_pool *p) {
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
    res_metric_set_free(&j->metrics);
}

/* Takes every job in order as the workers finish them. */
static bool collect_all(const ab_args *a, ab_pool *p, res_experiment *e, const char *cmdline) {
    bool ok = true;
    for (size_t i = 0; i < p->njobs; i++) {
        ab_job *j = wait_job(p, i);
        if (ok && !j->warmup) {
            size_t pair = (i - 2 * a->warmups) / 2;
            ok = take_job(a, p, j, cmdline, e, pair);
            if (isatty(STDERR_FILENO) || (pair + 1) % 10 == 0 || pair + 1 == a->seeds)
                if (j->arm == 1)
                    fprintf(stderr, "admitsim ab: %llu of %llu seeds done\n",
                            (unsigned long long)pair + 1, (unsigned long long)a->seeds);
        }
        free_job(j);
    }
    return ok;
}

static bool run_pool(const ab_args *a, ab_pool *p, res_experiment *e, const char *cmdline) {
    size_t nthreads = a->jobs < p->njobs ? a->jobs : p->njobs;
    pthread_t *threads = calloc(nthreads, sizeof *threads);
    if (!threads) return false;
    json_decref(json_object()); /* jansson seeds its hashing once, before any thread */
    size_t started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&threads[started], NULL, worker, p) != 0) break;
    bool ok = started > 0;
    if (!ok) fprintf(stderr, "admitsim ab: cannot start a worker thread\n");
    if (ok) ok = collect_all(a, p, e, cmdline);
    if (!ok) { /* stop handing out work; wait for what runs */
        pthread_mutex_lock(&p->mu);
        p->next = p->njobs;
        pthread_mutex_unlock(&p->mu);
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    for (size_t i = 0; i < p->njobs; i++) /* jobs never taken after a failure */
        free_job(&p->jobs[i]);
    free(threads);
    return ok;
}

static bool write_report(const ab_args *a, const res_experiment *e) {
    char name[512], err[1100] = "out of memory";
    json_t *j = res_experiment_json(e);
    char base[400];
    snprintf(base, sizeof base, "ab-%.150s-%s-vs-%s",
             json_string_value(json_object_get(j, "scenario_id")), a->arm[1], a->arm[0]);
    snprintf(name, sizeof name, "%s.json", base);
    char *text = json_dumps(j, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
    json_decref(j);
    bool ok = text && res_write_text_atomic(text, a->out_dir, name, err, sizeof err) == 0;
    free(text);
    char *md = NULL;
    size_t len = 0;
    FILE *f = ok ? open_memstream(&md, &len) : NULL;
    if (f) {
        res_experiment_print(e, f, true);
        fclose(f);
        snprintf(name, sizeof name, "%s.md", base);
        ok = md && res_write_text_atomic(md, a->out_dir, name, err, sizeof err) == 0;
    }
    free(md);
    if (!ok) fprintf(stderr, "admitsim ab: %s\n", err);
    return ok;
}

static void print_result(const ab_args *a, const res_experiment *e) {
    if (a->format == 1) {
        json_t *j = res_experiment_json(e);
        json_dumpf(j, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
        fputc('\n', stdout);
        json_decref(j);
    } else {
        res_experiment_print(e, stdout, a->format == 2);
    }
}

static int experiment(const ab_args *a, ab_pool *p, const char *cmdline) {
    uint64_t *seeds = malloc(a->seeds * sizeof *seeds);
    if (!seeds || !plan_jobs(a, p)) {
        free(seeds);
        fprintf(stderr, "admitsim ab: out of memory\n");
        return EXIT_FAILURE_RUN;
    }
    for (uint64_t s = 0; s < a->seeds; s++)
        seeds[s] = s + 1;
    res_experiment *e =
        res_experiment_create(p->sc[0]->config.scenario_id, a->arm[0], a->arm[1], seeds, a->seeds);
    free(seeds);
    bool ok = e && run_pool(a, p, e, cmdline) && res_experiment_compare(e);
    if (ok) print_result(a, e);
    if (ok && a->out_dir) ok = write_report(a, e);
    res_experiment_free(e);
    return ok ? EXIT_OK : EXIT_FAILURE_RUN;
}

int cmd_ab(int argc, char **argv) {
    char *cmdline = cli_command_line(argc, argv);
    ab_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) {
        free(cmdline);
        return rc;
    }
    ab_pool p = {.args = &a, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    snprintf(p.tmp, sizeof p.tmp, "/tmp/admitsim-ab-XXXXXX");
    bool external = a.bin[0] || a.bin[1];
    rc = load_arms(&a, &p);
    if (rc == 0 && external && !mkdtemp(p.tmp)) {
        fprintf(stderr, "admitsim ab: cannot create %s\n", p.tmp);
        rc = EXIT_FAILURE_RUN;
    } else if (rc == 0) {
        rc = experiment(&a, &p, cmdline);
        if (external) rmdir(p.tmp);
    }
    sim_scenario_free(p.sc[0]);
    sim_scenario_free(p.sc[1]);
    free(p.jobs);
    free(cmdline);
    return rc;
}
