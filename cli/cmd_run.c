#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "res/artifact.h"
#include "res/report_files.h"
#include "res/request_report.h"
#include "res/store.h"
#include "res/summary.h"
#include "sim/engine.h"
#include "sim/scenario.h"

static void run_usage(FILE *f) {
    fprintf(f, "usage: admitsim run SCENARIO [options]\n"
               "\n"
               "Simulates SCENARIO (a JSON file, see scenarios/README.md) on the virtual clock\n"
               "with the core scheduler and prints a summary.\n"
               "\n"
               "options:\n"
               "  --policy strict|bounded|provider_aware\n"
               "                           task admission policy (default: the scenario's)\n"
               "  --seed N                 scenario seed (default 1)\n"
               "  --iterations N           measured iterations, seeds the streams per iteration\n"
               "                           (default 1)\n"
               "  --out DIR                also write DIR/<scenario>-<policy>-seed<N>.json, the\n"
               "                           full artifact with every event\n"
               "  --format table|json      table for people (default), or one JSON object\n"
               "  --db FILE                store the run (inputs, every event, metrics,\n"
               "                           snapshots) in the SQLite database FILE, one\n"
               "                           transaction per iteration (default\n"
               "                           results/admitsim.db; the directory is created)\n"
               "  --no-db                  do not store the run\n"
               "  -h, --help               this text\n"
               "\n"
               "The JSON object describes iteration 0: scenario_id, policy, seed,\n"
               "wall_time_seconds, slot_utilization, final_task_leases and groups (per column:\n"
               "tasks, first_wait_seconds, wait_mean/p50/p95/max_seconds, idle_seconds),\n"
               "final_request_leases, final_request_waiters, request_resources (per\n"
               "provider/model/domain: attempts, leases, rate_limited, outcomes,\n"
               "request_wait_mean/p50/p95/max_seconds, in_flight_mean/max, effective_max,\n"
               "initial_limit, current_limit_end/min, limit_decreases/increases,\n"
               "cooldown_seconds, utilization_while_others_cooling, limit_timeline) and\n"
               "providers (busy_fraction).\n");
}

static void print_table(const res_summary *s, const sim_run *run, uint64_t iterations) {
    printf("scenario %s  policy %s  seed %llu  iterations %llu  status %s\n",
           run->scenario->scenario_id, sim_policy_name(run->policy), (unsigned long long)run->seed,
           (unsigned long long)iterations, admit_job_status_name(run->status));
    printf("wall time %.3f s  slot utilization %.3f  final task leases %llu  tasks %llu done, %llu "
           "dropped\n",
           s->wall_time_seconds, s->slot_utilization, (unsigned long long)s->final_task_leases,
           (unsigned long long)run->stats.tasks_completed,
           (unsigned long long)run->stats.tasks_dropped);
    printf("%-20s %8s %10s %10s %10s %10s %10s %10s\n", "column", "tasks", "first_wait",
           "wait_mean", "wait_p50", "wait_p95", "wait_max", "idle");
    for (uint32_t c = 0; c < s->column_count; c++) {
        const res_column_summary *cs = &s->columns[c];
        printf("%-20.20s %8llu %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f\n", cs->column,
               (unsigned long long)cs->tasks, cs->first_wait_seconds, cs->wait_mean_seconds,
               cs->wait_p50_seconds, cs->wait_p95_seconds, cs->wait_max_seconds, cs->idle_seconds);
    }
    if (run->request_resource_count) {
        printf("%-28s %8s %8s %6s %9s %9s %9s %7s %5s %5s %5s %8s %8s\n", "request resource",
               "attempts", "leases", "429s", "wait_p50", "wait_p95", "wait_max", "flight", "max",
               "limit", "min", "cooldown", "util_oc");
        for (uint32_t r = 0; r < run->request_resource_count; r++) {
            const sim_request_stats *rs = &run->request[r];
            res_wait_quantiles q = res_request_waits(rs);
            printf("%-28.28s %8llu %8llu %6llu %9.3f %9.3f %9.3f %7.2f %5u %5u %5u %8.2f ", rs->key,
                   (unsigned long long)rs->attempts, (unsigned long long)rs->leases,
                   (unsigned long long)rs->outcomes[ADMIT_REQ_RATE_LIMITED], q.p50, q.p95, q.max,
                   rs->in_flight_mean, rs->in_flight_max, rs->final.current_limit,
                   rs->final.min_limit, (double)rs->cooldown_ns / 1e9);
            if (rs->utilization_while_others_cooling >= 0)
                printf("%8.3f\n", rs->utilization_while_others_cooling);
            else
                printf("%8s\n", "-");
        }
        for (uint32_t i = 0; i < run->provider_count; i++)
            printf("provider %s busy %.3f\n", run->provider_names[i],
                   run->provider_busy_fraction[i]);
    }
    for (uint32_t i = 0; i < run->diagnostic_count; i++)
        printf("diagnostic: %s\n", run->diagnostics[i]);
}

static char *join_args(int argc, char **argv) {
    size_t len = 16;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = malloc(len);
    if (!s) return NULL;
    strcpy(s, "admitsim");
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

int cmd_run(int argc, char **argv) {
    static const struct option opts[] = {{"policy", required_argument, 0, 'p'},
                                         {"seed", required_argument, 0, 's'},
                                         {"iterations", required_argument, 0, 'i'},
                                         {"out", required_argument, 0, 'o'},
                                         {"format", required_argument, 0, 'f'},
                                         {"db", required_argument, 0, 'd'},
                                         {"no-db", no_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    sim_run_options ro = {.seed = 1, .capture_events = true};
    uint64_t iterations = 1;
    const char *out_dir = NULL;
    bool json_out = false;
    const char *db_path = RES_STORE_DEFAULT_PATH;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            if (!sim_policy_parse(optarg, &ro.policy)) {
                fprintf(
                    stderr,
                    "admitsim run: --policy expects strict, bounded or provider_aware, got '%s'\n",
                    optarg);
                return EXIT_USAGE;
            }
            ro.policy_set = true;
            break;
        case 's':
            if (!cli_parse_u64("run", "--seed", optarg, UINT64_MAX, &ro.seed)) return EXIT_USAGE;
            break;
        case 'i':
            if (!cli_parse_u64("run", "--iterations", optarg, 4096, &iterations)) return EXIT_USAGE;
            if (iterations == 0) {
                fprintf(stderr, "admitsim run: --iterations must be at least 1\n");
                return EXIT_USAGE;
            }
            break;
        case 'o': out_dir = optarg; break;
        case 'f':
            if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
                fprintf(stderr, "admitsim run: --format expects table or json, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            json_out = !strcmp(optarg, "json");
            break;
        case 'd': db_path = optarg; break;
        case 'n': db_path = NULL; break;
        case 'h': run_usage(stdout); return EXIT_OK;
        default: run_usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "admitsim run: expected exactly one SCENARIO file\n\n");
        run_usage(stderr);
        return EXIT_USAGE;
    }
    double t0 = cli_monotonic_seconds();
    clock_t cpu0 = clock();
    sim_error err;
    sim_scenario *sc = sim_scenario_load(argv[optind], &err);
    if (!sc) {
        fprintf(stderr, "admitsim run: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    int rc = EXIT_OK;
    res_store *store = NULL;
    int64_t run_id = 0;
    if (db_path) {
        char serr[1100], *cmdline = join_args(argc, argv);
        res_store_run_info info = {
            .scenario_id = sc->scenario_id,
            .scenario_version = sc->scenario_version,
            .scenario_file = sc->path,
            .policy = sim_policy_name(ro.policy_set ? ro.policy : sc->default_policy),
            .seed = ro.seed,
            .iterations = iterations,
            .command_line = cmdline};
        int src = res_store_open(db_path, RES_STORE_OPEN_CREATE, &store, serr, sizeof serr);
        if (src == RES_STORE_OK) cli_watch_lock_waits(store, db_path);
        if (src == RES_STORE_OK && res_store_begin_run(store, &info, &run_id) != RES_STORE_OK) {
            snprintf(serr, sizeof serr, "%s", res_store_errmsg(store));
            src = RES_STORE_ERROR;
        }
        free(cmdline);
        if (src != RES_STORE_OK) {
            fprintf(stderr, "admitsim run: %s\n", serr);
            res_store_close(store);
            sim_scenario_free(sc);
            return EXIT_FAILURE_RUN;
        }
    }
    sim_run **runs = calloc(iterations, sizeof *runs);
    res_summary **sums = calloc(iterations, sizeof *sums);
    if (!runs || !sums) {
        fprintf(stderr, "admitsim run: out of memory\n");
        rc = EXIT_FAILURE_RUN;
        goto done;
    }
    for (uint64_t i = 0; i < iterations; i++) {
        ro.iteration = (uint32_t)i;
        if (iterations > 1)
            fprintf(stderr, "admitsim run: %s iteration %llu/%llu\n", sc->scenario_id,
                    (unsigned long long)i + 1, (unsigned long long)iterations);
        runs[i] = sim_run_execute(sc, &ro, &err);
        if (!runs[i]) {
            fprintf(stderr, "admitsim run: %s\n", err.message);
            rc = EXIT_FAILURE_RUN;
            goto done;
        }
        sums[i] = res_summary_compute(runs[i]);
        if (!sums[i]) {
            fprintf(stderr, "admitsim run: out of memory summarising the run\n");
            rc = EXIT_FAILURE_RUN;
            goto done;
        }
        if (store && res_store_write_iteration(store, run_id, runs[i], sums[i]) != RES_STORE_OK) {
            fprintf(stderr, "admitsim run: %s\n", res_store_errmsg(store));
            rc = EXIT_FAILURE_RUN;
            goto done;
        }
    }
    if (out_dir) {
        char *cmdline = join_args(argc, argv);
        res_host_info host = {.command_line = cmdline,
                              .cpu_seconds = (double)(clock() - cpu0) / CLOCKS_PER_SEC,
                              .elapsed_seconds = cli_monotonic_seconds() - t0};
        json_t *art = res_artifact_build(runs, sums, iterations, &host);
        free(cmdline);
        char name[512], werr[1024];
        snprintf(name, sizeof name, "%.200s-%s-seed%llu.json", sc->scenario_id,
                 sim_policy_name(runs[0]->policy), (unsigned long long)ro.seed);
        if (!art || res_write_json_atomic(art, out_dir, name, werr, sizeof werr) != 0) {
            fprintf(stderr, "admitsim run: %s\n",
                    art ? werr : "out of memory building the artifact");
            rc = EXIT_FAILURE_RUN;
        } else {
            fprintf(stderr, "admitsim run: wrote %s/%s\n", out_dir, name);
        }
        json_decref(art);
        if (rc != EXIT_OK) goto done;
        /* The Markdown summary and the metrics CSV beside the artifact. */
        char *md = res_markdown_summary(runs, sums, iterations);
        char *csv = res_metrics_csv(runs, sums, iterations);
        char *tasks = res_task_timelines_csv(runs, sums, iterations);
        char base[400];
        snprintf(base, sizeof base, "%.200s-%s-seed%llu", sc->scenario_id,
                 sim_policy_name(runs[0]->policy), (unsigned long long)ro.seed);
        char md_name[420], csv_name[420], tasks_name[420];
        snprintf(md_name, sizeof md_name, "%s.md", base);
        snprintf(csv_name, sizeof csv_name, "%s-metrics.csv", base);
        snprintf(tasks_name, sizeof tasks_name, "%s-tasks.csv", base);
        if (!md || !csv || !tasks ||
            res_write_text_atomic(md, out_dir, md_name, werr, sizeof werr) != 0 ||
            res_write_text_atomic(csv, out_dir, csv_name, werr, sizeof werr) != 0 ||
            res_write_text_atomic(tasks, out_dir, tasks_name, werr, sizeof werr) != 0) {
            fprintf(stderr, "admitsim run: %s\n",
                    md && csv && tasks ? werr : "out of memory writing the summaries");
            rc = EXIT_FAILURE_RUN;
        }
        free(md);
        free(csv);
        free(tasks);
        if (rc != EXIT_OK) goto done;
    }
    if (json_out) {
        json_t *j = res_summary_to_json(sums[0], runs[0]);
        char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
        if (!text) {
            fprintf(stderr, "admitsim run: out of memory\n");
            rc = EXIT_FAILURE_RUN;
        } else {
            printf("%s\n", text);
        }
        free(text);
        json_decref(j);
    } else {
        print_table(sums[0], runs[0], iterations);
    }
    if (runs[0]->final_task_leases != 0 || runs[0]->final_request_leases != 0 ||
        runs[0]->final_request_waiters != 0) {
        fprintf(stderr,
                "admitsim run: %llu task leases, %llu request leases and %llu request waiters "
                "outstanding at the end of the run\n",
                (unsigned long long)runs[0]->final_task_leases,
                (unsigned long long)runs[0]->final_request_leases,
                (unsigned long long)runs[0]->final_request_waiters);
        rc = EXIT_FAILURE_RUN;
    }
done:
    if (store) {
        if (rc != EXIT_OK && res_store_set_run_status(store, run_id, "failed") != RES_STORE_OK)
            fprintf(stderr, "admitsim run: %s\n", res_store_errmsg(store));
        cli_report_lock_waits(store, db_path);
        fprintf(stderr, "admitsim run: stored run %lld in %s\n", (long long)run_id, db_path);
        res_store_close(store);
    }
    for (uint64_t i = 0; runs && i < iterations; i++) {
        sim_run_free(runs[i]);
        if (sums) res_summary_free(sums[i]);
    }
    free(runs);
    free(sums);
    sim_scenario_free(sc);
    return rc;
}
