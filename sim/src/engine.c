#include "sim/engine.h"

#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admit/metadata.h"
#include "sim/clock.h"
#include "sim/rng.h"

enum { EV_COMPLETE = 1, EV_WAKE, EV_CANCEL };

typedef struct sim_worker {
    admit_worker *w;
    uint64_t execution_id;
    uint32_t token;
    admit_worker_outcome outcome;
    size_t next_free;
} sim_worker;

typedef struct engine {
    const sim_scenario *sc;
    sim_clock clock;
    admit_scheduler *sched;
    admit_tracker *tracker;
    gsl_rng **first_rng; /* [column] first attempts, drawn up front */
    gsl_rng **retry_rng; /* [column] later attempts, in the order they run */
    gsl_rng *spawn_rng;
    int64_t *first_duration; /* [task] */
    uint8_t *first_outcome;  /* [task] */
    sim_worker *workers;
    size_t worker_count, worker_cap, free_worker;
    bool wake_now_pending;
    int64_t last_future_wake;
    admit_event *events;
    size_t event_count, event_cap;
    bool capture;
    bool oom;
} engine;

#define NO_WORKER SIZE_MAX

static int64_t rt_now(void *ctx) {
    return ((engine *)ctx)->clock.now_ns;
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
    if (!sim_clock_schedule(&e->clock, at, EV_WAKE, 0, 0)) e->oom = true;
}

static admit_worker_outcome draw_outcome(const sim_column *col, gsl_rng *rng) {
    double u = gsl_rng_uniform(rng);
    if (u < col->non_retryable_probability) return ADMIT_WORKER_NON_RETRYABLE_FAILURE;
    if (u < col->non_retryable_probability + col->retryable_probability)
        return ADMIT_WORKER_RETRYABLE_FAILURE;
    return ADMIT_WORKER_SUCCESS;
}

static int rt_spawn(void *ctx, admit_worker *w) {
    engine *e = ctx;
    const sim_scenario *sc = e->sc;
    if (sc->spawn_failure_probability > 0 &&
        gsl_rng_uniform(e->spawn_rng) < sc->spawn_failure_probability)
        return -1;
    size_t slot = e->free_worker;
    if (slot != NO_WORKER) {
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
    int64_t duration;
    admit_worker_outcome outcome;
    if (w->attempt == 1) {
        duration = e->first_duration[idx];
        outcome = (admit_worker_outcome)e->first_outcome[idx];
    } else {
        duration = sim_dist_sample_ns(&col->duration, e->retry_rng[w->task->column]);
        outcome = draw_outcome(col, e->retry_rng[w->task->column]);
    }
    sim_worker *sw = &e->workers[slot];
    sw->w = w;
    sw->execution_id = w->execution_id;
    sw->outcome = outcome;
    sw->token++;
    w->runtime_data = (void *)(uintptr_t)slot;
    if (!sim_clock_schedule(&e->clock, e->clock.now_ns + duration, EV_COMPLETE, slot, sw->token)) {
        e->free_worker = slot;
        sw->next_free = NO_WORKER;
        return -1;
    }
    return 0;
}

static void rt_cancel(void *ctx, admit_worker *w) {
    engine *e = ctx;
    size_t slot = (size_t)(uintptr_t)w->runtime_data;
    sim_worker *sw = &e->workers[slot];
    sw->token++; /* the pending completion becomes stale */
    sw->outcome = ADMIT_WORKER_CANCELLED;
    if (!sim_clock_schedule(&e->clock, e->clock.now_ns, EV_COMPLETE, slot, sw->token))
        e->oom = true;
}

static void capture_event(void *ctx, const admit_event *ev) {
    engine *e = ctx;
    if (e->event_count == e->event_cap) {
        size_t cap = e->event_cap ? e->event_cap * 2 : 1024;
        admit_event *n = realloc(e->events, cap * sizeof *n);
        if (!n) {
            e->oom = true;
            return;
        }
        e->events = n;
        e->event_cap = cap;
    }
    e->events[e->event_count++] = *ev;
}

void sim_run_free(sim_run *r) {
    if (!r) return;
    free(r->events);
    free(r->resource_names);
    free(r->resource_limits);
    free(r->final_leased);
    free(r->groups);
    free(r->column_group);
    free(r->column_tasks);
    free(r->output_hash);
    free(r);
}

static void engine_free(engine *e) {
    if (e->first_rng)
        for (uint32_t c = 0; c < e->sc->column_count; c++)
            gsl_rng_free(e->first_rng[c]);
    if (e->retry_rng)
        for (uint32_t c = 0; c < e->sc->column_count; c++)
            gsl_rng_free(e->retry_rng[c]);
    free(e->first_rng);
    free(e->retry_rng);
    if (e->spawn_rng) gsl_rng_free(e->spawn_rng);
    free(e->first_duration);
    free(e->first_outcome);
    free(e->workers);
    free(e->events);
    sim_clock_free(&e->clock);
    admit_scheduler_destroy(e->sched);
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

static admit_status make_policy(const sim_scenario *sc, sim_policy_kind kind, admit_resolver *res,
                                const uint32_t *column_group, admit_task_policy *out,
                                admit_error *err) {
    if (kind == SIM_POLICY_STRICT) {
        admit_policy_strict_fair(out);
        return ADMIT_OK;
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
    engine e = {
        .sc = sc, .last_future_wake = -1, .free_worker = NO_WORKER, .capture = opt->capture_events};
    sim_run *run = calloc(1, sizeof *run);
    admit_column_spec *cols = calloc(sc->column_count, sizeof *cols);
    uint32_t *limits = NULL;
    admit_resolver *res = NULL;
    admit_error aerr = {0};
    if (!run || !cols) goto oom;
    run->scenario = sc;
    run->policy = opt->policy_set ? opt->policy : sc->default_policy;
    run->seed = opt->seed;
    run->iteration = opt->iteration;
    run->column_group = calloc(sc->column_count, sizeof *run->column_group);
    run->column_tasks = calloc(sc->column_count, sizeof *run->column_tasks);
    run->output_hash = calloc(sc->column_count, sizeof *run->output_hash);
    if (!run->column_group || !run->column_tasks || !run->output_hash) goto oom;

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
    cfg.run_id = sim_rng_stream_seed(opt->seed, opt->iteration, sc->scenario_id);
    cfg.runtime = (admit_runtime){
        .ctx = &e, .now = rt_now, .wake_at = rt_wake_at, .spawn = rt_spawn, .cancel = rt_cancel};
    if (opt->capture_events) cfg.sink = (admit_event_sink){.fn = capture_event, .ctx = &e};
    if (make_policy(sc, run->policy, res, run->column_group, &cfg.policy, &aerr) != ADMIT_OK)
        goto core_fail;
    e.sched = admit_scheduler_create(&cfg, &aerr);
    if (!e.sched) goto core_fail;
    e.tracker = admit_scheduler_tracker(e.sched);

    size_t ntasks = admit_tracker_task_count(e.tracker);
    if (!sim_clock_init(&e.clock, 1024)) goto oom;
    e.first_rng = calloc(sc->column_count, sizeof *e.first_rng);
    e.retry_rng = calloc(sc->column_count, sizeof *e.retry_rng);
    e.spawn_rng = sim_rng_stream(opt->seed, opt->iteration, "runtime/spawn");
    e.first_duration = malloc((ntasks ? ntasks : 1) * sizeof *e.first_duration);
    e.first_outcome = malloc(ntasks ? ntasks : 1);
    if (!e.first_rng || !e.retry_rng || !e.spawn_rng || !e.first_duration || !e.first_outcome)
        goto oom;
    for (uint32_t c = 0; c < sc->column_count; c++) {
        char entity[ADMIT_NAME_MAX + 16];
        snprintf(entity, sizeof entity, "column/%s", sc->columns[c].name);
        e.first_rng[c] = sim_rng_stream(opt->seed, opt->iteration, entity);
        snprintf(entity, sizeof entity, "column/%s/retry", sc->columns[c].name);
        e.retry_rng[c] = sim_rng_stream(opt->seed, opt->iteration, entity);
        if (!e.first_rng[c] || !e.retry_rng[c]) goto oom;
    }
    for (size_t i = 0; i < ntasks; i++) {
        const admit_task *t = admit_tracker_task(e.tracker, i);
        const sim_column *col = &sc->columns[t->column];
        e.first_duration[i] = sim_dist_sample_ns(&col->duration, e.first_rng[t->column]);
        e.first_outcome[i] = (uint8_t)draw_outcome(col, e.first_rng[t->column]);
    }
    if (opt->capture_events) {
        e.event_cap = ntasks * 8 + 1024;
        e.events = malloc(e.event_cap * sizeof *e.events);
        if (!e.events) goto oom;
    }
    if (sc->cancel_at_ns >= 0 && !sim_clock_schedule(&e.clock, sc->cancel_at_ns, EV_CANCEL, 0, 0))
        goto oom;

    if (admit_scheduler_start(e.sched, &aerr) != ADMIT_OK) goto core_fail;
    while (!admit_scheduler_finished(e.sched) && !e.oom) {
        int64_t t = sim_clock_next_at(&e.clock);
        if (t < 0) {
            snprintf(err->message, sizeof err->message,
                     "%s: simulation stalled at t=%.9f s with the job unfinished (scheduler bug)",
                     sc->path, (double)e.clock.now_ns / 1e9);
            goto fail;
        }
        bool dispatch = false;
        sim_event ev;
        while (sim_clock_next_at(&e.clock) == t && sim_clock_pop(&e.clock, &ev)) {
            if (ev.type == EV_WAKE) {
                dispatch = true;
                if (ev.at_ns == e.clock.now_ns) e.wake_now_pending = false;
                if (ev.at_ns == e.last_future_wake) e.last_future_wake = -1;
            } else if (ev.type == EV_CANCEL) {
                admit_scheduler_cancel(e.sched);
            } else {
                sim_worker *sw = &e.workers[ev.ref];
                if (sw->token != ev.token) continue;
                sw->token++;
                admit_worker *w = sw->w;
                sw->next_free = e.free_worker;
                e.free_worker = ev.ref;
                admit_scheduler_worker_finished(e.sched, w, sw->execution_id, sw->outcome);
            }
        }
        e.wake_now_pending = false;
        if (dispatch) admit_scheduler_dispatch(e.sched);
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
    hash_outputs(&e, run, opt->seed, opt->iteration);
    run->events = e.events;
    run->event_count = e.event_count;
    e.events = NULL;
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
