/*
** An A/B experiment's figures and verdicts (res/experiment.h).
*/
#include "res/experiment.h"
#include "res/artifact.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct res_experiment {
    char scenario_id[128], arm[2][64], description[2][256];
    uint64_t *seeds;
    size_t n;
    res_metric_set *sets[2]; /* [arm][pair] */
    uint64_t *hash[2];       /* [arm][pair]: the outputs' hash */
    bool *hashed[2];         /* [arm][pair]: whether it is known */
    res_experiment_metric *metrics;
    size_t count;
    res_experiment_missing *missing; /* metrics some run lacks: not compared */
    size_t nmissing;
    bool deterministic;
};

res_experiment *res_experiment_create(const char *scenario_id, const char *baseline,
                                      const char *candidate, const uint64_t *seeds, size_t n) {
    res_experiment *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    snprintf(e->scenario_id, sizeof e->scenario_id, "%s", scenario_id);
    snprintf(e->arm[0], sizeof e->arm[0], "%s", baseline);
    snprintf(e->arm[1], sizeof e->arm[1], "%s", candidate);
    e->n = n;
    e->seeds = malloc((n ? n : 1) * sizeof *e->seeds);
    e->sets[0] = calloc(n ? n : 1, sizeof *e->sets[0]);
    e->sets[1] = calloc(n ? n : 1, sizeof *e->sets[1]);
    for (int a = 0; a < 2; a++) {
        e->hash[a] = calloc(n ? n : 1, sizeof *e->hash[a]);
        e->hashed[a] = calloc(n ? n : 1, sizeof *e->hashed[a]);
    }
    if (!e->seeds || !e->sets[0] || !e->sets[1] || !e->hash[0] || !e->hash[1] || !e->hashed[0] ||
        !e->hashed[1]) {
        res_experiment_free(e);
        return NULL;
    }
    memcpy(e->seeds, seeds, n * sizeof *seeds);
    return e;
}

void res_experiment_free(res_experiment *e) {
    if (!e) return;
    for (int a = 0; a < 2; a++)
        for (size_t i = 0; e->sets[a] && i < e->n; i++)
            res_metric_set_free(&e->sets[a][i]);
    free(e->sets[0]);
    free(e->sets[1]);
    for (int a = 0; a < 2; a++) {
        free(e->hash[a]);
        free(e->hashed[a]);
    }
    free(e->seeds);
    free(e->metrics);
    free(e->missing);
    free(e);
}

void res_experiment_describe(res_experiment *e, int arm, const char *description) {
    snprintf(e->description[arm], sizeof e->description[arm], "%s", description ? description : "");
}

const char *res_experiment_arm(const res_experiment *e, int arm) {
    return e->arm[arm];
}

size_t res_experiment_pairs(const res_experiment *e) {
    return e->n;
}

const char *res_experiment_scenario(const res_experiment *e) {
    return e->scenario_id;
}

void res_experiment_set_outputs(res_experiment *e, int arm, size_t pair, uint64_t hash) {
    e->hash[arm][pair] = hash;
    e->hashed[arm][pair] = true;
}

int res_experiment_outputs_differ_at(const res_experiment *e) {
    for (size_t i = 0; i < e->n; i++)
        if (!e->hashed[0][i] || !e->hashed[1][i]) return -1;
    for (size_t i = 0; i < e->n; i++)
        if (e->hash[0][i] != e->hash[1][i]) return (int)i;
    return (int)e->n;
}

void res_experiment_set(res_experiment *e, int arm, size_t pair, res_metric_set *m) {
    res_metric_set_free(&e->sets[arm][pair]);
    e->sets[arm][pair] = *m;
    *m = (res_metric_set){0};
}

/* Whether name is in every set of both arms. */
static bool everywhere(const res_experiment *e, const char *name) {
    for (int a = 0; a < 2; a++)
        for (size_t i = 0; i < e->n; i++)
            if (!res_metric_find(&e->sets[a][i], name)) return false;
    return true;
}

/* How many of arm's runs have the metric name. */
static size_t runs_with(const res_experiment *e, int arm, const char *name) {
    size_t k = 0;
    for (size_t i = 0; i < e->n; i++)
        k += res_metric_find(&e->sets[arm][i], name) != NULL;
    return k;
}

/* Every metric some run has and another lacks, once each, in the order
** they first appear (baseline's runs first).  A name of the first run is
** asked whether it is everywhere once, at that run; any other name is
** missing from that run, so it only needs its counts once (runs_with only
** for the names not compared, which are few): no pass over every run per
** occurrence of a name. */
static bool find_missing(res_experiment *e) {
    size_t cap = 0;
    for (int a = 0; a < 2; a++)
        for (size_t i = 0; i < e->n; i++)
            cap += e->sets[a][i].count;
    free(e->missing);
    e->nmissing = 0;
    e->missing = calloc(cap ? cap : 1, sizeof *e->missing);
    if (!e->missing) return false;
    for (int a = 0; a < 2; a++)
        for (size_t i = 0; i < e->n; i++)
            for (size_t k = 0; k < e->sets[a][i].count; k++) {
                const char *name = e->sets[a][i].m[k].name;
                bool first_run = a == 0 && i == 0;
                if (!first_run && res_metric_find(&e->sets[0][0], name)) continue;
                if (first_run && everywhere(e, name)) continue;
                bool seen = false;
                for (size_t j = 0; j < e->nmissing && !seen; j++)
                    seen = !strcmp(e->missing[j].name, name);
                if (seen) continue;
                e->missing[e->nmissing++] =
                    (res_experiment_missing){name, {runs_with(e, 0, name), runs_with(e, 1, name)}};
            }
    return true;
}

static int by_rank(const void *pa, const void *pb) {
    const res_experiment_metric *a = pa, *b = pb;
    bool ha = res_metric_is_headline(a->name), hb = res_metric_is_headline(b->name);
    if (ha != hb) return ha ? -1 : 1;
    return strcmp(a->name, b->name);
}

static bool compare_one(res_experiment *e, res_experiment_metric *m, double *v0, double *v1) {
    for (size_t i = 0; i < e->n; i++) {
        v0[i] = res_metric_find(&e->sets[0][i], m->name)->value;
        v1[i] = res_metric_find(&e->sets[1][i], m->name)->value;
    }
    m->direction = res_metric_direction(m->name);
    res_spread_of(v0, e->n, &m->baseline);
    res_spread_of(v1, e->n, &m->candidate);
    res_paired_compare(v0, v1, e->n, m->direction, &m->diff);
    return strncmp(m->name, "host.", 5) == 0 || m->diff.deterministic;
}

bool res_experiment_compare(res_experiment *e) {
    free(e->metrics);
    e->count = 0;
    e->deterministic = e->n >= 2; /* one seed cannot show it */
    size_t figures = 0;           /* compared metrics other than host timing */
    const res_metric_set *first = e->n ? &e->sets[0][0] : NULL;
    e->metrics = calloc(first && first->count ? first->count : 1, sizeof *e->metrics);
    double *v0 = malloc((e->n ? e->n : 1) * sizeof *v0),
           *v1 = malloc((e->n ? e->n : 1) * sizeof *v1);
    bool ok = e->metrics && v0 && v1 && find_missing(e);
    for (size_t k = 0; ok && first && k < first->count; k++) {
        const char *name = first->m[k].name;
        if (!everywhere(e, name)) continue;
        res_experiment_metric *m = &e->metrics[e->count++];
        m->name = name;
        if (!compare_one(e, m, v0, v1)) e->deterministic = false;
        figures += strncmp(name, "host.", 5) != 0;
    }
    if (!figures) e->deterministic = false;
    free(v0);
    free(v1);
    if (ok) qsort(e->metrics, e->count, sizeof *e->metrics, by_rank);
    return ok;
}

bool res_experiment_is_deterministic(const res_experiment *e) {
    return e->deterministic;
}

size_t res_experiment_metric_count(const res_experiment *e) {
    return e->count;
}

const res_experiment_metric *res_experiment_metric_at(const res_experiment *e, size_t i) {
    return i < e->count ? &e->metrics[i] : NULL;
}

size_t res_experiment_missing_count(const res_experiment *e) {
    return e->nmissing;
}

const res_experiment_missing *res_experiment_missing_at(const res_experiment *e, size_t i) {
    return i < e->nmissing ? &e->missing[i] : NULL;
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *spread_json(const res_spread *s) {
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "mean", res_json_real_or_null(s->mean),
                     "stddev", res_json_real_or_null(s->stddev), "p50",
                     res_json_real_or_null(s->p50), "p95", res_json_real_or_null(s->p95), "min",
                     res_json_real_or_null(s->min), "max", res_json_real_or_null(s->max));
}

static const char *direction_name(res_direction d) {
    return d == RES_LOWER_IS_BETTER    ? "lower_is_better"
           : d == RES_HIGHER_IS_BETTER ? "higher_is_better"
                                       : "none";
}

static json_t *metric_json(const res_experiment_metric *m) {
    return json_pack(
        "{s:s, s:o, s:o, s:{s:o, s:o, s:o, s:o}, s:s, s:b}", "direction",
        direction_name(m->direction), "baseline", spread_json(&m->baseline), "candidate",
        spread_json(&m->candidate), "diff", "mean", res_json_real_or_null(m->diff.mean), "ci95_low",
        res_json_real_or_null(m->diff.ci95_low), "ci95_high",
        res_json_real_or_null(m->diff.ci95_high), "relative",
        res_json_real_or_null(m->diff.relative), "verdict", res_verdict_name(m->diff.verdict),
        "survives_trimming", m->diff.survives_trimming);
}

json_t *res_experiment_json(const res_experiment *e) {
    json_t *seeds = json_array(), *metrics = json_object(), *headline = json_array(),
           *missing = json_object();
    for (size_t i = 0; i < e->n; i++)
        json_array_append_new(seeds, json_integer((json_int_t)e->seeds[i]));
    for (size_t i = 0; i < e->count; i++) {
        json_object_set_new(metrics, e->metrics[i].name, metric_json(&e->metrics[i]));
        if (res_metric_is_headline(e->metrics[i].name))
            json_array_append_new(headline, json_string(e->metrics[i].name));
    }
    for (size_t i = 0; i < e->nmissing; i++)
        json_object_set_new(missing, e->missing[i].name,
                            json_pack("{s:I, s:I}", "baseline_seeds",
                                      (json_int_t)e->missing[i].seeds[0], "candidate_seeds",
                                      (json_int_t)e->missing[i].seeds[1]));
    json_t *arm[2];
    for (int a = 0; a < 2; a++) {
        arm[a] = json_pack("{s:s}", "arm", e->arm[a]);
        if (arm[a] && e->description[a][0])
            json_object_set_new(arm[a], "description", json_string(e->description[a]));
    }
    int differ = res_experiment_outputs_differ_at(e);
    return json_pack("{s:s, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o}", "scenario_id", e->scenario_id,
                     "baseline", arm[0], "candidate", arm[1], "seeds", seeds, "deterministic",
                     e->deterministic, "outputs_equal",
                     differ < 0 ? json_null() : json_boolean(differ == (int)e->n), "headline",
                     headline, "metrics", metrics, "not_compared", missing);
}

/* ---- for people ------------------------------------------------------------- */

/* "2.67x better" for a factor of 1.5 or more, else "12.3% better". */
static void claim(FILE *f, const res_experiment_metric *m) {
    double b = m->baseline.mean, c = m->candidate.mean;
    bool better = m->diff.verdict == RES_VERDICT_BETTER;
    double ratio = m->direction == RES_LOWER_IS_BETTER ? b / c : c / b;
    double factor = better ? ratio : 1 / ratio;
    if (isfinite(factor) && factor >= 1.5)
        fprintf(f, "%.2fx %s", factor, better ? "better" : "worse");
    else if (isfinite(m->diff.relative))
        fprintf(f, "%.1f%% %s", 100 * fabs(m->diff.relative), better ? "better" : "worse");
    else
        fprintf(f, "%s", better ? "better" : "worse");
}

static void interval(FILE *f, const res_paired *d) {
    if (d->deterministic)
        fprintf(f, "deterministic");
    else if (isfinite(d->ci95_low))
        fprintf(f, "95%% CI of the difference [%.4g, %.4g]", d->ci95_low, d->ci95_high);
    else
        fprintf(f, "no interval");
}

/* "the candidate has it for 4 of 5 seeds" (and the baseline's, when short). */
static void not_everywhere(const res_experiment *e, const res_experiment_missing *m, FILE *f) {
    bool first = true;
    for (int a = 0; a < 2; a++) {
        if (m->seeds[a] == e->n) continue;
        fprintf(f, "%sthe %s has it for %zu of %zu seed%s", first ? "" : ", ",
                a ? "candidate" : "baseline", m->seeds[a], e->n, e->n == 1 ? "" : "s");
        first = false;
    }
}

static void headlines(const res_experiment *e, FILE *f, bool markdown) {
    bool any = false;
    for (size_t i = 0; i < e->count; i++) {
        const res_experiment_metric *m = &e->metrics[i];
        if (!res_metric_is_headline(m->name) ||
            (m->diff.verdict != RES_VERDICT_BETTER && m->diff.verdict != RES_VERDICT_WORSE))
            continue;
        fprintf(f, markdown ? "- candidate is " : "  candidate is ");
        claim(f, m);
        fprintf(f, " on %s: %.4g -> %.4g (", m->name, m->baseline.mean, m->candidate.mean);
        interval(f, &m->diff);
        fprintf(f, "%s)\n", m->diff.survives_trimming ? "" : "; does not survive trimming");
        any = true;
    }
    for (size_t i = 0; i < e->nmissing; i++) {
        const res_experiment_missing *m = &e->missing[i];
        if (!res_metric_is_headline(m->name)) continue;
        fprintf(f, markdown ? "- **%s not compared**: " : "  %s NOT COMPARED: ", m->name);
        not_everywhere(e, m, f);
        fprintf(f, "\n");
    }
    if (!any)
        fprintf(f, markdown ? "- no headline metric differs\n" : "  no headline metric differs\n");
}

static int name_width(const res_experiment *e) {
    size_t w = 20;
    for (size_t i = 0; i < e->count; i++)
        if (strlen(e->metrics[i].name) > w) w = strlen(e->metrics[i].name);
    return w > 90 ? 90 : (int)w;
}

static void print_rows(const res_experiment *e, FILE *f, bool markdown, int w);

/* "candidate" when the arm is named so, else "candidate strict". */
static void arm_label(const res_experiment *e, int a, char *out, size_t n, bool markdown) {
    const char *role = a ? "candidate" : "baseline";
    if (!strcmp(e->arm[a], role))
        snprintf(out, n, "%s", role);
    else
        snprintf(out, n, markdown ? "%s `%s`" : "%s %s", role, e->arm[a]);
}

static void print_title(const res_experiment *e, FILE *f, bool markdown) {
    char b[128], c[128];
    arm_label(e, 0, b, sizeof b, markdown);
    arm_label(e, 1, c, sizeof c, markdown);
    if (markdown)
        fprintf(f, "## %s: %s vs %s\n\n", e->scenario_id, c, b);
    else
        fprintf(f, "ab %s: %s vs %s, %zu seed%s, %s\n", e->scenario_id, c, b, e->n,
                e->n == 1 ? "" : "s",
                e->deterministic ? "deterministic"
                : e->n < 2       ? "no interval or verdict from one seed"
                                 : "paired, 95% CI (Student's t)");
}

static void print_arms(const res_experiment *e, FILE *f, bool markdown) {
    if (markdown)
        fprintf(f, "%zu seed%s, %s.\n\n", e->n, e->n == 1 ? "" : "s",
                e->deterministic ? "deterministic (every seed gives the same figures)"
                : e->n < 2       ? "no interval or verdict from one seed"
                                 : "paired by seed, 95% intervals from Student's t");
    for (int a = 0; a < 2; a++) {
        char label[128];
        arm_label(e, a, label, sizeof label, markdown);
        if (e->description[a][0])
            fprintf(f, markdown ? "- %s: %s\n" : "  %s: %s\n", label, e->description[a]);
    }
    if (markdown && (e->description[0][0] || e->description[1][0])) fputc('\n', f);
    int differ = res_experiment_outputs_differ_at(e);
    if (differ == (int)e->n)
        fprintf(f, markdown ? "Outputs: identical in both arms for every seed.\n\n"
                            : "  outputs identical in both arms for every seed\n");
    else if (differ >= 0)
        fprintf(f,
                markdown ? "Outputs: **differ** between the arms (first at seed %llu).\n\n"
                         : "  outputs DIFFER between the arms (first at seed %llu)\n",
                (unsigned long long)e->seeds[differ]);
}

void res_experiment_print(const res_experiment *e, FILE *f, res_experiment_style style) {
    bool markdown = style != RES_EXPERIMENT_TABLE;
    int w = name_width(e);
    if (style != RES_EXPERIMENT_MARKDOWN_BODY) print_title(e, f, markdown);
    print_arms(e, f, markdown);
    headlines(e, f, markdown);
    if (style == RES_EXPERIMENT_MARKDOWN_BODY)
        fprintf(f, "\n<details><summary>every metric</summary>\n\n");
    else if (markdown)
        fputc('\n', f);
    if (markdown)
        fprintf(f, "| metric | baseline | candidate | difference | relative | verdict |\n"
                   "|---|---|---|---|---|---|\n");
    else
        fprintf(f, "\n%-*s %12s %12s %12s %24s %9s %s\n", w, "metric", "baseline", "candidate",
                "difference", "95% CI", "relative", "verdict");
    print_rows(e, f, markdown, w);
    if (e->nmissing) fprintf(f, "\nnot compared (not in every run of both arms):\n");
    for (size_t i = 0; i < e->nmissing; i++) {
        fprintf(f, markdown ? "- %s: " : "  %s: ", e->missing[i].name);
        not_everywhere(e, &e->missing[i], f);
        fprintf(f, "\n");
    }
    if (style == RES_EXPERIMENT_MARKDOWN_BODY) fprintf(f, "\n</details>\n");
}

static void print_rows(const res_experiment *e, FILE *f, bool markdown, int w) {
    for (size_t i = 0; i < e->count; i++) {
        const res_experiment_metric *m = &e->metrics[i];
        char ci[64] = "-", rel[32] = "-";
        if (isfinite(m->diff.ci95_low))
            snprintf(ci, sizeof ci, "[%.4g, %.4g]", m->diff.ci95_low, m->diff.ci95_high);
        if (isfinite(m->diff.relative))
            snprintf(rel, sizeof rel, "%+.1f%%", 100 * m->diff.relative);
        const char *v =
            m->direction == RES_NO_DIRECTION && m->diff.verdict == RES_VERDICT_UNDETERMINED
                ? "-"
                : res_verdict_name(m->diff.verdict);
        const char *trim = m->diff.survives_trimming || (m->diff.verdict != RES_VERDICT_BETTER &&
                                                         m->diff.verdict != RES_VERDICT_WORSE)
                               ? ""
                               : " (not after trimming)";
        if (markdown)
            fprintf(f, "| %s | %.4g ± %.3g | %.4g ± %.3g | %.4g %s | %s | %s%s |\n", m->name,
                    m->baseline.mean, m->baseline.stddev, m->candidate.mean, m->candidate.stddev,
                    m->diff.mean, ci, rel, v, trim);
        else
            fprintf(f, "%-*.*s %12.4g %12.4g %12.4g %24s %9s %s%s\n", w, w, m->name,
                    m->baseline.mean, m->candidate.mean, m->diff.mean, ci, rel, v, trim);
    }
}
