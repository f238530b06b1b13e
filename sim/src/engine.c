/*
** The simulated environment of one iteration (sim/engine.h): the run's core
** objects, assembled from the configuration (run/assembly.h), driven on the
** virtual clock by workers walking their column's request program against
** simulated providers.
*/
#include "sim/engine.h"

#include <gsl/gsl_rng.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "res/event_names.h"
#include "res/event_capture.h"
#include "res/summary.h"
#include "run/assembly.h"
#include "run/program.h"
#include "sim/clock.h"
#include "sim/provider.h"
#include "sim/rng.h"
#include "sim/workload.h"

enum { EV_WALK = 1, EV_WAKE, EV_CANCEL, EV_CALL_DONE, EV_REQ_TICK };

/* One outbound call on a simulated provider. */
typedef struct sim_call {
    admit_model_attempt *attempt;
    sim_call_plan plan;
    uint32_t resource;
    uint32_t token;
    size_t next_free;
} sim_call;

typedef struct engine {
    const run_config *cfg;
    const sim_environment *env;
    const sim_scenario *sc;
    res_run_record *run;
    sim_clock clock;
    run_assembly *asm_;
    admit_scheduler *sched;
    admit_tracker *tracker;
    admit_request_admission *adm;
    admit_model_executor *exec;
    sim_providers *providers;
    sim_workload *workload; /* every task's program values and outcome */
    gsl_rng *spawn_rng;
    run_walkers *walkers; /* every worker walking its column's program */
    sim_call *calls;
    size_t call_count, call_cap, free_call;
    bool wake_now_pending;
    int64_t last_future_wake;
    int64_t last_req_wake;
    res_event_capture *cap; /* what the record keeps of the events, the summary builder */
    bool capture;
    res_event_keep keep; /* what the record keeps of the captured events */
    bool halted;         /* out of memory, or the core refused: the run stops */
    admit_error refusal; /* what the core said, when it refused */
    uint64_t run_id;
    bool tearing_down; /* callbacks from destroying the core objects are ignored */
} engine;

#define NO_SLOT SIZE_MAX

static int64_t rt_now(void *ctx) {
    return ((engine *)ctx)->clock.now_ns;
}

static void schedule(engine *e, int64_t at, uint32_t type, size_t ref, uint32_t token) {
    if (!sim_clock_schedule(&e->clock, at, type, ref, token)) e->halted = true;
}

/* An event `delay` after now; past the clock's range it saturates, and the
** run stops when it gets there (SIM_MAX_TIME_NS). */
static void schedule_in(engine *e, int64_t delay, uint32_t type, size_t ref, uint32_t token) {
    int64_t at;
    if (delay < 0) delay = 0;
    if (__builtin_add_overflow(e->clock.now_ns, delay, &at)) at = INT64_MAX;
    schedule(e, at, type, ref, token);
}

static void rt_wake_at(void *ctx, int64_t at) {
    engine *e = ctx;
    if (at <= e->clock.now_ns) {
        if (e->wake_now_pending) return;
        e->wake_now_pending = true;
        at = e->clock.now_ns;
    } else if (at == e->last_future_wake) {
        return;
    } else {
        e->last_future_wake = at;
    }
    schedule(e, at, EV_WAKE, 0, 0);
}

static void req_wake_at(void *ctx, int64_t at) {
    engine *e = ctx;
    if (at < e->clock.now_ns) at = e->clock.now_ns;
    if (at == e->last_req_wake) return;
    e->last_req_wake = at;
    schedule(e, at, EV_REQ_TICK, 0, 0);
}

/* ---- workers: the spawn seam, and the program walk's hooks --------------------- */

static void walk_timer(void *ctx, int64_t delay_ns, uint32_t slot, uint32_t token) {
    schedule_in(ctx, delay_ns, EV_WALK, slot, token);
}

static void walk_finish(void *ctx, admit_worker *w, uint64_t execution_id,
                        admit_worker_outcome outcome) {
    admit_scheduler_worker_finished(((engine *)ctx)->sched, w, execution_id, outcome);
}

static void walk_refused(void *ctx, const admit_error *why) {
    engine *e = ctx;
    e->refusal = *why;
    e->halted = true;
}

static int rt_spawn(void *ctx, admit_worker *w) {
    engine *e = ctx;
    if (e->env->spawn_failure_probability > 0 &&
        gsl_rng_uniform(e->spawn_rng) < e->env->spawn_failure_probability)
        return -1;
    run_walk *k = run_walkers_add(e->walkers, w);
    if (!k) return -1;
    if (w->attempt == 1) {
        k->plan = sim_workload_first(e->workload, admit_tracker_task_index(e->tracker, w->task),
                                     &k->outcome);
    } else {
        k->outcome = sim_workload_draw_retry(e->workload, w->task->column, k->own_plan);
        k->plan = k->own_plan;
        uint32_t column;
        double seconds;
        if (sim_workload_over_limit(e->workload, &column, &seconds)) e->halted = true;
    }
    run_walkers_begin(e->walkers, k, true);
    if (e->halted) {
        run_walkers_discard(e->walkers, k);
        return -1;
    }
    return 0;
}

static void rt_cancel(void *ctx, admit_worker *w) {
    engine *e = ctx;
    run_walkers_cancel(e->walkers, w);
}

/* ---- simulated provider calls ------------------------------------------ */

static int provider_call(void *ctx, admit_model_attempt *a) {
    engine *e = ctx;
    size_t slot = e->free_call;
    if (slot != NO_SLOT) {
        e->free_call = e->calls[slot].next_free;
    } else {
        if (e->call_count == e->call_cap) {
            size_t cap = e->call_cap ? e->call_cap * 2 : 64;
            sim_call *n = realloc(e->calls, cap * sizeof *n);
            if (!n) return -1;
            e->calls = n;
            e->call_cap = cap;
        }
        slot = e->call_count++;
        e->calls[slot].token = 0;
    }
    sim_call *c = &e->calls[slot];
    c->attempt = a;
    c->resource = admit_model_attempt_resource(a);
    c->token++;
    sim_providers_begin(e->providers, c->resource, e->clock.now_ns, &c->plan);
    uint32_t resource;
    double seconds;
    if (sim_providers_over_limit(e->providers, &resource, &seconds)) e->halted = true;
    admit_model_attempt_set_provider_data(a, (void *)(uintptr_t)slot);
    schedule_in(e, c->plan.duration_ns, EV_CALL_DONE, slot, c->token);
    return 0;
}

static void provider_cancel(void *ctx, admit_model_attempt *a) {
    engine *e = ctx;
    size_t slot = (size_t)(uintptr_t)admit_model_attempt_provider_data(a);
    sim_call *c = &e->calls[slot];
    c->token++;
    c->plan.outcome = (admit_request_outcome){.kind = ADMIT_REQ_LOCAL_CANCELLED};
    schedule(e, e->clock.now_ns, EV_CALL_DONE, slot, c->token);
}

static void call_done(engine *e, size_t slot) {
    sim_call *c = &e->calls[slot];
    c->token++;
    admit_model_attempt *a = c->attempt;
    sim_call_plan plan = c->plan;
    c->next_free = e->free_call;
    e->free_call = slot;
    sim_providers_end(e->providers, c->resource, e->clock.now_ns, &plan);
    admit_model_executor_call_finished(e->exec, a, plan.outcome);
}

/* ---- event capture --------------------------------------------------------- */

/* Event logs are the capture path's only memory: big (48 bytes an event,
** res/event_log.h), written once, front to back, on huge pages where the
** kernel offers them. */
enum { EVENT_LOG_HINT_MAX = 1u << 22 };

static void request_event(void *ctx, const admit_event *ev) {
    engine *e = ctx;
    if (e->tearing_down || !e->capture) return;
    if (!res_event_capture_event(e->cap, ev)) e->halted = true;
}

static void capture_event(void *ctx, const admit_event *ev) {
    engine *e = ctx;
    if (e->tearing_down) return;
    if (!res_event_capture_event(e->cap, ev)) e->halted = true;
}

/* Sized from the plan: ~8 scheduler events per task and 6 request events
** per first-try call, plus a quarter for retries and queue events, the
** request log at most EVENT_LOG_HINT_MAX events or the scheduler log's size
** (a plan's calls need not all happen, e.g. after a cancel); growth doubles
** past that.  Huge-page backing means the unused tail is never touched. */
static bool reserve_event_logs(engine *e, size_t ntasks) {
    size_t calls = 0, sched_cap = 0, req_cap = 0;
    for (size_t i = 0; i < ntasks; i++) {
        const run_column *col = &e->cfg->columns[admit_tracker_task(e->tracker, i)->column];
        admit_worker_outcome outcome;
        const int64_t *plan = sim_workload_first(e->workload, i, &outcome);
        for (uint32_t j = 0; j < col->step_count; j++)
            if (col->program[j].kind == RUN_STEP_CALL &&
                __builtin_add_overflow(calls, (size_t)plan[j], &calls))
                calls = SIZE_MAX;
    }
    if (__builtin_mul_overflow(ntasks, (size_t)8, &sched_cap) ||
        __builtin_add_overflow(sched_cap, (size_t)1024, &sched_cap))
        return false;
    if (calls) {
        size_t hint_max = sched_cap > EVENT_LOG_HINT_MAX ? sched_cap : EVENT_LOG_HINT_MAX;
        req_cap = calls > hint_max / 8 ? hint_max : calls * 6 + calls * 6 / 4 + 1024;
    }
    /* the request stream may already hold its registration events */
    return res_event_capture_reserve(e->cap, sched_cap, req_cap);
}

/* ---- setting up and tearing down ------------------------------------------------ */

static void engine_free(engine *e) {
    e->tearing_down = true;
    if (e->walkers) run_walkers_stop(e->walkers);
    run_assembly_destroy(e->asm_);
    sim_workload_free(e->workload);
    if (e->spawn_rng) gsl_rng_free(e->spawn_rng);
    run_walkers_destroy(e->walkers);
    res_event_capture_free(e->cap);
    sim_clock_free(&e->clock);
    sim_providers_free(e->providers);
    free(e->calls);
}

static bool fail(sim_error *err, sim_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static bool fail(sim_error *err, sim_status code, const char *fmt, ...) {
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return false;
}

/* A duration drawn past the limit of one duration (cut to it, so every
** figure after it would be wrong): the run fails, naming the column or the
** provider endpoint and the value drawn.  False when none was. */
static bool past_limit(engine *e, sim_error *err) {
    uint32_t which;
    double seconds;
    if (sim_workload_over_limit(e->workload, &which, &seconds)) {
        fail(err, SIM_ELIMIT,
             "%.400s: column \"%.100s\" drew a duration of %.6g s, past the limit of one "
             "duration (%.0f s): the run cannot be simulated as specified",
             e->cfg->path, e->cfg->columns[which].name, seconds, SIM_DIST_MAX_SECONDS);
        return true;
    }
    if (sim_providers_over_limit(e->providers, &which, &seconds)) {
        fail(err, SIM_ELIMIT,
             "%.400s: provider endpoint \"%.300s\" drew a latency of %.6g s (with its latency "
             "windows' multiplier), past the limit of one duration (%.0f s): the run cannot be "
             "simulated as specified",
             e->cfg->path,
             admit_request_resolver_resource_key(run_assembly_request_resolver(e->asm_), which),
             seconds, SIM_DIST_MAX_SECONDS);
        return true;
    }
    return false;
}

/* Why the run halted: a duration past the limit, what the core refused, a
** spill file that failed, else memory. */
static bool oom(engine *e, sim_error *err) {
    if (past_limit(e, err)) return false;
    const char *spill = e->cap ? res_event_capture_error(e->cap) : NULL;
    if (spill) return fail(err, SIM_EIO, "%.400s: %.500s", e->cfg->path, spill);
    if (e->refusal.code != ADMIT_OK)
        return fail(err, e->refusal.code == ADMIT_ENOMEM ? SIM_ENOMEM : SIM_ECORE, "%.400s: %.500s",
                    e->cfg->path, e->refusal.message);
    return fail(err, SIM_ENOMEM, "%s: out of memory running the simulation", e->cfg->path);
}

/* The core objects, on hooks into this engine; the simulated providers'
** endpoints are interned first, in file order, so request resource ids
** follow the file. */
static bool assemble(engine *e, run_policy_kind policy, sim_error *err) {
    uint32_t models[SIM_MAX_PROVIDERS];
    admit_request_domain domains[SIM_MAX_PROVIDERS];
    for (uint32_t i = 0; i < e->env->provider_count; i++) {
        models[i] = e->env->providers[i].model;
        domains[i] = e->env->providers[i].domain;
    }
    run_hooks h = {
        .clock = {.ctx = e, .now = rt_now},
        .ctx = e,
        .wake_at = rt_wake_at,
        .spawn = rt_spawn,
        .cancel = rt_cancel,
        .request_wake_at = req_wake_at,
        .provider = {.ctx = e, .call = provider_call, .cancel = provider_cancel},
        .scheduler_sink = {.fn = e->capture ? capture_event : NULL, .ctx = e},
        .request_sink = {.fn = request_event, .ctx = e},
        .endpoint_models = models,
        .endpoint_domains = domains,
        .endpoint_count = e->env->provider_count,
    };
    run_error rerr = {0};
    e->asm_ = run_assembly_create(e->cfg, policy, e->run_id, &h, &rerr);
    if (!e->asm_) return fail(err, (sim_status)rerr.code, "%s", rerr.message);
    e->sched = run_assembly_scheduler(e->asm_);
    e->tracker = admit_scheduler_tracker(e->sched);
    e->adm = run_assembly_request_admission(e->asm_);
    e->exec = run_assembly_executor(e->asm_);
    run_walkers_hooks wh = {
        .ctx = e, .timer = walk_timer, .finish = walk_finish, .refused = walk_refused};
    e->walkers = run_walkers_create(e->asm_, e->run_id, &wh);
    return e->walkers ||
           fail(err, SIM_ENOMEM, "%s: out of memory running the simulation", e->cfg->path);
}

/* Every task's first execution drawn up front in task order (common random
** numbers across arms), and the event logs sized from them. */
static bool draw_first_attempts(engine *e, const sim_run_options *opt) {
    e->spawn_rng = sim_rng_stream(opt->seed, opt->iteration, "runtime/spawn");
    e->workload = sim_workload_create(e->sc, e->tracker, opt->seed, opt->iteration);
    if (!e->spawn_rng || !e->workload) return false;
    return !e->capture || e->keep != RES_KEEP_ALL_EVENTS ||
           reserve_event_logs(e, admit_tracker_task_count(e->tracker));
}

/* ---- the event loop --------------------------------------------------------------- */

static void apply(engine *e, const sim_event *ev, bool *dispatch) {
    switch (ev->type) {
    case EV_WAKE:
        *dispatch = true;
        if (ev->at_ns == e->clock.now_ns) e->wake_now_pending = false;
        if (ev->at_ns == e->last_future_wake) e->last_future_wake = -1;
        break;
    case EV_CANCEL: admit_scheduler_cancel(e->sched); break;
    case EV_REQ_TICK:
        if (ev->at_ns == e->last_req_wake) e->last_req_wake = -1;
        admit_request_admission_tick(e->adm);
        break;
    case EV_CALL_DONE:
        if (e->calls[ev->ref].token == ev->token) call_done(e, ev->ref);
        break;
    default: /* EV_WALK */ run_walkers_fire(e->walkers, (uint32_t)ev->ref, ev->token); break;
    }
}

static uint64_t done_tasks(const engine *e) {
    admit_scheduler_stats st;
    admit_scheduler_stats_get(e->sched, &st);
    return st.tasks_completed;
}

/* Applies everything due at each instant, then dispatches once. */
static bool run_loop(engine *e, sim_error *err) {
    admit_error aerr = {0};
    if (admit_scheduler_start(e->sched, &aerr) != ADMIT_OK)
        return fail(err, aerr.code == ADMIT_ENOMEM ? SIM_ENOMEM : SIM_ECORE, "%.400s: %.500s",
                    e->cfg->path, aerr.message);
    while (!admit_scheduler_is_finished(e->sched) && !e->halted) {
        int64_t t = sim_clock_next_at(&e->clock);
        if (t < 0)
            return fail(
                err, SIM_ESTALL,
                "%s: simulation stalled at t=%.9f s with the job unfinished (scheduler bug)",
                e->cfg->path, (double)e->clock.now_ns / 1e9);
        if (t > SIM_MAX_TIME_NS)
            return fail(err, SIM_ELIMIT,
                        "%s: virtual time would pass %.0f s (about 146 years), the limit of the "
                        "simulated clock, at t=%.0f s with %llu of %llu tasks done: the run is "
                        "too long to simulate",
                        e->cfg->path, (double)SIM_MAX_TIME_NS / 1e9, (double)e->clock.now_ns / 1e9,
                        (unsigned long long)done_tasks(e),
                        (unsigned long long)admit_tracker_task_count(e->tracker));
        bool dispatch = false;
        sim_event ev;
        while (sim_clock_next_at(&e->clock) == t && sim_clock_pop(&e->clock, &ev) && !e->halted)
            apply(e, &ev, &dispatch);
        e->wake_now_pending = false;
        if (dispatch && !e->halted) admit_scheduler_dispatch(e->sched);
    }
    if (!e->halted && admit_scheduler_status(e->sched) == ADMIT_JOB_FAILED) {
        admit_scheduler_error(e->sched, &e->refusal); /* the job could not go on */
        e->halted = true;
    }
    return !e->halted || oom(e, err);
}

/* The ledgers at the end (the events are the capture's: res_event_capture_end). */
static void record_end(engine *e) {
    res_run_record *run = e->run;
    res_run_record_read_end(run, e->asm_);
    run->wall_ns = e->clock.now_ns;
}

res_run_record *sim_run_execute(const sim_scenario *sc, const sim_run_options *opt,
                                sim_error *err) {
    sim_error scratch;
    if (!err) err = &scratch;
    clock_t cpu0 = clock();
    /* the summary's last passes run once the core objects are freed, so
    ** their memory and those passes' scratch are never held together */
    res_summary_builder *sum = NULL;
    engine e = {.sc = sc,
                .cfg = &sc->config,
                .env = &sc->env,
                .last_future_wake = -1,
                .last_req_wake = -1,
                .free_call = NO_SLOT,
                .capture = opt->capture_events,
                .keep = opt->summarize ? opt->keep : RES_KEEP_ALL_EVENTS};
    e.run = res_run_record_create(&sc->config);
    e.cap = res_event_capture_create(opt->keep, opt->summarize);
    bool ok = e.run != NULL && e.cap && sim_clock_init(&e.clock, 1024);
    if (!ok) {
        oom(&e, err);
        goto done;
    }
    res_run_record *run = e.run;
    run->policy = opt->policy_set ? opt->policy : sc->config.default_policy;
    run->seed = opt->seed;
    run->iteration = opt->iteration;
    run->environment = sim_scenario_environment_json(sc);
    e.run_id = sim_rng_stream_seed(opt->seed, opt->iteration, sc->config.scenario_id);
    ok = assemble(&e, run->policy, err);
    if (ok && !(res_run_record_shape_from_assembly(run, e.asm_) && run->environment))
        ok = oom(&e, err);
    if (ok) {
        e.providers = sim_providers_create(sc, run_assembly_request_resolver(e.asm_), opt->seed,
                                           opt->iteration, err);
        ok = e.providers != NULL;
    }
    if (ok && !res_event_capture_start(e.cap, run, e.capture)) ok = oom(&e, err);
    if (ok && !draw_first_attempts(&e, opt)) ok = oom(&e, err);
    if (ok && past_limit(&e, err)) ok = false;
    if (ok && sc->env.cancel_at_ns >= 0) schedule(&e, sc->env.cancel_at_ns, EV_CANCEL, 0, 0);
    ok = ok && run_loop(&e, err);
    if (ok) {
        record_end(&e);
        res_run_record_hash_outputs(run, e.tracker, sim_workload_column_seeds(e.workload));
        sum = res_event_capture_end(e.cap, run);
    }
done:
    engine_free(&e);
    if (ok && sum) {
        res_error why;
        e.run->summary = res_summary_builder_finish(sum, &why);
        if (!e.run->summary)
            ok = fail(err,
                      why.code == RES_EIO      ? SIM_EIO
                      : why.code == RES_ENOMEM ? SIM_ENOMEM
                                               : SIM_EORDER,
                      "%.400s: %.600s", sc->config.path, why.message);
    }
    if (!ok) {
        res_run_record_free(e.run);
        return NULL;
    }
    e.run->cpu_seconds = (double)(clock() - cpu0) / CLOCKS_PER_SEC;
    return e.run;
}

static res_run_record *runner_iteration(void *ctx, uint32_t iteration, res_error *err) {
    sim_runner *runner = ctx;
    sim_run_options opt = runner->options;
    opt.iteration = iteration;
    opt.capture_events = true;
    sim_error serr = {0};
    res_run_record *r = sim_run_execute(runner->scenario, &opt, &serr);
    if (!r) res_error_set(err, RES_ERUN, "%s", serr.message);
    return r;
}

static void runner_keep_events(void *ctx, res_event_keep keep) {
    sim_runner *runner = ctx;
    runner->options.keep = keep;
    runner->options.summarize = true;
}

res_environment sim_runner_environment(sim_runner *runner) {
    return (res_environment){
        .ctx = runner, .run_iteration = runner_iteration, .keep_events = runner_keep_events};
}
