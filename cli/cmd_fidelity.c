/* admitsim fidelity: one scenario simulated and run live against the mock of
** its providers, with the same seed and provider model; per metric the
** simulated value, the live value and their relative error. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "live/scenario_env.h"
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
               "metric near zero is judged on an absolute scale.  Exits 1 when a metric is\n"
               "outside the tolerance.\n"
               "\n"
               "options:\n"
               "  --time-scale F      real seconds per scenario second of the live run\n"
               "                      (default 1; all figures are in scenario seconds)\n"
               "  --tolerance X       the largest relative error accepted (default 0.05)\n"
               "  --seed N            default 1\n"
               "  --policy P | --arm NAME\n"
               "  --format table|json\n"
               "  -h, --help          this text\n");
}

#define FID_NAME_MAX (ADMIT_REQUEST_KEY_MAX + 64)

typedef struct fid_row {
    char name[FID_NAME_MAX];
    double sim, live, floor, error;
    bool within;
} fid_row;

typedef struct fid_table {
    fid_row rows[4 + 5 * 64];
    uint32_t count;
    double tolerance;
    bool all_within;
} fid_table;

static void add_row(fid_table *t, const char *name, double sim, double live, double floor) {
    if (isnan(sim) && isnan(live)) return; /* neither run has it: not applicable */
    if (t->count == sizeof t->rows / sizeof t->rows[0]) return;
    fid_row *r = &t->rows[t->count++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->sim = sim;
    r->live = live;
    r->floor = floor;
    r->error = isnan(sim) || isnan(live) ? INFINITY : fabs(live - sim) / fmax(fabs(sim), floor);
    r->within = r->error <= t->tolerance;
    if (!r->within) t->all_within = false;
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

static void compare(fid_table *t, const res_run_record *sr, const res_summary *ss,
                    const res_run_record *lr, const res_summary *ls) {
    add_row(t, "wall_time_seconds", ss->wall_time_seconds, ls->wall_time_seconds, 1.0);
    for (uint32_t r = 0; r < sr->request_resource_count && r < lr->request_resource_count; r++) {
        const res_request_stats *a = &ss->request->resources[r], *b = &ls->request->resources[r];
        const char *key = sr->request[r].key;
        char name[FID_NAME_MAX];
        snprintf(name, sizeof name, "request.%s.request_wait_p95_seconds", key);
        add_row(t, name, res_request_waits(a).p95, res_request_waits(b).p95, 1.0);
        snprintf(name, sizeof name, "request.%s.rate_limited", key);
        add_row(t, name, (double)a->outcomes[ADMIT_REQ_RATE_LIMITED],
                (double)b->outcomes[ADMIT_REQ_RATE_LIMITED], 1.0);
        snprintf(name, sizeof name, "request.%s.in_flight_mean", key);
        add_row(t, name, a->in_flight_mean, b->in_flight_mean, 0.5);
        double sd, srec, ld, lrec;
        limit_times(a, &sd, &srec);
        limit_times(b, &ld, &lrec);
        snprintf(name, sizeof name, "request.%s.limit_first_decrease_seconds", key);
        add_row(t, name, sd, ld, 1.0);
        snprintf(name, sizeof name, "request.%s.limit_recovered_seconds", key);
        add_row(t, name, srec, lrec, 1.0);
    }
}

static void print_table(const fid_table *t, const sim_scenario *sc, const res_run_record *sr,
                        const res_run_record *lr, double scale) {
    printf("fidelity %s  policy %s  seed %llu  time scale %g  tolerance %.1f%%\n",
           sc->config.scenario_id, run_policy_name(sr->policy), (unsigned long long)sr->seed, scale,
           t->tolerance * 100);
    printf("%-58s %12s %12s %9s  %s\n", "metric", "simulated", "live", "rel_err", "within");
    for (uint32_t i = 0; i < t->count; i++) {
        const fid_row *r = &t->rows[i];
        printf("%-58.58s %12.4f %12.4f %8.2f%%  %s\n", r->name, r->sim, r->live, r->error * 100,
               r->within ? "yes" : "NO");
    }
    printf("output hashes %s; leases left: simulated %llu/%llu/%llu, live %llu/%llu/%llu "
           "(task/request/waiters)\n",
           sr->output_hash_all == lr->output_hash_all ? "equal" : "differ",
           (unsigned long long)sr->final_task_leases, (unsigned long long)sr->final_request_leases,
           (unsigned long long)sr->final_request_waiters, (unsigned long long)lr->final_task_leases,
           (unsigned long long)lr->final_request_leases,
           (unsigned long long)lr->final_request_waiters);
    printf("%s\n", t->all_within ? "every metric within tolerance" : "OUTSIDE TOLERANCE");
}

static json_t *num(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

static void print_json(const fid_table *t, const sim_scenario *sc, const res_run_record *sr,
                       const res_run_record *lr, double scale) {
    json_t *rows = json_array();
    for (uint32_t i = 0; i < t->count; i++) {
        const fid_row *r = &t->rows[i];
        json_array_append_new(rows, json_pack("{s:s, s:o, s:o, s:o, s:f, s:b}", "name", r->name,
                                              "simulated", num(r->sim), "live", num(r->live),
                                              "relative_error", num(r->error), "floor", r->floor,
                                              "within", r->within));
    }
    json_t *doc =
        json_pack("{s:s, s:s, s:I, s:f, s:f, s:o, s:b, s:b, s:b}", "scenario_id",
                  sc->config.scenario_id, "policy", run_policy_name(sr->policy), "seed",
                  (json_int_t)sr->seed, "time_scale", scale, "tolerance", t->tolerance, "metrics",
                  rows, "output_hashes_equal", sr->output_hash_all == lr->output_hash_all,
                  "live_clean", res_run_record_is_clean(lr), "within_tolerance", t->all_within);
    json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
    fputc('\n', stdout);
    json_decref(doc);
}

typedef struct fid_args {
    run_policy_kind policy;
    bool policy_set, json;
    uint64_t seed;
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
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    *a = (fid_args){.seed = 1, .scale = 1, .tolerance = 0.05};
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
            if (!cli_parse_u64("fidelity", "--seed", optarg, UINT64_MAX, &a->seed))
                return EXIT_USAGE;
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

/* Both runs, then the table; the exit code. */
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
    live_scenario_options lo = {.scenario = sc,
                                .policy = policy,
                                .seed = a->seed,
                                .time_scale = a->scale,
                                .catch_signals = true};
    live_scenario_run s;
    res_error lerr = {0};
    res_run_record *lr = NULL;
    if (live_scenario_init(&s, &lo, &lerr)) {
        if (!s.use_mock) {
            res_error_set(&lerr, RES_EINVAL,
                          "the scenario's models name base URLs: fidelity "
                          "runs against the mock only");
        } else {
            fprintf(stderr, "admitsim fidelity: simulated %.3f s; running live (time scale %g)\n",
                    (double)sr->wall_ns / 1e9, a->scale);
            lr = live_runner_iteration(&s.runner, 0, &lerr);
        }
        live_scenario_free(&s);
    }
    res_summary *ss = res_summary_compute(sr), *ls = lr ? res_summary_compute(lr) : NULL;
    int rc = EXIT_FAILURE_RUN;
    if (!lr) {
        fprintf(stderr, "admitsim fidelity: live run: %s\n", lerr.message);
    } else if (!ss || !ls) {
        fprintf(stderr, "admitsim fidelity: out of memory summarising the runs\n");
    } else {
        fid_table *t = calloc(1, sizeof *t);
        if (t) {
            t->tolerance = a->tolerance;
            t->all_within = true;
            compare(t, sr, ss, lr, ls);
            if (a->json)
                print_json(t, sc, sr, lr, a->scale);
            else
                print_table(t, sc, sr, lr, a->scale);
            rc = t->all_within && res_run_record_is_clean(lr) && lr->status == ADMIT_JOB_COMPLETED
                     ? EXIT_OK
                     : EXIT_FAILURE_RUN;
            free(t);
        }
    }
    res_summary_free(ss);
    res_summary_free(ls);
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
