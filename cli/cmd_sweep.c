/* `admitsim sweep SWEEP.json`: a grid of points over one scenario, each over
** the seeds, run as shards on the local process pool or a Slurm job array,
** merged into one store (sweep.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "res/store.h"
#include "sweep.h"

static void sweep_usage(FILE *f) {
    fprintf(f,
            "usage: admitsim sweep SWEEP.json [options]\n"
            "\n"
            "Runs a sweep (sweeps/README.md): every point of its parameters (each point an arm\n"
            "of its scenario) for every seed, in shards (one (point, seed) run each, or\n"
            "shard_size of them), each shard a process writing a database of its own, renamed\n"
            "into place when complete.  Then merges the shards into one results database,\n"
            "every run carrying the sweep (its experiment), its point (arm) and parameter\n"
            "values, and prints each point's figures over the seeds (mean and 95%% interval)\n"
            "for the sweep's metrics.  The results are the same for every --jobs and engine.\n"
            "\n"
            "options:\n"
            "  --out DIR            the sweep's directory: plan, journal, shards, logs,\n"
            "                       result.json (default out/sweeps/<sweep_id>)\n"
            "  --db FILE            merge into FILE (default DIR/sweep.db)\n"
            "%s"
            "  --resume             continue the sweep in DIR: run only the shards that are\n"
            "                       missing or failed (Slurm: adopt the array still queued,\n"
            "                       then resubmit only the missing indices)\n"
            "  --dry-run            print the points and shards, run nothing\n"
            "  --format table|json  how to print the result (default table)\n"
            "  --quiet              no progress and no tables\n"
            "  -h, --help           this text\n"
            "\n"
            "%s"
            "\n"
            "  --shard K            run only shard K into --out DIR (what the engines start)\n"
            "\n"
            "Progress goes to stderr: a bar with an estimate of the time left on a terminal,\n"
            "lines otherwise.  Ctrl-C (or SIGTERM) stops the shards (scancel with Slurm) and\n"
            "keeps what completed; --resume goes on from there.\n"
            "\n"
            "exit codes: 0 every shard complete and merged, 1 a shard failed, the sweep was\n"
            "interrupted or a write failed (the reason on stderr), 2 usage error\n",
            SWEEP_ENGINE_USAGE, SWEEP_SLURM_USAGE);
}

typedef struct sweep_args {
    const char *file, *out, *db, *format;
    bool resume, dry_run, quiet, json;
    long shard; /* -1: none */
    sweep_engine_args engine;
} sweep_args;

/* One option; false on a bad value (said). */
static bool take_option(int ch, sweep_args *a) {
    uint64_t v;
    int taken = sweep_engine_option(ch, optarg, &a->engine);
    if (taken) return taken > 0;
    switch (ch) {
    case 'o': a->out = optarg; return cli_out_ok("sweep", optarg);
    case 'd': a->db = optarg; return cli_db_name_ok("sweep", "--db", optarg);
    case 'r': a->resume = true; return true;
    case 'n': a->dry_run = true; return true;
    case 'f':
        if (strcmp(optarg, "table") && strcmp(optarg, "json")) break;
        a->json = !strcmp(optarg, "json");
        return true;
    case 'q': a->quiet = true; return true;
    case 'k':
        if (!cli_parse_u64("sweep", "--shard", optarg, SWEEP_MAX_RUNS, &v)) return false;
        a->shard = (long)v;
        return true;
    }
    fprintf(stderr, "admitsim sweep: bad value '%s'\n", optarg);
    return false;
}

/* -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, sweep_args *a) {
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"db", required_argument, 0, 'd'},
                                         {"resume", no_argument, 0, 'r'},
                                         {"dry-run", no_argument, 0, 'n'},
                                         {"format", required_argument, 0, 'f'},
                                         {"quiet", no_argument, 0, 'q'},
                                         SWEEP_ENGINE_LONG_OPTIONS,
                                         {"shard", required_argument, 0, 'k'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    *a = (sweep_args){.shard = -1};
    sweep_engine_defaults(&a->engine, "admitsim sweep");
    optind = 1;
    int ch;
    while ((ch = cli_getopt("sweep", argc, argv, "h", opts)) != -1) {
        if (ch == 'h') {
            sweep_usage(stdout);
            return EXIT_OK;
        }
        if (ch == '?' || !take_option(ch, a)) return EXIT_USAGE;
    }
    if (optind != argc - 1) return cli_usage_error("sweep", "expected exactly one SWEEP file");
    a->file = argv[optind];
    if (a->shard >= 0 && !a->out) {
        fprintf(stderr, "admitsim sweep: --shard needs --out DIR\n");
        return EXIT_USAGE;
    }
    a->engine.o.quiet = a->quiet;
    return -1;
}

/* --dry-run: the plan and its shards. */
static void print_plan(const sweep_plan *p, bool json) {
    if (json) {
        json_t *plan = sweep_plan_json(p), *shards = json_array();
        for (size_t k = 0; k < p->nshards; k++) {
            size_t first, count;
            sweep_shard_runs(p, k, &first, &count);
            json_t *runs = json_array();
            for (size_t r = first; r < first + count; r++)
                json_array_append_new(runs, json_pack("{s:I, s:I}", "point",
                                                      (json_int_t)sweep_run_point(p, r), "seed",
                                                      (json_int_t)sweep_run_seed(p, r)));
            json_array_append_new(shards,
                                  json_pack("{s:I, s:o}", "shard", (json_int_t)k, "runs", runs));
        }
        json_object_set_new(plan, "shard_runs", shards);
        json_dumpf(plan, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
        fputc('\n', stdout);
        json_decref(plan);
        return;
    }
    printf("sweep %s: scenario %s (%s%s%s), %zu point%s x %zu seed%s = %zu runs in %zu shard%s\n",
           p->sweep_id, p->scenario_id, p->scenario, p->arm[0] ? ", arm " : "", p->arm, p->npoints,
           p->npoints == 1 ? "" : "s", p->nseeds, p->nseeds == 1 ? "" : "s", sweep_plan_runs(p),
           p->nshards, p->nshards == 1 ? "" : "s");
    for (size_t i = 0; i < p->nparams; i++) {
        printf("  %s:", p->params[i].name);
        for (size_t k = 0; k < json_array_size(p->params[i].values); k++) {
            char v[SWEEP_VALUE_TEXT_MAX];
            sweep_value_text(json_array_get(p->params[i].values, k), v, sizeof v);
            printf("%s %s", k ? "," : "", v);
        }
        printf("\n");
    }
    printf("%6s  %s\n", "shard", "runs (point: parameters, seed)");
    for (size_t k = 0; k < p->nshards; k++) {
        size_t first, count;
        sweep_shard_runs(p, k, &first, &count);
        printf("%6zu ", k);
        for (size_t r = first; r < first + count; r++) {
            char label[SWEEP_LABEL_MAX];
            sweep_point_label(p, sweep_run_point(p, r), label, sizeof label);
            printf(" %s%zu: %s, seed %llu", r > first ? "; " : "", sweep_run_point(p, r), label,
                   (unsigned long long)sweep_run_seed(p, r));
        }
        printf("\n");
    }
}

static int run_sweep(sweep_args *a, const sweep_plan *p, const char *cmdline) {
    char out[SWEEP_PATH_MAX], db[SWEEP_PATH_MAX + 16], err[2048], self[SWEEP_PATH_MAX];
    snprintf(out, sizeof out, "%s", a->out ? a->out : "");
    if (!a->out) snprintf(out, sizeof out, "out/sweeps/%s", p->sweep_id);
    if (!cli_self_path(self, sizeof self)) {
        fprintf(stderr, "admitsim sweep: cannot find this program's own path\n");
        return EXIT_FAILURE_RUN;
    }
    a->engine.o.self = self;
    sweep_dir d;
    if (!sweep_dir_open(&d, out, p, a->resume, err, sizeof err)) {
        fprintf(stderr, "admitsim sweep: %s\n", err);
        return EXIT_FAILURE_RUN;
    }
    if (a->db)
        snprintf(db, sizeof db, "%s", a->db);
    else
        sweep_dir_file(d.path, "sweep.db", db, sizeof db);
    sweep_signals_catch();
    int rc = sweep_engine_run(&a->engine, p, &d);
    if (rc == EXIT_OK) {
        sweep_result_options ro = {.db_path = db,
                                   .command_line = cmdline,
                                   .kind = RES_EXPERIMENT_SWEEP,
                                   .who = "admitsim sweep",
                                   .json = a->json,
                                   .quiet = a->quiet};
        rc = sweep_result_finish(p, &d, &ro, NULL, NULL);
        if (rc == EXIT_OK && !a->quiet)
            fprintf(stderr, "admitsim sweep: stored in %s; figures in %s/result.json\n", db,
                    d.path);
    }
    sweep_dir_close(&d);
    return rc;
}

int cmd_sweep(int argc, char **argv) {
    char *cmdline = cli_command_line(argc, argv);
    sweep_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) {
        free(cmdline);
        return rc;
    }
    if (a.shard >= 0) {
        rc = sweep_shard_main(a.file, (size_t)a.shard, a.out, cmdline);
        free(cmdline);
        return rc;
    }
    sweep_plan p;
    char err[2048];
    if (!sweep_plan_load(a.file, &p, err, sizeof err)) {
        fprintf(stderr, "admitsim sweep: %s\n", err);
        free(cmdline);
        return EXIT_FAILURE_RUN;
    }
    if (a.dry_run) {
        print_plan(&p, a.json);
        rc = EXIT_OK;
    } else {
        rc = run_sweep(&a, &p, cmdline);
    }
    sweep_plan_free(&p);
    free(cmdline);
    return rc;
}
