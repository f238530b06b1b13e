#include "res/capacity_plan.h"

#include <string.h>

#include "admit/request_resource.h"

json_t *res_request_admission_config_json(const run_config *sc) {
    return json_pack(
        "{s:f, s:i, s:i, s:f, s:f, s:o}", "md_factor", sc->aimd.md_factor, "ai_step",
        (int)sc->aimd.ai_step, "successes_until_increase", (int)sc->aimd.successes_until_increase,
        "cooldown_seconds", (double)sc->aimd.cooldown_ns / 1e9, "startup_ramp_seconds",
        (double)sc->aimd.startup_ramp_ns / 1e9, "queue_wait_timeout_seconds",
        sc->queue_wait_timeout_ns > 0 ? json_real((double)sc->queue_wait_timeout_ns / 1e9)
                                      : json_null());
}

json_t *res_capacity_value_json(const admit_capacity_value *v) {
    return json_pack(
        "{s:o, s:o, s:o, s:o}", "value", v->present ? json_integer(v->value) : json_null(),
        "source",
        v->source >= 0 ? json_string(admit_capacity_source_name((admit_capacity_source)v->source))
                       : json_null(),
        "fallback_from",
        v->fallback_from >= 0
            ? json_string(admit_capacity_source_name((admit_capacity_source)v->fallback_from))
            : json_null(),
        "missing_reason", v->missing_reason ? json_string(v->missing_reason) : json_null());
}

static void put(json_t *obj, const char *key, admit_capacity_value v) {
    json_object_set_new(obj, key, res_capacity_value_json(&v));
}

static bool in_capacity(const run_config *sc, const char *name) {
    for (uint32_t i = 0; i < sc->capacity_count; i++)
        if (strcmp(sc->capacity[i].name, name) == 0) return true;
    return false;
}

/* Explicit per-resource limits from "request_admission.resources". */
static const run_request_limit *request_limit(const run_config *sc,
                                              const admit_request_resolver *rr, const char *key) {
    for (uint32_t i = 0; i < sc->request_limit_count; i++) {
        const run_request_limit *l = &sc->request_limits[i];
        int pm = admit_request_resolver_lookup(rr, sc->models[l->model].alias);
        char k[ADMIT_REQUEST_KEY_MAX];
        snprintf(k, sizeof k, "%s/%s", admit_request_resolver_pm_key(rr, (uint32_t)pm),
                 admit_request_domain_name(l->domain));
        if (strcmp(k, key) == 0) return l;
    }
    return NULL;
}

static json_t *configured_json(const res_run_record *run, const admit_request_resolver *rr) {
    const run_config *sc = run->config;
    json_t *cfg = json_object();
    put(cfg, "buffer_size",
        sc->buffer_size_set
            ? admit_capacity_of(sc->buffer_size, ADMIT_SRC_RUN_CONFIG)
            : admit_capacity_fallback(sc->buffer_size, ADMIT_SRC_DEFAULT, ADMIT_SRC_RUN_CONFIG));
    json_t *rga = json_object();
    put(rga, "concurrency",
        sc->max_concurrent_row_groups
            ? admit_capacity_of(sc->max_concurrent_row_groups, ADMIT_SRC_RUN_CONFIG)
            : admit_capacity_missing("unlimited: max_concurrent_row_groups not set"));
    json_object_set_new(rga, "mode",
                        json_string(sc->max_concurrent_row_groups ? "bounded" : "unbounded"));
    json_object_set_new(rga, "observed", json_integer(run->stats.max_row_groups_in_flight));
    json_object_set_new(cfg, "row_group_admission", rga);
    put(cfg, "submission_capacity",
        admit_capacity_of(run->resource_limits[ADMIT_RESOURCE_SUBMISSION], ADMIT_SRC_RUN_CONFIG));
    json_t *limits = json_object();
    for (uint32_t r = 0; r < run->resource_count; r++)
        put(limits, run->resource_names[r],
            admit_capacity_of(run->resource_limits[r], in_capacity(sc, run->resource_names[r])
                                                           ? ADMIT_SRC_RUN_CONFIG
                                                           : ADMIT_SRC_ENGINE_INTERNAL_CONFIG));
    json_object_set_new(cfg, "task_resource_limits", limits);

    json_t *resources = json_array(), *initial = json_object(), *clamps = json_object();
    for (uint32_t r = 0; r < run->request_resource_count; r++) {
        const res_request_resource *rs = &run->request[r];
        uint32_t initial_limit = rs->initial.initial_limit;
        json_array_append_new(resources, json_string(rs->key));
        const run_request_limit *l = request_limit(sc, rr, rs->key);
        put(initial, rs->key,
            l && l->initial_limit
                ? admit_capacity_of(initial_limit, ADMIT_SRC_RUN_CONFIG)
                : admit_capacity_fallback(initial_limit, ADMIT_SRC_ENGINE_INTERNAL_CONFIG,
                                          ADMIT_SRC_RUN_CONFIG));
        put(clamps, rs->key,
            l && l->max_limit_clamp ? admit_capacity_of(l->max_limit_clamp, ADMIT_SRC_RUN_CONFIG)
                                    : admit_capacity_missing("no max_limit_clamp: the static "
                                                             "cap alone bounds the limit"));
    }
    json_object_set_new(cfg, "request_resources", resources);
    json_t *caps = json_object();
    for (uint32_t pm = 0; pm < admit_request_resolver_pm_count(rr); pm++) {
        json_t *aliases = json_array(), *raw = json_object();
        for (uint32_t i = 0; i < admit_request_resolver_alias_count(rr, pm); i++) {
            const char *a = admit_request_resolver_alias_name(rr, pm, i);
            json_array_append_new(aliases, json_string(a));
            json_object_set_new(raw, a,
                                json_integer(admit_request_resolver_alias_raw_cap(rr, pm, i)));
        }
        json_t *e = json_pack("{s:o, s:o, s:s}", "aliases", aliases, "raw_caps", raw, "merge_rule",
                              "min_same_endpoint");
        put(e, "cap",
            admit_capacity_of(admit_request_resolver_pm_cap(rr, pm), ADMIT_SRC_MODEL_METADATA));
        json_object_set_new(caps, admit_request_resolver_pm_key(rr, pm), e);
    }
    json_object_set_new(cfg, "provider_model_static_caps", caps);
    json_object_set_new(cfg, "request_domain_initial_limits", initial);
    json_object_set_new(cfg, "request_domain_max_limit_clamps", clamps);
    admit_capacity_source src =
        sc->request_admission_set ? ADMIT_SRC_RUN_CONFIG : ADMIT_SRC_DEFAULT;
    json_t *ra = res_request_admission_config_json(sc);
    json_object_set_new(ra, "source", json_string(admit_capacity_source_name(src)));
    json_object_set_new(cfg, "request_admission_config", ra);
    put(cfg, "transport_pool_limits",
        admit_capacity_missing("the simulator has no transport pool (never a scheduling knob)"));
    return cfg;
}

static json_t *runtime_json(const res_run_record *run) {
    json_t *per = json_object();
    for (uint32_t r = 0; r < run->request_resource_count; r++) {
        const admit_request_resource_snapshot *f = &run->request[r].final;
        json_object_set_new(
            per, run->request[r].key,
            json_pack("{s:i, s:i, s:o, s:i}", "current_limit", (int)f->current_limit,
                      "effective_max", (int)f->effective_max, "blocked_until_seconds",
                      f->blocked_until_ns >= 0 ? json_real((double)f->blocked_until_ns / 1e9)
                                               : json_null(),
                      "aggregate_in_flight", (int)f->pm_in_flight));
    }
    return json_pack("{s:s, s:o}", "source", "runtime_snapshot", "request_domains", per);
}

static json_t *maxima_json(const res_run_record *run, const res_request_report *rep) {
    json_t *queued = json_object(), *leases = json_object(), *waiters = json_object(),
           *flight = json_object(), *agg = json_object(), *limits = json_object();
    for (uint32_t g = 0; g < run->group_count; g++)
        json_object_set_new(
            queued, run->groups[g].key,
            json_integer(run->max_queued_by_group ? run->max_queued_by_group[g] : 0));
    for (uint32_t r = 0; r < run->resource_count; r++)
        json_object_set_new(leases, run->resource_names[r],
                            json_integer(run->max_leased ? run->max_leased[r] : 0));
    for (uint32_t r = 0; r < run->request_resource_count; r++) {
        const res_request_resource *rs = &run->request[r];
        const res_request_stats *st = &rep->resources[r];
        json_object_set_new(waiters, rs->key, json_integer(rs->final.max_waiters));
        json_object_set_new(flight, rs->key, json_integer(rs->final.max_in_flight));
        char pm[ADMIT_REQUEST_KEY_MAX];
        snprintf(pm, sizeof pm, "%s", rs->key);
        char *slash = strrchr(pm, '/');
        if (slash) *slash = '\0';
        json_object_set_new(agg, pm, json_integer(rs->final.pm_max_in_flight));
        int64_t lo = st->limit_points[0][1], hi = lo;
        for (size_t i = 1; i < st->limit_point_count; i++) {
            if (st->limit_points[i][1] < lo) lo = st->limit_points[i][1];
            if (st->limit_points[i][1] > hi) hi = st->limit_points[i][1];
        }
        json_object_set_new(limits, rs->key,
                            json_pack("{s:I, s:I}", "min", (json_int_t)lo, "max", (json_int_t)hi));
    }
    return json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "row_groups_in_flight",
                     (int)run->stats.max_row_groups_in_flight, "queued_tasks_by_group", queued,
                     "task_leases_by_resource", leases, "request_waiters_by_resource", waiters,
                     "request_in_flight_by_resource", flight,
                     "aggregate_in_flight_by_provider_model", agg, "per_domain_current_limits",
                     limits, "transport_pool_utilization",
                     res_capacity_value_json(&(admit_capacity_value){
                         .source = ADMIT_SRC_NONE,
                         .fallback_from = ADMIT_SRC_NONE,
                         .missing_reason = "the simulator has no transport pool"}));
}

json_t *res_capacity_plan_json(const res_run_record *run, const res_request_report *rep) {
    const run_config *sc = run->config;
    admit_request_resolver *rr = admit_request_resolver_create(NULL);
    if (!rr) return NULL;
    for (uint32_t i = 0; i < sc->model_count; i++)
        admit_request_resolver_add_alias(rr, sc->models[i].alias, sc->models[i].provider,
                                         sc->models[i].model_id,
                                         sc->models[i].max_parallel_requests, NULL, NULL);
    json_t *plan =
        json_pack("{s:o, s:o, s:o}", "configured", configured_json(run, rr), "runtime_snapshot",
                  runtime_json(run), "observed_maxima", maxima_json(run, rep));
    admit_request_resolver_destroy(rr);
    return plan;
}
