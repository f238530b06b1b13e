/*
** The regression check: gates judged per (scenario, arm) on matched runs
** (res/check.h).
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"
#include "res/artifact.h"
#include "res/compare.h"
#include "res/metrics.h"

/* One (scenario, arm): its runs on both sides, in seed order. */
typedef struct group {
    const char *name;
    const res_check_run_in **cand, **base;
    size_t n;
} group;

typedef struct outcome {
    const char *status; /* "pass", "fail", "not_applicable" */
    char reason[512];
    double candidate, baseline, threshold; /* NAN: none */
} outcome;

static outcome verdict(const char *status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* s cut to at most len - 4 bytes at a character's start (a UTF-8
** sequence whole or not at all), "..." after it. */
static void cut_whole(char *s, size_t len) {
    size_t n = len - 4;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) /* s[n] continues a character */
        n--;
    memcpy(s + n, "...", 4);
}

static outcome verdict(const char *status, const char *fmt, ...) {
    outcome o = {.status = status, .candidate = NAN, .baseline = NAN, .threshold = NAN};
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o.reason, sizeof o.reason, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof o.reason) cut_whole(o.reason, sizeof o.reason);
    return o;
}

/* ---- matching ---------------------------------------------------------------------- */

static const res_check_run_in *find(const res_check_side *s, const char *key) {
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->runs[i].key, key) == 0) return &s->runs[i];
    return NULL;
}

static bool matched(const res_check_side *a, const res_check_side *b, const char *side,
                    res_error *err) {
    for (size_t i = 0; i < a->count; i++)
        if (!find(b, a->runs[i].key))
            return res_error_set(err, RES_EINVAL,
                                 "mismatched inputs: %s (%s) has no counterpart in the %s",
                                 a->runs[i].key, a->runs[i].path, side);
    return true;
}

static int by_seed(const void *pa, const void *pb) {
    const res_check_run_in *a = *(const res_check_run_in *const *)pa,
                           *b = *(const res_check_run_in *const *)pb;
    return (a->seed > b->seed) - (a->seed < b->seed);
}

/* The groups of the candidate, in first-seen order. */
static group *make_groups(const res_check_side *c, const res_check_side *b, size_t *ng) {
    group *g = calloc(c->count ? c->count : 1, sizeof *g);
    if (!g) return NULL;
    *ng = 0;
    for (size_t i = 0; i < c->count; i++) {
        size_t k = 0;
        while (k < *ng && strcmp(g[k].name, c->runs[i].group) != 0)
            k++;
        if (k == *ng) {
            g[k].name = c->runs[i].group;
            g[k].cand = calloc(c->count, sizeof *g[k].cand);
            g[k].base = calloc(c->count, sizeof *g[k].base);
            (*ng)++;
        }
        if (!g[k].cand || !g[k].base) continue;
        g[k].cand[g[k].n] = &c->runs[i];
        g[k].base[g[k].n++] = find(b, c->runs[i].key);
    }
    for (size_t k = 0; k < *ng; k++) {
        qsort(g[k].cand, g[k].n, sizeof *g[k].cand, by_seed);
        qsort(g[k].base, g[k].n, sizeof *g[k].base, by_seed);
    }
    return g;
}

static void free_groups(group *g, size_t n) {
    for (size_t k = 0; g && k < n; k++) {
        free(g[k].cand);
        free(g[k].base);
    }
    free(g);
}

/* ---- reading a run ------------------------------------------------------------------ */

static json_t *check_section(const res_check_run_in *r) {
    return json_object_get(json_object_get(r->doc, "inputs"), "check");
}

static bool has_tag(const res_check_run_in *r, const char *tag) {
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(check_section(r), "tags"), i, t) {
        if (json_is_string(t) && strcmp(json_string_value(t), tag) == 0) return true;
    }
    return false;
}

/* The mean over a run's iterations of a metric; NAN when an iteration lacks it. */
static double run_mean(const res_check_run_in *r, const char *metric) {
    double sum = 0;
    for (size_t i = 0; i < r->iterations; i++) {
        const res_metric *x = res_metric_find(&r->metrics[i], metric);
        if (!x || !isfinite(x->value)) return NAN;
        sum += x->value;
    }
    return r->iterations ? sum / (double)r->iterations : NAN;
}

/* A stored run of g (either side) lacking metric because the results store
** does not keep it; NULL when none. */
static const res_check_run_in *unkept(const group *g, const char *metric) {
    if (res_metric_is_stored(metric)) return NULL;
    for (size_t r = 0; r < g->n; r++) {
        if (g->cand[r]->stored) return g->cand[r];
        if (g->base[r]->stored) return g->base[r];
    }
    return NULL;
}

/* ---- the gates -------------------------------------------------------------------- */

static bool snapshot_clean(json_t *it, char *why, size_t n) {
    json_t *task = json_object_get(it, "final_task_snapshot");
    json_t *req = json_object_get(it, "final_request_snapshot");
    json_int_t leases = json_integer_value(json_object_get(task, "task_leases"));
    json_int_t rl = json_integer_value(json_object_get(req, "request_leases"));
    json_int_t w = json_integer_value(json_object_get(req, "waiters"));
    if (leases || rl || w) {
        snprintf(why, n, "%lld task leases, %lld request leases, %lld waiters left",
                 (long long)leases, (long long)rl, (long long)w);
        return false;
    }
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(task, "leased_by_resource"), key, v) {
        if (json_integer_value(v)) {
            snprintf(why, n, "%lld of scheduler resource %s still leased",
                     (long long)json_integer_value(v), key);
            return false;
        }
    }
    json_object_foreach(json_object_get(req, "resources"), key, v) {
        if (json_integer_value(json_object_get(v, "in_flight")) ||
            json_integer_value(json_object_get(v, "waiters"))) {
            snprintf(why, n, "request resource %s still has calls in flight or waiters", key);
            return false;
        }
    }
    json_int_t hidden = json_integer_value(
        json_object_get(json_object_get(it, "stats"), "hidden_scheduler_resource_waiters"));
    if (hidden) {
        snprintf(why, n, "%lld hidden scheduler resource waiters", (long long)hidden);
        return false;
    }
    /* a stored run's iterations row keeps its own count of what was left */
    json_t *row = json_object_get(it, "recorded_final");
    leases = json_integer_value(json_object_get(row, "task_leases"));
    rl = json_integer_value(json_object_get(row, "request_leases"));
    w = json_integer_value(json_object_get(row, "waiters"));
    if (leases || rl || w) {
        snprintf(why, n,
                 "its iterations row records %lld task leases, %lld request leases, %lld "
                 "waiters left",
                 (long long)leases, (long long)rl, (long long)w);
        return false;
    }
    return true;
}

static outcome final_clean(const group *g) {
    for (size_t r = 0; r < g->n; r++) {
        json_t *its = json_object_get(g->cand[r]->doc, "iterations");
        for (size_t i = 0; i < json_array_size(its); i++) {
            char why[300];
            if (!snapshot_clean(json_array_get(its, i), why, sizeof why))
                return verdict("fail", "seed %llu iteration %zu: %s",
                               (unsigned long long)g->cand[r]->seed, i, why);
        }
    }
    return verdict("pass", "every iteration of %zu runs ends clean", g->n);
}

/* Every column's hash and the all-columns one, or the all-columns hash alone
** when a side knows only that (a stored run). */
static bool same_outputs(const json_t *a, const json_t *b, bool all_only) {
    if (!all_only) return json_equal(a, b);
    const json_t *x = json_object_get(a, "all"), *y = json_object_get(b, "all");
    return json_is_string(x) && json_equal(x, y);
}

static outcome hashes_equal(const group *g) {
    bool all_only = false;
    for (size_t r = 0; r < g->n; r++) {
        json_t *a = json_object_get(g->cand[r]->doc, "iterations"),
               *b = json_object_get(g->base[r]->doc, "iterations");
        bool only = g->cand[r]->stored || g->base[r]->stored;
        all_only = all_only || only;
        if (json_array_size(a) != json_array_size(b))
            return verdict("fail", "seed %llu: %zu iterations against %zu",
                           (unsigned long long)g->cand[r]->seed, json_array_size(a),
                           json_array_size(b));
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_outputs(json_object_get(json_array_get(a, i), "output_hashes"),
                              json_object_get(json_array_get(b, i), "output_hashes"), only))
                return verdict("fail", "seed %llu iteration %zu: output hashes differ%s",
                               (unsigned long long)g->cand[r]->seed, i,
                               only ? " (all columns)" : "");
    }
    return verdict("pass", "outputs identical for %zu seeds%s", g->n,
                   all_only ? " (the all-columns hash: a stored run keeps no per-column ones)"
                            : "");
}

static outcome mean_not_worse(const group *g, const char *metric, double threshold) {
    const res_check_run_in *u = unkept(g, metric);
    if (u)
        return verdict("not_applicable", "the results store does not keep %s (%s)", metric,
                       u->path);
    double c = 0, b = 0;
    for (size_t r = 0; r < g->n; r++) {
        double x = run_mean(g->cand[r], metric), y = run_mean(g->base[r], metric);
        if (!isfinite(x) || !isfinite(y)) /* a figure missing is no pass */
            return verdict("fail", "seed %llu: the %s does not record %s (%s)",
                           (unsigned long long)g->cand[r]->seed,
                           !isfinite(x) ? "candidate" : "baseline", metric,
                           !isfinite(x) ? g->cand[r]->path : g->base[r]->path);
        c += x / (double)g->n;
        b += y / (double)g->n;
    }
    res_direction dir = res_metric_direction(metric);
    double worse = dir == RES_HIGHER_IS_BETTER ? b - c : c - b;
    double rel = b != 0 ? worse / fabs(b) : (worse > 0 ? INFINITY : 0);
    outcome o = rel > threshold
                    ? verdict("fail", "%s %.2f%% worse (more than %.2f%%)", metric, 100 * rel,
                              100 * threshold)
                    : verdict("pass", "%s %+.2f%% (worse allowed up to %.2f%%)", metric,
                              -100 * rel + 0.0, 100 * threshold); /* +0.0: no "-0.00%" */
    o.candidate = c;
    o.baseline = b;
    o.threshold = threshold;
    return o;
}

/* A request resource's figure: request.<key>.<leaf>, or NAN. */
static double request_figure(const res_metric_set *m, const char *key, size_t key_len,
                             const char *leaf) {
    char name[RES_METRIC_NAME_MAX];
    snprintf(name, sizeof name, "request.%.*s.%s", (int)key_len, key, leaf);
    const res_metric *x = res_metric_find(m, name);
    return x ? x->value : NAN;
}

/* Per request resource (request.<key>.attempts): leases equal the admitted
** attempts.  False with why set. */
static bool leases_match_attempts(const res_metric_set *m, char *why, size_t n, bool *calls) {
    static const char attempts[] = ".attempts";
    const size_t tail = sizeof attempts - 1, head = strlen("request.");
    for (size_t k = 0; k < m->count; k++) {
        const char *name = m->m[k].name;
        size_t len = strlen(name);
        if (strncmp(name, "request.", head) != 0 || len <= head + tail ||
            strcmp(name + len - tail, attempts) != 0)
            continue;
        const char *key = name + head;
        size_t key_len = len - head - tail;
        double a = m->m[k].value, l = request_figure(m, key, key_len, "leases"),
               na = request_figure(m, key, key_len, "not_admitted");
        *calls = *calls || a > 0;
        if (!(l == a - na)) { /* NAN too: a figure missing */
            snprintf(why, n, "%.*s: %.0f request leases for %.0f admitted attempts", (int)key_len,
                     key, l, a - na);
            return false;
        }
    }
    return true;
}

/* One iteration's request accounting: every lease released once, one per
** admitted attempt, every attempt's times in order.  False with why set. */
static bool accounting_holds(json_t *it, const res_metric_set *m, char *why, size_t n,
                             bool *calls) {
    json_t *req = json_object_get(it, "final_request_snapshot");
    json_int_t acq = json_integer_value(json_object_get(req, "leases_acquired")),
               rel = json_integer_value(json_object_get(req, "leases_released")),
               dup = json_integer_value(json_object_get(req, "duplicate_releases")),
               order = json_integer_value(json_object_get(req, "attempt_order_violations"));
    if (acq != rel || dup || order) {
        snprintf(why, n,
                 "%lld request leases acquired, %lld released, %lld duplicate releases, %lld "
                 "attempts out of order",
                 (long long)acq, (long long)rel, (long long)dup, (long long)order);
        return false;
    }
    return leases_match_attempts(m, why, n, calls);
}

static outcome request_accounting(const group *g) {
    bool calls = false;
    for (size_t r = 0; r < g->n; r++) {
        json_t *its = json_object_get(g->cand[r]->doc, "iterations");
        for (size_t i = 0; i < json_array_size(its); i++) {
            char why[400];
            if (!accounting_holds(json_array_get(its, i), &g->cand[r]->metrics[i], why, sizeof why,
                                  &calls))
                return verdict("fail", "seed %llu iteration %zu: %s",
                               (unsigned long long)g->cand[r]->seed, i, why);
        }
    }
    if (!calls) return verdict("not_applicable", "the scenario makes no model calls");
    return verdict("pass", "every request lease matches one admitted attempt in %zu runs", g->n);
}

/* One claimed metric paired by seed (b, c: room for g->n figures); trim:
** judge survives_trimming instead.  True when it holds, else *o says why. */
static bool claim_holds(const group *g, const char *metric, bool trim, double *b, double *c,
                        outcome *o) {
    for (size_t r = 0; r < g->n; r++) {
        c[r] = run_mean(g->cand[r], metric);
        b[r] = run_mean(g->base[r], metric);
        if (!(isfinite(c[r]) && isfinite(b[r]))) {
            *o = verdict("fail", "claim %s: seed %llu does not record it", metric,
                         (unsigned long long)g->cand[r]->seed);
            return false;
        }
    }
    res_paired p;
    res_paired_compare(b, c, g->n, res_metric_direction(metric), &p);
    if (trim ? p.survives_trimming : p.verdict == RES_VERDICT_BETTER) return true;
    *o = verdict("fail", "claim %s: %s%s", metric, res_verdict_name(p.verdict),
                 trim && p.verdict == RES_VERDICT_BETTER ? ", but not after trimming" : "");
    res_spread sb, sc;
    res_spread_of(b, g->n, &sb);
    res_spread_of(c, g->n, &sc);
    o->candidate = sc.mean;
    o->baseline = sb.mean;
    return false;
}

/* Each claimed metric paired by seed; a claim on a figure the results store
** does not keep is not judged, and the gate is then not applicable. */
static outcome claims(const group *g, bool trim) {
    json_t *list = json_object_get(check_section(g->cand[0]), "claims");
    if (!json_array_size(list)) return verdict("not_applicable", "the scenario claims nothing");
    double *b = malloc(g->n * sizeof *b), *c = malloc(g->n * sizeof *c);
    outcome o = verdict("fail", "out of memory judging the claims");
    size_t judged = 0;
    const char *skipped = NULL;
    const res_check_run_in *u = NULL;
    bool ok = b && c;
    for (size_t k = 0; ok && k < json_array_size(list); k++) {
        const char *metric = json_string_value(json_array_get(list, k));
        const res_check_run_in *lacks = unkept(g, metric);
        if (lacks) {
            skipped = skipped ? skipped : metric;
            u = u ? u : lacks;
            continue;
        }
        ok = claim_holds(g, metric, trim, b, c, &o);
        judged++;
    }
    if (ok && skipped)
        o = verdict("not_applicable",
                    "claim %s not judged: the results store does not keep it (%s)%s%s", skipped,
                    u->path, judged ? "; the other claims hold" : "",
                    judged && trim ? " after trimming" : "");
    else if (ok)
        o = verdict("pass", "%zu claims hold%s", judged, trim ? " after trimming" : "");
    free(b);
    free(c);
    return o;
}

static double threshold_of(const json_t *gate, const group *g) {
    const char *name = json_string_value(json_object_get(gate, "name"));
    json_t *over = json_object_get(json_object_get(check_section(g->cand[0]), "thresholds"), name);
    return json_is_number(over) ? json_number_value(over)
                                : json_number_value(json_object_get(gate, "threshold"));
}

static outcome judge(const json_t *gate, const group *g) {
    const char *tag = json_string_value(json_object_get(gate, "when_tag"));
    int kind = res_check_kind(json_string_value(json_object_get(gate, "kind")));
    /* tags, claims and thresholds are the scenario's check section */
    bool needs_check = tag || kind == RES_GATE_CLAIMS_BETTER || kind == RES_GATE_CLAIMS_TRIM ||
                       json_object_get(gate, "threshold");
    if (needs_check && g->cand[0]->check_unknown[0])
        return verdict("not_applicable", "%s", g->cand[0]->check_unknown);
    if (tag && !has_tag(g->cand[0], tag))
        return verdict("not_applicable", "the scenario is not tagged \"%s\"", tag);
    const char *metric = json_string_value(json_object_get(gate, "metric"));
    switch (kind) {
    case RES_GATE_FINAL_CLEAN: return final_clean(g);
    case RES_GATE_HASHES_EQUAL: return hashes_equal(g);
    case RES_GATE_MEAN_NOT_WORSE: return mean_not_worse(g, metric, threshold_of(gate, g));
    case RES_GATE_CLAIMS_BETTER: return claims(g, false);
    case RES_GATE_CLAIMS_TRIM: return claims(g, true);
    case RES_GATE_REQUEST_ACCOUNTING: return request_accounting(g);
    default:
        return verdict("not_applicable",
                       "no admission-cycle microbench results among the inputs (artifacts of "
                       "runs only)");
    }
}

/* ---- the verdict ------------------------------------------------------------------ */

json_t *res_check_run(const res_check_side *candidate, const res_check_side *baseline,
                      const json_t *gates, const char *gates_path, res_error *err) {
    /* the thresholds read are the candidate's (threshold_of): a misspelt
    ** one is bad input, not a gate judged by the gates file's own */
    if (!res_check_side_thresholds_ok(candidate, gates, gates_path, err) ||
        !matched(candidate, baseline, "baseline", err) ||
        !matched(baseline, candidate, "candidate", err) ||
        !res_check_bench_matched(candidate, baseline, err))
        return NULL;
    size_t ng = 0;
    group *g = make_groups(candidate, baseline, &ng);
    if (!g) {
        res_error_set(err, RES_ENOMEM, "out of memory");
        return NULL;
    }
    json_t *results = json_array();
    bool passed = true, rows_ok = results != NULL;
    json_t *list = json_object_get(gates, "gates");
    for (size_t k = 0; k < ng; k++) {
        char scenario[400];
        snprintf(scenario, sizeof scenario, "%s", g[k].name);
        char *slash = strstr(scenario, " / ");
        const char *arm = slash ? slash + 3 : "";
        if (slash) *slash = '\0';
        for (size_t i = 0; i < json_array_size(list); i++) {
            json_t *gate = json_array_get(list, i);
            bool bench = res_check_kind(json_string_value(json_object_get(gate, "kind"))) ==
                         RES_GATE_BENCH_NOT_WORSE;
            if (bench && candidate->bench) continue; /* judged per case below */
            outcome o = judge(gate, &g[k]);
            passed = passed && strcmp(o.status, "fail") != 0;
            /* (a row JSON cannot hold is no row lost without a word) */
            rows_ok = json_array_append_new(
                          results, json_pack("{s:O, s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "gate",
                                             json_object_get(gate, "name"), "scenario",
                                             res_json_string_lossy(scenario), "arm",
                                             res_json_string_lossy(arm), "status", o.status,
                                             "reason", res_json_string_lossy(o.reason), "candidate",
                                             res_json_real_or_null(o.candidate), "baseline",
                                             res_json_real_or_null(o.baseline), "threshold",
                                             res_json_real_or_null(o.threshold))) == 0 &&
                      rows_ok;
        }
    }
    free_groups(g, ng);
    for (size_t i = 0; candidate->bench && i < json_array_size(list); i++) {
        json_t *gate = json_array_get(list, i);
        if (res_check_kind(json_string_value(json_object_get(gate, "kind"))) ==
            RES_GATE_BENCH_NOT_WORSE)
            passed = res_check_bench_judge(gate, candidate, baseline, results) && passed;
    }
    json_t *doc = rows_ok ? json_pack("{s:b, s:O, s:O}", "passed", passed, "gates_version",
                                      json_object_get(gates, "gates_version"), "results", results)
                          : NULL;
    json_decref(results);
    if (!doc) res_error_set(err, RES_ENOMEM, "out of memory building the verdict");
    return doc;
}

void res_check_print(const json_t *verdict, FILE *f) {
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(verdict, "results"), i, r) {
        char where[300];
        snprintf(where, sizeof where, "%s / %s", json_string_value(json_object_get(r, "scenario")),
                 json_string_value(json_object_get(r, "arm")));
        fprintf(f, "%-15s %-26s %-44s %s\n", json_string_value(json_object_get(r, "status")),
                json_string_value(json_object_get(r, "gate")), where,
                json_string_value(json_object_get(r, "reason")));
    }
    fprintf(f, "%s\n",
            json_is_true(json_object_get(verdict, "passed")) ? "check: passed (no gate failed)"
                                                             : "check: REGRESSION (a gate failed)");
}
