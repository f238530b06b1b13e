/* `admitsim plot experiment:ID` of a sweep or a search (plots/sweep.gp),
** drawn from the experiment's stored result:
**   metric-<i>    per metric, the mean over the seeds against the first
**                 parameter that varies, its 95% interval as bars, one line
**                 per combination of the other varying parameters' values
**                 (a search: the probes by value, the objective's threshold
**                 as a line);
**   heatmap-<i>   when exactly two parameters vary, the mean over both.
** DIR/metric-<i>.dat and heatmap-<i>.dat hold the figures; DIR/plot.gp
** (variables, plots/common.gp and plots/sweep.gp) draws them again. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plot.h"
#include "plot_scripts.h"
#include "run/json_reader.h"

#define SW_MAX_SERIES 64

/* A sweep's result, or a search's made alike: params [{name, values}],
** metrics [name], points [{parameters {name: value}, metrics {name:
** figures}}]. */
typedef struct sw_data {
    json_t *doc; /* owns the rest */
    json_t *params, *metrics, *points;
    bool has_threshold;
    double threshold;
    char threshold_label[400];
    int vary[2], nvary; /* the first two parameters with more than one value */
} sw_data;

/* ---- reading ------------------------------------------------------------------------ */

static int by_value(const void *a, const void *b) {
    double x = json_number_value(json_object_get(*(json_t *const *)a, "value"));
    double y = json_number_value(json_object_get(*(json_t *const *)b, "value"));
    return (x > y) - (x < y);
}

/* A search's probes as the points of one parameter, sorted by value. */
static json_t *search_as_sweep(json_t *r, sw_data *d) {
    const char *param = json_string_value(json_object_get(r, "parameter"));
    json_t *slo = json_object_get(r, "slo");
    const char *metric = json_string_value(json_object_get(slo, "metric"));
    json_t *probes = json_object_get(r, "probes");
    size_t n = json_array_size(probes);
    if (!param || !metric || !n) return NULL;
    json_t **sorted = calloc(n, sizeof *sorted);
    if (!sorted) return NULL;
    for (size_t i = 0; i < n; i++)
        sorted[i] = json_array_get(probes, i);
    qsort(sorted, n, sizeof *sorted, by_value);
    json_t *values = json_array(), *points = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(sorted[i], "value");
        json_array_append(values, v);
        json_array_append_new(points,
                              json_pack("{s:{s:O}, s:{s:O}}", "parameters", param, v, "metrics",
                                        metric, json_object_get(sorted[i], "figures")));
    }
    free(sorted);
    d->has_threshold = true;
    d->threshold = json_number_value(json_object_get(slo, "threshold"));
    char th[64];
    run_json_fmt_num(th, sizeof th, d->threshold);
    snprintf(d->threshold_label, sizeof d->threshold_label, "objective: %s %s", metric,
             json_string_value(json_object_get(slo, "op")));
    size_t used = strlen(d->threshold_label);
    snprintf(d->threshold_label + used, sizeof d->threshold_label - used, " %s", th);
    return json_pack("{s:[{s:s, s:o}], s:[s], s:o}", "parameters", "name", param, "values", values,
                     "metrics", metric, "points", points);
}

/* d from the stored result of a sweep or a search; false (said) when it
** is not one. */
static bool sw_read(sw_data *d, const char *kind, const char *result) {
    *d = (sw_data){.vary = {-1, -1}};
    json_t *r = json_loads(result, 0, NULL);
    d->doc = r && !strcmp(kind, "search") ? search_as_sweep(r, d) : json_incref(r);
    json_decref(r);
    d->params = json_object_get(d->doc, "parameters");
    d->metrics = json_object_get(d->doc, "metrics");
    d->points = json_object_get(d->doc, "points");
    if (!json_array_size(d->params) || !json_array_size(d->points)) {
        fprintf(stderr, "admitsim plot: the %s's stored result has no points to draw\n", kind);
        return false;
    }
    json_t *p;
    size_t i;
    json_array_foreach(d->params, i, p) {
        if (json_array_size(json_object_get(p, "values")) > 1 && d->nvary < 2)
            d->vary[d->nvary++] = (int)i;
    }
    if (d->nvary == 0) d->vary[0] = 0;
    return true;
}

static const char *param_name(const sw_data *d, int k) {
    return json_string_value(json_object_get(json_array_get(d->params, (size_t)k), "name"));
}

static json_t *param_values(const sw_data *d, int k) {
    return json_object_get(json_array_get(d->params, (size_t)k), "values");
}

/* The index of point's value of parameter k among its values (-1 none). */
static int value_index(const sw_data *d, const json_t *point, int k) {
    json_t *v = json_object_get(json_object_get(point, "parameters"), param_name(d, k)), *e;
    size_t i;
    json_array_foreach(param_values(d, k), i, e) if (json_equal(e, v)) return (int)i;
    return -1;
}

static void value_text(const json_t *v, char *buf, size_t len) {
    if (json_is_number(v))
        run_json_fmt_num(buf, len, json_number_value(v));
    else if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else
        snprintf(buf, len, "?");
}

static bool all_numbers(const json_t *values) {
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v) if (!json_is_number(v)) return false;
    return true;
}

/* ---- series --------------------------------------------------------------------- */

/* A point's series: the values of every varying parameter but the x one,
** as text (its legend). */
static void series_key(const sw_data *d, const json_t *point, char *buf, size_t len) {
    size_t n = 0, i;
    json_t *p;
    buf[0] = '\0';
    json_array_foreach(d->params, i, p) {
        if ((int)i == d->vary[0] || json_array_size(json_object_get(p, "values")) < 2) continue;
        char v[128];
        value_text(json_object_get(json_object_get(point, "parameters"),
                                   json_string_value(json_object_get(p, "name"))),
                   v, sizeof v);
        if (n < len)
            n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n ? ", " : "",
                                  json_string_value(json_object_get(p, "name")), v);
    }
}

/* The series in order of their first point; their keys into keys. */
static size_t list_series(const sw_data *d, char keys[][512]) {
    size_t n = 0, i;
    json_t *pt;
    json_array_foreach(d->points, i, pt) {
        char k[512];
        series_key(d, pt, k, sizeof k);
        size_t s = 0;
        while (s < n && strcmp(keys[s], k))
            s++;
        if (s == n && n < SW_MAX_SERIES) snprintf(keys[n++], sizeof keys[0], "%s", k);
    }
    return n;
}

/* ---- data files ------------------------------------------------------------------ */

static double figure(const json_t *fig, const char *key) {
    const json_t *v = json_object_get(fig, key);
    return json_is_number(v) ? json_number_value(v)
                             : json_number_value(json_object_get(fig, "mean"));
}

/* metric-<i>.dat: a block per series, a row per point along x. */
static bool metric_data(const sw_data *d, const char *dir, size_t i, char keys[][512],
                        size_t nseries) {
    char name[64];
    snprintf(name, sizeof name, "metric-%zu.dat", i);
    FILE *f = plot_open_in(dir, name);
    if (!f) return false;
    const char *metric = json_string_value(json_array_get(d->metrics, i));
    bool numbers = all_numbers(param_values(d, d->vary[0]));
    fprintf(f, "# x  mean  ci95_low  ci95_high (x: %s, %s)\n", param_name(d, d->vary[0]),
            numbers ? "its value" : "the index of its value");
    for (size_t s = 0; s < nseries; s++) {
        fprintf(f, "%s# series %zu\n", s ? "\n\n" : "", s + 1);
        size_t k;
        json_t *pt;
        json_array_foreach(d->points, k, pt) {
            char key[512];
            series_key(d, pt, key, sizeof key);
            json_t *fig = json_object_get(json_object_get(pt, "metrics"), metric);
            int xi = value_index(d, pt, d->vary[0]);
            if (strcmp(key, keys[s]) || !fig || xi < 0) continue;
            double x =
                numbers ? json_number_value(json_array_get(param_values(d, d->vary[0]), (size_t)xi))
                        : (double)xi;
            fprintf(f, "%.10g %.10g %.10g %.10g\n", x, figure(fig, "mean"), figure(fig, "ci95_low"),
                    figure(fig, "ci95_high"));
        }
    }
    return plot_close_ok(f, dir, name);
}

/* heatmap-<i>.dat: the mean at each (x index, y index). */
static bool heatmap_data(const sw_data *d, const char *dir, size_t i) {
    char name[64];
    snprintf(name, sizeof name, "heatmap-%zu.dat", i);
    FILE *f = plot_open_in(dir, name);
    if (!f) return false;
    const char *metric = json_string_value(json_array_get(d->metrics, i));
    fprintf(f, "# x index (%s)  y index (%s)  mean\n", param_name(d, d->vary[0]),
            param_name(d, d->vary[1]));
    size_t k;
    json_t *pt;
    json_array_foreach(d->points, k, pt) {
        json_t *fig = json_object_get(json_object_get(pt, "metrics"), metric);
        int x = value_index(d, pt, d->vary[0]), y = value_index(d, pt, d->vary[1]);
        if (fig && x >= 0 && y >= 0) fprintf(f, "%d %d %.10g\n", x, y, figure(fig, "mean"));
    }
    return plot_close_ok(f, dir, name);
}

/* ---- the script ---------------------------------------------------------------------- */

static void put_tics(FILE *f, const char *count, const char *array, const json_t *values) {
    size_t n = json_array_size(values), k;
    fprintf(f, "%s = %zu\narray %s[%zu]\n", count, n, array, n ? n : 1);
    json_t *v;
    json_array_foreach(values, k, v) {
        char var[64], text[128];
        snprintf(var, sizeof var, "%s[%zu]", array, k + 1);
        value_text(v, text, sizeof text);
        plot_put_string(f, var, text);
    }
}

static bool write_plot_gp(const sw_data *d, const plot_sweep_args *a, const char *dir,
                          char keys[][512], size_t nseries, bool heat) {
    FILE *f = plot_open_in(dir, "plot.gp");
    if (!f) return false;
    char title[600];
    snprintf(title, sizeof title, "%s - %s %lld", a->scenario, a->kind, (long long)a->id);
    fprintf(f, "# written by admitsim plot experiment:%lld; run: gnuplot <this file>\n",
            (long long)a->id);
    plot_put_dir(f, a->dir);
    plot_put_string(f, "fmt", a->fmt);
    plot_put_string(f, "run_title", title);
    plot_put_string(f, "x_label", param_name(d, d->vary[0]));
    size_t nm = json_array_size(d->metrics);
    fprintf(f, "metrics_count = %zu\narray metric_title[%zu]\n", nm, nm ? nm : 1);
    for (size_t i = 0; i < nm; i++) {
        char var[64];
        snprintf(var, sizeof var, "metric_title[%zu]", i + 1);
        plot_put_string(f, var, json_string_value(json_array_get(d->metrics, i)));
    }
    if (!all_numbers(param_values(d, d->vary[0])))
        put_tics(f, "x_count", "x_tic", param_values(d, d->vary[0]));
    fprintf(f, "series_count = %zu\narray series_title[%zu]\n", nseries, nseries);
    for (size_t s = 0; s < nseries; s++) {
        char var[64];
        snprintf(var, sizeof var, "series_title[%zu]", s + 1);
        plot_put_string(f, var, keys[s][0] ? keys[s] : "mean");
    }
    if (d->has_threshold) {
        fprintf(f, "threshold = %.17g\n", d->threshold);
        plot_put_string(f, "threshold_label", d->threshold_label);
    }
    if (heat) {
        fprintf(f, "heat_count = %zu\n", nm);
        plot_put_string(f, "heat_x_label", param_name(d, d->vary[0]));
        plot_put_string(f, "heat_y_label", param_name(d, d->vary[1]));
        put_tics(f, "heat_xn", "heat_xtic", param_values(d, d->vary[0]));
        put_tics(f, "heat_yn", "heat_ytic", param_values(d, d->vary[1]));
    }
    fputs("\n# ---- plots/common.gp, as built into admitsim ----\n", f);
    fwrite(plot_script_common, 1, sizeof plot_script_common, f);
    fputs("\n# ---- plots/sweep.gp, as built into admitsim ----\n", f);
    fwrite(plot_script_sweep, 1, sizeof plot_script_sweep, f);
    return plot_close_ok(f, dir, "plot.gp");
}

/* What drawing a sweep needs, for plot_staged. */
typedef struct sw_draw {
    const plot_sweep_args *a;
    const sw_data *d;
    char (*keys)[512];
    size_t nseries, nm;
    bool heat;
} sw_draw;

static bool draw_stage(const char *stage, void *ctx) {
    const sw_draw *s = ctx;
    bool ok = true;
    for (size_t i = 0; ok && i < s->nm; i++)
        ok = metric_data(s->d, stage, i, s->keys, s->nseries) &&
             (!s->heat || heatmap_data(s->d, stage, i));
    return ok && write_plot_gp(s->d, s->a, stage, s->keys, s->nseries, s->heat) &&
           plot_run_gnuplot(s->a->gnuplot, stage);
}

bool plot_sweep(const plot_sweep_args *a) {
    sw_data d;
    char(*keys)[512] = calloc(SW_MAX_SERIES, sizeof *keys);
    bool ok = keys && sw_read(&d, a->kind, a->result);
    sw_draw s = {.a = a, .d = &d, .keys = keys};
    s.nseries = ok ? list_series(&d, keys) : 0;
    s.nm = ok ? json_array_size(d.metrics) : 0;
    s.heat = ok && d.nvary == 2;
    ok = ok && plot_staged(a->dir, draw_stage, &s);
    if (ok && !a->quiet)
        fprintf(stderr, "admitsim plot: wrote metric-<i>.%s%s%s for %zu metric%s in %s\n", a->fmt,
                s.heat ? " and heatmap-<i>." : "", s.heat ? a->fmt : "", s.nm, s.nm == 1 ? "" : "s",
                a->dir);
    if (keys) json_decref(d.doc);
    free(keys);
    return ok;
}
