/* admitsim suite's progress on stderr and its report (suite.h). */
#define _GNU_SOURCE /* open_memstream */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "res/report_files.h"
#include "suite.h"

typedef struct suite_report_ctx {
    const suite_args *a;
    const suite_entry *es;
    size_t n;
    const char *cmdline;
    double seconds;
} suite_report_ctx;

/* ---- progress ------------------------------------------------------------------ */

void suite_progress_start(suite_progress *p, size_t scenarios, uint64_t seeds) {
    *p = (suite_progress){.tty = isatty(STDERR_FILENO) == 1,
                          .total = scenarios,
                          .seeds = seeds,
                          .t0 = cli_monotonic_seconds()};
}

void suite_progress_scenario(suite_progress *p, size_t index, const char *path) {
    const char *slash = strrchr(path, '/');
    p->index = index;
    snprintf(p->name, sizeof p->name, "%s", slash ? slash + 1 : path);
    suite_progress_pair(p, 0, p->seeds);
}

/* [#####.....] 5/14 scenarios  heavy_root.json seed 3/10  41 s */
void suite_progress_pair(suite_progress *p, uint64_t done, uint64_t total) {
    if (!p->tty) return;
    enum { WIDTH = 30 };
    double frac = ((double)p->index + (total ? (double)done / (double)total : 0)) /
                  (double)(p->total ? p->total : 1);
    int filled = (int)(frac * WIDTH);
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r[%s] %zu/%zu scenarios  %-32.32s seed %llu/%llu  %.0f s\033[K", bar,
            p->index, p->total, p->name, (unsigned long long)done, (unsigned long long)total,
            cli_monotonic_seconds() - p->t0);
}

/* Counts of headline metrics by verdict. */
static void headline_counts(const res_experiment *e, int *better, int *worse) {
    *better = *worse = 0;
    for (size_t i = 0; i < res_experiment_metric_count(e); i++) {
        const res_experiment_metric *m = res_experiment_metric_at(e, i);
        if (!res_metric_is_headline(m->name)) continue;
        *better += m->diff.verdict == RES_VERDICT_BETTER;
        *worse += m->diff.verdict == RES_VERDICT_WORSE;
    }
}

void suite_progress_done(suite_progress *p, const suite_entry *s) {
    if (p->tty) fprintf(stderr, "\r\033[K");
    if (s->rc != EXIT_OK) {
        fprintf(stderr, "admitsim suite: %zu/%zu %s FAILED (%.1f s)\n", p->index + 1, p->total,
                p->name, s->seconds);
        return;
    }
    int better, worse;
    headline_counts(s->e, &better, &worse);
    fprintf(stderr,
            "admitsim suite: %zu/%zu %s: %s, candidate better on %d, worse on %d headline "
            "metrics%s%s (%.1f s)\n",
            p->index + 1, p->total, p->name,
            res_experiment_is_deterministic(s->e) ? "deterministic" : "paired", better, worse,
            s->outputs_broken ? "; outputs DIFFER between the arms, the scenario says equal" : "",
            s->plot_failed ? "; a picture FAILED" : "", s->seconds);
}

void suite_progress_finish(suite_progress *p) {
    fprintf(stderr, "admitsim suite: %zu scenarios in %.1f s\n", p->total,
            cli_monotonic_seconds() - p->t0);
}

/* ---- report.md -------------------------------------------------------------------- */

static bool readable(const char *out_dir, const char *rel, const char *name) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, rel, name);
    return access(path, R_OK) == 0;
}

static int cmp_picture_name(const void *a, const void *b) {
    return strcmp(a, b);
}

/* The pictures `plot` drew in one arm's directory, in its order: timeline,
** cdf, request-<resource> (by name), layers.  Returns how many names went
** into out. */
enum { PICTURE_NAME = 256 }; /* a request picture's name holds its resource key */

static size_t pictures(const char *out_dir, const char *rel, const char *fmt,
                       char names[][PICTURE_NAME], size_t max) {
    size_t n = 0;
    char name[64], path[2048];
    for (int i = 0; i < 2 && n < max; i++) {
        snprintf(name, sizeof name, "%s.%s", i ? "cdf" : "timeline", fmt);
        if (readable(out_dir, rel, name)) snprintf(names[n++], PICTURE_NAME, "%s", name);
    }
    snprintf(path, sizeof path, "%s/%s", out_dir, rel);
    DIR *d = opendir(path);
    size_t first = n;
    for (struct dirent *de; d && (de = readdir(d)) != NULL && n + 1 < max;) {
        size_t len = strlen(de->d_name), ext = strlen(fmt);
        if (len < PICTURE_NAME && !strncmp(de->d_name, "request-", 8) && len > ext + 9 &&
            de->d_name[len - ext - 1] == '.' && !strcmp(de->d_name + len - ext, fmt))
            memcpy(names[n++], de->d_name, len + 1);
    }
    if (d) closedir(d);
    qsort(names[first], n - first, sizeof names[0], cmp_picture_name);
    snprintf(name, sizeof name, "layers.%s", fmt);
    if (n < max && readable(out_dir, rel, name)) snprintf(names[n++], PICTURE_NAME, "%s", name);
    return n;
}

/* The experiment's pictures: deltas, the overlaid CDFs, task leases and
** each request resource's limits over time. */
static void report_experiment_pictures(FILE *f, const suite_args *a, const suite_entry *s) {
    if (!s->xplots[0]) return;
    char name[64];
    snprintf(name, sizeof name, "deltas.%s", a->fmt);
    if (readable(a->out, s->xplots, name))
        fprintf(f, "\n![headline deltas with their intervals](%s/%s)\n", s->xplots, name);
    fprintf(f, "\nBoth arms' runs of seed 1, the candidate dashed:\n\n");
    for (int i = -2; i < 64; i++) {
        if (i == -2)
            snprintf(name, sizeof name, "cdf.%s", a->fmt);
        else if (i == -1)
            snprintf(name, sizeof name, "timeline.%s", a->fmt);
        else
            snprintf(name, sizeof name, "limits-%d.%s", i, a->fmt);
        if (!readable(a->out, s->xplots, name)) {
            if (i >= 0) break;
            continue;
        }
        fprintf(f, "![%s](%s/%s)\n", name, s->xplots, name);
    }
}

static void report_pictures(FILE *f, const suite_args *a, const suite_entry *s) {
    report_experiment_pictures(f, a, s);
    if (!s->plots[0][0] && !s->plots[1][0]) return;
    char names[2][70][PICTURE_NAME];
    size_t n[2] = {0, 0};
    for (int k = 0; k < 2; k++)
        if (s->plots[k][0]) n[k] = pictures(a->out, s->plots[k], a->fmt, names[k], 70);
    size_t rows = n[0] > n[1] ? n[0] : n[1];
    fprintf(f,
            "\n<details><summary>each arm's run of seed 1 (runs %lld and %lld of experiment "
            "%lld)</summary>\n\n| baseline | candidate |\n|---|---|\n",
            (long long)s->first_run[0], (long long)s->first_run[1], (long long)s->experiment_id);
    for (size_t r = 0; r < rows; r++) {
        for (int k = 0; k < 2; k++) {
            if (r < n[k])
                fprintf(f, "| ![%s %s](%s/%s) ", k ? "candidate" : "baseline", names[k][r],
                        s->plots[k], names[k][r]);
            else
                fprintf(f, "| ");
        }
        fprintf(f, "|\n");
    }
    fprintf(f, "\n</details>\n");
}

static const char *outputs_text(const suite_entry *s) {
    int at = res_experiment_outputs_differ_at(s->e);
    if (at < 0) return "unknown";
    if ((size_t)at == res_experiment_pairs(s->e)) return "equal";
    return s->outputs_equal_tag ? "**DIFFER** (the scenario says equal)" : "differ";
}

static void report_overview(FILE *f, const suite_args *a, const suite_entry *es, size_t n,
                            const char *cmdline, double seconds) {
    fprintf(f,
            "# admitsim suite\n\n"
            "%zu scenarios, each its `%s` arm against its `%s` arm over seeds "
            "1..%llu, paired by seed; intervals are 95%% intervals of the paired difference "
            "(Student's t).  %s\n\n"
            "Command: `%s` (%.1f s on this machine).\n\n"
            "| scenario | figures | outputs | candidate better on | worse on | |\n"
            "|---|---|---|---|---|---|\n",
            n, a->arm[0] ? a->arm[0] : "baseline", a->arm[1] ? a->arm[1] : "candidate",
            (unsigned long long)a->seeds,
            a->plots ? "Seed 1's artifacts and pictures are in each scenario's directory; every "
                       "run is in the database."
                     : "Seed 1's artifacts are in each scenario's directory; every run is in "
                       "the database.",
            cmdline, seconds);
    for (size_t i = 0; i < n; i++) {
        const suite_entry *s = &es[i];
        if (s->rc != EXIT_OK) {
            fprintf(f, "| [%s](#%s) | FAILED | | | | see stderr |\n", s->stem, s->stem);
            continue;
        }
        int better, worse;
        headline_counts(s->e, &better, &worse);
        fprintf(f,
                "| [%s](#%s) | %s | %s | %d headline metrics | %d | [every "
                "metric](%s/ab-%s-%s-vs-%s.md) "
                "|\n",
                s->stem, s->stem,
                res_experiment_is_deterministic(s->e) ? "deterministic" : "paired", outputs_text(s),
                better, worse, s->stem, res_experiment_scenario(s->e), res_experiment_arm(s->e, 1),
                res_experiment_arm(s->e, 0));
    }
}

static bool write_markdown(FILE *f, const void *ctx) {
    const suite_report_ctx *c = ctx;
    report_overview(f, c->a, c->es, c->n, c->cmdline, c->seconds);
    for (size_t i = 0; i < c->n; i++) {
        const suite_entry *s = &c->es[i];
        fprintf(f, "\n## %s\n\n", s->stem);
        if (s->description[0]) fprintf(f, "%s\n\n", s->description);
        if (s->rc != EXIT_OK) {
            fprintf(f, "FAILED: the reason is in the suite's messages.\n");
            continue;
        }
        res_experiment_print(s->e, f, RES_EXPERIMENT_MARKDOWN_BODY);
        report_pictures(f, c->a, s);
    }
    return !ferror(f);
}

/* ---- suite.json ------------------------------------------------------------------ */

static json_t *entry_json(const suite_entry *s) {
    json_t *j = json_pack("{s:s, s:s, s:s, s:f}", "scenario", s->stem, "file", s->path, "status",
                          s->rc == EXIT_OK ? "compared" : "failed", "host_seconds", s->seconds);
    if (!j || s->rc != EXIT_OK) return j;
    json_object_set_new(j, "experiment", res_experiment_json(s->e));
    json_object_set_new(j, "experiment_id", json_integer((json_int_t)s->experiment_id));
    json_object_set_new(j, "seed1_runs",
                        json_pack("{s:I, s:I}", "baseline", (json_int_t)s->first_run[0],
                                  "candidate", (json_int_t)s->first_run[1]));
    json_object_set_new(j, "pictures",
                        json_pack("{s:s, s:s}", "baseline", s->plots[0], "candidate", s->plots[1]));
    return j;
}

static bool write_json(FILE *f, const void *ctx) {
    const suite_report_ctx *c = ctx;
    json_t *list = json_array();
    for (size_t i = 0; i < c->n; i++)
        json_array_append_new(list, entry_json(&c->es[i]));
    json_t *doc =
        json_pack("{s:i, s:s, s:I, s:f, s:o}", "suite_version", 1, "command_line", c->cmdline,
                  "seeds", (json_int_t)c->a->seeds, "host_seconds", c->seconds, "scenarios", list);
    bool ok = doc && json_dumpf(doc, f, JSON_INDENT(1) | JSON_REAL_PRECISION(15)) == 0;
    json_decref(doc);
    return ok && fputc('\n', f) != EOF;
}

bool suite_write_report(const suite_args *a, const suite_entry *entries, size_t n,
                        const char *command_line, double seconds) {
    suite_report_ctx c = {
        .a = a, .es = entries, .n = n, .cmdline = command_line, .seconds = seconds};
    char err[1200];
    if (res_write_atomic(a->out, "suite.json", write_json, &c, err, sizeof err) != 0 ||
        res_write_atomic(a->out, "report.md", write_markdown, &c, err, sizeof err) != 0) {
        fprintf(stderr, "admitsim suite: %s\n", err);
        return false;
    }
    fprintf(stderr, "admitsim suite: wrote %s/report.md and %s/suite.json\n", a->out, a->out);
    return true;
}
