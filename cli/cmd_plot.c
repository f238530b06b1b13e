/* `admitsim plot RUN`: pictures of a stored run, drawn by gnuplot from data
** files this command writes next to them (so a reader can re-plot or check
** any point):
**   timeline      task leases in flight, queued tasks by group, row groups
**                 in flight, over virtual time;
**   request-<resource>  per request resource: in-flight vs current limit
**                 vs effective max, cooldown intervals shaded, rate-limit marks;
**   cdf           CDFs of ready_to_lease_gap and of request wait per group;
**   layers        the limiting-layer breakdown per group as stacked bars
**                 (when the run stored layer metrics).
** Everything is read from the results database written by `admitsim run`,
** through the store's reader.  This file is the command: its options, the
** pictures' title and what it says it wrote; plot_run.c writes the data
** files and the scripts (the gnuplot scripts of plots/, embedded at build
** time) and runs gnuplot; plot_experiment.c draws experiment:ID. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "plot.h"
#include "program.h"
#include "res/store_reader.h"

static void plot_usage(FILE *f) {
    fprintf(f, "usage: admitsim plot RUN [options]\n"
               "       admitsim plot experiment:ID [--seed N] [options]\n"
               "\n"
               "Draws a stored run with gnuplot: timeline.<fmt> (who holds the task slots:\n"
               "task leases stacked by group, with the task resource limits as dashed lines;\n"
               "queued tasks by group, row groups in flight), request-<resource>.<fmt> per\n"
               "request resource, named by its key with '/' as '_' (in flight, current limit\n"
               "on the effective max, cooldowns shaded, rate-limited answers marked),\n"
               "cdf.<fmt> (ready-to-lease gap and, with model calls, request wait per group)\n"
               "and layers.<fmt> (where each group's task time went, inside the task lease on\n"
               "its own scale, when the run stored layer metrics).  The data files\n"
               "(*.dat), their variables (params.gp) and the gnuplot script (plot.gp: params.gp\n"
               "and the scripts of plots/) are kept beside the pictures; `gnuplot DIR/plot.gp`\n"
               "draws them again.  A plot replaces an earlier one in its directory whole\n"
               "(its files not written again are removed; files plot did not write stay);\n"
               "a plot that fails or is interrupted leaves the directory as it was.\n"
               "\n"
               "experiment:ID draws a stored A/B experiment (admitsim ab, suite): deltas.<fmt>\n"
               "(each headline metric's paired change in percent with its 95%% interval),\n"
               "cdf.<fmt> (both arms' ready-to-lease gap and request wait per group, overlaid),\n"
               "timeline.<fmt> and limits-<n>.<fmt> (task leases, and per request resource\n"
               "in-flight and limit, of both arms' runs of one seed on one time axis), into\n"
               "out/plots/experiment-<ID> by default.  experiment:ID of a sweep or a search\n"
               "draws metric-<i>.<fmt> per metric (the mean over the seeds against the first\n"
               "parameter that varies, the 95%% interval as bars, one line per value of the\n"
               "others; a search's probes with its objective as a line) and, when two\n"
               "parameters vary, heatmap-<i>.<fmt> (the mean over both).\n"
               "\n"
               "options:\n"
               "  --db FILE            results database (default $ADMITSIM_DB,\n"
               "                       else " RES_STORE_DEFAULT_PATH ")\n"
               "  --out DIR            where to write (default out/plots/run-<RUN>)\n"
               "  --format png|svg     picture format (default png)\n"
               "  --iteration N        which iteration (default 0)\n"
               "  --seed N             experiment: whose runs to draw over time (default 1)\n"
               "  --quiet              no line saying what was written\n"
               "  --allow-incomplete   draw a run stored with its notable events only even\n"
               "                       when some of its lifecycle events cannot be rebuilt\n"
               "                       (a warning says how many); without it that is an\n"
               "                       error (exit 1)\n"
               "  -h, --help           this text\n"
               "\n"
               "Needs gnuplot on PATH (scripts/setup.sh installs gnuplot-nox).\n");
}

typedef struct plot_args {
    const char *db_path, *out, *fmt;
    uint64_t run_id, iteration;
    bool quiet, allow_incomplete;
} plot_args;

/* Parses the command line; returns -1 to go on, else an exit code. */
static int parse_args(int argc, char **argv, plot_args *a) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},     {"out", required_argument, 0, 'o'},
        {"format", required_argument, 0, 'f'}, {"iteration", required_argument, 0, 'i'},
        {"quiet", no_argument, 0, 'q'},        {"allow-incomplete", no_argument, 0, 'A'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    *a = (plot_args){.db_path = cli_db_default(), .fmt = "png"};
    optind = 1;
    int ch;
    while ((ch = cli_getopt("plot", argc, argv, "h", opts)) != -1) {
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
        case 'i':
            if (!cli_parse_u64("plot", "--iteration", optarg, 1000000, &a->iteration))
                return EXIT_USAGE;
            break;
        case 'q': a->quiet = true; break;
        case 'A': a->allow_incomplete = true; break;
        case 'h': plot_usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) return cli_usage_error("plot", "expected exactly one RUN id");
    if (!cli_parse_u64("plot", "RUN", argv[optind], INT64_MAX, &a->run_id)) return EXIT_USAGE;
    return -1;
}

/* The pictures' title: scenario, policy, seed, iteration and its status. */
static bool plot_title(res_store_reader *r, const plot_args *a, char *title, size_t len) {
    res_run_row run;
    res_iteration_row it;
    res_error err;
    res_status found = res_store_reader_run(r, (int64_t)a->run_id, &run, &err);
    if (found == RES_OK)
        found = res_store_reader_iteration(r, (int64_t)a->run_id, (int64_t)a->iteration, &it, &err);
    if (found == RES_OK) {
        snprintf(title, len, "%s - policy %s - seed %lld - iteration %llu (%s)",
                 plot_text(run.scenario_id), plot_text(run.policy), (long long)run.seed,
                 (unsigned long long)a->iteration, plot_text(it.status));
        return true;
    }
    if (found == RES_ENOTFOUND)
        fprintf(stderr, "admitsim plot: %s: no run %llu with an iteration %llu stored\n",
                a->db_path, (unsigned long long)a->run_id, (unsigned long long)a->iteration);
    else
        fprintf(stderr, "admitsim plot: %s\n", err.message);
    return false;
}

/* What drawing a run needs, for plot_staged. */
typedef struct run_draw {
    res_store_reader *r;
    const plot_args *a;
    const char *gnuplot, *dir, *title;
    int nreq;
    bool layers;
} run_draw;

static bool draw_run(const char *stage, void *ctx) {
    run_draw *d = ctx;
    res_error err;
    return plot_run_inputs(d->r, &err, (int64_t)d->a->run_id, (int64_t)d->a->iteration, stage,
                           d->dir, d->a->fmt, d->title, &d->nreq, &d->layers) &&
           plot_run_gnuplot(d->gnuplot, stage);
}

int cmd_plot(int argc, char **argv) {
    static const char *const valued[] = {"--db",        "--out",  "--format",
                                         "--iteration", "--seed", NULL};
    for (int i = 1; i < argc; i++) {
        bool value_next = false;
        for (int k = 0; valued[k]; k++)
            value_next = value_next || !strcmp(argv[i], valued[k]);
        if (value_next)
            i++;
        else if (!strncmp(argv[i], "experiment:", 11))
            return plot_experiment(argc, argv);
    }
    plot_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    char gnuplot[4096];
    if (!cli_program_find("gnuplot", gnuplot, sizeof gnuplot)) {
        fprintf(stderr, "admitsim plot: gnuplot is not installed or not on PATH; install it "
                        "(scripts/setup.sh installs gnuplot-nox) and run again\n");
        return EXIT_FAILURE_RUN;
    }
    res_error err;
    res_store_reader *r = NULL;
    if (res_store_reader_open(a.db_path, &r, &err) != RES_OK) {
        fprintf(stderr, "admitsim plot: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    char dir[1024], title[1200], fallback[64];
    snprintf(fallback, sizeof fallback, "out/plots/run-%llu", (unsigned long long)a.run_id);
    if (!plot_dir_named(dir, sizeof dir, a.out, fallback)) {
        res_store_reader_close(r);
        return EXIT_FAILURE_RUN;
    }
    run_draw d = {.r = r, .a = &a, .gnuplot = gnuplot, .dir = dir, .title = title};
    if (plot_title(r, &a, title, sizeof title) &&
        cli_lifecycle_complete("plot", r, a.db_path, (int64_t)a.run_id, (int64_t)a.iteration,
                               a.allow_incomplete) &&
        plot_staged(dir, draw_run, &d)) {
        if (!a.quiet)
            fprintf(stderr,
                    "admitsim plot: wrote timeline.%s, cdf.%s%s%s and %d request-<resource>.%s "
                    "in %s\n",
                    a.fmt, a.fmt, d.layers ? ", layers." : "", d.layers ? a.fmt : "", d.nreq, a.fmt,
                    dir);
        rc = EXIT_OK;
    } else {
        rc = EXIT_FAILURE_RUN;
    }
    res_store_reader_close(r);
    return rc;
}
