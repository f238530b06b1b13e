/*
** The regression check's runs (res/check.h): a side holds runs of (scenario,
** arm, seed), each a document shaped like an artifact's skim and its
** iterations' flat metrics, however it was read (check_load.c: artifacts,
** check_store.c: a results store).
*/
#include <stdlib.h>
#include <string.h>

#include "check_int.h"

void res_check_side_free(res_check_side *s) {
    if (!s) return;
    for (size_t i = 0; i < s->count; i++) {
        json_decref(s->runs[i].doc);
        for (size_t k = 0; k < s->runs[i].iterations; k++)
            res_metric_set_free(&s->runs[i].metrics[k]);
        free(s->runs[i].metrics);
    }
    free(s->runs);
    free(s);
}

size_t res_check_side_count(const res_check_side *s) {
    return s->count;
}

const char *res_check_side_key(const res_check_side *s, size_t run) {
    return run < s->count ? s->runs[run].key : NULL;
}

const res_metric_set *res_check_side_metrics(const res_check_side *s, size_t run, size_t i) {
    return run < s->count && i < s->runs[run].iterations ? &s->runs[run].metrics[i] : NULL;
}

/* An integer >= 0 at obj.key, else the error naming where. */
static bool count_ok(const json_t *obj, const char *key, const char *where, const char *path,
                     res_error *err) {
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0) return true;
    return res_error_set(err, RES_EINVAL, "%s: %s.%s: expected an integer >= 0", path, where, key);
}

/* What the gates read, so a missing or mistyped figure is bad input rather
** than a zero that passes: every iteration's final snapshots and the check
** section's claims as metric names. */
static bool shape_ok(const json_t *doc, const char *path, res_error *err) {
    const json_t *its = json_object_get(doc, "iterations");
    if (!json_array_size(its))
        return res_error_set(err, RES_EINVAL, "%s: $.iterations: expected at least one", path);
    for (size_t i = 0; i < json_array_size(its); i++) {
        const json_t *it = json_array_get(its, i);
        const json_t *task = json_object_get(it, "final_task_snapshot"),
                     *req = json_object_get(it, "final_request_snapshot");
        char where[64];
        snprintf(where, sizeof where, "$.iterations[%zu].final_task_snapshot", i);
        if (!count_ok(task, "task_leases", where, path, err)) return false;
        snprintf(where, sizeof where, "$.iterations[%zu].final_request_snapshot", i);
        static const char *const req_keys[] = {"request_leases",
                                               "waiters",
                                               "leases_acquired",
                                               "leases_released",
                                               "duplicate_releases",
                                               "attempt_order_violations",
                                               NULL};
        for (int k = 0; req_keys[k]; k++)
            if (!count_ok(req, req_keys[k], where, path, err)) return false;
    }
    size_t k;
    const json_t *c;
    json_array_foreach(
        json_object_get(json_object_get(json_object_get(doc, "inputs"), "check"), "claims"), k, c) {
        if (!json_is_string(c))
            return res_error_set(err, RES_EINVAL,
                                 "%s: $.inputs.check.claims[%zu]: expected a metric name", path, k);
    }
    return true;
}

res_check_run_in *res_check_side_add(res_check_side *s, json_t *doc, const char *path,
                                     res_error *err) {
    json_t *in = json_object_get(doc, "inputs");
    const char *scenario = json_string_value(json_object_get(doc, "scenario_id"));
    const char *arm = json_string_value(json_object_get(in, "arm"));
    if (!arm) arm = json_string_value(json_object_get(in, "policy"));
    json_t *seed = json_object_get(in, "seed");
    if (!scenario || !arm || !json_is_integer(seed) ||
        !json_is_array(json_object_get(doc, "iterations"))) {
        res_error_set(err, RES_EINVAL,
                      "%s: not an admitsim artifact (no scenario_id, inputs.policy, "
                      "inputs.seed or iterations)",
                      path);
        return NULL;
    }
    if (!shape_ok(doc, path, err)) return NULL;
    size_t n = json_array_size(json_object_get(doc, "iterations"));
    res_metric_set *sets = calloc(n, sizeof *sets);
    if (s->count == s->cap && sets) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        res_check_run_in *r = realloc(s->runs, cap * sizeof *r);
        if (r) {
            s->runs = r;
            s->cap = cap;
        }
    }
    if (!sets || s->count == s->cap) {
        free(sets);
        res_error_set(err, RES_ENOMEM, "out of memory reading %s", path);
        return NULL;
    }
    res_check_run_in *r = &s->runs[s->count++];
    *r = (res_check_run_in){.seed = (uint64_t)json_integer_value(seed),
                            .doc = json_incref(doc),
                            .metrics = sets,
                            .iterations = n};
    snprintf(r->key, sizeof r->key, "%s / %s / seed %lld", scenario, arm,
             (long long)json_integer_value(seed));
    snprintf(r->group, sizeof r->group, "%s / %s", scenario, arm);
    snprintf(r->path, sizeof r->path, "%s", path);
    return r;
}

bool res_check_side_is_unique(const res_check_side *s, res_error *err) {
    for (size_t i = 0; i < s->count; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->runs[i].key, s->runs[j].key) == 0)
                return res_error_set(err, RES_EINVAL, "%s and %s: the same run (%s) twice",
                                     s->runs[j].path, s->runs[i].path, s->runs[i].key);
    return true;
}
