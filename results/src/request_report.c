#include "res/request_report.h"

#include <stdlib.h>
#include <string.h>

#include "res/summary.h"

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

res_wait_quantiles res_request_waits(const sim_request_stats *rs) {
    res_wait_quantiles q = {0};
    size_t n = rs->wait_count;
    int64_t *v = n ? malloc(n * sizeof *v) : NULL;
    if (!v) return q;
    memcpy(v, rs->waits, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_i64);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)v[i];
    q.mean = sum / (double)n / 1e9;
    q.p50 = (double)v[res_quantile_index(n, 0.50)] / 1e9;
    q.p95 = (double)v[res_quantile_index(n, 0.95)] / 1e9;
    q.max = (double)v[n - 1] / 1e9;
    free(v);
    return q;
}

static json_t *outcomes_json(const uint64_t *counts) {
    json_t *o = json_object();
    for (int k = 0; k < ADMIT_REQ_OUTCOME_COUNT; k++)
        json_object_set_new(o, admit_request_outcome_name((admit_request_outcome_kind)k),
                            json_integer((json_int_t)counts[k]));
    return o;
}

json_t *res_request_resources_json(const sim_run *run) {
    json_t *out = json_object();
    for (uint32_t r = 0; r < run->request_resource_count; r++) {
        const sim_request_stats *rs = &run->request[r];
        res_wait_quantiles q = res_request_waits(rs);
        json_t *timeline = json_array();
        for (size_t i = 0; i < rs->limit_point_count; i++)
            json_array_append_new(timeline,
                                  json_pack("[f, I]", (double)rs->limit_points[i][0] / 1e9,
                                            (json_int_t)rs->limit_points[i][1]));
        json_t *util = rs->utilization_while_others_cooling >= 0
                           ? json_real(rs->utilization_while_others_cooling)
                           : json_null();
        json_object_set_new(
            out, rs->key,
            json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:f, s:f, s:f, s:f, s:f, s:i, s:i, s:i, "
                      "s:i, s:i, s:I, s:I, s:f, s:o, s:f, s:o}",
                      "provider", rs->provider, "attempts", (json_int_t)rs->attempts, "leases",
                      (json_int_t)rs->leases, "not_admitted", (json_int_t)rs->not_admitted,
                      "rate_limited", (json_int_t)rs->outcomes[ADMIT_REQ_RATE_LIMITED], "outcomes",
                      outcomes_json(rs->outcomes), "request_wait_mean_seconds", q.mean,
                      "request_wait_p50_seconds", q.p50, "request_wait_p95_seconds", q.p95,
                      "request_wait_max_seconds", q.max, "in_flight_mean", rs->in_flight_mean,
                      "in_flight_max", (int)rs->in_flight_max, "effective_max",
                      (int)rs->final.effective_max, "initial_limit", (int)rs->initial_limit,
                      "current_limit_end", (int)rs->final.current_limit, "current_limit_min",
                      (int)rs->final.min_limit, "limit_decreases",
                      (json_int_t)rs->final.limit_decreases, "limit_increases",
                      (json_int_t)rs->final.limit_increases, "cooldown_seconds",
                      (double)rs->cooldown_ns / 1e9, "utilization_while_others_cooling", util,
                      "others_cooling_seconds", (double)rs->others_cooling_ns / 1e9,
                      "limit_timeline", timeline));
    }
    return out;
}

json_t *res_providers_json(const sim_run *run) {
    json_t *out = json_object();
    for (uint32_t i = 0; i < run->provider_count; i++)
        json_object_set_new(out, run->provider_names[i],
                            json_pack("{s:f}", "busy_fraction", run->provider_busy_fraction[i]));
    return out;
}

json_t *res_final_request_snapshot_json(const sim_run *run) {
    json_t *per = json_object();
    for (uint32_t r = 0; r < run->request_resource_count; r++) {
        const admit_request_resource_snapshot *f = &run->request[r].final;
        json_object_set_new(per, run->request[r].key,
                            json_pack("{s:i, s:i, s:i, s:i, s:i, s:I, s:I}", "in_flight",
                                      (int)f->in_flight, "waiters", (int)f->waiters,
                                      "current_limit", (int)f->current_limit, "effective_max",
                                      (int)f->effective_max, "aggregate_in_flight",
                                      (int)f->pm_in_flight, "leases", (json_int_t)f->leases,
                                      "released", (json_int_t)f->released));
    }
    const admit_request_admission_stats *st = &run->request_admission_stats;
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "request_leases",
        (json_int_t)run->final_request_leases, "waiters", (json_int_t)run->final_request_waiters,
        "leases_acquired", (json_int_t)st->leases_acquired, "leases_released",
        (json_int_t)st->release_reasons[ADMIT_RELEASE_RELEASED], "duplicate_releases",
        (json_int_t)st->release_reasons[ADMIT_RELEASE_DUPLICATE], "attempt_order_violations",
        (json_int_t)run->attempt_order_violations, "resources", per);
}

static json_t *dist_json(const sim_dist *d) {
    if (d->kind == SIM_DIST_EMPIRICAL)
        return json_pack("{s:s, s:I, s:f}", "dist", "empirical", "samples",
                         (json_int_t)d->sample_count, "mean_seconds", sim_dist_mean_seconds(d));
    return json_pack("{s:s, s:f, s:f}", "dist", sim_dist_kind_name(d->kind), "a", d->a, "b", d->b);
}

json_t *res_provider_script_json(const sim_scenario *sc) {
    static const char *window_kinds[] = {"outage", "capacity", "latency"};
    json_t *out = json_array();
    for (uint32_t i = 0; i < sc->provider_count; i++) {
        const sim_provider_spec *p = &sc->providers[i];
        const sim_model_alias *m = &sc->models[p->model];
        json_t *windows = json_array();
        for (uint32_t w = 0; w < p->window_count; w++) {
            const sim_window *win = &p->windows[w];
            json_array_append_new(
                windows,
                json_pack("{s:s, s:f, s:f, s:i, s:f, s:f}", "kind", window_kinds[win->kind],
                          "start_seconds", (double)win->start_ns / 1e9, "end_seconds",
                          (double)win->end_ns / 1e9, "max_concurrent", (int)win->max_concurrent,
                          "requests_per_minute", win->requests_per_minute, "latency_multiplier",
                          win->latency_multiplier));
        }
        json_array_append_new(
            out, json_pack("{s:s, s:s, s:s, s:s, s:o, s:i, s:f, s:o, s:f, s:f, s:f, s:f, s:o}",
                           "alias", m->alias, "provider", m->provider, "model", m->model_id,
                           "domain", admit_request_domain_name(p->domain), "latency",
                           dist_json(&p->latency), "max_concurrent", (int)p->max_concurrent,
                           "requests_per_minute", p->requests_per_minute, "retry_after_seconds",
                           p->retry_after_ns >= 0 ? json_real((double)p->retry_after_ns / 1e9)
                                                  : json_null(),
                           "rate_limited_latency_seconds", (double)p->rate_limited_latency_ns / 1e9,
                           "failure_probability", p->failure_probability, "timeout_probability",
                           p->timeout_probability, "timeout_seconds", (double)p->timeout_ns / 1e9,
                           "windows", windows));
    }
    return out;
}
