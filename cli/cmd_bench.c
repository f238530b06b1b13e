#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "commands.h"
#include "sim/engine.h"
#include "sim/scenario.h"

static void bench_usage(FILE *f) {
    fprintf(f, "usage: admitsim bench [SCENARIO] [options]\n"
               "\n"
               "Measures simulated tasks per second: the scenario's task counts are scaled,\n"
               "then each policy runs --repeat times, with the event stream captured and\n"
               "without.  Reports the best and the median wall-clock rate, and the cost\n"
               "of capturing an event: (best captured - best counted) / events of both\n"
               "streams, in ns (the event log's allocation included).\n"
               "\n"
               "options:\n"
               "  --scale N     multiply records and column rows by N (default 100)\n"
               "  --repeat N    runs per configuration (default 5)\n"
               "  --seed N      scenario seed (default 1)\n"
               "  --request     request admission microbenchmarks instead: uncontended\n"
               "                acquire+release, 1,000 queued waiters across 16 groups,\n"
               "                8 threads on acquire_sync\n"
               "  --store       results store insert rate instead: runs SCENARIO (scaled)\n"
               "                once with events captured, then times writing the\n"
               "                iteration (every event) to a fresh temporary database in\n"
               "                one transaction, --repeat times; reports events/s\n"
               "  -h, --help    this text\n"
               "\n"
               "SCENARIO defaults to scenarios/heavy_root_peer_arrival.json.\n");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cmd_bench(int argc, char **argv) {
    static const struct option opts[] = {{"scale", required_argument, 0, 'x'},
                                         {"repeat", required_argument, 0, 'r'},
                                         {"seed", required_argument, 0, 's'},
                                         {"request", no_argument, 0, 'q'},
                                         {"store", no_argument, 0, 'S'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    uint64_t scale = 100, repeat = 5, seed = 1;
    bool request = false, store = false;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'x':
            if (!cli_parse_u64("bench", "--scale", optarg, 100000, &scale) || scale == 0)
                return EXIT_USAGE;
            break;
        case 'r':
            if (!cli_parse_u64("bench", "--repeat", optarg, 1000, &repeat) || repeat == 0)
                return EXIT_USAGE;
            break;
        case 's':
            if (!cli_parse_u64("bench", "--seed", optarg, UINT64_MAX, &seed)) return EXIT_USAGE;
            break;
        case 'q': request = true; break;
        case 'S': store = true; break;
        case 'h': bench_usage(stdout); return EXIT_OK;
        default: bench_usage(stderr); return EXIT_USAGE;
        }
    }
    if (argc - optind > (request ? 0 : 1)) {
        bench_usage(stderr);
        return EXIT_USAGE;
    }
    if (request) return bench_request(repeat);
    const char *path = optind < argc ? argv[optind] : "scenarios/heavy_root_peer_arrival.json";
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
    if (scaled_tasks > RUN_MAX_TASKS || work > SIM_MAX_PLANNED_WORK) {
        fprintf(stderr,
                "admitsim bench: --scale %llu makes %llu tasks and %llu units of planned work; "
                "a run may have at most %d and %d (scenarios/README.md, \"Limits\")\n",
                (unsigned long long)scale, (unsigned long long)scaled_tasks,
                (unsigned long long)work, RUN_MAX_TASKS, SIM_MAX_PLANNED_WORK);
        sim_scenario_free(sc);
        return EXIT_USAGE;
    }
    if (store) {
        int src = bench_store(sc, seed, repeat);
        sim_scenario_free(sc);
        return src;
    }
    uint64_t tasks = run_config_task_count(&sc->config);
    printf("bench %s x%llu: %llu tasks, %llu runs per row\n", sc->config.scenario_id,
           (unsigned long long)scale, (unsigned long long)tasks, (unsigned long long)repeat);
    printf("%-8s %-8s %12s %12s %14s %14s %14s\n", "policy", "events", "events/run", "best_s",
           "best_tasks/s", "median_tasks/s", "capture_ns/ev");
    double *secs = calloc(repeat, sizeof *secs);
    int rc = secs ? EXIT_OK : EXIT_FAILURE_RUN;
    for (int p = 0; p < 2 && rc == EXIT_OK; p++) {
        double best[2] = {0, 0}; /* [capture] */
        for (int capture = 1; capture >= 0 && rc == EXIT_OK; capture--) {
            sim_run_options ro = {.policy = (run_policy_kind)p,
                                  .policy_set = true,
                                  .seed = seed,
                                  .capture_events = capture};
            uint64_t events = 0; /* both streams */
            for (uint64_t i = 0; i < repeat; i++) {
                double t0 = cli_monotonic_seconds();
                res_run_record *run = sim_run_execute(sc, &ro, &err);
                secs[i] = cli_monotonic_seconds() - t0;
                if (!run) {
                    fprintf(stderr, "admitsim bench: %s\n", err.message);
                    rc = EXIT_FAILURE_RUN;
                    break;
                }
                events = run->stats.events_emitted + run->request_admission_stats.events_emitted;
                if (run->final_task_leases || run->stats.tasks_completed != tasks) {
                    fprintf(
                        stderr, "admitsim bench: run ended with %llu leases, %llu of %llu tasks\n",
                        (unsigned long long)run->final_task_leases,
                        (unsigned long long)run->stats.tasks_completed, (unsigned long long)tasks);
                    rc = EXIT_FAILURE_RUN;
                }
                res_run_record_free(run);
            }
            if (rc != EXIT_OK) break;
            qsort(secs, repeat, sizeof *secs, cmp_double);
            best[capture] = secs[0];
            printf("%-8s %-8s %12llu %12.4f %14.0f %14.0f", run_policy_name((run_policy_kind)p),
                   capture ? "captured" : "counted", (unsigned long long)events, secs[0],
                   (double)tasks / secs[0], (double)tasks / secs[repeat / 2]);
            /* (best captured - best counted) / events: what keeping every
            ** event costs, allocation of the log included */
            if (capture)
                printf("\n");
            else
                printf(" %14.1f\n", events ? (best[1] - best[0]) * 1e9 / (double)events : 0.0);
            fflush(stdout);
        }
    }
    free(secs);
    sim_scenario_free(sc);
    return rc;
}
