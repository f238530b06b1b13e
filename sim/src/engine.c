#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE) */
#include "sim/engine.h"

#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "admit/metadata.h"
#include "admit/provider_aware.h"
#include "sim/clock.h"
#include "sim/provider.h"
#include "sim/rng.h"

enum { EV_COMPLETE = 1, EV_WAKE, EV_CANCEL, EV_STEP, EV_CALL_DONE, EV_REQ_TICK };

/* One running task execution, walking its column's request program. */
typedef struct sim_worker {
    admit_worker *w;
    uint64_t execution_id;
    uint32_t token; /* EV_STEP / EV_COMPLETE carry it; bumping it voids them */
    admit_worker_outcome outcome;
    size_t next_free;
    const int64_t *plan; /* per step: local duration ns, or call count */
    int64_t own_plan[SIM_MAX_STEPS];
    uint32_t step;
    uint32_t calls_left;
    uint32_t call_failures; /* failed attempts of the current call */
    bool step_started;
    bool cancelled;
    bool finishing;
    admit_model_attempt *attempt;
} sim_worker;

/* One outbound call on a simulated provider. */
typedef struct sim_call {
    admit_model_attempt *attempt;
    sim_call_plan plan;
    uint32_t resource;
    uint32_t token;
    size_t next_free;
} sim_call;

/* Request-stream accounting per request resource. */
typedef struct req_acc {
    uint32_t in_flight;
    int64_t since_ns;
    double area; /* in-flight x ns */
    int64_t last_lease_ns;
    int64_t (*flight)[2]; /* (time, in-flight) change points */
    size_t flight_count, flight_cap;
    int64_t (*cool)[2]; /* merged cooldown intervals */
    size_t cool_count, cool_cap;
    size_t wait_cap;
    size_t limit_cap;
} req_acc;

typedef struct engine {
    const sim_scenario *sc;
    sim_run *run;
    sim_clock clock;
    admit_scheduler *sched;
    admit_tracker *tracker;
    gsl_rng **first_rng; /* [column] first attempts, drawn up front */
    gsl_rng **retry_rng; /* [column] later attempts, in the order they run */
    gsl_rng *spawn_rng;
    int64_t *first_plan;    /* per task: its column's step values */
    size_t *plan_offset;    /* [task] */
    uint8_t *first_outcome; /* [task] */
    sim_worker *workers;
    size_t worker_count, worker_cap, free_worker;
    bool wake_now_pending;
    int64_t last_future_wake;
    admit_event *events;
    size_t event_count, event_cap;
    admit_event *revents;
    size_t revent_count, revent_cap;
    bool capture;
    bool oom;
    /* request stage */
    admit_request_resolver *rr;
    admit_request_admission *adm;
    admit_model_executor *exec;
    sim_providers *providers;
    int32_t *call_resource; /* [column * SIM_MAX_STEPS + step]: request resource or -1 */
    int32_t *call_group;    /* same shape: request group */
    sim_call *calls;
    size_t call_count, call_cap, free_call;
    req_acc *racc;
    int64_t last_req_wake;
    uint64_t run_id;
    bool tearing_down; /* callbacks from destroying the request stage are ignored */
    bool in_spawn;     /* inside rt_spawn: a worker may not finish synchronously */
} engine;

#define NO_SLOT SIZE_MAX

static int64_t rt_now(void *ctx) {
    return ((engine *)ctx)->clock.now_ns;
}

static void schedule(engine *e, int64_t at, uint32_t type, size_t ref, uint32_t token) {
    if (!sim_clock_schedule(&e->clock, at, type, ref, token)) e->oom = true;
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

static admit_worker_outcome draw_outcome(const sim_column *col, gsl_rng *rng) {
    double u = gsl_rng_uniform(rng);
    if (u < col->non_retryable_probability) return ADMIT_WORKER_NON_RETRYABLE_FAILURE;
    if (u < col->non_retryable_probability + col->retryable_probability)
        return ADMIT_WORKER_RETRYABLE_FAILURE;
    return ADMIT_WORKER_SUCCESS;
}

static uint32_t step_count(const sim_column *col) {
    return col->step_count ? col->step_count : 1;
}

/* Draws one execution's program values (local durations, call counts) and
** its outcome, in step order, from rng. */
static admit_worker_outcome draw_plan(const sim_column *col, gsl_rng *rng, int64_t *plan) {
    if (col->step_count == 0) {
        plan[0] = sim_dist_sample_ns(&col->duration, rng);
        return draw_outcome(col, rng);
    }
    for (uint32_t i = 0; i < col->step_count; i++) {
        const sim_step *st = &col->program[i];
        if (st->kind == SIM_STEP_LOCAL) {
            plan[i] = sim_dist_sample_ns(&st->duration, rng);
        } else if (st->count_kind == SIM_COUNT_BRANCH) {
            plan[i] = gsl_rng_uniform(rng) < st->probability ? st->count : st->count_else;
        } else if (st->count_kind == SIM_COUNT_UNTIL_VALID) {
            uint32_t n = 1;
            while (n < st->count && !(gsl_rng_uniform(rng) < st->probability))
                n++;
            plan[i] = n;
        } else {
            plan[i] = st->count;
        }
    }
    return draw_outcome(col, rng);
}

static const sim_step *worker_step(const engine *e, const sim_worker *sw) {
    const sim_column *col = &e->sc->columns[sw->w->task->column];
    return col->step_count ? &col->program[sw->step] : NULL;
}

static void finish_worker(engine *e, size_t slot) {
    sim_worker *sw = &e->workers[slot];
    sw->token++;
    admit_worker *w = sw->w;
    sw->next_free = e->free_worker;
    e->free_worker = slot;
    admit_scheduler_worker_finished(e->sched, w, sw->execution_id, sw->outcome);
}

/* Ends the worker at the current instant, after whatever else happens now. */
static void complete_soon(engine *e, size_t slot) {
    sim_worker *sw = &e->workers[slot];
    if (sw->finishing) return;
    sw->finishing = true;
    sw->token++;
    schedule(e, e->clock.now_ns, EV_COMPLETE, slot, sw->token);
}

static void on_attempt_done(void *ctx, const admit_model_attempt_result *r);

static void start_call(engine *e, size_t slot) {
    sim_worker *sw = &e->workers[slot];
    const admit_task *t = sw->w->task;
    const admit_group_spec *g = &e->run->groups[t->group];
    size_t at = (size_t)t->column * SIM_MAX_STEPS + sw->step;
    admit_model_request req = {.resource = (uint32_t)e->call_resource[at],
                               .group = e->call_group[at],
                               .queue_wait_timeout_ns = ADMIT_REQ_TIMEOUT_DEFAULT,
                               .corr = {.run_id = e->run_id,
                                        .row_group = t->row_group,
                                        .column = (int32_t)t->column,
                                        .task_type = (int32_t)t->type,
                                        .group = (int32_t)t->group,
                                        .group_kind = (int32_t)g->kind,
                                        .group_identity_hash = g->identity_hash,
                                        .task_execution_id = sw->execution_id},
                               .task_id = t->task_id,
                               .user = (void *)(uintptr_t)slot};
    admit_error err;
    if (admit_model_executor_execute_attempt(e->exec, &req, on_attempt_done, e, &sw->attempt,
                                             &err) != ADMIT_OK)
        e->oom = true;
}

/* Moves the worker on from its current position in the program. */
static void advance(engine *e, size_t slot) {
    sim_worker *sw = &e->workers[slot];
    const sim_column *col = &e->sc->columns[sw->w->task->column];
    uint32_t n = step_count(col);
    while (sw->step < n) {
        const sim_step *st = worker_step(e, sw);
        if (!st || st->kind == SIM_STEP_LOCAL) {
            if (!sw->step_started) {
                sw->step_started = true;
                schedule(e, e->clock.now_ns + sw->plan[sw->step], EV_STEP, slot, sw->token);
                return;
            }
        } else {
            if (!sw->step_started) {
                sw->step_started = true;
                sw->calls_left = (uint32_t)sw->plan[sw->step];
                sw->call_failures = 0;
            }
            if (sw->calls_left) {
                start_call(e, slot);
                return;
            }
        }
        sw->step++;
        sw->step_started = false;
    }
    /* A program with no time-taking step ends at once; from inside spawn()
    ** that must still happen after the scheduler has seen the spawn. */
    if (e->in_spawn)
        complete_soon(e, slot);
    else
        finish_worker(e, slot);
}

static void on_attempt_done(void *ctx, const admit_model_attempt_result *r) {
    engine *e = ctx;
    if (e->tearing_down) return;
    size_t slot = (size_t)(uintptr_t)r->user;
    sim_worker *sw = &e->workers[slot];
    sim_run *run = e->run;
    sim_request_stats *rs = &run->request[r->resource];
    req_acc *acc = &e->racc[r->resource];
    sw->attempt = NULL;
    rs->attempts++;
    if (r->admitted) {
        rs->outcomes[r->outcome.kind]++;
        if (rs->wait_count == acc->wait_cap) {
            size_t cap = acc->wait_cap ? acc->wait_cap * 2 : 256;
            int64_t *n = realloc(rs->waits, cap * sizeof *n);
            if (!n) {
                e->oom = true;
                return;
            }
            rs->waits = n;
            acc->wait_cap = cap;
        }
        rs->waits[rs->wait_count++] = r->wait_completed_ns - r->wait_started_ns;
        if (!(r->wait_started_ns <= r->wait_completed_ns &&
              (r->call_started_ns < 0 || (r->wait_completed_ns <= r->call_started_ns &&
                                          r->call_started_ns <= r->call_completed_ns &&
                                          r->call_completed_ns <= r->released_ns))))
            run->attempt_order_violations++;
    } else {
        rs->not_admitted++;
        if (r->wait_completed_ns < r->wait_started_ns) run->attempt_order_violations++;
    }
    if (sw->cancelled) {
        complete_soon(e, slot);
        return;
    }
    if (r->admitted && r->outcome.kind == ADMIT_REQ_SUCCESS) {
        sw->calls_left--;
        sw->call_failures = 0;
        schedule(e, e->clock.now_ns, EV_STEP, slot, sw->token);
        return;
    }
    const sim_column *col = &e->sc->columns[sw->w->task->column];
    if (++sw->call_failures >= col->retry_max_attempts) {
        sw->outcome = ADMIT_WORKER_RETRYABLE_FAILURE;
        complete_soon(e, slot);
        return;
    }
    int64_t backoff = col->retry_backoff_ns;
    if (r->admitted && r->outcome.retry_after_ns > backoff) backoff = r->outcome.retry_after_ns;
    schedule(e, e->clock.now_ns + backoff, EV_STEP, slot, sw->token);
}

static int rt_spawn(void *ctx, admit_worker *w) {
    engine *e = ctx;
    const sim_scenario *sc = e->sc;
    if (sc->spawn_failure_probability > 0 &&
        gsl_rng_uniform(e->spawn_rng) < sc->spawn_failure_probability)
        return -1;
    size_t slot = e->free_worker;
    if (slot != NO_SLOT) {
        e->free_worker = e->workers[slot].next_free;
    } else {
        if (e->worker_count == e->worker_cap) {
            size_t cap = e->worker_cap ? e->worker_cap * 2 : 64;
            sim_worker *n = realloc(e->workers, cap * sizeof *n);
            if (!n) return -1;
            e->workers = n;
            e->worker_cap = cap;
        }
        slot = e->worker_count++;
        e->workers[slot].token = 0;
    }
    size_t idx = admit_tracker_task_index(e->tracker, w->task);
    const sim_column *col = &sc->columns[w->task->column];
    sim_worker *sw = &e->workers[slot];
    uint32_t token = sw->token + 1;
    *sw = (sim_worker){.w = w, .execution_id = w->execution_id, .token = token};
    if (w->attempt == 1) {
        sw->plan = &e->first_plan[e->plan_offset[idx]];
        sw->outcome = (admit_worker_outcome)e->first_outcome[idx];
    } else {
        sw->outcome = draw_plan(col, e->retry_rng[w->task->column], sw->own_plan);
        sw->plan = sw->own_plan;
    }
    w->runtime_data = (void *)(uintptr_t)slot;
    e->in_spawn = true;
    advance(e, slot);
    e->in_spawn = false;
    if (e->oom) {
        sw->token++;
        sw->next_free = e->free_worker;
        e->free_worker = slot;
        return -1;
    }
    return 0;
}

static void rt_cancel(void *ctx, admit_worker *w) {
    engine *e = ctx;
    size_t slot = (size_t)(uintptr_t)w->runtime_data;
    sim_worker *sw = &e->workers[slot];
    if (sw->cancelled || sw->finishing) return;
    sw->cancelled = true;
    sw->outcome = ADMIT_WORKER_CANCELLED;
    sw->token++; /* a pending step becomes stale */
    if (sw->attempt)
        admit_model_executor_cancel(e->exec, sw->attempt); /* done callback completes */
    else
        complete_soon(e, slot);
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
    admit_model_attempt_set_provider_data(a, (void *)(uintptr_t)slot);
    schedule(e, e->clock.now_ns + c->plan.duration_ns, EV_CALL_DONE, slot, c->token);
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

/* ---- event capture and request accounting ------------------------------ */

static bool push_pair(int64_t (**arr)[2], size_t *count, size_t *cap, int64_t a, int64_t b) {
    if (*count == *cap) {
        size_t n = *cap ? *cap * 2 : 64;
        int64_t(*p)[2] = realloc(*arr, n * sizeof **arr);
        if (!p) return false;
        *arr = p;
        *cap = n;
    }
    (*arr)[*count][0] = a;
    (*arr)[*count][1] = b;
    (*count)++;
    return true;
}

/* Event logs are the capture path's only memory: big (one admit_event per
** event, ~100 bytes), written once, front to back.  Backing them with huge
** pages where the kernel offers them (THP "madvise" mode) turns ~25
** first-touch page faults per thousand events into one per 18,000, which is
** most of what capturing an event costs. */
enum { EVENT_LOG_ALIGN = 2u << 20, EVENT_LOG_HINT_MAX = 1u << 22 };

static admit_event *event_log_alloc(size_t cap) {
    size_t bytes;
    if (__builtin_mul_overflow(cap, sizeof(admit_event), &bytes)) return NULL;
    if (bytes < EVENT_LOG_ALIGN) return malloc(bytes);
    void *p = NULL;
    if (posix_memalign(&p, EVENT_LOG_ALIGN, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes & ~(size_t)(EVENT_LOG_ALIGN - 1), MADV_HUGEPAGE); /* advice only */
#endif
    return p;
}

/* Makes room for at least want events, keeping the first count. */
static bool event_log_reserve(admit_event **arr, size_t count, size_t *cap, size_t want) {
    if (want <= *cap) return true;
    admit_event *p = event_log_alloc(want);
    if (!p) return false;
    if (count) memcpy(p, *arr, count * sizeof *p);
    free(*arr);
    *arr = p;
    *cap = want;
    return true;
}

static bool append_event(admit_event **arr, size_t *count, size_t *cap, const admit_event *ev) {
    if (*count == *cap && !event_log_reserve(arr, *count, cap, *cap ? *cap * 2 : 1024))
        return false;
    (*arr)[(*count)++] = *ev;
    return true;
}

static void request_event(void *ctx, const admit_event *ev) {
    engine *e = ctx;
    if (e->tearing_down) return;
    if (e->capture && !append_event(&e->revents, &e->revent_count, &e->revent_cap, ev))
        e->oom = true;
    if (ev->resource < 0 || (uint32_t)ev->resource >= e->run->request_resource_count) return;
    uint32_t r = (uint32_t)ev->resource;
    req_acc *acc = &e->racc[r];
    sim_request_stats *rs = &e->run->request[r];
    int64_t t = ev->captured_at_ns;
    bool ok = true;
    switch ((admit_request_event_kind)ev->kind) {
    case ADMIT_REV_REQUEST_LEASE_ACQUIRED:
    case ADMIT_REV_REQUEST_LEASE_RELEASED:
        acc->area += (double)acc->in_flight * (double)(t - acc->since_ns);
        acc->since_ns = t;
        acc->in_flight = (uint32_t)ev->value;
        if (acc->in_flight > rs->in_flight_max) rs->in_flight_max = acc->in_flight;
        if (ev->kind == ADMIT_REV_REQUEST_LEASE_ACQUIRED) {
            rs->leases++;
            acc->last_lease_ns = t;
        }
        ok = push_pair(&acc->flight, &acc->flight_count, &acc->flight_cap, t, ev->value);
        break;
    case ADMIT_REV_REQUEST_LIMIT_DECREASED:
    case ADMIT_REV_REQUEST_LIMIT_INCREASED:
        ok = push_pair(&rs->limit_points, &rs->limit_point_count, &acc->limit_cap, t, ev->value);
        break;
    case ADMIT_REV_REQUEST_RATE_LIMITED: {
        int64_t until = admit_request_admission_pressure(e->adm)->blocked_until_ns[r];
        if (acc->cool_count && acc->cool[acc->cool_count - 1][1] >= t) {
            if (until > acc->cool[acc->cool_count - 1][1])
                acc->cool[acc->cool_count - 1][1] = until;
        } else {
            ok = push_pair(&acc->cool, &acc->cool_count, &acc->cool_cap, t, until);
        }
        break;
    }
    default: break;
    }
    if (!ok) e->oom = true;
}

static void capture_event(void *ctx, const admit_event *ev) {
    engine *e = ctx;
    if (!append_event(&e->events, &e->event_count, &e->event_cap, ev)) e->oom = true;
}

void sim_run_free(sim_run *r) {
    if (!r) return;
    free(r->events);
    free(r->request_events);
    free(r->resource_names);
    free(r->resource_limits);
    free(r->final_leased);
    free(r->groups);
    free(r->column_group);
    free(r->column_resources);
    free(r->column_tasks);
    free(r->output_hash);
    for (uint32_t i = 0; r->request && i < r->request_resource_count; i++) {
        free(r->request[i].waits);
        free(r->request[i].limit_points);
    }
    free(r->request);
    free(r->provider_names);
    free(r->provider_busy_fraction);
    free(r->max_leased);
    free(r->max_queued_by_group);
    free(r);
}

static void engine_free(engine *e) {
    e->tearing_down = true;
    admit_scheduler_destroy(e->sched);
    admit_request_admission_destroy(e->adm); /* denies waiters left by a failed run */
    admit_model_executor_destroy(e->exec);
    if (e->first_rng)
        for (uint32_t c = 0; c < e->sc->column_count; c++)
            gsl_rng_free(e->first_rng[c]);
    if (e->retry_rng)
        for (uint32_t c = 0; c < e->sc->column_count; c++)
            gsl_rng_free(e->retry_rng[c]);
    free(e->first_rng);
    free(e->retry_rng);
    if (e->spawn_rng) gsl_rng_free(e->spawn_rng);
    free(e->first_plan);
    free(e->plan_offset);
    free(e->first_outcome);
    free(e->workers);
    free(e->events);
    free(e->revents);
    sim_clock_free(&e->clock);
    sim_providers_free(e->providers);
    admit_request_resolver_destroy(e->rr);
    free(e->call_resource);
    free(e->call_group);
    free(e->calls);
    if (e->racc)
        for (uint32_t r = 0; r < e->run->request_resource_count; r++) {
            free(e->racc[r].flight);
            free(e->racc[r].cool);
        }
    free(e->racc);
}

/* Canonicalizes every model alias and interns the request resources the
** scenario uses: providers entries first, then limits, then program calls,
** so ids follow the file. */
static bool build_request_resolver(engine *e, sim_error *err) {
    const sim_scenario *sc = e->sc;
    admit_error aerr = {0};
    e->rr = admit_request_resolver_create(&aerr);
    if (!e->rr) goto fail;
    for (uint32_t i = 0; i < sc->model_count; i++) {
        const sim_model_alias *m = &sc->models[i];
        if (admit_request_resolver_add_alias(e->rr, m->alias, m->provider, m->model_id,
                                             m->max_parallel_requests, NULL, &aerr) != ADMIT_OK) {
            snprintf(err->message, sizeof err->message, "%.400s: $.models[%u]: %.500s", sc->path, i,
                     aerr.message);
            return false;
        }
    }
#define INTERN(model, domain)                                                                      \
    admit_request_resolver_resource(                                                               \
        e->rr, (uint32_t)admit_request_resolver_lookup(e->rr, sc->models[(model)].alias),          \
        (domain))
    for (uint32_t i = 0; i < sc->provider_count; i++)
        if (INTERN(sc->providers[i].model, sc->providers[i].domain) < 0) goto fail;
    for (uint32_t i = 0; i < sc->request_limit_count; i++)
        if (INTERN(sc->request_limits[i].model, sc->request_limits[i].domain) < 0) goto fail;
    size_t cells = (size_t)sc->column_count * SIM_MAX_STEPS;
    e->call_resource = malloc(cells * sizeof *e->call_resource);
    e->call_group = malloc(cells * sizeof *e->call_group);
    if (!e->call_resource || !e->call_group) goto fail;
    for (size_t i = 0; i < cells; i++)
        e->call_resource[i] = e->call_group[i] = -1;
    for (uint32_t c = 0; c < sc->column_count; c++)
        for (uint32_t j = 0; j < sc->columns[c].step_count; j++) {
            const sim_step *st = &sc->columns[c].program[j];
            if (st->kind != SIM_STEP_CALL) continue;
            int r = INTERN(st->model, st->domain);
            if (r < 0) goto fail;
            e->call_resource[(size_t)c * SIM_MAX_STEPS + j] = r;
        }
#undef INTERN
    return true;
fail:
    snprintf(err->message, sizeof err->message, "%.400s: %.500s", sc->path,
             aerr.message[0] ? aerr.message : "out of memory resolving model aliases");
    return false;
}

static bool build_request_stage(engine *e, const sim_run_options *opt, sim_error *err) {
    const sim_scenario *sc = e->sc;
    sim_run *run = e->run;
    uint32_t n = admit_request_resolver_resource_count(e->rr);
    admit_error aerr = {0};
    admit_request_resource_limits *limits = calloc(n ? n : 1, sizeof *limits);
    run->request_resource_count = n;
    run->request = calloc(n ? n : 1, sizeof *run->request);
    e->racc = calloc(n ? n : 1, sizeof *e->racc);
    if (!limits || !run->request || !e->racc) goto oom;
    for (uint32_t i = 0; i < sc->request_limit_count; i++) {
        const sim_request_limit *l = &sc->request_limits[i];
        int pm = admit_request_resolver_lookup(e->rr, sc->models[l->model].alias);
        int r = admit_request_resolver_resource(e->rr, (uint32_t)pm, l->domain);
        limits[r].initial_limit = l->initial_limit;
        limits[r].max_limit_clamp = l->max_limit_clamp;
    }
    admit_request_admission_config cfg;
    admit_request_admission_config_init(&cfg);
    cfg.resolver = e->rr;
    cfg.limits = limits;
    cfg.aimd = sc->aimd;
    cfg.queue_wait_timeout_ns = sc->queue_wait_timeout_ns;
    cfg.now = rt_now;
    cfg.clock_ctx = e;
    cfg.wake_at = req_wake_at;
    cfg.wake_ctx = e;
    cfg.sink = (admit_event_sink){.fn = request_event, .ctx = e};
    cfg.run_id = e->run_id;
    e->adm = admit_request_admission_create(&cfg, &aerr);
    free(limits);
    limits = NULL;
    if (!e->adm) goto core_fail;
    for (uint32_t r = 0; r < n; r++) {
        sim_request_stats *rs = &run->request[r];
        uint32_t pm = admit_request_resolver_resource_pm(e->rr, r);
        snprintf(rs->key, sizeof rs->key, "%s", admit_request_resolver_resource_key(e->rr, r));
        snprintf(rs->provider, sizeof rs->provider, "%s",
                 admit_request_resolver_pm_provider(e->rr, pm));
        admit_request_resource_snapshot snap;
        admit_request_admission_snapshot(e->adm, r, &snap);
        rs->initial_limit = snap.initial_limit;
        if (!push_pair(&rs->limit_points, &rs->limit_point_count, &e->racc[r].limit_cap, 0,
                       snap.current_limit))
            goto oom;
    }
    /* One request group per (column, resource), weighted like the column's task group. */
    for (uint32_t c = 0; c < sc->column_count; c++) {
        int weight = admit_group_weight(&run->groups[run->column_group[c]]);
        for (uint32_t j = 0; j < sc->columns[c].step_count; j++) {
            size_t at = (size_t)c * SIM_MAX_STEPS + j;
            if (e->call_resource[at] < 0) continue;
            for (uint32_t k = 0; k < j; k++)
                if (e->call_resource[(size_t)c * SIM_MAX_STEPS + k] == e->call_resource[at])
                    e->call_group[at] = e->call_group[(size_t)c * SIM_MAX_STEPS + k];
            if (e->call_group[at] >= 0) continue;
            e->call_group[at] = admit_request_admission_add_group(
                e->adm, (uint32_t)e->call_resource[at], weight, &aerr);
            if (e->call_group[at] < 0) goto core_fail;
        }
    }
    admit_model_provider prov = {.ctx = e, .call = provider_call, .cancel = provider_cancel};
    e->exec = admit_model_executor_create(e->adm, &prov, &aerr);
    if (!e->exec) goto core_fail;
    e->providers = sim_providers_create(sc, e->rr, opt->seed, opt->iteration, err);
    if (!e->providers) return false;
    e->free_call = NO_SLOT;
    return true;
core_fail:
    snprintf(err->message, sizeof err->message, "%.400s: %.500s", sc->path, aerr.message);
    free(limits);
    return false;
oom:
    snprintf(err->message, sizeof err->message, "%s: out of memory building the request stage",
             sc->path);
    free(limits);
    return false;
}

/* The request resource a group's tasks call first, for ProviderAware. */
static int32_t *group_request_resources(const engine *e) {
    const sim_run *run = e->run;
    int32_t *out = malloc((run->group_count ? run->group_count : 1) * sizeof *out);
    if (!out) return NULL;
    for (uint32_t g = 0; g < run->group_count; g++)
        out[g] = -1;
    for (uint32_t c = 0; c < e->sc->column_count; c++) {
        uint32_t g = run->column_group[c];
        for (uint32_t j = 0; j < e->sc->columns[c].step_count && out[g] < 0; j++)
            out[g] = e->call_resource[(size_t)c * SIM_MAX_STEPS + j];
    }
    return out;
}

/* Folds the request accounting into the run's figures at the end. */
static void finish_request_stats(engine *e) {
    sim_run *run = e->run;
    int64_t wall = e->clock.now_ns;
    for (uint32_t r = 0; r < run->request_resource_count; r++) {
        sim_request_stats *rs = &run->request[r];
        req_acc *acc = &e->racc[r];
        acc->area += (double)acc->in_flight * (double)(wall - acc->since_ns);
        rs->in_flight_mean = wall > 0 ? acc->area / (double)wall : 0;
        admit_request_admission_snapshot(e->adm, r, &rs->final);
        int64_t cool = 0;
        for (size_t i = 0; i < acc->cool_count; i++) {
            int64_t end = acc->cool[i][1] < wall ? acc->cool[i][1] : wall;
            if (end > acc->cool[i][0]) cool += end - acc->cool[i][0];
        }
        rs->cooldown_ns = cool;
        /* Utilization while any other provider cools: sweep this resource's
        ** in-flight steps against the union of others' cooldowns. */
        int64_t horizon = acc->last_lease_ns;
        double area = 0;
        int64_t covered = 0;
        size_t fi = 0;
        uint32_t level = 0;
        for (int64_t t = 0; t < horizon;) {
            int64_t next = horizon;
            bool cooling = false;
            for (uint32_t o = 0; o < run->request_resource_count; o++) {
                if (strcmp(run->request[o].provider, rs->provider) == 0) continue;
                const req_acc *oa = &e->racc[o];
                for (size_t i = 0; i < oa->cool_count; i++) {
                    if (oa->cool[i][0] <= t && t < oa->cool[i][1]) {
                        cooling = true;
                        if (oa->cool[i][1] < next) next = oa->cool[i][1];
                    } else if (oa->cool[i][0] > t && oa->cool[i][0] < next) {
                        next = oa->cool[i][0];
                    }
                }
            }
            /* in-flight is a step function: integrate it over [t, next) */
            while (fi < acc->flight_count && acc->flight[fi][0] <= t)
                level = (uint32_t)acc->flight[fi++][1];
            int64_t at = t;
            for (; fi < acc->flight_count && acc->flight[fi][0] < next; fi++) {
                if (cooling) area += (double)level * (double)(acc->flight[fi][0] - at);
                at = acc->flight[fi][0];
                level = (uint32_t)acc->flight[fi][1];
            }
            if (cooling) {
                area += (double)level * (double)(next - at);
                covered += next - t;
            }
            t = next;
        }
        rs->others_cooling_ns = covered;
        rs->utilization_while_others_cooling =
            covered > 0 ? area / ((double)covered * (double)rs->final.effective_max) : -1;
    }
    admit_request_admission_stats_get(e->adm, &run->request_admission_stats);
    admit_model_executor_stats_get(e->exec, &run->executor_stats);
    run->final_request_leases = run->request_admission_stats.leases_active;
    run->final_request_waiters = run->request_admission_stats.waiters_queued;
    uint32_t np = sim_providers_provider_count(e->providers);
    run->provider_count = np;
    run->provider_names = calloc(np ? np : 1, sizeof *run->provider_names);
    run->provider_busy_fraction = calloc(np ? np : 1, sizeof *run->provider_busy_fraction);
    if (!run->provider_names || !run->provider_busy_fraction) {
        e->oom = true;
        return;
    }
    for (uint32_t i = 0; i < np; i++) {
        snprintf(run->provider_names[i], sizeof run->provider_names[i], "%s",
                 sim_providers_provider_name(e->providers, i));
        run->provider_busy_fraction[i] = sim_providers_busy_fraction(e->providers, i, wall);
    }
}

/* Resolves every column and turns the scenario into a scheduler config. */
static admit_resolver *resolve(const sim_scenario *sc, sim_run *run, admit_column_spec *cols,
                               uint32_t **limits_out, sim_error *err) {
    admit_error aerr = {0};
    admit_resolver *res = admit_resolver_create(sc->model_group_limit_cap, &aerr);
    if (!res) goto fail;
    for (uint32_t i = 0; i < sc->capacity_count; i++)
        if (admit_resolver_resource_id(res, sc->capacity[i].name) < 0) goto fail;
    for (uint32_t c = 0; c < sc->column_count; c++) {
        const sim_column *col = &sc->columns[c];
        admit_resolver_input in = {.column = col->name, .admitted_limit = col->admitted_limit};
        if (col->has_metadata)
            in.metadata = col->metadata;
        else
            admit_metadata_default(&in.metadata);
        admit_resource_request over = {0};
        const char *names[ADMIT_MAX_TASK_RESOURCES];
        if (col->resource_count) {
            for (uint32_t i = 0; i < col->resource_count; i++) {
                names[i] = col->resources[i].name;
                over.resource[i] = (uint16_t)i;
                over.amount[i] = col->resources[i].amount;
            }
            over.count = (uint8_t)col->resource_count;
            in.resources_override = &over;
            in.override_names = names;
        }
        admit_resolved_column out;
        if (admit_resolver_resolve(res, &in, &out, &aerr) != ADMIT_OK) {
            snprintf(err->message, sizeof err->message, "%.400s: $.columns[%u].scheduling: %.500s",
                     sc->path, c, aerr.message);
            admit_resolver_destroy(res);
            return NULL;
        }
        cols[c] = (admit_column_spec){.name = col->name,
                                      .strategy = col->strategy,
                                      .deps = col->deps,
                                      .dep_count = col->dep_count,
                                      .rows = col->rows,
                                      .available_at_ns = col->ready_at_ns,
                                      .group = out.group,
                                      .resources = out.resources};
        run->column_group[c] = out.group;
        run->column_resources[c] = out.resources;
    }
    uint32_t nres = admit_resolver_resource_count(res);
    uint32_t *limits = calloc(nres, sizeof *limits);
    if (!limits) goto fail;
    for (uint32_t r = 0; r < nres; r++) {
        const char *name = admit_resolver_resource_name(res, r);
        limits[r] = admit_resolver_derived_limit(res, r);
        for (uint32_t i = 0; i < sc->capacity_count; i++)
            if (strcmp(sc->capacity[i].name, name) == 0) limits[r] = sc->capacity[i].amount;
        if (limits[r] == 0) {
            snprintf(err->message, sizeof err->message,
                     "%s: $.capacity: expected a capacity for scheduler resource \"%s\", got none",
                     sc->path, name);
            free(limits);
            admit_resolver_destroy(res);
            return NULL;
        }
    }
    *limits_out = limits;
    return res;
fail:
    snprintf(err->message, sizeof err->message, "%.400s: %.500s", sc->path,
             aerr.message[0] ? aerr.message : "out of memory resolving scheduling metadata");
    admit_resolver_destroy(res);
    return NULL;
}

static admit_status make_policy(const engine *e, sim_policy_kind kind, admit_resolver *res,
                                const uint32_t *column_group, admit_task_policy *out,
                                admit_error *err) {
    const sim_scenario *sc = e->sc;
    if (kind == SIM_POLICY_STRICT) {
        admit_policy_strict_fair(out);
        return ADMIT_OK;
    }
    if (kind == SIM_POLICY_PROVIDER_AWARE) {
        int32_t *gr = group_request_resources(e);
        if (!gr) return admit_error_set(err, ADMIT_ENOMEM, "out of memory building the policy");
        admit_provider_aware_config pcfg = {.pressure = admit_request_admission_pressure(e->adm),
                                            .group_request_resource = gr,
                                            .group_count = e->run->group_count,
                                            .now = rt_now,
                                            .clock_ctx = (void *)e};
        admit_status st = admit_policy_provider_aware(&pcfg, out, err);
        free(gr);
        return st;
    }
    admit_bounded_borrow_config cfg;
    admit_bounded_borrow_config_init(&cfg);
    cfg.rounding = sc->rounding;
    cfg.reserve_fraction = sc->reserve_fraction;
    cfg.max_reserved_slots = sc->max_reserved_slots;
    cfg.default_ceiling = sc->default_ceiling;
    admit_borrow_ceiling ceilings[SIM_MAX_COLUMNS];
    for (uint32_t i = 0; i < sc->ceiling_count; i++) {
        ceilings[i].group = column_group[sc->ceilings[i].column];
        ceilings[i].resource = (uint16_t)admit_resolver_resource_id(res, sc->ceilings[i].resource);
        ceilings[i].ceiling = sc->ceilings[i].ceiling;
    }
    cfg.ceilings = ceilings;
    cfg.ceiling_count = sc->ceiling_count;
    return admit_policy_bounded_borrow(&cfg, out, err);
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0x7fb5d329728ea185ULL;
    return h ^ (h >> 27);
}

/* Generated values are a pure function of (seed, iteration, column, task):
** timings and ids never enter the output hashes. */
static void hash_outputs(engine *e, sim_run *run, uint64_t seed, uint32_t iteration) {
    run->output_hash_all = 0;
    for (uint32_t c = 0; c < e->sc->column_count; c++)
        run->output_hash[c] = 0xcbf29ce484222325ULL;
    size_t n = admit_tracker_task_count(e->tracker);
    uint64_t *col_seed = calloc(e->sc->column_count, sizeof *col_seed);
    if (!col_seed) return;
    for (uint32_t c = 0; c < e->sc->column_count; c++)
        col_seed[c] = sim_rng_stream_seed(seed, iteration, e->sc->columns[c].name);
    for (size_t i = 0; i < n; i++) {
        const admit_task *t = admit_tracker_task(e->tracker, i);
        run->column_tasks[t->column]++;
        if (admit_tracker_state(e->tracker, t) != ADMIT_TASK_DONE) continue;
        uint64_t value = mix(col_seed[t->column], t->task_id);
        run->output_hash[t->column] = mix(run->output_hash[t->column], mix(t->task_id, value));
    }
    for (uint32_t c = 0; c < e->sc->column_count; c++)
        run->output_hash_all = mix(run->output_hash_all, run->output_hash[c]);
    free(col_seed);
}

sim_run *sim_run_execute(const sim_scenario *sc, const sim_run_options *opt, sim_error *err) {
    clock_t cpu0 = clock();
    engine e = {.sc = sc,
                .last_future_wake = -1,
                .last_req_wake = -1,
                .free_worker = NO_SLOT,
                .free_call = NO_SLOT,
                .capture = opt->capture_events};
    sim_run *run = calloc(1, sizeof *run);
    admit_column_spec *cols = calloc(sc->column_count, sizeof *cols);
    uint32_t *limits = NULL;
    admit_resolver *res = NULL;
    admit_error aerr = {0};
    if (!run || !cols) goto oom;
    e.run = run;
    run->scenario = sc;
    run->policy = opt->policy_set ? opt->policy : sc->default_policy;
    run->seed = opt->seed;
    run->iteration = opt->iteration;
    run->column_group = calloc(sc->column_count, sizeof *run->column_group);
    run->column_tasks = calloc(sc->column_count, sizeof *run->column_tasks);
    run->output_hash = calloc(sc->column_count, sizeof *run->output_hash);
    run->column_resources = calloc(sc->column_count, sizeof *run->column_resources);
    if (!run->column_group || !run->column_tasks || !run->output_hash || !run->column_resources)
        goto oom;
    e.run_id = sim_rng_stream_seed(opt->seed, opt->iteration, sc->scenario_id);
    if (!sim_clock_init(&e.clock, 1024)) goto oom;

    res = resolve(sc, run, cols, &limits, err);
    if (!res) goto fail;
    for (uint32_t i = 0; i < admit_resolver_diagnostic_count(res) && i < 8; i++)
        snprintf(run->diagnostics[run->diagnostic_count++], sizeof run->diagnostics[0], "%s",
                 admit_resolver_diagnostic(res, i));
    run->group_count = admit_resolver_group_count(res);
    run->resource_count = admit_resolver_resource_count(res);
    run->groups = malloc(run->group_count * sizeof *run->groups);
    run->resource_names = malloc(run->resource_count * sizeof *run->resource_names);
    run->final_leased = calloc(run->resource_count, sizeof *run->final_leased);
    if (!run->groups || !run->resource_names || !run->final_leased) goto oom;
    memcpy(run->groups, admit_resolver_groups(res), run->group_count * sizeof *run->groups);
    for (uint32_t r = 0; r < run->resource_count; r++)
        snprintf(run->resource_names[r], sizeof run->resource_names[r], "%s",
                 admit_resolver_resource_name(res, r));
    run->resource_limits = limits;
    limits = NULL;
    if (!build_request_resolver(&e, err) || !build_request_stage(&e, opt, err)) goto fail;

    admit_scheduler_config cfg;
    admit_scheduler_config_init(&cfg);
    cfg.columns = cols;
    cfg.column_count = sc->column_count;
    cfg.records = sc->records;
    cfg.buffer_size = sc->buffer_size;
    cfg.max_concurrent_row_groups = sc->max_concurrent_row_groups;
    cfg.groups = run->groups;
    cfg.group_count = run->group_count;
    cfg.resource_count = run->resource_count;
    cfg.resource_limits = run->resource_limits;
    cfg.salvage_max_rounds = sc->salvage_max_rounds;
    cfg.shutdown_error_rate = sc->shutdown_error_rate;
    cfg.shutdown_error_window = sc->shutdown_error_window;
    cfg.run_id = e.run_id;
    cfg.runtime = (admit_runtime){
        .ctx = &e, .now = rt_now, .wake_at = rt_wake_at, .spawn = rt_spawn, .cancel = rt_cancel};
    if (opt->capture_events) cfg.sink = (admit_event_sink){.fn = capture_event, .ctx = &e};
    if (make_policy(&e, run->policy, res, run->column_group, &cfg.policy, &aerr) != ADMIT_OK)
        goto core_fail;
    e.sched = admit_scheduler_create(&cfg, &aerr);
    if (!e.sched) goto core_fail;
    e.tracker = admit_scheduler_tracker(e.sched);

    size_t ntasks = admit_tracker_task_count(e.tracker);
    e.first_rng = calloc(sc->column_count, sizeof *e.first_rng);
    e.retry_rng = calloc(sc->column_count, sizeof *e.retry_rng);
    e.spawn_rng = sim_rng_stream(opt->seed, opt->iteration, "runtime/spawn");
    e.plan_offset = malloc((ntasks ? ntasks : 1) * sizeof *e.plan_offset);
    e.first_outcome = malloc(ntasks ? ntasks : 1);
    if (!e.first_rng || !e.retry_rng || !e.spawn_rng || !e.plan_offset || !e.first_outcome)
        goto oom;
    for (uint32_t c = 0; c < sc->column_count; c++) {
        char entity[ADMIT_NAME_MAX + 16];
        snprintf(entity, sizeof entity, "column/%s", sc->columns[c].name);
        e.first_rng[c] = sim_rng_stream(opt->seed, opt->iteration, entity);
        snprintf(entity, sizeof entity, "column/%s/retry", sc->columns[c].name);
        e.retry_rng[c] = sim_rng_stream(opt->seed, opt->iteration, entity);
        if (!e.first_rng[c] || !e.retry_rng[c]) goto oom;
    }
    size_t plan_values = 0;
    for (size_t i = 0; i < ntasks; i++) {
        e.plan_offset[i] = plan_values;
        plan_values += step_count(&sc->columns[admit_tracker_task(e.tracker, i)->column]);
    }
    e.first_plan = malloc((plan_values ? plan_values : 1) * sizeof *e.first_plan);
    if (!e.first_plan) goto oom;
    for (size_t i = 0; i < ntasks; i++) {
        const admit_task *t = admit_tracker_task(e.tracker, i);
        e.first_outcome[i] = (uint8_t)draw_plan(&sc->columns[t->column], e.first_rng[t->column],
                                                &e.first_plan[e.plan_offset[i]]);
    }
    if (opt->capture_events) {
        /* Sized from the plan: ~8 scheduler events per task and 6 request
        ** events per first-try call, plus a quarter for retries and queue
        ** events, the request log at most EVENT_LOG_HINT_MAX events or the
        ** scheduler log's size (a plan's calls need not all happen, e.g.
        ** after a cancel); growth doubles past that.  Huge-page backing
        ** means the unused tail is never touched. */
        size_t calls = 0, sched_cap = 0, req_cap = 0;
        for (size_t i = 0; i < ntasks; i++) {
            const sim_column *col = &sc->columns[admit_tracker_task(e.tracker, i)->column];
            for (uint32_t j = 0; j < col->step_count; j++)
                if (col->program[j].kind == SIM_STEP_CALL &&
                    __builtin_add_overflow(calls, (size_t)e.first_plan[e.plan_offset[i] + j],
                                           &calls))
                    calls = SIZE_MAX;
        }
        if (__builtin_mul_overflow(ntasks, (size_t)8, &sched_cap) ||
            __builtin_add_overflow(sched_cap, (size_t)1024, &sched_cap))
            goto oom;
        if (calls) {
            size_t hint_max = sched_cap > EVENT_LOG_HINT_MAX ? sched_cap : EVENT_LOG_HINT_MAX;
            req_cap = calls > hint_max / 8 ? hint_max : calls * 6 + calls * 6 / 4 + 1024;
        }
        /* the request stream may already hold its registration events */
        if (!event_log_reserve(&e.events, e.event_count, &e.event_cap, sched_cap) ||
            (req_cap && !event_log_reserve(&e.revents, e.revent_count, &e.revent_cap, req_cap)))
            goto oom;
    }
    if (sc->cancel_at_ns >= 0) schedule(&e, sc->cancel_at_ns, EV_CANCEL, 0, 0);

    if (admit_scheduler_start(e.sched, &aerr) != ADMIT_OK) goto core_fail;
    while (!admit_scheduler_is_finished(e.sched) && !e.oom) {
        int64_t t = sim_clock_next_at(&e.clock);
        if (t < 0) {
            snprintf(err->message, sizeof err->message,
                     "%s: simulation stalled at t=%.9f s with the job unfinished (scheduler bug)",
                     sc->path, (double)e.clock.now_ns / 1e9);
            goto fail;
        }
        bool dispatch = false;
        sim_event ev;
        while (sim_clock_next_at(&e.clock) == t && sim_clock_pop(&e.clock, &ev) && !e.oom) {
            switch (ev.type) {
            case EV_WAKE:
                dispatch = true;
                if (ev.at_ns == e.clock.now_ns) e.wake_now_pending = false;
                if (ev.at_ns == e.last_future_wake) e.last_future_wake = -1;
                break;
            case EV_CANCEL: admit_scheduler_cancel(e.sched); break;
            case EV_REQ_TICK:
                if (ev.at_ns == e.last_req_wake) e.last_req_wake = -1;
                admit_request_admission_tick(e.adm);
                break;
            case EV_CALL_DONE:
                if (e.calls[ev.ref].token == ev.token) call_done(&e, ev.ref);
                break;
            case EV_STEP: {
                sim_worker *sw = &e.workers[ev.ref];
                if (sw->token != ev.token) break;
                const sim_step *st = worker_step(&e, sw);
                if (!st || st->kind == SIM_STEP_LOCAL) { /* the local step ran its time */
                    sw->step++;
                    sw->step_started = false;
                }
                advance(&e, ev.ref);
                break;
            }
            default: /* EV_COMPLETE */
                if (e.workers[ev.ref].token == ev.token) finish_worker(&e, ev.ref);
                break;
            }
        }
        e.wake_now_pending = false;
        if (dispatch && !e.oom) admit_scheduler_dispatch(e.sched);
    }
    if (e.oom) goto oom;

    run->status = admit_scheduler_status(e.sched);
    run->wall_ns = e.clock.now_ns;
    admit_scheduler_stats_get(e.sched, &run->stats);
    const admit_task_admission *adm = admit_scheduler_admission(e.sched);
    admit_task_admission_stats_get(adm, &run->admission_stats);
    const admit_admission_view *av = admit_task_admission_view(adm);
    run->final_task_leases = av->leases_active;
    memcpy(run->final_leased, av->leased, run->resource_count * sizeof *run->final_leased);
    run->final_queued = admit_fair_queue_view(admit_scheduler_queue(e.sched))->queued_total;
    run->max_leased = malloc(run->resource_count * sizeof *run->max_leased);
    run->max_queued_by_group = malloc(run->group_count * sizeof *run->max_queued_by_group);
    if (!run->max_leased || !run->max_queued_by_group) goto oom;
    memcpy(run->max_leased, av->max_leased, run->resource_count * sizeof *run->max_leased);
    memcpy(run->max_queued_by_group, admit_scheduler_max_queued_by_group(e.sched),
           run->group_count * sizeof *run->max_queued_by_group);
    finish_request_stats(&e);
    if (e.oom) goto oom;
    hash_outputs(&e, run, opt->seed, opt->iteration);
    run->events = e.events;
    run->event_count = e.event_count;
    e.events = NULL;
    run->request_events = e.revents;
    run->request_event_count = e.revent_count;
    e.revents = NULL;
    engine_free(&e);
    admit_resolver_destroy(res);
    free(cols);
    run->cpu_seconds = (double)(clock() - cpu0) / CLOCKS_PER_SEC;
    return run;

core_fail:
    snprintf(err->message, sizeof err->message, "%.400s: %.500s", sc->path, aerr.message);
    goto fail;
oom:
    snprintf(err->message, sizeof err->message, "%s: out of memory running the simulation",
             sc->path);
fail:
    engine_free(&e);
    admit_resolver_destroy(res);
    free(cols);
    free(limits);
    sim_run_free(run);
    return NULL;
}
