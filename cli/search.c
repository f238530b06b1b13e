/* A capacity search's definition, its bisection and its result (search.h). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "res/metrics.h"
#include "run/json_reader.h"
#include "search.h"

/* ---- the definition ---------------------------------------------------------- */

/* A whole number (an integer: *is_int) or a finite real. */
static bool parse_number(const char *text, double *out, bool *is_int) {
    char *end;
    errno = 0;
    long long i = strtoll(text, &end, 10);
    if (end != text && !*end && errno == 0 && llabs(i) <= (1LL << 53)) {
        *out = (double)i;
        *is_int = true;
        return true;
    }
    double v = strtod(text, &end);
    *is_int = false;
    *out = v;
    return end != text && !*end && isfinite(v);
}

bool search_parse_vary(search_spec *s, const char *text, char *err, size_t errlen) {
    const char *eq = strrchr(text, '=');
    const char *colon = eq ? strchr(eq, ':') : NULL;
    char why[300] = "", lo[64], hi[64];
    if (!eq || !colon || eq == text || (size_t)(eq - text) >= sizeof s->param) {
        snprintf(err, errlen, "--vary expects PARAM=LO:HI, got '%s'", text);
        return false;
    }
    snprintf(s->param, sizeof s->param, "%.*s", (int)(eq - text), text);
    snprintf(lo, sizeof lo, "%.*s", (int)(colon - eq - 1), eq + 1);
    snprintf(hi, sizeof hi, "%s", colon + 1);
    if (!sweep_param_name_is_valid(s->param, why, sizeof why)) {
        snprintf(err, errlen, "--vary: expected a parameter an arm overrides (%s), got '%s'", why,
                 s->param);
        return false;
    }
    bool lo_int, hi_int;
    if (!parse_number(lo, &s->lo, &lo_int) || !parse_number(hi, &s->hi, &hi_int) ||
        s->hi <= s->lo) {
        snprintf(err, errlen, "--vary %s: expected numbers LO:HI with LO < HI, got '%s:%s'",
                 s->param, lo, hi);
        return false;
    }
    s->integer = lo_int && hi_int;
    return true;
}

bool search_parse_slo(search_spec *s, const char *text, char *err, size_t errlen) {
    const char *op = strstr(text, "<=");
    if (!op) op = strstr(text, ">=");
    bool is_int;
    if (!op || op == text || (size_t)(op - text) >= sizeof s->metric ||
        !parse_number(op + 2, &s->threshold, &is_int)) {
        snprintf(err, errlen, "--slo expects 'METRIC<=X' or 'METRIC>=X', got '%s'", text);
        return false;
    }
    snprintf(s->metric, sizeof s->metric, "%.*s", (int)(op - text), text);
    s->at_most = op[0] == '<';
    if (strchr(s->metric, '*') || strchr(s->metric, ' ')) {
        snprintf(err, errlen, "--slo: expected one metric name (no pattern), got '%s'", s->metric);
        return false;
    }
    return true;
}

bool search_grid_check(search_spec *s, char *err, size_t errlen) {
    if (s->step == 0) s->step = s->integer ? 1 : (s->hi - s->lo) / 64;
    if (s->integer && s->step != floor(s->step)) s->integer = false;
    double steps = (s->hi - s->lo) / s->step;
    if (!(s->step > 0) || steps > 1e9 || fabs(steps - round(steps)) > 1e-9 * fmax(1, steps)) {
        snprintf(err, errlen,
                 "--step %g: expected a positive step that divides HI - LO (%g) into at most "
                 "10^9 steps",
                 s->step, s->hi - s->lo);
        return false;
    }
    s->steps = (size_t)llround(steps);
    return true;
}

double search_value(const search_spec *s, size_t k) {
    double v = s->lo + (double)k * s->step;
    if (s->integer) return round(v);
    char buf[64]; /* 12 significant digits: 0.1 + 2 * 0.2 is 0.5 */
    snprintf(buf, sizeof buf, "%.12g", v);
    return strtod(buf, NULL);
}

static json_t *number_json(const search_spec *s, double v) {
    return s->integer ? json_integer((json_int_t)v) : json_real(v);
}

json_t *search_spec_json(const search_spec *s) {
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:{s:s, s:s, s:f}, s:I}",
                     "search_id", s->id, "scenario", s->scenario, "scenario_id", s->scenario_id,
                     "arm", s->arm, "parameter", s->param, "from", number_json(s, s->lo), "to",
                     number_json(s, s->hi), "step", number_json(s, s->step), "goal",
                     s->largest ? "largest" : "smallest", "slo", "metric", s->metric, "op",
                     s->at_most ? "<=" : ">=", "threshold", s->threshold, "seeds",
                     (json_int_t)s->seeds);
}

/* ---- the bisection -------------------------------------------------------------- */

bool search_figures_meet(const search_spec *s, const json_t *figures) {
    const json_t *bound = json_object_get(figures, s->at_most ? "ci95_high" : "ci95_low");
    if (!json_is_number(bound)) return false;
    double b = json_number_value(bound);
    return s->at_most ? b <= s->threshold : b >= s->threshold;
}

/* Probes are seen from the goal's side: t = k for the smallest value, K - k
** for the largest, so the objective is met from some t up. */
static size_t side(const search_spec *s, size_t k) {
    return s->largest ? s->steps - k : k;
}

/* The probe of t, or NULL. */
static const search_probe *probe_at(const search_spec *s, const search_probe *probes, size_t n,
                                    size_t t) {
    for (size_t i = 0; i < n; i++)
        if (side(s, probes[i].k) == t) return &probes[i];
    return NULL;
}

bool search_next_probe(const search_spec *s, const search_probe *probes, size_t n, size_t *next,
                       size_t *answer) {
    size_t far = s->steps;
    const search_probe *at_far = probe_at(s, probes, n, far);
    const search_probe *at_near = probe_at(s, probes, n, 0);
    *answer = SIZE_MAX;
    if (!at_far) {
        *next = side(s, far);
        return true;
    }
    if (!at_far->meets) return false;
    if (!at_near) {
        *next = side(s, 0);
        return true;
    }
    size_t good = far, bad = 0; /* the nearest t meeting; the farthest below it failing */
    for (size_t i = 0; i < n; i++) {
        size_t t = side(s, probes[i].k);
        if (probes[i].meets && t < good) good = t;
    }
    if (good == 0) {
        *answer = side(s, 0);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        size_t t = side(s, probes[i].k);
        if (!probes[i].meets && t < good && t > bad) bad = t;
    }
    if (good - bad <= 1) {
        *answer = side(s, good);
        return false;
    }
    *next = side(s, bad + (good - bad) / 2);
    return true;
}

/* ---- the result -------------------------------------------------------------------- */

static json_t *probe_json(const search_spec *s, const search_probe *p, size_t i) {
    char v[64], arm[512];
    run_json_fmt_num(v, sizeof v, p->value);
    snprintf(arm, sizeof arm, "%s=%s", s->param, v);
    return json_pack("{s:I, s:o, s:s, s:b, s:O}", "probe", (json_int_t)i, "value",
                     number_json(s, p->value), "arm", arm, "meets", p->meets, "figures",
                     p->figures);
}

/* The probe on the other side of the answer, one step away, or NULL. */
static const search_probe *neighbour(const search_spec *s, const search_probe *probes, size_t n,
                                     size_t answer) {
    size_t t = side(s, answer);
    return t == 0 ? NULL : probe_at(s, probes, n, t - 1);
}

json_t *search_result_json(const search_spec *s, const search_probe *probes, size_t n,
                           size_t answer, int64_t experiment_id) {
    json_t *r = search_spec_json(s), *list = json_array();
    json_object_set_new(r, "kind", json_string("search"));
    json_object_set_new(r, "experiment_id", json_integer((json_int_t)experiment_id));
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, probe_json(s, &probes[i], i));
    json_object_set_new(r, "probes", list);
    bool found = answer != SIZE_MAX;
    json_object_set_new(r, "answer", found ? number_json(s, search_value(s, answer)) : json_null());
    const search_probe *nb = found ? neighbour(s, probes, n, answer) : NULL;
    json_object_set_new(r, "neighbour",
                        nb ? json_pack("{s:o, s:b, s:O}", "value", number_json(s, nb->value),
                                       "meets", nb->meets, "figures", nb->figures)
                           : json_null());
    return r;
}

static void print_figure(FILE *f, const json_t *v) {
    if (json_is_number(v))
        fprintf(f, "  %12.6g", json_number_value(v));
    else
        fprintf(f, "  %12s", "-");
}

void search_print(const search_spec *s, const json_t *r, FILE *f) {
    char lo[64], hi[64], step[64], th[64];
    run_json_fmt_num(lo, sizeof lo, s->lo);
    run_json_fmt_num(hi, sizeof hi, s->hi);
    run_json_fmt_num(step, sizeof step, s->step);
    run_json_fmt_num(th, sizeof th, s->threshold);
    const char *op = s->at_most ? "<=" : ">=";
    fprintf(f,
            "search %s: scenario %s: the %s %s in %s..%s (step %s) with %s %s %s, its 95%% "
            "interval over %llu seeds entirely %s %s (experiment %lld)\n",
            s->id, s->scenario_id, s->largest ? "largest" : "smallest", s->param, lo, hi, step,
            s->metric, op, th, (unsigned long long)s->seeds, op, th,
            (long long)json_integer_value(json_object_get(r, "experiment_id")));
    fprintf(f, "%6s  %12s  %5s  %12s  %12s  %12s  %s\n", "probe", "value", "n", "mean", "ci95_low",
            "ci95_high", "meets");
    json_t *p;
    size_t i;
    bool fewer = false;
    json_array_foreach(json_object_get(r, "probes"), i, p) {
        json_t *fig = json_object_get(p, "figures");
        json_int_t n = json_integer_value(json_object_get(fig, "n"));
        fewer = fewer || (uint64_t)n < s->seeds;
        fprintf(f, "%6zu", i);
        print_figure(f, json_object_get(p, "value"));
        fprintf(f, "  %5lld", (long long)n);
        print_figure(f, json_object_get(fig, "mean"));
        print_figure(f, json_object_get(fig, "ci95_low"));
        print_figure(f, json_object_get(fig, "ci95_high"));
        fprintf(f, "  %s\n", json_is_true(json_object_get(p, "meets")) ? "yes" : "no");
    }
    if (fewer)
        fprintf(f, "(n below %llu: the other seeds' runs do not record %s)\n",
                (unsigned long long)s->seeds, s->metric);
    const json_t *answer = json_object_get(r, "answer");
    if (!json_is_number(answer)) {
        fprintf(f, "answer: none: no value of %s in %s..%s meets it\n", s->param, lo, hi);
        return;
    }
    char a[64], b[64];
    run_json_fmt_num(a, sizeof a, json_number_value(answer));
    fprintf(f, "answer: %s = %s", s->param, a);
    const json_t *nb = json_object_get(r, "neighbour");
    if (json_is_object(nb)) {
        run_json_fmt_num(b, sizeof b, json_number_value(json_object_get(nb, "value")));
        fprintf(f, " (%s, one step %s, does not meet it)", b, s->largest ? "above" : "below");
    } else {
        fprintf(f, " (the end of the range)");
    }
    fputc('\n', f);
}
