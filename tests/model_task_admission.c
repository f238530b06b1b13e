/*
** TaskAdmissionController with every policy against a deliberately naive
** model, over random operation sequences (model_common.h: seeds, budget,
** replay).
**
** The controller is driven the way the dispatcher drives it: a real
** FairTaskQueue holds the ready tasks and its view is the controller's
** QueueView input (the queue itself is checked by model_fair_queue).  Each
** sequence draws groups (weights, admitted limits, local groups), resource
** limits, tasks (resources in any order, amounts 1 to 3) and one policy:
** StrictFair, BoundedBorrow (rounding, default, explicit and dynamic
** ceilings, reserve fraction and slots) or ProviderAware over a scripted
** request pressure snapshot on a scripted clock, startup ramps included.
**
** The model is SPEC §3 written the plain way: the hard ledger as plain
** counters (leased per resource, per group and resource, running per group,
** debt per group and resource), and every decision recomputed from scratch
** from the SPEC text by scanning the view's first candidates:
**   shutdown -> shutdown; any amount above availability -> no_capacity;
**   StrictFair: group_cap when the group has an admitted limit, runs at it,
**     and some other group's hard-eligible first candidate requests one of
**     the task's fair resources (everything but submission, or submission
**     alone);
**   BoundedBorrow: per resource in request order, strict share =
**     ceil/floor(limit * w / W) in integers (W: this group plus the peers
**     whose hard-eligible first candidate requests r, or 2w alone), at least
**     1, at most the admitted limit and the limit; peer pressure: borrow_debt
**     with debt, group_cap over the share; none: borrow min(amount,
**     projected - share) up to the ceiling (explicit, default, or
**     max(0, limit - reserved - share)); a group holding none of r is never
**     denied on r (README); release repays the released amounts, clamped;
**   ProviderAware: StrictFair, then policy_denial (advisory) when the
**     group's request resource is pressured and another group's first
**     candidate is hard-eligible, StrictFair-allowed and unpressured;
**     pressured: aggregate full, cooling, waiters, or in-flight at the
**     limit in force now, min(current (raised to the ramp's 1 +
**     floor((initial-1) * elapsed / ramp) while ramping), effective max).
** After every operation: the admission view (limits, ledger, debt, most
** leased, live leases, shutdown) and the statistics equal the model's;
** nothing is ever leased above its limit; every decision the real
** controller made (is_eligible inside select_next, try_acquire, explain_
** blocked) equals the model's, and is_eligible agrees with try_acquire.
** Leases: unique ids; each is released once as "released"; a repeated
** release is duplicate (or stale_lease once the slot was reused), a lease
** from before a reset is wrong_controller_generation, a forged one unknown
** or wrong generation, and none of them changes anything.  Every sequence
** ends by releasing every live lease: the ledger and the debt are zero.
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

#include "admit/fair_queue.h"
#include "admit/provider_aware.h"
#include "admit/task_admission.h"
#include "model_common.h"

#define TA_GROUPS 5
#define TA_RES    4
#define TA_TASKS  40
#define TA_QRES   3 /* request resources of the scripted pressure snapshot */
#define TA_PMS    2
#define TA_RING   64 /* released / old-generation leases kept for bad releases */
#define TA_LEN    2000

enum { POL_STRICT, POL_BOUNDED, POL_AWARE, POL_KINDS };

enum {
    OP_ENQUEUE,
    OP_DISCARD,
    OP_DISPATCH,
    OP_TRY,
    OP_ELIGIBLE_TRY,
    OP_RELEASE,
    OP_RELEASE_AGAIN,
    OP_RELEASE_OLD,
    OP_RELEASE_FORGED,
    OP_LEASE_TASK,
    OP_EXPLAIN,
    OP_CLOCK,
    OP_PRESSURE,
    OP_SHUTDOWN,
    OP_RESET,
    OP_KINDS
};

static const char *const op_names[OP_KINDS] = {
    "enqueue",         "discard",       "dispatch",    "try_acquire",    "is_eligible+try_acquire",
    "release",         "release again", "release old", "release forged", "lease_task",
    "explain_blocked", "clock",         "pressure",    "shutdown",       "reset"};

enum { L_LIVE, L_RELEASED, L_OLD };

typedef struct ta_lease {
    admit_task_lease h;
    uint32_t task;
    uint8_t state;
} ta_lease;

/* The model: the ledger as plain counters. */
typedef struct ta_model {
    uint32_t leased[TA_RES], leased_g[TA_GROUPS][TA_RES], running[TA_GROUPS];
    uint32_t debt[TA_GROUPS][TA_RES], max_leased[TA_RES];
    uint64_t live;
    bool shutdown;
    admit_task_admission_stats stats;
} ta_model;

typedef struct ta_decision {
    bool allowed;
    admit_deny_reason reason;
    int deny_resource; /* bounded denials */
    uint32_t share;    /* bounded denials */
    bool advisory;
    uint32_t nborrow;
    uint16_t borrow_res[ADMIT_MAX_TASK_RESOURCES];
    uint32_t borrow_amt[ADMIT_MAX_TASK_RESOURCES];
} ta_decision;

typedef struct ta_world {
    model_rng rng;
    int policy;
    uint32_t ngroups, nres, ntasks;
    admit_group_spec groups[TA_GROUPS];
    uint32_t limits[TA_RES];
    admit_task tasks[TA_TASKS];
    /* bounded */
    admit_bounded_borrow_config bcfg;
    admit_borrow_ceiling ceilings[4];
    uint32_t reserve_quarters; /* reserve_fraction = quarters / 4 */
    /* provider_aware: the scripted snapshot and clock */
    int64_t now;
    int32_t group_qres[TA_GROUPS];
    uint32_t q_pm[TA_QRES], q_in_flight[TA_QRES], q_current[TA_QRES], q_emax[TA_QRES],
        q_waiters[TA_QRES], pm_in_flight[TA_PMS], pm_cap[TA_PMS], pm_waiters[TA_PMS];
    int64_t q_blocked[TA_QRES], q_ramp_start[TA_QRES], ramp_ns;
    uint32_t q_initial[TA_QRES];
    bool q_ramping[TA_QRES];
    admit_request_pressure pressure;

    admit_fair_queue *q;
    admit_task_admission *c;
    ta_model m;
    ta_lease *leases;
    uint32_t nleases, cap_leases;
    uint32_t *live; /* indices of live leases */
    uint32_t nlive;
    uint32_t released_ring[TA_RING], nreleased, old_ring[TA_RING], nold;
    model_idset ids;
} ta_world;

static ta_world W;

static struct {
    uint64_t acquired, denied[ADMIT_DENY_REASON_COUNT], advisory, borrowed, stale_commits;
    uint64_t bad_releases[ADMIT_RELEASE_REASON_COUNT], dispatch_none, resets, policies[POL_KINDS];
} SEEN;

static void describe(const model_op *op, char *buf, size_t n) {
    snprintf(buf, n, "%s (%lld, %lld, %lld, %lld)", op_names[op->kind], (long long)op->a,
             (long long)op->b, (long long)op->c, (long long)op->d);
}

static uint32_t task_index(const admit_task *t) {
    MODEL_CHECK(t >= W.tasks && t < W.tasks + W.ntasks, "a task pointer the test never made");
    return (uint32_t)(t - W.tasks);
}

/* ---- the model's decisions -------------------------------------------------- */

static uint32_t weight_of(uint32_t g) {
    return W.groups[g].weight < 1 ? 1u : (uint32_t)W.groups[g].weight;
}

static uint32_t amount_of(const admit_task *t, uint32_t r) {
    for (uint8_t i = 0; i < t->resources.count; i++)
        if (t->resources.resource[i] == r) return t->resources.amount[i];
    return 0;
}

static bool m_hard_eligible(const admit_task *t) {
    for (uint8_t i = 0; i < t->resources.count; i++) {
        uint32_t r = t->resources.resource[i];
        if (W.m.leased[r] + t->resources.amount[i] > W.limits[r]) return false;
    }
    return true;
}

static bool m_fair_resource(const admit_task *t, uint32_t r) {
    bool only_submission = true;
    for (uint8_t i = 0; i < t->resources.count; i++)
        if (t->resources.resource[i] != ADMIT_RESOURCE_SUBMISSION) only_submission = false;
    return only_submission ? r == ADMIT_RESOURCE_SUBMISSION
                           : r != ADMIT_RESOURCE_SUBMISSION && amount_of(t, r) > 0;
}

/* Another group's first candidate that is hard-eligible and requests r. */
static bool m_peer_wants(const admit_task *t, uint32_t r, const admit_queue_view *qv,
                         uint32_t *weights) {
    bool any = false;
    for (uint32_t g = 0; g < W.ngroups; g++) {
        const admit_task *head = qv->first_candidate[g];
        if (g == t->group || !head || !amount_of(head, r) || !m_hard_eligible(head)) continue;
        any = true;
        if (weights) *weights += weight_of(g);
    }
    return any;
}

static bool m_peer_pressure(const admit_task *t, uint32_t r, const admit_queue_view *qv) {
    return m_fair_resource(t, r) && m_peer_wants(t, r, qv, NULL);
}

static bool m_strict_allows(const admit_task *t, const admit_queue_view *qv) {
    int limit = W.groups[t->group].admitted_limit;
    if (limit <= 0 || W.m.running[t->group] < (uint32_t)limit) return true;
    for (uint32_t r = 0; r < W.nres; r++)
        if (m_peer_pressure(t, r, qv)) return false;
    return true;
}

static uint32_t m_share(const admit_task *t, uint32_t r, const admit_queue_view *qv) {
    uint32_t limit = W.limits[r];
    if (limit <= 1) return limit;
    uint32_t w = weight_of(t->group), total = w;
    if (!m_peer_wants(t, r, qv, &total)) total = 2 * w;
    uint32_t share =
        W.bcfg.rounding == ADMIT_SHARE_CEIL ? (limit * w + total - 1) / total : limit * w / total;
    if (share < 1) share = 1;
    int admitted = W.groups[t->group].admitted_limit;
    if (admitted > 0 && share > (uint32_t)admitted) share = (uint32_t)admitted;
    return share > limit ? limit : share;
}

static uint32_t m_ceiling(uint32_t g, uint32_t r, uint32_t share) {
    for (uint32_t i = 0; i < W.bcfg.ceiling_count; i++)
        if (W.ceilings[i].group == g && W.ceilings[i].resource == r) return W.ceilings[i].ceiling;
    if (W.bcfg.default_ceiling >= 0) return (uint32_t)W.bcfg.default_ceiling;
    uint32_t reserved = (W.limits[r] * W.reserve_quarters + 3) / 4;
    if (reserved > W.bcfg.max_reserved_slots) reserved = W.bcfg.max_reserved_slots;
    uint32_t solo = W.limits[r] > reserved ? W.limits[r] - reserved : 0;
    return solo > share ? solo - share : 0;
}

static void m_bounded(const admit_task *t, const admit_queue_view *qv, ta_decision *d) {
    uint32_t g = t->group;
    if (W.groups[g].admitted_limit <= 0) return;
    for (uint8_t i = 0; i < t->resources.count; i++) {
        uint32_t r = t->resources.resource[i], amount = t->resources.amount[i];
        uint32_t share = m_share(t, r, qv), held = W.m.leased_g[g][r], debt = W.m.debt[g][r];
        uint32_t projected = held + amount;
        bool deny = false;
        if (m_peer_pressure(t, r, qv)) {
            if (held && debt > 0)
                d->reason = ADMIT_DENY_BORROW_DEBT, deny = true;
            else if (held && projected > share)
                d->reason = ADMIT_DENY_GROUP_CAP, deny = true;
        } else if (projected > share) {
            uint32_t borrow = projected - share < amount ? projected - share : amount;
            if (held && debt + borrow > m_ceiling(g, r, share)) {
                d->reason = ADMIT_DENY_BORROW_DEBT;
                deny = true;
            } else {
                d->borrow_res[d->nborrow] = (uint16_t)r;
                d->borrow_amt[d->nborrow++] = borrow;
            }
        }
        if (deny) {
            d->allowed = false;
            d->deny_resource = (int)r;
            d->share = share;
            d->nborrow = 0;
            return;
        }
    }
}

static bool m_pressured(uint32_t g) {
    int32_t q = W.group_qres[g];
    if (q < 0) return false;
    uint32_t pm = W.q_pm[q];
    uint32_t limit = W.q_current[q];
    if (W.q_ramping[q]) { /* a ramp step due by now counts, applied or not */
        int64_t elapsed = W.now - W.q_ramp_start[q];
        uint32_t ramp = W.q_initial[q];
        if (elapsed < W.ramp_ns)
            ramp = 1 + (uint32_t)((int64_t)(W.q_initial[q] - 1) * (elapsed < 0 ? 0 : elapsed) /
                                  W.ramp_ns);
        if (ramp > limit) limit = ramp;
    }
    if (limit > W.q_emax[q]) limit = W.q_emax[q];
    return W.pm_in_flight[pm] >= W.pm_cap[pm] || W.now < W.q_blocked[q] || W.q_waiters[q] > 0 ||
           W.q_in_flight[q] >= limit;
}

static void m_aware(const admit_task *t, const admit_queue_view *qv, ta_decision *d) {
    if (!m_pressured(t->group)) return;
    for (uint32_t g = 0; g < W.ngroups; g++) {
        const admit_task *head = qv->first_candidate[g];
        if (g == t->group || !head || m_pressured(g) || !m_hard_eligible(head) ||
            !m_strict_allows(head, qv))
            continue;
        d->allowed = false;
        d->reason = ADMIT_DENY_POLICY;
        d->advisory = true;
        return;
    }
}

static ta_decision m_decide(const admit_task *t, const admit_queue_view *qv) {
    ta_decision d = {.allowed = true, .reason = ADMIT_DENY_NONE, .deny_resource = -1};
    if (W.m.shutdown)
        d.reason = ADMIT_DENY_SHUTDOWN;
    else if (!m_hard_eligible(t))
        d.reason = ADMIT_DENY_NO_CAPACITY;
    if (d.reason != ADMIT_DENY_NONE) {
        d.allowed = false;
        return d;
    }
    if (W.policy == POL_BOUNDED) {
        m_bounded(t, qv, &d);
    } else if (!m_strict_allows(t, qv)) {
        d.allowed = false;
        d.reason = ADMIT_DENY_GROUP_CAP;
    } else if (W.policy == POL_AWARE) {
        m_aware(t, qv, &d);
    }
    return d;
}

static void check_decision(const admit_policy_decision *real, const ta_decision *m,
                           const admit_task *t, const char *where) {
    MODEL_CHECK(real->allowed == m->allowed && real->reason == m->reason,
                "%s task %u (group %u): real %s/%s, model %s/%s", where, task_index(t), t->group,
                real->allowed ? "allowed" : "denied", admit_deny_reason_name(real->reason),
                m->allowed ? "allowed" : "denied", admit_deny_reason_name(m->reason));
    MODEL_EQ(real->advisory, m->advisory, "%s: advisory", where);
    MODEL_EQ(real->available_after_ns, -1, "%s: available_after", where);
    if (W.policy == POL_BOUNDED && !m->allowed && m->deny_resource >= 0) {
        MODEL_EQ(real->deny_resource, m->deny_resource, "%s: deny_resource", where);
        MODEL_EQ(real->strict_share, m->share, "%s: strict_share", where);
    }
}

/* ---- the model's ledger ------------------------------------------------------ */

static void m_acquire(const admit_task *t, const ta_decision *d) {
    for (uint8_t i = 0; i < t->resources.count; i++) {
        uint32_t r = t->resources.resource[i];
        W.m.leased[r] += t->resources.amount[i];
        W.m.leased_g[t->group][r] += t->resources.amount[i];
        if (W.m.leased[r] > W.m.max_leased[r]) W.m.max_leased[r] = W.m.leased[r];
    }
    for (uint32_t i = 0; i < d->nborrow; i++)
        W.m.debt[t->group][d->borrow_res[i]] += d->borrow_amt[i];
    SEEN.borrowed += d->nborrow > 0;
    W.m.running[t->group]++;
    W.m.live++;
    W.m.stats.acquired++;
    if (W.m.leased[0] > W.m.stats.max_leased_submission)
        W.m.stats.max_leased_submission = W.m.leased[0];
}

static void m_release(const admit_task *t) {
    for (uint8_t i = 0; i < t->resources.count; i++) {
        uint32_t r = t->resources.resource[i], a = t->resources.amount[i];
        W.m.leased[r] -= a;
        W.m.leased_g[t->group][r] -= a;
        if (W.policy == POL_BOUNDED) {
            uint32_t *debt = &W.m.debt[t->group][r];
            *debt = *debt > a ? *debt - a : 0;
        }
    }
    W.m.running[t->group]--;
    W.m.live--;
    W.m.stats.released++;
}

/* ---- leases ------------------------------------------------------------------- */

static void lease_add(admit_task_lease h, uint32_t task) {
    MODEL_CHECK(h.lease_id != 0, "an acquired lease has id 0");
    MODEL_CHECK(model_idset_insert(&W.ids, h.lease_id), "lease id %llu handed out twice",
                (unsigned long long)h.lease_id);
    if (W.nleases == W.cap_leases) {
        W.cap_leases = W.cap_leases ? 2 * W.cap_leases : 256;
        W.leases = realloc(W.leases, W.cap_leases * sizeof *W.leases);
        W.live = realloc(W.live, W.cap_leases * sizeof *W.live);
        if (!W.leases || !W.live) abort();
    }
    W.leases[W.nleases] = (ta_lease){.h = h, .task = task, .state = L_LIVE};
    W.live[W.nlive++] = W.nleases++;
}

static void ring_push(uint32_t *ring, uint32_t *n, uint32_t idx) {
    if (*n == TA_RING)
        memmove(ring, ring + 1, (TA_RING - 1) * sizeof *ring);
    else
        (*n)++;
    ring[*n - 1] = idx;
}

/* A proper release of live lease number k in W.live. */
static void release_live(uint32_t k) {
    uint32_t idx = W.live[k];
    ta_lease *l = &W.leases[idx];
    const admit_task *t = &W.tasks[l->task];
    MODEL_CHECK(admit_task_admission_lease_task(W.c, l->h) == t, "lease_task of a live lease");
    admit_release_reason why = admit_task_admission_release(W.c, l->h);
    MODEL_CHECK(why == ADMIT_RELEASE_RELEASED, "release of a live lease: %s",
                admit_release_reason_name(why));
    W.m.stats.release_reasons[why]++;
    m_release(t);
    l->state = L_RELEASED;
    W.live[k] = W.live[--W.nlive];
    ring_push(W.released_ring, &W.nreleased, idx);
}

/* A release that must return nothing, with the reasons it may give. */
static void release_bad(admit_task_lease h, unsigned allowed_mask, const char *what) {
    admit_release_reason why = admit_task_admission_release(W.c, h);
    MODEL_CHECK(why != ADMIT_RELEASE_RELEASED && ((1u << why) & allowed_mask),
                "%s release returned %s", what, admit_release_reason_name(why));
    MODEL_CHECK(admit_task_admission_lease_task(W.c, h) == NULL, "%s: lease_task not NULL", what);
    W.m.stats.release_reasons[why]++;
    SEEN.bad_releases[why]++;
}

/* ---- checks after every operation ---------------------------------------------- */

static void check_all(void) {
    const admit_admission_view *v = admit_task_admission_view(W.c);
    MODEL_EQ(v->leases_active, W.m.live, "leases_active%s", "");
    MODEL_EQ(v->leases_active, W.nlive, "leases_active vs the test's live leases%s", "");
    MODEL_EQ(v->shutdown, W.m.shutdown, "shutdown%s", "");
    for (uint32_t r = 0; r < W.nres; r++) {
        MODEL_EQ(v->limits[r], W.limits[r], "limits[%u]", r);
        MODEL_EQ(v->leased[r], W.m.leased[r], "leased[%u]", r);
        MODEL_EQ(v->max_leased[r], W.m.max_leased[r], "max_leased[%u]", r);
        MODEL_CHECK(v->leased[r] <= v->limits[r] && v->max_leased[r] <= v->limits[r],
                    "capacity exceeded on resource %u: leased %u (most %u), limit %u", r,
                    v->leased[r], v->max_leased[r], v->limits[r]);
    }
    for (uint32_t g = 0; g < W.ngroups; g++) {
        MODEL_EQ(v->running_by_group[g], W.m.running[g], "running_by_group[%u]", g);
        for (uint32_t r = 0; r < W.nres; r++) {
            MODEL_EQ(v->leased_by_group[g * W.nres + r], W.m.leased_g[g][r],
                     "leased_by_group[%u][%u]", g, r);
            MODEL_EQ(v->debt[g * W.nres + r], W.m.debt[g][r], "debt[%u][%u]", g, r);
        }
    }
    admit_task_admission_stats st;
    admit_task_admission_stats_get(W.c, &st);
    MODEL_EQ(st.acquired, W.m.stats.acquired, "stats.acquired%s", "");
    MODEL_EQ(st.released, W.m.stats.released, "stats.released%s", "");
    MODEL_EQ(st.max_leased_submission, W.m.stats.max_leased_submission, "stats.max_leased%s", "");
    for (int k = 0; k < ADMIT_RELEASE_REASON_COUNT; k++)
        MODEL_EQ(st.release_reasons[k], W.m.stats.release_reasons[k], "stats.release_reasons[%s]",
                 admit_release_reason_name((admit_release_reason)k));
    for (int k = 0; k < ADMIT_DENY_REASON_COUNT; k++)
        MODEL_EQ(st.denied[k], W.m.stats.denied[k], "stats.denied[%s]",
                 admit_deny_reason_name((admit_deny_reason)k));
}

/* ---- operations ------------------------------------------------------------------ */

static const admit_queue_view *qview(void) {
    return admit_fair_queue_view(W.q);
}

static void op_enqueue(void) {
    const admit_task *items[3];
    uint32_t n = 1 + model_below(&W.rng, 3);
    for (uint32_t i = 0; i < n; i++)
        items[i] = &W.tasks[model_below(&W.rng, W.ntasks)];
    model_trace(OP_ENQUEUE, n, task_index(items[0]), 0, 0);
    admit_fair_queue_enqueue(W.q, items, n, NULL);
}

static void op_discard(void) {
    uint32_t i = model_below(&W.rng, W.ntasks);
    model_trace(OP_DISCARD, i, 0, 0, 0);
    admit_fair_queue_discard(W.q, W.tasks[i].task_id);
}

/* try_acquire of t; the real decision must equal the model's.  true: the
** lease is the test's now. */
static bool acquire(const admit_task *t, const char *where, admit_task_lease *out) {
    ta_decision md = m_decide(t, qview());
    admit_policy_decision d;
    admit_task_lease h = {0};
    bool ok = admit_task_admission_try_acquire(W.c, t, qview(), W.now, &h, &d);
    MODEL_EQ(ok, md.allowed, "%s: try_acquire allowed", where);
    check_decision(&d, &md, t, where);
    if (!ok) {
        W.m.stats.denied[md.reason]++;
        SEEN.denied[md.reason]++;
        SEEN.advisory += md.advisory;
        return false;
    }
    m_acquire(t, &md);
    lease_add(h, task_index(t));
    SEEN.acquired++;
    if (out) *out = h;
    return true;
}

static bool eligible_pred(void *ctx, const admit_task *t, const admit_queue_view *v) {
    (void)ctx;
    admit_policy_decision d;
    bool ok = admit_task_admission_is_eligible(W.c, t, v, &d);
    ta_decision md = m_decide(t, v);
    MODEL_EQ(ok, md.allowed, "is_eligible inside select_next%s", "");
    check_decision(&d, &md, t, "is_eligible inside select_next");
    return ok;
}

/* The dispatcher's loop body: select (is_eligible), try_acquire, commit;
** a stale commit (the queue changed in between) releases the lease. */
static void op_dispatch(void) {
    bool meddle = model_chance(&W.rng, 100);
    uint32_t extra = model_below(&W.rng, W.ntasks);
    model_trace(OP_DISPATCH, meddle, extra, 0, 0);
    admit_queue_selection sel;
    if (!admit_fair_queue_select_next(W.q, eligible_pred, NULL, &sel)) {
        SEEN.dispatch_none++;
        return;
    }
    admit_task_lease h;
    MODEL_CHECK(acquire(sel.task, "dispatch", &h), "is_eligible said yes, try_acquire said no");
    if (meddle) {
        const admit_task *items[1] = {&W.tasks[extra]};
        admit_fair_queue_enqueue(W.q, items, 1, NULL);
    }
    const admit_task *t = admit_fair_queue_commit(W.q, &sel);
    if (t) {
        MODEL_CHECK(t == sel.task, "commit returned another task");
        return;
    }
    MODEL_CHECK(meddle, "commit failed on an unchanged queue");
    SEEN.stale_commits++;
    release_live(W.nlive - 1); /* the lease just taken */
}

static void op_try(void) {
    uint32_t i = model_below(&W.rng, W.ntasks);
    model_trace(OP_TRY, i, 0, 0, 0);
    acquire(&W.tasks[i], "try_acquire", NULL);
}

static void op_eligible_try(void) {
    uint32_t i = model_below(&W.rng, W.ntasks);
    model_trace(OP_ELIGIBLE_TRY, i, 0, 0, 0);
    const admit_task *t = &W.tasks[i];
    admit_policy_decision d;
    bool eligible = admit_task_admission_is_eligible(W.c, t, qview(), &d);
    ta_decision md = m_decide(t, qview());
    check_decision(&d, &md, t, "is_eligible");
    MODEL_EQ(acquire(t, "try_acquire after is_eligible", NULL), eligible,
             "try_acquire vs is_eligible%s", "");
}

static void op_release(void) {
    if (!W.nlive) return;
    uint32_t k = model_below(&W.rng, W.nlive);
    model_trace(OP_RELEASE, (int64_t)W.leases[W.live[k]].h.lease_id, W.leases[W.live[k]].task, 0,
                0);
    release_live(k);
}

static void op_release_again(void) {
    if (!W.nreleased) return;
    const ta_lease *l = &W.leases[W.released_ring[model_below(&W.rng, W.nreleased)]];
    if (l->state != L_RELEASED) return; /* a reset made it old: op_release_old's case */
    model_trace(OP_RELEASE_AGAIN, (int64_t)l->h.lease_id, l->h.slot, 0, 0);
    /* duplicate while its slot is unused, stale_lease once a newer lease took it */
    release_bad(l->h, 1u << ADMIT_RELEASE_DUPLICATE | 1u << ADMIT_RELEASE_STALE_LEASE, "repeated");
}

static void op_release_old(void) {
    if (!W.nold) return;
    const ta_lease *l = &W.leases[W.old_ring[model_below(&W.rng, W.nold)]];
    model_trace(OP_RELEASE_OLD, (int64_t)l->h.lease_id, l->h.generation, 0, 0);
    release_bad(l->h, 1u << ADMIT_RELEASE_WRONG_GENERATION, "old generation");
}

static void op_release_forged(void) {
    uint32_t kind = model_below(&W.rng, 3);
    admit_task_lease h = {0};
    if (W.nlive)
        h = W.leases[W.live[model_below(&W.rng, W.nlive)]].h;
    else if (kind == 2)
        kind = 0;
    model_trace(OP_RELEASE_FORGED, kind, (int64_t)h.lease_id, 0, 0);
    if (kind == 0) {
        h.lease_id = 0; /* "no lease" */
        release_bad(h, 1u << ADMIT_RELEASE_UNKNOWN_LEASE, "id 0");
    } else if (kind == 1) {
        h.lease_id = UINT64_MAX / 2; /* never handed out */
        h.generation = W.nleases ? W.leases[W.nleases - 1].h.generation : h.generation;
        release_bad(h, 1u << ADMIT_RELEASE_UNKNOWN_LEASE | 1u << ADMIT_RELEASE_WRONG_GENERATION,
                    "never issued");
    } else {
        h.generation += 7; /* a live lease's id and slot, a generation that never was */
        release_bad(h, 1u << ADMIT_RELEASE_WRONG_GENERATION, "forged generation");
    }
}

static void op_lease_task(void) {
    if (!W.nleases) return;
    const ta_lease *l = &W.leases[model_below(&W.rng, W.nleases)];
    model_trace(OP_LEASE_TASK, (int64_t)l->h.lease_id, l->state, 0, 0);
    const admit_task *t = admit_task_admission_lease_task(W.c, l->h);
    MODEL_CHECK(t == (l->state == L_LIVE ? &W.tasks[l->task] : NULL), "lease_task of a %s lease",
                l->state == L_LIVE ? "live" : "dead");
}

static void op_explain(void) {
    model_trace(OP_EXPLAIN, 0, 0, 0, 0);
    admit_block_summary s;
    admit_task_admission_explain_blocked(W.c, qview(), &s);
    uint32_t counts[ADMIT_DENY_REASON_COUNT] = {0};
    for (uint32_t g = 0; g < W.ngroups; g++) {
        const admit_task *head = qview()->first_candidate[g];
        if (!head) continue;
        ta_decision d = m_decide(head, qview());
        if (!d.allowed) counts[d.reason]++;
    }
    MODEL_EQ(s.queued_count, qview()->queued_total, "explain_blocked: queued_count%s", "");
    MODEL_EQ(s.earliest_available_after_ns, -1, "explain_blocked: available_after%s", "");
    for (int k = 0; k < ADMIT_DENY_REASON_COUNT; k++)
        MODEL_EQ(s.reason_counts[k], counts[k], "explain_blocked: reason_counts[%s]",
                 admit_deny_reason_name((admit_deny_reason)k));
}

static void op_clock(void) {
    int64_t dt = model_range(&W.rng, 0, 3000000);
    model_trace(OP_CLOCK, dt, 0, 0, 0);
    W.now += dt;
}

/* One field of the scripted request pressure snapshot changes. */
static void op_pressure(void) {
    uint32_t q = model_below(&W.rng, TA_QRES), pm = model_below(&W.rng, TA_PMS);
    uint32_t field = model_below(&W.rng, 10), v = model_below(&W.rng, 4);
    model_trace(OP_PRESSURE, q, pm, field, v);
    switch (field) {
    case 0: W.q_in_flight[q] = v; break;
    case 1: W.q_current[q] = v + 1; break;
    case 2: W.q_emax[q] = v + 1; break;
    case 3: W.q_waiters[q] = v / 2; break;
    case 4:
        W.q_blocked[q] = v == 3 ? INT64_MIN : W.now + model_range(&W.rng, -2000000, 2000000);
        break;
    case 5: W.pm_in_flight[pm] = v; break;
    case 6: W.pm_cap[pm] = v + 1; break;
    case 7: W.q_ramping[q] = v < 2; break;
    case 8: W.q_ramp_start[q] = W.now - model_range(&W.rng, -1000000, 4000000); break;
    default: W.q_initial[q] = v + 1; break;
    }
}

static void op_shutdown(void) {
    model_trace(OP_SHUTDOWN, 0, 0, 0, 0);
    admit_task_admission_shutdown(W.c);
    W.m.shutdown = true;
}

/* Every live lease is dropped (and becomes old), the ledger and debt clear. */
static void op_reset(void) {
    model_trace(OP_RESET, W.nlive, 0, 0, 0);
    admit_task_admission_reset(W.c);
    for (uint32_t k = 0; k < W.nlive; k++) {
        W.leases[W.live[k]].state = L_OLD;
        ring_push(W.old_ring, &W.nold, W.live[k]);
    }
    for (uint32_t i = 0; i < W.nreleased; i++) {
        ta_lease *l = &W.leases[W.released_ring[i]];
        if (l->state == L_RELEASED) {
            l->state = L_OLD;
            ring_push(W.old_ring, &W.nold, W.released_ring[i]);
        }
    }
    W.nreleased = 0;
    W.nlive = 0;
    uint32_t max_leased[TA_RES];
    memcpy(max_leased, W.m.max_leased, sizeof max_leased);
    admit_task_admission_stats stats = W.m.stats;
    memset(&W.m, 0, sizeof W.m);
    memcpy(W.m.max_leased, max_leased, sizeof max_leased);
    W.m.stats = stats; /* statistics keep counting across resets */
    SEEN.resets++;
}

static void (*const op_table[OP_KINDS])(void) = {
    [OP_ENQUEUE] = op_enqueue,
    [OP_DISCARD] = op_discard,
    [OP_DISPATCH] = op_dispatch,
    [OP_TRY] = op_try,
    [OP_ELIGIBLE_TRY] = op_eligible_try,
    [OP_RELEASE] = op_release,
    [OP_RELEASE_AGAIN] = op_release_again,
    [OP_RELEASE_OLD] = op_release_old,
    [OP_RELEASE_FORGED] = op_release_forged,
    [OP_LEASE_TASK] = op_lease_task,
    [OP_EXPLAIN] = op_explain,
    [OP_CLOCK] = op_clock,
    [OP_PRESSURE] = op_pressure,
    [OP_SHUTDOWN] = op_shutdown,
    [OP_RESET] = op_reset,
};

/* ---- one sequence ------------------------------------------------------------------ */

static void make_tasks(model_rng *r) {
    W.ntasks = 4 + model_below(r, TA_TASKS - 3);
    for (uint32_t i = 0; i < W.ntasks; i++) {
        admit_task *t = &W.tasks[i];
        memset(t, 0, sizeof *t);
        t->task_id = 1 + i;
        t->group = model_below(r, W.ngroups);
        t->column = t->group;
        t->row = i;
        t->type = ADMIT_TASK_CELL;
        uint16_t order[TA_RES];
        for (uint16_t k = 0; k < W.nres; k++)
            order[k] = k;
        for (uint32_t k = W.nres - 1; k > 0 && model_chance(r, 300); k--) { /* some shuffled */
            uint32_t j = model_below(r, k + 1);
            uint16_t tmp = order[k];
            order[k] = order[j];
            order[j] = tmp;
        }
        for (uint32_t k = 0; k < W.nres; k++) {
            if (order[k] != ADMIT_RESOURCE_SUBMISSION && model_chance(r, 450)) continue;
            t->resources.resource[t->resources.count] = order[k];
            t->resources.amount[t->resources.count] =
                model_chance(r, 700) ? 1 : 2 + model_below(r, 2);
            t->resources.count++;
        }
    }
}

static int64_t scripted_now(void *ctx) {
    return *(const int64_t *)ctx;
}

static admit_task_policy make_policy(model_rng *r) {
    admit_task_policy pol;
    admit_error err;
    W.policy = (int)model_below(r, POL_KINDS);
    SEEN.policies[W.policy]++;
    if (W.policy == POL_STRICT) {
        admit_policy_strict_fair(&pol);
        return pol;
    }
    if (W.policy == POL_BOUNDED) {
        admit_bounded_borrow_config_init(&W.bcfg);
        W.bcfg.rounding = model_chance(r, 500) ? ADMIT_SHARE_CEIL : ADMIT_SHARE_FLOOR;
        W.bcfg.default_ceiling = model_chance(r, 300) ? (int64_t)model_below(r, 4) : -1;
        static const uint32_t quarters[] = {0, 0, 1, 2, 4};
        W.reserve_quarters = quarters[model_below(r, 5)];
        W.bcfg.reserve_fraction = W.reserve_quarters / 4.0;
        W.bcfg.max_reserved_slots = 1 + model_below(r, 8);
        W.bcfg.ceiling_count = model_below(r, 4);
        for (uint32_t i = 0; i < W.bcfg.ceiling_count; i++)
            W.ceilings[i] = (admit_borrow_ceiling){.group = model_below(r, W.ngroups),
                                                   .resource = (uint16_t)model_below(r, W.nres),
                                                   .ceiling = model_below(r, 4)};
        W.bcfg.ceilings = W.ceilings;
        MODEL_CHECK(admit_policy_bounded_borrow(&W.bcfg, &pol, &err) == ADMIT_OK, "bounded: %s",
                    err.message);
        return pol;
    }
    for (uint32_t q = 0; q < TA_QRES; q++) {
        W.q_pm[q] = q % TA_PMS;
        W.q_current[q] = W.q_emax[q] = 2;
        W.q_blocked[q] = INT64_MIN;
        W.q_initial[q] = 1 + model_below(r, 4);
        W.q_ramping[q] = model_chance(r, 300);
        W.q_ramp_start[q] = W.now;
    }
    W.ramp_ns = model_range(r, 1, 4000000);
    for (uint32_t pm = 0; pm < TA_PMS; pm++)
        W.pm_cap[pm] = 3;
    for (uint32_t g = 0; g < W.ngroups; g++)
        W.group_qres[g] = (int32_t)model_below(r, TA_QRES + 1) - 1;
    W.pressure = (admit_request_pressure){.resource_count = TA_QRES,
                                          .pm_count = TA_PMS,
                                          .resource_pm = W.q_pm,
                                          .in_flight = W.q_in_flight,
                                          .current_limit = W.q_current,
                                          .effective_max = W.q_emax,
                                          .blocked_until_ns = W.q_blocked,
                                          .waiters = W.q_waiters,
                                          .pm_in_flight = W.pm_in_flight,
                                          .pm_cap = W.pm_cap,
                                          .pm_waiters = W.pm_waiters,
                                          .initial_limit = W.q_initial,
                                          .ramp_start_ns = W.q_ramp_start,
                                          .ramping = W.q_ramping,
                                          .startup_ramp_ns = W.ramp_ns};
    admit_provider_aware_config acfg = {.pressure = &W.pressure,
                                        .group_request_resource = W.group_qres,
                                        .group_count = W.ngroups,
                                        .now = scripted_now,
                                        .clock_ctx = &W.now};
    MODEL_CHECK(admit_policy_provider_aware(&acfg, &pol, &err) == ADMIT_OK, "aware: %s",
                err.message);
    return pol;
}

static void make_world(uint64_t seed) {
    free(W.leases);
    free(W.live);
    model_idset_free(&W.ids);
    memset(&W, 0, sizeof W);
    model_rng *r = &W.rng;
    model_rng_seed(r, seed);
    W.now = 1000000000;
    W.ngroups = 1 + model_below(r, TA_GROUPS);
    W.nres = 1 + model_below(r, TA_RES);
    static const int weights[] = {-1, 0, 1, 1, 2, 3, 4};
    static const int admitted[] = {-1, 0, 1, 1, 2, 2, 3, 4};
    for (uint32_t g = 0; g < W.ngroups; g++) {
        snprintf(W.groups[g].key, sizeof W.groups[g].key, "g%u", g);
        W.groups[g].weight = weights[model_below(r, 7)];
        W.groups[g].admitted_limit = admitted[model_below(r, 8)];
        W.groups[g].kind = W.groups[g].admitted_limit > 0 ? ADMIT_KIND_MODEL : ADMIT_KIND_LOCAL;
    }
    for (uint32_t res = 0; res < W.nres; res++)
        W.limits[res] = res == 0                  ? 1 + model_below(r, 6)
                        : model_below(r, 20) == 0 ? 0
                                                  : 1 + model_below(r, 5);
    make_tasks(r);
    admit_error err;
    W.q = admit_fair_queue_create(W.groups, W.ngroups, W.nres, &err);
    MODEL_CHECK(W.q != NULL, "queue: %s", err.message);
    admit_task_admission_config cfg = {.groups = W.groups,
                                       .group_count = W.ngroups,
                                       .resource_count = W.nres,
                                       .limits = W.limits,
                                       .policy = make_policy(r)};
    W.c = admit_task_admission_create(&cfg, &err);
    MODEL_CHECK(W.c != NULL, "controller: %s", err.message);
}

static void run_sequence(uint64_t seed, uint64_t ops) {
    model_begin_sequence(seed, ops);
    make_world(seed);
    /* per mille, roughly; a shutdown lasts until the next reset */
    uint32_t weights[OP_KINDS] = {[OP_ENQUEUE] = 160,
                                  [OP_DISCARD] = 40,
                                  [OP_DISPATCH] = 220,
                                  [OP_TRY] = 100,
                                  [OP_ELIGIBLE_TRY] = 80,
                                  [OP_RELEASE] = 240,
                                  [OP_RELEASE_AGAIN] = 40,
                                  [OP_RELEASE_OLD] = 20,
                                  [OP_RELEASE_FORGED] = 10,
                                  [OP_LEASE_TASK] = 30,
                                  [OP_EXPLAIN] = 40,
                                  [OP_CLOCK] = 30,
                                  [OP_PRESSURE] = W.policy == POL_AWARE ? 80 : 0,
                                  [OP_SHUTDOWN] = model_chance(&W.rng, 500),
                                  [OP_RESET] = 3};
    for (; MODEL.step < ops; MODEL.step++) {
        op_table[model_pick(&W.rng, weights, OP_KINDS)]();
        check_all();
    }
    /* every live lease released once; the ledger and the debt end at zero */
    MODEL.draining = true;
    while (W.nlive) {
        model_trace(OP_RELEASE, (int64_t)W.leases[W.live[0]].h.lease_id, 0, 0, 0);
        release_live(0);
        check_all();
    }
    const admit_admission_view *v = admit_task_admission_view(W.c);
    for (uint32_t res = 0; res < W.nres; res++) {
        MODEL_EQ(v->leased[res], 0, "leased[%u] after the drain", res);
        for (uint32_t g = 0; g < W.ngroups; g++)
            MODEL_EQ(v->debt[g * W.nres + res], 0, "debt[%u][%u] after the drain", g, res);
    }
    admit_task_admission_destroy(W.c);
    admit_fair_queue_destroy(W.q);
    W.c = NULL;
    W.q = NULL;
}

static void test_model_task_admission(void **state) {
    (void)state;
    model_run_all(run_sequence, TA_LEN);
    printf("model_task_admission: sequences by policy: strict %llu, bounded %llu, "
           "provider_aware %llu; %llu leases (%llu borrowing); denied: no_capacity %llu, "
           "group_cap %llu, borrow_debt %llu, shutdown %llu, policy %llu (advisory %llu); "
           "bad releases: duplicate %llu, stale %llu, wrong generation %llu, unknown %llu; "
           "%llu stale commits, %llu resets, %llu dispatches found nothing\n",
           (unsigned long long)SEEN.policies[POL_STRICT],
           (unsigned long long)SEEN.policies[POL_BOUNDED],
           (unsigned long long)SEEN.policies[POL_AWARE], (unsigned long long)SEEN.acquired,
           (unsigned long long)SEEN.borrowed,
           (unsigned long long)SEEN.denied[ADMIT_DENY_NO_CAPACITY],
           (unsigned long long)SEEN.denied[ADMIT_DENY_GROUP_CAP],
           (unsigned long long)SEEN.denied[ADMIT_DENY_BORROW_DEBT],
           (unsigned long long)SEEN.denied[ADMIT_DENY_SHUTDOWN],
           (unsigned long long)SEEN.denied[ADMIT_DENY_POLICY], (unsigned long long)SEEN.advisory,
           (unsigned long long)SEEN.bad_releases[ADMIT_RELEASE_DUPLICATE],
           (unsigned long long)SEEN.bad_releases[ADMIT_RELEASE_STALE_LEASE],
           (unsigned long long)SEEN.bad_releases[ADMIT_RELEASE_WRONG_GENERATION],
           (unsigned long long)SEEN.bad_releases[ADMIT_RELEASE_UNKNOWN_LEASE],
           (unsigned long long)SEEN.stale_commits, (unsigned long long)SEEN.resets,
           (unsigned long long)SEEN.dispatch_none);
    free(W.leases);
    free(W.live);
    model_idset_free(&W.ids);
}

int main(int argc, char **argv) {
    MODEL.name = "model_task_admission";
    MODEL.describe = describe;
    if (!model_parse_args(argc, argv)) return 2;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_model_task_admission)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
