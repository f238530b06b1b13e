/*
** Live runs of a run configuration (live/runner.h).
**
** One `iter` holds an iteration's loop, runtime, provider, core objects,
** workers and event logs.  Workers walk their program with the simulator's
** walker (run/program.h); its timers are loop timers carrying (slot,
** token) in their ref.
*/
#include "live/runner.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live/loop.h"
#include "live/runtime.h"
#include "res/event_capture.h"
#include "run/assembly.h"
#include "run/program.h"

typedef struct iter {
    live_runner *r;
    const run_config *cfg;
    uint32_t iteration;
    uint64_t run_id;
    uv_loop_t uv;
    uv_signal_t sigint, sigterm;
    bool signals;
    live_loop *loop;
    live_runtime *rt;
    live_http *http;
    run_assembly *asm_;
    admit_scheduler *sched;
    run_walkers *walkers;
    res_event_capture *cap; /* created with the iteration */
    int64_t last_at;        /* the last event's capture time */
    bool halted, tearing_down;
    admit_error refusal;
} iter;

static void halt(iter *it, const admit_error *why);

/* ---- event capture -------------------------------------------------------------- */

/* Both streams: each in its order (one thread, the loop's). */
static void capture(void *ctx, const admit_event *ev) {
    iter *it = ctx;
    if (it->tearing_down) return;
    if (ev->captured_at_ns > it->last_at) it->last_at = ev->captured_at_ns;
    if (!res_event_capture_event(it->cap, ev)) {
        admit_error oom = {0};
        const char *spill = res_event_capture_error(it->cap);
        admit_error_set(&oom, ADMIT_ENOMEM, "%s", spill ? spill : "out of memory capturing events");
        halt(it, &oom);
    }
}

/* ---- workers walking their program ---------------------------------------------- */

static void halt(iter *it, const admit_error *why) {
    if (!it->halted) it->refusal = *why;
    it->halted = true;
    live_runtime_stop(it->rt);
}

static void on_walk_timer(void *ctx, uint64_t ref) {
    iter *it = ctx;
    if (!it->tearing_down) run_walkers_fire(it->walkers, (uint32_t)(ref >> 32), (uint32_t)ref);
}

static void walk_timer(void *ctx, int64_t delay_ns, uint32_t slot, uint32_t token) {
    iter *it = ctx;
    int64_t at;
    if (__builtin_add_overflow(live_loop_now(it->loop), delay_ns, &at)) at = INT64_MAX;
    if (!live_loop_at(it->loop, at, on_walk_timer, it, (uint64_t)slot << 32 | token)) {
        admit_error oom = {0};
        admit_error_set(&oom, ADMIT_ENOMEM, "out of memory setting a timer");
        halt(it, &oom);
    }
}

static void walk_finish(void *ctx, admit_worker *w, uint64_t execution_id,
                        admit_worker_outcome outcome) {
    iter *it = ctx;
    (void)execution_id; /* the runtime reads it from w, which is still running */
    live_runtime_finish(it->rt, w, outcome);
}

static void walk_refused(void *ctx, const admit_error *why) {
    halt(ctx, why);
}

static void worker_start(void *ctx, admit_worker *w) {
    iter *it = ctx;
    if (it->tearing_down) return;
    run_walk *k = run_walkers_add(it->walkers, w);
    if (!k) {
        live_runtime_finish(it->rt, w, ADMIT_WORKER_RETRYABLE_FAILURE);
        return;
    }
    const live_workload *wl = &it->r->cfg.workload;
    admit_tracker *tracker = admit_scheduler_tracker(it->sched);
    k->outcome = wl->plan(wl->ctx, w->task, admit_tracker_task_index(tracker, w->task), w->attempt,
                          k->own_plan);
    k->plan = k->own_plan;
    run_walkers_begin(it->walkers, k, false);
}

static void worker_cancel(void *ctx, admit_worker *w) {
    iter *it = ctx;
    if (!it->tearing_down) run_walkers_cancel(it->walkers, w);
}

/* ---- signals ---------------------------------------------------------------------- */

static void on_signal(uv_signal_t *s, int signum) {
    iter *it = s->data;
    (void)signum;
    it->r->interrupted = true;
    admit_scheduler_cancel(it->sched);
}

static void start_signals(iter *it) {
    it->signals = true;
    uv_signal_init(&it->uv, &it->sigint);
    uv_signal_init(&it->uv, &it->sigterm);
    it->sigint.data = it->sigterm.data = it;
    uv_signal_start(&it->sigint, on_signal, SIGINT);
    uv_signal_start(&it->sigterm, on_signal, SIGTERM);
}

/* ---- one iteration ---------------------------------------------------------------- */

static void on_report(void *ctx, const live_http_attempt_report *rep) {
    iter *it = ctx;
    if (it->r->cfg.on_report) it->r->cfg.on_report(it->r->cfg.ctx, it->iteration, rep);
}

static uint64_t run_id_of(const run_config *cfg, uint64_t seed, uint32_t iteration) {
    uint64_t h = 0xcbf29ce484222325ULL ^ seed ^ ((uint64_t)iteration << 48);
    for (const char *p = cfg->scenario_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return (h ^ 0x6c697665ULL) * 0x100000001b3ULL; /* "live" */
}

static bool assemble(iter *it, res_error *err) {
    const live_runner_config *c = &it->r->cfg;
    live_worker_hooks wh = {.ctx = it, .start = worker_start, .cancel = worker_cancel};
    admit_error aerr = {0};
    it->loop = live_loop_create(&it->uv, c->time_scale > 0 ? c->time_scale : 1, &aerr);
    if (it->loop) it->rt = live_runtime_create(it->loop, &wh, &aerr);
    if (it->rt) it->http = live_http_create(it->loop, &aerr);
    if (!it->http) return res_error_set(err, RES_ERUN, "live runtime: %s", aerr.message);
    run_hooks h = {.clock = {.ctx = it->loop, .now = live_loop_now_fn},
                   .ctx = it->rt,
                   .wake_at = live_runtime_wake_at,
                   .spawn = live_runtime_spawn,
                   .cancel = live_runtime_cancel,
                   .request_wake_at = live_runtime_request_wake_at,
                   .provider = live_http_provider(it->http),
                   .scheduler_sink = {.fn = capture, .ctx = it},
                   .request_sink = {.fn = capture, .ctx = it},
                   .endpoint_models = c->endpoint_models,
                   .endpoint_domains = c->endpoint_domains,
                   .endpoint_count = c->endpoint_count};
    run_error rerr = {0};
    it->asm_ = run_assembly_create(it->cfg, c->policy, it->run_id, &h, &rerr);
    if (!it->asm_) return res_error_set(err, RES_ERUN, "%s", rerr.message);
    it->sched = run_assembly_scheduler(it->asm_);
    run_walkers_hooks walk = {
        .ctx = it, .timer = walk_timer, .finish = walk_finish, .refused = walk_refused};
    it->walkers = run_walkers_create(it->asm_, it->run_id, &walk);
    if (!it->walkers) return res_error_set(err, RES_ENOMEM, "out of memory starting the workers");
    live_runtime_bind(it->rt, it->sched, run_assembly_request_admission(it->asm_));
    live_http_bind(it->http, run_assembly_executor(it->asm_));
    live_http_on_report(it->http, on_report, it);
    return true;
}

/* Every request resource of the run bound to its endpoint. */
static bool bind_endpoints(iter *it, res_error *err) {
    const admit_request_resolver *rr = run_assembly_request_resolver(it->asm_);
    for (uint32_t r = 0; r < admit_request_resolver_resource_count(rr); r++) {
        uint32_t pm = admit_request_resolver_resource_pm(rr, r);
        live_http_endpoint ep = {0};
        if (!it->r->cfg.endpoint(it->r->cfg.ctx, it->iteration, r,
                                 admit_request_resolver_pm_provider(rr, pm),
                                 admit_request_resolver_pm_model(rr, pm),
                                 admit_request_resolver_resource_domain(rr, r), &ep, err))
            return false;
        admit_error aerr = {0};
        admit_status st = live_http_set_endpoint(it->http, r, &ep, &aerr);
        memset(ep.api_key, 0, sizeof ep.api_key);
        if (st != ADMIT_OK) return res_error_set(err, RES_ERUN, "%s", aerr.message);
    }
    return true;
}

/* The ledgers at the end, the wall time (the last event's), the output
** hashes and the kept events; the summary builder, if any, for the caller
** to finish once the core objects are gone. */
static res_summary_builder *record_end(iter *it, res_run_record *run) {
    res_run_record_read_end(run, it->asm_);
    run->wall_ns = it->last_at;
    const live_workload *wl = &it->r->cfg.workload;
    res_run_record_hash_outputs(run, admit_scheduler_tracker(it->sched), wl->column_seeds(wl->ctx));
    return res_event_capture_end(it->cap, run);
}

static void teardown(iter *it) {
    it->tearing_down = true;
    if (it->loop) live_loop_halt(it->loop);
    if (it->signals) {
        uv_close((uv_handle_t *)&it->sigint, NULL);
        uv_close((uv_handle_t *)&it->sigterm, NULL);
    }
    if (it->walkers) run_walkers_stop(it->walkers);
    run_assembly_destroy(it->asm_);
    live_http_destroy(it->http);
    live_runtime_destroy(it->rt);
    live_loop_destroy(it->loop);
    uv_run(&it->uv, UV_RUN_DEFAULT); /* closes what is left */
    uv_loop_close(&it->uv);
    run_walkers_destroy(it->walkers);
    res_event_capture_free(it->cap);
}

/* Runs the job on the loop; false with err set when it could not finish. */
static bool run_job(iter *it, res_error *err) {
    admit_error aerr = {0};
    if (live_runtime_run(it->rt, &aerr) != ADMIT_OK)
        return res_error_set(err, RES_ERUN, "%s: %s", it->cfg->path, aerr.message);
    if (it->halted)
        return res_error_set(err, RES_ERUN, "%s: %s", it->cfg->path,
                             it->refusal.message[0] ? it->refusal.message : "out of memory");
    if (admit_scheduler_status(it->sched) == ADMIT_JOB_FAILED) {
        admit_scheduler_error(it->sched, &aerr);
        return res_error_set(err, RES_ERUN, "%s: %s", it->cfg->path, aerr.message);
    }
    return true;
}

res_run_record *live_runner_iteration(live_runner *r, uint32_t iteration, res_error *err) {
    const live_runner_config *c = &r->cfg;
    if (c->before_iteration && !c->before_iteration(c->ctx, iteration, err)) return NULL;
    iter it = {.r = r,
               .cfg = c->config,
               .iteration = iteration,
               .run_id = run_id_of(c->config, c->seed, iteration),
               .cap = res_event_capture_create(r->keep, r->summarize)};
    res_run_record *run = res_run_record_create(c->config);
    bool ok = run && it.cap && uv_loop_init(&it.uv) == 0;
    if (!ok) {
        res_run_record_free(run);
        res_event_capture_free(it.cap);
        if (c->after_iteration) c->after_iteration(c->ctx, iteration);
        res_error_set(err, RES_ENOMEM, "out of memory starting a live iteration");
        return NULL;
    }
    run->mode = "live";
    run->policy = c->policy;
    run->seed = c->seed;
    run->iteration = iteration;
    run->environment = c->environment_json ? c->environment_json(c->ctx) : NULL;
    bool begun = false;
    ok = assemble(&it, err) && bind_endpoints(&it, err);
    if (ok && !(res_run_record_shape_from_assembly(run, it.asm_) &&
                res_event_capture_start(it.cap, run, true))) {
        const char *spill = res_event_capture_error(it.cap);
        ok = spill ? res_error_set(err, RES_EIO, "%s: %s", it.cfg->path, spill)
                   : res_error_set(err, RES_ENOMEM, "out of memory recording a live iteration");
    }
    if (ok) {
        begun = c->workload.begin(c->workload.ctx, admit_scheduler_tracker(it.sched), c->seed,
                                  iteration);
        if (!begun) ok = res_error_set(err, RES_ENOMEM, "out of memory drawing the workload");
    }
    if (ok && c->catch_signals) start_signals(&it);
    if (ok) ok = run_job(&it, err);
    res_summary_builder *sum = ok ? record_end(&it, run) : NULL;
    teardown(&it);
    res_error why;
    if (sum && !(run->summary = res_summary_builder_finish(sum, &why)))
        ok = res_error_set(err, why.code, "%s: %s", it.cfg->path, why.message);
    if (begun && c->workload.end) c->workload.end(c->workload.ctx);
    if (c->after_iteration) c->after_iteration(c->ctx, iteration);
    if (!ok) {
        res_run_record_free(run);
        return NULL;
    }
    return run;
}

static res_run_record *env_iteration(void *ctx, uint32_t iteration, res_error *err) {
    return live_runner_iteration(ctx, iteration, err);
}

static bool env_is_interrupted(void *ctx) {
    return ((live_runner *)ctx)->interrupted;
}

static void env_keep_events(void *ctx, res_event_keep keep) {
    live_runner *r = ctx;
    r->keep = keep;
    r->summarize = true;
}

res_environment live_runner_environment(live_runner *r) {
    return (res_environment){.ctx = r,
                             .run_iteration = env_iteration,
                             .is_interrupted = env_is_interrupted,
                             .keep_events = env_keep_events};
}
