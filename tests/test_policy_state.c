/*
** The incremental state behind task admission: the fair queue's first
** candidates by request (admit_queue_view.head_requests), the peers the
** policies read from them, and the controller's reuse of a pure policy's
** decision between is_eligible and try_acquire.
**
** A randomized sequence (fixed seed) of enqueues, dispatch cycles, leases
** held and released, discards, eligibility probes, shutdowns and resets
** runs against two controllers in lockstep: one with the policy as made
** (pure: decisions reused) and one with a copy that is not pure (every
** decision evaluated afresh).  After every operation:
**   - the heads by request equal a recount of the active groups' first
**     candidates;
**   - for every first candidate and a sample of other tasks, on every
**     resource: the strict share, peer pressure and the policy's whole
**     decision from the queue's view equal those from the same view without
**     the heads by request (the policies then visit every active group, as
**     before they were kept);
**   - both controllers decide alike and hold the same ledger.
** Groups mix weights (0 counts as 1), admitted limits (none: local work)
** and requests (one resource to three, one named twice, no submission), and
** capacities are small, so hard eligibility and peer pressure change often.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit/fair_queue.h"
#include "admit/task_admission.h"

enum { NGROUPS = 12, NRES = 4, NTASKS = 400, NSHAPES = 7, STEPS = 6000 };

static const uint32_t limits[NRES] = {6, 4, 2, 3};

/* Requests, in the order they ask: {sub:1}, {sub:1, llm:1}, {sub:1, llm:2},
** {llm:1, req:1}, {sub:1, req:1, sub:1}, {aux:2, sub:1}, {req:2}. */
static const admit_resource_request shapes[NSHAPES] = {
    {.count = 1, .resource = {0}, .amount = {1}},
    {.count = 2, .resource = {0, 1}, .amount = {1, 1}},
    {.count = 2, .resource = {0, 1}, .amount = {1, 2}},
    {.count = 2, .resource = {1, 2}, .amount = {1, 1}},
    {.count = 3, .resource = {0, 2, 0}, .amount = {1, 1, 1}},
    {.count = 2, .resource = {3, 0}, .amount = {2, 1}},
    {.count = 1, .resource = {2}, .amount = {2}},
};

typedef struct held {
    const admit_task *task;
    admit_task_lease lease[2];
} held;

typedef struct world {
    admit_group_spec groups[NGROUPS];
    admit_task tasks[NTASKS];
    bool queued[NTASKS], running[NTASKS];
    held held[NTASKS];
    uint32_t nheld;
    admit_fair_queue *q;
    admit_task_admission *c[2]; /* [0] pure (decisions reused), [1] evaluated afresh */
    admit_task_policy policy;   /* c[0]'s, for direct evaluation */
    uint64_t rng;
} world;

static world *live;

static uint64_t rnd(world *w, uint64_t n) {
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng % n;
}

static int teardown_world(void **state) {
    (void)state;
    if (live) {
        admit_task_admission_destroy(live->c[0]);
        admit_task_admission_destroy(live->c[1]);
        admit_fair_queue_destroy(live->q);
        live = NULL;
    }
    return 0;
}

static admit_task_policy make_policy(bool bounded) {
    admit_task_policy p;
    if (!bounded) {
        admit_policy_strict_fair(&p);
        return p;
    }
    admit_bounded_borrow_config cfg;
    admit_bounded_borrow_config_init(&cfg);
    admit_error err;
    assert_int_equal(admit_policy_bounded_borrow(&cfg, &p, &err), ADMIT_OK);
    return p;
}

static void world_init(world *w, bool bounded) {
    memset(w, 0, sizeof *w);
    w->rng = 0x853c49e6748fea9bULL;
    for (uint32_t g = 0; g < NGROUPS; g++) {
        admit_group_spec *gs = &w->groups[g];
        snprintf(gs->key, sizeof gs->key, "g%u", g);
        gs->weight = (int)(g % 6); /* 0 counts as 1 */
        gs->admitted_limit = g % 4 == 3 ? 0 : 1 + (int)(g % 3);
        gs->kind = gs->admitted_limit ? ADMIT_KIND_MODEL : ADMIT_KIND_LOCAL;
    }
    for (uint32_t i = 0; i < NTASKS; i++) {
        admit_task *t = &w->tasks[i];
        t->group = (uint32_t)rnd(w, NGROUPS);
        t->column = t->group;
        t->row = i;
        t->type = ADMIT_TASK_CELL;
        t->task_id = admit_task_id(t->group, ADMIT_TASK_CELL, 0, i);
        /* most groups keep one request, some mix two */
        t->resources = shapes[(t->group + (t->group % 3 == 0 ? rnd(w, 2) : 0)) % NSHAPES];
    }
    admit_error err;
    w->q = admit_fair_queue_create(w->groups, NGROUPS, NRES, &err);
    assert_non_null(w->q);
    live = w;
    for (int k = 0; k < 2; k++) {
        admit_task_policy p = make_policy(bounded);
        if (k == 0) w->policy = p;
        p.pure = k == 0;
        admit_task_admission_config cfg = {.groups = w->groups,
                                           .group_count = NGROUPS,
                                           .resource_count = NRES,
                                           .limits = limits,
                                           .policy = p};
        w->c[k] = admit_task_admission_create(&cfg, &err);
        assert_non_null(w->c[k]);
    }
}

static void assert_decision_equal(const admit_policy_decision *a, const admit_policy_decision *b) {
    assert_int_equal(a->allowed, b->allowed);
    assert_int_equal(a->reason, b->reason);
    assert_int_equal(a->available_after_ns, b->available_after_ns);
    assert_int_equal(a->deny_resource, b->deny_resource);
    assert_int_equal(a->strict_share, b->strict_share);
    assert_int_equal(a->advisory, b->advisory);
    assert_int_equal(a->borrow_count, b->borrow_count);
    for (uint8_t i = 0; i < a->borrow_count; i++) {
        assert_int_equal(a->borrow_resource[i], b->borrow_resource[i]);
        assert_int_equal(a->borrow_amount[i], b->borrow_amount[i]);
    }
}

static bool request_is_same(const admit_resource_request *a, const admit_resource_request *b) {
    if (a->count != b->count) return false;
    for (uint8_t i = 0; i < a->count; i++)
        if (a->resource[i] != b->resource[i] || a->amount[i] != b->amount[i]) return false;
    return true;
}

/* The heads by request against a recount of the active groups' first
** candidates. */
static void check_heads(const world *w) {
    const admit_queue_view *v = admit_fair_queue_view(w->q);
    assert_non_null(v->head_requests);
    admit_head_request want[NSHAPES];
    uint32_t nwant = 0, groups = 0;
    for (uint32_t i = 0; i < v->active_count; i++) {
        uint32_t g = v->active_groups[i];
        const admit_task *head = v->first_candidate[g];
        assert_non_null(head);
        uint32_t k = 0;
        while (k < nwant && !request_is_same(&want[k].request, &head->resources))
            k++;
        if (k == nwant) want[nwant++] = (admit_head_request){head->resources, 0, 0};
        want[k].weight += (uint64_t)admit_group_weight(&w->groups[g]);
        want[k].groups++;
    }
    for (uint32_t i = 0; i < v->head_request_count; i++) {
        const admit_head_request *h = &v->head_requests[i];
        groups += h->groups;
        if (!h->groups) {
            assert_int_equal(h->weight, 0);
            continue;
        }
        uint32_t k = 0;
        while (k < nwant && !request_is_same(&want[k].request, &h->request))
            k++;
        assert_true(k < nwant);
        assert_int_equal(h->weight, want[k].weight);
        assert_int_equal(h->groups, want[k].groups);
    }
    assert_int_equal(groups, v->active_count);
}

/* The peers of task from the heads by request and from every active group. */
static void check_task(const world *w, const admit_task *t) {
    const admit_queue_view *v = admit_fair_queue_view(w->q);
    admit_queue_view scan = *v; /* the same view, without the heads by request */
    scan.head_requests = NULL;
    scan.head_request_count = 0;
    scan.queue_id = scan.version = 0;
    const admit_admission_view *a = admit_task_admission_view(w->c[0]);
    for (uint16_t r = 0; r < NRES; r++) {
        for (int rounding = 0; rounding < 2; rounding++)
            assert_int_equal(admit_policy_strict_share(t, r, v, a, rounding),
                             admit_policy_strict_share(t, r, &scan, a, rounding));
        assert_int_equal(admit_policy_is_peer_pressured(t, r, v, a),
                         admit_policy_is_peer_pressured(t, r, &scan, a));
    }
    admit_policy_decision d[2];
    for (int k = 0; k < 2; k++) {
        memset(&d[k], 0, sizeof d[k]);
        d[k].available_after_ns = -1;
        d[k].deny_resource = -1;
        w->policy.evaluate(w->policy.ctx, t, k ? &scan : v, a, &d[k]);
    }
    assert_decision_equal(&d[0], &d[1]);
    for (int k = 0; k < 2; k++)
        admit_task_admission_is_eligible(w->c[k], t, v, &d[k]);
    assert_decision_equal(&d[0], &d[1]);
}

static void check_all(world *w) {
    check_heads(w);
    const admit_queue_view *v = admit_fair_queue_view(w->q);
    for (uint32_t i = 0; i < v->active_count; i++)
        check_task(w, v->first_candidate[v->active_groups[i]]);
    for (int k = 0; k < 3; k++)
        check_task(w, &w->tasks[rnd(w, NTASKS)]);
    const admit_admission_view *a = admit_task_admission_view(w->c[0]);
    const admit_admission_view *b = admit_task_admission_view(w->c[1]);
    assert_memory_equal(a->leased, b->leased, NRES * sizeof *a->leased);
    assert_memory_equal(a->debt, b->debt, NGROUPS * NRES * sizeof *a->debt);
}

/* Decides for the first active group's first candidate, so the check after
** the operation (which starts with it) finds a decision made before the
** queue changed: the pure controller must not reuse it. */
static void probe_first_head(world *w) {
    const admit_queue_view *v = admit_fair_queue_view(w->q);
    if (!v->active_count) return;
    for (int k = 0; k < 2; k++)
        admit_task_admission_is_eligible(w->c[k], v->first_candidate[v->active_groups[0]], v, NULL);
}

static void op_enqueue(world *w) {
    probe_first_head(w);
    for (uint64_t n = 1 + rnd(w, 3); n; n--) {
        uint32_t i = (uint32_t)rnd(w, NTASKS);
        if (w->queued[i] || w->running[i]) continue;
        const admit_task *items[1] = {&w->tasks[i]};
        assert_int_equal(admit_fair_queue_enqueue(w->q, items, 1, NULL), 1);
        w->queued[i] = true;
    }
}

static bool eligible(void *ctx, const admit_task *t, const admit_queue_view *v) {
    return admit_task_admission_is_eligible(ctx, t, v, NULL);
}

/* select (on the pure controller), acquire on both, commit, hold. */
static void op_dispatch(world *w) {
    admit_queue_selection sel;
    const admit_queue_view *v = admit_fair_queue_view(w->q);
    if (!admit_fair_queue_select_next(w->q, eligible, w->c[0], &sel)) return;
    held *h = &w->held[w->nheld];
    admit_policy_decision d[2];
    bool ok[2];
    for (int k = 0; k < 2; k++)
        ok[k] = admit_task_admission_try_acquire(w->c[k], sel.task, v, 0, &h->lease[k], &d[k]);
    assert_int_equal(ok[0], ok[1]);
    assert_decision_equal(&d[0], &d[1]);
    assert_true(ok[0]); /* nothing changed since it was found eligible */
    assert_ptr_equal(admit_fair_queue_commit(w->q, &sel), sel.task);
    h->task = sel.task;
    w->nheld++;
    w->queued[sel.task - w->tasks] = false;
    w->running[sel.task - w->tasks] = true;
}

static void op_release(world *w) {
    if (!w->nheld) return;
    uint32_t i = (uint32_t)rnd(w, w->nheld);
    held h = w->held[i];
    w->held[i] = w->held[--w->nheld];
    for (int k = 0; k < 2; k++)
        assert_int_equal(admit_task_admission_release(w->c[k], h.lease[k]), ADMIT_RELEASE_RELEASED);
    w->running[h.task - w->tasks] = false;
}

static void op_discard(world *w) {
    probe_first_head(w);
    uint32_t i = (uint32_t)rnd(w, NTASKS);
    assert_int_equal(admit_fair_queue_discard(w->q, w->tasks[i].task_id), w->queued[i]);
    w->queued[i] = false;
}

static void op_reset(world *w) {
    for (int k = 0; k < 2; k++)
        admit_task_admission_reset(w->c[k]);
    for (uint32_t i = 0; i < w->nheld; i++)
        w->running[w->held[i].task - w->tasks] = false;
    w->nheld = 0;
}

static void run(bool bounded) {
    static world the_world;
    world *w = &the_world;
    world_init(w, bounded);
    for (int step = 0; step < STEPS; step++) {
        uint64_t op = rnd(w, 100);
        if (op < 35)
            op_enqueue(w);
        else if (op < 65)
            op_dispatch(w);
        else if (op < 90)
            op_release(w);
        else if (op < 97)
            op_discard(w);
        else if (op < 99)
            op_reset(w);
        else {
            admit_task_admission_shutdown(w->c[0]);
            admit_task_admission_shutdown(w->c[1]);
            check_all(w);
            op_reset(w);
        }
        check_all(w);
    }
    teardown_world(NULL);
}

static void test_strict_state_random(void **state) {
    (void)state;
    run(false);
}

static void test_bounded_state_random(void **state) {
    (void)state;
    run(true);
}

/* A decision made before the queue changed is not reused after: group A at
** its admitted limit is allowed while no peer waits, and capped once B's
** head asks for the same resource, with nothing leased or released between
** the two questions. */
static void test_no_reuse_across_queue_change(void **state) {
    (void)state;
    static world the_world;
    world *w = &the_world;
    world_init(w, false);
    admit_task *a = NULL, *a2 = NULL, *b = NULL;
    for (uint32_t i = 0; i < NTASKS; i++) { /* groups 1 and 2: limit 2 and 3 */
        admit_task *t = &w->tasks[i];
        t->resources = shapes[0];
        if (t->group == 1 && !a)
            a = t;
        else if (t->group == 1 && !a2)
            a2 = t;
        else if (t->group == 2 && !b)
            b = t;
    }
    assert_true(a && a2 && b);
    const admit_queue_view *v = admit_fair_queue_view(w->q);
    admit_task_lease lease[2];
    admit_policy_decision d;
    const admit_task *items[1] = {a2};
    assert_int_equal(admit_fair_queue_enqueue(w->q, items, 1, NULL), 1);
    for (int k = 0; k < 2; k++) /* A runs its admitted limit, 2 */
        assert_true(admit_task_admission_try_acquire(w->c[0], a, v, 0, &lease[k], &d));
    assert_true(admit_task_admission_is_eligible(w->c[0], a2, v, &d));
    items[0] = b;
    assert_int_equal(admit_fair_queue_enqueue(w->q, items, 1, NULL), 1);
    assert_false(admit_task_admission_is_eligible(w->c[0], a2, v, &d));
    assert_int_equal(d.reason, ADMIT_DENY_GROUP_CAP);
    teardown_world(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_strict_state_random, teardown_world),
        cmocka_unit_test_teardown(test_bounded_state_random, teardown_world),
        cmocka_unit_test_teardown(test_no_reuse_across_queue_change, teardown_world),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
