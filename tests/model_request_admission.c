/*
** AdaptiveRequestAdmissionController against a deliberately naive model,
** over random operation sequences on a scripted clock (model_common.h:
** seeds, budget, replay).
**
** Each sequence draws provider/models (static caps 1 to 5) with one or two
** domains each, per-resource initial limits and clamps, extra request
** groups with weights 1 to 4, AIMD settings (md_factor, ai_step,
** successes_until_increase, cooldown, startup ramp), a default queue-wait
** timeout and whether the controller is thread_safe (called from this one
** thread either way).  Operations: try_acquire, acquire_async (immediate,
** queued or denied), acquire_sync where it cannot block, releases with
** every outcome (rate limits with and without Retry-After), repeated,
** old-generation and forged releases, cancellation of queued, finished and
** stale waiter handles (and zero-filled ones), tick, clock jumps (small,
** past cooldowns and deadlines, exactly onto a deadline or a requested
** wake, with and without the tick, and half the plain ones followed at once
** by another operation before any check), clamp changes, shutdown and
** reset.  Some completions release their lease from inside the callback
** (re-entrant).
**
** The model is SPEC §4 and README "Semantics beyond the specification"
** written the plain way: per resource the AIMD state as the SPEC's formulas
** (ramp 1 + floor((initial-1) * elapsed / ramp), decrease floor(current *
** md) guarded by the lease's admitted limit, soft ceiling, additive
** increase every k successes outside cooldown and ramp, cooldowns that only
** extend), per provider/model the in-flight sum and the virtual time, per
** request group its finish tag; the waiters as one unordered list, a
** group's head found by scanning for its oldest waiter, and the next
** admission by scanning for the least (tag, head's age) among groups whose
** resource is open.  Every call first does what the tick would: it times
** out waiters with deadline <= now, then admits every waiter that can be
** admitted now (a cooldown end or ramp step may have let it in), and only
** then decides; shutdown, reset and destroy only time out due waiters and
** deny the rest.  try_acquire is denied queued_waiters_ahead by waiters of
** its own resource only; an immediate admission charges its group like a
** commit; waiters are also admitted after a release (of their
** provider/model) or a clamp change, while both the aggregate and the
** domain have room.  The ramp is brought up to date at every clock change;
** the real controller applies it when a call touches the resource or its
** waiters, and its pressure view computes it (checked before the
** snapshots, which apply it).  acquire_sync never waits here: with
** thread_safe, a call that would block is replaced by a cancel of a
** zero-filled handle, which only catches up.
**
** After every step: every completion delivered this step is the one the
** model expects (the same waiters, admitted or denied with the same
** reason, retry_after, available_after and wait times; per provider/model
** the admissions in the same order), called exactly once; every snapshot,
** the pressure view, the statistics and the count of every event kind
** equal the model; in-flight never exceeds the limit in force at admission
** nor the aggregate cap; and no queued waiter is stranded: when one could
** be admitted now, or times out, or its resource's cooldown ends or ramp
** step comes, a wake_at at or before that instant is outstanding.  Each
** sequence ends one of three ways: drained by honouring wake_at requests
** only (every waiter ends, or it was stranded), shut down, or destroyed
** with waiters queued; then every queued waiter was completed exactly once
** and nothing is in flight or queued.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>

#include "admit/request_admission.h"
#include "model_common.h"

#define MS 1000000LL

#define RA_PMS    3
#define RA_RES    (RA_PMS * 2)
#define RA_GROUPS (RA_RES * 3)
#define RA_RING   64
#define RA_LEN    2000

#define NO_BLOCK INT64_MIN

enum {
    OP_TRY,
    OP_ASYNC,
    OP_SYNC,
    OP_RELEASE,
    OP_RELEASE_AGAIN,
    OP_RELEASE_OLD,
    OP_RELEASE_FORGED,
    OP_CANCEL,
    OP_TICK,
    OP_JUMP,
    OP_JUMP_TO_WAKE,
    OP_JUMP_TO_DEADLINE,
    OP_CLAMP,
    OP_SHUTDOWN,
    OP_RESET,
    OP_KINDS
};

static const char *const op_names[OP_KINDS] = {"try_acquire (resource, group, timeout)",
                                               "acquire_async (resource, group, timeout, waiter)",
                                               "acquire_sync (resource, group, token)",
                                               "release (lease id, outcome, retry_after)",
                                               "release again (lease id)",
                                               "release old generation (lease id)",
                                               "release forged (kind)",
                                               "cancel (waiter, queued)",
                                               "tick",
                                               "clock jump (ns, to)",
                                               "clock to the next requested wake (at, tick)",
                                               "clock onto a deadline (at, tick)",
                                               "clamp (resource, clamp)",
                                               "shutdown",
                                               "reset"};

enum { W_NONE, W_QUEUED, W_DONE };
enum { L_LIVE, L_RELEASED, L_OLD };

/* One acquire_async that queued (or may): the test's record of the real
** side (handle, completion calls) and the model's (group, age, deadline). */
typedef struct ra_waiter {
    uint32_t group, resource;
    uint64_t seq;
    int64_t started, deadline; /* deadline < 0: none */
    uint8_t state;             /* model: W_* */
    admit_request_wait wait;   /* real handle */
    uint32_t calls;            /* real completion calls */
    admit_request_result res;  /* real result */
    bool nested;               /* its completion releases the lease at once */
    admit_request_outcome nested_outcome;
    admit_release_reason nested_why;
} ra_waiter;

typedef struct ra_lease {
    admit_request_lease h;
    uint32_t resource, admitted_limit;
    uint8_t state;
} ra_lease;

/* A completion the model expects, in delivery order. */
typedef struct ra_done {
    uint32_t waiter;
    uint32_t lease; /* admitted: the model's lease */
    bool admitted;
    admit_request_deny_reason reason;
    int64_t retry_after, available_after, completed;
} ra_done;

typedef struct ra_model {
    /* per resource */
    uint32_t pm[RA_RES], in_flight[RA_RES], current[RA_RES], emax[RA_RES], initial[RA_RES];
    uint32_t min_limit[RA_RES], max_in_flight[RA_RES], waiters[RA_RES], max_waiters[RA_RES];
    uint32_t ceiling[RA_RES], streak[RA_RES], consecutive_rl[RA_RES];
    bool ramping[RA_RES];
    int64_t ramp_start[RA_RES], blocked[RA_RES], cooldown_total[RA_RES];
    uint64_t leases[RA_RES], released[RA_RES], decreases[RA_RES], increases[RA_RES];
    uint64_t outcomes[RA_RES][ADMIT_REQ_OUTCOME_COUNT], denied[RA_RES][ADMIT_REQ_DENY_REASON_COUNT];
    /* per provider/model */
    uint32_t pm_cap[RA_PMS], pm_in_flight[RA_PMS], pm_max[RA_PMS], pm_waiters[RA_PMS];
    double vtime[RA_PMS];
    /* per request group */
    uint32_t g_res[RA_GROUPS];
    double g_weight[RA_GROUPS], finish[RA_GROUPS], tag[RA_GROUPS];
    bool g_used[RA_GROUPS], finish_known[RA_GROUPS], active[RA_GROUPS];
    /* the queued waiters, unordered */
    uint32_t *queued;
    uint32_t nqueued;
    uint64_t next_seq;
    bool shutdown;
    admit_request_admission_stats stats;
    uint64_t events[ADMIT_REV_KIND_COUNT];
    /* completions due, in delivery order */
    ra_done *due;
    uint32_t ndue, due_head;
} ra_model;

typedef struct ra_world {
    model_rng rng;
    uint64_t salt;
    uint32_t npms, nres;
    admit_aimd_config aimd;
    int64_t default_timeout;
    bool thread_safe, destroying;
    admit_request_resolver *rr;
    admit_request_admission *c;
    int64_t now;
    /* outstanding wake_at requests */
    int64_t *wakes;
    uint32_t nwakes, cap_wakes;
    /* the real side's deliveries of the current step */
    uint32_t *delivered;
    uint32_t ndelivered;
    uint64_t real_events[ADMIT_REV_KIND_COUNT];
    ra_model m;
    ra_waiter *waiters;
    uint32_t nwaiters, cap_waiters;
    ra_lease *leases;
    uint32_t nleases, cap_leases;
    uint32_t *live;
    uint32_t nlive;
    uint32_t released_ring[RA_RING], nreleased, old_ring[RA_RING], nold;
    model_idset ids;
} ra_world;

static ra_world W;

static struct {
    uint64_t leases, queued, admitted_waiting, caught_up, nested, cancelled, cancel_refused,
        timeouts, shutdowns, rate_limits, decreases, increases, drains, shut_ends, destroy_ends,
        bad_releases, ticks, denied[ADMIT_REQ_DENY_REASON_COUNT];
    uint32_t max_queued;
} SEEN;

static void describe(const model_op *op, char *buf, size_t n) {
    snprintf(buf, n, "at %lld %s: %lld %lld %lld %lld", (long long)op->at, op_names[op->kind],
             (long long)op->a, (long long)op->b, (long long)op->c, (long long)op->d);
}

/* ---- the real side's callbacks -------------------------------------------------- */

static int64_t scripted_now(void *ctx) {
    return *(const int64_t *)ctx;
}

static void on_wake(void *ctx, int64_t at) {
    (void)ctx;
    for (uint32_t i = 0; i < W.nwakes; i++)
        if (W.wakes[i] == at) return;
    if (W.nwakes == W.cap_wakes) {
        W.cap_wakes = W.cap_wakes ? 2 * W.cap_wakes : 64;
        W.wakes = realloc(W.wakes, W.cap_wakes * sizeof *W.wakes);
        if (!W.wakes) abort();
    }
    W.wakes[W.nwakes++] = at;
}

static void on_event(void *ctx, const admit_event *e) {
    (void)ctx;
    if (e->kind < ADMIT_REV_KIND_COUNT) W.real_events[e->kind]++;
}

static void on_done(void *ctx, const admit_request_result *res) {
    uint32_t i = (uint32_t)(uintptr_t)ctx - 1;
    ra_waiter *w = &W.waiters[i];
    w->calls++;
    w->res = *res;
    W.delivered[W.ndelivered++] = i;
    if (res->admitted && w->nested && !W.destroying)
        w->nested_why = admit_request_admission_release(W.c, res->lease, w->nested_outcome);
}

/* ---- the model: AIMD ---------------------------------------------------------------- */

static uint32_t m_limit(uint32_t r) {
    return W.m.current[r] < W.m.emax[r] ? W.m.current[r] : W.m.emax[r];
}

static void m_event(admit_request_event_kind k) {
    W.m.events[k]++;
    W.m.stats.events_emitted++;
}

static void m_set_limit(uint32_t r, uint32_t limit, bool decrease) {
    if (limit == W.m.current[r]) return;
    W.m.current[r] = limit;
    if (limit < W.m.min_limit[r]) W.m.min_limit[r] = limit;
    if (decrease) {
        W.m.decreases[r]++;
        SEEN.decreases++;
    } else {
        W.m.increases[r]++;
        SEEN.increases++;
    }
    m_event(decrease ? ADMIT_REV_REQUEST_LIMIT_DECREASED : ADMIT_REV_REQUEST_LIMIT_INCREASED);
}

/* The startup ramp at now: 1 + floor((initial - 1) * elapsed / ramp). */
static void m_ramp(uint32_t r) {
    if (!W.m.ramping[r]) return;
    int64_t elapsed = W.now - W.m.ramp_start[r], ramp = W.aimd.startup_ramp_ns;
    uint32_t limit = W.m.initial[r];
    if (elapsed >= ramp)
        W.m.ramping[r] = false;
    else
        limit = 1 + (uint32_t)((int64_t)(W.m.initial[r] - 1) * elapsed / ramp);
    if (limit > W.m.current[r]) m_set_limit(r, limit, false);
}

static void m_rate_limited(const ra_lease *l, int64_t retry_after) {
    uint32_t r = l->resource;
    int64_t until = W.now + (retry_after > 0 ? retry_after : W.aimd.cooldown_ns);
    int64_t old = W.m.blocked[r];
    if (until > old) { /* cooldowns only extend; the total merges overlaps */
        W.m.cooldown_total[r] += until - (old > W.now ? old : W.now);
        W.m.blocked[r] = until;
    }
    m_event(ADMIT_REV_REQUEST_RATE_LIMITED);
    W.m.ramping[r] = false;
    if (l->admitted_limit <= W.m.current[r]) {
        uint32_t before = W.m.current[r];
        uint32_t after = (uint32_t)floor((double)before * W.aimd.md_factor);
        if (!W.m.ceiling[r]) W.m.ceiling[r] = before;
        m_set_limit(r, after < 1 ? 1 : after, true);
    }
    W.m.streak[r] = 0;
    W.m.consecutive_rl[r]++;
}

static void m_success(uint32_t r) {
    W.m.consecutive_rl[r] = 0;
    if (W.m.ramping[r] || W.now < W.m.blocked[r]) return;
    if (++W.m.streak[r] < W.aimd.successes_until_increase) return;
    W.m.streak[r] = 0;
    if (W.m.current[r] >= W.m.emax[r]) return;
    uint32_t next = W.m.current[r] + W.aimd.ai_step;
    m_set_limit(r, next > W.m.emax[r] ? W.m.emax[r] : next, false);
    if (W.m.ceiling[r] && W.m.current[r] > W.m.ceiling[r]) {
        m_event(ADMIT_REV_REQUEST_SOFT_CEILING_RECOVERED);
        W.m.ceiling[r] = 0;
    }
    if (W.m.current[r] == W.m.emax[r]) {
        m_event(ADMIT_REV_REQUEST_FULLY_RECOVERED);
        W.m.ceiling[r] = 0;
    }
}

/* ---- the model: waiters and the fair order ----------------------------------------- */

static admit_request_denied m_denial(int64_t r, admit_request_deny_reason why) {
    bool cooling = r >= 0 && r < (int64_t)W.nres && W.m.blocked[r] > W.now;
    return (admit_request_denied){.reason = why,
                                  .retry_after_ns = cooling ? W.m.blocked[r] - W.now : -1,
                                  .available_after_ns = cooling ? W.m.blocked[r] : -1};
}

static void m_count_denial(int64_t r, admit_request_deny_reason why) {
    W.m.stats.denied[why]++;
    if (r >= 0 && r < (int64_t)W.nres) W.m.denied[r][why]++;
    SEEN.denied[why]++;
}

/* The oldest queued waiter of group g (index into W.m.queued), or -1. */
static int m_head(uint32_t g) {
    int best = -1;
    for (uint32_t i = 0; i < W.m.nqueued; i++) {
        const ra_waiter *w = &W.waiters[W.m.queued[i]];
        if (w->group == g && (best < 0 || w->seq < W.waiters[W.m.queued[best]].seq)) best = (int)i;
    }
    return best;
}

static double m_activation_tag(uint32_t g) {
    double v = W.m.vtime[W.m.pm[W.m.g_res[g]]];
    double t = W.m.finish_known[g] ? W.m.finish[g] : v;
    return t < v ? v : t;
}

/* A commit (or an immediate admission's charge) of g at tag. */
static void m_advance(uint32_t g, double tag) {
    double *v = &W.m.vtime[W.m.pm[W.m.g_res[g]]];
    if (tag > *v) *v = tag;
    W.m.finish[g] = *v + 1.0 / W.m.g_weight[g];
    W.m.finish_known[g] = true;
}

static void m_push_done(uint32_t waiter, int lease, admit_request_denied d) {
    bool admitted = lease >= 0;
    W.m.due[W.m.ndue++] = (ra_done){.waiter = waiter,
                                    .lease = admitted ? (uint32_t)lease : 0,
                                    .admitted = admitted,
                                    .reason = d.reason,
                                    .retry_after = d.retry_after_ns,
                                    .available_after = d.available_after_ns,
                                    .completed = W.now};
}

/* Takes queued entry k (index into W.m.queued) out of the queue. */
static void m_unqueue(uint32_t k) {
    uint32_t i = W.m.queued[k];
    ra_waiter *w = &W.waiters[i];
    W.m.queued[k] = W.m.queued[--W.m.nqueued];
    W.m.waiters[w->resource]--;
    W.m.pm_waiters[W.m.pm[w->resource]]--;
    W.m.stats.waiters_queued--;
    w->state = W_DONE;
    if (m_head(w->group) < 0) W.m.active[w->group] = false;
}

static void m_waiter_deny(uint32_t k, admit_request_deny_reason why) {
    uint32_t i = W.m.queued[k], r = W.waiters[i].resource;
    m_unqueue(k);
    m_event(why == ADMIT_REQ_DENY_QUEUE_TIMEOUT ? ADMIT_REV_REQUEST_WAIT_TIMEOUT
                                                : ADMIT_REV_REQUEST_WAIT_CANCELLED);
    if (!W.m.waiters[r]) m_event(ADMIT_REV_REQUEST_QUEUE_DRAINED);
    m_count_denial(r, why);
    m_push_done(i, -1, m_denial(r, why));
}

/* A waiter has timed out once now >= its deadline. */
static void m_expire(void) {
    for (uint32_t k = 0; k < W.m.nqueued;) {
        const ra_waiter *w = &W.waiters[W.m.queued[k]];
        if (w->deadline >= 0 && w->deadline <= W.now) {
            m_waiter_deny(k, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
            SEEN.timeouts++;
        } else {
            k++;
        }
    }
}

static void m_deny_all(admit_request_deny_reason why) {
    while (W.m.nqueued)
        m_waiter_deny(W.m.nqueued - 1, why);
}

static void m_pump(uint32_t pm);

/* Every call but shutdown, reset and destroy starts here: what the tick
** would do at now. */
static void m_begin(void) {
    m_expire();
    uint64_t before = SEEN.admitted_waiting;
    for (uint32_t pm = 0; pm < W.npms; pm++)
        if (W.m.pm_waiters[pm]) m_pump(pm);
    SEEN.caught_up += SEEN.admitted_waiting - before;
}

static bool m_open(uint32_t r) {
    return W.m.in_flight[r] < m_limit(r) && W.now >= W.m.blocked[r];
}

static bool m_pm_open(uint32_t pm) {
    return W.m.pm_in_flight[pm] < W.m.pm_cap[pm];
}

/* A new lease of r (the caller binds the real handle). */
static uint32_t m_grant(uint32_t r) {
    if (W.nleases == W.cap_leases) {
        W.cap_leases = W.cap_leases ? 2 * W.cap_leases : 256;
        W.leases = realloc(W.leases, W.cap_leases * sizeof *W.leases);
        W.live = realloc(W.live, W.cap_leases * sizeof *W.live);
        if (!W.leases || !W.live) abort();
    }
    W.leases[W.nleases] = (ra_lease){.resource = r, .admitted_limit = m_limit(r), .state = L_LIVE};
    W.live[W.nlive++] = W.nleases;
    uint32_t pm = W.m.pm[r];
    if (++W.m.in_flight[r] > W.m.max_in_flight[r]) W.m.max_in_flight[r] = W.m.in_flight[r];
    if (++W.m.pm_in_flight[pm] > W.m.pm_max[pm]) W.m.pm_max[pm] = W.m.pm_in_flight[pm];
    W.m.leases[r]++;
    W.m.stats.leases_acquired++;
    W.m.stats.leases_active++;
    SEEN.leases++;
    return W.nleases++;
}

static void bind_lease(uint32_t l, admit_request_lease h) {
    MODEL_CHECK(h.lease_id != 0, "an admitted lease has id 0");
    MODEL_CHECK(model_idset_insert(&W.ids, h.lease_id), "lease id %llu handed out twice",
                (unsigned long long)h.lease_id);
    W.leases[l].h = h;
}

/* Admits waiters of pm in fair order while the aggregate and a domain
** have room: the least (tag, head's seq) among groups whose resource is
** open. */
static void m_pump(uint32_t pm) {
    while (W.m.pm_waiters[pm] && m_pm_open(pm) && !W.m.shutdown) {
        int best = -1, best_k = -1;
        for (uint32_t g = 0; g < RA_GROUPS; g++) {
            uint32_t r = W.m.g_res[g];
            if (!W.m.g_used[g] || W.m.pm[r] != pm || !W.m.active[g] || !m_open(r)) continue;
            int k = m_head(g);
            uint64_t seq = W.waiters[W.m.queued[k]].seq;
            if (best < 0 || W.m.tag[g] < W.m.tag[best] ||
                (W.m.tag[g] == W.m.tag[best] && seq < W.waiters[W.m.queued[best_k]].seq)) {
                best = (int)g;
                best_k = k;
            }
        }
        if (best < 0) return;
        uint32_t i = W.m.queued[best_k], r = W.m.g_res[best];
        uint32_t l = m_grant(r);
        m_advance((uint32_t)best, W.m.tag[best]);
        m_unqueue((uint32_t)best_k);
        if (m_head((uint32_t)best) >= 0) { /* reactivates behind its new head */
            W.m.active[best] = true;
            W.m.tag[best] = m_activation_tag((uint32_t)best);
        }
        m_event(ADMIT_REV_REQUEST_WAIT_COMPLETED);
        m_event(ADMIT_REV_REQUEST_LEASE_ACQUIRED);
        if (!W.m.waiters[r]) m_event(ADMIT_REV_REQUEST_QUEUE_DRAINED);
        m_push_done(i, (int)l, (admit_request_denied){.reason = ADMIT_REQ_DENY_NONE});
        SEEN.admitted_waiting++;
    }
}

static void m_enqueue(uint32_t i) {
    ra_waiter *w = &W.waiters[i];
    w->state = W_QUEUED;
    w->seq = W.m.next_seq++;
    w->started = W.now;
    if (m_head(w->group) < 0) {
        W.m.active[w->group] = true;
        W.m.tag[w->group] = m_activation_tag(w->group);
    }
    W.m.queued[W.m.nqueued++] = i;
    uint32_t r = w->resource;
    if (++W.m.waiters[r] > W.m.max_waiters[r]) W.m.max_waiters[r] = W.m.waiters[r];
    W.m.pm_waiters[W.m.pm[r]]++;
    W.m.stats.waiters_queued++;
    m_event(ADMIT_REV_REQUEST_WAIT_STARTED);
    if (W.m.waiters[r] == 1) m_event(ADMIT_REV_REQUEST_QUEUE_FORMED);
    SEEN.queued++;
    if (W.m.nqueued > SEEN.max_queued) SEEN.max_queued = W.m.nqueued;
}

/* ---- the model: items and immediate admission -------------------------------------- */

typedef struct ra_item {
    admit_request_item it;
    bool valid;
    uint32_t group;
} ra_item;

static admit_request_deny_reason m_immediate_denial(uint32_t r) {
    if (W.m.shutdown) return ADMIT_REQ_DENY_SHUTDOWN;
    if (W.m.waiters[r]) return ADMIT_REQ_DENY_QUEUED_WAITERS_AHEAD;
    if (W.now < W.m.blocked[r]) return ADMIT_REQ_DENY_COOLDOWN;
    if (!m_pm_open(W.m.pm[r]) || W.m.in_flight[r] >= m_limit(r)) return ADMIT_REQ_DENY_NO_CAPACITY;
    return ADMIT_REQ_DENY_NONE;
}

/* The immediate path of every acquire: a lease (index) or -1 with *why. */
static int m_acquire_now(const ra_item *x, bool wait_pair, admit_request_deny_reason *why) {
    *why = m_immediate_denial(x->it.resource);
    if (*why != ADMIT_REQ_DENY_NONE) return -1;
    uint32_t l = m_grant(x->it.resource);
    m_advance(x->group, m_activation_tag(x->group)); /* charged like a commit */
    if (wait_pair) {
        m_event(ADMIT_REV_REQUEST_WAIT_STARTED);
        m_event(ADMIT_REV_REQUEST_WAIT_COMPLETED);
    }
    m_event(ADMIT_REV_REQUEST_LEASE_ACQUIRED);
    return (int)l;
}

static admit_request_denied m_deny_call(const ra_item *x, admit_request_deny_reason why) {
    int64_t r = x->it.resource < W.nres ? (int64_t)x->it.resource : -1;
    m_count_denial(r, why);
    m_event(ADMIT_REV_REQUEST_ACQUIRE_DENIED);
    return m_denial(r, why);
}

static ra_item draw_item(void) {
    ra_item x = {.valid = true};
    model_rng *g = &W.rng;
    x.it.resource = model_below(g, W.nres);
    x.it.group = ADMIT_REQ_GROUP_DEFAULT;
    x.group = x.it.resource;
    if (model_chance(g, 450)) { /* one of the resource's groups */
        uint32_t choices[RA_GROUPS], n = 0;
        for (uint32_t gr = 0; gr < RA_GROUPS; gr++)
            if (W.m.g_used[gr] && W.m.g_res[gr] == x.it.resource) choices[n++] = gr;
        x.group = choices[model_below(g, n)];
        x.it.group = (int32_t)x.group;
    }
    uint32_t t = model_below(g, 10);
    x.it.queue_wait_timeout_ns = t < 4   ? ADMIT_REQ_TIMEOUT_DEFAULT
                                 : t < 6 ? 0
                                         : model_range(g, 1, 40) * MS;
    if (model_chance(g, 25)) { /* not a valid item: hard_policy_denial */
        x.valid = false;
        switch (model_below(g, 3)) {
        case 0: x.it.resource = W.nres + model_below(g, 3); break;
        case 1: x.it.group = 999; break;
        default: /* a group of another resource (or a negative id) */
            x.it.group = -5;
            for (uint32_t gr = 0; gr < RA_GROUPS; gr++)
                if (W.m.g_used[gr] && W.m.g_res[gr] != x.it.resource) x.it.group = (int32_t)gr;
            break;
        }
    }
    x.it.ctx.task_id = 1 + model_below(g, 1000);
    x.it.ctx.attempt_id = 1 + model_below(g, 1000);
    return x;
}

/* ---- the model: release -------------------------------------------------------------- */

static void m_release_live(uint32_t l, admit_request_outcome o) {
    ra_lease *le = &W.leases[l];
    uint32_t r = le->resource, pm = W.m.pm[r];
    for (uint32_t k = 0; k < W.nlive; k++)
        if (W.live[k] == l) {
            W.live[k] = W.live[--W.nlive];
            break;
        }
    le->state = L_RELEASED;
    if (W.nreleased == RA_RING)
        memmove(W.released_ring, W.released_ring + 1, (RA_RING - 1) * sizeof *W.released_ring);
    else
        W.nreleased++;
    W.released_ring[W.nreleased - 1] = l;
    W.m.in_flight[r]--;
    W.m.pm_in_flight[pm]--;
    W.m.stats.leases_active--;
    W.m.stats.outcomes[o.kind]++;
    W.m.stats.release_reasons[ADMIT_RELEASE_RELEASED]++;
    W.m.released[r]++;
    W.m.outcomes[r][o.kind]++;
    if (o.kind == ADMIT_REQ_RATE_LIMITED) {
        m_rate_limited(le, o.retry_after_ns);
        SEEN.rate_limits++;
    } else if (o.kind == ADMIT_REQ_SUCCESS) {
        m_success(r);
    }
    m_event(ADMIT_REV_REQUEST_LEASE_RELEASED);
    if (W.m.pm_waiters[pm]) m_pump(pm);
}

/* ---- comparing a step's completions ---------------------------------------------------- */

/* Delivers the model's due completions in order (a nested release may add
** more) and checks them against what the real callbacks received. */
static void deliver_and_compare(void) {
    uint32_t expected = 0;
    uint32_t last_admitted[RA_PMS];
    for (uint32_t pm = 0; pm < RA_PMS; pm++)
        last_admitted[pm] = UINT32_MAX;
    while (W.m.due_head < W.m.ndue) {
        ra_done d = W.m.due[W.m.due_head++];
        ra_waiter *w = &W.waiters[d.waiter];
        expected++;
        MODEL_CHECK(w->calls == 1, "waiter %u: %u completion calls (model: %s)", d.waiter, w->calls,
                    d.admitted ? "admitted" : admit_request_deny_reason_name(d.reason));
        MODEL_CHECK(w->res.admitted == d.admitted, "waiter %u: real %s, model %s", d.waiter,
                    w->res.admitted ? "admitted"
                                    : admit_request_deny_reason_name(w->res.denied.reason),
                    d.admitted ? "admitted" : admit_request_deny_reason_name(d.reason));
        MODEL_EQ(w->res.wait_started_ns, w->started, "waiter %u: wait_started", d.waiter);
        MODEL_EQ(w->res.wait_completed_ns, d.completed, "waiter %u: wait_completed", d.waiter);
        if (!d.admitted) {
            MODEL_EQ(w->res.denied.reason, d.reason, "waiter %u: reason", d.waiter);
            MODEL_EQ(w->res.denied.retry_after_ns, d.retry_after, "waiter %u: retry_after",
                     d.waiter);
            MODEL_EQ(w->res.denied.available_after_ns, d.available_after,
                     "waiter %u: available_after", d.waiter);
            continue;
        }
        /* admissions of one provider/model reach their callers in admission order */
        uint32_t pm = W.m.pm[w->resource], pos = UINT32_MAX;
        for (uint32_t k = 0; k < W.ndelivered; k++)
            if (W.delivered[k] == d.waiter) pos = k;
        MODEL_CHECK(last_admitted[pm] == UINT32_MAX || pos > last_admitted[pm],
                    "waiter %u admitted out of order", d.waiter);
        last_admitted[pm] = pos;
        uint32_t l = d.lease;
        bind_lease(l, w->res.lease);
        if (w->nested) {
            MODEL_CHECK(w->nested_why == ADMIT_RELEASE_RELEASED,
                        "waiter %u: release inside the completion: %s", d.waiter,
                        admit_release_reason_name(w->nested_why));
            SEEN.nested++;
            m_release_live(l, w->nested_outcome);
        }
    }
    MODEL_EQ(W.ndelivered, expected, "completions delivered this step%s", "");
    W.m.ndue = W.m.due_head = 0;
    W.ndelivered = 0;
}

/* ---- checks after every step ------------------------------------------------------------ */

static void check_snapshots(void) {
    for (uint32_t r = 0; r < W.nres; r++) {
        admit_request_resource_snapshot s;
        admit_request_admission_snapshot(W.c, r, &s); /* brings the ramp up to now */
        const ra_model *m = &W.m;
        uint32_t pm = m->pm[r];
        MODEL_EQ(s.in_flight, m->in_flight[r], "resource %u: in_flight", r);
        MODEL_EQ(s.current_limit, m->current[r], "resource %u: current_limit", r);
        MODEL_EQ(s.effective_max, m->emax[r], "resource %u: effective_max", r);
        MODEL_EQ(s.initial_limit, m->initial[r], "resource %u: initial_limit", r);
        MODEL_EQ(s.min_limit, m->min_limit[r], "resource %u: min_limit", r);
        MODEL_EQ(s.max_in_flight, m->max_in_flight[r], "resource %u: max_in_flight", r);
        MODEL_EQ(s.waiters, m->waiters[r], "resource %u: waiters", r);
        MODEL_EQ(s.max_waiters, m->max_waiters[r], "resource %u: max_waiters", r);
        MODEL_EQ(s.pm_in_flight, m->pm_in_flight[pm], "resource %u: pm_in_flight", r);
        MODEL_EQ(s.pm_cap, m->pm_cap[pm], "resource %u: pm_cap", r);
        MODEL_EQ(s.pm_max_in_flight, m->pm_max[pm], "resource %u: pm_max_in_flight", r);
        MODEL_EQ(s.rate_limit_ceiling, m->ceiling[r], "resource %u: rate_limit_ceiling", r);
        MODEL_EQ(s.consecutive_rate_limits, m->consecutive_rl[r], "resource %u: consecutive", r);
        MODEL_EQ(s.ramping, m->ramping[r], "resource %u: ramping", r);
        MODEL_EQ(s.blocked_until_ns, m->blocked[r] == NO_BLOCK ? -1 : m->blocked[r],
                 "resource %u: blocked_until", r);
        MODEL_EQ(s.cooldown_total_ns, m->cooldown_total[r], "resource %u: cooldown_total", r);
        MODEL_EQ(s.leases, m->leases[r], "resource %u: leases", r);
        MODEL_EQ(s.released, m->released[r], "resource %u: released", r);
        MODEL_EQ(s.limit_decreases, m->decreases[r], "resource %u: limit_decreases", r);
        MODEL_EQ(s.limit_increases, m->increases[r], "resource %u: limit_increases", r);
        for (int k = 0; k < ADMIT_REQ_OUTCOME_COUNT; k++)
            MODEL_EQ(s.outcomes[k], m->outcomes[r][k], "resource %u: outcomes[%s]", r,
                     admit_request_outcome_name((admit_request_outcome_kind)k));
        for (int k = 0; k < ADMIT_REQ_DENY_REASON_COUNT; k++)
            MODEL_EQ(s.denied[k], m->denied[r][k], "resource %u: denied[%s]", r,
                     admit_request_deny_reason_name((admit_request_deny_reason)k));
        /* capacity: never above the aggregate cap, and every lease was
        ** admitted below the limit then in force (m_grant's caller checked
        ** m_open; the real side equals the model) */
        MODEL_CHECK(s.pm_in_flight <= s.pm_cap && s.pm_max_in_flight <= s.pm_cap,
                    "resource %u: aggregate cap exceeded", r);
    }
}

/* The pressure view as ProviderAware reads it, before anything else (the
** snapshots apply due ramp steps): the limit in force now, ramp steps no
** call has applied yet included, and whether the resource is pressured. */
static void check_pressure_now(void) {
    const admit_request_pressure *p = admit_request_admission_pressure(W.c);
    for (uint32_t r = 0; r < W.nres; r++) {
        MODEL_EQ(admit_request_pressure_limit(p, r, W.now), m_limit(r), "pressure limit(%u)", r);
        uint32_t pm = W.m.pm[r];
        bool pressured = W.m.pm_in_flight[pm] >= W.m.pm_cap[pm] || W.now < W.m.blocked[r] ||
                         W.m.waiters[r] > 0 || W.m.in_flight[r] >= m_limit(r);
        MODEL_EQ(admit_request_pressure_is_pressured(p, r, W.now), pressured, "is_pressured(%u)",
                 r);
    }
    MODEL_EQ(admit_request_pressure_limit(p, W.nres, W.now), 0, "pressure limit(unknown)%s", "");
}

/* The view's arrays, once the snapshots brought every ramp up to now. */
static void check_pressure(void) {
    const admit_request_pressure *p = admit_request_admission_pressure(W.c);
    MODEL_EQ(p->resource_count, W.nres, "pressure resource_count%s", "");
    for (uint32_t r = 0; r < W.nres; r++) {
        MODEL_EQ(p->in_flight[r], W.m.in_flight[r], "pressure in_flight[%u]", r);
        MODEL_EQ(p->current_limit[r], W.m.current[r], "pressure current_limit[%u]", r);
        MODEL_EQ(p->effective_max[r], W.m.emax[r], "pressure effective_max[%u]", r);
        MODEL_EQ(p->waiters[r], W.m.waiters[r], "pressure waiters[%u]", r);
        MODEL_EQ(p->blocked_until_ns[r], W.m.blocked[r], "pressure blocked_until[%u]", r);
        MODEL_EQ(p->ramping[r], W.m.ramping[r], "pressure ramping[%u]", r);
        MODEL_EQ(p->initial_limit[r], W.m.initial[r], "pressure initial_limit[%u]", r);
    }
    for (uint32_t pm = 0; pm < W.npms; pm++) {
        MODEL_EQ(p->pm_in_flight[pm], W.m.pm_in_flight[pm], "pressure pm_in_flight[%u]", pm);
        MODEL_EQ(p->pm_waiters[pm], W.m.pm_waiters[pm], "pressure pm_waiters[%u]", pm);
    }
}

static void check_stats(void) {
    admit_request_admission_stats st;
    admit_request_admission_stats_get(W.c, &st);
    const admit_request_admission_stats *m = &W.m.stats;
    MODEL_EQ(st.leases_acquired, m->leases_acquired, "stats.leases_acquired%s", "");
    MODEL_EQ(st.leases_active, m->leases_active, "stats.leases_active%s", "");
    MODEL_EQ(st.leases_active, W.nlive, "stats.leases_active vs the test's live leases%s", "");
    MODEL_EQ(st.waiters_queued, m->waiters_queued, "stats.waiters_queued%s", "");
    for (int k = 0; k < ADMIT_RELEASE_REASON_COUNT; k++)
        MODEL_EQ(st.release_reasons[k], m->release_reasons[k], "stats.release_reasons[%s]",
                 admit_release_reason_name((admit_release_reason)k));
    for (int k = 0; k < ADMIT_REQ_OUTCOME_COUNT; k++)
        MODEL_EQ(st.outcomes[k], m->outcomes[k], "stats.outcomes[%s]",
                 admit_request_outcome_name((admit_request_outcome_kind)k));
    for (int k = 0; k < ADMIT_REQ_DENY_REASON_COUNT; k++)
        MODEL_EQ(st.denied[k], m->denied[k], "stats.denied[%s]",
                 admit_request_deny_reason_name((admit_request_deny_reason)k));
    MODEL_EQ(st.events_emitted, m->events_emitted, "stats.events_emitted%s", "");
    for (int k = 0; k < ADMIT_REV_KIND_COUNT; k++)
        MODEL_EQ(W.real_events[k], W.m.events[k], "events %s",
                 admit_request_event_kind_name((admit_request_event_kind)k));
}

/* No waiter is stranded: for the earliest instant a queued waiter can
** change without a release (admissible now, its deadline, its resource's
** cooldown end or next ramp step), a wake_at at or before it is
** outstanding. */
static void check_not_stranded(void) {
    int64_t need = INT64_MAX;
    const char *why = NULL;
    for (uint32_t k = 0; k < W.m.nqueued; k++) {
        const ra_waiter *w = &W.waiters[W.m.queued[k]];
        if (w->deadline >= 0 && w->deadline < need) need = w->deadline, why = "a deadline";
    }
    for (uint32_t r = 0; r < W.nres; r++) {
        if (!W.m.waiters[r]) continue;
        if (W.m.blocked[r] > W.now) {
            if (W.m.blocked[r] < need) need = W.m.blocked[r], why = "a cooldown end";
        } else if (W.m.ramping[r] && W.m.current[r] < W.m.initial[r]) {
            int64_t span = W.m.initial[r] - 1, ramp = W.aimd.startup_ramp_ns;
            int64_t t = W.m.ramp_start[r] + ((int64_t)W.m.current[r] * ramp + span - 1) / span;
            if (t < need) need = t, why = "a ramp step";
        }
        if (m_open(r) && m_pm_open(W.m.pm[r])) need = W.now, why = "an admissible waiter";
    }
    if (need == INT64_MAX) return;
    int64_t earliest = INT64_MAX;
    for (uint32_t i = 0; i < W.nwakes; i++)
        if (W.wakes[i] < earliest) earliest = W.wakes[i];
    MODEL_CHECK(earliest <= need,
                "stranded: %u waiters queued, %s at %lld (now %lld), earliest wake_at %s%lld",
                W.m.nqueued, why, (long long)need, (long long)W.now, W.nwakes ? "" : "none ",
                W.nwakes ? (long long)earliest : 0LL);
}

static void check_all(void) {
    check_pressure_now();
    check_snapshots();
    check_pressure();
    check_stats();
    check_not_stranded();
    MODEL_EQ(admit_request_admission_now(W.c), W.now, "now%s", "");
}

/* ---- operations ------------------------------------------------------------------------------ */

static void compare_denial(const admit_request_denied *real, const admit_request_denied *m,
                           const char *where) {
    MODEL_CHECK(real->reason == m->reason, "%s: real %s, model %s", where,
                admit_request_deny_reason_name(real->reason),
                admit_request_deny_reason_name(m->reason));
    MODEL_EQ(real->retry_after_ns, m->retry_after_ns, "%s: retry_after", where);
    MODEL_EQ(real->available_after_ns, m->available_after_ns, "%s: available_after", where);
}

/* A call that admits or denies at once (try_acquire, acquire_sync): the
** real answer (ok, lease h, denial d) against the model's (lease l or why). */
static void immediate_result(const ra_item *x, bool ok, admit_request_lease h,
                             const admit_request_denied *d, int l, admit_request_deny_reason why,
                             const char *where) {
    MODEL_CHECK(ok == (l >= 0), "%s: real %s, model %s", where, ok ? "admitted" : "denied",
                l >= 0 ? "admitted" : admit_request_deny_reason_name(why));
    if (ok) {
        bind_lease((uint32_t)l, h);
    } else {
        admit_request_denied md = m_deny_call(x, why);
        compare_denial(d, &md, where);
        MODEL_EQ(h.lease_id, 0, "%s denied: lease id", where);
    }
    deliver_and_compare();
}

static void op_try(void) {
    ra_item x = draw_item();
    model_trace(OP_TRY, x.it.resource, x.it.group, x.it.queue_wait_timeout_ns, 0);
    admit_request_lease h;
    admit_request_denied d;
    bool ok = admit_request_admission_try_acquire(W.c, &x.it, &h, &d);
    m_begin();
    admit_request_deny_reason why = ADMIT_REQ_DENY_HARD_POLICY;
    int l = x.valid ? m_acquire_now(&x, false, &why) : -1;
    immediate_result(&x, ok, h, &d, l, why, "try_acquire");
}

static uint32_t new_waiter(const ra_item *x) {
    if (W.nwaiters == W.cap_waiters) {
        W.cap_waiters = W.cap_waiters ? 2 * W.cap_waiters : 1024;
        W.waiters = realloc(W.waiters, W.cap_waiters * sizeof *W.waiters);
        W.delivered = realloc(W.delivered, W.cap_waiters * sizeof *W.delivered);
        W.m.queued = realloc(W.m.queued, W.cap_waiters * sizeof *W.m.queued);
        W.m.due = realloc(W.m.due, W.cap_waiters * sizeof *W.m.due);
        if (!W.waiters || !W.delivered || !W.m.queued || !W.m.due) abort();
    }
    uint32_t i = W.nwaiters++;
    ra_waiter *w = &W.waiters[i];
    *w = (ra_waiter){.group = x->group, .resource = x->it.resource, .state = W_NONE};
    int64_t timeout = x->it.queue_wait_timeout_ns == ADMIT_REQ_TIMEOUT_DEFAULT
                          ? W.default_timeout
                          : x->it.queue_wait_timeout_ns;
    w->deadline = timeout > 0 ? W.now + timeout : -1;
    w->nested = model_hash(W.salt, i) % 4 == 0;
    w->nested_outcome.kind =
        model_hash(W.salt + 1, i) % 5 == 0 ? ADMIT_REQ_RATE_LIMITED : ADMIT_REQ_SUCCESS;
    return i;
}

static void op_async(void) {
    ra_item x = draw_item();
    uint32_t i = new_waiter(&x);
    model_trace(OP_ASYNC, x.it.resource, x.it.group, x.it.queue_wait_timeout_ns, i);
    admit_request_result res;
    admit_request_wait wh;
    admit_request_acquire_status st = admit_request_admission_acquire_async(
        W.c, &x.it, on_done, (void *)(uintptr_t)(i + 1), &res, &wh);
    m_begin();
    admit_request_deny_reason why = ADMIT_REQ_DENY_HARD_POLICY;
    int l = x.valid ? m_acquire_now(&x, true, &why) : -1;
    admit_request_acquire_status mst = l >= 0 ? ADMIT_REQ_ADMITTED
                                       : x.valid && why != ADMIT_REQ_DENY_SHUTDOWN
                                           ? ADMIT_REQ_QUEUED
                                           : ADMIT_REQ_DENIED;
    MODEL_EQ(st, mst, "acquire_async status (0 admitted, 1 queued, 2 denied)%s", "");
    W.waiters[i].wait = wh; /* a handle that names no waiter unless queued */
    if (st == ADMIT_REQ_QUEUED) {
        m_enqueue(i);
    } else {
        MODEL_EQ(res.wait_started_ns, W.now, "acquire_async: wait_started%s", "");
        MODEL_EQ(res.wait_completed_ns, W.now, "acquire_async: wait_completed%s", "");
        MODEL_EQ(res.admitted, st == ADMIT_REQ_ADMITTED, "acquire_async: admitted%s", "");
        if (st == ADMIT_REQ_ADMITTED) {
            bind_lease((uint32_t)l, res.lease);
        } else {
            admit_request_denied md = m_deny_call(&x, why);
            compare_denial(&res.denied, &md, "acquire_async");
        }
    }
    deliver_and_compare();
}

/* After the model's m_begin: would acquire_sync block? */
static bool sync_would_block(const ra_item *x) {
    if (!x->valid) return false;
    return m_immediate_denial(x->it.resource) != ADMIT_REQ_DENY_NONE &&
           m_immediate_denial(x->it.resource) != ADMIT_REQ_DENY_SHUTDOWN;
}

static void op_sync(void) {
    ra_item x = draw_item();
    admit_request_cancel_token token = {.cancelled = model_chance(&W.rng, 150)};
    m_begin(); /* before the real call here: whether it would block depends on it */
    if (W.thread_safe && !token.cancelled && sync_would_block(&x)) {
        /* It would block this thread.  The catching up it does first still
        ** happens, through a call that does nothing else. */
        model_trace(OP_CANCEL, -1, -1, 0, 0);
        MODEL_CHECK(!admit_request_admission_cancel(W.c, (admit_request_wait){0}),
                    "cancel of a zero-filled wait handle succeeded%s", "");
        deliver_and_compare();
        return;
    }
    model_trace(OP_SYNC, x.it.resource, x.it.group, token.cancelled, 0);
    admit_request_lease h;
    admit_request_denied d;
    bool ok = admit_request_admission_acquire_sync(W.c, &x.it, &token, &h, &d);
    admit_request_deny_reason why = ADMIT_REQ_DENY_HARD_POLICY;
    int l = -1;
    if (token.cancelled) {
        why = ADMIT_REQ_DENY_CANCELLATION;
    } else if (x.valid) {
        l = m_acquire_now(&x, true, &why);
        /* blocking needs thread_safe: without it a wait is hard_policy_denial */
        if (l < 0 && why != ADMIT_REQ_DENY_SHUTDOWN) why = ADMIT_REQ_DENY_HARD_POLICY;
    }
    immediate_result(&x, ok, h, &d, l, why, "acquire_sync");
}

static admit_request_outcome draw_outcome(void) {
    admit_request_outcome o = {.kind = ADMIT_REQ_SUCCESS};
    uint32_t p = model_below(&W.rng, 100);
    if (p < 12) {
        o.kind = ADMIT_REQ_RATE_LIMITED;
        if (model_chance(&W.rng, 500)) o.retry_after_ns = model_range(&W.rng, 1, 60) * MS;
    } else if (p < 35) {
        o.kind = (admit_request_outcome_kind)(ADMIT_REQ_PROVIDER_FAILURE + model_below(&W.rng, 5));
    }
    return o;
}

static void release_one(uint32_t k, admit_request_outcome o) {
    uint32_t l = W.live[k];
    model_trace(OP_RELEASE, (int64_t)W.leases[l].h.lease_id, o.kind, o.retry_after_ns, 0);
    admit_release_reason why = admit_request_admission_release(W.c, W.leases[l].h, o);
    MODEL_CHECK(why == ADMIT_RELEASE_RELEASED, "release of a live lease: %s",
                admit_release_reason_name(why));
    m_begin();
    m_release_live(l, o);
    deliver_and_compare();
}

static void op_release(void) {
    if (W.nlive) release_one(model_below(&W.rng, W.nlive), draw_outcome());
}

/* A release that must return nothing, with the reasons it may give. */
static void release_bad(int kind, admit_request_lease h, unsigned allowed, const char *what) {
    model_trace(kind, (int64_t)h.lease_id, h.slot, h.generation, 0);
    admit_release_reason why = admit_request_admission_release(W.c, h, draw_outcome());
    MODEL_CHECK(why != ADMIT_RELEASE_RELEASED && ((1u << why) & allowed), "%s release returned %s",
                what, admit_release_reason_name(why));
    m_begin();
    W.m.stats.release_reasons[why]++;
    m_event(ADMIT_REV_REQUEST_RELEASE_DIAGNOSTIC);
    SEEN.bad_releases++;
    deliver_and_compare();
}

static void op_release_again(void) {
    if (!W.nreleased) return;
    const ra_lease *l = &W.leases[W.released_ring[model_below(&W.rng, W.nreleased)]];
    if (l->state == L_RELEASED)
        release_bad(OP_RELEASE_AGAIN, l->h,
                    1u << ADMIT_RELEASE_DUPLICATE | 1u << ADMIT_RELEASE_STALE_LEASE, "repeated");
}

static void op_release_old(void) {
    if (W.nold)
        release_bad(OP_RELEASE_OLD, W.leases[W.old_ring[model_below(&W.rng, W.nold)]].h,
                    1u << ADMIT_RELEASE_WRONG_GENERATION, "old generation");
}

static void op_release_forged(void) {
    admit_request_lease h = {0};
    uint32_t kind = W.nlive ? model_below(&W.rng, 3) : 0;
    if (W.nlive) h = W.leases[W.live[model_below(&W.rng, W.nlive)]].h;
    if (kind == 0) {
        h.lease_id = 0;
        release_bad(OP_RELEASE_FORGED, h, 1u << ADMIT_RELEASE_UNKNOWN_LEASE, "id 0");
    } else if (kind == 1) {
        h.generation += 7;
        release_bad(OP_RELEASE_FORGED, h, 1u << ADMIT_RELEASE_WRONG_GENERATION,
                    "forged generation");
    } else {
        h.lease_id = UINT64_MAX / 2;
        release_bad(OP_RELEASE_FORGED, h, 1u << ADMIT_RELEASE_UNKNOWN_LEASE, "never issued");
    }
}

static void op_cancel(void) {
    uint32_t pick = model_below(&W.rng, 10);
    /* no such waiter: a slot never used, or a zero-filled handle */
    admit_request_wait h = {.slot = pick % 2 ? 123456 : 0, .generation = pick % 2};
    int64_t i = -1;
    if (pick < 6 && W.m.nqueued)
        i = W.m.queued[model_below(&W.rng, W.m.nqueued)];
    else if (pick < 9 && W.nwaiters)
        i = model_below(&W.rng, W.nwaiters); /* done, or never queued */
    if (i >= 0) h = W.waiters[i].wait;
    model_trace(OP_CANCEL, i, i >= 0 ? W.waiters[i].state : -1, 0, 0);
    bool real = admit_request_admission_cancel(W.c, h);
    m_begin(); /* a waiter that timed out first cannot be cancelled */
    bool queued = false;
    for (uint32_t k = 0; i >= 0 && k < W.m.nqueued; k++)
        if (W.m.queued[k] == (uint32_t)i) {
            m_waiter_deny(k, ADMIT_REQ_DENY_CANCELLATION);
            queued = true;
            break;
        }
    MODEL_EQ(real, queued, "cancel(waiter %lld)", (long long)i);
    SEEN.cancelled += queued;
    SEEN.cancel_refused += !queued;
    deliver_and_compare();
}

static void op_tick(void) {
    model_trace(OP_TICK, 0, 0, 0, 0);
    uint32_t kept = 0; /* a tick at now honours every wake_at <= now */
    for (uint32_t i = 0; i < W.nwakes; i++)
        if (W.wakes[i] > W.now) W.wakes[kept++] = W.wakes[i];
    W.nwakes = kept;
    admit_request_admission_tick(W.c);
    m_expire();
    for (uint32_t pm = 0; pm < W.npms; pm++)
        if (W.m.pm_waiters[pm]) m_pump(pm);
    SEEN.ticks++;
    deliver_and_compare();
}

static void clock_to(int64_t t) {
    if (t <= W.now) return;
    W.now = t;
    for (uint32_t r = 0; r < W.nres; r++)
        m_ramp(r);
}

static void op_jump(void) {
    static const int64_t spans[] = {0, 2 * MS, 20 * MS, 200 * MS, 3000 * MS};
    int64_t dt = model_range(&W.rng, 0, spans[1 + model_below(&W.rng, 4)]);
    model_trace(OP_JUMP, dt, W.now + dt, 0, 0);
    clock_to(W.now + dt);
}

static void op_jump_to_wake(void) {
    if (!W.nwakes) return;
    int64_t t = W.wakes[0];
    for (uint32_t i = 1; i < W.nwakes; i++)
        if (W.wakes[i] < t) t = W.wakes[i];
    bool tick = model_chance(&W.rng, 700);
    model_trace(OP_JUMP_TO_WAKE, t, tick, 0, 0);
    clock_to(t);
    if (tick) op_tick();
}

static void op_jump_to_deadline(void) {
    int64_t t = INT64_MAX;
    for (uint32_t k = 0; k < W.m.nqueued; k++) {
        int64_t d = W.waiters[W.m.queued[k]].deadline;
        if (d >= 0 && d < t) t = d;
    }
    if (t == INT64_MAX) return;
    bool tick = model_chance(&W.rng, 500);
    model_trace(OP_JUMP_TO_DEADLINE, t, tick, 0, 0);
    clock_to(t);
    if (tick) op_tick();
}

static void m_clamp(uint32_t r, uint32_t clamp) {
    uint32_t pm = W.m.pm[r], cap = W.m.pm_cap[pm];
    uint32_t e = clamp && clamp < cap ? clamp : cap;
    if (e == W.m.emax[r]) return;
    W.m.emax[r] = e;
    m_event(ADMIT_REV_REQUEST_EFFECTIVE_CAP_CHANGED);
    if (W.m.current[r] > e) m_set_limit(r, e, true);
    if (W.m.initial[r] > e) W.m.initial[r] = e; /* initial stays within [1, effective max] */
    if (W.m.initial[r] <= 1) W.m.ramping[r] = false;
    if (W.m.pm_waiters[pm]) m_pump(pm);
}

static void op_clamp(void) {
    uint32_t r = model_below(&W.rng, W.nres);
    uint32_t clamp = model_below(&W.rng, W.m.pm_cap[W.m.pm[r]] + 2);
    model_trace(OP_CLAMP, r, clamp, 0, 0);
    admit_request_admission_set_max_limit_clamp(W.c, r, clamp);
    m_begin();
    m_clamp(r, clamp);
    deliver_and_compare();
}

static void op_shutdown(void) {
    model_trace(OP_SHUTDOWN, W.m.nqueued, 0, 0, 0);
    admit_request_admission_shutdown(W.c);
    m_expire(); /* shutdown, reset and destroy admit nobody */
    W.m.shutdown = true;
    m_deny_all(ADMIT_REQ_DENY_SHUTDOWN);
    SEEN.shutdowns++;
    deliver_and_compare();
}

static void make_old(uint32_t l) {
    W.leases[l].state = L_OLD;
    if (W.nold == RA_RING)
        memmove(W.old_ring, W.old_ring + 1, (RA_RING - 1) * sizeof *W.old_ring);
    else
        W.nold++;
    W.old_ring[W.nold - 1] = l;
}

/* Queued waiters are denied shutdown, live leases dropped (they release as
** wrong_controller_generation from now on); AIMD state and counts stay. */
static void op_reset(void) {
    model_trace(OP_RESET, W.m.nqueued, W.nlive, 0, 0);
    admit_request_admission_reset(W.c);
    m_expire();
    m_deny_all(ADMIT_REQ_DENY_SHUTDOWN);
    for (uint32_t k = 0; k < W.nlive; k++)
        make_old(W.live[k]);
    for (uint32_t k = 0; k < W.nreleased; k++)
        if (W.leases[W.released_ring[k]].state == L_RELEASED) make_old(W.released_ring[k]);
    W.nlive = W.nreleased = 0;
    memset(W.m.in_flight, 0, sizeof W.m.in_flight);
    memset(W.m.pm_in_flight, 0, sizeof W.m.pm_in_flight);
    W.m.stats.leases_active = 0;
    W.m.shutdown = false;
    deliver_and_compare();
}

static void (*const op_table[OP_KINDS])(void) = {
    [OP_TRY] = op_try,
    [OP_ASYNC] = op_async,
    [OP_SYNC] = op_sync,
    [OP_RELEASE] = op_release,
    [OP_RELEASE_AGAIN] = op_release_again,
    [OP_RELEASE_OLD] = op_release_old,
    [OP_RELEASE_FORGED] = op_release_forged,
    [OP_CANCEL] = op_cancel,
    [OP_TICK] = op_tick,
    [OP_JUMP] = op_jump,
    [OP_JUMP_TO_WAKE] = op_jump_to_wake,
    [OP_JUMP_TO_DEADLINE] = op_jump_to_deadline,
    [OP_CLAMP] = op_clamp,
    [OP_SHUTDOWN] = op_shutdown,
    [OP_RESET] = op_reset,
};

/* ---- one sequence ------------------------------------------------------------------------------
 */

static void world_free(void) {
    free(W.wakes);
    free(W.delivered);
    free(W.waiters);
    free(W.leases);
    free(W.live);
    free(W.m.queued);
    free(W.m.due);
    model_idset_free(&W.ids);
    memset(&W, 0, sizeof W);
}

static admit_request_resolver *make_resolver(model_rng *g) {
    admit_error err;
    admit_request_resolver *rr = admit_request_resolver_create(&err);
    MODEL_CHECK(rr != NULL, "resolver: %s", err.message);
    W.npms = 1 + model_below(g, RA_PMS);
    for (uint32_t pm = 0; pm < W.npms; pm++) {
        char alias[32], provider[32];
        snprintf(provider, sizeof provider, "provider%u", pm);
        uint32_t id, cap = 1 + model_below(g, 5);
        for (uint32_t a = 0; a < 1 + model_below(g, 2); a++) { /* aliases merge by minimum */
            snprintf(alias, sizeof alias, "alias%u.%u", pm, a);
            uint32_t c = a == 0 ? cap : 1 + model_below(g, 5);
            MODEL_CHECK(admit_request_resolver_add_alias(rr, alias, provider, "m", c, &id, &err) ==
                            ADMIT_OK,
                        "alias: %s", err.message);
            if (c < cap) cap = c;
        }
        MODEL_EQ(id, pm, "provider/model id%s", "");
        W.m.pm_cap[pm] = cap;
        for (uint32_t d = 0; d < 1 + model_below(g, 2); d++) {
            int r = admit_request_resolver_resource(rr, pm, (admit_request_domain)d);
            MODEL_EQ(r, W.nres, "request resource id%s", "");
            W.m.pm[W.nres++] = pm;
        }
    }
    return rr;
}

static void make_aimd(model_rng *g) {
    static const double md[] = {0.5, 0.75, 0.9};
    admit_aimd_config_init(&W.aimd);
    W.aimd.md_factor = md[model_below(g, 3)];
    W.aimd.ai_step = 1 + model_below(g, 3);
    W.aimd.successes_until_increase = 1 + model_below(g, 5);
    W.aimd.cooldown_ns = model_range(g, 1, 30) * MS;
    if (model_chance(g, 400)) /* short ramps, and long ones that many operations meet */
        W.aimd.startup_ramp_ns = model_range(g, 5, model_chance(g, 500) ? 100 : 5000) * MS;
    W.default_timeout = model_chance(g, 500) ? model_range(g, 5, 60) * MS : 0;
}

/* The model of a fresh controller: SPEC §4's initial AIMD state. */
static void model_init(const admit_request_resource_limits *limits) {
    for (uint32_t r = 0; r < W.nres; r++) {
        uint32_t cap = W.m.pm_cap[W.m.pm[r]], clamp = limits[r].max_limit_clamp;
        W.m.emax[r] = clamp && clamp < cap ? clamp : cap;
        uint32_t init = limits[r].initial_limit;
        W.m.initial[r] = init == 0 || init > W.m.emax[r] ? W.m.emax[r] : init;
        W.m.ramping[r] = W.aimd.startup_ramp_ns > 0 && W.m.initial[r] > 1;
        W.m.ramp_start[r] = W.now;
        W.m.current[r] = W.m.min_limit[r] = W.m.ramping[r] ? 1 : W.m.initial[r];
        W.m.blocked[r] = NO_BLOCK;
        m_event(ADMIT_REV_REQUEST_RESOURCE_REGISTERED);
        W.m.g_used[r] = true; /* the resource's own group, weight 1 */
        W.m.g_res[r] = r;
        W.m.g_weight[r] = 1.0;
    }
}

static void add_groups(model_rng *g) {
    for (uint32_t r = 0; r < W.nres; r++) {
        for (uint32_t k = model_below(g, 3); k > 0; k--) {
            int weight = 1 + (int)model_below(g, 4);
            admit_error err;
            int id = admit_request_admission_add_group(W.c, r, weight, &err);
            MODEL_CHECK(id >= (int)W.nres && id < RA_GROUPS && !W.m.g_used[id],
                        "add_group returned %d", id);
            W.m.g_used[id] = true;
            W.m.g_res[id] = r;
            W.m.g_weight[id] = weight;
        }
    }
}

static void make_world(uint64_t seed) {
    world_free();
    model_rng *g = &W.rng;
    model_rng_seed(g, seed);
    W.salt = model_rng_next(g);
    W.now = 1000 * MS + model_range(g, 0, 999);
    admit_request_resolver *rr = make_resolver(g);
    admit_request_resource_limits limits[RA_RES];
    for (uint32_t r = 0; r < W.nres; r++) {
        uint32_t cap = W.m.pm_cap[W.m.pm[r]];
        limits[r].initial_limit = model_chance(g, 400) ? 0 : 1 + model_below(g, cap + 2);
        limits[r].max_limit_clamp = model_chance(g, 500) ? 0 : 1 + model_below(g, cap + 1);
    }
    make_aimd(g);
    W.thread_safe = model_chance(g, 250);
    admit_request_admission_config cfg;
    admit_request_admission_config_init(&cfg);
    cfg.resolver = rr;
    cfg.limits = limits;
    cfg.aimd = W.aimd;
    cfg.queue_wait_timeout_ns = W.default_timeout;
    cfg.waiter_capacity = 1 + model_below(g, 8); /* grows on demand */
    cfg.thread_safe = W.thread_safe;
    cfg.now = scripted_now;
    cfg.clock_ctx = &W.now;
    cfg.wake_at = on_wake;
    cfg.sink = (admit_event_sink){.fn = on_event, .ctx = NULL};
    cfg.run_id = seed;
    admit_error err;
    W.c = admit_request_admission_create(&cfg, &err);
    admit_request_resolver_destroy(rr); /* read at create only */
    MODEL_CHECK(W.c != NULL, "create: %s", err.message);
    model_init(limits);
    add_groups(g);
}

/* The end of a sequence: honour wake_at requests and release what is
** admitted, nothing else; every waiter must end. */
static void finish_drain(void) {
    for (uint32_t iter = 0;; iter++) {
        MODEL_CHECK(iter < 50 * RA_LEN, "the drain did not end: %u waiters queued", W.m.nqueued);
        if (W.nlive) {
            release_one(0, draw_outcome());
        } else if (!W.m.nqueued) {
            break;
        } else {
            MODEL_CHECK(W.nwakes > 0, "stranded: %u waiters queued, nothing in flight, no wake_at",
                        W.m.nqueued);
            int64_t t = W.wakes[0];
            for (uint32_t i = 1; i < W.nwakes; i++)
                if (W.wakes[i] < t) t = W.wakes[i];
            model_trace(OP_JUMP_TO_WAKE, t, 1, 0, 0);
            clock_to(t);
            op_tick();
        }
        check_all();
    }
}

static void release_all(void) {
    while (W.nlive) { /* a release may admit a waiter: another live lease */
        release_one(0, draw_outcome());
        check_all();
    }
}

/* Destroy denies the waiters still queued (shutdown); then every waiter
** that ever queued has had exactly one completion. */
static void destroy_and_check(void) {
    MODEL_EQ(W.nlive, 0, "live leases at destroy%s", "");
    model_trace(OP_SHUTDOWN, W.m.nqueued, -1, 0, 0);
    W.destroying = true;
    admit_request_admission_destroy(W.c);
    W.c = NULL;
    m_expire(); /* destroy admits nobody */
    W.m.shutdown = true;
    m_deny_all(ADMIT_REQ_DENY_SHUTDOWN);
    deliver_and_compare();
    W.destroying = false;
    for (uint32_t i = 0; i < W.nwaiters; i++) {
        const ra_waiter *w = &W.waiters[i];
        MODEL_CHECK(w->state != W_QUEUED, "waiter %u still queued after destroy", i);
        MODEL_EQ(w->calls, w->state == W_DONE ? 1 : 0, "waiter %u: completion calls", i);
    }
}

static const uint32_t op_weights[OP_KINDS] = {
    [OP_TRY] = 120,          [OP_ASYNC] = 230,        [OP_SYNC] = 30,
    [OP_RELEASE] = 200,      [OP_RELEASE_AGAIN] = 20, [OP_RELEASE_OLD] = 8,
    [OP_RELEASE_FORGED] = 6, [OP_CANCEL] = 60,        [OP_TICK] = 60,
    [OP_JUMP] = 80,          [OP_JUMP_TO_WAKE] = 50,  [OP_JUMP_TO_DEADLINE] = 20,
    [OP_CLAMP] = 20,         [OP_SHUTDOWN] = 1,       [OP_RESET] = 10};

/* What may follow a clock jump in the same step: anything but a jump, clamp
** changes more often (a clamp applies to the limit as of now). */
static const uint32_t follow_weights[OP_KINDS] = {
    [OP_TRY] = 120,          [OP_ASYNC] = 230,     [OP_SYNC] = 30,          [OP_RELEASE] = 200,
    [OP_RELEASE_AGAIN] = 20, [OP_RELEASE_OLD] = 8, [OP_RELEASE_FORGED] = 6, [OP_CANCEL] = 60,
    [OP_TICK] = 60,          [OP_CLAMP] = 200,     [OP_SHUTDOWN] = 1,       [OP_RESET] = 10};

static void run_sequence(uint64_t seed, uint64_t ops) {
    model_begin_sequence(seed, ops);
    make_world(seed);
    check_all();
    for (; MODEL.step < ops; MODEL.step++) {
        uint32_t kind = model_pick(&W.rng, op_weights, OP_KINDS);
        op_table[kind]();
        /* Half the plain clock jumps are followed at once by another
        ** operation, before the checks (whose snapshots apply due ramp
        ** steps): the controller then meets a now that no call has
        ** brought its state up to. */
        if (kind == OP_JUMP && model_chance(&W.rng, 500))
            op_table[model_pick(&W.rng, follow_weights, OP_KINDS)]();
        check_all();
    }
    MODEL.draining = true;
    switch (model_below(&W.rng, 3)) {
    case 0: /* drained by wake_at alone */
        finish_drain();
        SEEN.drains++;
        break;
    case 1: /* shut down, then the leases come back */
        op_shutdown();
        check_all();
        release_all();
        SEEN.shut_ends++;
        break;
    default: /* destroyed with waiters still queued */
        release_all();
        SEEN.destroy_ends++;
        break;
    }
    destroy_and_check();
}

static void test_model_request_admission(void **state) {
    (void)state;
    model_run_all(run_sequence, RA_LEN);
    printf("model_request_admission: %llu leases, %llu waiters queued (%llu admitted from the "
           "queue, %llu of them by a call catching up, %llu released inside their completion), up "
           "to %u queued at once; denied: "
           "no_capacity %llu, cooldown %llu, queue_timeout %llu, queued_waiters_ahead %llu, "
           "cancellation %llu, shutdown %llu, hard_policy %llu; %llu cancels refused; %llu rate "
           "limits, %llu limit decreases, %llu increases; %llu bad releases; %llu ticks; "
           "sequences ended drained %llu, shut down %llu, destroyed with waiters %llu\n",
           (unsigned long long)SEEN.leases, (unsigned long long)SEEN.queued,
           (unsigned long long)SEEN.admitted_waiting, (unsigned long long)SEEN.caught_up,
           (unsigned long long)SEEN.nested, SEEN.max_queued,
           (unsigned long long)SEEN.denied[ADMIT_REQ_DENY_NO_CAPACITY],
           (unsigned long long)SEEN.denied[ADMIT_REQ_DENY_COOLDOWN],
           (unsigned long long)SEEN.denied[ADMIT_REQ_DENY_QUEUE_TIMEOUT],
           (unsigned long long)SEEN.denied[ADMIT_REQ_DENY_QUEUED_WAITERS_AHEAD],
           (unsigned long long)SEEN.denied[ADMIT_REQ_DENY_CANCELLATION],
           (unsigned long long)SEEN.denied[ADMIT_REQ_DENY_SHUTDOWN],
           (unsigned long long)SEEN.denied[ADMIT_REQ_DENY_HARD_POLICY],
           (unsigned long long)SEEN.cancel_refused, (unsigned long long)SEEN.rate_limits,
           (unsigned long long)SEEN.decreases, (unsigned long long)SEEN.increases,
           (unsigned long long)SEEN.bad_releases, (unsigned long long)SEEN.ticks,
           (unsigned long long)SEEN.drains, (unsigned long long)SEEN.shut_ends,
           (unsigned long long)SEEN.destroy_ends);
    world_free();
}

int main(int argc, char **argv) {
    MODEL.name = "model_request_admission";
    MODEL.clock = &W.now;
    MODEL.describe = describe;
    if (!model_parse_args(argc, argv)) return 2;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_model_request_admission)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
