/* `admitsim plot experiment:ID`: a stored A/B experiment's two arms side by
** side (plots/experiment.gp; a sweep or a search: plot_sweep.c):
**   deltas        each headline metric's paired change (candidate - baseline)
**                 relative to the baseline mean, in percent, with its 95%
**                 interval (from the experiment's stored verdict);
**   cdf           both arms' ready-to-lease gap and request wait per group
**                 as CDFs, the candidate dashed;
**   timeline      both arms' task leases in flight over virtual time;
**   limits-<n>    per request resource both arms' in-flight calls and
**                 current limit over virtual time.
** The over-time pictures are of one seed's runs (--seed, default 1).  Each
** arm's data files are those `plot RUN` writes, in DIR/baseline and
** DIR/candidate with their own params.gp; DIR/deltas.dat holds the
** deltas; DIR/plot.gp is what gnuplot runs. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plot.h"
#include "plot_scripts.h"
#include "program.h"

typedef struct xp_args {
    const char *db_path, *out, *fmt;
    uint64_t id, seed;
    bool quiet;
} xp_args;

/* -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, xp_args *a) {
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"out", required_argument, 0, 'o'},
                                         {"format", required_argument, 0, 'f'},
                                         {"seed", required_argument, 0, 's'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"iteration", required_argument, 0, 'i'},
                                         {0, 0, 0, 0}};
    *a = (xp_args){.db_path = cli_db_default(), .fmt = "png", .seed = 1};
    optind = 1;
    int ch;
    uint64_t iteration = 0;
    while ((ch = cli_getopt("plot", argc, argv, "", opts)) != -1) {
        switch (ch) {
        case 'd': a->db_path = optarg; break;
        case 'o': a->out = optarg; break;
        case 'f':
            if (strcmp(optarg, "png") && strcmp(optarg, "svg")) {
                fprintf(stderr, "admitsim plot: --format expects png or svg, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            a->fmt = optarg;
            break;
        case 's':
            if (!cli_parse_seed("plot", "--seed", optarg, &a->seed)) return EXIT_USAGE;
            break;
        case 'i':
            if (!cli_parse_u64("plot", "--iteration", optarg, 1000000, &iteration))
                return EXIT_USAGE;
            if (iteration) {
                fprintf(stderr, "admitsim plot: an experiment's runs have one iteration\n");
                return EXIT_USAGE;
            }
            break;
        case 'q': a->quiet = true; break;
        default: return EXIT_USAGE;
        }
    }
    if (optind != argc - 1 ||
        !cli_parse_u64("plot", "experiment:ID", argv[optind] + 11, INT64_MAX, &a->id)) {
        if (optind != argc - 1)
            fprintf(stderr, "admitsim plot: expected exactly one experiment:ID\n");
        return EXIT_USAGE;
    }
    return -1;
}

/* ---- what is stored ------------------------------------------------------------ */

typedef struct xp_store {
    res_store_reader *r;
    res_error err;
    char scenario[128], arm[2][64];
    char *result; /* the verdict, JSON text */
    int64_t run[2];
} xp_store;

static bool read_experiment(xp_store *x, const xp_args *a) {
    res_experiment_row row;
    if (res_store_reader_experiment(x->r, (int64_t)a->id, &row, &x->err) != RES_OK) {
        fprintf(stderr, "admitsim plot: %s\n", x->err.message);
        return false;
    }
    if (strcmp(row.kind, "ab") != 0 || !row.baseline_arm || !row.candidate_arm) {
        fprintf(stderr, "admitsim plot: %s: experiment %llu is a %s, not an A/B experiment\n",
                a->db_path, (unsigned long long)a->id, row.kind);
        return false;
    }
    if (!row.result_json) {
        fprintf(stderr, "admitsim plot: %s: experiment %llu has no verdict (it is %s)\n",
                a->db_path, (unsigned long long)a->id, row.state);
        return false;
    }
    snprintf(x->scenario, sizeof x->scenario, "%s", row.scenario_id);
    snprintf(x->arm[0], sizeof x->arm[0], "%s", row.baseline_arm);
    snprintf(x->arm[1], sizeof x->arm[1], "%s", row.candidate_arm);
    x->result = strdup(row.result_json);
    return x->result != NULL;
}

/* Each arm's complete run of the seed. */
static bool find_runs(xp_store *x, const xp_args *a) {
    res_store_cursor *c = NULL;
    if (res_store_reader_experiment_runs(x->r, (int64_t)a->id, &c, &x->err) != RES_OK) {
        fprintf(stderr, "admitsim plot: %s\n", x->err.message);
        return false;
    }
    res_experiment_run_row row;
    res_cursor_step step;
    while ((step = res_store_cursor_next_experiment_run(c, &row, &x->err)) == RES_CURSOR_ROW) {
        if ((uint64_t)row.seed != a->seed || !row.arm || strcmp(row.state, "complete") != 0)
            continue;
        for (int k = 0; k < 2; k++)
            if (!strcmp(row.arm, x->arm[k])) x->run[k] = row.run_id;
    }
    res_store_cursor_close(c);
    if (step == RES_CURSOR_ERROR) {
        fprintf(stderr, "admitsim plot: %s\n", x->err.message);
        return false;
    }
    for (int k = 0; k < 2; k++)
        if (!x->run[k]) {
            fprintf(stderr,
                    "admitsim plot: %s: experiment %llu has no complete %s run of seed %llu\n",
                    a->db_path, (unsigned long long)a->id, x->arm[k], (unsigned long long)a->seed);
            return false;
        }
    return true;
}

/* ---- the data files -------------------------------------------------------------- */

/* DIR/<role>/: the arm's run data and its params.gp; *nreq its request
** resources. */
static bool arm_data(xp_store *x, int k, const char *dir, int *nreq) {
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/%s", dir, k ? "candidate" : "baseline");
    if (!plot_make_dirs(sub)) return false;
    FILE *params = plot_open_in(sub, "params.gp");
    if (!params) return false;
    bool layers;
    bool ok = plot_run_data(x->r, &x->err, x->run[k], 0, sub, params, nreq, &layers);
    return plot_close_ok(params, sub, "params.gp") && ok;
}

/* DIR/deltas.dat: per headline metric with a relative change, in the
** verdict's order: index, relative change %, its interval's ends % (the
** change when there is none), a colour by verdict, the quoted name. */
static bool deltas(const xp_store *x, const char *dir, int *count) {
    json_t *doc = json_loads(x->result, 0, NULL);
    json_t *metrics = json_object_get(doc, "metrics");
    FILE *f = doc ? plot_open_in(dir, "deltas.dat") : NULL;
    if (!f) {
        if (!doc) fprintf(stderr, "admitsim plot: the experiment's verdict is not JSON\n");
        json_decref(doc);
        return false;
    }
    fprintf(f, "# index  change_%%  ci_low_%%  ci_high_%%  colour  \"metric\" (candidate - "
               "baseline, relative to the baseline mean; colour by verdict)\n");
    size_t i;
    json_t *name;
    *count = 0;
    json_array_foreach(json_object_get(doc, "headline"), i, name) {
        json_t *m = json_object_get(metrics, json_string_value(name));
        json_t *diff = json_object_get(m, "diff");
        double base = json_number_value(json_object_get(json_object_get(m, "baseline"), "mean"));
        json_t *rel = json_object_get(diff, "relative");
        if (!json_is_number(rel) || base == 0) continue;
        double lo = json_is_number(json_object_get(diff, "ci95_low"))
                        ? json_number_value(json_object_get(diff, "ci95_low")) / fabs(base)
                        : json_number_value(rel);
        double hi = json_is_number(json_object_get(diff, "ci95_high"))
                        ? json_number_value(json_object_get(diff, "ci95_high")) / fabs(base)
                        : json_number_value(rel);
        const char *verdict = json_string_value(json_object_get(m, "verdict"));
        long colour = !verdict                     ? 0x7f7f7f
                      : !strcmp(verdict, "better") ? 0x2ca02c
                      : !strcmp(verdict, "worse")  ? 0xd62728
                                                   : 0x7f7f7f;
        fprintf(f, "%d %.6g %.6g %.6g %ld \"", *count, 100 * json_number_value(rel), 100 * lo,
                100 * hi, colour);
        for (const char *c = json_string_value(name); *c; c++)
            fputc(*c == '"' || (unsigned char)*c < 0x20 ? '\'' : *c, f);
        fputs("\"\n", f);
        (*count)++;
    }
    json_decref(doc);
    return plot_close_ok(f, dir, "deltas.dat");
}

/* ---- the scripts ----------------------------------------------------------------- */

static bool write_plot_gp(const xp_store *x, const xp_args *a, const char *dir, const char *dest,
                          int nreq[2], int ndeltas) {
    FILE *f = plot_open_in(dir, "plot.gp");
    if (!f) return false;
    char title[600], label[2][80];
    for (int k = 0; k < 2; k++) {
        const char *role = k ? "candidate" : "baseline";
        if (!strcmp(x->arm[k], role))
            snprintf(label[k], sizeof label[k], "%s", role);
        else
            snprintf(label[k], sizeof label[k], "%s %s", role, x->arm[k]);
    }
    snprintf(title, sizeof title, "%s - experiment %llu - %s vs %s", x->scenario,
             (unsigned long long)a->id, label[1], label[0]);
    fprintf(f, "# written by admitsim plot experiment:%llu; run: gnuplot <this file>\n",
            (unsigned long long)a->id);
    plot_put_dir(f, dest);
    plot_put_string(f, "fmt", a->fmt);
    plot_put_string(f, "run_title", title);
    plot_put_string(f, "baseline_label", label[0]);
    plot_put_string(f, "candidate_label", label[1]);
    fprintf(f, "seed = %llu\n", (unsigned long long)a->seed);
    fprintf(f, "deltas_count = %d\nbaseline_requests = %d\ncandidate_requests = %d\n", ndeltas,
            nreq[0], nreq[1]);
    fputs("\n# ---- plots/common.gp, as built into admitsim ----\n", f);
    fwrite(plot_script_common, 1, sizeof plot_script_common, f);
    fputs("\n# ---- plots/experiment.gp, as built into admitsim ----\n", f);
    fwrite(plot_script_experiment, 1, sizeof plot_script_experiment, f);
    return plot_close_ok(f, dir, "plot.gp");
}

/* What drawing an experiment needs, for plot_staged. */
typedef struct xp_draw {
    xp_store *x;
    const xp_args *a;
    const char *gnuplot, *dir;
    int nreq[2];
} xp_draw;

static bool draw_stage(const char *stage, void *ctx) {
    xp_draw *d = ctx;
    int ndeltas = 0;
    return arm_data(d->x, 0, stage, &d->nreq[0]) && arm_data(d->x, 1, stage, &d->nreq[1]) &&
           deltas(d->x, stage, &ndeltas) &&
           write_plot_gp(d->x, d->a, stage, d->dir, d->nreq, ndeltas) &&
           plot_run_gnuplot(d->gnuplot, stage);
}

static bool draw(xp_store *x, const xp_args *a, const char *gnuplot, char *dir) {
    xp_draw d = {.x = x, .a = a, .gnuplot = gnuplot, .dir = dir};
    bool ok = plot_staged(dir, draw_stage, &d);
    if (ok && !a->quiet)
        fprintf(stderr, "admitsim plot: wrote deltas.%s, cdf.%s, timeline.%s%s in %s\n", a->fmt,
                a->fmt, a->fmt, d.nreq[0] ? " and limits-<n> per request resource" : "", dir);
    return ok;
}

/* A sweep or a search goes to plot_sweep.c: 1 drawn, 0 failed (said), -1
** another kind. */
static int sweep_or_search(xp_store *x, const xp_args *a, const char *gnuplot, char *dir) {
    res_experiment_row row;
    if (res_store_reader_experiment(x->r, (int64_t)a->id, &row, &x->err) != RES_OK ||
        (strcmp(row.kind, "sweep") && strcmp(row.kind, "search")))
        return -1; /* read_experiment says why */
    if (!row.result_json) {
        fprintf(stderr, "admitsim plot: %s: experiment %llu has no result (it is %s)\n", a->db_path,
                (unsigned long long)a->id, row.state);
        return 0;
    }
    plot_sweep_args sa = {.kind = row.kind,
                          .result = row.result_json,
                          .scenario = row.scenario_id,
                          .dir = dir,
                          .fmt = a->fmt,
                          .gnuplot = gnuplot,
                          .id = (long long)a->id,
                          .quiet = a->quiet};
    return plot_sweep(&sa) ? 1 : 0;
}

int plot_experiment(int argc, char **argv) {
    xp_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    char gnuplot[4096];
    if (!cli_program_find("gnuplot", gnuplot, sizeof gnuplot)) {
        fprintf(stderr, "admitsim plot: gnuplot is not installed or not on PATH; install it "
                        "(scripts/setup.sh installs gnuplot-nox) and run again\n");
        return EXIT_FAILURE_RUN;
    }
    xp_store x = {0};
    if (res_store_reader_open(a.db_path, &x.r, &x.err) != RES_OK) {
        fprintf(stderr, "admitsim plot: %s\n", x.err.message);
        return EXIT_FAILURE_RUN;
    }
    char dir[1024], fallback[64];
    snprintf(fallback, sizeof fallback, "out/plots/experiment-%llu", (unsigned long long)a.id);
    if (!plot_dir_named(dir, sizeof dir, a.out, fallback)) {
        res_store_reader_close(x.r);
        return EXIT_FAILURE_RUN;
    }
    int kind = sweep_or_search(&x, &a, gnuplot, dir);
    bool ok = kind >= 0
                  ? kind > 0
                  : read_experiment(&x, &a) && find_runs(&x, &a) && draw(&x, &a, gnuplot, dir);
    free(x.result);
    res_store_reader_close(x.r);
    return ok ? EXIT_OK : EXIT_FAILURE_RUN;
}
