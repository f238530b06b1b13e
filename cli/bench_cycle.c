/* `admitsim bench --cycle`: the queue/admission microbenchmark (SPEC §9,
** scenario 1) on the core objects alone, no simulator.
**
** A case is (policy, resource mix, groups, tasks).  Its world is a fair
** queue and a task admission controller over `groups` task groups, with
** `tasks` tasks enqueued round-robin across them.  One admission cycle is
** the dispatcher's: select the next eligible task (select_next with
** is_eligible as the predicate), acquire its lease, commit the selection,
** release the lease; a run does cycles until the queue is empty.
**
** Mixes: local (every group local work: {submission: 1}, no admitted
** limit), resource (every group resource-bound: {submission: 1, llm_wait:
** 1}, weight 1 + g % 4, admitted limit 2 x weight), mixed (even groups
** local, odd groups resource-bound).  Limits: submission 64, llm_wait 32.
**
** The cases are the matrix file's (bench_matrix.c; by default
** scenarios/microbench/admission_cycle.json): every tasks x groups x mix x
** policy it lists, less those the command line filters out.
**
** Per case: `warmup` runs, unmeasured, then `repeat` runs that read the
** clock at each cycle's start: per run the p50 and p95 of one cycle and the
** mean (the run's time over its cycles); reported as the median over the
** runs, with the p50's and the p95's min and max over the runs as the spread.  Then one
** run that reads the clock between the operations: the median of select,
** acquire, commit and release.  Every figure has the clock's own cost (the
** median of back-to-back reads, measured first) taken off; medians keep a
** preempted cycle on the shared machine from moving them.  Enqueue is timed
** over all the tasks (in batches of 64, as a frontier arrives), per task,
** median over the runs.  CPU is the process's user + system time over the
** case's timed runs per cycle; peak RSS the process's high-water mark after
** the case.
*/
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "admit/fair_queue.h"
#include "admit/task_admission.h"
#include "bench.h"
#include "cli.h"
#include "res/stats.h"

enum { MIX_LOCAL, MIX_RESOURCE, MIX_MIXED, MIX_COUNT };
enum { OP_ENQUEUE, OP_SELECT, OP_ACQUIRE, OP_COMMIT, OP_RELEASE, OP_COUNT };
enum { BATCH = 64 };

static const char *const mix_names[MIX_COUNT] = {"local", "resource", "mixed"};
static const char *const op_names[OP_COUNT] = {"enqueue", "select", "acquire", "commit", "release"};
static const uint32_t limits[2] = {64, 32}; /* submission, llm_wait */

typedef struct cycle_case {
    bool bounded;
    int mix;
    uint32_t groups, tasks;
} cycle_case;

typedef struct cycle_result {
    double p50_ns, p95_ns, mean_ns; /* one cycle: medians over the timed runs */
    double min_ns, max_ns;          /* the p50's spread over the runs */
    double p95_min_ns, p95_max_ns;  /* the p95's */
    double op_ns[OP_COUNT];         /* median per operation */
    double cpu_ns;                  /* per cycle */
    long peak_rss_kb;
} cycle_result;

typedef struct world {
    admit_group_spec *groups;
    admit_task *tasks;
    admit_fair_queue *q;
    admit_task_admission *c;
} world;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The median cost of one clock read, ns. */
static double timer_overhead(void) {
    enum { N = 4001 };
    static int64_t d[N];
    for (int i = 0; i < N; i++) {
        int64_t a = now_ns();
        d[i] = now_ns() - a;
    }
    size_t k = N / 2;
    int64_t med;
    res_select_i64(d, N, &k, 1, &med);
    return (double)med;
}

static bool is_local(const cycle_case *cs, uint32_t g) {
    return cs->mix == MIX_LOCAL || (cs->mix == MIX_MIXED && g % 2 == 0);
}

static void world_free(world *w) {
    admit_task_admission_destroy(w->c);
    admit_fair_queue_destroy(w->q);
    free(w->tasks);
    free(w->groups);
    memset(w, 0, sizeof *w);
}

static bool world_groups(world *w, const cycle_case *cs) {
    w->groups = calloc(cs->groups, sizeof *w->groups);
    w->tasks = calloc(cs->tasks, sizeof *w->tasks);
    if (!w->groups || !w->tasks) return false;
    for (uint32_t g = 0; g < cs->groups; g++) {
        admit_group_spec *gs = &w->groups[g];
        bool local = is_local(cs, g);
        snprintf(gs->key, sizeof gs->key, "%s:g%u", local ? "local" : "model", g);
        gs->kind = local ? ADMIT_KIND_LOCAL : ADMIT_KIND_CUSTOM_MODEL;
        gs->weight = local ? 1 : 1 + (int)(g % 4);
        gs->admitted_limit = local ? 0 : 2 * gs->weight;
    }
    for (uint32_t i = 0; i < cs->tasks; i++) {
        admit_task *t = &w->tasks[i];
        uint32_t g = i % cs->groups;
        t->group = g;
        t->column = g;
        t->row = i / cs->groups;
        t->type = ADMIT_TASK_CELL;
        t->task_id = admit_task_id(g, ADMIT_TASK_CELL, 0, t->row);
        t->resources = (admit_resource_request){.count = 1, .resource = {0}, .amount = {1}};
        if (!is_local(cs, g))
            t->resources = (admit_resource_request){
                .count = 2, .resource = {ADMIT_RESOURCE_SUBMISSION, 1}, .amount = {1, 1}};
    }
    return true;
}

static bool world_init(world *w, const cycle_case *cs) {
    memset(w, 0, sizeof *w);
    admit_error err;
    admit_task_policy policy;
    if (!world_groups(w, cs)) goto fail;
    if (cs->bounded) {
        admit_bounded_borrow_config bc;
        admit_bounded_borrow_config_init(&bc);
        if (admit_policy_bounded_borrow(&bc, &policy, &err) != ADMIT_OK) goto fail;
    } else {
        admit_policy_strict_fair(&policy);
    }
    admit_task_admission_config ac = {.groups = w->groups,
                                      .group_count = cs->groups,
                                      .resource_count = 2,
                                      .limits = limits,
                                      .policy = policy};
    w->c = admit_task_admission_create(&ac, &err);
    w->q = admit_fair_queue_create(w->groups, cs->groups, 2, &err);
    if (w->c && w->q) return true;
fail:
    fprintf(stderr, "admitsim bench: out of memory creating the cycle world\n");
    world_free(w);
    return false;
}

/* Enqueues every task in batches of BATCH; ns per task. */
static double world_enqueue(world *w, const cycle_case *cs) {
    const admit_task *batch[BATCH];
    int64_t t0 = now_ns();
    for (uint32_t i = 0; i < cs->tasks; i += BATCH) {
        uint32_t n = cs->tasks - i < BATCH ? cs->tasks - i : BATCH;
        for (uint32_t k = 0; k < n; k++)
            batch[k] = &w->tasks[i + k];
        admit_fair_queue_enqueue(w->q, batch, n, NULL);
    }
    return (double)(now_ns() - t0) / cs->tasks;
}

static bool eligible(void *ctx, const admit_task *task, const admit_queue_view *view) {
    return admit_task_admission_is_eligible(ctx, task, view, NULL);
}

/* How a run reads the clock: not at all, at each cycle's start, or
** between the operations. */
typedef enum timing { TIME_NONE, TIME_CYCLE, TIME_OPS } timing;

typedef struct run_times {
    int64_t *cycle;        /* [tasks]: TIME_CYCLE */
    int64_t *op[OP_COUNT]; /* [tasks] per operation: TIME_OPS */
} run_times;

/* One cycle; the clock read before each operation into t[0..4] with
** TIME_OPS.  False when the world refused what the workload needs. */
static bool cycle_once(world *w, timing how, int64_t t[5]) {
    const admit_queue_view *view = admit_fair_queue_view(w->q);
    admit_queue_selection sel;
    admit_task_lease lease;
    admit_policy_decision d;
    if (how == TIME_OPS) t[0] = now_ns();
    if (!admit_fair_queue_select_next(w->q, eligible, w->c, &sel)) return false;
    if (how == TIME_OPS) t[1] = now_ns();
    if (!admit_task_admission_try_acquire(w->c, sel.task, view, 0, &lease, &d)) return false;
    if (how == TIME_OPS) t[2] = now_ns();
    if (!admit_fair_queue_commit(w->q, &sel)) return false;
    if (how == TIME_OPS) t[3] = now_ns();
    bool ok = admit_task_admission_release(w->c, lease) == ADMIT_RELEASE_RELEASED;
    if (how == TIME_OPS) t[4] = now_ns();
    return ok;
}

/* Cycles until the queue is empty; the whole run's ns per cycle, or < 0. */
static double world_cycles(world *w, const cycle_case *cs, timing how, run_times *rt) {
    int64_t t[5], start = now_ns();
    for (uint32_t i = 0; i < cs->tasks; i++) {
        if (how == TIME_CYCLE) rt->cycle[i] = now_ns();
        if (!cycle_once(w, how, t)) {
            fprintf(stderr, "admitsim bench: cycle %u of %s/%s/%u groups refused\n", i,
                    cs->bounded ? "bounded" : "strict", mix_names[cs->mix], cs->groups);
            return -1;
        }
        for (int k = 0; how == TIME_OPS && k < 4; k++)
            rt->op[OP_SELECT + k][i] = t[k + 1] - t[k];
    }
    int64_t end = now_ns();
    if (how == TIME_CYCLE) /* cycle i lasts from its start to the next one's */
        for (uint32_t i = 0; i < cs->tasks; i++)
            rt->cycle[i] = (i + 1 < cs->tasks ? rt->cycle[i + 1] : end) - rt->cycle[i];
    return (double)(end - start) / cs->tasks;
}

/* A fresh world, enqueued and cycled empty once.  Returns ns per cycle;
** *enqueue_ns the enqueue cost per task. */
static double one_run(const cycle_case *cs, timing how, run_times *rt, double *enqueue_ns) {
    world w;
    if (!world_init(&w, cs)) return -1;
    double e = world_enqueue(&w, cs);
    if (enqueue_ns) *enqueue_ns = e;
    double ns = world_cycles(&w, cs, how, rt);
    world_free(&w);
    return ns;
}

static double cpu_seconds(long *maxrss_kb) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (maxrss_kb) *maxrss_kb = ru.ru_maxrss;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

static double median_of(double *v, size_t n) {
    res_sort_double(v, n);
    return bench_median(v, n);
}

/* The values at quantiles q[0] <= q[1] of v[0..n), less the clock's cost. */
static void quantiles(int64_t *v, size_t n, const double *q, double overhead, double *out) {
    size_t k[2] = {res_quantile_index(n, q[0]), res_quantile_index(n, q[1])};
    int64_t at[2];
    res_select_i64(v, n, k, 2, at);
    out[0] = (double)at[0] - overhead;
    out[1] = (double)at[1] - overhead;
}

/* The run reading the clock between the operations: their medians. */
static bool ops_run(const cycle_case *cs, double overhead, cycle_result *out) {
    static const double half[2] = {0.5, 0.5};
    run_times rt = {0};
    bool ok = true;
    for (int op = OP_SELECT; op < OP_COUNT; op++)
        ok = (rt.op[op] = malloc(cs->tasks * sizeof *rt.op[op])) && ok;
    if (!ok) fprintf(stderr, "admitsim bench: out of memory\n");
    ok = ok && one_run(cs, TIME_OPS, &rt, NULL) >= 0;
    for (int op = OP_SELECT; op < OP_COUNT; op++) {
        double m[2] = {0, 0};
        if (ok) quantiles(rt.op[op], cs->tasks, half, overhead, m);
        out->op_ns[op] = m[0];
        free(rt.op[op]);
    }
    return ok;
}

static bool run_case(const cycle_case *cs, uint64_t warmup, uint64_t repeat, double overhead,
                     cycle_result *out) {
    static const double q[2] = {0.50, 0.95};
    memset(out, 0, sizeof *out);
    for (uint64_t i = 0; i < warmup; i++)
        if (one_run(cs, TIME_NONE, NULL, NULL) < 0) return false;
    double *v = malloc(4 * repeat * sizeof *v); /* p50, p95, mean, enqueue per run */
    run_times rt = {.cycle = malloc(cs->tasks * sizeof *rt.cycle)};
    bool ok = v && rt.cycle;
    if (!ok) fprintf(stderr, "admitsim bench: out of memory\n");
    double cpu0 = cpu_seconds(NULL);
    for (uint64_t i = 0; ok && i < repeat; i++) {
        double mean = one_run(cs, TIME_CYCLE, &rt, &v[3 * repeat + i]), pq[2];
        if (!(ok = mean >= 0)) break;
        quantiles(rt.cycle, cs->tasks, q, overhead, pq);
        v[i] = pq[0];
        v[repeat + i] = pq[1];
        v[2 * repeat + i] = mean - overhead;
    }
    if (ok) {
        out->cpu_ns = (cpu_seconds(NULL) - cpu0) * 1e9 / ((double)repeat * cs->tasks);
        out->p50_ns = median_of(v, repeat);
        out->min_ns = v[0];
        out->max_ns = v[repeat - 1];
        out->p95_ns = median_of(v + repeat, repeat);
        out->p95_min_ns = v[repeat];
        out->p95_max_ns = v[2 * repeat - 1];
        out->mean_ns = median_of(v + 2 * repeat, repeat);
        out->op_ns[OP_ENQUEUE] = median_of(v + 3 * repeat, repeat);
        ok = ops_run(cs, overhead, out);
        cpu_seconds(&out->peak_rss_kb);
    }
    free(v);
    free(rt.cycle);
    return ok;
}

/* An operation's median at or below zero once the clock read is taken off
** is below what the clock resolves: no figure (null; "-" in the table). */
static bool op_is_measured(double ns) {
    return isfinite(ns) && ns > 0;
}

/* Whether a case's cycle figures are measurements: finite and above zero
** once the clock read is taken off (else said on stderr). */
static bool cycle_is_measured(const cycle_case *cs, const cycle_result *r, double overhead) {
    const double v[] = {r->p50_ns,     r->min_ns,     r->max_ns, r->p95_ns,
                        r->p95_min_ns, r->p95_max_ns, r->mean_ns};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        if (!isfinite(v[i]) || v[i] <= 0) {
            fprintf(
                stderr,
                "admitsim bench: %s %s, %u groups, %u tasks: a cycle measured %.1f ns (p50; "
                "fastest run %.1f, mean %.1f) once the clock read (%.1f ns) is taken off, at or "
                "below what this clock resolves: no figure\n",
                cs->bounded ? "bounded" : "strict", mix_names[cs->mix], cs->groups, cs->tasks,
                r->p50_ns, r->min_ns, r->mean_ns, overhead);
            return false;
        }
    return true;
}

static json_t *case_json(const cycle_case *cs, const cycle_result *r) {
    json_t *ops = json_object();
    for (int op = 0; ops && op < OP_COUNT; op++)
        if (json_object_set_new(ops, op_names[op],
                                op_is_measured(r->op_ns[op]) ? json_real(r->op_ns[op])
                                                             : json_null()) != 0) {
            json_decref(ops);
            return NULL;
        }
    if (!ops) return NULL;
    /* flat names: cycle_p95_ns is the metric of the admission_cycle_p95 gate */
    return json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o, s:f, s:I}",
                     "policy", cs->bounded ? "bounded" : "strict", "mix", mix_names[cs->mix],
                     "groups", (json_int_t)cs->groups, "tasks", (json_int_t)cs->tasks,
                     "cycle_p50_ns", r->p50_ns, "cycle_p50_min_ns", r->min_ns, "cycle_p50_max_ns",
                     r->max_ns, "cycle_p95_ns", r->p95_ns, "cycle_p95_min_ns", r->p95_min_ns,
                     "cycle_p95_max_ns", r->p95_max_ns, "cycle_mean_ns", r->mean_ns, "ops_ns", ops,
                     "cpu_ns_per_cycle", r->cpu_ns, "peak_rss_kb", (json_int_t)r->peak_rss_kb);
}

static void case_row(const cycle_case *cs, const cycle_result *r) {
    printf("%-8s %-9s %6u %7u %8.1f %8.1f %8.1f %8.1f %8.1f", cs->bounded ? "bounded" : "strict",
           mix_names[cs->mix], cs->groups, cs->tasks, r->p50_ns, r->min_ns, r->max_ns, r->p95_ns,
           r->mean_ns);
    for (int op = 0; op < OP_COUNT; op++)
        if (op_is_measured(r->op_ns[op]))
            printf(" %8.1f", r->op_ns[op]);
        else
            printf(" %8s", "-");
    printf(" %8.1f\n", r->cpu_ns);
    fflush(stdout);
}

static bool in_filter(const bench_cycle_options *o, const cycle_case *cs) {
    return (!o->groups || o->groups == cs->groups) && (!o->tasks || o->tasks == cs->tasks) &&
           (o->mix < 0 || o->mix == cs->mix) && (o->policy < 0 || o->policy == (int)cs->bounded);
}

/* Bounded over strict at each group count, same mix and tasks; printed
** and returned as a JSON object keyed "<mix>/<tasks>/<groups>". */
static json_t *ratios(const cycle_case *cs, const cycle_result *r, size_t n, bool table) {
    json_t *out = json_object();
    for (size_t i = 0; out && i < n; i++) {
        if (!cs[i].bounded) continue;
        for (size_t j = 0; j < n; j++) {
            if (cs[j].bounded || cs[j].mix != cs[i].mix || cs[j].groups != cs[i].groups ||
                cs[j].tasks != cs[i].tasks)
                continue;
            double x = r[i].p50_ns / r[j].p50_ns;
            char key[64];
            snprintf(key, sizeof key, "%s/%u/%u", mix_names[cs[i].mix], cs[i].tasks, cs[i].groups);
            if (json_object_set_new(out, key, json_real(x)) != 0) {
                json_decref(out);
                return NULL;
            }
            if (table)
                printf("bounded / strict (p50) %-9s %7u tasks %4u groups: %.2fx\n",
                       mix_names[cs[i].mix], cs[i].tasks, cs[i].groups, x);
        }
    }
    return out;
}

#ifndef ADMIT_SCENARIOS_DIR
#define ADMIT_SCENARIOS_DIR "scenarios"
#endif
#ifndef ADMIT_SCENARIOS_INSTALLED
#define ADMIT_SCENARIOS_INSTALLED ADMIT_SCENARIOS_DIR
#endif
#define MATRIX_FILE "/microbench/admission_cycle.json"

/* The matrix file: the one given, else the source tree's, else the
** installed one. */
static const char *matrix_path(const bench_cycle_options *o) {
    if (o->matrix_file) return o->matrix_file;
    struct stat st;
    return stat(ADMIT_SCENARIOS_DIR MATRIX_FILE, &st) == 0 ? ADMIT_SCENARIOS_DIR MATRIX_FILE
                                                           : ADMIT_SCENARIOS_INSTALLED MATRIX_FILE;
}

/* The matrix's cases that pass the filters, in the file's order of mixes,
** tasks, groups and policies; *n of them (malloc'ed). */
static cycle_case *matrix_cases(const bench_matrix *m, const bench_cycle_options *o, size_t *n) {
    cycle_case *cases = malloc(3 * BENCH_MATRIX_MAX * BENCH_MATRIX_MAX * 2 * sizeof *cases);
    *n = 0;
    for (size_t x = 0; cases && x < m->nmixes; x++)
        for (size_t t = 0; t < m->ntasks; t++)
            for (size_t g = 0; g < m->ngroups; g++)
                for (size_t p = 0; p < m->npolicies; p++) {
                    cycle_case cs = {m->policies[p] == 1, m->mixes[x], m->groups[g], m->tasks[t]};
                    if (in_filter(o, &cs)) cases[(*n)++] = cs;
                }
    return cases;
}

static json_t *results_json(const bench_matrix *m, const bench_cycle_options *o, double overhead,
                            json_t *rows, json_t *ratio) {
    json_t *doc = json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:f, s:o, s:o}", "bench", "cycle",
                            "scenario_id", m->scenario_id, "scenario_version",
                            (json_int_t)m->scenario_version, "scenario_file", m->path, "warmups",
                            (json_int_t)o->warmup, "repeats", (json_int_t)o->repeat,
                            "clock_read_ns", overhead, "cases", rows, "bounded_over_strict", ratio);
    if (doc && m->check) json_object_set(doc, "check", m->check);
    return doc;
}

static int cycle_matrix(const bench_matrix *m, const bench_cycle_options *o);

int bench_cycle(const bench_cycle_options *opt) {
    bench_matrix m;
    char why[600];
    if (!bench_matrix_load(matrix_path(opt), &m, why, sizeof why)) {
        fprintf(stderr, "admitsim bench: %s\n", why);
        return EXIT_USAGE;
    }
    bench_cycle_options o = *opt;
    if (o.warmup == UINT64_MAX) o.warmup = m.warmups;
    if (o.repeat == UINT64_MAX) o.repeat = m.repeats;
    int rc = cycle_matrix(&m, &o);
    bench_matrix_release(&m);
    return rc;
}

static int cycle_matrix(const bench_matrix *m, const bench_cycle_options *o) {
    size_t n = 0;
    cycle_case *cases = matrix_cases(m, o, &n);
    cycle_result *results = malloc((n ? n : 1) * sizeof *results);
    if (!cases || !results) {
        free(cases);
        free(results);
        fprintf(stderr, "admitsim bench: out of memory\n");
        return EXIT_FAILURE_RUN;
    }
    if (n == 0) {
        free(cases);
        free(results);
        fprintf(stderr,
                "admitsim bench: no case of %s passes --groups, --tasks, --mix and "
                "--policy\n",
                m->path);
        return EXIT_USAGE;
    }
    double overhead = timer_overhead();
    if (!o->json) {
        printf("bench --cycle (%s version %llu): select + acquire + commit + release; %llu "
               "warm-up and %llu timed runs per case (medians over them; min and max: of the "
               "p50); clock read %.1f ns, taken off every figure\n",
               m->scenario_id, (unsigned long long)m->scenario_version,
               (unsigned long long)o->warmup, (unsigned long long)o->repeat, overhead);
        printf("%-8s %-9s %6s %7s %8s %8s %8s %8s %8s", "policy", "mix", "groups", "tasks",
               "p50_ns", "min", "max", "p95_ns", "mean_ns");
        for (int op = 0; op < OP_COUNT; op++)
            printf(" %8s", op_names[op]);
        printf(" %8s\n", "cpu_ns");
    }
    json_t *rows = json_array();
    bool ok = rows != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        ok = run_case(&cases[i], o->warmup, o->repeat, overhead, &results[i]) &&
             cycle_is_measured(&cases[i], &results[i], overhead);
        if (ok && o->json)
            ok = json_array_append_new(rows, case_json(&cases[i], &results[i])) == 0;
        else if (ok)
            case_row(&cases[i], &results[i]);
    }
    json_t *ratio = ok ? ratios(cases, results, n, !o->json) : NULL;
    free(cases);
    free(results);
    if (!ratio) {
        json_decref(rows);
        if (ok) fprintf(stderr, "admitsim bench: out of memory\n");
        return EXIT_FAILURE_RUN;
    }
    if (o->json) {
        json_t *doc = results_json(m, o, overhead, rows, ratio);
        int rc = doc && json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(6)) == 0;
        printf("\n");
        json_decref(doc);
        return rc ? EXIT_OK : EXIT_FAILURE_RUN;
    }
    json_decref(ratio);
    json_decref(rows);
    return EXIT_OK;
}
