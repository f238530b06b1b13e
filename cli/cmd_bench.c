#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "commands.h"
#include "sim/engine.h"
#include "sim/scenario.h"
#include "res/stats.h"

static void bench_usage(FILE *f) {
    fprintf(f, "usage: admitsim bench [SCENARIO] [options]\n"
               "       admitsim bench --cycle [MATRIX] [options]\n"
               "\n"
               "Measures simulated tasks per second: the scenario's task counts are scaled.\n"
               "First the whole process: `admitsim run SCALED` as a child, per policy,\n"
               "--warmup times unmeasured and --repeat times measured, start to exit as\n"
               "tasks per second, and its peak resident set: with --no-db (process run)\n"
               "and with the default store into a new database (process store, and its\n"
               "median over run's: over_no_db).  Then in this\n"
               "process each policy (strict, bounded, provider_aware) runs --warmup times\n"
               "unmeasured and --repeat times measured, with the event stream captured and\n"
               "without.  Reports the best and the median wall-clock rate, the spread of\n"
               "the runs ((slowest - fastest) / median), and the cost of capturing an\n"
               "event: (median captured - median counted) / events of both streams, in ns\n"
               "(the event log's allocation included), +- its noise (half of both spreads\n"
               "per event); a cost below zero, within its noise or of --repeat 1 (no\n"
               "noise estimate) is flagged as no measurement.\n"
               "\n"
               "options:\n"
               "  --scale N     multiply records and column rows by N (default 100)\n"
               "  --repeat N    runs per configuration (default 5; --cycle: the file's)\n"
               "  --seed N      scenario seed (default 1)\n"
               "  --request     request admission microbenchmarks instead: uncontended\n"
               "                acquire+release, 1,000 queued waiters across 16 groups,\n"
               "                8 threads on acquire_sync\n"
               "  --store       results store insert rate instead: runs SCENARIO (scaled)\n"
               "                once with events captured, then times writing the\n"
               "                iteration to a fresh temporary database in one\n"
               "                transaction, --repeat times; reports the run's events\n"
               "                per second\n"
               "  --store-events all|notable\n"
               "                --store: store every event (all, the default here) or\n"
               "                the notable ones with the task timelines (notable, the\n"
               "                default of run)\n"
               "  --cycle       the admission-cycle microbenchmark instead (SPEC §9 scenario\n"
               "                1): select the next eligible task, acquire its lease,\n"
               "                commit the selection, release the lease, on the core\n"
               "                objects alone, for every case of the MATRIX file (default\n"
               "                scenarios/microbench/admission_cycle.json: strict and\n"
               "                bounded x resource mix (local, resource, mixed) x 1, 8, 64,\n"
               "                256 groups x 1k, 10k, 100k tasks): ns per cycle (median,\n"
               "                min, max over the runs), p50/p95 of one cycle, ns per\n"
               "                operation (enqueue, select, acquire, commit, release), CPU\n"
               "                per cycle, peak RSS, and bounded over strict per case;\n"
               "                `admitsim check NEW.json --baseline OLD.json` judges two\n"
               "                --format json results (gate admission_cycle_p95)\n"
               "  --warmup N    unmeasured runs per configuration first (default 1; with\n"
               "                --cycle per case, default the file's warmups)\n"
               "  --groups N    --cycle: only the cases with N groups\n"
               "  --tasks N     --cycle: only the cases with N tasks\n"
               "  --mix M       --cycle: only mix M (local, resource, mixed)\n"
               "  --policy P    --cycle: only policy P (strict, bounded)\n"
               "  --format F    table (default) or json: one document, simulated[] and\n"
               "                process[] rows (scale mode), or the cycle cases\n"
               "  -h, --help    this text\n"
               "\n"
               "SCENARIO (a file, or a shipped scenario's name) defaults to\n"
               "heavy_root_peer_arrival, found from any directory.  Its temporary files\n"
               "(the scaled scenario, the databases) go under $TMPDIR (else /tmp);\n"
               "SIGINT or SIGTERM (or SIGPIPE: its output closed, as by `| head`) stops\n"
               "it after the run in progress, removes them and ends it by that signal.\n");
}

/* warmup unmeasured runs, then repeat measured runs of one (policy,
** capture): wall and CPU seconds per run, sorted (fastest first); *events
** of both streams.  False when a run failed. */
static bool scale_runs(const sim_scenario *sc, const sim_run_options *ro,
                       const bench_scale_options *o, uint64_t tasks, double *secs, double *cpu,
                       uint64_t *events) {
    sim_error err;
    for (uint64_t i = 0; i < o->warmup + o->repeat; i++) {
        double t0 = cli_monotonic_seconds(), c0 = cli_cpu_seconds();
        res_run_record *run = sim_run_execute(sc, ro, &err);
        double wall = cli_monotonic_seconds() - t0, used = cli_cpu_seconds() - c0;
        if (!run) {
            fprintf(stderr, "admitsim bench: %s\n", err.message);
            return false;
        }
        if (i >= o->warmup) {
            secs[i - o->warmup] = wall;
            cpu[i - o->warmup] = used;
        }
        *events = run->stats.events_emitted + run->request_admission_stats.events_emitted;
        bool ok = !run->final_task_leases && run->stats.tasks_completed == tasks;
        if (!ok)
            fprintf(stderr, "admitsim bench: run ended with %llu leases, %llu of %llu tasks\n",
                    (unsigned long long)run->final_task_leases,
                    (unsigned long long)run->stats.tasks_completed, (unsigned long long)tasks);
        res_run_record_free(run);
        if (!ok) return false;
    }
    res_sort_double(secs, o->repeat);
    res_sort_double(cpu, o->repeat);
    return true;
}

/* One row of the scale mode: a (policy, capture) configuration's runs. */
static json_t *scale_row(const char *policy, bool capture, uint64_t events, const double *secs,
                         const double *cpu, uint64_t n, uint64_t tasks) {
    double med = bench_median(secs, n);
    return json_pack("{s:s, s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "policy", policy,
                     "events", capture ? "captured" : "counted", "events_per_run",
                     (json_int_t)events, "best_seconds", secs[0], "median_seconds", med, "spread",
                     (secs[n - 1] - secs[0]) / med, "best_tasks_per_second",
                     (double)tasks / secs[0], "median_tasks_per_second", (double)tasks / med,
                     "cpu_tasks_per_second", (double)tasks / cpu[0], "max_seconds", secs[n - 1]);
}

static void print_scale_row(json_t *row) {
    static const char *const rates[] = {"best_tasks_per_second", "median_tasks_per_second",
                                        "cpu_tasks_per_second"};
    char rate[3][32], best[32], median[32];
    for (int i = 0; i < 3; i++)
        bench_rate_text(json_real_value(json_object_get(row, rates[i])), rate[i], sizeof rate[i]);
    printf("%-14s %-8s %10lld %10s %10s %8.1f%% %13s %13s %13s",
           json_string_value(json_object_get(row, "policy")),
           json_string_value(json_object_get(row, "events")),
           (long long)json_integer_value(json_object_get(row, "events_per_run")),
           bench_seconds_text(json_real_value(json_object_get(row, "best_seconds")), best,
                              sizeof best),
           bench_seconds_text(json_real_value(json_object_get(row, "median_seconds")), median,
                              sizeof median),
           100 * json_real_value(json_object_get(row, "spread")), rate[0], rate[1], rate[2]);
}

/* What keeping every event costs, allocation of the log included:
** (median captured - median counted) / events, in ns; its noise is half of
** both configurations' spreads (max - min) per event.  A cost below zero
** or not above its noise is no measurement: said so (with --format json,
** "within_noise": true), and so is any cost of one run per configuration,
** whose noise is unknown (0, not a spread of 0). */
static json_t *capture_cost(json_t *captured, json_t *counted, uint64_t events, uint64_t repeat) {
    double cap = json_real_value(json_object_get(captured, "median_seconds"));
    double cnt = json_real_value(json_object_get(counted, "median_seconds"));
    double range = json_real_value(json_object_get(captured, "max_seconds")) -
                   json_real_value(json_object_get(captured, "best_seconds")) +
                   json_real_value(json_object_get(counted, "max_seconds")) -
                   json_real_value(json_object_get(counted, "best_seconds"));
    double ns = events ? (cap - cnt) * 1e9 / (double)events : 0;
    double noise = events ? range / 2 * 1e9 / (double)events : 0;
    return json_pack("{s:f, s:f, s:b}", "capture_ns_per_event", ns, "noise_ns_per_event", noise,
                     "within_noise", repeat < 2 || ns < 0 || ns <= noise);
}

/* The scale mode's simulated runs: each policy with the event streams
** captured, then only counted; best and median wall-clock rate and the
** spread of the runs, best CPU rate (what the machine's other load moves
** least), capture cost. */
static int bench_scale(const sim_scenario *sc, const bench_scale_options *o, uint64_t tasks,
                       json_t *rows) {
    if (!o->json)
        printf("%-14s %-8s %10s %10s %10s %9s %13s %13s %13s %14s\n", "policy", "events",
               "events/run", "best_s", "median_s", "spread", "best_tasks/s", "median_tasks/s",
               "cpu_tasks/s", "capture_ns/ev");
    double *secs = calloc(o->repeat, sizeof *secs), *cpu = calloc(o->repeat, sizeof *cpu);
    int rc = secs && cpu ? EXIT_OK : EXIT_FAILURE_RUN;
    for (int p = 0; p < RUN_POLICY_COUNT && rc == EXIT_OK; p++) {
        json_t *row[2] = {NULL, NULL}; /* [capture] */
        uint64_t events = 0;           /* both streams */
        for (int capture = 1; capture >= 0 && rc == EXIT_OK; capture--) {
            sim_run_options ro = {.policy = (run_policy_kind)p,
                                  .policy_set = true,
                                  .seed = o->seed,
                                  .capture_events = capture};
            if (!scale_runs(sc, &ro, o, tasks, secs, cpu, &events)) {
                rc = EXIT_FAILURE_RUN;
                break;
            }
            row[capture] = scale_row(run_policy_name((run_policy_kind)p), capture, events, secs,
                                     cpu, o->repeat, tasks);
            if (!o->json) print_scale_row(row[capture]);
            if (!o->json && capture) printf("\n");
        }
        if (rc == EXIT_OK) {
            json_t *cost = capture_cost(row[1], row[0], events, o->repeat);
            json_object_update(row[0], cost);
            if (!o->json) {
                double ns = json_real_value(json_object_get(cost, "capture_ns_per_event"));
                double noise = json_real_value(json_object_get(cost, "noise_ns_per_event"));
                printf(" %8.1f+-%.1f\n", ns, noise);
                if (json_is_true(json_object_get(cost, "within_noise")))
                    printf("warning: %s's capture cost %.1f ns/event is %s (+-%.1f): no "
                           "measurement; more --repeat or a quieter machine\n",
                           run_policy_name((run_policy_kind)p), ns,
                           o->repeat < 2 ? "one run's, with no noise estimate"
                           : ns < 0      ? "negative"
                                         : "within its noise",
                           noise);
            }
            json_decref(cost);
        }
        for (int c = 1; c >= 0; c--)
            if (row[c]) json_array_append_new(rows, row[c]);
        fflush(stdout);
    }
    free(secs);
    free(cpu);
    return rc;
}

/* The name's index in names[0..n), or -1 after an error on stderr. */
static int parse_name(const char *opt, const char *text, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(text, names[i])) return i;
    fprintf(stderr, "admitsim bench: %s: unknown value '%s'\n", opt, text);
    return -1;
}

static bool parse_count(const char *opt, const char *text, uint32_t *out) {
    uint64_t v;
    if (!cli_parse_range("bench", opt, text, 1, 1000000, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

int cmd_bench(int argc, char **argv) {
    static const struct option opts[] = {{"scale", required_argument, 0, 'x'},
                                         {"repeat", required_argument, 0, 'r'},
                                         {"seed", required_argument, 0, 's'},
                                         {"request", no_argument, 0, 'q'},
                                         {"store", no_argument, 0, 'S'},
                                         {"cycle", no_argument, 0, 'c'},
                                         {"warmup", required_argument, 0, 'w'},
                                         {"groups", required_argument, 0, 'g'},
                                         {"tasks", required_argument, 0, 't'},
                                         {"mix", required_argument, 0, 'm'},
                                         {"policy", required_argument, 0, 'p'},
                                         {"format", required_argument, 0, 'f'},
                                         {"store-events", required_argument, 0, 'E'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    static const char *const mixes[] = {"local", "resource", "mixed"};
    static const char *const policies[] = {"strict", "bounded"};
    static const char *const formats[] = {"table", "json"};
    uint64_t scale = 100, repeat = 5, seed = 1;
    bool request = false, store = false, cycle = false, cycle_only = false, scale_or_cycle = false;
    bench_cycle_options co = {.warmup = UINT64_MAX, .mix = -1, .policy = -1};
    bool repeat_set = false, store_all = true, store_events_set = false, scenario_opt = false;
    optind = 1;
    int ch, v = 0;
    while ((ch = cli_getopt("bench", argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 'x':
            if (!cli_parse_range("bench", "--scale", optarg, 1, 100000, &scale)) return EXIT_USAGE;
            scenario_opt = true;
            break;
        case 'r':
            if (!cli_parse_range("bench", "--repeat", optarg, 1, 1000, &repeat)) return EXIT_USAGE;
            repeat_set = true;
            break;
        case 's':
            if (!cli_parse_seed("bench", "--seed", optarg, &seed)) return EXIT_USAGE;
            scenario_opt = true;
            break;
        case 'q': request = true; break;
        case 'S': store = true; break;
        case 'E':
            if (!cli_parse_store_events("bench", optarg, &store_all)) return EXIT_USAGE;
            store_events_set = true;
            break;
        case 'c': cycle = true; break;
        case 'w':
            if (!cli_parse_u64("bench", "--warmup", optarg, 1000, &co.warmup)) return EXIT_USAGE;
            scale_or_cycle = true;
            break;
        case 'g':
            if (!parse_count("--groups", optarg, &co.groups)) return EXIT_USAGE;
            cycle_only = true;
            break;
        case 't':
            if (!parse_count("--tasks", optarg, &co.tasks)) return EXIT_USAGE;
            cycle_only = true;
            break;
        case 'm':
            if ((co.mix = parse_name("--mix", optarg, mixes, 3)) < 0) return EXIT_USAGE;
            cycle_only = true;
            break;
        case 'p':
            if ((co.policy = parse_name("--policy", optarg, policies, 2)) < 0) return EXIT_USAGE;
            cycle_only = true;
            break;
        case 'f':
            if ((v = parse_name("--format", optarg, formats, 2)) < 0) return EXIT_USAGE;
            co.json = v == 1;
            scale_or_cycle = true;
            break;
        case 'h': bench_usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (request + store + cycle > 1 || (cycle_only && !cycle)) {
        return cli_usage_error("bench", "--request, --store and --cycle exclude each other; "
                                        "--groups, --tasks, --mix and --policy go with --cycle");
    }
    if (store_events_set && !store)
        return cli_usage_error("bench", "--store-events goes with --store");
    if (scale_or_cycle && (request || store))
        return cli_usage_error("bench", "--warmup and --format go with the scale mode or --cycle, "
                                        "not with --request or --store");
    if (scenario_opt && (request || cycle))
        return cli_usage_error("bench", "--scale and --seed go with the scale mode or --store "
                                        "(a scenario's run), not with --request or --cycle");
    if (argc - optind > (request ? 0 : 1))
        return cli_usage_error("bench", "unexpected argument '%s'",
                               argv[optind + (request ? 0 : 1)]);
    co.repeat = repeat_set ? repeat : UINT64_MAX;
    co.matrix_file = cycle && optind < argc ? argv[optind] : NULL;
    if (co.warmup == UINT64_MAX && !cycle) co.warmup = 1;
    if (cycle) return bench_cycle(&co);
    if (request) return bench_request(repeat);
    char found[4096];
    const char *path = cli_scenario_path(optind < argc ? argv[optind] : "heavy_root_peer_arrival",
                                         found, sizeof found);
    sim_error err;
    sim_scenario *sc = sim_scenario_load(path, &err);
    if (!sc) {
        fprintf(stderr, "admitsim bench: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    sc->config.records *= (int64_t)scale;
    if (sc->config.buffer_size) sc->config.buffer_size *= (int64_t)scale;
    for (uint32_t c = 0; c < sc->config.column_count; c++)
        sc->config.columns[c].rows *= (int64_t)scale;
    /* the loader's budgets hold for the scaled scenario too */
    uint64_t scaled_tasks = run_config_task_count(&sc->config);
    uint64_t work = sim_scenario_planned_work(sc);
    if (sc->config.records > RUN_MAX_RECORDS || scaled_tasks > RUN_MAX_TASKS ||
        work > SIM_MAX_PLANNED_WORK) {
        fprintf(stderr,
                "admitsim bench: --scale %llu makes %lld records, %llu tasks and %llu units of "
                "planned work; a run may have at most %d, %d and %d (scenarios/README.md, "
                "\"Limits\")\n",
                (unsigned long long)scale, (long long)sc->config.records,
                (unsigned long long)scaled_tasks, (unsigned long long)work, RUN_MAX_RECORDS,
                RUN_MAX_TASKS, SIM_MAX_PLANNED_WORK);
        sim_scenario_free(sc);
        return EXIT_USAGE;
    }
    if (store) {
        int src = bench_store(sc, seed, repeat, store_all);
        sim_scenario_free(sc);
        return src;
    }
    uint64_t tasks = run_config_task_count(&sc->config);
    bench_scale_options so = {
        .seed = seed, .repeat = repeat, .warmup = co.warmup, .scale = scale, .json = co.json};
    json_t *rows = json_array(), *process = json_array();
    if (!co.json)
        printf("bench %s x%llu: %llu tasks, %llu run%s per row after %llu warm-up%s\n",
               sc->config.scenario_id, (unsigned long long)scale, (unsigned long long)tasks,
               (unsigned long long)repeat, repeat == 1 ? "" : "s", (unsigned long long)co.warmup,
               co.warmup == 1 ? "" : "s");
    /* the children first: a child's ru_maxrss starts from this process's
    ** peak (posix_spawn shares the address space until exec), which the
    ** simulated rows' captured events would raise to their size */
    int rc = rows && process ? bench_process(path, &so, tasks, process) : EXIT_FAILURE_RUN;
    if (rc == EXIT_OK) rc = bench_scale(sc, &so, tasks, rows);
    if (rc == EXIT_OK && co.json) {
        json_t *doc = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:O, s:O}", "scenario_id",
                                sc->config.scenario_id, "scenario_file", path, "scale",
                                (json_int_t)scale, "tasks", (json_int_t)tasks, "repeat",
                                (json_int_t)repeat, "warmup", (json_int_t)co.warmup, "seed",
                                (json_int_t)seed, "simulated", rows, "process", process);
        if (!doc || json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15)) != 0)
            rc = EXIT_FAILURE_RUN;
        putchar('\n');
        json_decref(doc);
    }
    json_decref(rows);
    json_decref(process);
    sim_scenario_free(sc);
    return rc;
}
