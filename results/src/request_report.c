#include "res/request_report.h"

#include <math.h>

#include "res/json_real.h"
#include "res/stats.h"

res_wait_quantiles res_request_waits(const res_request_stats *rs) {
    size_t n = rs->wait_count;
    const int64_t *v = rs->waits; /* ascending */
    if (!n) return (res_wait_quantiles){NAN, NAN, NAN, NAN};
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)v[i];
    return (res_wait_quantiles){.mean = sum / (double)n / 1e9,
                                .p50 = (double)v[res_quantile_index(n, 0.50)] / 1e9,
                                .p95 = (double)v[res_quantile_index(n, 0.95)] / 1e9,
                                .max = (double)v[n - 1] / 1e9};
}

static json_t *outcomes_json(const uint64_t *counts) {
    json_t *o = json_object();
    for (int k = 0; k < ADMIT_REQ_OUTCOME_COUNT; k++)
        json_object_set_new(o, admit_request_outcome_name((admit_request_outcome_kind)k),
                            json_integer((json_int_t)counts[k]));
    return o;
}

json_t *res_request_resources_json(const res_run_record *run, const res_request_report *rep) {
    json_t *out = json_object();
    for (uint32_t r = 0; r < run->request_resource_count; r++) {
        const res_request_stats *rs = &rep->resources[r];
        const res_request_resource *rr = &run->request[r];
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
            out, rr->key,
            json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:i, "
                      "s:i, s:i, s:I, s:I, s:f, s:o, s:f, s:o}",
                      "provider", rr->provider, "attempts", (json_int_t)rs->attempts, "leases",
                      (json_int_t)rs->leases, "not_admitted", (json_int_t)rs->not_admitted,
                      "rate_limited", (json_int_t)rs->outcomes[ADMIT_REQ_RATE_LIMITED], "outcomes",
                      outcomes_json(rs->outcomes), "request_wait_mean_seconds",
                      res_json_real_or_null(q.mean), "request_wait_p50_seconds",
                      res_json_real_or_null(q.p50), "request_wait_p95_seconds",
                      res_json_real_or_null(q.p95), "request_wait_max_seconds",
                      res_json_real_or_null(q.max), "in_flight_mean",
                      res_json_real_or_null(rs->in_flight_mean), "in_flight_max",
                      (int)rs->in_flight_max, "effective_max", (int)rr->final.effective_max,
                      "initial_limit", (int)rr->initial.initial_limit, "current_limit_end",
                      (int)rr->final.current_limit, "current_limit_min", (int)rr->final.min_limit,
                      "limit_decreases", (json_int_t)rr->final.limit_decreases, "limit_increases",
                      (json_int_t)rr->final.limit_increases, "cooldown_seconds",
                      (double)rs->cooldown_ns / 1e9, "utilization_while_others_cooling", util,
                      "others_cooling_seconds", (double)rs->others_cooling_ns / 1e9,
                      "limit_timeline", timeline));
    }
    return out;
}

json_t *res_providers_json(const res_request_report *rep) {
    json_t *out = json_object();
    for (uint32_t i = 0; i < rep->provider_count; i++)
        json_object_set_new(out, rep->provider_names[i],
                            json_pack("{s:o}", "busy_fraction",
                                      res_json_real_or_null(rep->provider_busy_fraction[i])));
    return out;
}

json_t *res_final_request_snapshot_json(const res_run_record *run, const res_request_report *rep) {
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
        (json_int_t)rep->attempt_order_violations, "resources", per);
}
