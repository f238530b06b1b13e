/* admitsim fidelity: one scenario simulated and run live against the mock of
** its providers, with the same seed and provider model; per metric the
** simulated value, the live value and their relative error.
**
** Counts of discrete events (rate limits) are judged against the range the
** simulator itself gives them over an ensemble of iterations, not against
** the seed's one value: such a count is decided at near-simultaneous
** instants (which calls reach the server between a capacity drop and the
** client's hearing of the first 429), and the live run's timing, a fraction
** of a millisecond per call, makes it another draw of that count. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "fidelity.h"
#include "live/scenario_env.h"
#include "res/artifact.h"
#include "res/request_report.h"
#include "res/summary.h"
#include "sim/engine.h"

static void fidelity_usage(FILE *f) {
    fprintf(f, "usage: admitsim fidelity SCENARIO [options]\n"
               "\n"
               "Runs SCENARIO in the simulator and live against a mock of its simulated\n"
               "providers (the same seed: the same workload draws and provider streams), and\n"
               "prints per metric the simulated value, the live value and the relative error\n"
               "|live - simulated| / max(|simulated|, floor): wall time; per request resource\n"
               "the request wait p95, the rate-limited count, the mean in-flight calls, and\n"
               "the limit timeline's first decrease and recovery (back to its starting limit)\n"
               "times.  Floors: 1 s for times, 1 for counts, 0.5 for in-flight means, so a\n"
               "metric near zero is judged on an absolute scale.  A count (rate limits) is\n"
               "judged against the range [min, max] the simulator gives it over --ensemble\n"
               "iterations of the seed (the seed's own run is iteration 0): its error is\n"
               "the live count's distance outside that range over max(simulated, 1), 0\n"
               "inside it.  Exits 1 when a metric is outside the tolerance.\n"
               "\n"
               "options:\n"
               "  --time-scale F      real seconds per scenario second of the live run\n"
               "                      (default 1; all figures are in scenario seconds)\n"
               "  --tolerance X       the largest relative error accepted (default 0.05)\n"
               "  --ensemble N        simulated iterations that give a count its range\n"
               "                      (default 40; 1: the seed's count alone)\n"
               "  --realtime          run the live run's threads at SCHED_FIFO priority 1\n"
               "                      (a warning, and a normal-priority run, when the\n"
               "                      system does not permit it)\n"
               "  --seed N            default 1\n"
               "  --policy P | --arm NAME\n"
               "  --format table|json\n"
               "  -h, --help          this text\n");
}

/* The first limit decrease, and the first time after it that the limit is
** back at its starting value (NaN: none). */
static void limit_times(const res_request_stats *rs, double *decrease, double *recovery) {
    *decrease = *recovery = NAN;
    if (!rs->limit_point_count) return;
    int64_t start = rs->limit_points[0][1];
    for (size_t i = 1; i < rs->limit_point_count; i++) {
        if (isnan(*decrease) && rs->limit_points[i][1] < rs->limit_points[i - 1][1])
            *decrease = (double)rs->limit_points[i][0] / 1e9;
        else if (!isnan(*decrease) && rs->limit_points[i][1] >= start) {
            *recovery = (double)rs->limit_points[i][0] / 1e9;
            return;
        }
    }
}

/* The range of each request resource's rate-limited count over the
** ensemble (counts[r] = {min, max}). */
typedef struct fid_ranges {
    double (*counts)[2];
    uint32_t count;
} fid_ranges;

static void compare(fid_table *t, const res_run_record *sr, const res_summary *ss,
                    const res_run_record *lr, const res_summary *ls, const fid_ranges *ranges) {
    fid_add_row(t, "wall_time_seconds", ss->wall_time_seconds, ls->wall_time_seconds, 1.0);
    for (uint32_t r = 0; r < sr->request_resource_count && r < lr->request_resource_count; r++) {
        const res_request_stats *a = &ss->request->resources[r], *b = &ls->request->resources[r];
        const char *key = sr->request[r].key;
        char name[FID_NAME_MAX];
        snprintf(name, sizeof name, "request.%s.request_wait_p95_seconds", key);
        fid_add_row(t, name, res_request_waits(a).p95, res_request_waits(b).p95, 1.0);
        snprintf(name, sizeof name, "request.%s.rate_limited", key);
        double sim_count = (double)a->outcomes[ADMIT_REQ_RATE_LIMITED];
        fid_add_count_row(t, name, sim_count, (double)b->outcomes[ADMIT_REQ_RATE_LIMITED],
                          r < ranges->count ? ranges->counts[r][0] : sim_count,
                          r < ranges->count ? ranges->counts[r][1] : sim_count);
        snprintf(name, sizeof name, "request.%s.in_flight_mean", key);
        fid_add_row(t, name, a->in_flight_mean, b->in_flight_mean, 0.5);
        double sd, srec, ld, lrec;
        limit_times(a, &sd, &srec);
        limit_times(b, &ld, &lrec);
        snprintf(name, sizeof name, "request.%s.limit_first_decrease_seconds", key);
        fid_add_row(t, name, sd, ld, 1.0);
        snprintf(name, sizeof name, "request.%s.limit_recovered_seconds", key);
        fid_add_row(t, name, srec, lrec, 1.0);
    }
}

static void print_table(const fid_table *t, const sim_scenario *sc, const res_run_record *sr,
                        const res_run_record *lr, double scale) {
    printf("fidelity %s  policy %s  seed %llu  time scale %g  tolerance %.1f%%  realtime %s\n",
           sc->config.scenario_id, run_policy_name(sr->policy), (unsigned long long)sr->seed, scale,
           t->tolerance * 100,
           !t->realtime_requested ? "off"
           : t->realtime_applied  ? "SCHED_FIFO 1"
                                  : "not applied");
    fid_print_rows(stdout, t);
    printf("output hashes %s; leases left: simulated %llu/%llu/%llu, live %llu/%llu/%llu "
           "(task/request/waiters)\n",
           sr->output_hash_all == lr->output_hash_all ? "equal" : "differ",
           (unsigned long long)sr->final_task_leases, (unsigned long long)sr->final_request_leases,
           (unsigned long long)sr->final_request_waiters, (unsigned long long)lr->final_task_leases,
           (unsigned long long)lr->final_request_leases,
           (unsigned long long)lr->final_request_waiters);
    printf("%s\n", t->all_within ? "every metric within tolerance" : "OUTSIDE TOLERANCE");
}

static void print_json(const fid_table *t, const sim_scenario *sc, const res_run_record *sr,
                       const res_run_record *lr, double scale) {
    json_t *rows = fid_rows_json(t);
    json_t *rt =
        json_pack("{s:b, s:b}", "requested", t->realtime_requested, "applied", t->realtime_applied);
    if (t->realtime_requested && !t->realtime_applied)
        json_object_set_new(rt, "reason", json_string(t->realtime_why));
    json_t *doc =
        json_pack("{s:s, s:s, s:I, s:f, s:f, s:I, s:o, s:o, s:b, s:b, s:b}", "scenario_id",
                  sc->config.scenario_id, "policy", run_policy_name(sr->policy), "seed",
                  (json_int_t)sr->seed, "time_scale", scale, "tolerance", t->tolerance, "ensemble",
                  (json_int_t)t->ensemble, "realtime", rt, "metrics", rows, "output_hashes_equal",
                  sr->output_hash_all == lr->output_hash_all, "live_clean",
                  res_run_record_is_clean(lr), "within_tolerance", t->all_within);
    json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
    fputc('\n', stdout);
    json_decref(doc);
}

typedef struct fid_args {
    run_policy_kind policy;
    bool policy_set, json, realtime;
    uint64_t seed, ensemble;
    double scale, tolerance;
    const char *scenario, *arm;
} fid_args;

static int parse_args(int argc, char **argv, fid_args *a) {
    static const struct option opts[] = {{"time-scale", required_argument, 0, 't'},
                                         {"tolerance", required_argument, 0, 'x'},
                                         {"seed", required_argument, 0, 's'},
                                         {"policy", required_argument, 0, 'p'},
                                         {"arm", required_argument, 0, 'a'},
                                         {"format", required_argument, 0, 'f'},
                                         {"ensemble", required_argument, 0, 'e'},
                                         {"realtime", no_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    *a = (fid_args){.seed = 1, .ensemble = 40, .scale = 1, .tolerance = 0.05};
    optind = 1;
    int ch;
    char *end;
    while ((ch = cli_getopt("fidelity", argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 't':
            if (!cli_parse_time_scale("fidelity", optarg, &a->scale)) return EXIT_USAGE;
            break;
        case 'x':
            a->tolerance = strtod(optarg, &end);
            if (end == optarg || *end || !(a->tolerance >= 0) || !isfinite(a->tolerance)) {
                fprintf(stderr, "admitsim fidelity: --tolerance expects a number >= 0, got '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 's':
            if (!cli_parse_seed("fidelity", "--seed", optarg, &a->seed)) return EXIT_USAGE;
            break;
        case 'p':
            if (!run_policy_parse(optarg, &a->policy)) {
                fprintf(stderr,
                        "admitsim fidelity: --policy expects strict, bounded or "
                        "provider_aware, got '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            a->policy_set = true;
            break;
        case 'a': a->arm = optarg; break;
        case 'e':
            if (!cli_parse_u64("fidelity", "--ensemble", optarg, 10000, &a->ensemble))
                return EXIT_USAGE;
            if (a->ensemble == 0) {
                fprintf(stderr, "admitsim fidelity: --ensemble expects at least 1\n");
                return EXIT_USAGE;
            }
            break;
        case 'r': a->realtime = true; break;
        case 'f':
            if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
                fprintf(stderr, "admitsim fidelity: --format expects table or json\n");
                return EXIT_USAGE;
            }
            a->json = !strcmp(optarg, "json");
            break;
        case 'h': fidelity_usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_usage_error("fidelity", "expected exactly one SCENARIO file");
        return EXIT_USAGE;
    }
    a->scenario = argv[optind];
    return -1;
}

/* The rate-limited count of each request resource over iterations
** 0..ensemble-1 of the seed (iteration 0 is sr itself). */
static bool simulate_ranges(const fid_args *a, const sim_scenario *sc, const res_run_record *sr,
                            const res_summary *ss, fid_ranges *out) {
    out->count = sr->request_resource_count;
    out->counts = calloc(out->count ? out->count : 1, sizeof *out->counts);
    if (!out->counts) {
        fprintf(stderr, "admitsim fidelity: out of memory simulating the counts' range\n");
        return false;
    }
    for (uint32_t r = 0; r < out->count; r++)
        out->counts[r][0] = out->counts[r][1] =
            (double)ss->request->resources[r].outcomes[ADMIT_REQ_RATE_LIMITED];
    for (uint32_t i = 1; i < a->ensemble; i++) {
        sim_run_options so = {.policy = sr->policy,
                              .policy_set = true,
                              .seed = a->seed,
                              .iteration = i,
                              .capture_events = true};
        sim_error serr = {0};
        res_run_record *er = sim_run_execute(sc, &so, &serr);
        res_summary *es = er ? res_summary_compute(er) : NULL;
        if (!es) {
            fprintf(stderr, "admitsim fidelity: simulation, iteration %u: %s\n", i,
                    er ? "out of memory" : serr.message);
            res_run_record_free(er);
            return false;
        }
        for (uint32_t r = 0; r < out->count && r < er->request_resource_count; r++) {
            double n = (double)es->request->resources[r].outcomes[ADMIT_REQ_RATE_LIMITED];
            out->counts[r][0] = fmin(out->counts[r][0], n);
            out->counts[r][1] = fmax(out->counts[r][1], n);
        }
        res_summary_free(es);
        res_run_record_free(er);
    }
    return true;
}

/* The live run against the mock, at real-time priority when asked (and
** permitted): its threads are created after the switch and inherit it. */
static res_run_record *run_live(const fid_args *a, const sim_scenario *sc, run_policy_kind policy,
                                fid_table *t) {
    live_scenario_options lo = {.scenario = sc,
                                .policy = policy,
                                .seed = a->seed,
                                .time_scale = a->scale,
                                .catch_signals = true};
    live_scenario_run s;
    res_error lerr = {0};
    res_run_record *lr = NULL;
    t->realtime_requested = a->realtime;
    if (a->realtime) {
        t->realtime_applied = cli_set_realtime(true, t->realtime_why, sizeof t->realtime_why);
        if (!t->realtime_applied)
            fprintf(stderr,
                    "admitsim fidelity: warning: --realtime: SCHED_FIFO %s; the live run goes at "
                    "normal priority, its timers late by the machine's load\n",
                    t->realtime_why);
    }
    if (live_scenario_init(&s, &lo, &lerr)) {
        if (!s.use_mock)
            res_error_set(&lerr, RES_EINVAL,
                          "the scenario's models name base URLs: fidelity "
                          "runs against the mock only");
        else
            lr = live_runner_iteration(&s.runner, 0, &lerr);
        live_scenario_free(&s);
    }
    char why[128];
    if (t->realtime_applied) cli_set_realtime(false, why, sizeof why);
    if (!lr) fprintf(stderr, "admitsim fidelity: live run: %s\n", lerr.message);
    return lr;
}

/* The table of both runs; the exit code. */
static int report(const fid_args *a, const sim_scenario *sc, fid_table *t, const res_run_record *sr,
                  const res_summary *ss, const res_run_record *lr, const fid_ranges *ranges) {
    res_summary *ls = res_summary_compute(lr);
    if (!ls) {
        fprintf(stderr, "admitsim fidelity: out of memory summarising the live run\n");
        return EXIT_FAILURE_RUN;
    }
    t->tolerance = a->tolerance;
    t->ensemble = (uint32_t)a->ensemble;
    compare(t, sr, ss, lr, ls, ranges);
    fid_judge(t);
    if (a->json)
        print_json(t, sc, sr, lr, a->scale);
    else
        print_table(t, sc, sr, lr, a->scale);
    res_summary_free(ls);
    return t->all_within && res_run_record_is_clean(lr) && lr->status == ADMIT_JOB_COMPLETED
               ? EXIT_OK
               : EXIT_FAILURE_RUN;
}

/* The simulated run and its ensemble, the live run, then the table. */
static int run_both(const fid_args *a, const sim_scenario *sc) {
    run_policy_kind policy = a->policy_set ? a->policy : sc->config.default_policy;
    sim_run_options so = {
        .policy = policy, .policy_set = true, .seed = a->seed, .capture_events = true};
    sim_error serr = {0};
    res_run_record *sr = sim_run_execute(sc, &so, &serr);
    if (!sr) {
        fprintf(stderr, "admitsim fidelity: simulation: %s\n", serr.message);
        return EXIT_FAILURE_RUN;
    }
    res_summary *ss = res_summary_compute(sr);
    fid_table *t = calloc(1, sizeof *t);
    fid_ranges ranges = {0};
    res_run_record *lr = NULL;
    int rc = EXIT_FAILURE_RUN;
    if (!ss || !t) {
        fprintf(stderr, "admitsim fidelity: out of memory summarising the simulated run\n");
    } else if (simulate_ranges(a, sc, sr, ss, &ranges)) {
        fprintf(stderr,
                "admitsim fidelity: simulated %.3f s (and %llu more iterations for the counts' "
                "range); running live (time scale %g)\n",
                (double)sr->wall_ns / 1e9, (unsigned long long)(a->ensemble - 1), a->scale);
        lr = run_live(a, sc, policy, t);
        if (lr) rc = report(a, sc, t, sr, ss, lr, &ranges);
    }
    free(ranges.counts);
    free(t);
    res_summary_free(ss);
    res_run_record_free(sr);
    res_run_record_free(lr);
    return rc;
}

int cmd_fidelity(int argc, char **argv) {
    fid_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    sim_error err;
    sim_scenario *sc = cli_scenario_load(a.scenario, a.arm, &err);
    if (!sc) {
        fprintf(stderr, "admitsim fidelity: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    rc = run_both(&a, sc);
    sim_scenario_free(sc);
    return rc;
}
