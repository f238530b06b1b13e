/* admitsim suite: the scenario matrix through `ab` (ab.h), one report.
**
** For every scenario (the files or shipped scenarios' names given, else
** every *.json of the scenario directory but bad_*): its "baseline" and
** "candidate" arms (or the two --baseline / --candidate name) for seeds
** 1..N, stored in one results database, seed 1's artifacts and pictures
** written under OUT/<scenario>/, and OUT/report.md: per scenario the arms,
** the headline verdicts with their intervals, the pictures and every metric,
** plus OUT/suite.json with every experiment.  A scenario that fails is
** reported and the others go on; the exit status then says 1. */
#define _GNU_SOURCE /* strdup */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ab.h"
#include "cli.h"
#include "commands.h"
#include "program.h"
#include "res/report_files.h"
#include "sim/scenario.h"
#include "suite.h"

static void suite_usage(FILE *f) {
    fprintf(f, "usage: admitsim suite [SCENARIO...] [options]\n"
               "\n"
               "Runs the scenario matrix: every scenario's \"baseline\" and \"candidate\" arms\n"
               "for seeds 1..N through `admitsim ab`, stores every run in one database,\n"
               "writes seed 1's artifacts and pictures, and OUT/report.md with each\n"
               "scenario's verdicts, headline figures with their 95%% intervals, pictures and\n"
               "every metric (OUT/suite.json has the same as JSON).\n"
               "\n"
               "SCENARIO is a file or a shipped scenario's name (narrow_serial), as for\n"
               "`admitsim run`. Without SCENARIO: every *.json of --scenarios DIR except bad_*.\n"
               "\n"
               "options:\n"
               "  --baseline ARM    compare this arm (a policy or an arm every scenario has)\n"
               "                    instead of each scenario's \"baseline\" arm, as ab does\n"
               "  --candidate ARM   likewise for the \"candidate\" arm\n"
               "  --scenarios DIR   where the scenarios are (default: the source tree's\n"
               "                    scenarios/ when it exists, else the installed ones)\n"
               "  --seeds N         seeds 1..N (default 10)\n"
               "  --jobs N          simulations at once (default: the number of CPUs); the\n"
               "                    results are the same for every N\n"
               "  --out DIR         where to write (default out/suite)\n"
               "  --db FILE         results database (default OUT/suite.db)\n"
               "  --no-plots        no pictures (they need gnuplot)\n"
               "  --format png|svg  picture format (default png)\n"
               "  -h, --help        this text\n"
               "\n"
               "exit codes: 0 every scenario compared (whatever the verdicts), 1 a scenario\n"
               "failed or is unknown, or a file could not be written, 2 usage error\n");
}

/* -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, suite_args *a) {
    static const struct option opts[] = {{"baseline", required_argument, 0, 'b'},
                                         {"candidate", required_argument, 0, 'c'},
                                         {"scenarios", required_argument, 0, 'S'},
                                         {"seeds", required_argument, 0, 's'},
                                         {"jobs", required_argument, 0, 'j'},
                                         {"out", required_argument, 0, 'o'},
                                         {"db", required_argument, 0, 'd'},
                                         {"no-plots", no_argument, 0, 'P'},
                                         {"format", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    *a = (suite_args){.seeds = 10,
                      .jobs = cpus > 0 ? (uint64_t)cpus : 1,
                      .out = "out/suite",
                      .plots = true,
                      .fmt = "png"};
    optind = 1;
    int ch;
    while ((ch = cli_getopt("suite", argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 'b': a->arm[0] = optarg; break;
        case 'c': a->arm[1] = optarg; break;
        case 'S': a->dir = optarg; break;
        case 's':
            if (!cli_parse_range("suite", "--seeds", optarg, 1, 10000, &a->seeds))
                return EXIT_USAGE;
            break;
        case 'j':
            if (!cli_parse_range("suite", "--jobs", optarg, 1, 256, &a->jobs)) return EXIT_USAGE;
            break;
        case 'o': a->out = optarg; break;
        case 'd': a->db = optarg; break;
        case 'P': a->plots = false; break;
        case 'f':
            if (strcmp(optarg, "png") && strcmp(optarg, "svg")) {
                fprintf(stderr, "admitsim suite: --format expects png or svg, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            a->fmt = optarg;
            break;
        case 'h': suite_usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    a->files = (const char *const *)argv + optind;
    a->nfiles = (size_t)(argc - optind);
    for (size_t i = 0; i < a->nfiles; i++)
        if (!cli_scenario_is_file_arg("suite", a->files[i])) return EXIT_USAGE;
    return -1;
}

/* ---- which scenarios ---------------------------------------------------------- */

static int by_name(const void *x, const void *y) {
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static bool wanted(const char *name) {
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".json") == 0 && strncmp(name, "bad_", 4) != 0;
}

/* Every wanted file of dir, sorted by name; false with the reason on stderr. */
static bool list_dir(const char *dir, suite_list *l) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "admitsim suite: cannot read the scenario directory %s: %s\n", dir,
                strerror(errno));
        return false;
    }
    struct dirent *e;
    bool ok = true;
    while (ok && (e = readdir(d)) != NULL) {
        if (!wanted(e->d_name)) continue;
        if (l->count == SUITE_MAX_SCENARIOS) {
            fprintf(stderr, "admitsim suite: more than %d scenarios in %s\n", SUITE_MAX_SCENARIOS,
                    dir);
            ok = false;
            break;
        }
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(n);
        if (!path) {
            fprintf(stderr, "admitsim suite: out of memory\n");
            ok = false;
            break;
        }
        snprintf(path, n, "%s/%s", dir, e->d_name);
        l->path[l->count++] = path;
    }
    closedir(d);
    qsort(l->path, l->count, sizeof *l->path, by_name);
    if (ok && l->count == 0) {
        fprintf(stderr, "admitsim suite: no scenario (*.json) in %s\n", dir);
        ok = false;
    }
    return ok;
}

/* Each SCENARIO argument's file, resolved as run and ab resolve it: a file
** that exists, else a shipped scenario's name.  EXIT_OK, else the exit
** code with every name that is neither on stderr. */
static int list_args(const suite_args *a, suite_list *l) {
    int rc = EXIT_OK;
    for (size_t i = 0; i < a->nfiles; i++) {
        char buf[4096];
        sim_error err;
        const char *path = cli_scenario_file(a->files[i], buf, sizeof buf, &err);
        if (!path) {
            fprintf(stderr, "admitsim suite: %s\n", err.message);
            rc = EXIT_FAILURE_RUN;
            continue;
        }
        if (!(l->path[l->count] = strdup(path))) {
            fprintf(stderr, "admitsim suite: out of memory\n");
            return EXIT_FAILURE_RUN;
        }
        l->count++;
    }
    return rc;
}

/* EXIT_OK, else the exit code with the reason on stderr. */
static int list_scenarios(const suite_args *a, suite_list *l) {
    if (a->nfiles > SUITE_MAX_SCENARIOS) {
        fprintf(stderr, "admitsim suite: at most %d scenarios\n", SUITE_MAX_SCENARIOS);
        return EXIT_USAGE;
    }
    if (a->nfiles) return list_args(a, l);
    const char *dir = a->dir ? a->dir : cli_scenario_dir();
    return list_dir(dir, l) ? EXIT_OK : EXIT_USAGE;
}

/* ---- one scenario ------------------------------------------------------------- */

static void on_pair(void *ctx, uint64_t done, uint64_t total) {
    suite_progress_pair(ctx, done, total);
}

/* The scenario's file name without directory and ".json", every character
** outside [A-Za-z0-9_.-] made '_' (it names a directory and a Markdown
** anchor). */
static void stem(const char *path, char *out, size_t n) {
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    size_t len = strlen(name);
    if (len > 5 && strcmp(name + len - 5, ".json") == 0) len -= 5;
    if (len > n - 1) len = n - 1;
    for (size_t i = 0; i < len; i++)
        out[i] = isalnum((unsigned char)name[i]) || strchr("_.-", name[i]) ? name[i] : '_';
    out[len] = '\0';
}

/* Names an entry by its scenario_id ([A-Za-z0-9_.-], checked by the loader;
** the sanitised file name when it does not load) and reads its description
** and tags. */
static void name_entry(suite_entry *s) {
    sim_error err;
    sim_scenario *sc = sim_scenario_load(s->path, &err);
    if (!sc) {
        stem(s->path, s->stem, sizeof s->stem);
        return;
    }
    snprintf(s->stem, sizeof s->stem, "%s", sc->config.scenario_id);
    snprintf(s->description, sizeof s->description, "%s", sc->config.description);
    for (uint32_t i = 0; i < sc->config.check.tag_count; i++)
        if (!strcmp(sc->config.check.tags[i], "outputs_equal")) s->outputs_equal_tag = true;
    sim_scenario_free(sc);
}

/* False (with both files named) when two entries have one name: their
** directories would collide. */
static bool names_unique(const suite_entry *es, size_t n) {
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < i; k++)
            if (!strcmp(es[i].stem, es[k].stem)) {
                fprintf(stderr,
                        "admitsim suite: %s and %s are both scenario \"%s\": give each "
                        "scenario once (their outputs would share OUT/%s/)\n",
                        es[k].path, es[i].path, es[i].stem, es[i].stem);
                return false;
            }
    return true;
}

/* admitsim plot RUN into OUT/<stem>/plots/<arm>; the pictures' directory
** relative to OUT in rel (empty when not drawn). */
static void plot_arm(const suite_args *a, suite_entry *s, int arm) {
    char dir[2048], id[32];
    s->plots[arm][0] = '\0';
    if (!a->plots || s->first_run[arm] <= 0) return;
    snprintf(id, sizeof id, "%lld", (long long)s->first_run[arm]);
    snprintf(s->plots[arm], sizeof s->plots[arm], "%s/plots/%s", s->stem,
             arm ? "candidate" : "baseline");
    snprintf(dir, sizeof dir, "%s/%s", a->out, s->plots[arm]);
    /* a run whose lifecycle events cannot all be rebuilt (a cancelled or
    ** failed spawn's) is still drawn; plot's warning says how many lack */
    char *argv[] = {"plot", id,         "--db",         (char *)a->db_path, "--out",
                    dir,    "--format", (char *)a->fmt, "--quiet",          "--allow-incomplete",
                    NULL};
    if (cmd_plot(10, argv) != EXIT_OK) {
        s->plots[arm][0] = '\0';
        s->plot_failed = true;
    }
}

/* admitsim plot experiment:ID into OUT/<name>/plots/experiment. */
static void plot_ab(const suite_args *a, suite_entry *s) {
    char dir[2048], id[48];
    s->xplots[0] = '\0';
    if (!a->plots || s->experiment_id <= 0) return;
    snprintf(id, sizeof id, "experiment:%lld", (long long)s->experiment_id);
    snprintf(s->xplots, sizeof s->xplots, "%s/plots/experiment", s->stem);
    snprintf(dir, sizeof dir, "%s/%s", a->out, s->xplots);
    char *argv[] = {"plot", id,         "--db",         (char *)a->db_path, "--out",
                    dir,    "--format", (char *)a->fmt, "--quiet",          NULL};
    if (cmd_plot(9, argv) != EXIT_OK) {
        s->xplots[0] = '\0';
        s->plot_failed = true;
    }
}

static void run_scenario(const suite_args *a, suite_progress *pr, suite_entry *s,
                         const char *cmdline) {
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/%s", a->out, s->stem);
    ab_spec spec = {.scenario = s->path,
                    .arm = {a->arm[0], a->arm[1]},
                    .out_dir = dir,
                    .artifact_seeds = 1,
                    .db_path = a->db_path,
                    .seeds = a->seeds,
                    .jobs = a->jobs,
                    .command_line = cmdline,
                    .who = "admitsim suite",
                    .on_pair = on_pair,
                    .ctx = pr};
    double t0 = cli_monotonic_seconds();
    s->rc = ab_experiment_run(&spec, &s->e);
    if (s->rc == EXIT_OK && !ab_write_report(s->e, dir, "admitsim suite")) s->rc = EXIT_FAILURE_RUN;
    if (s->rc == EXIT_OK && s->outputs_equal_tag) {
        int at = res_experiment_outputs_differ_at(s->e);
        s->outputs_broken = at >= 0 && (uint64_t)at < a->seeds;
    }
    s->experiment_id = spec.experiment_id;
    s->first_run[0] = spec.first_run[0];
    s->first_run[1] = spec.first_run[1];
    if (s->rc == EXIT_OK) {
        plot_ab(a, s);
        plot_arm(a, s, 0);
        plot_arm(a, s, 1);
    }
    s->seconds = cli_monotonic_seconds() - t0;
}

/* ---- the command ---------------------------------------------------------------- */

static int run_all(suite_args *a, suite_list *l, const char *cmdline) {
    suite_entry *entries = calloc(l->count, sizeof *entries);
    if (!entries) {
        fprintf(stderr, "admitsim suite: out of memory\n");
        return EXIT_FAILURE_RUN;
    }
    for (size_t i = 0; i < l->count; i++) {
        entries[i].path = l->path[i];
        name_entry(&entries[i]);
    }
    if (!names_unique(entries, l->count)) {
        free(entries);
        return EXIT_USAGE;
    }
    suite_progress pr;
    suite_progress_start(&pr, l->count, a->seeds);
    double t0 = cli_monotonic_seconds();
    int rc = EXIT_OK;
    for (size_t i = 0; i < l->count; i++) {
        suite_progress_scenario(&pr, i, l->path[i]);
        run_scenario(a, &pr, &entries[i], cmdline);
        suite_progress_done(&pr, &entries[i]);
        if (entries[i].rc != EXIT_OK || entries[i].plot_failed || entries[i].outputs_broken)
            rc = EXIT_FAILURE_RUN;
    }
    suite_progress_finish(&pr);
    double seconds = cli_monotonic_seconds() - t0;
    if (!suite_write_report(a, entries, l->count, cmdline, seconds)) rc = EXIT_FAILURE_RUN;
    for (size_t i = 0; i < l->count; i++)
        res_experiment_free(entries[i].e);
    free(entries);
    return rc;
}

int cmd_suite(int argc, char **argv) {
    char *cmdline = cli_command_line(argc, argv);
    suite_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) {
        free(cmdline);
        return rc;
    }
    char db[4096];
    snprintf(db, sizeof db, "%s/suite.db", a.out);
    a.db_path = a.db ? a.db : db;
    char gnuplot[4096];
    if (a.plots && !cli_program_find("gnuplot", gnuplot, sizeof gnuplot)) {
        fprintf(stderr, "admitsim suite: gnuplot is not installed or not on PATH; install it "
                        "(scripts/setup.sh installs gnuplot-nox) or pass --no-plots\n");
        free(cmdline);
        return EXIT_USAGE;
    }
    suite_list l = {0};
    rc = list_scenarios(&a, &l);
    if (rc == EXIT_OK) rc = run_all(&a, &l, cmdline);
    for (size_t i = 0; i < l.count; i++)
        free(l.path[i]);
    free(cmdline);
    return rc;
}
