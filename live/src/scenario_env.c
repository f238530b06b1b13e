/*
** Live runs of a scenario file (live/scenario_env.h).
*/
#include "live/scenario_env.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_SECOND 1e9

static const run_column *column_of(const live_scenario_run *s, const admit_task *t) {
    return &s->opt.scenario->config.columns[t->column];
}

/* ---- the workload: the simulator's draws ---------------------------------------- */

static bool wl_begin(void *ctx, admit_tracker *tracker, uint64_t seed, uint32_t iteration) {
    live_scenario_run *s = ctx;
    s->workload = sim_workload_create(s->opt.scenario, tracker, seed, iteration);
    return s->workload != NULL;
}

static admit_worker_outcome wl_plan(void *ctx, const admit_task *t, size_t task_index,
                                    uint32_t attempt, int64_t *plan) {
    live_scenario_run *s = ctx;
    if (attempt > 1) return sim_workload_draw_retry(s->workload, t->column, plan);
    admit_worker_outcome outcome;
    const int64_t *first = sim_workload_first(s->workload, task_index, &outcome);
    memcpy(plan, first, sim_workload_step_count(column_of(s, t)) * sizeof *plan);
    return outcome;
}

static const uint64_t *wl_seeds(void *ctx) {
    return sim_workload_column_seeds(((live_scenario_run *)ctx)->workload);
}

static void wl_end(void *ctx) {
    live_scenario_run *s = ctx;
    sim_workload_free(s->workload);
    s->workload = NULL;
}

/* ---- endpoints ---------------------------------------------------------------------- */

static const run_model_alias *alias_of(const run_config *c, const char *provider,
                                       const char *model) {
    for (uint32_t i = 0; i < c->model_count; i++)
        if (!strcmp(c->models[i].provider, provider) && !strcmp(c->models[i].model_id, model))
            return &c->models[i];
    return NULL;
}

/* The simulated provider's timeout for an endpoint and domain (0: none). */
static int64_t sim_timeout(const sim_scenario *sc, const run_model_alias *a,
                           admit_request_domain d) {
    for (uint32_t i = 0; i < sc->env.provider_count; i++) {
        const sim_provider_spec *ps = &sc->env.providers[i];
        const run_model_alias *m = &sc->config.models[ps->model];
        if (ps->domain == d && !strcmp(m->provider, a->provider) &&
            !strcmp(m->model_id, a->model_id))
            return ps->timeout_ns;
    }
    return 0;
}

static bool endpoint(void *ctx, uint32_t iteration, uint32_t resource, const char *provider,
                     const char *model, admit_request_domain domain, live_http_endpoint *ep,
                     res_error *err) {
    live_scenario_run *s = ctx;
    const run_config *c = &s->opt.scenario->config;
    const run_model_alias *a = alias_of(c, provider, model);
    (void)iteration;
    if (!a) return res_error_set(err, RES_ERUN, "no model alias for %s/%s", provider, model);
    if (resource < sizeof s->keys / sizeof s->keys[0]) {
        snprintf(s->keys[resource], sizeof s->keys[0], "%s/%s/%s", provider, model,
                 admit_request_domain_name(domain));
        if (resource >= s->key_count) s->key_count = resource + 1;
    }
    if (s->opt.endpoint)
        snprintf(ep->base_url, sizeof ep->base_url, "%s", s->opt.endpoint);
    else if (s->use_mock)
        snprintf(ep->base_url, sizeof ep->base_url, "http://127.0.0.1:%u/%s/v1",
                 (unsigned)live_mock_port(s->mock), provider);
    else
        snprintf(ep->base_url, sizeof ep->base_url, "%s", a->base_url);
    snprintf(ep->model, sizeof ep->model, "%s", model);
    ep->domain = domain;
    ep->timeout_ns = a->timeout_seconds > 0 ? (int64_t)(a->timeout_seconds * NS_PER_SECOND)
                     : s->use_mock          ? sim_timeout(s->opt.scenario, a, domain)
                                            : 0;
    ep->connect_timeout_ns = (int64_t)(a->connect_timeout_seconds * NS_PER_SECOND);
    ep->max_response_bytes = (size_t)a->max_response_bytes;
    if (!a->api_key_env[0]) return true;
    admit_error aerr = {0};
    if (live_http_api_key_from_env(a->api_key_env, ep->api_key, sizeof ep->api_key, &aerr) ||
        s->use_mock) /* the mock needs no key: send one only when it is set */
        return true;
    return res_error_set(err, RES_ERUN, "model %s: %s", a->alias, aerr.message);
}

/* ---- the mock, around each iteration ---------------------------------------------- */

static bool before(void *ctx, uint32_t iteration, res_error *err) {
    live_scenario_run *s = ctx;
    if (!s->use_mock) return true;
    live_mock_options mo = {.port = s->opt.mock_port,
                            .time_scale = s->opt.time_scale,
                            .seed = s->opt.seed,
                            .iteration = iteration};
    admit_error aerr = {0};
    s->mock = live_mock_start(s->opt.scenario, &mo, &aerr);
    if (!s->mock) return res_error_set(err, RES_ERUN, "mock provider: %s", aerr.message);
    return true;
}

static void after(void *ctx, uint32_t iteration) {
    live_scenario_run *s = ctx;
    (void)iteration;
    live_mock_stop(s->mock);
    s->mock = NULL;
}

static void on_report(void *ctx, uint32_t iteration, const live_http_attempt_report *r) {
    live_scenario_run *s = ctx;
    if (s->attempt_count == s->attempt_cap) {
        size_t cap = s->attempt_cap ? s->attempt_cap * 2 : 1024;
        live_attempt_row *n = realloc(s->attempts, cap * sizeof *n);
        if (!n) {
            s->attempts_oom = true;
            return;
        }
        s->attempts = n;
        s->attempt_cap = cap;
    }
    s->attempts[s->attempt_count++] = (live_attempt_row){.iteration = iteration, .r = *r};
}

/* The scenario's environment keys (columns, failures; provider_script only
** when its simulated providers answer) and the live run's own. */
static json_t *environment_json(void *ctx) {
    live_scenario_run *s = ctx;
    json_t *env = sim_scenario_environment_json(s->opt.scenario);
    if (!env) return NULL;
    if (!s->use_mock) json_object_set_new(env, "provider_script", json_array());
    const char *target = s->opt.endpoint ? "endpoint" : s->use_mock ? "mock" : "models";
    json_t *live = json_pack("{s:f, s:s}", "time_scale",
                             s->opt.time_scale > 0 ? s->opt.time_scale : 1.0, "calls_to", target);
    if (s->opt.endpoint) json_object_set_new(live, "endpoint", json_string(s->opt.endpoint));
    json_object_set_new(env, "live", live);
    return env;
}

/* ---- set-up ------------------------------------------------------------------------ */

/* Every model a program calls has a base URL (true), or none has (false);
** a mix is an error. */
static bool models_have_urls(const run_config *c, bool *mixed, const char **without) {
    int with = 0, none = 0;
    for (uint32_t i = 0; i < c->column_count; i++)
        for (uint32_t j = 0; j < c->columns[i].step_count; j++) {
            const run_step *st = &c->columns[i].program[j];
            if (st->kind != RUN_STEP_CALL) continue;
            if (c->models[st->model].base_url[0]) {
                with++;
            } else {
                none++;
                *without = c->models[st->model].alias;
            }
        }
    *mixed = with && none;
    return with && !none;
}

bool live_scenario_init(live_scenario_run *s, const live_scenario_options *opt, res_error *err) {
    memset(s, 0, sizeof *s);
    s->opt = *opt;
    const sim_scenario *sc = opt->scenario;
    bool mixed = false;
    const char *without = NULL;
    bool urls = models_have_urls(&sc->config, &mixed, &without);
    if (!opt->endpoint && mixed)
        return res_error_set(err, RES_EINVAL,
                             "%s: model %s has no base_url while others have one: give every "
                             "called model a base_url, or use --endpoint",
                             sc->config.path, without);
    s->use_mock = !opt->endpoint && !urls;
    for (uint32_t i = 0; i < sc->env.provider_count; i++) {
        s->models[i] = sc->env.providers[i].model;
        s->domains[i] = sc->env.providers[i].domain;
    }
    s->runner.cfg = (live_runner_config){.config = &sc->config,
                                         .policy = opt->policy,
                                         .seed = opt->seed,
                                         .time_scale = opt->time_scale,
                                         .workload = {.ctx = s,
                                                      .begin = wl_begin,
                                                      .plan = wl_plan,
                                                      .column_seeds = wl_seeds,
                                                      .end = wl_end},
                                         .endpoint_models = s->models,
                                         .endpoint_domains = s->domains,
                                         .endpoint_count = sc->env.provider_count,
                                         .ctx = s,
                                         .endpoint = endpoint,
                                         .before_iteration = before,
                                         .after_iteration = after,
                                         .on_report = on_report,
                                         .environment_json = environment_json,
                                         .catch_signals = opt->catch_signals};
    return true;
}

void live_scenario_free(live_scenario_run *s) {
    live_mock_stop(s->mock);
    sim_workload_free(s->workload);
    free(s->attempts);
    memset(s, 0, sizeof *s);
}

res_environment live_scenario_environment(live_scenario_run *s) {
    return live_runner_environment(&s->runner);
}

static const char *outcome_name(admit_request_outcome_kind k) {
    static const char *const names[] = {
        "success",         "rate_limited",  "provider_failure",    "provider_timeout",
        "local_cancelled", "local_timeout", "unexpected_exception"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

bool live_scenario_write_attempts_csv(const live_scenario_run *s, FILE *f) {
    fprintf(f, "iteration,attempt_id,request_resource,http_status,outcome,detail,retry_after_"
               "seconds,started_seconds,ended_seconds,prompt_tokens,completion_tokens,total_"
               "tokens\n");
    for (size_t i = 0; i < s->attempt_count; i++) {
        const live_http_attempt_report *r = &s->attempts[i].r;
        fprintf(f,
                "%u,%" PRIu64 ",%s,%ld,%s,%s,%.9f,%.9f,%.9f,%" PRId64 ",%" PRId64 ",%" PRId64 "\n",
                s->attempts[i].iteration, r->attempt_id,
                r->resource < s->key_count ? s->keys[r->resource] : "", r->http_status,
                outcome_name(r->outcome.kind), r->detail, (double)r->outcome.retry_after_ns / 1e9,
                (double)r->started_ns / 1e9, (double)r->ended_ns / 1e9, r->prompt_tokens,
                r->completion_tokens, r->total_tokens);
    }
    return !ferror(f) && !s->attempts_oom;
}
