/*
** TaskAdmissionController + StrictFair + BoundedBorrow (SPEC §3).
**
** Every fixture pairs a real FairTaskQueue (whose view supplies the first
** candidates, i.e. the peers) with a controller.  Tasks acquired in a test are
** usually separate structs of the same group that are not queued: the queue
** holds one waiting head per group, which is what peer pressure and strict
** shares look at.  Expected numbers are computed by hand from the SPEC.
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

#include "test_tasks.h"
#include "admit/fair_queue.h"
#include "admit/task_admission.h"

enum { R_SUB = ADMIT_RESOURCE_SUBMISSION, R_LLM = 1, R_REQ = 2, R_AUX = 3, NRES = 4 };

#define MAX_GROUPS 5
#define MAX_TASKS  128

typedef struct fixture {
    admit_group_spec groups[MAX_GROUPS];
    uint32_t group_count;
    uint32_t limits[NRES];
    admit_task tasks[MAX_TASKS];
    uint32_t task_count;
    admit_fair_queue *q;
    admit_task_admission *c;
} fixture;

typedef struct group_def {
    int weight;
    int admitted_limit; /* <= 0: local, no admitted limit */
} group_def;

/* The live objects (not the fixture, which lives on the test's stack), so the
** teardown frees them when an assertion longjmp'ed out of the test. */
static admit_task_admission *live_c;
static admit_fair_queue *live_q;

static int teardown_fixture(void **state) {
    (void)state;
    admit_task_admission_destroy(live_c);
    admit_fair_queue_destroy(live_q);
    live_c = NULL;
    live_q = NULL;
    return 0;
}

static void fx_done(fixture *fx) {
    admit_task_admission_destroy(fx->c);
    admit_fair_queue_destroy(fx->q);
    fx->c = NULL;
    fx->q = NULL;
    live_c = NULL;
    live_q = NULL;
}

/* limits: {submission, llm_wait, request, aux}.  policy is moved in. */
static void fx_init(fixture *fx, const group_def *defs, uint32_t group_count,
                    const uint32_t limits[NRES], admit_task_policy policy) {
    memset(fx, 0, sizeof *fx);
    fx->group_count = group_count;
    for (uint32_t g = 0; g < group_count; g++) {
        snprintf(fx->groups[g].key, sizeof fx->groups[g].key, "%c", 'A' + g);
        fx->groups[g].kind = defs[g].admitted_limit > 0 ? ADMIT_KIND_MODEL : ADMIT_KIND_LOCAL;
        fx->groups[g].weight = defs[g].weight;
        fx->groups[g].admitted_limit = defs[g].admitted_limit;
    }
    memcpy(fx->limits, limits, sizeof fx->limits);
    admit_error err;
    fx->q = admit_fair_queue_create(fx->groups, group_count, NRES, &err);
    assert_non_null(fx->q);
    live_q = fx->q;
    admit_task_admission_config cfg = {.groups = fx->groups,
                                       .group_count = group_count,
                                       .resource_count = NRES,
                                       .limits = fx->limits,
                                       .policy = policy};
    fx->c = admit_task_admission_create(&cfg, &err);
    assert_non_null(fx->c);
    live_c = fx->c;
}

static void fx_init_strict(fixture *fx, const group_def *defs, uint32_t n,
                           const uint32_t limits[NRES]) {
    admit_task_policy p;
    admit_policy_strict_fair(&p);
    fx_init(fx, defs, n, limits, p);
}

static void fx_init_bounded(fixture *fx, const group_def *defs, uint32_t n,
                            const uint32_t limits[NRES], const admit_bounded_borrow_config *cfg) {
    admit_task_policy p;
    admit_error err;
    assert_int_equal(admit_policy_bounded_borrow(cfg, &p, &err), ADMIT_OK);
    fx_init(fx, defs, n, limits, p);
}

/* A task of group g requesting the listed (resource, amount) pairs in order. */
static admit_task *mk_ordered(fixture *fx, uint32_t g, uint8_t n, const uint16_t *res,
                              const uint32_t *amt) {
    assert_true(fx->task_count < MAX_TASKS);
    uint32_t i = fx->task_count++;
    admit_task *t = &fx->tasks[i];
    test_task_init(t, g, i);
    t->resources.count = n;
    for (uint8_t k = 0; k < n; k++) {
        t->resources.resource[k] = res[k];
        t->resources.amount[k] = amt[k];
    }
    return t;
}

/* {submission: sub, llm_wait: llm, request: req} in that order; zeros omitted. */
static admit_task *mk(fixture *fx, uint32_t g, uint32_t sub, uint32_t llm, uint32_t req) {
    uint16_t res[3];
    uint32_t amt[3];
    uint8_t n = 0;
    const uint32_t a[3] = {sub, llm, req};
    for (uint16_t r = 0; r < 3; r++) {
        if (!a[r]) continue;
        res[n] = r;
        amt[n] = a[r];
        n++;
    }
    return mk_ordered(fx, g, n, res, amt);
}

static void enq(fixture *fx, const admit_task *t) {
    const admit_task *items[1] = {t};
    assert_int_equal(admit_fair_queue_enqueue(fx->q, items, 1, NULL), 1);
}

static const admit_queue_view *qv(const fixture *fx) {
    return admit_fair_queue_view(fx->q);
}

static const admit_admission_view *av(const fixture *fx) {
    return admit_task_admission_view(fx->c);
}

/* Acquire that must succeed. */
static admit_task_lease acq(fixture *fx, const admit_task *t) {
    admit_task_lease lease = {0};
    admit_policy_decision d;
    assert_true(admit_task_admission_is_eligible(fx->c, t, qv(fx), NULL));
    assert_true(admit_task_admission_try_acquire(fx->c, t, qv(fx), 1000, &lease, &d));
    assert_true(d.allowed);
    assert_true(lease.lease_id != 0);
    return lease;
}

/* Acquire that must be denied; is_eligible must agree.  Returns the reason
** and, when out != NULL, the decision. */
static admit_deny_reason denied(fixture *fx, const admit_task *t, admit_policy_decision *out) {
    admit_policy_decision e, d;
    assert_false(admit_task_admission_is_eligible(fx->c, t, qv(fx), &e));
    uint64_t before = av(fx)->leases_active;
    admit_task_lease lease = {0};
    assert_false(admit_task_admission_try_acquire(fx->c, t, qv(fx), 1000, &lease, &d));
    assert_false(d.allowed);
    assert_int_equal(d.reason, e.reason);
    assert_int_equal(d.deny_resource, e.deny_resource);
    assert_int_equal(av(fx)->leases_active, before);
    if (out) *out = d;
    return d.reason;
}

static uint32_t leased(const fixture *fx, uint16_t r) {
    return av(fx)->leased[r];
}

static uint32_t gleased(const fixture *fx, uint32_t g, uint16_t r) {
    return av(fx)->leased_by_group[g * NRES + r];
}

static uint32_t debt(const fixture *fx, uint32_t g, uint16_t r) {
    return av(fx)->debt[g * NRES + r];
}

static uint32_t running(const fixture *fx, uint32_t g) {
    return av(fx)->running_by_group[g];
}

/* ======================================================================== */
/* Controller: hard ledger, leases, release reasons, shutdown              */
/* ======================================================================== */

static void test_hard_ledger(void **state) {
    (void)state;
    const group_def defs[] = {{1, 0}, {1, 0}};
    const uint32_t limits[NRES] = {4, 2, 3, 0};
    fixture fx;
    fx_init_strict(&fx, defs, 2, limits);
    admit_task *t1 = mk(&fx, 0, 1, 1, 0), *t2 = mk(&fx, 0, 1, 1, 0), *t3 = mk(&fx, 0, 1, 1, 0);
    admit_task *u1 = mk(&fx, 1, 1, 0, 2), *u2 = mk(&fx, 1, 1, 0, 2), *u3 = mk(&fx, 1, 1, 0, 0);
    admit_task *big = mk(&fx, 1, 5, 0, 0);

    const admit_admission_view *v = av(&fx);
    assert_int_equal(v->resource_count, NRES);
    assert_int_equal(v->group_count, 2);
    assert_int_equal(v->limits[R_SUB], 4);
    assert_int_equal(v->limits[R_LLM], 2);
    assert_int_equal(v->limits[R_REQ], 3);
    assert_false(v->shutdown);

    /* 5 submissions > limit 4, on an idle controller. */
    assert_int_equal(denied(&fx, big, NULL), ADMIT_DENY_NO_CAPACITY);

    admit_task_lease l1 = acq(&fx, t1);
    assert_int_equal(leased(&fx, R_SUB), 1);
    assert_int_equal(leased(&fx, R_LLM), 1);
    assert_int_equal(gleased(&fx, 0, R_SUB), 1);
    assert_int_equal(gleased(&fx, 0, R_LLM), 1);
    assert_int_equal(running(&fx, 0), 1);
    assert_int_equal(v->leases_active, 1);
    assert_ptr_equal(admit_task_admission_lease_task(fx.c, l1), t1);

    admit_task_lease l2 = acq(&fx, t2);
    /* llm_wait: 2 - 2 = 0 < 1, although submission still has 2. */
    assert_int_equal(denied(&fx, t3, NULL), ADMIT_DENY_NO_CAPACITY);

    admit_task_lease l4 = acq(&fx, u1);
    assert_int_equal(leased(&fx, R_SUB), 3);
    assert_int_equal(leased(&fx, R_REQ), 2);
    assert_int_equal(gleased(&fx, 1, R_SUB), 1);
    assert_int_equal(gleased(&fx, 1, R_REQ), 2);
    assert_int_equal(gleased(&fx, 0, R_REQ), 0);
    assert_int_equal(running(&fx, 1), 1);
    /* request: 3 - 2 = 1 < 2. */
    assert_int_equal(denied(&fx, u2, NULL), ADMIT_DENY_NO_CAPACITY);
    /* Exactly the last submission slot. */
    admit_task_lease l5 = acq(&fx, u3);
    assert_int_equal(leased(&fx, R_SUB), 4);
    assert_int_equal(running(&fx, 1), 2);
    assert_int_equal(v->leases_active, 4);

    assert_int_equal(admit_task_admission_release(fx.c, l1), ADMIT_RELEASE_RELEASED);
    assert_int_equal(leased(&fx, R_SUB), 3);
    assert_int_equal(leased(&fx, R_LLM), 1);
    assert_int_equal(gleased(&fx, 0, R_SUB), 1);
    assert_int_equal(gleased(&fx, 0, R_LLM), 1);
    assert_int_equal(running(&fx, 0), 1);
    assert_int_equal(v->leases_active, 3);
    assert_null(admit_task_admission_lease_task(fx.c, l1));
    assert_ptr_equal(admit_task_admission_lease_task(fx.c, l2), t2);
    admit_task_lease l3 = acq(&fx, t3); /* capacity came back */

    admit_task_admission_stats st;
    admit_task_admission_stats_get(fx.c, &st);
    assert_int_equal(st.acquired, 5);
    assert_int_equal(st.released, 1);
    assert_int_equal(st.denied[ADMIT_DENY_NO_CAPACITY], 3);
    assert_int_equal(st.max_leased_submission, 4);

    assert_int_equal(admit_task_admission_release(fx.c, l2), ADMIT_RELEASE_RELEASED);
    assert_int_equal(admit_task_admission_release(fx.c, l3), ADMIT_RELEASE_RELEASED);
    assert_int_equal(admit_task_admission_release(fx.c, l4), ADMIT_RELEASE_RELEASED);
    assert_int_equal(admit_task_admission_release(fx.c, l5), ADMIT_RELEASE_RELEASED);
    for (uint16_t r = 0; r < NRES; r++) {
        assert_int_equal(leased(&fx, r), 0);
        assert_int_equal(gleased(&fx, 0, r), 0);
        assert_int_equal(gleased(&fx, 1, r), 0);
    }
    assert_int_equal(running(&fx, 0), 0);
    assert_int_equal(running(&fx, 1), 0);
    assert_int_equal(v->leases_active, 0);
    fx_done(&fx);
}

/* A probe policy: counts calls, allows or denies without a reason, and hands
** back fixed debt deltas on llm_wait. */
typedef struct probe {
    int evaluations, acquires, releases;
    bool allow;
    int64_t acquire_debt, release_debt;
} probe;

static void probe_evaluate(void *ctx, const admit_task *task, const admit_queue_view *qview,
                           const admit_admission_view *aview, admit_policy_decision *out) {
    (void)task;
    (void)qview;
    (void)aview;
    probe *p = ctx;
    p->evaluations++;
    out->allowed = p->allow;
}

static void probe_on_acquire(void *ctx, const admit_task *task,
                             const admit_policy_decision *decision, admit_policy_delta *out) {
    (void)task;
    (void)decision;
    probe *p = ctx;
    p->acquires++;
    out->count = 1;
    out->resource[0] = R_LLM;
    out->debt_change[0] = p->acquire_debt;
}

static void probe_on_release(void *ctx, const admit_task *task, admit_policy_delta *out) {
    (void)task;
    probe *p = ctx;
    p->releases++;
    out->count = 1;
    out->resource[0] = R_LLM;
    out->debt_change[0] = p->release_debt;
}

/* Hard ledger before the policy; unexplained policy denials are
** policy_denial; deltas applied with the ledger change, clamped at zero;
** debt never changes hard availability. */
static void test_policy_contract(void **state) {
    (void)state;
    static probe pr;
    pr = (probe){.allow = false, .acquire_debt = 5, .release_debt = -7};
    admit_task_policy pol = {.name = "probe",
                             .ctx = &pr,
                             .evaluate = probe_evaluate,
                             .on_acquire = probe_on_acquire,
                             .on_release = probe_on_release};
    const group_def defs[] = {{1, 4}};
    const uint32_t limits[NRES] = {2, 2, 1, 0};
    fixture fx;
    fx_init(&fx, defs, 1, limits, pol);
    admit_task *big = mk(&fx, 0, 3, 0, 0);
    admit_task *t1 = mk(&fx, 0, 1, 1, 0), *t2 = mk(&fx, 0, 1, 1, 0);

    assert_int_equal(denied(&fx, big, NULL), ADMIT_DENY_NO_CAPACITY);
    assert_int_equal(pr.evaluations, 0);

    admit_policy_decision d;
    assert_int_equal(denied(&fx, t1, &d), ADMIT_DENY_POLICY);
    assert_int_equal(pr.evaluations, 2); /* is_eligible + try_acquire */
    assert_int_equal(pr.acquires, 0);
    assert_int_equal(leased(&fx, R_SUB), 0);

    pr.allow = true;
    admit_task_lease l1 = acq(&fx, t1);
    assert_int_equal(pr.acquires, 1);
    assert_int_equal(debt(&fx, 0, R_LLM), 5);
    assert_int_equal(leased(&fx, R_LLM), 1);
    /* Debt 5 > limit 2, yet the hard ledger still has one llm_wait. */
    assert_true(admit_policy_is_hard_eligible(t2, av(&fx)));
    admit_task_lease l2 = acq(&fx, t2);
    assert_int_equal(debt(&fx, 0, R_LLM), 10);
    assert_int_equal(leased(&fx, R_LLM), 2);

    assert_int_equal(admit_task_admission_release(fx.c, l1), ADMIT_RELEASE_RELEASED);
    assert_int_equal(pr.releases, 1);
    assert_int_equal(debt(&fx, 0, R_LLM), 3);
    assert_int_equal(admit_task_admission_release(fx.c, l2), ADMIT_RELEASE_RELEASED);
    assert_int_equal(debt(&fx, 0, R_LLM), 0); /* 3 - 7 clamps at 0 */
    /* Non-released outcomes never call on_release. */
    assert_int_equal(admit_task_admission_release(fx.c, l2), ADMIT_RELEASE_DUPLICATE);
    assert_int_equal(pr.releases, 2);
    fx_done(&fx);
}

static void test_release_reasons(void **state) {
    (void)state;
    const group_def defs[] = {{1, 0}};
    const uint32_t limits[NRES] = {2, 1, 1, 0};
    fixture fx;
    fx_init_strict(&fx, defs, 1, limits);
    admit_task *t1 = mk(&fx, 0, 1, 0, 0), *t2 = mk(&fx, 0, 1, 0, 0), *t3 = mk(&fx, 0, 1, 0, 0);
    admit_task *t4 = mk(&fx, 0, 1, 0, 0);
    const admit_admission_view *v = av(&fx);

    admit_task_lease l1 = acq(&fx, t1);
    assert_int_equal(admit_task_admission_release(fx.c, l1), ADMIT_RELEASE_RELEASED);
    assert_int_equal(leased(&fx, R_SUB), 0);
    assert_int_equal(running(&fx, 0), 0);
    assert_int_equal(v->leases_active, 0);

    /* Twice: duplicate, no capacity returned (no underflow either). */
    assert_int_equal(admit_task_admission_release(fx.c, l1), ADMIT_RELEASE_DUPLICATE);
    assert_int_equal(leased(&fx, R_SUB), 0);
    assert_int_equal(gleased(&fx, 0, R_SUB), 0);
    assert_int_equal(running(&fx, 0), 0);
    assert_int_equal(v->leases_active, 0);

    /* The slot is reused by a newer lease: releasing the old one is stale and
    ** must not release the new one. */
    admit_task_lease l2 = acq(&fx, t2);
    assert_int_equal(l2.slot, l1.slot); /* precondition of this scenario */
    assert_true(l2.lease_id != l1.lease_id);
    assert_int_equal(admit_task_admission_release(fx.c, l1), ADMIT_RELEASE_STALE_LEASE);
    assert_int_equal(leased(&fx, R_SUB), 1);
    assert_int_equal(running(&fx, 0), 1);
    assert_int_equal(v->leases_active, 1);
    assert_ptr_equal(admit_task_admission_lease_task(fx.c, l2), t2);
    assert_null(admit_task_admission_lease_task(fx.c, l1));

    admit_task_admission_stats st;
    admit_task_admission_stats_get(fx.c, &st);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_RELEASED], 1);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_DUPLICATE], 1);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_STALE_LEASE], 1);
    assert_int_equal(st.released, 1);

    /* Reset: every live lease dropped, new generation. */
    admit_task_lease l3 = acq(&fx, t3);
    assert_int_equal(leased(&fx, R_SUB), 2);
    admit_task_admission_reset(fx.c);
    assert_int_equal(leased(&fx, R_SUB), 0);
    assert_int_equal(gleased(&fx, 0, R_SUB), 0);
    assert_int_equal(running(&fx, 0), 0);
    assert_int_equal(v->leases_active, 0);
    assert_int_equal(admit_task_admission_release(fx.c, l2), ADMIT_RELEASE_WRONG_GENERATION);
    assert_int_equal(admit_task_admission_release(fx.c, l3), ADMIT_RELEASE_WRONG_GENERATION);
    assert_int_equal(leased(&fx, R_SUB), 0);
    admit_task_lease l4 = acq(&fx, t4);
    assert_true(l4.generation != l3.generation);
    /* The old lease must not release the new generation's lease in its slot. */
    assert_int_equal(admit_task_admission_release(fx.c, l3), ADMIT_RELEASE_WRONG_GENERATION);
    assert_int_equal(leased(&fx, R_SUB), 1);
    assert_int_equal(v->leases_active, 1);
    assert_null(admit_task_admission_lease_task(fx.c, l3));

    /* Made-up ids in the current generation. */
    admit_task_lease fake1 = {
        .lease_id = l4.lease_id + 100, .slot = l4.slot, .generation = l4.generation};
    admit_task_lease fake2 = {.lease_id = 987654321, .slot = 999, .generation = l4.generation};
    assert_int_equal(admit_task_admission_release(fx.c, fake1), ADMIT_RELEASE_UNKNOWN_LEASE);
    assert_int_equal(admit_task_admission_release(fx.c, fake2), ADMIT_RELEASE_UNKNOWN_LEASE);
    assert_int_equal(leased(&fx, R_SUB), 1);
    assert_int_equal(running(&fx, 0), 1);
    assert_int_equal(v->leases_active, 1);

    assert_int_equal(admit_task_admission_release(fx.c, l4), ADMIT_RELEASE_RELEASED);
    assert_int_equal(leased(&fx, R_SUB), 0);

    assert_string_equal(admit_release_reason_name(ADMIT_RELEASE_STALE_LEASE), "stale_lease");
    assert_string_equal(admit_release_reason_name(ADMIT_RELEASE_WRONG_GENERATION),
                        "wrong_controller_generation");
    fx_done(&fx);
}

static void test_shutdown(void **state) {
    (void)state;
    const group_def defs[] = {{1, 0}, {1, 2}};
    const uint32_t limits[NRES] = {4, 4, 1, 0};
    fixture fx;
    fx_init_strict(&fx, defs, 2, limits);
    admit_task *t1 = mk(&fx, 0, 1, 0, 0), *t2 = mk(&fx, 0, 1, 0, 0), *m1 = mk(&fx, 1, 1, 1, 0);
    enq(&fx, t2);
    enq(&fx, m1);
    admit_task_lease l1 = acq(&fx, t1);

    admit_task_admission_shutdown(fx.c);
    assert_true(av(&fx)->shutdown);
    assert_int_equal(denied(&fx, t2, NULL), ADMIT_DENY_SHUTDOWN);
    assert_int_equal(denied(&fx, m1, NULL), ADMIT_DENY_SHUTDOWN);

    /* Every queued head is blocked by shutdown. */
    admit_block_summary sum;
    admit_task_admission_explain_blocked(fx.c, qv(&fx), &sum);
    assert_int_equal(sum.queued_count, 2);
    assert_int_equal(sum.reason_counts[ADMIT_DENY_SHUTDOWN], 2);

    /* Releases still work and return capacity; acquiring stays denied. */
    assert_int_equal(admit_task_admission_release(fx.c, l1), ADMIT_RELEASE_RELEASED);
    assert_int_equal(leased(&fx, R_SUB), 0);
    assert_int_equal(running(&fx, 0), 0);
    assert_int_equal(admit_task_admission_release(fx.c, l1), ADMIT_RELEASE_DUPLICATE);
    assert_int_equal(denied(&fx, t2, NULL), ADMIT_DENY_SHUTDOWN);

    admit_task_admission_stats st;
    admit_task_admission_stats_get(fx.c, &st);
    assert_int_equal(st.denied[ADMIT_DENY_SHUTDOWN], 3);
    assert_string_equal(admit_deny_reason_name(ADMIT_DENY_SHUTDOWN), "shutdown");
    fx_done(&fx);
}

/* ======================================================================== */
/* StrictFair                                                               */
/* ======================================================================== */

static void test_strict_local_group_always_allowed(void **state) {
    (void)state;
    /* L local, A model (limit 1).  A's head requests submission, which is the
    ** fair resource of L's submission-only tasks: peer pressure on L. */
    const group_def defs[] = {{1, 0}, {1, 1}};
    const uint32_t limits[NRES] = {6, 6, 1, 0};
    fixture fx;
    fx_init_strict(&fx, defs, 2, limits);
    admit_task *ah = mk(&fx, 1, 1, 0, 0);
    enq(&fx, ah);
    admit_task *l[7];
    for (int i = 0; i < 7; i++)
        l[i] = mk(&fx, 0, 1, 0, 0);
    for (int i = 0; i < 5; i++) {
        assert_true(admit_policy_is_peer_pressured(l[i], R_SUB, qv(&fx), av(&fx)));
        acq(&fx, l[i]);
    }
    assert_int_equal(running(&fx, 0), 5);
    acq(&fx, l[5]); /* the last slot: only the hard ledger stops L */
    assert_int_equal(denied(&fx, l[6], NULL), ADMIT_DENY_NO_CAPACITY);
    fx_done(&fx);
}

static void test_strict_group_cap(void **state) {
    (void)state;
    /* A and B model groups with admitted limit 2. */
    const group_def defs[] = {{1, 2}, {1, 2}};
    const uint32_t limits[NRES] = {10, 10, 1, 0};
    fixture fx;
    fx_init_strict(&fx, defs, 2, limits);
    admit_task *ah = mk(&fx, 0, 1, 1, 0), *bh = mk(&fx, 1, 1, 1, 0);
    enq(&fx, ah);
    enq(&fx, bh);
    admit_task *a[6];
    for (int i = 0; i < 6; i++)
        a[i] = mk(&fx, 0, 1, 1, 0);

    /* Below the limit, pressure or not: allowed. */
    admit_task_lease la0 = acq(&fx, a[0]);
    admit_task_lease la1 = acq(&fx, a[1]);
    assert_int_equal(running(&fx, 0), 2);
    /* At the limit, B's hard-eligible head requests llm_wait: group_cap. */
    assert_true(admit_policy_is_peer_pressured(a[2], R_LLM, qv(&fx), av(&fx)));
    assert_int_equal(denied(&fx, a[2], NULL), ADMIT_DENY_GROUP_CAP);
    assert_int_equal(running(&fx, 0), 2);

    /* No peer (A's own head is not a peer): allowed past the limit. */
    assert_true(admit_fair_queue_discard(fx.q, bh->task_id));
    assert_false(admit_policy_is_peer_pressured(a[2], R_LLM, qv(&fx), av(&fx)));
    acq(&fx, a[2]);
    assert_int_equal(running(&fx, 0), 3);

    /* A peer head that is not hard-eligible (request 2 > limit 1) creates
    ** no pressure. */
    admit_task *bx = mk(&fx, 1, 1, 1, 2);
    enq(&fx, bx);
    assert_false(admit_policy_is_hard_eligible(bx, av(&fx)));
    assert_false(admit_policy_is_peer_pressured(a[3], R_LLM, qv(&fx), av(&fx)));
    acq(&fx, a[3]);
    assert_int_equal(running(&fx, 0), 4);

    /* A hard-eligible peer again: group_cap while running >= limit. */
    assert_true(admit_fair_queue_discard(fx.q, bx->task_id));
    admit_task *by = mk(&fx, 1, 1, 1, 0);
    enq(&fx, by);
    assert_int_equal(denied(&fx, a[4], NULL), ADMIT_DENY_GROUP_CAP);
    assert_int_equal(admit_task_admission_release(fx.c, la0), ADMIT_RELEASE_RELEASED);
    assert_int_equal(admit_task_admission_release(fx.c, la1), ADMIT_RELEASE_RELEASED);
    assert_int_equal(running(&fx, 0), 2);
    assert_int_equal(denied(&fx, a[4], NULL), ADMIT_DENY_GROUP_CAP); /* 2 >= 2 */
    /* B itself is below its own limit: allowed. */
    acq(&fx, by);
    fx_done(&fx);
}

static void test_strict_fair_resources(void **state) {
    (void)state;
    /* A: {submission, llm_wait}, limit 1.  S: {submission} only, limit 1.
    ** P: the peer, local. */
    const group_def defs[] = {{1, 1}, {1, 1}, {1, 0}};
    const uint32_t limits[NRES] = {10, 10, 10, 0};
    fixture fx;
    fx_init_strict(&fx, defs, 3, limits);
    admit_task *a0 = mk(&fx, 0, 1, 1, 0), *a1 = mk(&fx, 0, 1, 1, 0);
    admit_task *s0 = mk(&fx, 1, 1, 0, 0), *s1 = mk(&fx, 1, 1, 0, 0);
    admit_task *p_sub = mk(&fx, 2, 1, 0, 0);
    acq(&fx, a0);
    acq(&fx, s0);
    enq(&fx, p_sub); /* the peer head requests submission only */

    /* Submission is not a fair resource of A (it requests llm_wait too). */
    assert_false(admit_policy_is_peer_pressured(a1, R_SUB, qv(&fx), av(&fx)));
    assert_false(admit_policy_is_peer_pressured(a1, R_LLM, qv(&fx), av(&fx)));
    acq(&fx, a1);
    /* ... but it is the fair resource of S, which requests nothing else. */
    assert_true(admit_policy_is_peer_pressured(s1, R_SUB, qv(&fx), av(&fx)));
    assert_false(admit_policy_is_peer_pressured(s1, R_LLM, qv(&fx), av(&fx)));
    assert_int_equal(denied(&fx, s1, NULL), ADMIT_DENY_GROUP_CAP);

    /* Peer head {submission, llm_wait}: pressures A on llm_wait and S on
    ** submission; a resource the task does not request is never pressured. */
    assert_true(admit_fair_queue_discard(fx.q, p_sub->task_id));
    admit_task *p_llm = mk(&fx, 2, 1, 1, 0);
    enq(&fx, p_llm);
    admit_task *a2 = mk(&fx, 0, 1, 1, 0);
    assert_true(admit_policy_is_peer_pressured(a2, R_LLM, qv(&fx), av(&fx)));
    assert_false(admit_policy_is_peer_pressured(a2, R_SUB, qv(&fx), av(&fx)));
    assert_false(admit_policy_is_peer_pressured(a2, R_REQ, qv(&fx), av(&fx)));
    assert_int_equal(denied(&fx, a2, NULL), ADMIT_DENY_GROUP_CAP);
    assert_true(admit_policy_is_peer_pressured(s1, R_SUB, qv(&fx), av(&fx)));
    assert_int_equal(denied(&fx, s1, NULL), ADMIT_DENY_GROUP_CAP);

    /* Peer head {request} only: no pressure on either. */
    assert_true(admit_fair_queue_discard(fx.q, p_llm->task_id));
    admit_task *p_req = mk(&fx, 2, 0, 0, 1);
    enq(&fx, p_req);
    assert_false(admit_policy_is_peer_pressured(s1, R_SUB, qv(&fx), av(&fx)));
    acq(&fx, s1);
    acq(&fx, a2);
    fx_done(&fx);
}

/* ======================================================================== */
/* BoundedBorrow                                                            */
/* ======================================================================== */

static void test_bounded_config(void **state) {
    (void)state;
    admit_bounded_borrow_config cfg;
    admit_bounded_borrow_config_init(&cfg);
    assert_null(cfg.ceilings);
    assert_int_equal(cfg.ceiling_count, 0);
    assert_true(cfg.default_ceiling < 0);
    assert_true(cfg.reserve_fraction == 0.0);
    assert_int_equal(cfg.max_reserved_slots, 8);
    assert_int_equal(cfg.rounding, ADMIT_SHARE_CEIL);

    admit_task_policy p;
    admit_error err = {0};
    cfg.reserve_fraction = 1.5;
    assert_int_equal(admit_policy_bounded_borrow(&cfg, &p, &err), ADMIT_EINVAL);
    cfg.reserve_fraction = -0.25;
    assert_int_equal(admit_policy_bounded_borrow(&cfg, &p, &err), ADMIT_EINVAL);
    cfg.reserve_fraction = 0.0;
    cfg.max_reserved_slots = 0;
    assert_int_equal(admit_policy_bounded_borrow(&cfg, &p, &err), ADMIT_EINVAL);
    cfg.max_reserved_slots = 8;
    assert_int_equal(admit_policy_bounded_borrow(&cfg, &p, &err), ADMIT_OK);
    p.destroy(p.ctx);
}

static void test_strict_share_values(void **state) {
    (void)state;
    /* A w4, B w1, C w100, D w0 (counts as 1), E w4 limit 3. */
    const group_def defs[] = {{4, 16}, {1, 16}, {100, 16}, {0, 16}, {4, 3}};
    const uint32_t limits[NRES] = {100, 8, 1, 0};
    fixture fx;
    fx_init_strict(&fx, defs, 5, limits);
    const admit_share_rounding CEIL = ADMIT_SHARE_CEIL, FLOOR = ADMIT_SHARE_FLOOR;
    admit_task *ah = mk(&fx, 0, 1, 1, 0), *bh = mk(&fx, 1, 1, 1, 0);
    const admit_queue_view *q = qv(&fx);
    const admit_admission_view *a = av(&fx);
    enq(&fx, ah);
    enq(&fx, bh);

    /* Real peer on llm_wait (limit 8): W = 4 + 1 = 5.
    ** A: 8*4/5 = 6.4 -> ceil 7, floor 6.  B: 8*1/5 = 1.6 -> ceil 2, floor 1. */
    assert_int_equal(admit_policy_strict_share(ah, R_LLM, q, a, CEIL), 7);
    assert_int_equal(admit_policy_strict_share(ah, R_LLM, q, a, FLOOR), 6);
    assert_int_equal(admit_policy_strict_share(bh, R_LLM, q, a, CEIL), 2);
    assert_int_equal(admit_policy_strict_share(bh, R_LLM, q, a, FLOOR), 1);
    /* Submission (limit 100): 100*4/5 = 80 -> clamped to admitted limit 16;
    ** B: 100*1/5 = 20 -> 16. */
    assert_int_equal(admit_policy_strict_share(ah, R_SUB, q, a, CEIL), 16);
    assert_int_equal(admit_policy_strict_share(bh, R_SUB, q, a, FLOOR), 16);

    /* Alone: phantom equal peer, W = 2*4 = 8 -> 8*4/8 = 4 (both roundings). */
    assert_true(admit_fair_queue_discard(fx.q, bh->task_id));
    assert_int_equal(admit_policy_strict_share(ah, R_LLM, q, a, CEIL), 4);
    assert_int_equal(admit_policy_strict_share(ah, R_LLM, q, a, FLOOR), 4);
    /* A peer head that is not hard-eligible (request 2 > 1) does not count. */
    admit_task *bx = mk(&fx, 1, 1, 1, 2);
    enq(&fx, bx);
    assert_int_equal(admit_policy_strict_share(ah, R_LLM, q, a, CEIL), 4);
    /* A peer head that does not request llm_wait does not count either. */
    assert_true(admit_fair_queue_discard(fx.q, bx->task_id));
    admit_task *bs = mk(&fx, 1, 1, 0, 0);
    enq(&fx, bs);
    assert_int_equal(admit_policy_strict_share(ah, R_LLM, q, a, CEIL), 4);
    /* ... but it counts for B's submission share: W = 1 + 4 -> 100*1/5 = 20,
    ** clamped to B's admitted limit 16. */
    assert_int_equal(admit_policy_strict_share(bs, R_SUB, q, a, FLOOR), 16);
    assert_true(admit_fair_queue_discard(fx.q, bs->task_id));

    /* At least 1: B (w1) against A (w4) and C (w100): W = 105,
    ** 8*1/105 = 0.076 -> floor 0, ceil 1 -> 1 either way. */
    admit_task *ch = mk(&fx, 2, 1, 1, 0);
    enq(&fx, ch);
    assert_int_equal(admit_policy_strict_share(bh, R_LLM, q, a, FLOOR), 1);
    assert_int_equal(admit_policy_strict_share(bh, R_LLM, q, a, CEIL), 1);
    /* C against A: W = 100 + 4 = 104 -> 8*100/104 = 7.69 -> floor 7, ceil 8
    ** (never above limit 8). */
    assert_int_equal(admit_policy_strict_share(ch, R_LLM, q, a, FLOOR), 7);
    assert_int_equal(admit_policy_strict_share(ch, R_LLM, q, a, CEIL), 8);
    assert_true(admit_fair_queue_discard(fx.q, ch->task_id));

    /* Weight 0 counts as 1: D (w0) vs B (w1) heads: 8*1/2 = 4 each. */
    assert_true(admit_fair_queue_discard(fx.q, ah->task_id));
    admit_task *dh = mk(&fx, 3, 1, 1, 0);
    enq(&fx, dh);
    enq(&fx, bh);
    assert_int_equal(admit_policy_strict_share(dh, R_LLM, q, a, FLOOR), 4);
    assert_int_equal(admit_policy_strict_share(bh, R_LLM, q, a, FLOOR), 4);
    assert_true(admit_fair_queue_discard(fx.q, dh->task_id));
    assert_true(admit_fair_queue_discard(fx.q, bh->task_id));

    /* At most the admitted limit: E (w4, limit 3) alone: 8*4/8 = 4 -> 3. */
    admit_task *eh = mk(&fx, 4, 1, 1, 0);
    assert_int_equal(admit_policy_strict_share(eh, R_LLM, q, a, CEIL), 3);

    /* limit_r 1 -> 1 (floor of 1*1/2 would be 0); limit_r 0 -> 0. */
    admit_task *breq = mk(&fx, 1, 0, 0, 1);
    admit_task *baux = mk_ordered(&fx, 1, 1, (const uint16_t[]){R_AUX}, (const uint32_t[]){1});
    assert_int_equal(admit_policy_strict_share(breq, R_REQ, q, a, FLOOR), 1);
    assert_int_equal(admit_policy_strict_share(breq, R_REQ, q, a, CEIL), 1);
    assert_int_equal(admit_policy_strict_share(baux, R_AUX, q, a, CEIL), 0);
    assert_int_equal(admit_policy_strict_share(baux, R_AUX, q, a, FLOOR), 0);
    fx_done(&fx);
}

/* A w4, B w1, llm_wait 8: with both heads queued the strict shares are 7 and
** 2 (ceil) or 6 and 1 (floor); over the share under peer pressure -> group_cap.
** Nothing is borrowed under pressure. */
static void run_peer_share(admit_share_rounding rounding, uint32_t share_a, uint32_t share_b) {
    const group_def defs[] = {{4, 16}, {1, 16}};
    const uint32_t limits[NRES] = {100, 8, 1, 0};
    admit_bounded_borrow_config cfg;
    admit_bounded_borrow_config_init(&cfg);
    cfg.rounding = rounding;
    fixture fx;
    fx_init_bounded(&fx, defs, 2, limits, &cfg);
    admit_task *ah = mk(&fx, 0, 1, 1, 0), *bh = mk(&fx, 1, 1, 1, 0);
    enq(&fx, ah);
    enq(&fx, bh);
    admit_task *a[10], *b[4];
    admit_task_lease la[10];
    for (int i = 0; i < 10; i++)
        a[i] = mk(&fx, 0, 1, 1, 0);
    for (int i = 0; i < 4; i++)
        b[i] = mk(&fx, 1, 1, 1, 0);

    for (uint32_t i = 0; i < share_a; i++) {
        la[i] = acq(&fx, a[i]);
        assert_int_equal(debt(&fx, 0, R_LLM), 0);
        assert_int_equal(debt(&fx, 0, R_SUB), 0);
    }
    /* projected share_a + 1 > share_a; B's head still fits (8 - share_a >= 1). */
    admit_policy_decision d;
    assert_int_equal(denied(&fx, a[share_a], &d), ADMIT_DENY_GROUP_CAP);
    assert_int_equal(d.deny_resource, R_LLM);
    assert_int_equal(d.strict_share, share_a);

    /* B fills to its share (A's head is hard-eligible while llm_wait has room
    ** and so pressures B). Release A leases to make room as needed. */
    uint32_t i_release = 0;
    for (uint32_t j = 0; j < share_b; j++) {
        if (leased(&fx, R_LLM) == 8)
            assert_int_equal(admit_task_admission_release(fx.c, la[i_release++]),
                             ADMIT_RELEASE_RELEASED);
        acq(&fx, b[j]);
        assert_int_equal(debt(&fx, 1, R_LLM), 0);
    }
    if (leased(&fx, R_LLM) == 8)
        assert_int_equal(admit_task_admission_release(fx.c, la[i_release++]),
                         ADMIT_RELEASE_RELEASED);
    assert_true(admit_policy_is_hard_eligible(ah, av(&fx)));
    assert_int_equal(denied(&fx, b[share_b], &d), ADMIT_DENY_GROUP_CAP);
    assert_int_equal(d.deny_resource, R_LLM);
    assert_int_equal(d.strict_share, share_b);
    assert_int_equal(gleased(&fx, 1, R_LLM), share_b);
    fx_done(&fx);
}

static void test_bounded_peer_share_ceil(void **state) {
    (void)state;
    run_peer_share(ADMIT_SHARE_CEIL, 7, 2);
}

static void test_bounded_peer_share_floor(void **state) {
    (void)state;
    run_peer_share(ADMIT_SHARE_FLOOR, 6, 1);
}

/* A w4 alone, llm_wait 8: strict share 4 (phantom peer).  reserve_fraction
** 0.25 -> reserved = min(8, ceil(8*0.25)) = 2, dynamic ceiling =
** max(0, (8-2) - 4) = 2. */
static void test_bounded_borrow_dynamic_ceiling_with_reserve(void **state) {
    (void)state;
    const group_def defs[] = {{4, 16}};
    const uint32_t limits[NRES] = {100, 8, 1, 0};
    admit_bounded_borrow_config cfg;
    admit_bounded_borrow_config_init(&cfg);
    cfg.reserve_fraction = 0.25;
    fixture fx;
    fx_init_bounded(&fx, defs, 1, limits, &cfg);
    admit_task *ah = mk(&fx, 0, 1, 1, 0);
    enq(&fx, ah);
    admit_task *a[10];
    admit_task_lease la[10];
    for (int i = 0; i < 10; i++)
        a[i] = mk(&fx, 0, 1, 1, 0);

    const uint32_t expect_debt[6] = {0, 0, 0, 0, 1, 2};
    for (int i = 0; i < 6; i++) {
        la[i] = acq(&fx, a[i]);
        assert_int_equal(debt(&fx, 0, R_LLM), expect_debt[i]);
        assert_int_equal(debt(&fx, 0, R_SUB), 0);
    }
    /* 7th: projected 7, new_debt 1, 2 + 1 > 2.  Hard availability is 2. */
    admit_policy_decision d;
    assert_int_equal(denied(&fx, a[6], &d), ADMIT_DENY_BORROW_DEBT);
    assert_int_equal(d.deny_resource, R_LLM);
    assert_int_equal(d.strict_share, 4);
    assert_int_equal(leased(&fx, R_LLM), 6);

    admit_block_summary sum;
    admit_task_admission_explain_blocked(fx.c, qv(&fx), &sum);
    assert_int_equal(sum.queued_count, 1);
    assert_int_equal(sum.reason_counts[ADMIT_DENY_BORROW_DEBT], 1);
    assert_true(sum.earliest_available_after_ns < 0);

    /* Releasing a lease that borrowed nothing still repays: debt 1. */
    assert_int_equal(admit_task_admission_release(fx.c, la[0]), ADMIT_RELEASE_RELEASED);
    assert_int_equal(debt(&fx, 0, R_LLM), 1);
    /* projected 6 -> new_debt 1 -> 2 <= 2. */
    la[6] = acq(&fx, a[6]);
    assert_int_equal(debt(&fx, 0, R_LLM), 2);
    assert_int_equal(denied(&fx, a[7], NULL), ADMIT_DENY_BORROW_DEBT);

    /* reset drops all debt. */
    admit_task_admission_reset(fx.c);
    assert_int_equal(debt(&fx, 0, R_LLM), 0);
    fx_done(&fx);
}

/* Same, reserve 0: dynamic ceiling (8-0) - 4 = 4, borrowing reaches the hard
** limit and the next task is no_capacity. */
static void test_bounded_borrow_dynamic_ceiling_no_reserve(void **state) {
    (void)state;
    const group_def defs[] = {{4, 16}};
    const uint32_t limits[NRES] = {100, 8, 1, 0};
    admit_bounded_borrow_config cfg;
    admit_bounded_borrow_config_init(&cfg);
    fixture fx;
    fx_init_bounded(&fx, defs, 1, limits, &cfg);
    enq(&fx, mk(&fx, 0, 1, 1, 0));
    const uint32_t expect_debt[8] = {0, 0, 0, 0, 1, 2, 3, 4};
    for (int i = 0; i < 8; i++) {
        acq(&fx, mk(&fx, 0, 1, 1, 0));
        assert_int_equal(debt(&fx, 0, R_LLM), expect_debt[i]);
    }
    assert_int_equal(denied(&fx, mk(&fx, 0, 1, 1, 0), NULL), ADMIT_DENY_NO_CAPACITY);
    fx_done(&fx);
}

/* reserved = min(max_reserved_slots, ceil(limit * fraction)). */
static void run_reserved_slots(uint32_t max_reserved_slots, bool expect_t42_allowed) {
    /* A w1 limit 100 alone, llm_wait 100: share 100*1/2 = 50.
    ** fraction 0.5: ceil(50) = 50 -> min(8, 50) = 8 -> ceiling (100-8)-50 = 42;
    ** with max_reserved_slots 60 -> reserved 50 -> ceiling 0. */
    const group_def defs[] = {{1, 100}};
    const uint32_t limits[NRES] = {1000, 100, 1, 0};
    admit_bounded_borrow_config cfg;
    admit_bounded_borrow_config_init(&cfg);
    cfg.reserve_fraction = 0.5;
    cfg.max_reserved_slots = max_reserved_slots;
    fixture fx;
    fx_init_bounded(&fx, defs, 1, limits, &cfg);
    enq(&fx, mk(&fx, 0, 1, 1, 0));
    admit_task *t50 = mk(&fx, 0, 1, 50, 0), *t42 = mk(&fx, 0, 1, 42, 0), *t1 = mk(&fx, 0, 1, 1, 0);
    acq(&fx, t50);
    assert_int_equal(debt(&fx, 0, R_LLM), 0);
    if (!expect_t42_allowed) {
        assert_int_equal(denied(&fx, t42, NULL), ADMIT_DENY_BORROW_DEBT);
        fx_done(&fx);
        return;
    }
    acq(&fx, t42); /* projected 92, new_debt min(42, 42) = 42 <= 42 */
    assert_int_equal(debt(&fx, 0, R_LLM), 42);
    /* 43 > 42 although 8 llm_wait remain. */
    assert_int_equal(denied(&fx, t1, NULL), ADMIT_DENY_BORROW_DEBT);
    fx_done(&fx);
}

static void test_bounded_reserved_slots_capped(void **state) {
    (void)state;
    run_reserved_slots(8, true);
}

static void test_bounded_reserved_slots_uncapped(void **state) {
    (void)state;
    run_reserved_slots(60, false);
}

/* new_debt = min(amount, projected - share); release of any lease of the
** group subtracts its amounts, clamped at zero. */
static void test_bounded_debt_amounts_and_repayment(void **state) {
    (void)state;
    /* A w1 limit 16 alone, llm_wait 16: share 16*1/2 = 8, ceiling 16-8 = 8. */
    const group_def defs[] = {{1, 16}};
    const uint32_t limits[NRES] = {100, 16, 1, 0};
    admit_bounded_borrow_config cfg;
    admit_bounded_borrow_config_init(&cfg);
    fixture fx;
    fx_init_bounded(&fx, defs, 1, limits, &cfg);
    enq(&fx, mk(&fx, 0, 1, 1, 0));
    admit_task *t6 = mk(&fx, 0, 1, 6, 0), *t5 = mk(&fx, 0, 1, 5, 0), *t4 = mk(&fx, 0, 1, 4, 0);
    admit_task *s1 = mk(&fx, 0, 1, 0, 0);

    admit_task_lease l6 = acq(&fx, t6); /* projected 6 <= 8 */
    assert_int_equal(debt(&fx, 0, R_LLM), 0);

    admit_policy_decision d;
    assert_true(admit_task_admission_is_eligible(fx.c, t5, qv(&fx), &d));
    assert_int_equal(d.borrow_count, 1); /* submission 2 <= 16: no borrow */
    assert_int_equal(d.borrow_resource[0], R_LLM);
    assert_int_equal(d.borrow_amount[0], 3); /* min(5, 11 - 8) */
    admit_task_lease l5 = acq(&fx, t5);
    assert_int_equal(debt(&fx, 0, R_LLM), 3);

    admit_task_lease l4 = acq(&fx, t4); /* projected 15: min(4, 7) = 4 */
    assert_int_equal(debt(&fx, 0, R_LLM), 7);
    assert_int_equal(debt(&fx, 0, R_SUB), 0);

    /* A submission-only lease repays only submission (already 0). */
    admit_task_lease ls = acq(&fx, s1);
    assert_int_equal(admit_task_admission_release(fx.c, ls), ADMIT_RELEASE_RELEASED);
    assert_int_equal(debt(&fx, 0, R_LLM), 7);
    assert_int_equal(debt(&fx, 0, R_SUB), 0);

    /* t6 borrowed nothing but repays 6: 7 - 6 = 1. */
    assert_int_equal(admit_task_admission_release(fx.c, l6), ADMIT_RELEASE_RELEASED);
    assert_int_equal(debt(&fx, 0, R_LLM), 1);
    /* 1 - 5 clamps at 0. */
    assert_int_equal(admit_task_admission_release(fx.c, l5), ADMIT_RELEASE_RELEASED);
    assert_int_equal(debt(&fx, 0, R_LLM), 0);
    assert_int_equal(admit_task_admission_release(fx.c, l4), ADMIT_RELEASE_RELEASED);
    assert_int_equal(debt(&fx, 0, R_LLM), 0);
    assert_int_equal(leased(&fx, R_LLM), 0);
    /* Non-released outcomes do not repay anything or go negative. */
    assert_int_equal(admit_task_admission_release(fx.c, l4), ADMIT_RELEASE_DUPLICATE);
    assert_int_equal(debt(&fx, 0, R_LLM), 0);
    fx_done(&fx);
}

/* Peer pressure with outstanding debt -> borrow_debt even when projected is
** within the strict share. */
static void test_bounded_peer_pressure_with_debt(void **state) {
    (void)state;
    const group_def defs[] = {{4, 16}, {1, 16}};
    const uint32_t limits[NRES] = {100, 8, 1, 0};
    admit_bounded_borrow_config cfg;
    admit_bounded_borrow_config_init(&cfg);
    fixture fx;
    fx_init_bounded(&fx, defs, 2, limits, &cfg);
    enq(&fx, mk(&fx, 0, 1, 1, 0));
    admit_task *a[10];
    admit_task_lease la[10];
    for (int i = 0; i < 10; i++)
        a[i] = mk(&fx, 0, 1, 1, 0);
    /* Alone: share 4; the 5th borrows 1. */
    for (int i = 0; i < 5; i++)
        la[i] = acq(&fx, a[i]);
    assert_int_equal(debt(&fx, 0, R_LLM), 1);

    /* B's head arrives (hard-eligible: 3 llm_wait free): share becomes 7,
    ** projected 6 <= 7, but debt 1 > 0 under pressure -> borrow_debt. */
    admit_task *bh = mk(&fx, 1, 1, 1, 0);
    enq(&fx, bh);
    admit_policy_decision d;
    assert_int_equal(denied(&fx, a[5], &d), ADMIT_DENY_BORROW_DEBT);
    assert_int_equal(d.deny_resource, R_LLM);
    assert_int_equal(d.strict_share, 7);

    /* Repay: debt 0, leased 4; then up to the share 7 without new debt. */
    assert_int_equal(admit_task_admission_release(fx.c, la[0]), ADMIT_RELEASE_RELEASED);
    assert_int_equal(debt(&fx, 0, R_LLM), 0);
    for (int i = 5; i < 8; i++) {
        acq(&fx, a[i]);
        assert_int_equal(debt(&fx, 0, R_LLM), 0);
    }
    assert_int_equal(gleased(&fx, 0, R_LLM), 7);
    /* projected 8 > 7 under pressure (B's head still fits in the last slot). */
    assert_int_equal(denied(&fx, a[8], &d), ADMIT_DENY_GROUP_CAP);
    assert_int_equal(d.strict_share, 7);
    fx_done(&fx);
}

/* A w4 alone on llm_wait 8: share 4, dynamic ceiling 4 (or 2 with reserve
** 0.25).  Returns how many of 9 {submission, llm_wait} tasks were acquired
** before the first denial, and that denial's reason. */
static uint32_t borrow_run(const admit_borrow_ceiling *ceilings, uint32_t ceiling_count,
                           int64_t default_ceiling, double reserve, admit_deny_reason *why) {
    const group_def defs[] = {{4, 16}, {1, 16}};
    const uint32_t limits[NRES] = {100, 8, 1, 0};
    admit_bounded_borrow_config cfg;
    admit_bounded_borrow_config_init(&cfg);
    cfg.ceilings = ceilings;
    cfg.ceiling_count = ceiling_count;
    cfg.default_ceiling = default_ceiling;
    cfg.reserve_fraction = reserve;
    fixture fx;
    fx_init_bounded(&fx, defs, 2, limits, &cfg);
    enq(&fx, mk(&fx, 0, 1, 1, 0));
    uint32_t n = 0;
    *why = ADMIT_DENY_NONE;
    for (int i = 0; i < 9; i++) {
        admit_task *t = mk(&fx, 0, 1, 1, 0);
        admit_task_lease lease;
        admit_policy_decision d;
        if (!admit_task_admission_try_acquire(fx.c, t, qv(&fx), 0, &lease, &d)) {
            *why = d.reason;
            break;
        }
        n++;
    }
    fx_done(&fx);
    return n;
}

static void test_bounded_explicit_and_default_ceilings(void **state) {
    (void)state;
    admit_deny_reason why;
    /* Dynamic ceiling 4: 4 at share + 4 borrowed = the hard limit 8. */
    assert_int_equal(borrow_run(NULL, 0, -1, 0.0, &why), 8);
    assert_int_equal(why, ADMIT_DENY_NO_CAPACITY);

    /* Explicit (A, llm_wait) = 1: 4 + 1. */
    const admit_borrow_ceiling a_llm_1[] = {{.group = 0, .resource = R_LLM, .ceiling = 1}};
    assert_int_equal(borrow_run(a_llm_1, 1, -1, 0.0, &why), 5);
    assert_int_equal(why, ADMIT_DENY_BORROW_DEBT);

    /* Default 2: 4 + 2. */
    assert_int_equal(borrow_run(NULL, 0, 2, 0.0, &why), 6);
    assert_int_equal(why, ADMIT_DENY_BORROW_DEBT);

    /* Default 0: no borrowing at all. */
    assert_int_equal(borrow_run(NULL, 0, 0, 0.0, &why), 4);
    assert_int_equal(why, ADMIT_DENY_BORROW_DEBT);

    /* Explicit beats default: explicit 1, default 3 -> 4 + 1. */
    assert_int_equal(borrow_run(a_llm_1, 1, 3, 0.0, &why), 5);
    assert_int_equal(why, ADMIT_DENY_BORROW_DEBT);

    /* Explicit entries for another group or another resource do not apply:
    ** default 3 -> 4 + 3. */
    const admit_borrow_ceiling others[] = {{.group = 1, .resource = R_LLM, .ceiling = 0},
                                           {.group = 0, .resource = R_REQ, .ceiling = 0}};
    assert_int_equal(borrow_run(others, 2, 3, 0.0, &why), 7);
    assert_int_equal(why, ADMIT_DENY_BORROW_DEBT);
    /* ... and without a default the dynamic ceiling 4 applies. */
    assert_int_equal(borrow_run(others, 2, -1, 0.0, &why), 8);
    assert_int_equal(why, ADMIT_DENY_NO_CAPACITY);

    /* Reserve 0.25 -> dynamic ceiling 2 -> 4 + 2 ... */
    assert_int_equal(borrow_run(NULL, 0, -1, 0.25, &why), 6);
    assert_int_equal(why, ADMIT_DENY_BORROW_DEBT);
    /* ... unless an explicit or default ceiling overrides it upwards. */
    const admit_borrow_ceiling a_llm_4[] = {{.group = 0, .resource = R_LLM, .ceiling = 4}};
    assert_int_equal(borrow_run(a_llm_4, 1, -1, 0.25, &why), 8);
    assert_int_equal(why, ADMIT_DENY_NO_CAPACITY);
    assert_int_equal(borrow_run(NULL, 0, 3, 0.25, &why), 7);
    assert_int_equal(why, ADMIT_DENY_BORROW_DEBT);
}

/* Resources are checked in request order; the first denial wins. */
static void test_bounded_first_denial_wins(void **state) {
    (void)state;
    /* A, B w1 limit 16.  llm_wait 2, request 2.  Explicit ceilings 0 for A on
    ** llm_wait and request (no borrowing). */
    const group_def defs[] = {{1, 16}, {1, 16}};
    const uint32_t limits[NRES] = {100, 2, 2, 0};
    const admit_borrow_ceiling ceil0[] = {{.group = 0, .resource = R_LLM, .ceiling = 0},
                                          {.group = 0, .resource = R_REQ, .ceiling = 0}};
    admit_bounded_borrow_config cfg;
    admit_bounded_borrow_config_init(&cfg);
    cfg.ceilings = ceil0;
    cfg.ceiling_count = 2;
    fixture fx;
    fx_init_bounded(&fx, defs, 2, limits, &cfg);
    enq(&fx, mk(&fx, 0, 1, 1, 1));
    enq(&fx, mk(&fx, 1, 1, 0, 1)); /* B's head: {submission, request} */

    /* a0: llm_wait no pressure, share 2*1/2 = 1, projected 1; request under
    ** pressure, share 2*1/(1+1) = 1, projected 1: allowed. */
    acq(&fx, mk(&fx, 0, 1, 1, 1));
    /* Next A task: llm_wait -> projected 2 > 1, borrow 1 > ceiling 0 ->
    ** borrow_debt; request -> pressure, projected 2 > 1 -> group_cap. */
    admit_task *x =
        mk_ordered(&fx, 0, 3, (const uint16_t[]){R_SUB, R_LLM, R_REQ}, (const uint32_t[]){1, 1, 1});
    admit_task *y =
        mk_ordered(&fx, 0, 3, (const uint16_t[]){R_SUB, R_REQ, R_LLM}, (const uint32_t[]){1, 1, 1});
    admit_policy_decision d;
    assert_int_equal(denied(&fx, x, &d), ADMIT_DENY_BORROW_DEBT);
    assert_int_equal(d.deny_resource, R_LLM);
    assert_int_equal(d.strict_share, 1);
    assert_int_equal(denied(&fx, y, &d), ADMIT_DENY_GROUP_CAP);
    assert_int_equal(d.deny_resource, R_REQ);
    assert_int_equal(d.strict_share, 1);
    fx_done(&fx);
}

static void test_bounded_local_group_always_allowed(void **state) {
    (void)state;
    /* L local, A model whose head requests submission: L's share of
    ** submission 4 would be 2 and there is pressure, yet L is always allowed. */
    const group_def defs[] = {{1, 0}, {1, 16}};
    const uint32_t limits[NRES] = {4, 4, 1, 0};
    admit_bounded_borrow_config cfg;
    admit_bounded_borrow_config_init(&cfg);
    cfg.default_ceiling = 0;
    fixture fx;
    fx_init_bounded(&fx, defs, 2, limits, &cfg);
    enq(&fx, mk(&fx, 1, 1, 0, 0));
    for (int i = 0; i < 4; i++) {
        admit_task *t = mk(&fx, 0, 1, 0, 0);
        /* A's head stays hard-eligible while one submission is free. */
        assert_true(admit_policy_is_peer_pressured(t, R_SUB, qv(&fx), av(&fx)));
        acq(&fx, t);
        assert_int_equal(debt(&fx, 0, R_SUB), 0);
    }
    assert_int_equal(denied(&fx, mk(&fx, 0, 1, 0, 0), NULL), ADMIT_DENY_NO_CAPACITY);
    fx_done(&fx);
}

/* ======================================================================== */
/* explain_blocked and the dispatch predicate                               */
/* ======================================================================== */

static bool eligible_pred(void *ctx, const admit_task *task, const admit_queue_view *view) {
    return admit_task_admission_is_eligible(ctx, task, view, NULL);
}

static void test_explain_blocked(void **state) {
    (void)state;
    /* L local; A, B limit 1 on {submission, llm_wait}; C's head asks for 2
    ** requests with a limit of 1 (never hard-eligible). */
    const group_def defs[] = {{1, 0}, {1, 1}, {1, 1}, {1, 1}};
    const uint32_t limits[NRES] = {10, 10, 1, 0};
    fixture fx;
    fx_init_strict(&fx, defs, 4, limits);
    admit_task *a1 = mk(&fx, 1, 1, 1, 0), *a2 = mk(&fx, 1, 1, 1, 0);
    admit_task *b1 = mk(&fx, 2, 1, 1, 0), *b2 = mk(&fx, 2, 1, 1, 0);
    admit_task *c1 = mk(&fx, 3, 1, 0, 2), *l1 = mk(&fx, 0, 1, 0, 0);
    /* Order: A(0,#0) C(0,#1) B(0,#2) L(0,#3). */
    const admit_task *items[] = {a1, a2, c1, b1, l1};
    assert_int_equal(admit_fair_queue_enqueue(fx.q, items, 5, NULL), 5);

    admit_block_summary sum;
    admit_task_admission_explain_blocked(fx.c, qv(&fx), &sum);
    assert_int_equal(sum.queued_count, 5);
    assert_int_equal(sum.reason_counts[ADMIT_DENY_NO_CAPACITY], 1); /* C */
    assert_int_equal(sum.reason_counts[ADMIT_DENY_GROUP_CAP], 0);
    assert_int_equal(sum.reason_counts[ADMIT_DENY_NONE], 0);
    assert_true(sum.earliest_available_after_ns < 0);

    /* Dispatch A's head a1: select through the admission predicate. */
    admit_queue_selection sel;
    assert_true(admit_fair_queue_select_next(fx.q, eligible_pred, fx.c, &sel));
    assert_ptr_equal(sel.task, a1);
    admit_task_lease lease;
    assert_true(admit_task_admission_try_acquire(fx.c, a1, qv(&fx), 0, &lease, NULL));
    assert_ptr_equal(admit_fair_queue_commit(fx.q, &sel), a1);

    /* Queue: C(0,#1) B(0,#2) L(0,#3) A(1,#4).  A (running 1 = limit) has a2
    ** at the head with B's hard-eligible b1 as peer -> group_cap; C
    ** no_capacity; B and L allowed. */
    admit_task_admission_explain_blocked(fx.c, qv(&fx), &sum);
    assert_int_equal(sum.queued_count, 4);
    assert_int_equal(sum.reason_counts[ADMIT_DENY_GROUP_CAP], 1);
    assert_int_equal(sum.reason_counts[ADMIT_DENY_NO_CAPACITY], 1);
    assert_int_equal(sum.reason_counts[ADMIT_DENY_BORROW_DEBT], 0);
    assert_int_equal(sum.reason_counts[ADMIT_DENY_SHUTDOWN], 0);

    /* The predicate skips C, picks B. */
    assert_true(admit_fair_queue_select_next(fx.q, eligible_pred, fx.c, &sel));
    assert_ptr_equal(sel.task, b1);
    assert_true(admit_task_admission_try_acquire(fx.c, b1, qv(&fx), 0, &lease, NULL));
    assert_ptr_equal(admit_fair_queue_commit(fx.q, &sel), b1);

    /* B is empty now: A has no peer requesting llm_wait -> allowed.  Only C. */
    admit_task_admission_explain_blocked(fx.c, qv(&fx), &sum);
    assert_int_equal(sum.queued_count, 3);
    assert_int_equal(sum.reason_counts[ADMIT_DENY_GROUP_CAP], 0);
    assert_int_equal(sum.reason_counts[ADMIT_DENY_NO_CAPACITY], 1);

    /* b2 arrives: A and B both at their limit, each the other's peer. */
    enq(&fx, b2);
    admit_task_admission_explain_blocked(fx.c, qv(&fx), &sum);
    assert_int_equal(sum.queued_count, 4);
    assert_int_equal(sum.reason_counts[ADMIT_DENY_GROUP_CAP], 2);
    assert_int_equal(sum.reason_counts[ADMIT_DENY_NO_CAPACITY], 1);

    /* Only L passes the predicate. */
    assert_true(admit_fair_queue_select_next(fx.q, eligible_pred, fx.c, &sel));
    assert_ptr_equal(sel.task, l1);
    fx_done(&fx);
}

/* ---- policy ownership ------------------------------------------------------ */

static int destroyed;

static void counting_destroy(void *ctx) {
    destroyed++;
    free(ctx);
}

/* StrictFair with an allocated context whose destroy counts. */
static admit_task_policy counting_policy(void) {
    admit_task_policy p;
    admit_policy_strict_fair(&p);
    p.ctx = malloc(16);
    assert_non_null(p.ctx);
    p.destroy = counting_destroy;
    return p;
}

/* "Policy ownership" (task_admission.h): a create that fails has destroyed
** the policy it was handed, exactly once; one that succeeds destroys it with
** the controller.  A bounded-borrow policy (which owns a copy of its
** ceilings) handed to a failing create leaves nothing for valgrind. */
static void test_create_owns_policy_even_on_failure(void **state) {
    (void)state;
    admit_group_spec g = {.key = "g", .weight = 1};
    uint32_t lim[1] = {1};
    admit_error err;
    destroyed = 0;
    admit_task_admission_config cfg = {
        .groups = NULL, .group_count = 1, .resource_count = 1, .limits = lim};
    cfg.policy = counting_policy();
    assert_null(admit_task_admission_create(&cfg, &err));
    assert_int_equal(err.code, ADMIT_EINVAL);
    assert_int_equal(destroyed, 1);

    cfg.groups = &g;
    cfg.policy = counting_policy();
    cfg.policy.evaluate = NULL;
    assert_null(admit_task_admission_create(&cfg, &err));
    assert_int_equal(destroyed, 2);

    admit_bounded_borrow_config bc;
    admit_bounded_borrow_config_init(&bc);
    const admit_borrow_ceiling ceilings[1] = {{.group = 0, .resource = 0, .ceiling = 1}};
    bc.ceilings = ceilings;
    bc.ceiling_count = 1;
    assert_int_equal(admit_policy_bounded_borrow(&bc, &cfg.policy, &err), ADMIT_OK);
    cfg.limits = NULL;
    assert_null(admit_task_admission_create(&cfg, &err));

    cfg.limits = lim;
    cfg.policy = counting_policy();
    admit_task_admission *c = admit_task_admission_create(&cfg, &err);
    assert_non_null(c);
    assert_int_equal(destroyed, 2);
    admit_task_admission_destroy(c);
    assert_int_equal(destroyed, 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hard_ledger, teardown_fixture),
        cmocka_unit_test_teardown(test_policy_contract, teardown_fixture),
        cmocka_unit_test_teardown(test_release_reasons, teardown_fixture),
        cmocka_unit_test_teardown(test_shutdown, teardown_fixture),
        cmocka_unit_test_teardown(test_strict_local_group_always_allowed, teardown_fixture),
        cmocka_unit_test_teardown(test_strict_group_cap, teardown_fixture),
        cmocka_unit_test_teardown(test_strict_fair_resources, teardown_fixture),
        cmocka_unit_test_teardown(test_bounded_config, teardown_fixture),
        cmocka_unit_test_teardown(test_strict_share_values, teardown_fixture),
        cmocka_unit_test_teardown(test_bounded_peer_share_ceil, teardown_fixture),
        cmocka_unit_test_teardown(test_bounded_peer_share_floor, teardown_fixture),
        cmocka_unit_test_teardown(test_bounded_borrow_dynamic_ceiling_with_reserve,
                                  teardown_fixture),
        cmocka_unit_test_teardown(test_bounded_borrow_dynamic_ceiling_no_reserve, teardown_fixture),
        cmocka_unit_test_teardown(test_bounded_reserved_slots_capped, teardown_fixture),
        cmocka_unit_test_teardown(test_bounded_reserved_slots_uncapped, teardown_fixture),
        cmocka_unit_test_teardown(test_bounded_debt_amounts_and_repayment, teardown_fixture),
        cmocka_unit_test_teardown(test_bounded_peer_pressure_with_debt, teardown_fixture),
        cmocka_unit_test_teardown(test_bounded_explicit_and_default_ceilings, teardown_fixture),
        cmocka_unit_test_teardown(test_bounded_first_denial_wins, teardown_fixture),
        cmocka_unit_test_teardown(test_bounded_local_group_always_allowed, teardown_fixture),
        cmocka_unit_test_teardown(test_explain_blocked, teardown_fixture),
        cmocka_unit_test(test_create_owns_policy_even_on_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
