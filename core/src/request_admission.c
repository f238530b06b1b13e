/*
** AdaptiveRequestAdmissionController: the public calls (request_admission.h).
** The state, its invariants and its locking are described in
** request_admission_int.h; every call here has one shape: admit_rq_begin
** (lock, clock, expire due waiters, catch up), change state and queue
** events and completions, admit_rq_unlock_and_flush (deliver them
** unlocked).
*/
#include "admit/request_admission.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "request_admission_int.h"

static int64_t monotonic_now(void *ctx) {
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void admit_request_admission_config_init(admit_request_admission_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    admit_aimd_config_init(&cfg->aimd);
    cfg->waiter_capacity = 64;
}

static admit_status check_config(const admit_request_admission_config *cfg, admit_error *err) {
    if (!cfg->resolver)
        return admit_error_set(err, ADMIT_EINVAL, "request admission needs a request resolver");
    admit_status st = admit_rq_check_aimd(&cfg->aimd, err);
    if (st != ADMIT_OK) return st;
    uint32_t n = admit_request_resolver_resource_count(cfg->resolver);
    for (uint32_t pm = 0; pm < admit_request_resolver_pm_count(cfg->resolver); pm++)
        if (admit_request_resolver_pm_cap(cfg->resolver, pm) > ADMIT_REQUEST_MAX_LIMIT)
            return admit_error_set(err, ADMIT_EINVAL, "%s: static cap above %d",
                                   admit_request_resolver_pm_key(cfg->resolver, pm),
                                   ADMIT_REQUEST_MAX_LIMIT);
    for (uint32_t r = 0; cfg->limits && r < n; r++)
        if (cfg->limits[r].initial_limit > ADMIT_REQUEST_MAX_LIMIT ||
            cfg->limits[r].max_limit_clamp > ADMIT_REQUEST_MAX_LIMIT)
            return admit_error_set(err, ADMIT_EINVAL, "%s: limits above %d",
                                   admit_request_resolver_resource_key(cfg->resolver, r),
                                   ADMIT_REQUEST_MAX_LIMIT);
    return ADMIT_OK;
}

admit_request_admission *admit_request_admission_create(const admit_request_admission_config *cfg,
                                                        admit_error *err) {
    if (check_config(cfg, err) != ADMIT_OK) return NULL;
    admit_request_admission *c = calloc(1, sizeof *c);
    if (!c) goto oom;
    c->cfg = *cfg;
    c->cfg.resolver = NULL; /* not kept: everything needed is copied */
    c->cfg.limits = NULL;
    if (!c->cfg.now) c->cfg.now = monotonic_now;
    c->locking = cfg->thread_safe;
    if (c->locking && pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        admit_error_set(err, ADMIT_ENOMEM, "cannot create the request admission mutex");
        return NULL;
    }
    const admit_request_resolver *rr = cfg->resolver;
    uint32_t n = admit_request_resolver_resource_count(rr);
    uint32_t npm = admit_request_resolver_pm_count(rr);
    c->resource_count = n;
    c->pm_count = npm;
    size_t nn = n ? n : 1, np = npm ? npm : 1;
    c->resource_pm = calloc(nn, sizeof *c->resource_pm);
    c->in_flight = calloc(nn, sizeof *c->in_flight);
    c->current = calloc(nn, sizeof *c->current);
    c->effective_max = calloc(nn, sizeof *c->effective_max);
    c->waiters = calloc(nn, sizeof *c->waiters);
    c->blocked_until = calloc(nn, sizeof *c->blocked_until);
    c->initial = calloc(nn, sizeof *c->initial);
    c->ramp_start = calloc(nn, sizeof *c->ramp_start);
    c->ramping = calloc(nn, sizeof *c->ramping);
    c->rs = calloc(nn, sizeof *c->rs);
    c->pm_in_flight = calloc(np, sizeof *c->pm_in_flight);
    c->pm_cap = calloc(np, sizeof *c->pm_cap);
    c->pm_waiters = calloc(np, sizeof *c->pm_waiters);
    c->pm_max_in_flight = calloc(np, sizeof *c->pm_max_in_flight);
    c->pms = calloc(np, sizeof *c->pms);
    if (!c->resource_pm || !c->in_flight || !c->current || !c->effective_max || !c->waiters ||
        !c->blocked_until || !c->initial || !c->ramp_start || !c->ramping || !c->rs ||
        !c->pm_in_flight || !c->pm_cap || !c->pm_waiters || !c->pm_max_in_flight || !c->pms)
        goto oom;
    c->pressure = (admit_request_pressure){.resource_count = n,
                                           .pm_count = npm,
                                           .resource_pm = c->resource_pm,
                                           .in_flight = c->in_flight,
                                           .current_limit = c->current,
                                           .effective_max = c->effective_max,
                                           .blocked_until_ns = c->blocked_until,
                                           .waiters = c->waiters,
                                           .pm_in_flight = c->pm_in_flight,
                                           .pm_cap = c->pm_cap,
                                           .pm_waiters = c->pm_waiters,
                                           .initial_limit = c->initial,
                                           .ramp_start_ns = c->ramp_start,
                                           .ramping = c->ramping,
                                           .startup_ramp_ns = cfg->aimd.startup_ramp_ns};
    for (uint32_t pm = 0; pm < npm; pm++) {
        c->pm_cap[pm] = admit_request_resolver_pm_cap(rr, pm);
        if (!admit_rq_pm_init(c, pm)) goto oom;
    }
    int64_t now = now_of(c);
    c->next_lease_id = 1;
    c->free_lease = NIL;
    c->free_waiter = NIL;
    c->done_head = c->done_tail = NIL;
    c->wake_requested_ns = -1;
    c->due_ns = INT64_MAX;
    c->generation = 1;
    c->next_seq = 1;
    c->next_event_seq = 1; /* like the scheduler stream: sequences start at 1 */
    for (uint32_t r = 0; r < n; r++) {
        uint32_t pm = admit_request_resolver_resource_pm(rr, r);
        c->resource_pm[r] = pm;
        if (!admit_rq_pm_add_resource(c, pm, r)) goto oom;
        admit_rq_aimd_init(c, r, cfg->limits ? &cfg->limits[r] : NULL, now);
        admit_rq_event(c, ADMIT_REV_REQUEST_RESOURCE_REGISTERED, now, r, NULL, 0, -1,
                       c->effective_max[r]);
        if (admit_rq_add_group(c, r, 1) != (int)r) goto oom; /* group r: r's own, weight 1 */
    }
    if (!admit_rq_waiters_init(c, cfg->waiter_capacity ? cfg->waiter_capacity : 64)) goto oom;
    lock(c);
    admit_rq_unlock_and_flush(c);
    return c;
oom:
    admit_request_admission_destroy(c);
    admit_error_set(err, ADMIT_ENOMEM, "out of memory creating request admission");
    return NULL;
}

int admit_request_admission_add_group(admit_request_admission *c, uint32_t resource, int weight,
                                      admit_error *err) {
    if (resource >= c->resource_count) {
        admit_error_set(err, ADMIT_EINVAL, "request group on resource %u: there are %u resources",
                        resource, c->resource_count);
        return -1;
    }
    if (weight < 1) {
        admit_error_set(err, ADMIT_EINVAL, "request group weight %d: must be >= 1", weight);
        return -1;
    }
    lock(c);
    int id = admit_rq_add_group(c, resource, weight);
    unlock(c);
    if (id < 0) admit_error_set(err, ADMIT_ENOMEM, "out of memory adding a request group");
    return id;
}

void admit_request_admission_destroy(admit_request_admission *c) {
    if (!c) return;
    if (c->waiters_slab) {
        int64_t now = admit_rq_begin_expired(c); /* as shutdown: admits none */
        c->shutdown = true;
        admit_rq_deny_all(c, ADMIT_REQ_DENY_SHUTDOWN, now);
        admit_rq_unlock_and_flush(c);
    }
    admit_rq_queue_free(c);
    free(c->resource_pm);
    free(c->in_flight);
    free(c->current);
    free(c->effective_max);
    free(c->waiters);
    free(c->blocked_until);
    free(c->initial);
    free(c->ramp_start);
    free(c->ramping);
    free(c->rs);
    free(c->pm_in_flight);
    free(c->pm_cap);
    free(c->pm_waiters);
    free(c->pm_max_in_flight);
    free(c->leases);
    free(c->events);
    free(c->deliver_events);
    if (c->locking) pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- the lease slab ------------------------------------------------------
** A lease is (id, slot, generation); slots are recycled through a free list,
** so a warm controller allocates nothing per lease, and ids only grow, so a
** stale or repeated release is told apart from the live lease in its slot. */

static admit_release_reason classify(const admit_request_admission *c, admit_request_lease lease) {
    if (lease.lease_id == 0) return ADMIT_RELEASE_UNKNOWN_LEASE;
    if (lease.generation != c->generation) return ADMIT_RELEASE_WRONG_GENERATION;
    if (lease.lease_id >= c->next_lease_id || lease.slot >= c->lease_cap)
        return ADMIT_RELEASE_UNKNOWN_LEASE;
    const lease_rec *l = &c->leases[lease.slot];
    if (l->lease_id != lease.lease_id)
        return lease.lease_id < l->lease_id ? ADMIT_RELEASE_STALE_LEASE
                                            : ADMIT_RELEASE_UNKNOWN_LEASE;
    return l->live ? ADMIT_RELEASE_RELEASED : ADMIT_RELEASE_DUPLICATE;
}

static void lease_free(admit_request_admission *c, uint32_t slot) {
    c->leases[slot].live = false;
    c->leases[slot].next_free = c->free_lease;
    c->free_lease = slot;
}

static void drop_leases(admit_request_admission *c) {
    for (uint32_t i = 0; i < c->lease_cap; i++)
        if (c->leases[i].live) lease_free(c, i);
    memset(c->in_flight, 0, c->resource_count * sizeof *c->in_flight);
    memset(c->pm_in_flight, 0, c->pm_count * sizeof *c->pm_in_flight);
    c->stats.leases_active = 0;
}

/* ---- acquire ------------------------------------------------------------- */

static bool item_valid(const admit_request_admission *c, const admit_request_item *item,
                       uint32_t *group) {
    if (item->resource >= c->resource_count) return false;
    if (item->group == ADMIT_REQ_GROUP_DEFAULT) {
        *group = item->resource;
        return true;
    }
    if (item->group < 0 || (uint32_t)item->group >= c->group_count) return false;
    *group = (uint32_t)item->group;
    return c->groups[*group].resource == item->resource;
}

static admit_request_deny_reason immediate_denial(const admit_request_admission *c, uint32_t r,
                                                  int64_t now) {
    if (c->shutdown) return ADMIT_REQ_DENY_SHUTDOWN;
    if (c->waiters[r]) return ADMIT_REQ_DENY_QUEUED_WAITERS_AHEAD;
    if (now < c->blocked_until[r]) return ADMIT_REQ_DENY_COOLDOWN;
    if (!admit_rq_pm_open(c, c->resource_pm[r]) || c->in_flight[r] >= admit_rq_limit(c, r))
        return ADMIT_REQ_DENY_NO_CAPACITY;
    return ADMIT_REQ_DENY_NONE;
}

/* Immediate path shared by every acquire: denial reason, or a lease with
** the zero-wait pair of events. */
static admit_request_deny_reason acquire_now(admit_request_admission *c,
                                             const admit_request_item *item, uint32_t group,
                                             bool emit_wait, int64_t now,
                                             admit_request_lease *lease) {
    uint32_t r = item->resource;
    admit_rq_ramp_update(c, r, now);
    admit_request_deny_reason why = immediate_denial(c, r, now);
    if (why != ADMIT_REQ_DENY_NONE) return why;
    if (emit_wait) admit_rq_event(c, ADMIT_REV_REQUEST_WAIT_STARTED, now, r, &item->ctx, 0, -1, 0);
    if (!admit_rq_grant(c, r, &item->ctx, lease)) return ADMIT_REQ_DENY_NO_CAPACITY;
    /* Fair-queue accounting: an immediate admission is a commit too. */
    admit_rq_charge(c, group);
    if (emit_wait)
        admit_rq_event(c, ADMIT_REV_REQUEST_WAIT_COMPLETED, now, r, &item->ctx, lease->lease_id, -1,
                       0);
    admit_rq_lease_event(c, r, &item->ctx, now, lease->lease_id);
    return ADMIT_REQ_DENY_NONE;
}

static void deny_event(admit_request_admission *c, const admit_request_item *item,
                       admit_request_deny_reason why, int64_t now, admit_request_denied *out) {
    uint32_t r = item->resource < c->resource_count ? item->resource : NO_RESOURCE;
    admit_rq_count_denial(c, item->resource, why);
    admit_rq_event(c, ADMIT_REV_REQUEST_ACQUIRE_DENIED, now, r, &item->ctx, 0, (int32_t)why, 0);
    if (out) *out = admit_rq_denial(c, r, why, now);
}

bool admit_request_admission_try_acquire(admit_request_admission *c, const admit_request_item *item,
                                         admit_request_lease *lease, admit_request_denied *denied) {
    int64_t now = admit_rq_begin(c);
    uint32_t group;
    admit_request_deny_reason why = item_valid(c, item, &group)
                                        ? acquire_now(c, item, group, false, now, lease)
                                        : ADMIT_REQ_DENY_HARD_POLICY;
    if (why != ADMIT_REQ_DENY_NONE) {
        deny_event(c, item, why, now, denied);
        *lease = (admit_request_lease){0};
    }
    admit_rq_unlock_and_flush(c);
    return why == ADMIT_REQ_DENY_NONE;
}

admit_request_acquire_status
admit_request_admission_acquire_async(admit_request_admission *c, const admit_request_item *item,
                                      admit_request_completion_fn completion, void *completion_ctx,
                                      admit_request_result *result, admit_request_wait *wait) {
    int64_t now = admit_rq_begin(c);
    uint32_t group;
    admit_request_deny_reason why;
    *result = (admit_request_result){.wait_started_ns = now, .wait_completed_ns = now};
    if (wait) *wait = (admit_request_wait){.slot = NIL, .generation = 0};
    if (!item_valid(c, item, &group)) {
        why = ADMIT_REQ_DENY_HARD_POLICY;
    } else {
        why = acquire_now(c, item, group, true, now, &result->lease);
        if (why == ADMIT_REQ_DENY_NONE) {
            result->admitted = true;
            admit_rq_unlock_and_flush(c);
            return ADMIT_REQ_ADMITTED;
        }
        uint32_t slot;
        if (why != ADMIT_REQ_DENY_SHUTDOWN && completion &&
            admit_rq_enqueue(c, item, group, now, &slot)) {
            waiter *w = &c->waiters_slab[slot];
            w->fn = completion;
            w->fn_ctx = completion_ctx;
            if (wait) *wait = (admit_request_wait){.slot = slot, .generation = w->generation};
            admit_rq_schedule_wake(c, now);
            admit_rq_unlock_and_flush(c);
            return ADMIT_REQ_QUEUED;
        }
        if (why != ADMIT_REQ_DENY_SHUTDOWN) why = ADMIT_REQ_DENY_NO_CAPACITY;
    }
    deny_event(c, item, why, now, &result->denied);
    admit_rq_unlock_and_flush(c);
    return ADMIT_REQ_DENIED;
}

bool admit_request_admission_cancel(admit_request_admission *c, admit_request_wait wait) {
    int64_t now = admit_rq_begin(c);
    bool cancelled = false;
    if (wait.slot < c->waiter_cap) {
        waiter *w = &c->waiters_slab[wait.slot];
        if (w->state == W_QUEUED && w->generation == wait.generation && !w->sync) {
            admit_rq_waiter_deny(c, wait.slot, ADMIT_REQ_DENY_CANCELLATION, now);
            cancelled = true;
        }
    }
    admit_rq_unlock_and_flush(c);
    return cancelled;
}

bool admit_request_admission_acquire_sync(admit_request_admission *c,
                                          const admit_request_item *item,
                                          admit_request_cancel_token *token,
                                          admit_request_lease *lease,
                                          admit_request_denied *denied) {
    int64_t now = admit_rq_begin(c);
    uint32_t group, slot;
    admit_request_deny_reason why = ADMIT_REQ_DENY_HARD_POLICY;
    *lease = (admit_request_lease){0};
    /* Blocking needs the mutex and condition variables of thread_safe. */
    if (token && token->cancelled) {
        why = ADMIT_REQ_DENY_CANCELLATION;
    } else if (item_valid(c, item, &group)) {
        why = acquire_now(c, item, group, true, now, lease);
        if (why == ADMIT_REQ_DENY_NONE) {
            admit_rq_unlock_and_flush(c);
            return true;
        }
        if (why != ADMIT_REQ_DENY_SHUTDOWN)
            why = !c->locking                                    ? ADMIT_REQ_DENY_HARD_POLICY
                  : admit_rq_enqueue(c, item, group, now, &slot) ? ADMIT_REQ_DENY_NONE
                                                                 : ADMIT_REQ_DENY_NO_CAPACITY;
    }
    if (why != ADMIT_REQ_DENY_NONE) {
        deny_event(c, item, why, now, denied);
        admit_rq_unlock_and_flush(c);
        return false;
    }
    return admit_rq_wait_sync(c, slot, item->resource, token, lease, denied);
}

admit_release_reason admit_request_admission_release(admit_request_admission *c,
                                                     admit_request_lease lease,
                                                     admit_request_outcome outcome) {
    int64_t now = admit_rq_begin(c);
    admit_release_reason why = classify(c, lease);
    c->stats.release_reasons[why]++;
    if (why != ADMIT_RELEASE_RELEASED) {
        /* Only a duplicate still owns its slot; the others name no resource. */
        uint32_t r = why == ADMIT_RELEASE_DUPLICATE ? c->leases[lease.slot].resource : NO_RESOURCE;
        admit_rq_event(c, ADMIT_REV_REQUEST_RELEASE_DIAGNOSTIC, now, r, NULL, lease.lease_id,
                       (int32_t)why, 0);
        admit_rq_unlock_and_flush(c);
        return why;
    }
    if ((unsigned)outcome.kind >= ADMIT_REQ_OUTCOME_COUNT)
        outcome.kind = ADMIT_REQ_UNEXPECTED_EXCEPTION;
    lease_rec *l = &c->leases[lease.slot];
    uint32_t r = l->resource, pm = c->resource_pm[r];
    l->live = false;
    c->in_flight[r]--;
    c->pm_in_flight[pm]--;
    c->stats.leases_active--;
    c->stats.outcomes[outcome.kind]++;
    c->rs[r].released++;
    c->rs[r].outcomes[outcome.kind]++;
    admit_rq_aimd_outcome(c, r, l, outcome, now);
    if (outcome.kind == ADMIT_REQ_RATE_LIMITED) admit_rq_rearm_sync_waiters(c, r);
    admit_rq_event(c, ADMIT_REV_REQUEST_LEASE_RELEASED, now, r, &l->ctx, l->lease_id,
                   (int32_t)outcome.kind, c->in_flight[r]);
    lease_free(c, lease.slot);
    if (admit_rq_has_waiters(c, pm)) {
        admit_rq_pump(c, pm, now);
        if (outcome.kind == ADMIT_REQ_RATE_LIMITED) admit_rq_schedule_wake(c, now);
    }
    admit_rq_unlock_and_flush(c);
    return why;
}

void admit_request_admission_tick(admit_request_admission *c) {
    int64_t now = admit_rq_begin_expired(c);
    if (c->wake_requested_ns <= now) c->wake_requested_ns = -1;
    for (uint32_t r = 0; r < c->resource_count; r++)
        admit_rq_ramp_update(c, r, now);
    admit_rq_catch_up(c, now);
    admit_rq_schedule_wake(c, now);
    admit_rq_unlock_and_flush(c);
}

/* shutdown, reset and destroy end every waiter: they time out the due ones
** and admit none (no catching up), so no lease starts as the work stops. */
void admit_request_admission_shutdown(admit_request_admission *c) {
    int64_t now = admit_rq_begin_expired(c);
    c->shutdown = true;
    admit_rq_deny_all(c, ADMIT_REQ_DENY_SHUTDOWN, now);
    admit_rq_unlock_and_flush(c);
}

void admit_request_admission_reset(admit_request_admission *c) {
    int64_t now = admit_rq_begin_expired(c);
    admit_rq_deny_all(c, ADMIT_REQ_DENY_SHUTDOWN, now);
    drop_leases(c);
    c->generation++;
    c->shutdown = false;
    admit_rq_unlock_and_flush(c);
}

void admit_request_admission_set_max_limit_clamp(admit_request_admission *c, uint32_t resource,
                                                 uint32_t clamp) {
    if (resource >= c->resource_count) return;
    int64_t now = admit_rq_begin(c);
    uint32_t pm = c->resource_pm[resource];
    admit_rq_ramp_update(c, resource, now); /* the clamp applies to the limit as of now */
    if (admit_rq_set_clamp(c, resource, clamp, now) && admit_rq_has_waiters(c, pm))
        admit_rq_pump(c, pm, now);
    admit_rq_unlock_and_flush(c);
}

int64_t admit_request_admission_now(const admit_request_admission *c) {
    return now_of(c);
}

const admit_request_pressure *admit_request_admission_pressure(const admit_request_admission *c) {
    return &c->pressure;
}

uint32_t admit_request_pressure_limit(const admit_request_pressure *p, uint32_t resource,
                                      int64_t now_ns) {
    if (resource >= p->resource_count) return 0;
    uint32_t limit = p->current_limit[resource];
    if (p->ramping && p->ramping[resource]) { /* a step due by now_ns that no call applied yet */
        uint32_t ramp = admit_rq_ramp_limit(
            p->initial_limit[resource], now_ns - p->ramp_start_ns[resource], p->startup_ramp_ns);
        if (ramp > limit) limit = ramp;
    }
    return limit < p->effective_max[resource] ? limit : p->effective_max[resource];
}

bool admit_request_pressure_is_pressured(const admit_request_pressure *p, uint32_t resource,
                                         int64_t now_ns) {
    if (resource >= p->resource_count) return false;
    uint32_t pm = p->resource_pm[resource];
    return p->pm_in_flight[pm] >= p->pm_cap[pm] || now_ns < p->blocked_until_ns[resource] ||
           p->waiters[resource] > 0 ||
           p->in_flight[resource] >= admit_request_pressure_limit(p, resource, now_ns);
}

void admit_request_admission_snapshot(admit_request_admission *c, uint32_t resource,
                                      admit_request_resource_snapshot *out) {
    memset(out, 0, sizeof *out);
    if (resource >= c->resource_count) return;
    lock(c);
    admit_rq_ramp_update(c, resource, now_of(c));
    const resource_state *s = &c->rs[resource];
    uint32_t pm = c->resource_pm[resource];
    *out = (admit_request_resource_snapshot){
        .in_flight = c->in_flight[resource],
        .current_limit = c->current[resource],
        .effective_max = c->effective_max[resource],
        .initial_limit = c->initial[resource],
        .min_limit = s->min_limit,
        .max_in_flight = s->max_in_flight,
        .waiters = c->waiters[resource],
        .max_waiters = s->max_waiters,
        .pm_in_flight = c->pm_in_flight[pm],
        .pm_cap = c->pm_cap[pm],
        .pm_max_in_flight = c->pm_max_in_flight[pm],
        .rate_limit_ceiling = s->ceiling,
        .consecutive_rate_limits = s->consecutive_rl,
        .ramping = c->ramping[resource],
        .blocked_until_ns =
            c->blocked_until[resource] == INT64_MIN ? -1 : c->blocked_until[resource],
        .cooldown_total_ns = s->cooldown_total_ns,
        .leases = s->leases,
        .released = s->released,
        .limit_decreases = s->decreases,
        .limit_increases = s->increases};
    memcpy(out->outcomes, s->outcomes, sizeof out->outcomes);
    memcpy(out->denied, s->denied, sizeof out->denied);
    admit_rq_unlock_and_flush(c);
}

void admit_request_admission_stats_get(admit_request_admission *c,
                                       admit_request_admission_stats *out) {
    lock(c);
    *out = c->stats;
    unlock(c);
}

const char *admit_request_outcome_name(admit_request_outcome_kind k) {
    static const char *names[] = {
        "success",         "rate_limited",  "provider_failure",    "provider_timeout",
        "local_cancelled", "local_timeout", "unexpected_exception"};
    return (unsigned)k < ADMIT_REQ_OUTCOME_COUNT ? names[k] : "unknown";
}

const char *admit_request_deny_reason_name(admit_request_deny_reason r) {
    static const char *names[] = {"none",          "no_capacity",          "cooldown",
                                  "queue_timeout", "queued_waiters_ahead", "cancellation",
                                  "shutdown",      "hard_policy_denial"};
    return (unsigned)r < ADMIT_REQ_DENY_REASON_COUNT ? names[r] : "unknown";
}
