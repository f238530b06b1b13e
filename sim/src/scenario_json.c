/*
** The simulated environment as artifact inputs (sim/scenario.h): each
** column's duration and failure probabilities, fault injection, and the
** provider script (the simulated providers and their scripted windows).
*/
#include <jansson.h>

#include "sim/scenario.h"

static json_t *dist_json(const sim_dist *d) {
    if (d->kind == SIM_DIST_EMPIRICAL)
        return json_pack("{s:s, s:I, s:f}", "dist", "empirical", "samples",
                         (json_int_t)d->sample_count, "mean_seconds", sim_dist_mean_seconds(d));
    return json_pack("{s:s, s:f, s:f}", "dist", sim_dist_kind_name(d->kind), "a", d->a, "b", d->b);
}

static json_t *window_json(const sim_window *win) {
    static const char *window_kinds[] = {"outage", "capacity", "latency"};
    return json_pack("{s:s, s:f, s:f, s:i, s:f, s:f}", "kind", window_kinds[win->kind],
                     "start_seconds", (double)win->start_ns / 1e9, "end_seconds",
                     (double)win->end_ns / 1e9, "max_concurrent", (int)win->max_concurrent,
                     "requests_per_minute", win->requests_per_minute, "latency_multiplier",
                     win->latency_multiplier);
}

static json_t *provider_script_json(const sim_scenario *sc) {
    json_t *out = json_array();
    for (uint32_t i = 0; i < sc->env.provider_count; i++) {
        const sim_provider_spec *p = &sc->env.providers[i];
        const run_model_alias *m = &sc->config.models[p->model];
        json_t *windows = json_array();
        for (uint32_t w = 0; w < p->window_count; w++)
            json_array_append_new(windows, window_json(&p->windows[w]));
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

json_t *sim_scenario_environment_json(const sim_scenario *sc) {
    json_t *cols = json_array();
    for (uint32_t c = 0; c < sc->config.column_count; c++) {
        const sim_column *col = &sc->env.columns[c];
        json_array_append_new(
            cols, json_pack("{s:{s:s, s:f, s:f}, s:f, s:f}", "duration", "dist",
                            sim_dist_kind_name(col->duration.kind), "a", col->duration.a, "b",
                            col->duration.b, "retryable_probability", col->retryable_probability,
                            "non_retryable_probability", col->non_retryable_probability));
    }
    return json_pack("{s:o, s:{s:f}, s:o}", "columns", cols, "failures",
                     "spawn_failure_probability", sc->env.spawn_failure_probability,
                     "provider_script", provider_script_json(sc));
}
