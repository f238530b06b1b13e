/* admitsim bench --store: the results store's insert rate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "res/store.h"
#include "res/summary.h"
#include "sim/engine.h"
#include "res/stats.h"

int bench_store(const sim_scenario *sc, uint64_t seed, uint64_t repeat, bool all_events) {
    sim_run_options ro = {.seed = seed, .capture_events = true};
    sim_error err;
    res_run_record *run = sim_run_execute(sc, &ro, &err);
    if (!run) {
        fprintf(stderr, "admitsim bench: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    res_summary *sum = res_summary_compute(run);
    char dir[1024];
    double *secs = calloc(repeat, sizeof *secs);
    int rc = EXIT_OK;
    cli_stop_catch();
    if (!sum || !secs) {
        fprintf(stderr, "admitsim bench: out of memory\n");
        rc = EXIT_FAILURE_RUN;
        goto out;
    }
    if (!bench_temp_dir(dir, sizeof dir)) {
        rc = EXIT_FAILURE_RUN;
        goto out;
    }
    size_t nsched = res_event_log_count(run->events);
    size_t nreq = res_event_log_count(run->request_events);
    size_t events = nsched + nreq;
    printf("bench --store %s: %zu events per iteration (%zu scheduler, %zu request), %zu of "
           "them stored (--store-events %s), %llu repeats, each into a fresh WAL database in "
           "%s\n",
           sc->config.scenario_id, events, nsched, nreq,
           all_events ? events : (size_t)res_run_record_notable_count(run),
           all_events ? "all" : "notable", (unsigned long long)repeat, dir);
    char path[1100];
    snprintf(path, sizeof path, "%s/bench.db", dir);
    for (uint64_t i = 0; i < repeat && rc == EXIT_OK && !cli_stop_caught(); i++) {
        res_store *s = NULL;
        res_error serr;
        int64_t run_id = 0;
        res_store_run_info info = {.scenario_id = sc->config.scenario_id,
                                   .scenario_version = sc->config.scenario_version,
                                   .scenario_file = sc->config.path,
                                   .policy = run_policy_name(run->policy),
                                   .seed = seed,
                                   .iterations = 1};
        if (res_store_open(path, RES_STORE_OPEN_CREATE, &s, &serr) != RES_OK) {
            fprintf(stderr, "admitsim bench: %s\n", serr.message);
            rc = EXIT_FAILURE_RUN;
            break;
        }
        res_store_keep_events(s, all_events ? RES_KEEP_ALL_EVENTS : RES_KEEP_NOTABLE_EVENTS);
        double t0 = cli_monotonic_seconds();
        if (res_store_begin_run(s, &info, &run_id, &serr) != RES_OK ||
            res_store_write_iteration(s, run_id, run, sum, &serr) != RES_OK) {
            fprintf(stderr, "admitsim bench: %s\n", serr.message);
            rc = EXIT_FAILURE_RUN;
        }
        secs[i] = cli_monotonic_seconds() - t0;
        res_store_close(s);
        cli_remove_db(path);
    }
    if (cli_stop_caught()) rc = EXIT_FAILURE_RUN;
    if (rc == EXIT_OK) {
        res_sort_double(secs, repeat);
        printf("%12s %12s %14s %16s\n", "best_s", "median_s", "best_events/s", "median_events/s");
        double med = bench_median(secs, repeat);
        printf("%12.4f %12.4f %14.0f %16.0f\n", secs[0], med, (double)events / secs[0],
               (double)events / med);
        if (all_events)
            printf("(one transaction: iterations row, the notable events (run/time index, "
                   "also by kind and resource), the lifecycle events packed 4,096 to a row, "
                   "task timelines, request attempts, metrics, snapshots, commit; target >= "
                   "1500000 events/s)\n");
        else
            printf("(one transaction: iterations row, the notable events, task timelines, "
                   "request attempts, metrics, snapshots, commit; events/s counts every event "
                   "the run made)\n");
    }
    rmdir(dir);
out:
    cli_stop_release("bench");
    free(secs);
    res_summary_free(sum);
    res_run_record_free(run);
    return rc;
}
