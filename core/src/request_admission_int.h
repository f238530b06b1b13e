/*
** AdaptiveRequestAdmissionController: the state the request_*.c files share
** (the public contract is admit/request_admission.h).  One concern a file:
**
**   request_admission.c  the public calls: create/destroy, acquire (try,
**                        async, sync's immediate path), cancel, release,
**                        tick, shutdown, reset, clamp, snapshots;
**   request_aimd.c       AdaptiveRequestLimitState per resource: effective
**                        max, startup ramp, decrease on rate limits, additive
**                        increase, cooldowns;
**   request_queue.c      the waiters: slab, per-group FIFOs, the fair order
**                        across the groups of a provider/model (wfq.h),
**                        admission of waiters (pump), denials, queue-wait
**                        deadlines (admit/heap.h) and the wake_at requests;
**   request_sync.c       acquire_sync's blocking wait and cancel tokens;
**   request_events.c     the event queue and delivery of events and
**                        completions with the lock dropped.
** request_admission.c also keeps the lease slab, which only acquire and
** release touch.  The fast paths every acquire and release take (no sink,
** no ramp, a success that does not yet raise the limit) are inline below,
** so splitting the files costs no calls on them.
**
** Locking.  With cfg.thread_safe, mu guards every field of the controller
** except cfg (read-only after create) and pressure (its pointers are
** fixed).  Every public call takes mu (admit_rq_begin or lock), changes
** state, queues events and completions, and leaves through
** admit_rq_unlock_and_flush, which delivers them with mu released: sinks
** and completions never run under mu.  Only one thread delivers events at a
** time (flushing, flusher), so the sink sees them in sequence order; a
** completion that calls back into the controller only queues more work for
** the delivery loop already running.  acquire_sync sleeps on its own
** condition variable with mu released.  Without thread_safe one thread
** drives the controller and lock/unlock do nothing.  The pressure arrays
** (in_flight, current, ...) are also read without mu, by the ProviderAware
** policy on the thread that drives a non-thread-safe controller.
**
** Catching up.  Time alone changes what may be admitted: a deadline
** passes, a cooldown ends, a startup ramp step comes.  The tick that
** wake_at asked for applies them, but any call may come first, so every
** call (admit_rq_begin) first does what that tick would: it times out due
** waiters and, once due_ns has passed, applies due ramp steps of resources
** with waiters and admits waiters in fair order (admit_rq_catch_up).  Only
** then does it decide.  Resources without waiters bring their ramp up to
** date when a call touches them; the pressure view computes it.  shutdown,
** reset and destroy end every waiter: they only time out the due ones
** (admit_rq_begin_expired) and admit none.
**
** Invariants, between public calls:
**   - in_flight[r] is the number of live leases of r; pm_in_flight[pm] the
**     sum over pm's resources; stats.leases_active the sum of all.  A lease
**     is granted only while r is open (in_flight[r] < min(current[r],
**     effective_max[r]), now >= blocked_until[r]) and pm_in_flight[pm] <
**     pm_cap[pm]; a decrease may leave in_flight above the limit.
**   - A waiter slot is in exactly one place: the free list (W_FREE), one
**     group's FIFO (W_QUEUED), the completion list done_head..done_tail
**     (async, W_GRANTED or W_DENIED, until delivered), or its sync thread's
**     hands (sync, W_GRANTED or W_DENIED, freed by that thread).  A slot's
**     generation changes when it is freed, so stale handles and deadline
**     records are recognised.
**   - waiters[r] counts the W_QUEUED waiters of r's groups; pm_waiters[pm]
**     and stats.waiters_queued likewise.
**   - A group is active in its provider/model's wfq exactly when its FIFO
**     is not empty, and its tiebreak is the seq of its head waiter.
**   - Every queued waiter with a deadline has a record in deadlines; no
**     queued waiter's deadline is <= the now read by the last
**     admit_rq_begin (it times out first).
**   - due_ns is at or before the first instant at which a cooldown end or a
**     ramp step of a resource with waiters comes (INT64_MAX: none is
**     ahead), so no queued waiter could be admitted at the now read by the
**     last admit_rq_begin: when due, it was admitted first.
**   - A waiter slot's generation is never 0, so a zero-filled wait handle
**     names no waiter.
**   - Leases ids only grow; a released lease's slot goes back to the free
**     list; reset() bumps generation, so older leases are recognised.
**   - events[0..event_count) are queued events in sequence order.
*/
#ifndef ADMIT_REQUEST_ADMISSION_INT_H
#define ADMIT_REQUEST_ADMISSION_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "admit/heap.h"
#include "admit/request_admission.h"
#include "wfq.h"

#define NIL         UINT32_MAX
#define NO_RESOURCE UINT32_MAX /* events that belong to no resource: resource -1 */

enum { W_FREE = 0, W_QUEUED, W_GRANTED, W_DENIED };

typedef struct waiter {
    uint32_t generation;
    uint8_t state;
    bool sync;
    uint32_t group;
    uint32_t prev, next; /* group FIFO; next doubles as the free-list and completion-list link */
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

/* AdaptiveRequestLimitState beyond the pressure arrays (initial, ramping
** and ramp_start are pressure arrays too: the view computes the ramp). */
typedef struct resource_state {
    uint32_t clamp;
    uint32_t min_limit;
    uint32_t max_in_flight;
    uint32_t max_waiters;
    uint32_t ceiling; /* soft ceiling remembered at the first rate limit; 0: none */
    uint32_t streak;
    uint32_t consecutive_rl;
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

struct admit_request_admission {
    admit_request_admission_config cfg;
    pthread_mutex_t mu;
    bool locking;
    uint32_t resource_count, pm_count;
    /* pressure view storage: [resource] and [pm] */
    uint32_t *resource_pm, *in_flight, *current, *effective_max, *waiters, *initial;
    int64_t *blocked_until, *ramp_start;
    bool *ramping;
    uint32_t *pm_in_flight, *pm_cap, *pm_waiters, *pm_max_in_flight;
    admit_request_pressure pressure;
    resource_state *rs;
    /* the waiter queue (request_queue.c) */
    pm_state *pms;
    rgroup *groups;
    uint32_t group_count, group_cap;
    waiter *waiters_slab;
    uint32_t waiter_cap, free_waiter;
    uint64_t next_seq;
    admit_heap deadlines; /* key deadline, tiebreak 0, tag waiter slot, aux its generation */
    int64_t due_ns;       /* catch up at or after this instant (see Catching up) */
    int64_t wake_requested_ns;
    bool shutdown;
    /* the lease slab (request_lease.c) */
    lease_rec *leases;
    uint32_t lease_cap, free_lease;
    uint64_t next_lease_id;
    uint32_t generation;
    /* delivery (request_events.c) */
    admit_event *events, *deliver_events;
    uint32_t event_count, event_cap, deliver_cap;
    uint32_t done_head, done_tail; /* waiters whose completion is due, FIFO */
    bool flushing;
    pthread_t flusher; /* the delivering thread while flushing (thread_safe only) */
    uint64_t next_event_seq;
    admit_request_admission_stats stats;
};

/* ---- small shared helpers ------------------------------------------------ */

static inline void lock(admit_request_admission *c) {
    if (c->locking) pthread_mutex_lock(&c->mu);
}

static inline void unlock(admit_request_admission *c) {
    if (c->locking) pthread_mutex_unlock(&c->mu);
}

static inline int64_t now_of(const admit_request_admission *c) {
    return c->cfg.now(c->cfg.clock_ctx);
}

/* a + b for b >= 0, saturating at INT64_MAX (huge retry_after, cooldowns or
** queue timeouts mean "practically never", not a wrapped-around past). */
static inline int64_t add_sat(int64_t a, int64_t b) {
    return b > 0 && a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* Grows *arr (of elem-sized items, capacity *cap) to hold need; false: out
** of memory, *arr unchanged. */
bool admit_rq_grow(void **arr, uint32_t *cap, uint32_t need, size_t elem);

/* The limit admissions of r are held to: min(current, effective max). */
static inline uint32_t admit_rq_limit(const admit_request_admission *c, uint32_t r) {
    return c->current[r] < c->effective_max[r] ? c->current[r] : c->effective_max[r];
}

static inline bool admit_rq_resource_open(const admit_request_admission *c, uint32_t r,
                                          int64_t now) {
    return c->in_flight[r] < admit_rq_limit(c, r) && now >= c->blocked_until[r];
}

static inline bool admit_rq_pm_open(const admit_request_admission *c, uint32_t pm) {
    return c->pm_in_flight[pm] < c->pm_cap[pm];
}

/* ---- request_events.c ------------------------------------------------------ */

void admit_rq_event_push(admit_request_admission *c, admit_request_event_kind kind, int64_t now,
                         uint32_t resource, const admit_request_context *ctx, uint64_t lease_id,
                         int32_t reason, int64_t value);

/* Queues one request-stream event (delivered by admit_rq_unlock_and_flush);
** without a sink it is only counted.  resource may be NO_RESOURCE; ctx
** NULL: the run's correlation only. */
static inline void admit_rq_event(admit_request_admission *c, admit_request_event_kind kind,
                                  int64_t now, uint32_t resource, const admit_request_context *ctx,
                                  uint64_t lease_id, int32_t reason, int64_t value) {
    c->stats.events_emitted++;
    if (c->cfg.sink.fn) admit_rq_event_push(c, kind, now, resource, ctx, lease_id, reason, value);
}
/* Called with mu held; returns with it released, after delivering the queued
** events and completions (see Locking). */
void admit_rq_unlock_and_flush(admit_request_admission *c);

/* ---- request_aimd.c -------------------------------------------------------- */

/* The AIMD part of the configuration's validation. */
admit_status admit_rq_check_aimd(const admit_aimd_config *a, admit_error *err);
uint32_t admit_rq_effective_max(uint32_t cap, uint32_t clamp);
/* Sets up resource r's limit state from its static cap and limits (NULL:
** defaults) at now. */
void admit_rq_aimd_init(admit_request_admission *c, uint32_t r,
                        const admit_request_resource_limits *limits, int64_t now);
/* The startup ramp's limit elapsed ns after it started (SPEC §4): 1 +
** floor((initial - 1) * elapsed / ramp), initial once elapsed >= ramp. */
static inline uint32_t admit_rq_ramp_limit(uint32_t initial, int64_t elapsed, int64_t ramp) {
    if (ramp <= 0 || elapsed >= ramp || initial <= 1) return initial;
    return 1 + (uint32_t)((int64_t)(initial - 1) * (elapsed < 0 ? 0 : elapsed) / ramp);
}
void admit_rq_ramp_step(admit_request_admission *c, uint32_t r, int64_t now);
/* Brings r's startup ramp up to now (may raise its limit). */
static inline void admit_rq_ramp_update(admit_request_admission *c, uint32_t r, int64_t now) {
    if (c->ramping[r]) admit_rq_ramp_step(c, r, now);
}
/* When the ramp next raises r's limit; -1 if it is not ramping. */
int64_t admit_rq_ramp_next_ns(const admit_request_admission *c, uint32_t r);
/* When r may open without a release: its cooldown end, else its next ramp
** step; -1 if neither is ahead of now. */
static inline int64_t admit_rq_opening(const admit_request_admission *c, uint32_t r, int64_t now) {
    if (c->blocked_until[r] > now) return c->blocked_until[r];
    return c->ramping[r] ? admit_rq_ramp_next_ns(c, r) : -1;
}
void admit_rq_on_rate_limited(admit_request_admission *c, uint32_t r, const lease_rec *l,
                              int64_t retry_after, int64_t now);
void admit_rq_increase(admit_request_admission *c, uint32_t r, int64_t now);

/* A success outside cooldown and after the ramp: every
** successes_until_increase of them raise the limit (admit_rq_increase). */
static inline void admit_rq_on_success(admit_request_admission *c, uint32_t r, int64_t now) {
    resource_state *s = &c->rs[r];
    s->consecutive_rl = 0;
    if (c->ramping[r] || now < c->blocked_until[r]) return;
    if (++s->streak < c->cfg.aimd.successes_until_increase) return;
    s->streak = 0;
    admit_rq_increase(c, r, now);
}

/* The outcome of a released lease l of r feeds AIMD. */
static inline void admit_rq_aimd_outcome(admit_request_admission *c, uint32_t r, const lease_rec *l,
                                         admit_request_outcome outcome, int64_t now) {
    admit_rq_ramp_update(c, r, now);
    if (outcome.kind == ADMIT_REQ_RATE_LIMITED)
        admit_rq_on_rate_limited(c, r, l, outcome.retry_after_ns, now);
    else if (outcome.kind == ADMIT_REQ_SUCCESS)
        admit_rq_on_success(c, r, now);
}
/* Sets r's max_limit_clamp; true when its effective max moved. */
bool admit_rq_set_clamp(admit_request_admission *c, uint32_t r, uint32_t clamp, int64_t now);

/* ---- the lease and waiter slabs ---------------------------------------------
** Inline here, below every file that takes a lease or frees a waiter record,
** so the files of request admission call each other in one direction only:
** request_admission.c -> request_sync.c -> request_queue.c -> request_aimd.c
** -> request_events.c. */

static inline bool admit_rq_alloc_lease(admit_request_admission *c, uint32_t *slot) {
    if (c->free_lease == NIL) {
        uint32_t old = c->lease_cap;
        if (!admit_rq_grow((void **)&c->leases, &c->lease_cap, old + 1, sizeof *c->leases))
            return false;
        for (uint32_t i = old; i < c->lease_cap; i++)
            c->leases[i] = (lease_rec){.next_free = i + 1 < c->lease_cap ? i + 1 : NIL};
        c->free_lease = old;
    }
    *slot = c->free_lease;
    c->free_lease = c->leases[*slot].next_free;
    return true;
}

/* Takes capacity for r and fills *out; false only when out of memory. */
static inline bool admit_rq_grant(admit_request_admission *c, uint32_t r,
                                  const admit_request_context *ctx, admit_request_lease *out) {
    uint32_t slot;
    if (!admit_rq_alloc_lease(c, &slot)) return false;
    lease_rec *l = &c->leases[slot];
    l->lease_id = c->next_lease_id++;
    l->resource = r;
    l->admitted_limit = admit_rq_limit(c, r);
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

/* Returns a waiter record to the free list (a new generation voids old
** handles; 0 is skipped: it names no waiter). */
static inline void admit_rq_waiter_free(admit_request_admission *c, uint32_t slot) {
    waiter *w = &c->waiters_slab[slot];
    w->state = W_FREE;
    if (++w->generation == 0) w->generation = 1;
    w->next = c->free_waiter;
    c->free_waiter = slot;
}

/* request_lease_acquired follows request_wait_completed of the same attempt. */
static inline void admit_rq_lease_event(admit_request_admission *c, uint32_t r,
                                        const admit_request_context *ctx, int64_t now,
                                        uint64_t lease_id) {
    admit_rq_event(c, ADMIT_REV_REQUEST_LEASE_ACQUIRED, now, r, ctx, lease_id, -1, c->in_flight[r]);
}

/* ---- request_queue.c ------------------------------------------------------- */

/* Per provider/model queue state, set up once at create. */
bool admit_rq_pm_init(admit_request_admission *c, uint32_t pm);
bool admit_rq_pm_add_resource(admit_request_admission *c, uint32_t pm, uint32_t r);
bool admit_rq_waiters_init(admit_request_admission *c, uint32_t capacity);
void admit_rq_queue_free(admit_request_admission *c);
/* A request group on resource r; its id, or -1 when out of memory. */
int admit_rq_add_group(admit_request_admission *c, uint32_t r, int weight);
/* Fair-queue accounting of an admission that never queued. */
static inline void admit_rq_charge(admit_request_admission *c, uint32_t group) {
    const rgroup *gr = &c->groups[group];
    admit_wfq_charge(&c->pms[gr->pm].wfq, gr->local, gr->weight);
}

/* Queues a waiter behind the others of its group; false: out of memory. */
bool admit_rq_enqueue(admit_request_admission *c, const admit_request_item *item, uint32_t group,
                      int64_t now, uint32_t *slot_out);
/* Takes a queued waiter out with a denial (timeout, cancellation, shutdown). */
void admit_rq_waiter_deny(admit_request_admission *c, uint32_t slot, admit_request_deny_reason why,
                          int64_t now);
void admit_rq_deny_all(admit_request_admission *c, admit_request_deny_reason why, int64_t now);
/* Admits waiters of pm while capacity allows, in fair order; how many. */
uint32_t admit_rq_pump(admit_request_admission *c, uint32_t pm, int64_t now);
void admit_rq_pump_all(admit_request_admission *c, int64_t now);
/* Times out every queued waiter whose deadline is <= now. */
void admit_rq_expire_due(admit_request_admission *c, int64_t now);
/* The first instant after now at which a resource with waiters may open
** without a release (its cooldown end, else its next ramp step);
** INT64_MAX if none. */
int64_t admit_rq_next_opening(const admit_request_admission *c, int64_t now);
/* Does what the tick would at now for waiters that time alone may have let
** in: applies the due ramp steps of resources with waiters, admits waiters
** in fair order, and sets due_ns to the next such instant. */
void admit_rq_catch_up(admit_request_admission *c, int64_t now);
/* due_ns moves to at if that is earlier: a cooldown end or ramp step of a
** resource with waiters at that instant (at < 0: none). */
static inline void admit_rq_due_at(admit_request_admission *c, int64_t at) {
    if (at >= 0 && at < c->due_ns) c->due_ns = at;
}
/* Asks the driver (wake_at) for a tick at the next instant a queued waiter
** can change without a release: a deadline, a cooldown end, a ramp step. */
void admit_rq_schedule_wake(admit_request_admission *c, int64_t now);

/* RequestAdmissionDenied for a denial on r (or NO_RESOURCE) at now. */
admit_request_denied admit_rq_denial(const admit_request_admission *c, uint32_t r,
                                     admit_request_deny_reason why, int64_t now);
void admit_rq_count_denial(admit_request_admission *c, uint32_t r, admit_request_deny_reason why);

static inline bool admit_rq_has_waiters(const admit_request_admission *c, uint32_t pm) {
    return admit_wfq_active_count(&c->pms[pm].wfq) > 0;
}

/* Lock, read the clock, expire due waiters: at now >= deadline a waiter
** has timed out. */
static inline int64_t admit_rq_begin_expired(admit_request_admission *c) {
    lock(c);
    int64_t now = now_of(c);
    if (admit_heap_count(&c->deadlines) && admit_heap_top(&c->deadlines)->key <= now)
        admit_rq_expire_due(c, now);
    return now;
}

/* Every call that admits, queues or denies starts here: it brings the
** state up to now as the tick would (see Catching up), so no path (a
** release or an acquire that runs before the tick of a deadline, cooldown
** end or ramp step, a cancel, a clamp change) admits or queues behind a
** waiter whose deadline has passed, or goes before a waiter that time has
** already let in. */
static inline int64_t admit_rq_begin(admit_request_admission *c) {
    int64_t now = admit_rq_begin_expired(c);
    if (now >= c->due_ns) admit_rq_catch_up(c, now);
    return now;
}

/* ---- request_sync.c -------------------------------------------------------- */

/* The blocking part of acquire_sync: waiter slot is queued (mu held); sleeps
** until it is admitted, denied, cancelled through token or times out, then
** frees the slot and returns with mu released. */
bool admit_rq_wait_sync(admit_request_admission *c, uint32_t slot, uint32_t r,
                        admit_request_cancel_token *token, admit_request_lease *lease,
                        admit_request_denied *denied);
/* A new cooldown on r: sync waiters of r re-arm their timed waits. */
void admit_rq_rearm_sync_waiters(admit_request_admission *c, uint32_t r);

#endif
