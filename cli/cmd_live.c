/* admitsim live: a scenario's workload on the real clock against HTTP model
** endpoints, through the same run pipeline as `run` (live/scenario_env.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "live/scenario_env.h"
#include "res/atomic_file.h"
#include "res/pipeline.h"
#include "res/store.h"
#include "run_output.h"

static void live_usage(FILE *f) {
    fprintf(f, "usage: admitsim live SCENARIO [options]\n"
               "\n"
               "Runs SCENARIO's workflow with the core scheduler on the real monotonic clock,\n"
               "its model calls as HTTP requests to OpenAI-compatible endpoints, and records\n"
               "it like `run` does: the same events, summary, artifact (mode: live), database\n"
               "rows and plots.  Calls go to --endpoint, else to each model's base_url (API\n"
               "key from the environment variable its api_key_env names), else to a mock of\n"
               "the scenario's simulated providers that this command starts and stops\n"
               "(see `admitsim mock-provider`).  Ctrl-C cancels: every lease is released,\n"
               "the iterations so far are stored and the run is marked cancelled.\n"
               "\n"
               "options:\n"
               "  --endpoint URL           every call to this base URL (e.g.\n"
               "                           http://127.0.0.1:8080/v1)\n"
               "  --time-scale F           real seconds per scenario second (default 1): local\n"
               "                           work, cooldowns, deadlines and the mock all run 1/F\n"
               "                           times as fast; reported times are scenario seconds\n"
               "  --arm NAME               run the scenario as its arm NAME makes it\n"
               "  --policy strict|bounded|provider_aware\n"
               "                           task admission policy (default: the scenario's)\n"
               "  --seed N                 the workload's (and the mock's) streams (default 1)\n"
               "  --iterations N           iterations (default 1)\n"
               "  --out DIR                write the artifact, Markdown, CSVs and\n"
               "                           <scenario>-<policy>-seed<N>-attempts.csv (one row per\n"
               "                           HTTP attempt: status, outcome, tokens) to DIR\n"
               "  --format table|json      as `run`\n"
               "  --db FILE                store the run (default $ADMITSIM_DB,\n"
               "                           else results/admitsim.db)\n"
               "  --no-db                  do not store the run\n"
               "  --store-events all|notable\n"
               "                           as `run`: the notable events (the default) or\n"
               "                           every event\n"
               "  --mock-port N            the mock's port (default: any free port)\n"
               "  -h, --help               this text\n");
}

typedef struct live_args {
    live_scenario_options lo;
    bool policy_set;
    uint64_t iterations;
    const char *out_dir, *db_path, *scenario, *arm;
    bool store_all_events;
    bool json;
} live_args;

static int parse_opt(int ch, live_args *a) {
    uint64_t v;
    switch (ch) {
    case 'e': a->lo.endpoint = optarg; return -1;
    case 't': return cli_parse_time_scale("live", optarg, &a->lo.time_scale) ? -1 : EXIT_USAGE;
    case 'p':
        if (run_policy_parse(optarg, &a->lo.policy)) {
            a->policy_set = true;
            return -1;
        }
        fprintf(stderr,
                "admitsim live: --policy expects strict, bounded or provider_aware, got "
                "'%s'\n",
                optarg);
        return EXIT_USAGE;
    case 's': return cli_parse_seed("live", "--seed", optarg, &a->lo.seed) ? -1 : EXIT_USAGE;
    case 'i':
        return cli_parse_range("live", "--iterations", optarg, 1, 4096, &a->iterations)
                   ? -1
                   : EXIT_USAGE;
    case 'o': a->out_dir = optarg; return -1;
    case 'f':
        if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
            fprintf(stderr, "admitsim live: --format expects table or json, got '%s'\n", optarg);
            return EXIT_USAGE;
        }
        a->json = !strcmp(optarg, "json");
        return -1;
    case 'd': a->db_path = optarg; return -1;
    case 'n': a->db_path = NULL; return -1;
    case 'E': return cli_parse_store_events("live", optarg, &a->store_all_events) ? -1 : EXIT_USAGE;
    case 'm':
        if (!cli_parse_u64("live", "--mock-port", optarg, 65535, &v)) return EXIT_USAGE;
        a->lo.mock_port = (uint16_t)v;
        return -1;
    case 'a': a->arm = optarg; return -1;
    case 'h': live_usage(stdout); return EXIT_OK;
    default: return EXIT_USAGE;
    }
}

/* -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, live_args *a) {
    static const struct option opts[] = {{"endpoint", required_argument, 0, 'e'},
                                         {"time-scale", required_argument, 0, 't'},
                                         {"policy", required_argument, 0, 'p'},
                                         {"seed", required_argument, 0, 's'},
                                         {"iterations", required_argument, 0, 'i'},
                                         {"out", required_argument, 0, 'o'},
                                         {"format", required_argument, 0, 'f'},
                                         {"db", required_argument, 0, 'd'},
                                         {"no-db", no_argument, 0, 'n'},
                                         {"store-events", required_argument, 0, 'E'},
                                         {"mock-port", required_argument, 0, 'm'},
                                         {"arm", required_argument, 0, 'a'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    *a = (live_args){.lo = {.seed = 1, .time_scale = 1, .catch_signals = true},
                     .iterations = 1,
                     .db_path = cli_db_default()};
    optind = 1;
    int ch, rc;
    while ((ch = cli_getopt("live", argc, argv, "h", opts)) != -1)
        if ((rc = parse_opt(ch, a)) >= 0) return rc;
    if (optind != argc - 1) {
        return cli_usage_error("live", "expected exactly one SCENARIO file");
    }
    a->scenario = argv[optind];
    return -1;
}

/* The attempts CSV beside the other files (written whole or not at all). */
static bool write_attempts(const live_scenario_run *s, const res_pipeline_options *po,
                           res_error *err) {
    char base[400], name[440];
    res_pipeline_base_name(po, base, sizeof base);
    snprintf(name, sizeof name, "%s-attempts.csv", base);
    res_atomic_file f;
    if (!res_atomic_file_open(&f, po->out_dir, name, err)) return false;
    if (!live_scenario_write_attempts_csv(s, f.f)) {
        res_atomic_file_abort(&f);
        return res_error_set(err, RES_EIO, "%s: cannot write the attempts", f.path);
    }
    if (!res_atomic_file_commit(&f, err)) return false;
    fprintf(stderr, "admitsim live: wrote %s/%s\n", po->out_dir, name);
    return true;
}

/* Token totals of the attempts that reported usage. */
static void print_usage(const live_scenario_run *s) {
    long long prompt = 0, completion = 0, calls = 0;
    for (size_t i = 0; i < s->attempt_count; i++) {
        const live_http_attempt_report *r = &s->attempts[i].r;
        if (r->total_tokens < 0) continue;
        calls++;
        prompt += r->prompt_tokens > 0 ? r->prompt_tokens : 0;
        completion += r->completion_tokens > 0 ? r->completion_tokens : 0;
    }
    fprintf(stderr,
            "admitsim live: %zu HTTP attempts; %lld reported usage: %lld prompt and %lld "
            "completion tokens\n",
            s->attempt_count, calls, prompt, completion);
}

static int run_live(const live_args *a, const sim_scenario *sc, const char *cmdline) {
    live_scenario_options lo = a->lo;
    lo.scenario = sc;
    lo.policy = a->policy_set ? a->lo.policy : sc->config.default_policy;
    live_scenario_run s;
    res_error perr = {0};
    if (!live_scenario_init(&s, &lo, &perr)) {
        fprintf(stderr, "admitsim live: %s\n", perr.message);
        return EXIT_FAILURE_RUN;
    }
    cli_run_output output = {.json = a->json,
                             .iterations = (uint32_t)a->iterations,
                             .scenario_id = sc->config.scenario_id,
                             .db_path = a->db_path};
    res_environment env = live_scenario_environment(&s);
    res_pipeline_options po = {.config = &sc->config,
                               .policy = lo.policy,
                               .seed = lo.seed,
                               .iterations = (uint32_t)a->iterations,
                               .db_path = a->db_path,
                               .store_all_events = a->store_all_events,
                               .out_dir = a->out_dir,
                               .command_line = cmdline,
                               .on_iteration = cli_run_output_render,
                               .ctx = &output};
    res_pipeline_result result;
    bool new_db = cli_db_is_new(a->db_path);
    res_status st = res_pipeline_run(&po, &env, &result, &perr);
    if (st == RES_OK && a->out_dir && !write_attempts(&s, &po, &perr)) st = perr.code;
    for (int k = 0; k < 4; k++)
        if (result.files[k][0]) fprintf(stderr, "admitsim live: wrote %s\n", result.files[k]);
    if ((st == RES_OK || st == RES_ELEAK || st == RES_EINTERRUPTED) && output.text && !output.oom)
        cli_run_output_print(stdout, &output);
    print_usage(&s);
    if (st != RES_OK) fprintf(stderr, "admitsim live: %s\n", perr.message);
    if (result.run_id && new_db) cli_db_created("live", a->db_path);
    if (result.run_id)
        fprintf(stderr, "admitsim live: stored run %lld in %s%s\n", (long long)result.run_id,
                a->db_path,
                st == RES_OK             ? ""
                : st == RES_EINTERRUPTED ? " (cancelled)"
                                         : ", marked failed");
    cli_run_output_free(&output);
    live_scenario_free(&s);
    return st == RES_OK ? EXIT_OK : EXIT_FAILURE_RUN;
}

int cmd_live(int argc, char **argv) {
    char *cmdline = cli_command_argv_json(argc, argv); /* before getopt reorders argv */
    live_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc < 0) {
        sim_error err;
        sim_scenario *sc = cli_scenario_load(a.scenario, a.arm, &err);
        if (sc) {
            rc = run_live(&a, sc, cmdline);
            sim_scenario_free(sc);
        } else {
            fprintf(stderr, "admitsim live: %s\n", err.message);
            rc = EXIT_FAILURE_RUN;
        }
    }
    free(cmdline);
    return rc;
}
