/*
** The flat metric namespace (res/metrics.h).
*/
#include "res/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void res_metric_set_free(res_metric_set *s) {
    free(s->m);
    *s = (res_metric_set){0};
}

static bool add(res_metric_set *s, const char *prefix, const char *name, double value) {
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        res_metric *m = realloc(s->m, cap * sizeof *m);
        if (!m) return false;
        s->m = m;
        s->cap = cap;
    }
    res_metric *m = &s->m[s->count++];
    snprintf(m->name, sizeof m->name, "%s%s", prefix, name);
    m->value = value;
    return true;
}

/* key of obj when it is a number (absent or null: nothing added). */
static bool add_json(res_metric_set *s, const char *prefix, const char *name, const json_t *obj,
                     const char *key) {
    const json_t *v = json_object_get(obj, key);
    return !json_is_number(v) || add(s, prefix, name, json_number_value(v));
}

static bool add_fields(res_metric_set *s, const char *prefix, const json_t *obj,
                       const char *const *keys) {
    for (size_t i = 0; keys[i]; i++)
        if (!add_json(s, prefix, keys[i], obj, keys[i])) return false;
    return true;
}

static const char *const RUN_KEYS[] = {"wall_time_seconds",
                                       "slot_utilization",
                                       "final_task_leases",
                                       "final_request_leases",
                                       "final_request_waiters",
                                       "downstream_ready_to_dispatch_p95_seconds",
                                       NULL};
static const char *const GROUP_KEYS[] = {"tasks",
                                         "first_wait_seconds",
                                         "wait_mean_seconds",
                                         "wait_p50_seconds",
                                         "wait_p95_seconds",
                                         "wait_p99_seconds",
                                         "wait_max_seconds",
                                         "idle_seconds",
                                         NULL};
static const char *const REQUEST_KEYS[] = {"attempts",
                                           "leases",
                                           "not_admitted",
                                           "rate_limited",
                                           "request_wait_mean_seconds",
                                           "request_wait_p50_seconds",
                                           "request_wait_p95_seconds",
                                           "request_wait_max_seconds",
                                           "in_flight_mean",
                                           "cooldown_seconds",
                                           "utilization_while_others_cooling",
                                           NULL};

/* Per key of obj (columns, request resources, providers): prefix.key. with keys. */
static bool add_keyed(res_metric_set *s, const char *kind, const json_t *obj,
                      const char *const *keys) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        char prefix[RES_METRIC_NAME_MAX];
        snprintf(prefix, sizeof prefix, "%s.%s.", kind, key);
        if (!add_fields(s, prefix, v, keys)) return false;
    }
    return true;
}

/* The correlated view's run-level figures and its per-resource ones. */
static bool add_correlated(res_metric_set *s, const json_t *cv) {
    const json_t *records = json_object_get(cv, "records"),
                 *gap = json_object_get(cv, "ready_idle_gap"),
                 *fair = json_object_get(cv, "fairness");
    bool ok =
        add_json(s, "", "time_to_first_record_seconds", records, "time_to_first_record_seconds") &&
        add_json(s, "", "time_to_50pct_records_seconds", records,
                 "time_to_50pct_records_seconds") &&
        add_json(s, "", "row_completion_p95_seconds", records, "row_completion_p95_seconds") &&
        add_json(s, "", "jain_fairness_index", fair, "jain_index") &&
        add_json(s, "", "ready_idle_gap_max_seconds", gap, "max_seconds") &&
        add_json(s, "", "ready_idle_gap_total_seconds", gap, "total_seconds") &&
        add_json(s, "", "active_capacity_fraction", json_object_get(cv, "active_capacity_integral"),
                 "fraction_of_wall") &&
        add_json(s, "", "first_downstream_ready_seconds", cv, "first_downstream_ready_seconds") &&
        add_json(s, "", "first_downstream_dispatch_seconds", cv,
                 "first_downstream_dispatch_seconds") &&
        add_json(s, "", "root_over_admission_debt_lease_seconds", cv,
                 "root_over_admission_debt_lease_seconds") &&
        add_json(s, "", "hidden_scheduler_resource_waiters", cv,
                 "hidden_scheduler_resource_waiters");
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(gap, "resources"), key, v) {
        char prefix[RES_METRIC_NAME_MAX];
        snprintf(prefix, sizeof prefix, "resource.%s.", key);
        ok = ok && add_json(s, prefix, "ready_idle_gap_max_seconds", v, "max_seconds") &&
             add_json(s, prefix, "jain_fairness_index",
                      json_object_get(json_object_get(fair, "resources"), key), "jain_index");
    }
    return ok;
}

bool res_metrics_from_summary(const json_t *summary, res_metric_set *out) {
    const json_t *cv = json_object_get(summary, "correlated");
    const json_t *wall = json_object_get(summary, "wall_time_seconds");
    const json_t *done = json_object_get(json_object_get(cv, "records"), "done");
    bool ok = add_fields(out, "", summary, RUN_KEYS);
    if (ok && json_is_number(wall) && json_number_value(wall) > 0 && json_is_number(done))
        ok = add(out, "", "throughput_records_per_second",
                 json_number_value(done) / json_number_value(wall));
    return ok && (!json_is_object(cv) || add_correlated(out, cv)) &&
           add_keyed(out, "group", json_object_get(summary, "groups"), GROUP_KEYS) &&
           add_keyed(out, "request", json_object_get(summary, "request_resources"), REQUEST_KEYS) &&
           add_keyed(out, "provider", json_object_get(summary, "providers"),
                     (const char *const[]){"busy_fraction", NULL});
}

bool res_metric_set_add(res_metric_set *s, const char *name, double value) {
    return add(s, "", name, value);
}

const res_metric *res_metric_find(const res_metric_set *s, const char *name) {
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->m[i].name, name) == 0) return &s->m[i];
    return NULL;
}

/* The last component of a flat name. */
static const char *leaf(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : name;
}

res_direction res_metric_direction(const char *name) {
    static const struct {
        const char *leaf;
        res_direction dir;
    } table[] = {
        {"throughput_records_per_second", RES_HIGHER_IS_BETTER},
        {"jain_fairness_index", RES_HIGHER_IS_BETTER},
        {"utilization_while_others_cooling", RES_HIGHER_IS_BETTER},
        {"rate_limited", RES_LOWER_IS_BETTER},
        {"not_admitted", RES_LOWER_IS_BETTER},
        {"final_task_leases", RES_LOWER_IS_BETTER},
        {"final_request_leases", RES_LOWER_IS_BETTER},
        {"final_request_waiters", RES_LOWER_IS_BETTER},
        {"hidden_scheduler_resource_waiters", RES_LOWER_IS_BETTER},
        {"root_over_admission_debt_lease_seconds", RES_LOWER_IS_BETTER},
        {"idle_seconds", RES_NO_DIRECTION},
    };
    const char *l = leaf(name);
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (strcmp(l, table[i].leaf) == 0) return table[i].dir;
    size_t n = strlen(l);
    if (n > 8 && strcmp(l + n - 8, "_seconds") == 0) return RES_LOWER_IS_BETTER;
    return RES_NO_DIRECTION;
}

bool res_metric_is_headline(const char *name) {
    static const char *const run_level[] = {
        "wall_time_seconds",   "throughput_records_per_second", "time_to_first_record_seconds",
        "jain_fairness_index", "ready_idle_gap_max_seconds",    NULL};
    for (size_t i = 0; run_level[i]; i++)
        if (strcmp(name, run_level[i]) == 0) return true;
    const char *l = leaf(name);
    if (strncmp(name, "group.", 6) == 0) return strcmp(l, "wait_p95_seconds") == 0;
    if (strncmp(name, "request.", 8) == 0)
        return strcmp(l, "request_wait_p95_seconds") == 0 || strcmp(l, "rate_limited") == 0 ||
               strcmp(l, "utilization_while_others_cooling") == 0;
    return false;
}

/* ---- the results store's names ----------------------------------------------------- */

/* Scope "run" names that are flat names as they are (the summary's and the
** correlated view's run-level figures the store keeps). */
static const char *const STORED_RUN_KEYS[] = {"wall_time_seconds",
                                              "slot_utilization",
                                              "final_task_leases",
                                              "final_request_leases",
                                              "final_request_waiters",
                                              "time_to_first_record_seconds",
                                              "time_to_50pct_records_seconds",
                                              "row_completion_p95_seconds",
                                              "jain_fairness_index",
                                              "ready_idle_gap_max_seconds",
                                              "ready_idle_gap_total_seconds",
                                              "active_capacity_fraction",
                                              "first_downstream_ready_seconds",
                                              "first_downstream_dispatch_seconds",
                                              "root_over_admission_debt_lease_seconds",
                                              NULL};

static bool is_one_of(const char *name, const char *const *keys) {
    for (size_t i = 0; keys[i]; i++)
        if (strcmp(name, keys[i]) == 0) return true;
    return false;
}

/* A keyed scope "<prefix><key>" whose name is one of keys: kind.key.name. */
static bool keyed_name(const char *scope, const char *prefix, const char *kind, const char *name,
                       const char *const *keys, char *out, size_t size) {
    size_t n = strlen(prefix);
    if (strncmp(scope, prefix, n) != 0 || !scope[n] || !is_one_of(name, keys)) return false;
    return (size_t)snprintf(out, size, "%s.%s.%s", kind, scope + n, name) < size;
}

bool res_metric_name_of_stored(const char *scope, const char *name, char *out, size_t size) {
    static const char *const PROVIDER_KEYS[] = {"busy_fraction", NULL};
    static const char *const RESOURCE_KEYS[] = {"ready_idle_gap_max_seconds", "jain_fairness_index",
                                                NULL};
    if (strcmp(scope, "run") == 0) {
        /* The flat hidden_scheduler_resource_waiters is the correlated
        ** view's; the store's "hidden_scheduler_resource_waiters" is the
        ** scheduler's own count (an artifact's iteration stats). */
        if (strcmp(name, "correlated_hidden_waiters") == 0)
            name = "hidden_scheduler_resource_waiters";
        else if (!is_one_of(name, STORED_RUN_KEYS))
            return false;
        return (size_t)snprintf(out, size, "%s", name) < size;
    }
    return keyed_name(scope, "group:", "group", name, GROUP_KEYS, out, size) ||
           keyed_name(scope, "request:", "request", name, REQUEST_KEYS, out, size) ||
           keyed_name(scope, "provider:", "provider", name, PROVIDER_KEYS, out, size) ||
           keyed_name(scope, "resource:", "resource", name, RESOURCE_KEYS, out, size);
}

bool res_metric_is_stored(const char *name) {
    static const char *const lacking[] = {"throughput_records_per_second",
                                          "downstream_ready_to_dispatch_p95_seconds", NULL};
    if (is_one_of(name, lacking)) return false;
    return !(strncmp(name, "group.", 6) == 0 && strcmp(leaf(name), "wait_p99_seconds") == 0);
}
