/*
** Live runs of a run configuration (live/runner.h).
**
** One `iter` holds an iteration's loop, runtime, provider, core objects,
** workers and event logs.  A worker's timers carry (slot, token) in their
** ref; bumping the slot's token voids them (a finished or cancelled
** worker's pending step), as in the simulator's engine.
*/
#include "live/runner.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live/loop.h"
#include "live/runtime.h"
#include "run/assembly.h"

#define NO_SLOT UINT32_MAX

typedef struct lworker {
    admit_worker *w;
    uint32_t token;
    admit_worker_outcome outcome;
    int64_t plan[RUN_MAX_STEPS];
    uint32_t step, calls_left, call_failures;
    bool step_started, cancelled;
    admit_model_attempt *attempt;
    uint32_t next_free;
} lworker;

typedef struct event_log {
    admit_event *ev;
    size_t count, cap;
} event_log;

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
    admit_model_executor *exec;
    lworker *workers;
    uint32_t worker_count, worker_cap, free_worker;
    event_log sched_log, req_log;
    bool halted, tearing_down;
    admit_error refusal;
} iter;

/* ---- event capture -------------------------------------------------------------- */

static void append(iter *it, event_log *log, const admit_event *ev) {
    if (it->tearing_down) return;
    if (log->count == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 4096;
        admit_event *n = realloc(log->ev, cap * sizeof *n);
        if (!n) {
            it->halted = true;
            live_runtime_stop(it->rt);
            return;
        }
        log->ev = n;
        log->cap = cap;
    }
    log->ev[log->count++] = *ev;
}

static void capture_sched(void *ctx, const admit_event *ev) {
    iter *it = ctx;
    append(it, &it->sched_log, ev);
}

static void capture_req(void *ctx, const admit_event *ev) {
    iter *it = ctx;
    append(it, &it->req_log, ev);
}

/* ---- workers walking their program ---------------------------------------------- */

static uint64_t worker_ref(uint32_t slot, uint32_t token) {
    return (uint64_t)slot << 32 | token;
}

static void halt(iter *it, const char *fmt, const char *detail) {
    if (!it->halted) admit_error_set(&it->refusal, ADMIT_ENOMEM, fmt, detail);
    it->halted = true;
    live_runtime_stop(it->rt);
}

static void on_step(void *ctx, uint64_t ref);

static void step_at(iter *it, uint32_t slot, int64_t delay) {
    if (delay < 0) delay = 0;
    int64_t at = live_loop_now(it->loop) + delay;
    if (!live_loop_at(it->loop, at, on_step, it, worker_ref(slot, it->workers[slot].token)))
        halt(it, "%s", "out of memory setting a timer");
}

static void complete(iter *it, uint32_t slot) {
    lworker *lw = &it->workers[slot];
    lw->token++;
    admit_worker *w = lw->w;
    lw->w = NULL;
    lw->next_free = it->free_worker;
    it->free_worker = slot;
    live_runtime_finish(it->rt, w, lw->outcome);
}

static bool step_is_local(const iter *it, const lworker *lw) {
    const run_column *col = &it->cfg->columns[lw->w->task->column];
    return !col->step_count || col->program[lw->step].kind == RUN_STEP_LOCAL;
}

static void on_attempt_done(void *ctx, const admit_model_attempt_result *r);

static void start_call(iter *it, uint32_t slot) {
    lworker *lw = &it->workers[slot];
    const admit_task *t = lw->w->task;
    const admit_group_spec *g = &run_assembly_groups(it->asm_)[t->group];
    admit_model_request req = {
        .resource = (uint32_t)run_assembly_call_resource(it->asm_, t->column, lw->step),
        .group = run_assembly_call_group(it->asm_, t->column, lw->step),
        .queue_wait_timeout_ns = ADMIT_REQ_TIMEOUT_DEFAULT,
        .corr = {.run_id = it->run_id,
                 .row_group = t->row_group,
                 .column = (int32_t)t->column,
                 .task_type = (int32_t)t->type,
                 .group = (int32_t)t->group,
                 .group_kind = (int32_t)g->kind,
                 .group_identity_hash = g->identity_hash,
                 .task_execution_id = lw->w->execution_id},
        .task_id = t->task_id,
        .user = (void *)(uintptr_t)slot};
    admit_error why = {0};
    if (admit_model_executor_execute_attempt(it->exec, &req, on_attempt_done, it, &lw->attempt,
                                             &why) != ADMIT_OK) {
        it->refusal = why;
        halt(it, "%s", why.message);
    }
}

/* Moves the worker on from its position in the program. */
static void advance(iter *it, uint32_t slot) {
    lworker *lw = &it->workers[slot];
    const run_column *col = &it->cfg->columns[lw->w->task->column];
    uint32_t n = col->step_count ? col->step_count : 1;
    while (lw->step < n) {
        if (step_is_local(it, lw)) {
            if (!lw->step_started) {
                lw->step_started = true;
                step_at(it, slot, lw->plan[lw->step]);
                return;
            }
        } else {
            if (!lw->step_started) {
                lw->step_started = true;
                lw->calls_left = (uint32_t)lw->plan[lw->step];
                lw->call_failures = 0;
            }
            if (lw->calls_left) {
                start_call(it, slot);
                return;
            }
        }
        lw->step++;
        lw->step_started = false;
    }
    complete(it, slot);
}

static void on_step(void *ctx, uint64_t ref) {
    iter *it = ctx;
    uint32_t slot = (uint32_t)(ref >> 32);
    lworker *lw = &it->workers[slot];
    if (it->tearing_down || !lw->w || lw->token != (uint32_t)ref) return;
    if (step_is_local(it, lw) && lw->step_started) { /* the local step ran its time */
        lw->step++;
        lw->step_started = false;
    }
    advance(it, slot);
}

/* A call ended: the next call or step on success, else a retry after
** max(backoff, Retry-After) until the column's attempts run out. */
static void on_attempt_done(void *ctx, const admit_model_attempt_result *r) {
    iter *it = ctx;
    if (it->tearing_down) return;
    uint32_t slot = (uint32_t)(uintptr_t)r->user;
    lworker *lw = &it->workers[slot];
    lw->attempt = NULL;
    if (lw->cancelled) {
        complete(it, slot);
        return;
    }
    if (r->admitted && r->outcome.kind == ADMIT_REQ_SUCCESS) {
        lw->calls_left--;
        lw->call_failures = 0;
        step_at(it, slot, 0);
        return;
    }
    const run_column *col = &it->cfg->columns[lw->w->task->column];
    if (++lw->call_failures >= col->retry_max_attempts) {
        lw->outcome = ADMIT_WORKER_RETRYABLE_FAILURE;
        complete(it, slot);
        return;
    }
    int64_t backoff = col->retry_backoff_ns;
    if (r->admitted && r->outcome.retry_after_ns > backoff) backoff = r->outcome.retry_after_ns;
    step_at(it, slot, backoff);
}

static bool worker_alloc(iter *it, uint32_t *slot) {
    *slot = it->free_worker;
    if (*slot != NO_SLOT) {
        it->free_worker = it->workers[*slot].next_free;
        return true;
    }
    if (it->worker_count == it->worker_cap) {
        uint32_t cap = it->worker_cap ? it->worker_cap * 2 : 64;
        lworker *n = realloc(it->workers, cap * sizeof *n);
        if (!n) return false;
        it->workers = n;
        it->worker_cap = cap;
    }
    *slot = it->worker_count++;
    it->workers[*slot].token = 0;
    return true;
}

static void worker_start(void *ctx, admit_worker *w) {
    iter *it = ctx;
    if (it->tearing_down) return;
    uint32_t slot;
    if (!worker_alloc(it, &slot)) {
        live_runtime_finish(it->rt, w, ADMIT_WORKER_RETRYABLE_FAILURE);
        return;
    }
    lworker *lw = &it->workers[slot];
    uint32_t token = lw->token + 1;
    *lw = (lworker){.w = w, .token = token, .next_free = NO_SLOT};
    const live_workload *wl = &it->r->cfg.workload;
    admit_tracker *tracker = admit_scheduler_tracker(it->sched);
    lw->outcome = wl->plan(wl->ctx, w->task, admit_tracker_task_index(tracker, w->task), w->attempt,
                           lw->plan);
    w->runtime_data = (void *)(uintptr_t)slot;
    advance(it, slot);
}

static void worker_cancel(void *ctx, admit_worker *w) {
    iter *it = ctx;
    if (it->tearing_down) return;
    uint32_t slot = (uint32_t)(uintptr_t)w->runtime_data;
    if (slot >= it->worker_count) return;
    lworker *lw = &it->workers[slot];
    if (lw->w != w || lw->cancelled) return; /* finishing */
    lw->cancelled = true;
    lw->outcome = ADMIT_WORKER_CANCELLED;
    lw->token++; /* a pending step becomes stale */
    if (lw->attempt)
        admit_model_executor_cancel(it->exec, lw->attempt); /* its done callback completes */
    else
        complete(it, slot);
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
    /* one ctx: the assembly calls clock.now with hooks.ctx for the scheduler */
    run_hooks h = {.clock = {.ctx = it->rt, .now = live_runtime_now},
                   .ctx = it->rt,
                   .wake_at = live_runtime_wake_at,
                   .spawn = live_runtime_spawn,
                   .cancel = live_runtime_cancel,
                   .request_wake_at = live_runtime_request_wake_at,
                   .provider = live_http_provider(it->http),
                   .scheduler_sink = {.fn = capture_sched, .ctx = it},
                   .request_sink = {.fn = capture_req, .ctx = it},
                   .endpoint_models = c->endpoint_models,
                   .endpoint_domains = c->endpoint_domains,
                   .endpoint_count = c->endpoint_count};
    run_error rerr = {0};
    it->asm_ = run_assembly_create(it->cfg, c->policy, it->run_id, &h, &rerr);
    if (!it->asm_) return res_error_set(err, RES_ERUN, "%s", rerr.message);
    it->sched = run_assembly_scheduler(it->asm_);
    it->exec = run_assembly_executor(it->asm_);
    live_runtime_bind(it->rt, it->sched, run_assembly_request_admission(it->asm_));
    live_http_bind(it->http, it->exec);
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

static int64_t last_capture(const event_log *log) {
    return log->count ? log->ev[log->count - 1].captured_at_ns : 0;
}

static void record_end(iter *it, res_run_record *run) {
    res_run_record_read_end(run, it->asm_);
    int64_t a = last_capture(&it->sched_log), b = last_capture(&it->req_log);
    run->wall_ns = a > b ? a : b;
    run->events = it->sched_log.ev;
    run->event_count = it->sched_log.count;
    run->request_events = it->req_log.ev;
    run->request_event_count = it->req_log.count;
    it->sched_log = it->req_log = (event_log){0};
    const live_workload *wl = &it->r->cfg.workload;
    res_run_record_hash_outputs(run, admit_scheduler_tracker(it->sched), wl->column_seeds(wl->ctx));
}

static void teardown(iter *it) {
    it->tearing_down = true;
    if (it->loop) live_loop_halt(it->loop);
    if (it->signals) {
        uv_close((uv_handle_t *)&it->sigint, NULL);
        uv_close((uv_handle_t *)&it->sigterm, NULL);
    }
    run_assembly_destroy(it->asm_);
    live_http_destroy(it->http);
    live_runtime_destroy(it->rt);
    live_loop_destroy(it->loop);
    uv_run(&it->uv, UV_RUN_DEFAULT); /* closes what is left */
    uv_loop_close(&it->uv);
    free(it->workers);
    free(it->sched_log.ev);
    free(it->req_log.ev);
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
               .free_worker = NO_SLOT};
    res_run_record *run = res_run_record_create(c->config);
    bool ok = run && uv_loop_init(&it.uv) == 0;
    if (!ok) {
        res_run_record_free(run);
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
    if (ok && !res_run_record_shape_from_assembly(run, it.asm_))
        ok = res_error_set(err, RES_ENOMEM, "out of memory recording a live iteration");
    if (ok) {
        begun = c->workload.begin(c->workload.ctx, admit_scheduler_tracker(it.sched), c->seed,
                                  iteration);
        if (!begun) ok = res_error_set(err, RES_ENOMEM, "out of memory drawing the workload");
    }
    if (ok && c->catch_signals) start_signals(&it);
    if (ok) ok = run_job(&it, err);
    if (ok) record_end(&it, run);
    teardown(&it);
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

res_environment live_runner_environment(live_runner *r) {
    return (res_environment){
        .ctx = r, .run_iteration = env_iteration, .is_interrupted = env_is_interrupted};
}
