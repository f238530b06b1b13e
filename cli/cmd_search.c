#define _XOPEN_SOURCE 700 /* realpath */
/* `admitsim search SCENARIO --vary PARAM=LO:HI --slo 'METRIC<=X'`: the
** smallest (or largest) value of one parameter that meets an objective,
** by bisection, every probe a sweep point on the sweep's engines
** (search.h). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "res/report_files.h"
#include "res/store.h"
#include "run/json_reader.h"
#include "search.h"

enum { EXIT_NOT_MET = 3 };

static void search_usage(FILE *f) {
    fprintf(f,
            "usage: admitsim search SCENARIO --vary PARAM=LO:HI --slo 'METRIC<=X' [options]\n"
            "\n"
            "Finds the smallest value of PARAM in LO..HI (integers when LO and HI are) whose\n"
            "runs meet the objective with their 95%% interval over the seeds entirely on its\n"
            "side (METRIC<=X: the interval's top <= X; METRIC>=X: its bottom >= X), by\n"
            "bisection: the far end first, then the near end, then halving the interval\n"
            "between the nearest value that meets it and the farthest that does not (the\n"
            "objective is assumed to be met on one side of a single boundary).  Every probe\n"
            "is a sweep point (sweeps/README.md: PARAM is any sweep parameter) run for every\n"
            "seed on the chosen engine.  Prints the probes and their figures and the answer;\n"
            "stores every probe's runs in one experiment of kind search, the probes and the\n"
            "answer as its result (and DIR/result.json).\n"
            "\n"
            "options:\n"
            "  --vary PARAM=LO:HI   the parameter and its range (required)\n"
            "  --slo 'METRIC<=X'    the objective, METRIC<=X or METRIC>=X, a metric of the\n"
            "                       flat namespace (required)\n"
            "  --step S             the grid: LO, LO + S, ..., HI (default 1 for integers,\n"
            "                       (HI - LO) / 64 otherwise); S must divide HI - LO\n"
            "  --largest            the largest value meeting it (default: the smallest)\n"
            "  --seeds N            seeds 1..N per probe, at least 2 (default 5)\n"
            "  --arm NAME           the scenario's arm every probe starts from\n"
            "  --out DIR            the search's directory (default out/searches/<id>)\n"
            "  --db FILE            store into FILE (default DIR/search.db)\n"
            "%s"
            "  --resume             continue the search in DIR (probes complete are read\n"
            "                       again, their missing shards run)\n"
            "  --format table|json  how to print the result (default table)\n"
            "  --quiet              no progress and no table\n"
            "  -h, --help           this text\n"
            "\n"
            "%s"
            "\n"
            "exit codes: 0 found, 3 no value of the range meets the objective, 1 a run failed,\n"
            "the search was interrupted or a write failed, 2 usage error\n",
            SWEEP_ENGINE_USAGE, SWEEP_SLURM_USAGE);
}

typedef struct search_args {
    search_spec spec;
    const char *scenario, *out, *db;
    bool resume, quiet, json, vary, slo;
    sweep_engine_args engine;
} search_args;

enum { OPT_VARY = 0x200, OPT_SLO, OPT_STEP, OPT_LARGEST, OPT_SMALLEST, OPT_SEEDS, OPT_ARM };

/* One option; false on a bad value (said). */
static bool take_option(int ch, search_args *a) {
    char err[1024] = "";
    uint64_t v;
    bool is_int = false;
    int taken = sweep_engine_option(ch, optarg, &a->engine);
    if (taken) return taken > 0;
    switch (ch) {
    case OPT_VARY: a->vary = search_parse_vary(&a->spec, optarg, err, sizeof err); break;
    case OPT_SLO: a->slo = search_parse_slo(&a->spec, optarg, err, sizeof err); break;
    case OPT_STEP: {
        char *end;
        a->spec.step = strtod(optarg, &end);
        is_int = end != optarg && !*end && a->spec.step > 0;
        if (!is_int)
            snprintf(err, sizeof err, "--step expects a positive number, got '%s'", optarg);
        break;
    }
    case OPT_LARGEST: a->spec.largest = true; return true;
    case OPT_SMALLEST: a->spec.largest = false; return true;
    case OPT_SEEDS:
        if (!cli_parse_u64("search", "--seeds", optarg, 100000, &v)) return false;
        if (v < 2) snprintf(err, sizeof err, "--seeds expects at least 2 (an interval needs two)");
        a->spec.seeds = v;
        break;
    case OPT_ARM: snprintf(a->spec.arm, sizeof a->spec.arm, "%s", optarg); return true;
    case 'o': a->out = optarg; return cli_out_ok("search", optarg);
    case 'd': a->db = optarg; return cli_db_name_ok("search", "--db", optarg);
    case 'r': a->resume = true; return true;
    case 'q': a->quiet = true; return true;
    case 'f':
        if (strcmp(optarg, "table") && strcmp(optarg, "json"))
            snprintf(err, sizeof err, "--format expects table or json, got '%s'", optarg);
        a->json = !strcmp(optarg, "json");
        break;
    }
    if (err[0]) fprintf(stderr, "admitsim search: %s\n", err);
    return !err[0];
}

/* -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, search_args *a) {
    static const struct option opts[] = {{"vary", required_argument, 0, OPT_VARY},
                                         {"slo", required_argument, 0, OPT_SLO},
                                         {"step", required_argument, 0, OPT_STEP},
                                         {"largest", no_argument, 0, OPT_LARGEST},
                                         {"smallest", no_argument, 0, OPT_SMALLEST},
                                         {"seeds", required_argument, 0, OPT_SEEDS},
                                         {"arm", required_argument, 0, OPT_ARM},
                                         {"out", required_argument, 0, 'o'},
                                         {"db", required_argument, 0, 'd'},
                                         {"resume", no_argument, 0, 'r'},
                                         {"format", required_argument, 0, 'f'},
                                         {"quiet", no_argument, 0, 'q'},
                                         SWEEP_ENGINE_LONG_OPTIONS,
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    *a = (search_args){.spec = {.seeds = 5}};
    sweep_engine_defaults(&a->engine, "admitsim search");
    optind = 1;
    int ch;
    while ((ch = cli_getopt("search", argc, argv, "h", opts)) != -1) {
        if (ch == 'h') {
            search_usage(stdout);
            return EXIT_OK;
        }
        if (ch == '?' || !take_option(ch, a)) return EXIT_USAGE;
    }
    char err[1024];
    const char *missing = optind != argc - 1 ? "expected exactly one SCENARIO file"
                          : !a->vary         ? "--vary PARAM=LO:HI is required"
                          : !a->slo          ? "--slo 'METRIC<=X' is required"
                                             : NULL;
    if (missing || !search_grid_check(&a->spec, err, sizeof err))
        return cli_usage_error("search", "%s", missing ? missing : err);
    a->scenario = argv[optind];
    a->engine.o.quiet = a->quiet;
    return -1;
}

/* ---- the search's directory ----------------------------------------------------- */

/* The scenario's path and id, and the search's id: scenario_id-PARAM with
** what an id may not hold made '_'. */
static bool name_search(search_spec *s, const char *scenario) {
    if (!realpath(scenario, s->scenario)) {
        fprintf(stderr, "admitsim search: %s: cannot read: %s\n", scenario, strerror(errno));
        return false;
    }
    json_error_t je;
    json_t *doc = json_load_file(s->scenario, 0, &je);
    const char *id = json_string_value(json_object_get(doc, "scenario_id"));
    snprintf(s->scenario_id, sizeof s->scenario_id, "%s", id ? id : "scenario");
    json_decref(doc);
    char full[sizeof s->scenario_id + sizeof s->param + 2];
    snprintf(full, sizeof full, "%s-%s", s->scenario_id, s->param);
    size_t n = strlen(full) < sizeof s->id ? strlen(full) : sizeof s->id - 1;
    memcpy(s->id, full, n);
    s->id[n] = '\0';
    for (char *c = s->id; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *c))
            *c = '_';
    return true;
}

/* search.json: written for a new search; a directory holding one needs
** --resume and the same search. */
static bool claim_dir(const search_args *a, const sweep_dir *d) {
    char path[SWEEP_PATH_MAX + 32], err[1024];
    sweep_dir_file(d->path, "search.json", path, sizeof path);
    json_t *want = search_spec_json(&a->spec), *have = json_load_file(path, 0, NULL);
    bool ok = true;
    if (have && !a->resume) {
        fprintf(stderr,
                "admitsim search: %s holds a search already: --resume continues it, or choose "
                "another --out\n",
                d->path);
        ok = false;
    } else if (have && !json_equal(have, want)) {
        fprintf(stderr, "admitsim search: %s holds another search (%s differs from this one)\n",
                d->path, path);
        ok = false;
    } else if (!have) {
        char *text = json_dumps(want, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
        ok = text && res_write_text_atomic(text, d->path, "search.json", err, sizeof err) == 0;
        if (!ok) fprintf(stderr, "admitsim search: %s\n", text ? err : "out of memory");
        free(text);
    }
    json_decref(want);
    json_decref(have);
    return ok;
}

/* Writes a sweep file of the parameter's values into DIR/probes/<tag>.json
** (sweep id <search id>.<tag>), its path into path. */
static bool write_probe_file(const search_spec *s, const sweep_dir *d, const char *tag,
                             const json_t *values, char *path, size_t len) {
    char dir[SWEEP_PATH_MAX + 16], name[64], sweep_id[SWEEP_ID_MAX], err[SWEEP_PATH_MAX + 128];
    sweep_dir_file(d->path, "probes", dir, sizeof dir);
    snprintf(name, sizeof name, "%.50s.json", tag);
    snprintf(sweep_id, sizeof sweep_id, "%.47s.%.10s", s->id, tag);
    if (snprintf(path, len, "%s/%s", dir, name) >= (int)len) {
        fprintf(stderr, "admitsim search: %s: the path is too long\n", dir);
        return false;
    }
    json_t *f = json_pack("{s:i, s:s, s:s, s:s, s:{s:O}, s:I, s:[s]}", "schema", 1, "sweep_id",
                          sweep_id, "description", "a probe of admitsim search", "scenario",
                          s->scenario, "parameters", s->param, values, "seeds",
                          (json_int_t)s->seeds, "metrics", s->metric);
    if (s->arm[0]) json_object_set_new(f, "arm", json_string(s->arm));
    char *text = json_dumps(f, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    json_decref(f);
    bool ok = mkdir(dir, 0777) == 0 || errno == EEXIST;
    if (!ok) snprintf(err, sizeof err, "cannot create %s: %s", dir, strerror(errno));
    ok = ok && text && res_write_text_atomic(text, dir, name, err, sizeof err) == 0;
    if (!ok) fprintf(stderr, "admitsim search: %s\n", text ? err : "out of memory");
    free(text);
    return ok;
}

static json_t *value_json(const search_spec *s, size_t k) {
    double v = search_value(s, k);
    return s->integer ? json_integer((json_int_t)v) : json_real(v);
}

/* Both ends of the range make a scenario (reported before anything runs). */
static bool check_range(const search_spec *s, const sweep_dir *d) {
    char path[SWEEP_PATH_MAX + 64], err[2048];
    json_t *ends = json_pack("[o, o]", value_json(s, 0), value_json(s, s->steps));
    bool ok = write_probe_file(s, d, "range", ends, path, sizeof path);
    json_decref(ends);
    sweep_plan p;
    if (ok && !sweep_plan_load(path, &p, err, sizeof err)) {
        fprintf(stderr, "admitsim search: %s\n", err);
        ok = false;
    } else if (ok) {
        sweep_plan_free(&p);
    }
    remove(path);
    return ok;
}

/* ---- probes --------------------------------------------------------------------- */

typedef struct search_run {
    search_args *a;
    sweep_dir dir;
    sweep_plan *plans; /* one per probe */
    search_probe probes[SEARCH_MAX_PROBES];
    size_t n;
} search_run;

/* The objective metric's figures of a probe whose shards are complete. */
static bool probe_figures(search_run *sr, const sweep_plan *p, const sweep_dir *pd,
                          search_probe *out) {
    json_t *r = sweep_result_json(p, pd, 0);
    if (!r) {
        fprintf(stderr, "admitsim search: out of memory reading a probe's figures\n");
        return false;
    }
    json_t *pt = json_array_get(json_object_get(r, "points"), 0);
    json_t *fig = json_object_get(json_object_get(pt, "metrics"), sr->a->spec.metric);
    if (fig) {
        out->figures = json_incref(fig);
        out->meets = search_figures_meet(&sr->a->spec, fig);
    } else {
        fprintf(stderr,
                "admitsim search: the runs record no metric named %s (metric names: README, "
                "\"A/B experiments\"; `admitsim show RUN` lists a run's)\n",
                sr->a->spec.metric);
    }
    json_decref(r);
    return fig != NULL;
}

static void print_probe(const search_spec *s, const search_probe *p, size_t i) {
    char v[64];
    run_json_fmt_num(v, sizeof v, p->value);
    json_t *f = p->figures;
    fprintf(stderr,
            "admitsim search: probe %zu: %s=%s: %s mean %.6g, 95%% interval [%.6g, %.6g]: %s\n", i,
            s->param, v, s->metric, json_number_value(json_object_get(f, "mean")),
            json_number_value(json_object_get(f, "ci95_low")),
            json_number_value(json_object_get(f, "ci95_high")),
            p->meets ? "meets it" : "does not meet it");
}

/* Runs probe n at grid index k (what is missing of it) and reads its figures. */
static int run_probe(search_run *sr, size_t k) {
    const search_spec *s = &sr->a->spec;
    size_t i = sr->n;
    char path[SWEEP_PATH_MAX + 64], sub[SWEEP_PATH_MAX + 64], err[2048], tag[32];
    snprintf(tag, sizeof tag, "probe-%02zu", i);
    json_t *values = json_pack("[o]", value_json(s, k));
    bool ok = write_probe_file(s, &sr->dir, tag, values, path, sizeof path);
    json_decref(values);
    if (!ok) return EXIT_FAILURE_RUN;
    sweep_plan *p = &sr->plans[i];
    if (!sweep_plan_load(path, p, err, sizeof err)) {
        fprintf(stderr, "admitsim search: %s\n", err);
        return EXIT_FAILURE_RUN;
    }
    sr->n++; /* the plan is the run's to free */
    snprintf(sub, sizeof sub, "%s/probes/probe-%02zu", sr->dir.path, i);
    sweep_dir pd;
    if (!sweep_dir_open(&pd, sub, p, true, err, sizeof err)) {
        fprintf(stderr, "admitsim search: %s\n", err);
        return EXIT_FAILURE_RUN;
    }
    int rc = sweep_engine_run(&sr->a->engine, p, &pd);
    search_probe *pr = &sr->probes[i];
    *pr = (search_probe){.k = k, .value = search_value(s, k)};
    if (rc == EXIT_OK && !probe_figures(sr, p, &pd, pr)) rc = EXIT_FAILURE_RUN;
    if (rc == EXIT_OK && !sr->a->quiet) print_probe(s, pr, i);
    sweep_dir_close(&pd);
    return rc;
}

/* ---- the end ---------------------------------------------------------------------- */

/* Every probe's shards into experiment id of the store st at db (shown as
** shown); then the experiment must hold every probe's runs
** (sweep_result_holds): a run skipped as already there may be in db
** outside it (the search's database merged there by admitsim merge, then
** the search resumed with that --db), and the result would count runs the
** experiment does not hold. */
static bool merge_probes(search_run *sr, res_store *st, int64_t id, const char *db,
                         const char *shown, uint64_t *runs, uint64_t *skipped) {
    size_t want = 0;
    for (size_t i = 0; i < sr->n; i++) {
        sweep_dir pd = {.lock_fd = -1};
        if (snprintf(pd.path, sizeof pd.path, "%s/probes/probe-%02zu", sr->dir.path, i) >=
                (int)sizeof pd.path ||
            !sweep_result_merge(&sr->plans[i], &pd, st, id, db, "admitsim search", runs, skipped))
            return false;
        want += sweep_plan_runs(&sr->plans[i]);
    }
    return sweep_result_holds(db, shown, id, want, "search", "admitsim search");
}

/* Every probe's runs into one experiment; the result stored and printed. */
static int finish(search_run *sr, size_t answer, const char *cmdline) {
    search_args *a = sr->a;
    const search_spec *s = &a->spec;
    char db[SWEEP_PATH_MAX + 32], abs_db[SWEEP_PATH_MAX + 32], name[1024], th[64];
    if (a->db)
        snprintf(db, sizeof db, "%s", a->db);
    else
        sweep_dir_file(sr->dir.path, "search.db", db, sizeof db);
    res_store *st = NULL;
    res_error err;
    if (res_store_open(db, RES_STORE_OPEN_CREATE, &st, &err) != RES_OK) {
        fprintf(stderr, "admitsim search: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    if (!realpath(db, abs_db)) snprintf(abs_db, sizeof abs_db, "%s", db);
    run_json_fmt_num(th, sizeof th, s->threshold);
    snprintf(name, sizeof name, "%s %s: %s %s %s", s->largest ? "largest" : "smallest", s->param,
             s->metric, s->at_most ? "<=" : ">=", th);
    res_store_experiment_info info = {.kind = RES_EXPERIMENT_SEARCH,
                                      .scenario_id = sr->plans[0].scenario_id,
                                      .scenario_file = s->scenario,
                                      .name = name,
                                      .seeds = s->seeds,
                                      .command_line = cmdline};
    int64_t id = sweep_result_experiment(&sr->dir, st, abs_db, &info, "admitsim search");
    uint64_t runs = 0, skipped = 0;
    bool ok = id > 0 && merge_probes(sr, st, id, abs_db, db, &runs, &skipped);
    json_t *r = ok ? search_result_json(s, sr->probes, sr->n, answer, id) : NULL;
    ok = ok && r && sweep_result_store(&sr->dir, st, id, r, "admitsim search");
    if (!ok && id > 0) res_store_finish_experiment(st, id, "failed", NULL, NULL);
    res_store_close(st);
    if (ok) {
        sweep_journal(sr->dir.path, json_pack("{s:s, s:s, s:I}", "event", "complete", "db", abs_db,
                                              "experiment_id", (json_int_t)id));
        if (a->json) {
            json_dumpf(r, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
            fputc('\n', stdout);
        } else if (!a->quiet) {
            search_print(s, r, stdout);
            fprintf(stderr, "admitsim search: %llu run%s stored in %s (experiment %lld)\n",
                    (unsigned long long)(runs + skipped), runs + skipped == 1 ? "" : "s", db,
                    (long long)id);
        }
    }
    json_decref(r);
    if (!ok) return EXIT_FAILURE_RUN;
    return answer == SIZE_MAX ? EXIT_NOT_MET : EXIT_OK;
}

static int run_search(search_run *sr, const char *cmdline) {
    search_args *a = sr->a;
    char out[SWEEP_PATH_MAX], err[2048], self[SWEEP_PATH_MAX];
    snprintf(out, sizeof out, "%s", a->out ? a->out : "");
    if (!a->out) snprintf(out, sizeof out, "out/searches/%.47s", a->spec.id);
    if (!cli_self_path(self, sizeof self)) {
        fprintf(stderr, "admitsim search: cannot find this program's own path\n");
        return EXIT_FAILURE_RUN;
    }
    a->engine.o.self = self;
    if (!sweep_dir_lock(&sr->dir, out, err, sizeof err)) {
        fprintf(stderr, "admitsim search: %s\n", err);
        return EXIT_FAILURE_RUN;
    }
    int rc = claim_dir(a, &sr->dir) && check_range(&a->spec, &sr->dir) ? EXIT_OK : EXIT_FAILURE_RUN;
    sweep_signals_catch();
    size_t next, answer = SIZE_MAX;
    while (rc == EXIT_OK && search_next_probe(&a->spec, sr->probes, sr->n, &next, &answer)) {
        if (sr->n == SEARCH_MAX_PROBES) {
            fprintf(stderr, "admitsim search: more than %d probes\n", SEARCH_MAX_PROBES);
            rc = EXIT_FAILURE_RUN;
        } else {
            rc = run_probe(sr, next);
        }
    }
    if (rc == EXIT_OK) rc = finish(sr, answer, cmdline);
    sweep_dir_close(&sr->dir);
    return rc;
}

int cmd_search(int argc, char **argv) {
    char *cmdline = cli_command_line(argc, argv);
    search_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc < 0) rc = name_search(&a.spec, a.scenario) ? -1 : EXIT_FAILURE_RUN;
    if (rc < 0) {
        search_run *sr = calloc(1, sizeof *sr);
        sweep_plan *plans = calloc(SEARCH_MAX_PROBES, sizeof *plans);
        if (sr && plans) {
            sr->a = &a;
            sr->plans = plans;
            rc = run_search(sr, cmdline);
            for (size_t i = 0; i < sr->n; i++)
                sweep_plan_free(&plans[i]);
        } else {
            fprintf(stderr, "admitsim search: out of memory\n");
            rc = EXIT_FAILURE_RUN;
        }
        for (size_t i = 0; sr && i < sr->n; i++)
            json_decref(sr->probes[i].figures);
        free(plans);
        free(sr);
    }
    free(cmdline);
    return rc;
}
