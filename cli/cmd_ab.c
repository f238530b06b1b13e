/* admitsim ab: two arms of one scenario, paired by seed, every metric
** compared; the engine is ab_engine.c (ab.h). */
#define _GNU_SOURCE /* strdup */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ab.h"
#include "cli.h"
#include "commands.h"
#include "res/experiment.h"
#include "sim/scenario.h"

typedef struct ab_args {
    ab_spec spec;
    int format; /* 0 table, 1 json, 2 markdown */
} ab_args;

static void ab_usage(FILE *f) {
    fprintf(f, "usage: admitsim ab SCENARIO [--baseline ARM] [--candidate ARM] [options]\n"
               "\n"
               "Runs two arms of SCENARIO (each policy name is an arm; a scenario may declare\n"
               "more in \"arms\"; without --baseline and --candidate, its arms named \"baseline\"\n"
               "and \"candidate\") for seeds 1..N, pairs them by seed (common random numbers)\n"
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
               "  --db FILE               store the runs in FILE (default $ADMITSIM_DB,\n"
               "                          else results/admitsim.db)\n"
               "  --no-db                 do not store them\n"
               "  --store-events all|notable\n"
               "                          as `run`: store the notable events (the default)\n"
               "                          or every event of this build's runs\n"
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
                                         {"store-events", required_argument, 0, 'e'},
                                         {"baseline-bin", required_argument, 0, 'B'},
                                         {"candidate-bin", required_argument, 0, 'C'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    *a = (ab_args){.spec = {.seeds = 10,
                            .jobs = cpus > 0 ? (uint64_t)cpus : 1,
                            .db_path = cli_db_default(),
                            .who = "admitsim ab"}};
    ab_spec *sp = &a->spec;
    optind = 1;
    int ch;
    while ((ch = cli_getopt("ab", argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 'b': sp->arm[0] = optarg; break;
        case 'c': sp->arm[1] = optarg; break;
        case 's':
            if (!cli_parse_range("ab", "--seeds", optarg, 1, 10000, &sp->seeds)) return EXIT_USAGE;
            break;
        case 'w':
            if (!cli_parse_u64("ab", "--warmups", optarg, 1000, &sp->warmups)) return EXIT_USAGE;
            break;
        case 'j':
            if (!cli_parse_range("ab", "--jobs", optarg, 1, 256, &sp->jobs)) return EXIT_USAGE;
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
        case 'o': sp->out_dir = optarg; break;
        case 'd': sp->db_path = optarg; break;
        case 'n': sp->db_path = NULL; break;
        case 'e':
            if (!cli_parse_store_events("ab", optarg, &sp->store_all_events)) return EXIT_USAGE;
            break;
        case 'B': sp->bin[0] = optarg; break;
        case 'C': sp->bin[1] = optarg; break;
        case 'h': ab_usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_usage_error("ab", "expected one SCENARIO");
        return EXIT_USAGE;
    }
    if (!cli_scenario_is_file_arg("ab", argv[optind])) return EXIT_USAGE;
    static char found[4096]; /* a shipped scenario's file, for the run of this process */
    sim_error err;
    sp->scenario = cli_scenario_file(argv[optind], found, sizeof found, &err);
    if (!sp->scenario) {
        fprintf(stderr, "admitsim ab: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    return -1;
}

static void print_result(const ab_args *a, const res_experiment *e) {
    if (a->format == 1) {
        json_t *j = res_experiment_json(e);
        json_dumpf(j, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
        fputc('\n', stdout);
        json_decref(j);
    } else {
        res_experiment_print(e, stdout,
                             a->format == 2 ? RES_EXPERIMENT_MARKDOWN : RES_EXPERIMENT_TABLE);
    }
}

int cmd_ab(int argc, char **argv) {
    char *cmdline = cli_command_argv_json(argc, argv);
    ab_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) {
        free(cmdline);
        return rc;
    }
    a.spec.command_line = cmdline;
    res_experiment *e = NULL;
    bool new_db = cli_db_is_new(a.spec.db_path);
    rc = ab_experiment_run(&a.spec, &e);
    if (a.spec.experiment_id && new_db) cli_db_created("ab", a.spec.db_path);
    if (rc == EXIT_OK) {
        print_result(&a, e);
        if (a.spec.experiment_id)
            fprintf(stderr, "admitsim ab: stored experiment %lld in %s\n",
                    (long long)a.spec.experiment_id, a.spec.db_path);
        if (a.spec.out_dir && !ab_write_report(e, a.spec.out_dir, a.spec.who))
            rc = EXIT_FAILURE_RUN;
    }
    res_experiment_free(e);
    free(cmdline);
    return rc;
}
