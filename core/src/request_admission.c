/*
** AdaptiveRequestAdmissionController (see request_admission.h).
**
** Layout: per-resource hot counters live in parallel arrays that double as
** the read-only pressure view; waiters and leases live in slabs with free
** lists, so steady state allocates nothing.  Waiters of a group form an
** intrusive FIFO; the groups of one provider/model with waiters form that
** provider/model's active set, scanned in (finish tag, head age) order.
**
** Every public operation follows one shape: lock, mutate, queue events and
** completions, then deliver them with the lock dropped (flush).  Only one
** thread delivers at a time, so the sink sees events in sequence order, and
** a completion that re-enters the controller only queues more work for the
** delivery loop that is already running.
*/
#include "admit/request_admission.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admit/heap.h"
#include "wfq.h"

#define NIL         UINT32_MAX
#define NO_RESOURCE UINT32_MAX /* events that belong to no resource: resource -1 */

/* a + b for b >= 0, saturating at INT64_MAX (huge retry_after, cooldowns or
** queue timeouts mean "practically never", not a wrapped-around past). */
static int64_t add_sat(int64_t a, int64_t b) {
    return b > 0 && a > INT64_MAX - b ? INT64_MAX : a + b;
}

enum { W_FREE = 0, W_QUEUED, W_GRANTED, W_DENIED };

typedef struct waiter {
    uint32_t generation;
    uint8_t state;
    bool sync;
    uint32_t group;
    uint32_t prev, next; /* group FIFO; next doubles as the free-list link */
    uint64_t seq;        /* enqueue order: older waiters have smaller seq */
    int64_t deadline_ns; /* < 0: none */
    admit_request_context ctx;
    admit_request_completion_fn fn;
    void *fn_ctx;
    admit_request_result result;
    pthread_cond_t *cond;
    admit_request_cancel_token *token;
} waiter;

typedef struct lease_rec {
    uint64_t lease_id;
    uint32_t resource;
    uint32_t admitted_limit;
    bool live;
    uint32_t next_free;
    admit_request_context ctx;
} lease_rec;

typedef struct rgroup {
    uint32_t resource;
    uint32_t pm;
    uint32_t local; /* the group's id in its provider/model's wfq */
    double weight;
    uint32_t head, tail, count;
} rgroup;

typedef struct resource_state {
    uint32_t initial_limit;
    uint32_t clamp;
    uint32_t min_limit;
    uint32_t max_in_flight;
    uint32_t max_waiters;
    uint32_t ceiling; /* soft ceiling remembered at the first rate limit; 0: none */
    uint32_t streak;
    uint32_t consecutive_rl;
    bool ramping;
    int64_t ramp_start_ns;
    int64_t cooldown_total_ns;
    uint64_t leases, released, decreases, increases;
    uint64_t outcomes[ADMIT_REQ_OUTCOME_COUNT];
    uint64_t denied[ADMIT_REQ_DENY_REASON_COUNT];
} resource_state;

typedef struct pm_state {
    admit_wfq wfq;      /* its groups: ADMIT_WFQ_REQUEST, tiebreak = the head's seq */
    uint32_t *group_of; /* [wfq group id]: the controller's group id */
    uint32_t group_cap;
    uint32_t *resources; /* its request resources, ascending */
    uint32_t resource_count;
} pm_state;

typedef struct done_item {
    admit_request_completion_fn fn;
    void *ctx;
    admit_request_result result;
} done_item;

struct admit_request_admission {
    admit_request_admission_config cfg;
    pthread_mutex_t mu;
    bool locking;
    uint32_t resource_count, pm_count;
    /* pressure view storage */
    uint32_t *resource_pm, *in_flight, *current, *effective_max, *waiters;
    int64_t *blocked_until;
    uint32_t *pm_in_flight, *pm_cap, *pm_waiters, *pm_max_in_flight;
    admit_request_pressure pressure;
    resource_state *rs;
    pm_state *pms;
    rgroup *groups;
    uint32_t group_count, group_cap;
    waiter *waiters_slab;
    uint32_t waiter_cap, free_waiter;
    lease_rec *leases;
    uint32_t lease_cap, free_lease;
    uint64_t next_lease_id;
    uint32_t generation;
    uint64_t next_seq;
    admit_heap deadlines; /* key deadline, tiebreak 0, tag waiter slot, aux its generation */
    int64_t wake_requested_ns;
    bool shutdown;
    /* delivery */
    admit_event *events, *deliver_events;
    uint32_t event_count, event_cap, deliver_cap;
    uint32_t done_head, done_tail; /* waiters whose completion is due, FIFO */
    bool flushing;
    pthread_t flusher; /* the delivering thread while flushing (thread_safe only) */
    uint64_t next_event_seq;
    admit_request_admission_stats stats;
};

static void lock(admit_request_admission *c) {
    if (c->locking) pthread_mutex_lock(&c->mu);
}

static void unlock(admit_request_admission *c) {
    if (c->locking) pthread_mutex_unlock(&c->mu);
}

static int64_t monotonic_now(void *ctx) {
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t now_of(const admit_request_admission *c) {
    return c->cfg.now(c->cfg.clock_ctx);
}

static bool grow_array(void **arr, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap) return true;
    uint32_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, (size_t)n * elem);
    if (!p) return false;
    *arr = p;
    *cap = n;
    return true;
}

static void waiter_free(admit_request_admission *c, uint32_t slot);

/* ---- events and delivery ------------------------------------------------ */

static void push_event(admit_request_admission *c, admit_request_event_kind kind, int64_t now,
                       uint32_t resource, const admit_request_context *ctx, uint64_t lease_id,
                       int32_t reason, int64_t value) {
    c->stats.events_emitted++;
    if (!c->cfg.sink.fn) return;
    /* Without room the event is dropped rather than failing the caller; the
    ** sequence gap shows the loss. */
    if (!grow_array((void **)&c->events, &c->event_cap, c->event_count + 1, sizeof *c->events)) {
        c->next_event_seq++;
        return;
    }
    admit_event *ev = &c->events[c->event_count++];
    memset(ev, 0, sizeof *ev);
    ev->sequence = c->next_event_seq++;
    ev->captured_at_ns = now;
    ev->stream = ADMIT_STREAM_REQUEST;
    ev->kind = (uint16_t)kind;
    ev->reason = reason;
    ev->resource = resource == NO_RESOURCE ? -1 : (int32_t)resource;
    ev->lease_id = lease_id;
    ev->value = value;
    if (ctx) {
        ev->corr = ctx->corr;
        ev->task_id = ctx->task_id;
        ev->attempt_id = ctx->attempt_id;
    } else {
        ev->corr = (admit_correlation){.run_id = c->cfg.run_id,
                                       .row_group = -1,
                                       .column = -1,
                                       .task_type = -1,
                                       .group = -1,
                                       .group_kind = -1};
    }
    if (!ev->corr.run_id) ev->corr.run_id = c->cfg.run_id;
}

/* Completion delivery depth of this thread (any controller): a thread that
** is already running completions only queues more for its outer loop. */
static _Thread_local int tl_completion_depth;

static void pop_completions(admit_request_admission *c, done_item *batch, uint32_t max,
                            uint32_t *nd) {
    *nd = 0;
    while (c->done_head != NIL && *nd < max) {
        uint32_t slot = c->done_head;
        waiter *w = &c->waiters_slab[slot];
        c->done_head = w->next;
        batch[(*nd)++] = (done_item){.fn = w->fn, .ctx = w->fn_ctx, .result = w->result};
        waiter_free(c, slot);
    }
    if (c->done_head == NIL) c->done_tail = NIL;
}

/* Called with the lock held; returns with it released.  Delivers queued
** events, then completions (whose records are freed as they are copied out),
** until both are empty.  Events go out from one thread at a time, in
** sequence order; while another thread is delivering events, a caller
** delivers the completions due so far itself, so a completion never waits
** behind other threads' event traffic. */
static void unlock_and_flush(admit_request_admission *c) {
    done_item batch[32];
    uint32_t nd;
    if (c->flushing) {
        if (c->locking && !pthread_equal(c->flusher, pthread_self()) && tl_completion_depth == 0) {
            tl_completion_depth++;
            while (c->done_head != NIL) {
                pop_completions(c, batch, 32, &nd);
                unlock(c);
                for (uint32_t i = 0; i < nd; i++)
                    batch[i].fn(batch[i].ctx, &batch[i].result);
                lock(c);
            }
            tl_completion_depth--;
        }
        unlock(c);
        return;
    }
    if (c->event_count == 0 && c->done_head == NIL) {
        unlock(c);
        return;
    }
    c->flushing = true;
    if (c->locking) c->flusher = pthread_self();
    tl_completion_depth++;
    while (c->event_count || c->done_head != NIL) {
        /* Swap the pending events out so producers keep appending. */
        admit_event *evs = c->events;
        uint32_t nev = c->event_count, evcap = c->event_cap;
        c->events = c->deliver_events;
        c->event_cap = c->deliver_cap;
        c->event_count = 0;
        c->deliver_events = evs;
        c->deliver_cap = evcap;
        pop_completions(c, batch, 32, &nd);
        unlock(c);
        for (uint32_t i = 0; i < nev; i++)
            c->cfg.sink.fn(c->cfg.sink.ctx, &evs[i]);
        for (uint32_t i = 0; i < nd; i++)
            batch[i].fn(batch[i].ctx, &batch[i].result);
        lock(c);
    }
    tl_completion_depth--;
    c->flushing = false;
    unlock(c);
}

/* ---- AIMD ------------------------------------------------------------- */

static uint32_t admit_limit(const admit_request_admission *c, uint32_t r) {
    return c->current[r] < c->effective_max[r] ? c->current[r] : c->effective_max[r];
}

static void set_limit(admit_request_admission *c, uint32_t r, uint32_t limit, int64_t now,
                      admit_request_event_kind kind) {
    if (limit == c->current[r]) return;
    c->current[r] = limit;
    if (limit < c->rs[r].min_limit) c->rs[r].min_limit = limit;
    if (kind == ADMIT_REV_REQUEST_LIMIT_DECREASED)
        c->rs[r].decreases++;
    else
        c->rs[r].increases++;
    push_event(c, kind, now, r, NULL, 0, -1, limit);
}

static void ramp_update(admit_request_admission *c, uint32_t r, int64_t now) {
    resource_state *s = &c->rs[r];
    if (!s->ramping) return;
    int64_t elapsed = now - s->ramp_start_ns;
    int64_t ramp = c->cfg.aimd.startup_ramp_ns;
    uint32_t limit;
    if (elapsed >= ramp) {
        limit = s->initial_limit;
        s->ramping = false;
    } else {
        limit =
            1 + (uint32_t)((int64_t)(s->initial_limit - 1) * (elapsed < 0 ? 0 : elapsed) / ramp);
    }
    if (limit > c->current[r]) set_limit(c, r, limit, now, ADMIT_REV_REQUEST_LIMIT_INCREASED);
}

/* When the ramp next raises r's limit; -1 if it is not ramping. */
static int64_t ramp_next_ns(const admit_request_admission *c, uint32_t r) {
    const resource_state *s = &c->rs[r];
    if (!s->ramping) return -1;
    int64_t ramp = c->cfg.aimd.startup_ramp_ns, span = (int64_t)s->initial_limit - 1;
    if (span <= 0) return -1;
    int64_t k = (int64_t)c->current[r]; /* reach current + 1 */
    return s->ramp_start_ns + (k * ramp + span - 1) / span;
}

static void on_rate_limited(admit_request_admission *c, uint32_t r, const lease_rec *l,
                            int64_t retry_after, int64_t now) {
    resource_state *s = &c->rs[r];
    int64_t until = add_sat(now, retry_after > 0 ? retry_after : c->cfg.aimd.cooldown_ns);
    int64_t old = c->blocked_until[r];
    if (until > old) {
        s->cooldown_total_ns = add_sat(s->cooldown_total_ns, until - (old > now ? old : now));
        c->blocked_until[r] = until;
    }
    /* value: how long the resource now cools (a longer cooldown already in
    ** force wins), so a timeline can shade the interval from the event alone */
    push_event(c, ADMIT_REV_REQUEST_RATE_LIMITED, now, r, &l->ctx, l->lease_id,
               ADMIT_REQ_RATE_LIMITED, c->blocked_until[r] - now);
    s->ramping = false; /* a rate limit aborts the ramp */
    if (l->admitted_limit <= c->current[r]) {
        uint32_t before = c->current[r];
        uint32_t after = (uint32_t)floor((double)before * c->cfg.aimd.md_factor);
        if (after < 1) after = 1;
        if (!s->ceiling) s->ceiling = before;
        set_limit(c, r, after, now, ADMIT_REV_REQUEST_LIMIT_DECREASED);
    }
    s->streak = 0;
    s->consecutive_rl++;
}

/* A sync waiter sleeps until its own deadline or the cooldown end / ramp
** step it saw when it went to sleep, and otherwise until signalled.  A new
** cooldown on its resource must wake it to re-arm that timed wait, or it
** sleeps past the cooldown end when nothing else is in flight. */
static void rearm_sync_waiters(admit_request_admission *c, uint32_t r) {
    if (!c->locking || !c->waiters[r]) return;
    for (uint32_t g = 0; g < c->group_count; g++) {
        if (c->groups[g].resource != r) continue;
        for (uint32_t s = c->groups[g].head; s != NIL; s = c->waiters_slab[s].next)
            if (c->waiters_slab[s].sync) pthread_cond_signal(c->waiters_slab[s].cond);
    }
}

static void on_success(admit_request_admission *c, uint32_t r, int64_t now) {
    resource_state *s = &c->rs[r];
    s->consecutive_rl = 0;
    if (s->ramping || now < c->blocked_until[r]) return;
    if (++s->streak < c->cfg.aimd.successes_until_increase) return;
    s->streak = 0;
    uint32_t emax = c->effective_max[r];
    if (c->current[r] >= emax) return;
    uint64_t next = (uint64_t)c->current[r] + c->cfg.aimd.ai_step;
    set_limit(c, r, next > emax ? emax : (uint32_t)next, now, ADMIT_REV_REQUEST_LIMIT_INCREASED);
    if (s->ceiling && c->current[r] > s->ceiling) {
        push_event(c, ADMIT_REV_REQUEST_SOFT_CEILING_RECOVERED, now, r, NULL, 0, -1, c->current[r]);
        s->ceiling = 0;
    }
    if (c->current[r] == emax) {
        push_event(c, ADMIT_REV_REQUEST_FULLY_RECOVERED, now, r, NULL, 0, -1, c->current[r]);
        s->ceiling = 0;
    }
}

/* ---- admission -------------------------------------------------------- */

static bool resource_open(const admit_request_admission *c, uint32_t r, int64_t now) {
    return c->in_flight[r] < admit_limit(c, r) && now >= c->blocked_until[r];
}

static bool pm_open(const admit_request_admission *c, uint32_t pm) {
    return c->pm_in_flight[pm] < c->pm_cap[pm];
}

static admit_request_deny_reason immediate_denial(const admit_request_admission *c, uint32_t r,
                                                  int64_t now) {
    if (c->shutdown) return ADMIT_REQ_DENY_SHUTDOWN;
    if (c->waiters[r]) return ADMIT_REQ_DENY_QUEUED_WAITERS_AHEAD;
    if (now < c->blocked_until[r]) return ADMIT_REQ_DENY_COOLDOWN;
    if (!pm_open(c, c->resource_pm[r]) || c->in_flight[r] >= admit_limit(c, r))
        return ADMIT_REQ_DENY_NO_CAPACITY;
    return ADMIT_REQ_DENY_NONE;
}

static bool alloc_lease(admit_request_admission *c, uint32_t *slot) {
    if (c->free_lease == NIL) {
        uint32_t old = c->lease_cap;
        if (!grow_array((void **)&c->leases, &c->lease_cap, old + 1, sizeof *c->leases))
            return false;
        for (uint32_t i = old; i < c->lease_cap; i++) {
            c->leases[i] = (lease_rec){.next_free = i + 1 < c->lease_cap ? i + 1 : NIL};
        }
        c->free_lease = old;
    }
    *slot = c->free_lease;
    c->free_lease = c->leases[*slot].next_free;
    return true;
}

/* Takes capacity for r and fills *out; false only when out of memory. */
static bool grant(admit_request_admission *c, uint32_t r, const admit_request_context *ctx,
                  admit_request_lease *out) {
    uint32_t slot;
    if (!alloc_lease(c, &slot)) return false;
    lease_rec *l = &c->leases[slot];
    l->lease_id = c->next_lease_id++;
    l->resource = r;
    l->admitted_limit = admit_limit(c, r);
    l->live = true;
    l->ctx = *ctx;
    uint32_t pm = c->resource_pm[r];
    if (++c->in_flight[r] > c->rs[r].max_in_flight) c->rs[r].max_in_flight = c->in_flight[r];
    if (++c->pm_in_flight[pm] > c->pm_max_in_flight[pm])
        c->pm_max_in_flight[pm] = c->pm_in_flight[pm];
    c->rs[r].leases++;
    c->stats.leases_acquired++;
    c->stats.leases_active++;
    *out =
        (admit_request_lease){.lease_id = l->lease_id, .slot = slot, .generation = c->generation};
    return true;
}

/* request_lease_acquired follows request_wait_completed of the same attempt. */
static void lease_acquired_event(admit_request_admission *c, uint32_t r,
                                 const admit_request_context *ctx, int64_t now, uint64_t lease_id) {
    push_event(c, ADMIT_REV_REQUEST_LEASE_ACQUIRED, now, r, ctx, lease_id, -1, c->in_flight[r]);
}

/* RequestAdmissionDenied for a denial on r at now: while r cools down, when
** the cooldown ends (available_after) and how long it has left (retry_after);
** otherwise -1 for both.  r may be NO_RESOURCE. */
static admit_request_denied denial_of(const admit_request_admission *c, uint32_t r,
                                      admit_request_deny_reason why, int64_t now) {
    bool cooling = r < c->resource_count && c->blocked_until[r] > now;
    return (admit_request_denied){.reason = why,
                                  .retry_after_ns = cooling ? c->blocked_until[r] - now : -1,
                                  .available_after_ns = cooling ? c->blocked_until[r] : -1};
}

static void count_denial(admit_request_admission *c, uint32_t r, admit_request_deny_reason why) {
    c->stats.denied[why]++;
    if (r < c->resource_count) c->rs[r].denied[why]++;
}

/* ---- the fair queue of waiters ---------------------------------------- */

static pm_state *pm_of(admit_request_admission *c, const rgroup *gr) {
    return &c->pms[gr->pm];
}

/* g (with waiters) joins its provider/model's fair order; on equal tags the
** group whose head waited longest goes first. */
static void pm_activate(admit_request_admission *c, uint32_t g) {
    rgroup *gr = &c->groups[g];
    admit_wfq_activate(&pm_of(c, gr)->wfq, gr->local, c->waiters_slab[gr->head].seq);
}

/* Takes a waiter out of its group's FIFO and the counts (not the fair order). */
static void fifo_unlink(admit_request_admission *c, uint32_t slot) {
    waiter *w = &c->waiters_slab[slot];
    rgroup *gr = &c->groups[w->group];
    if (w->prev != NIL)
        c->waiters_slab[w->prev].next = w->next;
    else
        gr->head = w->next;
    if (w->next != NIL)
        c->waiters_slab[w->next].prev = w->prev;
    else
        gr->tail = w->prev;
    gr->count--;
    c->waiters[gr->resource]--;
    c->pm_waiters[gr->pm]--;
    c->stats.waiters_queued--;
}

/* A waiter leaves unserved (timeout, cancellation, shutdown): its group
** leaves the fair order when empty, or is re-tied when its head changed. */
static void waiter_unlink(admit_request_admission *c, uint32_t slot) {
    waiter *w = &c->waiters_slab[slot];
    rgroup *gr = &c->groups[w->group];
    bool was_head = w->prev == NIL;
    fifo_unlink(c, slot);
    admit_wfq *q = &pm_of(c, gr)->wfq;
    if (gr->count == 0)
        admit_wfq_deactivate(q, gr->local);
    else if (was_head)
        admit_wfq_retie(q, gr->local, c->waiters_slab[gr->head].seq);
}

static void waiter_free(admit_request_admission *c, uint32_t slot) {
    waiter *w = &c->waiters_slab[slot];
    w->state = W_FREE;
    w->generation++;
    w->next = c->free_waiter;
    c->free_waiter = slot;
}

static void drained_check(admit_request_admission *c, uint32_t r, int64_t now) {
    if (c->waiters[r] == 0) push_event(c, ADMIT_REV_REQUEST_QUEUE_DRAINED, now, r, NULL, 0, -1, 0);
}

/* Ends a queued waiter's wait: with a lease (granted) or a denial. */
static void waiter_finish(admit_request_admission *c, uint32_t slot, bool admitted,
                          const admit_request_lease *lease, admit_request_deny_reason why,
                          int64_t now) {
    waiter *w = &c->waiters_slab[slot];
    w->result.admitted = admitted;
    w->result.wait_completed_ns = now;
    if (admitted) {
        w->result.lease = *lease;
    } else {
        uint32_t r = c->groups[w->group].resource;
        w->result.denied = denial_of(c, r, why, now);
        count_denial(c, r, why);
    }
    if (w->sync) {
        w->state = admitted ? W_GRANTED : W_DENIED;
        pthread_cond_signal(w->cond);
        return; /* the waiting thread frees its record */
    }
    /* The record waits in the completion list until delivered. */
    w->state = admitted ? W_GRANTED : W_DENIED;
    w->next = NIL;
    if (c->done_tail != NIL)
        c->waiters_slab[c->done_tail].next = slot;
    else
        c->done_head = slot;
    c->done_tail = slot;
}

/* Takes a queued waiter out with a denial (timeout, cancellation,
** shutdown): its event, the drained check, then its completion. */
static void waiter_deny(admit_request_admission *c, uint32_t slot, admit_request_deny_reason why,
                        int64_t now) {
    waiter *w = &c->waiters_slab[slot];
    uint32_t r = c->groups[w->group].resource;
    waiter_unlink(c, slot);
    push_event(c,
               why == ADMIT_REQ_DENY_QUEUE_TIMEOUT ? ADMIT_REV_REQUEST_WAIT_TIMEOUT
                                                   : ADMIT_REV_REQUEST_WAIT_CANCELLED,
               now, r, &w->ctx, 0, (int32_t)why, now - w->result.wait_started_ns);
    drained_check(c, r, now);
    waiter_finish(c, slot, false, NULL, why, now);
}

/* The first group of pm, in fair order, whose resource admits now; NIL if
** none.  Every resource of pm with waiters is first brought up to date with
** its startup ramp, in resource order (as tick does), so a ramp step that is
** due counts even before its tick. */
static uint32_t pump_select(admit_request_admission *c, uint32_t pm, int64_t now) {
    const pm_state *p = &c->pms[pm];
    for (uint32_t i = 0; i < p->resource_count; i++)
        if (c->waiters[p->resources[i]]) ramp_update(c, p->resources[i], now);
    for (uint32_t i = 0; i < admit_wfq_active_count(&p->wfq); i++) {
        uint32_t g = p->group_of[admit_wfq_active_at(&p->wfq, i)];
        if (resource_open(c, c->groups[g].resource, now)) return g;
    }
    return NIL;
}

/* Admits waiters of pm while capacity allows, in fair order.  Returns how
** many were admitted. */
static uint32_t pump(admit_request_admission *c, uint32_t pm, int64_t now) {
    pm_state *p = &c->pms[pm];
    uint32_t admitted = 0;
    while (admit_wfq_active_count(&p->wfq) && pm_open(c, pm) && !c->shutdown) {
        uint32_t best = pump_select(c, pm, now);
        if (best == NIL) break;
        rgroup *gr = &c->groups[best];
        uint32_t slot = gr->head;
        waiter *w = &c->waiters_slab[slot];
        admit_request_lease lease;
        if (!grant(c, gr->resource, &w->ctx, &lease)) break;
        admit_wfq_commit(&p->wfq, gr->local, gr->weight);
        fifo_unlink(c, slot);
        if (gr->count) pm_activate(c, best); /* with the new tag, behind its new head */
        push_event(c, ADMIT_REV_REQUEST_WAIT_COMPLETED, now, gr->resource, &w->ctx, lease.lease_id,
                   -1, now - w->result.wait_started_ns);
        lease_acquired_event(c, gr->resource, &w->ctx, now, lease.lease_id);
        drained_check(c, gr->resource, now);
        waiter_finish(c, slot, true, &lease, ADMIT_REQ_DENY_NONE, now);
        admitted++;
    }
    return admitted;
}

/* Queue-wait deadlines.  Every deadline has tiebreak 0, so equal deadlines
** expire in the heap's own order (what this list always did). */
static void deadline_push(admit_request_admission *c, int64_t at, uint32_t slot) {
    admit_heap_entry e = {.key = at, .tag = slot, .aux = c->waiters_slab[slot].generation};
    admit_heap_push(&c->deadlines, e); /* cannot fail: reserved in enqueue() */
}

static bool deadline_live(const admit_request_admission *c, const admit_heap_entry *d) {
    const waiter *w = &c->waiters_slab[d->tag];
    return w->state == W_QUEUED && w->generation == d->aux;
}

/* Times out every queued waiter (async or sync) whose deadline is <= now. */
static void expire_due(admit_request_admission *c, int64_t now) {
    while (admit_heap_count(&c->deadlines) && admit_heap_top(&c->deadlines)->key <= now) {
        admit_heap_entry d = *admit_heap_top(&c->deadlines);
        admit_heap_drop(&c->deadlines);
        if (deadline_live(c, &d)) waiter_deny(c, d.tag, ADMIT_REQ_DENY_QUEUE_TIMEOUT, now);
    }
}

/* Every operation that admits, queues or denies starts here: lock, read the
** clock, then expire due waiters.  So no path (a release or an acquire that
** runs before the tick of a deadline, a cancel, a clamp change) ever admits
** or queues behind a waiter whose deadline has passed: at now >= deadline a
** waiter has timed out. */
static int64_t begin(admit_request_admission *c) {
    lock(c);
    int64_t now = now_of(c);
    if (admit_heap_count(&c->deadlines) && admit_heap_top(&c->deadlines)->key <= now)
        expire_due(c, now);
    return now;
}

/* Asks the driver for a tick at the earliest instant something queued can
** change without a release: a queue deadline, a cooldown end, a ramp step. */
static void schedule_wake(admit_request_admission *c, int64_t now) {
    if (!c->cfg.wake_at) return;
    int64_t at = -1;
    const admit_heap_entry *top;
    /* drop deadlines of waiters already admitted, timed out or cancelled */
    while ((top = admit_heap_top(&c->deadlines)) && !deadline_live(c, top))
        admit_heap_drop(&c->deadlines);
    if (top) at = top->key;
    for (uint32_t r = 0; r < c->resource_count; r++) {
        if (!c->waiters[r]) continue;
        int64_t t = c->blocked_until[r] > now ? c->blocked_until[r] : ramp_next_ns(c, r);
        if (t >= 0 && (at < 0 || t < at)) at = t;
    }
    if (at < 0) return;
    if (at < now) at = now;
    /* A pending earlier request will reschedule when it fires. */
    if (c->wake_requested_ns >= now && c->wake_requested_ns <= at) return;
    c->wake_requested_ns = at;
    c->cfg.wake_at(c->cfg.wake_ctx, at);
}

/* ---- public API ------------------------------------------------------- */

void admit_aimd_config_init(admit_aimd_config *cfg) {
    *cfg = (admit_aimd_config){.md_factor = 0.75,
                               .ai_step = 1,
                               .successes_until_increase = 25,
                               .cooldown_ns = 2000000000LL,
                               .startup_ramp_ns = 0};
}

void admit_request_admission_config_init(admit_request_admission_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    admit_aimd_config_init(&cfg->aimd);
    cfg->waiter_capacity = 64;
}

#define MAX_LIMIT   100000
#define MAX_RAMP_NS 3600000000000LL

static admit_status check_config(const admit_request_admission_config *cfg, admit_error *err) {
    const admit_aimd_config *a = &cfg->aimd;
    if (!cfg->resolver)
        return admit_error_set(err, ADMIT_EINVAL, "request admission needs a request resolver");
    if (!(a->md_factor > 0 && a->md_factor < 1))
        return admit_error_set(err, ADMIT_EINVAL, "md_factor must be in (0, 1), got %g",
                               a->md_factor);
    if (a->ai_step < 1 || a->successes_until_increase < 1)
        return admit_error_set(err, ADMIT_EINVAL,
                               "ai_step and successes_until_increase must be >= 1");
    if (a->cooldown_ns <= 0) return admit_error_set(err, ADMIT_EINVAL, "cooldown must be > 0");
    if (a->startup_ramp_ns < 0 || a->startup_ramp_ns > MAX_RAMP_NS)
        return admit_error_set(err, ADMIT_EINVAL, "startup ramp must be in [0, 3600] seconds");
    uint32_t n = admit_request_resolver_resource_count(cfg->resolver);
    for (uint32_t pm = 0; pm < admit_request_resolver_pm_count(cfg->resolver); pm++)
        if (admit_request_resolver_pm_cap(cfg->resolver, pm) > MAX_LIMIT)
            return admit_error_set(err, ADMIT_EINVAL, "%s: static cap above %d",
                                   admit_request_resolver_pm_key(cfg->resolver, pm), MAX_LIMIT);
    for (uint32_t r = 0; cfg->limits && r < n; r++)
        if (cfg->limits[r].initial_limit > MAX_LIMIT || cfg->limits[r].max_limit_clamp > MAX_LIMIT)
            return admit_error_set(err, ADMIT_EINVAL, "%s: limits above %d",
                                   admit_request_resolver_resource_key(cfg->resolver, r),
                                   MAX_LIMIT);
    return ADMIT_OK;
}

static bool pm_add_resource(pm_state *p, uint32_t r) {
    uint32_t *a = realloc(p->resources, (p->resource_count + 1) * sizeof *a);
    if (!a) return false;
    a[p->resource_count++] = r;
    p->resources = a;
    return true;
}

static uint32_t compute_effective_max(uint32_t cap, uint32_t clamp) {
    uint32_t e = clamp && clamp < cap ? clamp : cap;
    return e < 1 ? 1 : e;
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
    c->rs = calloc(nn, sizeof *c->rs);
    c->pm_in_flight = calloc(np, sizeof *c->pm_in_flight);
    c->pm_cap = calloc(np, sizeof *c->pm_cap);
    c->pm_waiters = calloc(np, sizeof *c->pm_waiters);
    c->pm_max_in_flight = calloc(np, sizeof *c->pm_max_in_flight);
    c->pms = calloc(np, sizeof *c->pms);
    if (!c->resource_pm || !c->in_flight || !c->current || !c->effective_max || !c->waiters ||
        !c->blocked_until || !c->rs || !c->pm_in_flight || !c->pm_cap || !c->pm_waiters ||
        !c->pm_max_in_flight || !c->pms)
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
                                           .pm_waiters = c->pm_waiters};
    for (uint32_t pm = 0; pm < npm; pm++) {
        c->pm_cap[pm] = admit_request_resolver_pm_cap(rr, pm);
        if (!admit_wfq_init(&c->pms[pm].wfq, 0, ADMIT_WFQ_REQUEST)) goto oom;
    }
    int64_t now = now_of(c);
    c->next_lease_id = 1;
    c->free_lease = NIL;
    c->free_waiter = NIL;
    c->done_head = c->done_tail = NIL;
    c->wake_requested_ns = -1;
    c->generation = 1;
    c->next_seq = 1;
    c->next_event_seq = 1; /* like the scheduler stream: sequences start at 1 */
    for (uint32_t r = 0; r < n; r++) {
        uint32_t pm = admit_request_resolver_resource_pm(rr, r);
        resource_state *s = &c->rs[r];
        c->resource_pm[r] = pm;
        if (!pm_add_resource(&c->pms[pm], r)) goto oom;
        s->clamp = cfg->limits ? cfg->limits[r].max_limit_clamp : 0;
        c->effective_max[r] = compute_effective_max(c->pm_cap[pm], s->clamp);
        uint32_t init = cfg->limits ? cfg->limits[r].initial_limit : 0;
        if (init == 0 || init > c->effective_max[r]) init = c->effective_max[r];
        s->initial_limit = init;
        s->ramping = cfg->aimd.startup_ramp_ns > 0 && init > 1;
        s->ramp_start_ns = now;
        c->current[r] = s->ramping ? 1 : init;
        s->min_limit = c->current[r];
        c->blocked_until[r] = INT64_MIN;
        push_event(c, ADMIT_REV_REQUEST_RESOURCE_REGISTERED, now, r, NULL, 0, -1,
                   c->effective_max[r]);
        /* group r: the resource's own, weight 1 */
        if (admit_request_admission_add_group(c, r, 1, err) < 0) {
            admit_request_admission_destroy(c);
            return NULL;
        }
    }
    uint32_t want = cfg->waiter_capacity ? cfg->waiter_capacity : 64;
    c->waiters_slab = calloc(want, sizeof *c->waiters_slab);
    if (!c->waiters_slab) goto oom;
    c->waiter_cap = want;
    for (uint32_t i = 0; i < want; i++)
        c->waiters_slab[i].next = i + 1 < want ? i + 1 : NIL;
    c->free_waiter = 0;
    lock(c);
    unlock_and_flush(c);
    return c;
oom:
    admit_request_admission_destroy(c);
    admit_error_set(err, ADMIT_ENOMEM, "out of memory creating request admission");
    return NULL;
}

int admit_request_admission_add_group(admit_request_admission *c, uint32_t resource, int weight,
                                      admit_error *err) {
    if (resource >= c->resource_count || weight < 1) {
        admit_error_set(err, ADMIT_EINVAL, "request group needs a known resource and weight >= 1");
        return -1;
    }
    lock(c);
    uint32_t pm = c->resource_pm[resource];
    pm_state *p = &c->pms[pm];
    uint32_t local = p->wfq.group_count;
    bool ok =
        grow_array((void **)&c->groups, &c->group_cap, c->group_count + 1, sizeof *c->groups) &&
        grow_array((void **)&p->group_of, &p->group_cap, local + 1, sizeof *p->group_of) &&
        admit_wfq_add_group(&p->wfq, &local);
    int id = -1;
    if (ok) {
        id = (int)c->group_count++;
        p->group_of[local] = (uint32_t)id;
        c->groups[id] = (rgroup){.resource = resource,
                                 .pm = pm,
                                 .local = local,
                                 .weight = (double)weight,
                                 .head = NIL,
                                 .tail = NIL};
    }
    unlock(c);
    if (!ok) admit_error_set(err, ADMIT_ENOMEM, "out of memory adding a request group");
    return id;
}

static void deny_all_waiters(admit_request_admission *c, admit_request_deny_reason why,
                             int64_t now) {
    for (uint32_t g = 0; g < c->group_count; g++) {
        rgroup *gr = &c->groups[g];
        while (gr->head != NIL) {
            waiter_deny(c, gr->head, why, now);
        }
    }
}

void admit_request_admission_destroy(admit_request_admission *c) {
    if (!c) return;
    if (c->waiters_slab) {
        int64_t now = begin(c);
        c->shutdown = true;
        deny_all_waiters(c, ADMIT_REQ_DENY_SHUTDOWN, now);
        unlock_and_flush(c);
    }
    for (uint32_t pm = 0; pm < c->pm_count && c->pms; pm++) {
        admit_wfq_free(&c->pms[pm].wfq);
        free(c->pms[pm].group_of);
        free(c->pms[pm].resources);
    }
    free(c->resource_pm);
    free(c->in_flight);
    free(c->current);
    free(c->effective_max);
    free(c->waiters);
    free(c->blocked_until);
    free(c->rs);
    free(c->pm_in_flight);
    free(c->pm_cap);
    free(c->pm_waiters);
    free(c->pm_max_in_flight);
    free(c->pms);
    free(c->groups);
    free(c->waiters_slab);
    free(c->leases);
    admit_heap_free(&c->deadlines);
    free(c->events);
    free(c->deliver_events);
    if (c->locking) pthread_mutex_destroy(&c->mu);
    free(c);
}

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

/* Immediate path shared by every acquire: denial reason, or a lease with
** the zero-wait pair of events. */
static admit_request_deny_reason acquire_now(admit_request_admission *c,
                                             const admit_request_item *item, uint32_t group,
                                             bool emit_wait, int64_t now,
                                             admit_request_lease *lease) {
    uint32_t r = item->resource;
    ramp_update(c, r, now);
    admit_request_deny_reason why = immediate_denial(c, r, now);
    if (why != ADMIT_REQ_DENY_NONE) return why;
    if (emit_wait) push_event(c, ADMIT_REV_REQUEST_WAIT_STARTED, now, r, &item->ctx, 0, -1, 0);
    if (!grant(c, r, &item->ctx, lease)) return ADMIT_REQ_DENY_NO_CAPACITY;
    /* Fair-queue accounting: an immediate admission is a commit too. */
    rgroup *gr = &c->groups[group];
    admit_wfq_charge(&pm_of(c, gr)->wfq, gr->local, gr->weight);
    if (emit_wait)
        push_event(c, ADMIT_REV_REQUEST_WAIT_COMPLETED, now, r, &item->ctx, lease->lease_id, -1, 0);
    lease_acquired_event(c, r, &item->ctx, now, lease->lease_id);
    return ADMIT_REQ_DENY_NONE;
}

static void deny_event(admit_request_admission *c, const admit_request_item *item,
                       admit_request_deny_reason why, int64_t now, admit_request_denied *out) {
    uint32_t r = item->resource < c->resource_count ? item->resource : NO_RESOURCE;
    count_denial(c, item->resource, why);
    push_event(c, ADMIT_REV_REQUEST_ACQUIRE_DENIED, now, r, &item->ctx, 0, (int32_t)why, 0);
    if (out) *out = denial_of(c, r, why, now);
}

bool admit_request_admission_try_acquire(admit_request_admission *c, const admit_request_item *item,
                                         admit_request_lease *lease, admit_request_denied *denied) {
    int64_t now = begin(c);
    uint32_t group;
    admit_request_deny_reason why = item_valid(c, item, &group)
                                        ? acquire_now(c, item, group, false, now, lease)
                                        : ADMIT_REQ_DENY_HARD_POLICY;
    if (why != ADMIT_REQ_DENY_NONE) {
        deny_event(c, item, why, now, denied);
        *lease = (admit_request_lease){0};
    }
    unlock_and_flush(c);
    return why == ADMIT_REQ_DENY_NONE;
}

static bool alloc_waiter(admit_request_admission *c, uint32_t *slot) {
    if (c->free_waiter == NIL) {
        uint32_t old = c->waiter_cap;
        if (!grow_array((void **)&c->waiters_slab, &c->waiter_cap, old + 1,
                        sizeof *c->waiters_slab))
            return false;
        for (uint32_t i = old; i < c->waiter_cap; i++)
            c->waiters_slab[i] = (waiter){.next = i + 1 < c->waiter_cap ? i + 1 : NIL};
        c->free_waiter = old;
    }
    *slot = c->free_waiter;
    c->free_waiter = c->waiters_slab[*slot].next;
    return true;
}

/* Queues a waiter behind the others of its group.  false: out of memory. */
static bool enqueue(admit_request_admission *c, const admit_request_item *item, uint32_t group,
                    int64_t now, uint32_t *slot_out) {
    uint32_t slot;
    int64_t timeout = item->queue_wait_timeout_ns == ADMIT_REQ_TIMEOUT_DEFAULT
                          ? c->cfg.queue_wait_timeout_ns
                          : item->queue_wait_timeout_ns;
    if ((timeout > 0 && !admit_heap_reserve(&c->deadlines, 1)) || !alloc_waiter(c, &slot))
        return false;
    waiter *w = &c->waiters_slab[slot];
    rgroup *gr = &c->groups[group];
    w->state = W_QUEUED;
    w->group = group;
    w->seq = c->next_seq++;
    w->ctx = item->ctx;
    w->deadline_ns = timeout > 0 ? add_sat(now, timeout) : -1;
    w->result = (admit_request_result){.wait_started_ns = now, .wait_completed_ns = -1};
    w->prev = gr->tail;
    w->next = NIL;
    w->cond = NULL;
    w->token = NULL;
    w->sync = false;
    if (gr->tail != NIL)
        c->waiters_slab[gr->tail].next = slot;
    else
        gr->head = slot;
    gr->tail = slot;
    if (gr->count++ == 0) pm_activate(c, group);
    if (w->deadline_ns >= 0) deadline_push(c, w->deadline_ns, slot);
    uint32_t r = gr->resource;
    if (++c->waiters[r] > c->rs[r].max_waiters) c->rs[r].max_waiters = c->waiters[r];
    c->pm_waiters[gr->pm]++;
    c->stats.waiters_queued++;
    push_event(c, ADMIT_REV_REQUEST_WAIT_STARTED, now, r, &item->ctx, 0, -1, c->waiters[r]);
    if (c->waiters[r] == 1)
        push_event(c, ADMIT_REV_REQUEST_QUEUE_FORMED, now, r, &item->ctx, 0, -1, 1);
    *slot_out = slot;
    return true;
}

admit_request_acquire_status
admit_request_admission_acquire_async(admit_request_admission *c, const admit_request_item *item,
                                      admit_request_completion_fn completion, void *completion_ctx,
                                      admit_request_result *result, admit_request_wait *wait) {
    int64_t now = begin(c);
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
            unlock_and_flush(c);
            return ADMIT_REQ_ADMITTED;
        }
        uint32_t slot;
        if (why != ADMIT_REQ_DENY_SHUTDOWN && completion && enqueue(c, item, group, now, &slot)) {
            waiter *w = &c->waiters_slab[slot];
            w->fn = completion;
            w->fn_ctx = completion_ctx;
            if (wait) *wait = (admit_request_wait){.slot = slot, .generation = w->generation};
            schedule_wake(c, now);
            unlock_and_flush(c);
            return ADMIT_REQ_QUEUED;
        }
        if (why != ADMIT_REQ_DENY_SHUTDOWN) why = ADMIT_REQ_DENY_NO_CAPACITY;
    }
    deny_event(c, item, why, now, &result->denied);
    unlock_and_flush(c);
    return ADMIT_REQ_DENIED;
}

bool admit_request_admission_cancel(admit_request_admission *c, admit_request_wait wait) {
    int64_t now = begin(c);
    bool cancelled = false;
    if (wait.slot < c->waiter_cap) {
        waiter *w = &c->waiters_slab[wait.slot];
        if (w->state == W_QUEUED && w->generation == wait.generation && !w->sync) {
            waiter_deny(c, wait.slot, ADMIT_REQ_DENY_CANCELLATION, now);
            cancelled = true;
        }
    }
    unlock_and_flush(c);
    return cancelled;
}

static struct timespec to_timespec(int64_t ns) {
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000LL),
                             .tv_nsec = (long)(ns % 1000000000LL)};
}

/* Admissions for every provider/model (due deadlines are expired first, in
** begin()). */
static void pump_all(admit_request_admission *c, int64_t now) {
    for (uint32_t pm = 0; pm < c->pm_count; pm++)
        if (admit_wfq_active_count(&c->pms[pm].wfq)) pump(c, pm, now);
}

bool admit_request_admission_acquire_sync(admit_request_admission *c,
                                          const admit_request_item *item,
                                          admit_request_cancel_token *token,
                                          admit_request_lease *lease,
                                          admit_request_denied *denied) {
    int64_t now = begin(c);
    uint32_t group, slot;
    admit_request_deny_reason why = ADMIT_REQ_DENY_HARD_POLICY;
    *lease = (admit_request_lease){0};
    /* Blocking needs the mutex and condition variables of thread_safe. */
    if (token && token->cancelled) {
        why = ADMIT_REQ_DENY_CANCELLATION;
    } else if (item_valid(c, item, &group)) {
        why = acquire_now(c, item, group, true, now, lease);
        if (why == ADMIT_REQ_DENY_NONE) {
            unlock_and_flush(c);
            return true;
        }
        if (why != ADMIT_REQ_DENY_SHUTDOWN)
            why = !c->locking                           ? ADMIT_REQ_DENY_HARD_POLICY
                  : enqueue(c, item, group, now, &slot) ? ADMIT_REQ_DENY_NONE
                                                        : ADMIT_REQ_DENY_NO_CAPACITY;
    }
    if (why != ADMIT_REQ_DENY_NONE) {
        deny_event(c, item, why, now, denied);
        unlock_and_flush(c);
        return false;
    }
    pthread_cond_t cond;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cond, &attr);
    pthread_condattr_destroy(&attr);
    waiter *w = &c->waiters_slab[slot];
    w->sync = true;
    w->cond = &cond;
    w->token = token;
    uint32_t r = item->resource;
    for (;;) {
        w = &c->waiters_slab[slot]; /* the slab may move while we sleep */
        if (w->state != W_QUEUED) break;
        now = now_of(c);
        if (token && token->cancelled) {
            waiter_deny(c, slot, ADMIT_REQ_DENY_CANCELLATION, now);
            break;
        }
        expire_due(c, now); /* this waiter's own deadline and everyone else's */
        if (w->state != W_QUEUED) break;
        /* Cooldown ends and ramp steps are nobody else's to notice. */
        pump(c, c->resource_pm[r], now);
        if (w->state != W_QUEUED) break;
        if (!c->flushing && (c->event_count || c->done_head != NIL)) {
            /* Others admitted by this pump must hear of it before we sleep
            ** (a delivery already running will pick it up instead). */
            unlock_and_flush(c);
            lock(c);
            continue;
        }
        int64_t at = w->deadline_ns;
        int64_t t = c->blocked_until[r] > now ? c->blocked_until[r] : ramp_next_ns(c, r);
        if (t >= 0 && (at < 0 || t < at)) at = t;
        if (at < 0) {
            pthread_cond_wait(&cond, &c->mu);
        } else {
            struct timespec ts = to_timespec(at);
            pthread_cond_timedwait(&cond, &c->mu, &ts);
        }
    }
    w = &c->waiters_slab[slot];
    bool admitted = w->state == W_GRANTED;
    if (admitted)
        *lease = w->result.lease;
    else if (denied)
        *denied = w->result.denied;
    waiter_free(c, slot);
    unlock_and_flush(c);
    pthread_cond_destroy(&cond);
    return admitted;
}

void admit_request_admission_cancel_token(admit_request_admission *c,
                                          admit_request_cancel_token *token) {
    lock(c);
    token->cancelled = 1;
    for (uint32_t i = 0; i < c->waiter_cap; i++) {
        waiter *w = &c->waiters_slab[i];
        if (w->state == W_QUEUED && w->sync && w->token == token) pthread_cond_signal(w->cond);
    }
    unlock(c);
}

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

admit_release_reason admit_request_admission_release(admit_request_admission *c,
                                                     admit_request_lease lease,
                                                     admit_request_outcome outcome) {
    int64_t now = begin(c);
    admit_release_reason why = classify(c, lease);
    c->stats.release_reasons[why]++;
    if (why != ADMIT_RELEASE_RELEASED) {
        /* Only a duplicate still owns its slot; the others name no resource. */
        uint32_t r = why == ADMIT_RELEASE_DUPLICATE ? c->leases[lease.slot].resource : NO_RESOURCE;
        push_event(c, ADMIT_REV_REQUEST_RELEASE_DIAGNOSTIC, now, r, NULL, lease.lease_id,
                   (int32_t)why, 0);
        unlock_and_flush(c);
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
    ramp_update(c, r, now);
    if (outcome.kind == ADMIT_REQ_RATE_LIMITED) {
        on_rate_limited(c, r, l, outcome.retry_after_ns, now);
        rearm_sync_waiters(c, r);
    } else if (outcome.kind == ADMIT_REQ_SUCCESS) {
        on_success(c, r, now);
    }
    push_event(c, ADMIT_REV_REQUEST_LEASE_RELEASED, now, r, &l->ctx, l->lease_id,
               (int32_t)outcome.kind, c->in_flight[r]);
    l->next_free = c->free_lease;
    c->free_lease = lease.slot;
    if (admit_wfq_active_count(&c->pms[pm].wfq)) {
        pump(c, pm, now);
        if (outcome.kind == ADMIT_REQ_RATE_LIMITED) schedule_wake(c, now);
    }
    unlock_and_flush(c);
    return why;
}

void admit_request_admission_tick(admit_request_admission *c) {
    int64_t now = begin(c);
    if (c->wake_requested_ns <= now) c->wake_requested_ns = -1;
    for (uint32_t r = 0; r < c->resource_count; r++)
        ramp_update(c, r, now);
    pump_all(c, now);
    schedule_wake(c, now);
    unlock_and_flush(c);
}

void admit_request_admission_shutdown(admit_request_admission *c) {
    int64_t now = begin(c);
    c->shutdown = true;
    deny_all_waiters(c, ADMIT_REQ_DENY_SHUTDOWN, now);
    unlock_and_flush(c);
}

void admit_request_admission_reset(admit_request_admission *c) {
    int64_t now = begin(c);
    deny_all_waiters(c, ADMIT_REQ_DENY_SHUTDOWN, now);
    for (uint32_t i = 0; i < c->lease_cap; i++)
        if (c->leases[i].live) {
            c->leases[i].live = false;
            c->leases[i].next_free = c->free_lease;
            c->free_lease = i;
        }
    memset(c->in_flight, 0, c->resource_count * sizeof *c->in_flight);
    memset(c->pm_in_flight, 0, c->pm_count * sizeof *c->pm_in_flight);
    c->stats.leases_active = 0;
    c->generation++;
    c->shutdown = false;
    unlock_and_flush(c);
}

void admit_request_admission_set_max_limit_clamp(admit_request_admission *c, uint32_t resource,
                                                 uint32_t clamp) {
    if (resource >= c->resource_count) return;
    int64_t now = begin(c);
    resource_state *s = &c->rs[resource];
    uint32_t pm = c->resource_pm[resource];
    s->clamp = clamp;
    uint32_t emax = compute_effective_max(c->pm_cap[pm], clamp);
    if (emax != c->effective_max[resource]) {
        c->effective_max[resource] = emax;
        push_event(c, ADMIT_REV_REQUEST_EFFECTIVE_CAP_CHANGED, now, resource, NULL, 0, -1, emax);
        if (c->current[resource] > emax)
            set_limit(c, resource, emax, now, ADMIT_REV_REQUEST_LIMIT_DECREASED);
        if (s->initial_limit > emax) s->initial_limit = emax;
        if (s->initial_limit <= 1) s->ramping = false; /* nothing left to ramp to */
        if (admit_wfq_active_count(&c->pms[pm].wfq)) pump(c, pm, now);
    }
    unlock_and_flush(c);
}

int64_t admit_request_admission_now(const admit_request_admission *c) {
    return now_of(c);
}

void admit_request_admission_emit(admit_request_admission *c, admit_request_event_kind kind,
                                  uint32_t resource, const admit_request_context *ctx,
                                  uint64_t lease_id, int32_t reason, int64_t value) {
    lock(c);
    push_event(c, kind, now_of(c), resource, ctx, lease_id, reason, value);
    unlock_and_flush(c);
}

const admit_request_pressure *admit_request_admission_pressure(const admit_request_admission *c) {
    return &c->pressure;
}

bool admit_request_pressure_is_pressured(const admit_request_pressure *p, uint32_t resource,
                                         int64_t now_ns) {
    if (resource >= p->resource_count) return false;
    uint32_t pm = p->resource_pm[resource];
    uint32_t limit = p->current_limit[resource] < p->effective_max[resource]
                         ? p->current_limit[resource]
                         : p->effective_max[resource];
    return p->pm_in_flight[pm] >= p->pm_cap[pm] || now_ns < p->blocked_until_ns[resource] ||
           p->waiters[resource] > 0 || p->in_flight[resource] >= limit;
}

void admit_request_admission_snapshot(admit_request_admission *c, uint32_t resource,
                                      admit_request_resource_snapshot *out) {
    memset(out, 0, sizeof *out);
    if (resource >= c->resource_count) return;
    lock(c);
    ramp_update(c, resource, now_of(c));
    const resource_state *s = &c->rs[resource];
    uint32_t pm = c->resource_pm[resource];
    *out = (admit_request_resource_snapshot){
        .in_flight = c->in_flight[resource],
        .current_limit = c->current[resource],
        .effective_max = c->effective_max[resource],
        .initial_limit = s->initial_limit,
        .min_limit = s->min_limit,
        .max_in_flight = s->max_in_flight,
        .waiters = c->waiters[resource],
        .max_waiters = s->max_waiters,
        .pm_in_flight = c->pm_in_flight[pm],
        .pm_cap = c->pm_cap[pm],
        .pm_max_in_flight = c->pm_max_in_flight[pm],
        .rate_limit_ceiling = s->ceiling,
        .consecutive_rate_limits = s->consecutive_rl,
        .ramping = s->ramping,
        .blocked_until_ns =
            c->blocked_until[resource] == INT64_MIN ? -1 : c->blocked_until[resource],
        .cooldown_total_ns = s->cooldown_total_ns,
        .leases = s->leases,
        .released = s->released,
        .limit_decreases = s->decreases,
        .limit_increases = s->increases};
    memcpy(out->outcomes, s->outcomes, sizeof out->outcomes);
    memcpy(out->denied, s->denied, sizeof out->denied);
    unlock_and_flush(c);
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
