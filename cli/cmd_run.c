#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "run_output.h"
#include "res/artifact.h"
#include "res/atomic_file.h"
#include "res/report_files.h"
#include "res/request_report.h"
#include "res/store.h"
#include "res/summary.h"
#include "res/pipeline.h"
#include "sim/engine.h"
#include "sim/scenario.h"

static void run_usage(FILE *f) {
    fprintf(f, "usage: admitsim run SCENARIO [options]\n"
               "\n"
               "Simulates SCENARIO (a JSON file, see scenarios/README.md) on the virtual clock\n"
               "with the core scheduler and prints a summary.\n"
               "\n"
               "options:\n"
               "  --arm NAME               run the scenario as its arm NAME makes it (its\n"
               "                           \"arms\"; each policy name is an arm too)\n"
               "  --policy strict|bounded|provider_aware\n"
               "                           task admission policy (default: the scenario's,\n"
               "                           or its arm's)\n"
               "  --seed N                 scenario seed (default 1)\n"
               "  --iterations N           measured iterations, seeds the streams per iteration\n"
               "                           (default 1)\n"
               "  --out DIR                also write DIR/<scenario>-<policy>-seed<N>.json, the\n"
               "                           full artifact with every event, its .md summary\n"
               "                           and -metrics.csv, -tasks.csv (each file it wrote\n"
               "                           is named on stderr), all four or none (a failed\n"
               "                           run keeps an earlier run's files as they were);\n"
               "                           --out - writes the artifact to standard output\n"
               "                           instead of the table\n"
               "  --format table|json      table for people (default), or one JSON object\n"
               "  --db FILE                store the run (inputs, events, task timelines,\n"
               "                           request attempts, metrics, snapshots, capacity\n"
               "                           plans) in the SQLite\n"
               "                           database FILE, one transaction per iteration\n"
               "                           (default $ADMITSIM_DB, else results/admitsim.db;\n"
               "                           the directory is created, and the run creating\n"
               "                           it says so; one of --out's files is refused)\n"
               "  --store-events all|notable\n"
               "                           store only the events not of the thirteen\n"
               "                           lifecycle kinds (notable, the default: their\n"
               "                           times are the task timelines' and request\n"
               "                           attempts' columns, from which export\n"
               "                           --format chrome-trace and plot rebuild them),\n"
               "                           or every event of both streams (all: the\n"
               "                           lifecycle ones packed, read through the events\n"
               "                           view)\n"
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
               "cooldown_seconds, utilization_while_others_cooling, limit_timeline),\n"
               "providers (busy_fraction), downstream_ready_to_dispatch_p95_seconds and\n"
               "correlated (the correlated view's waits, ready-idle gaps, fairness, records\n"
               "and limiting layers; README \"Using admitsim\" names every key). A figure\n"
               "over nothing (the waits of a column that never ran, of a request resource\n"
               "that admitted no attempt; a share of a run that took no time) is null, and\n"
               "- in the table.\n"
               "\n"
               "SCENARIO is a file, - for standard input, or a shipped scenario's name\n"
               "(heavy_root), found from any directory.  SIGINT or SIGTERM stops the run\n"
               "after the iteration in progress: its temporary files are removed, the\n"
               "stored run is marked cancelled and run ends by that signal.\n");
}

static void show_lock_wait(void *ctx, double waited_seconds) {
    const cli_run_output *o = ctx;
    cli_lock_wait_progress(o->db_path, waited_seconds);
}

static void show_progress(void *ctx, uint32_t iteration, uint32_t iterations) {
    const cli_run_output *o = ctx;
    if (iterations > 1)
        fprintf(stderr, "admitsim run: %s iteration %u/%u\n", o->scenario_id, iteration + 1,
                iterations);
}

/* What the command line asks for. */
typedef struct run_args {
    sim_run_options ro;
    uint64_t iterations;
    const char *out_dir, *db_path, *scenario, *arm;
    bool json;
    bool store_all_events;
} run_args;

/* -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, run_args *a) {
    static const struct option opts[] = {{"policy", required_argument, 0, 'p'},
                                         {"seed", required_argument, 0, 's'},
                                         {"iterations", required_argument, 0, 'i'},
                                         {"out", required_argument, 0, 'o'},
                                         {"format", required_argument, 0, 'f'},
                                         {"db", required_argument, 0, 'd'},
                                         {"no-db", no_argument, 0, 'n'},
                                         {"arm", required_argument, 0, 'a'},
                                         {"store-events", required_argument, 0, 'e'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    *a = (run_args){
        .ro = {.seed = 1, .capture_events = true}, .iterations = 1, .db_path = cli_db_default()};
    optind = 1;
    int ch;
    while ((ch = cli_getopt("run", argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 'p':
            if (run_policy_parse(optarg, &a->ro.policy)) {
                a->ro.policy_set = true;
                break;
            }
            fprintf(stderr,
                    "admitsim run: --policy expects strict, bounded or provider_aware, got '%s'\n",
                    optarg);
            return EXIT_USAGE;
        case 's':
            if (!cli_parse_seed("run", "--seed", optarg, &a->ro.seed)) return EXIT_USAGE;
            break;
        case 'i':
            if (!cli_parse_range("run", "--iterations", optarg, 1, 4096, &a->iterations))
                return EXIT_USAGE;
            break;
        case 'o': a->out_dir = optarg; break;
        case 'f':
            if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
                fprintf(stderr, "admitsim run: --format expects table or json, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            a->json = !strcmp(optarg, "json");
            break;
        case 'd': a->db_path = optarg; break;
        case 'n': a->db_path = NULL; break;
        case 'a': a->arm = optarg; break;
        case 'e':
            if (!cli_parse_store_events("run", optarg, &a->store_all_events)) return EXIT_USAGE;
            break;
        case 'h': run_usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        return cli_usage_error("run", "expected exactly one SCENARIO (a file, a shipped "
                                      "scenario's name, or - for standard input)");
    }
    a->scenario = argv[optind];
    return -1;
}

/* --out -: the artifact, written into a private directory, copied to
** standard output.  The directory and its files are removed before the
** copy (from the open file), so a reader that stops early -- SIGPIPE --
** leaves nothing behind. */
static bool out_dir_private(char *dir, size_t len) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, len, "%s/admitsim-out-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir)) return true;
    fprintf(stderr, "admitsim run: cannot create a directory in %s for --out -: %s\n",
            tmp && *tmp ? tmp : "/tmp", strerror(errno));
    return false;
}

static void remove_private(const char *dir, const res_pipeline_result *result) {
    for (int k = 0; k < 4; k++)
        if (result->files[k][0]) remove(result->files[k]);
    rmdir(dir);
}

static bool copy_to_stdout(const char *dir, const res_pipeline_result *result, res_error *err) {
    FILE *f = fopen(result->files[0], "rb");
    int e = errno;
    remove_private(dir, result);
    if (!f) return res_error_set(err, RES_EIO, "cannot read the artifact back: %s", strerror(e));
    char buf[65536];
    size_t n;
    bool ok = true;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = fwrite(buf, 1, n, stdout) == n;
    e = errno;
    if (ok && ferror(f)) {
        fclose(f);
        return res_error_set(err, RES_EIO, "cannot read the artifact back: %s", strerror(e));
    }
    fclose(f);
    ok = ok && fflush(stdout) == 0;
    if (ok) return true;
    e = errno;
    clearerr(stdout); /* said here, with its reason; not again at exit */
    return res_error_set(err, RES_EIO, "cannot copy the artifact to standard output: %s",
                         strerror(e ? e : EIO));
}

/* The pipeline's context: the output first, for the callbacks that take
** a cli_run_output. */
typedef struct run_state {
    cli_run_output output;
    const char *private_dir; /* --out -, else NULL */
} run_state;

/* res_pipeline_options.on_done, before the stored run is final: the
** artifact copied to standard output (--out -), else the output rendered
** in full; a failure fails the run. */
static bool run_done(void *ctx, const res_pipeline_result *result, res_error *err) {
    run_state *rs = ctx;
    if (rs->private_dir) return copy_to_stdout(rs->private_dir, result, err);
    return (rs->output.text && !rs->output.oom) ||
           res_error_set(err, RES_ENOMEM, "out of memory rendering the output");
}

/* res_environment.is_interrupted: SIGINT, SIGTERM or SIGPIPE came. */
static bool run_interrupted(void *ctx) {
    (void)ctx;
    return cli_stop_caught() != 0;
}

/* --db naming one of the files --out writes would be replaced by it. */
static bool db_is_an_output(const run_args *a, const res_pipeline_options *po) {
    if (!a->db_path || !a->out_dir || !strcmp(a->out_dir, "-")) return false;
    static const char *const suffixes[] = {".json", ".md", "-metrics.csv", "-tasks.csv"};
    char base[400], name[440], path[4096];
    res_pipeline_base_name(po, base, sizeof base);
    for (size_t k = 0; k < sizeof suffixes / sizeof *suffixes; k++) {
        snprintf(name, sizeof name, "%s%s", base, suffixes[k]);
        if (!res_path_join(path, sizeof path, a->out_dir, name, NULL)) continue;
        if (cli_same_file(a->db_path, path)) {
            cli_usage_error("run", "--db %s is %s, a file --out writes; name another database",
                            a->db_path, path);
            return true;
        }
    }
    return false;
}

/* What the run wrote, its table or JSON, and what became of the stored run. */
static void report(const run_args *a, run_state *rs, const res_pipeline_result *result,
                   res_status st, const res_error *perr, bool new_db) {
    for (int k = 0; k < 4 && !rs->private_dir; k++)
        if (result->files[k][0]) fprintf(stderr, "admitsim run: wrote %s\n", result->files[k]);
    /* --out -: standard output holds the artifact alone */
    if (!rs->private_dir && (st == RES_OK || st == RES_ELEAK) && rs->output.text && !rs->output.oom)
        cli_run_output_print(stdout, &rs->output);
    if (st != RES_OK) fprintf(stderr, "admitsim run: %s\n", perr->message);
    if (result->lock_waits.count) cli_report_lock_waits(&result->lock_waits, a->db_path);
    if (result->run_id && new_db) cli_db_created("run", a->db_path);
    if (result->run_id) /* the pipeline marks a run that failed so */
        fprintf(stderr, "admitsim run: stored run %lld in %s%s\n", (long long)result->run_id,
                a->db_path,
                st == RES_OK             ? ""
                : st == RES_EINTERRUPTED ? ", marked cancelled"
                                         : ", marked failed");
}

/* Runs the pipeline over the simulator and reports what it wrote.  A
** signal (SIGINT, SIGTERM, SIGPIPE) stops it after the iteration in
** progress: its temporary files removed and the stored run marked
** cancelled, it ends by that signal. */
static int run_scenario(const run_args *a, const sim_scenario *sc, const char *cmdline) {
    run_state rs = {.output = {.json = a->json,
                               .iterations = (uint32_t)a->iterations,
                               .scenario_id = sc->config.scenario_id,
                               .db_path = a->db_path}};
    sim_runner runner = {.scenario = sc, .options = a->ro};
    res_environment env = sim_runner_environment(&runner);
    env.is_interrupted = run_interrupted;
    res_pipeline_options po = {.config = &sc->config,
                               .policy =
                                   a->ro.policy_set ? a->ro.policy : sc->config.default_policy,
                               .seed = a->ro.seed,
                               .iterations = (uint32_t)a->iterations,
                               .db_path = a->db_path,
                               .store_all_events = a->store_all_events,
                               .arm = a->arm, /* stored, so check run:ID matches its artifact */
                               .out_dir = a->out_dir,
                               .command_line = cmdline,
                               .on_iteration = cli_run_output_render,
                               .on_start = show_progress,
                               .on_lock_wait = show_lock_wait,
                               .on_done = run_done,
                               .ctx = &rs};
    if (db_is_an_output(a, &po)) return EXIT_USAGE;
    res_pipeline_result result;
    res_error perr;
    char private_dir[4096];
    cli_stop_catch();
    if (a->out_dir && !strcmp(a->out_dir, "-")) {
        if (!out_dir_private(private_dir, sizeof private_dir)) {
            cli_stop_release("run");
            return EXIT_FAILURE_RUN;
        }
        po.out_dir = rs.private_dir = private_dir;
    }
    bool new_db = cli_db_is_new(a->db_path);
    res_status st = res_pipeline_run(&po, &env, &result, &perr);
    if (rs.private_dir) remove_private(rs.private_dir, &result);
    report(a, &rs, &result, st, &perr, new_db);
    cli_run_output_free(&rs.output);
    cli_stop_release("run");
    return st == RES_OK ? EXIT_OK : EXIT_FAILURE_RUN;
}

int cmd_run(int argc, char **argv) {
    char *cmdline = cli_command_argv_json(argc, argv); /* before getopt reorders argv */
    run_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc < 0) {
        sim_error err;
        sim_scenario *sc = cli_scenario_load(a.scenario, a.arm, &err);
        if (sc) {
            rc = run_scenario(&a, sc, cmdline);
            sim_scenario_free(sc);
        } else {
            fprintf(stderr, "admitsim run: %s\n", err.message);
            rc = EXIT_FAILURE_RUN;
        }
    }
    free(cmdline);
    return rc;
}
