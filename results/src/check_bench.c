/*
** The regression check's microbench results (res/check.h): the JSON of
** `admitsim bench --cycle --format json` on either side, judged by the gates
** of kind bench_not_worse per case (policy, mix, groups, tasks): the
** candidate's metric (cycle_p95_ns, the median over the timed runs of one
** cycle's p95) at most `threshold` (relative) above the baseline's, or, when
** it is further above but at most twice the threshold, within the runs'
** spread: the candidate's fastest run (cycle_p95_min_ns) no slower than the
** baseline's median, which on a shared machine is noise, not a regression
** (the reason says so).  The
** threshold is the gate's, or the one the matrix file gives ("check":
** {"thresholds": {GATE: F}}, a number 0 to 10).  Both sides must hold
** results of one matrix (scenario_id and scenario_version) with the same
** cases, warm-ups, timed runs and check section; a side holds at most one.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check_int.h"
#include "res/artifact.h"

bool res_check_is_bench(const json_t *doc) {
    const char *b = json_string_value(json_object_get(doc, "bench"));
    return b && !strcmp(b, "cycle");
}

/* "strict / local / 8 groups / 1000 tasks" of case c. */
static void case_name(const json_t *c, char *out, size_t len) {
    snprintf(out, len, "%s / %s / %lld groups / %lld tasks",
             json_string_value(json_object_get(c, "policy")),
             json_string_value(json_object_get(c, "mix")),
             (long long)json_integer_value(json_object_get(c, "groups")),
             (long long)json_integer_value(json_object_get(c, "tasks")));
}

static bool case_ok(const json_t *c, size_t i, const char *path, res_error *err) {
    static const char *const names[] = {"policy", "mix"}, *const counts[] = {"groups", "tasks"};
    for (int k = 0; k < 2; k++) {
        if (!json_is_string(json_object_get(c, names[k])))
            return res_error_set(err, RES_EINVAL, "%s: $.cases[%zu].%s: expected a string", path, i,
                                 names[k]);
        const json_t *v = json_object_get(c, counts[k]);
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return res_error_set(err, RES_EINVAL, "%s: $.cases[%zu].%s: expected an integer >= 1",
                                 path, i, counts[k]);
    }
    const json_t *p95 = json_object_get(c, "cycle_p95_ns");
    if (!json_is_number(p95) || !isfinite(json_number_value(p95)) || json_number_value(p95) <= 0)
        return res_error_set(err, RES_EINVAL,
                             "%s: $.cases[%zu].cycle_p95_ns: expected a number > 0 (bench "
                             "--cycle records no figure it did not measure)",
                             path, i);
    return true;
}

bool res_check_bench_thresholds_ok(const json_t *check, const char *path, res_error *err) {
    if (!check) return true;
    const char *key;
    const json_t *v;
    if (!json_is_object(check))
        return res_error_set(err, RES_EINVAL, "%s: $.check: expected an object", path);
    json_object_foreach((json_t *)check, key, v) {
        if (strcmp(key, "thresholds") != 0)
            return res_error_set(err, RES_EINVAL,
                                 "%s: $.check.%.100s: unknown key (expected thresholds)", path,
                                 key);
    }
    json_object_foreach(json_object_get(check, "thresholds"), key, v) {
        if (strcmp(key, "admission_cycle_p95") != 0)
            return res_error_set(err, RES_EINVAL,
                                 "%s: $.check.thresholds.%.100s: unknown gate (a microbench "
                                 "matrix sets admission_cycle_p95)",
                                 path, key);
        if (!json_is_number(v) || !(json_number_value(v) >= 0 && json_number_value(v) <= 10))
            return res_error_set(err, RES_EINVAL,
                                 "%s: $.check.thresholds.%s: expected a number 0 to 10", path, key);
    }
    if (json_object_get(check, "thresholds") &&
        !json_is_object(json_object_get(check, "thresholds")))
        return res_error_set(err, RES_EINVAL, "%s: $.check.thresholds: expected an object", path);
    return true;
}

bool res_check_bench_add(res_check_side *s, json_t *doc, const char *path, res_error *err) {
    if (s->bench)
        return res_error_set(err, RES_EINVAL,
                             "%s and %s: two microbench results on one side (give one file)",
                             s->bench_path, path);
    const json_t *cases = json_object_get(doc, "cases");
    if (!json_is_string(json_object_get(doc, "scenario_id")))
        return res_error_set(err, RES_EINVAL, "%s: $.scenario_id: expected a string", path);
    if (!json_array_size(cases))
        return res_error_set(err, RES_EINVAL, "%s: $.cases: expected a non-empty array", path);
    for (size_t i = 0; i < json_array_size(cases); i++) {
        const json_t *c = json_array_get(cases, i);
        if (!case_ok(c, i, path, err)) return false;
        char a[200], b[200];
        case_name(c, a, sizeof a);
        for (size_t k = 0; k < i; k++) {
            case_name(json_array_get(cases, k), b, sizeof b);
            if (!strcmp(a, b))
                return res_error_set(err, RES_EINVAL, "%s: $.cases[%zu]: the case %s twice", path,
                                     i, a);
        }
    }
    if (!res_check_bench_thresholds_ok(json_object_get(doc, "check"), path, err)) return false;
    s->bench = json_incref(doc);
    snprintf(s->bench_path, sizeof s->bench_path, "%s", path);
    return true;
}

/* The case of doc named name, or NULL. */
static const json_t *find_case(const json_t *doc, const char *name) {
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(doc, "cases"), i, c) {
        char n[200];
        case_name(c, n, sizeof n);
        if (!strcmp(n, name)) return c;
    }
    return NULL;
}

static bool cases_matched(const res_check_side *a, const res_check_side *b, const char *side,
                          res_error *err) {
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(a->bench, "cases"), i, c) {
        char n[200];
        case_name(c, n, sizeof n);
        if (!find_case(b->bench, n))
            return res_error_set(err, RES_EINVAL,
                                 "mismatched inputs: the microbench case %s (%s) has no "
                                 "counterpart in the %s",
                                 n, a->bench_path, side);
    }
    return true;
}

bool res_check_bench_matched(const res_check_side *cand, const res_check_side *base,
                             res_error *err) {
    if (!cand->bench && !base->bench) return true;
    if (!cand->bench || !base->bench) {
        const res_check_side *has = cand->bench ? cand : base;
        return res_error_set(err, RES_EINVAL,
                             "mismatched inputs: %s holds microbench results, the %s none",
                             has->bench_path, cand->bench ? "baseline" : "candidate");
    }
    const char *a = json_string_value(json_object_get(cand->bench, "scenario_id")),
               *b = json_string_value(json_object_get(base->bench, "scenario_id"));
    if (strcmp(a, b))
        return res_error_set(err, RES_EINVAL,
                             "mismatched inputs: microbench %s (%s) against %s (%s)", a,
                             cand->bench_path, b, base->bench_path);
    static const char *const same[] = {"scenario_version", "warmups", "repeats", "check"};
    for (int k = 0; k < 4; k++) {
        const json_t *x = json_object_get(cand->bench, same[k]),
                     *y = json_object_get(base->bench, same[k]);
        if (!(x == y || (x && y && json_equal((json_t *)x, (json_t *)y))))
            return res_error_set(err, RES_EINVAL,
                                 "mismatched inputs: %s and %s differ in %s (run both benches "
                                 "with one matrix file and the same --warmup and --repeat)",
                                 cand->bench_path, base->bench_path, same[k]);
    }
    return cases_matched(cand, base, "baseline", err) &&
           cases_matched(base, cand, "candidate", err);
}

/* True when the candidate case c's fastest timed run (METRIC_min) is no
** slower than the baseline case b's median (METRIC): one of the
** candidate's runs did as well as the baseline typically does, so a median
** further off is the machine's noise.  False when c did not record its
** spread. */
static bool within_spread(const json_t *c, const json_t *b, const char *metric) {
    char lo[96];
    size_t n = strlen(metric);
    if (n < 3 || strcmp(metric + n - 3, "_ns") != 0) return false;
    snprintf(lo, sizeof lo, "%.*s_min_ns", (int)(n - 3), metric);
    const json_t *cmin = json_object_get(c, lo), *bmid = json_object_get(b, metric);
    return json_is_number(cmin) && json_is_number(bmid) &&
           json_number_value(cmin) <= json_number_value(bmid);
}

static double bench_threshold(const json_t *gate, const json_t *doc) {
    const char *name = json_string_value(json_object_get(gate, "name"));
    const json_t *over =
        json_object_get(json_object_get(json_object_get(doc, "check"), "thresholds"), name);
    return json_is_number(over) ? json_number_value(over)
                                : json_number_value(json_object_get(gate, "threshold"));
}

/* One result appended to results; a figure that is none (NAN) is null:
** json_real() takes no NAN, and the row of a failed case was lost with it;
** texts cut mid-character are kept (lossy).  False when it cannot be. */
static bool row(json_t *results, const json_t *gate, const char *scenario, const char *arm,
                const char *status, const char *reason, double cand, double base,
                double threshold) {
    return json_array_append_new(results,
                                 json_pack("{s:O, s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "gate",
                                           json_object_get(gate, "name"), "scenario",
                                           res_json_string_lossy(scenario ? scenario : ""), "arm",
                                           res_json_string_lossy(arm), "status", status, "reason",
                                           res_json_string_lossy(reason), "candidate",
                                           res_json_real_or_null(cand), "baseline",
                                           res_json_real_or_null(base), "threshold",
                                           res_json_real_or_null(threshold))) == 0;
}

bool res_check_bench_judge(const json_t *gate, const res_check_side *cand,
                           const res_check_side *base, json_t *results) {
    const char *metric = json_string_value(json_object_get(gate, "metric"));
    const char *scenario = json_string_value(json_object_get(cand->bench, "scenario_id"));
    double threshold = bench_threshold(gate, base->bench); /* equal on both: matched */
    bool passed = true;
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(cand->bench, "cases"), i, c) {
        char name[200], reason[400];
        case_name(c, name, sizeof name);
        const json_t *b = find_case(base->bench, name);
        const json_t *cv = json_object_get(c, metric), *bv = json_object_get(b, metric);
        if (!json_is_number(cv) || !json_is_number(bv) || !(json_number_value(cv) > 0) ||
            !(json_number_value(bv) > 0)) {
            snprintf(reason, sizeof reason, "%s is not recorded for this case (%s)", metric,
                     !json_is_number(cv) || !(json_number_value(cv) > 0) ? "candidate"
                                                                         : "baseline");
            row(results, gate, scenario, name, "fail", reason, NAN, NAN, threshold);
            passed = false;
            continue;
        }
        double x = json_number_value(cv), y = json_number_value(bv);
        double rel = y > 0 ? x / y - 1 : (x > 0 ? INFINITY : 0);
        bool worse = rel > threshold + 1e-9,
             noise = worse && rel <= 2 * threshold + 1e-9 && within_spread(c, b, metric);
        passed = passed && (!worse || noise);
        int at =
            snprintf(reason, sizeof reason, "%s %.1f ns against %.1f ns: %+.1f%% (at most %+.0f%%)",
                     metric, x, y, 100 * rel, 100 * threshold);
        if (noise && at > 0 && (size_t)at < sizeof reason)
            snprintf(reason + at, sizeof reason - (size_t)at,
                     ", but the candidate's fastest run is not slower than the baseline's "
                     "median: within the runs' spread");
        /* a row lost is no pass */
        if (!row(results, gate, scenario, name, worse && !noise ? "fail" : "pass", reason, x, y,
                 threshold))
            passed = false;
    }
    return passed;
}
