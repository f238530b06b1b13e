/*
** FairTaskQueue (SPEC §3): virtual-time weighted fair ordering across task
** groups, idempotent enqueue, non-mutating select, stale-selection detection,
** discard and the QueueView aggregates.
**
** Every expected sequence below is computed by hand from the SPEC rules:
**   activation: finish_tag = group_finish[g] if known, else V;
**   order:      ascending (finish_tag, activation_seq);
**   commit:     V = max(V, finish_tag[g]); group_finish[g] = V + 1/max(w,1);
**               g is deactivated and, if it still has work, reactivated with
**               a fresh (largest) activation_seq.
** Tags are written as exact fractions ("A(1/3,#2)" = tag 1/3, activation #2).
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

enum { R_SUB = ADMIT_RESOURCE_SUBMISSION, R_LLM = 1, R_REQ = 2, NRES = 3 };

#define MAX_GROUPS 4
#define MAX_TASKS  64

typedef struct fixture {
    admit_group_spec groups[MAX_GROUPS];
    uint32_t group_count;
    admit_task tasks[MAX_TASKS];
    uint32_t task_count;
    admit_fair_queue *q;
} fixture;

/* The live queue, so the teardown can free it when an assertion failed and
** longjmp'ed out of the test before fx_done(). */
static admit_fair_queue *live_queue;

static int teardown_queue(void **state) {
    (void)state;
    admit_fair_queue_destroy(live_queue);
    live_queue = NULL;
    return 0;
}

static void fx_init(fixture *fx, const int *weights, uint32_t group_count) {
    memset(fx, 0, sizeof *fx);
    fx->group_count = group_count;
    for (uint32_t g = 0; g < group_count; g++) {
        snprintf(fx->groups[g].key, sizeof fx->groups[g].key, "%c", 'A' + g);
        fx->groups[g].kind = ADMIT_KIND_MODEL;
        fx->groups[g].weight = weights[g];
        fx->groups[g].admitted_limit = 0;
    }
    admit_error err;
    fx->q = admit_fair_queue_create(fx->groups, group_count, NRES, &err);
    assert_non_null(fx->q);
    live_queue = fx->q;
}

static void fx_done(fixture *fx) {
    admit_fair_queue_destroy(fx->q);
    live_queue = NULL;
}

/* A task of group g requesting {submission: sub, llm_wait: llm, request: req}
** (zero amounts are left out). The id encodes the fixture index. */
static admit_task *fx_task(fixture *fx, uint32_t g, uint32_t sub, uint32_t llm, uint32_t req) {
    assert_true(fx->task_count < MAX_TASKS);
    uint32_t i = fx->task_count++;
    admit_task *t = &fx->tasks[i];
    test_task_init(t, g, i);
    const uint32_t amounts[NRES] = {sub, llm, req};
    for (uint16_t r = 0; r < NRES; r++) {
        if (!amounts[r]) continue;
        t->resources.resource[t->resources.count] = r;
        t->resources.amount[t->resources.count] = amounts[r];
        t->resources.count++;
    }
    return t;
}

static size_t enqueue_one(fixture *fx, const admit_task *t) {
    const admit_task *items[1] = {t};
    return admit_fair_queue_enqueue(fx->q, items, 1, NULL);
}

/* Enqueues n fresh {submission:1} tasks of group g, one enqueue call. */
static void enqueue_many(fixture *fx, uint32_t g, uint32_t n) {
    const admit_task *items[MAX_TASKS];
    for (uint32_t i = 0; i < n; i++)
        items[i] = fx_task(fx, g, 1, 0, 0);
    assert_int_equal(admit_fair_queue_enqueue(fx->q, items, n, NULL), n);
}

/* select_next(NULL) + commit; returns the group letter. */
static char commit_next(fixture *fx) {
    admit_queue_selection sel;
    assert_true(admit_fair_queue_select_next(fx->q, NULL, NULL, &sel));
    const admit_task *t = admit_fair_queue_commit(fx->q, &sel);
    assert_non_null(t);
    assert_ptr_equal(t, sel.task);
    assert_int_equal(t->group, sel.group);
    return (char)('A' + sel.group);
}

static void commit_sequence(fixture *fx, size_t n, char *out) {
    for (size_t i = 0; i < n; i++)
        out[i] = commit_next(fx);
    out[n] = '\0';
}

/* ---- weighted ordering ------------------------------------------------- */

/* Tags are binary doubles accumulated exactly as the reference
** implementation does (V + 1.0/max(weight,1)), so admitsim orders tasks
** exactly as the reference does, including where rational arithmetic would
** tie: with weight 3, A's tag after three steps from 1 is
** 1 + 1/3 + 1/3 + 1/3 = 1.9999999999999998, which sorts before B's 2 at
** commit 9.  With exact rationals the tie would go to B (activated first) and
** the sequence would read "ABAABAAABAAA".  The table shows the rational tags. */
static void test_weights_3_1_first_12(void **state) {
    (void)state;
    const int w[] = {3, 1};
    fixture fx;
    fx_init(&fx, w, 2);
    enqueue_many(&fx, 0, 20); /* A activates first: A(0,#0) */
    enqueue_many(&fx, 1, 20); /* then B(0,#1); V = 0 */
    /*
    **  #  active before commit      pick  V after  new entry
    **  1  A(0,#0) B(0,#1)           A     0        A(1/3,#2)
    **  2  B(0,#1) A(1/3,#2)         B     0        B(1,#3)
    **  3  A(1/3,#2) B(1,#3)         A     1/3      A(2/3,#4)
    **  4  A(2/3,#4) B(1,#3)         A     2/3      A(1,#5)
    **  5  B(1,#3) A(1,#5)  tie->seq B     1        B(2,#6)
    **  6  A(1,#5) B(2,#6)           A     1        A(4/3,#7)
    **  7  A(4/3,#7) B(2,#6)         A     4/3      A(5/3,#8)
    **  8  A(5/3,#8) B(2,#6)         A     5/3      A(2,#9)
    **  9  B(2,#6) A(2,#9)  tie->seq B     2        B(3,#10)
    ** 10  A(2,#9) B(3,#10)          A     2        A(7/3,#11)
    ** 11  A(7/3,#11) B(3,#10)       A     7/3      A(8/3,#12)
    ** 12  A(8/3,#12) B(3,#10)       A     8/3      A(3,#13)
    */
    char seq[13];
    commit_sequence(&fx, 12, seq);
    assert_string_equal(seq, "ABAABAAAABAA"); /* commits 9 and 10 swap: see above */
    assert_float_equal(admit_fair_queue_virtual_time(fx.q), 8.0 / 3.0, 1e-9);
    fx_done(&fx);
}

/* Dyadic steps (1/2, 1) are exact in binary, so this checks the rules alone. */
static void test_weights_2_1_first_12(void **state) {
    (void)state;
    const int w[] = {2, 1};
    fixture fx;
    fx_init(&fx, w, 2);
    enqueue_many(&fx, 0, 20);
    enqueue_many(&fx, 1, 20);
    /*
    **  1 A(0,#0)   -> V 0,   A(1/2,#2)     7 B(2,#5)   -> V 2,   B(3,#8)
    **  2 B(0,#1)   -> V 0,   B(1,#3)       8 A(2,#7)   -> V 2,   A(5/2,#9)
    **  3 A(1/2,#2) -> V 1/2, A(1,#4)       9 A(5/2,#9) -> V 5/2, A(3,#10)
    **  4 B(1,#3)   -> V 1,   B(2,#5)      10 B(3,#8)   -> V 3,   B(4,#11)
    **  5 A(1,#4)   -> V 1,   A(3/2,#6)    11 A(3,#10)  -> V 3,   A(7/2,#12)
    **  6 A(3/2,#6) -> V 3/2, A(2,#7)      12 A(7/2,#12)-> V 7/2, A(4,#13)
    */
    char seq[13];
    commit_sequence(&fx, 12, seq);
    assert_string_equal(seq, "ABABAABAABAA");
    assert_true(admit_fair_queue_virtual_time(fx.q) == 3.5);
    fx_done(&fx);
}

static void test_weights_1_2_4_first_12(void **state) {
    (void)state;
    const int w[] = {1, 2, 4};
    fixture fx;
    fx_init(&fx, w, 3);
    enqueue_many(&fx, 0, 12); /* A(0,#0) */
    enqueue_many(&fx, 1, 12); /* B(0,#1) */
    enqueue_many(&fx, 2, 12); /* C(0,#2); steps A 1, B 1/2, C 1/4 */
    /*
    **  1 A(0,#0)    -> V 0,   A(1,#3)      7 C(3/4,#8)  -> V 3/4, C(1,#9)
    **  2 B(0,#1)    -> V 0,   B(1/2,#4)    8 A(1,#3)    -> V 1,   A(2,#10)
    **  3 C(0,#2)    -> V 0,   C(1/4,#5)    9 B(1,#7)    -> V 1,   B(3/2,#11)
    **  4 C(1/4,#5)  -> V 1/4, C(1/2,#6)   10 C(1,#9)    -> V 1,   C(5/4,#12)
    **  5 B(1/2,#4)  -> V 1/2, B(1,#7)     11 C(5/4,#12) -> V 5/4, C(3/2,#13)
    **  6 C(1/2,#6)  -> V 1/2, C(3/4,#8)   12 B(3/2,#11) -> V 3/2, B(2,#14)
    ** (5: B(1/2,#4) precedes C(1/2,#6) by activation sequence.)
    */
    char seq[13];
    commit_sequence(&fx, 12, seq);
    assert_string_equal(seq, "ABCCBCCABCCB");
    assert_true(admit_fair_queue_virtual_time(fx.q) == 1.5);
    /* Remaining active order: C(3/2,#13) A(2,#10) B(2,#14). */
    const admit_queue_view *v = admit_fair_queue_view(fx.q);
    assert_int_equal(v->active_count, 3);
    assert_int_equal(v->active_groups[0], 2);
    assert_int_equal(v->active_groups[1], 0);
    assert_int_equal(v->active_groups[2], 1);
    fx_done(&fx);
}

/* A group that arrives later activates at the current V. */
static void test_late_arrival_activates_at_current_v(void **state) {
    (void)state;
    const int w[] = {1, 1, 1, 1};
    fixture fx;
    fx_init(&fx, w, 4);
    enqueue_many(&fx, 0, 5); /* A(0,#0) */
    enqueue_many(&fx, 1, 5); /* B(0,#1) */
    char seq[16];
    /* 1 A(0,#0) -> V 0, A(1,#2);  2 B(0,#1) -> V 0, B(1,#3). */
    commit_sequence(&fx, 2, seq);
    assert_string_equal(seq, "AB");
    assert_true(admit_fair_queue_virtual_time(fx.q) == 0.0);

    /* C arrives: C(V=0,#4) has the lowest tag and goes first. */
    enqueue_many(&fx, 2, 2);
    const admit_queue_view *v = admit_fair_queue_view(fx.q);
    assert_int_equal(v->active_count, 3);
    assert_int_equal(v->active_groups[0], 2);
    assert_int_equal(v->active_groups[1], 0);
    assert_int_equal(v->active_groups[2], 1);
    /* 3 C(0,#4) -> V 0, C(1,#5);  4 A(1,#2) -> V 1, A(2,#6). */
    commit_sequence(&fx, 2, seq);
    assert_string_equal(seq, "CA");
    assert_true(admit_fair_queue_virtual_time(fx.q) == 1.0);

    /* D arrives at V = 1 -> D(1,#7): ties with B(1,#3) and C(1,#5) and loses
    ** the tie to both (later activation) but beats A(2,#6). */
    enqueue_many(&fx, 3, 1);
    v = admit_fair_queue_view(fx.q);
    assert_int_equal(v->active_count, 4);
    assert_int_equal(v->active_groups[0], 1);
    assert_int_equal(v->active_groups[1], 2);
    assert_int_equal(v->active_groups[2], 3);
    assert_int_equal(v->active_groups[3], 0);
    /* 5 B(1,#3) -> B(2,#8); 6 C(1,#5) -> C empty; 7 D(1,#7) -> D empty;
    ** 8 A(2,#6) -> A(3,#9); 9 B(2,#8). */
    commit_sequence(&fx, 5, seq);
    assert_string_equal(seq, "BCDAB");
    assert_true(admit_fair_queue_virtual_time(fx.q) == 2.0);
    fx_done(&fx);
}

/* A group that empties keeps its group_finish and reuses it on reactivation. */
static void test_reactivation_reuses_group_finish(void **state) {
    (void)state;
    const int w[] = {1, 1};
    fixture fx;
    fx_init(&fx, w, 2);
    enqueue_many(&fx, 1, 3); /* B alone: B(0,#0) */
    char seq[16];
    /* B(0) -> V 0, gf[B] 1; B(1) -> V 1, gf[B] 2; B(2) -> V 2, gf[B] 3; empty. */
    commit_sequence(&fx, 3, seq);
    assert_string_equal(seq, "BBB");
    assert_true(admit_fair_queue_virtual_time(fx.q) == 2.0);
    assert_int_equal(admit_fair_queue_view(fx.q)->active_count, 0);

    /* B comes back first: B(gf=3,#3); then A is new: A(V=2,#4).  Were B to
    ** activate at V it would be B(2,#3) and go before A(2,#4). */
    enqueue_many(&fx, 1, 3);
    enqueue_many(&fx, 0, 3);
    const admit_queue_view *v = admit_fair_queue_view(fx.q);
    assert_int_equal(v->active_count, 2);
    assert_int_equal(v->active_groups[0], 0);
    assert_int_equal(v->active_groups[1], 1);
    /* A(2,#4) -> V 2, A(3,#5); B(3,#3) wins the tie; A(3,#5) -> V 3. */
    commit_sequence(&fx, 3, seq);
    assert_string_equal(seq, "ABA");
    assert_true(admit_fair_queue_virtual_time(fx.q) == 3.0);
    fx_done(&fx);
}

/* Weight 0 or negative counts as 1. */
static void test_nonpositive_weight_counts_as_one(void **state) {
    (void)state;
    const int w0[] = {0, 2};
    fixture fx;
    fx_init(&fx, w0, 2);
    enqueue_many(&fx, 0, 10);
    enqueue_many(&fx, 1, 10);
    /* As weights (1,2):  A(0,#0)->A(1,#2); B(0,#1)->B(1/2,#3); B(1/2)->V 1/2,
    ** B(1,#4); A(1,#2)->V 1, A(2,#5); B(1,#4)->B(3/2,#6); B(3/2)->V 3/2,
    ** B(2,#7); A(2,#5) wins the tie.  (With a literal 1/0 A would be starved.) */
    char seq[16];
    commit_sequence(&fx, 7, seq);
    assert_string_equal(seq, "ABBABBA");
    fx_done(&fx);

    const int wneg[] = {-5, 1};
    fx_init(&fx, wneg, 2);
    enqueue_many(&fx, 0, 10);
    enqueue_many(&fx, 1, 10);
    /* Equal weights alternate: A(0,#0) B(0,#1) A(1,#2) B(1,#3) ... */
    commit_sequence(&fx, 8, seq);
    assert_string_equal(seq, "ABABABAB");
    assert_true(admit_fair_queue_virtual_time(fx.q) == 3.0);
    fx_done(&fx);
}

/* ---- enqueue ----------------------------------------------------------- */

static void test_enqueue_idempotent_by_task_id(void **state) {
    (void)state;
    const int w[] = {1, 1};
    fixture fx;
    fx_init(&fx, w, 2);
    admit_task *t1 = fx_task(&fx, 0, 1, 0, 0);
    admit_task *t2 = fx_task(&fx, 1, 1, 2, 0);
    admit_task *t3 = fx_task(&fx, 0, 1, 0, 1);
    admit_task *twin = fx_task(&fx, 1, 5, 5, 5);
    twin->task_id = t1->task_id; /* different struct (and group), same id */

    uint64_t v0 = admit_fair_queue_version(fx.q);
    const admit_task *acc[8] = {0};
    const admit_task *batch1[] = {t1, t1, t2};
    assert_int_equal(admit_fair_queue_enqueue(fx.q, batch1, 3, acc), 2);
    assert_ptr_equal(acc[0], t1);
    assert_ptr_equal(acc[1], t2);
    assert_true(admit_fair_queue_version(fx.q) > v0);

    memset(acc, 0, sizeof acc);
    const admit_task *batch2[] = {twin, t3, t2};
    assert_int_equal(admit_fair_queue_enqueue(fx.q, batch2, 3, acc), 1);
    assert_ptr_equal(acc[0], t3);
    assert_null(acc[1]);

    const admit_queue_view *v = admit_fair_queue_view(fx.q);
    assert_int_equal(v->queued_total, 3);
    assert_int_equal(v->queued_by_group[0], 2);
    assert_int_equal(v->queued_by_group[1], 1);
    /* The twin's demand (5,5,5 in group B) was not counted. */
    assert_int_equal(v->demand[1 * NRES + R_SUB], 1);
    assert_int_equal(v->demand[1 * NRES + R_LLM], 2);
    assert_int_equal(v->demand[1 * NRES + R_REQ], 0);
    assert_int_equal(v->demand_by_resource[R_SUB], 3);
    assert_true(admit_fair_queue_is_queued(fx.q, t1->task_id));
    assert_true(admit_fair_queue_is_queued(fx.q, t3->task_id));

    /* Same again: nothing accepted, accepted == NULL is allowed. */
    const admit_task *batch3[] = {t1, t2, t3, twin};
    assert_int_equal(admit_fair_queue_enqueue(fx.q, batch3, 4, NULL), 0);
    assert_int_equal(v->queued_total, 3);

    /* Once committed, the id is no longer queued and can be enqueued again. */
    admit_queue_selection sel;
    assert_true(admit_fair_queue_select_next(fx.q, NULL, NULL, &sel));
    assert_ptr_equal(sel.task, t1);
    assert_ptr_equal(admit_fair_queue_commit(fx.q, &sel), t1);
    assert_false(admit_fair_queue_is_queued(fx.q, t1->task_id));
    assert_int_equal(enqueue_one(&fx, t1), 1);
    assert_int_equal(admit_fair_queue_view(fx.q)->queued_total, 3);
    fx_done(&fx);
}

/* ---- select_next with a predicate -------------------------------------- */

typedef struct pred_ctx {
    uint32_t reject_group_mask;
    uint32_t calls;
    uint32_t visited[8];
    const admit_queue_view *seen_view;
} pred_ctx;

static bool reject_groups(void *ctx, const admit_task *task, const admit_queue_view *view) {
    pred_ctx *p = ctx;
    if (p->calls < 8) p->visited[p->calls] = task->group;
    p->calls++;
    p->seen_view = view;
    return !(p->reject_group_mask & (1u << task->group));
}

static void test_select_predicate_skips_in_tag_order(void **state) {
    (void)state;
    const int w[] = {1, 1, 1};
    fixture fx;
    fx_init(&fx, w, 3);
    /* Enqueue C first, then A, then B: order C(0,#0) A(0,#1) B(0,#2). */
    admit_task *c1 = fx_task(&fx, 2, 1, 0, 0);
    admit_task *a1 = fx_task(&fx, 0, 1, 0, 0);
    admit_task *a2 = fx_task(&fx, 0, 1, 0, 0);
    admit_task *b1 = fx_task(&fx, 1, 1, 0, 0);
    const admit_task *items[] = {c1, a1, a2, b1};
    assert_int_equal(admit_fair_queue_enqueue(fx.q, items, 4, NULL), 4);
    uint64_t ver = admit_fair_queue_version(fx.q);

    /* Reject C: the first passing head in tag order is A's head a1. */
    pred_ctx p = {.reject_group_mask = 1u << 2};
    admit_queue_selection s1, s2;
    assert_true(admit_fair_queue_select_next(fx.q, reject_groups, &p, &s1));
    assert_ptr_equal(s1.task, a1);
    assert_int_equal(s1.group, 0);
    assert_int_equal(s1.version, ver);
    assert_int_equal(p.calls, 2); /* C's head, then A's head; B not needed */
    assert_int_equal(p.visited[0], 2);
    assert_int_equal(p.visited[1], 0);
    assert_ptr_equal(p.seen_view, admit_fair_queue_view(fx.q));

    /* Non-mutating: same answer again, version and view unchanged. */
    assert_true(admit_fair_queue_select_next(fx.q, reject_groups, &p, &s2));
    assert_ptr_equal(s2.task, a1);
    assert_int_equal(s2.version, ver);
    assert_int_equal(admit_fair_queue_version(fx.q), ver);
    assert_int_equal(admit_fair_queue_view(fx.q)->queued_total, 4);
    assert_true(admit_fair_queue_virtual_time(fx.q) == 0.0);

    /* Reject C and A: B's head; reject everything: none. */
    p = (pred_ctx){.reject_group_mask = (1u << 2) | 1u};
    assert_true(admit_fair_queue_select_next(fx.q, reject_groups, &p, &s2));
    assert_ptr_equal(s2.task, b1);
    assert_int_equal(p.calls, 3);
    p = (pred_ctx){.reject_group_mask = 7u};
    assert_false(admit_fair_queue_select_next(fx.q, reject_groups, &p, &s2));
    assert_int_equal(p.calls, 3);
    assert_int_equal(admit_fair_queue_version(fx.q), ver);

    /* pred == NULL takes the very first entry. */
    assert_true(admit_fair_queue_select_next(fx.q, NULL, NULL, &s2));
    assert_ptr_equal(s2.task, c1);

    /* Committing the predicate's pick: A(0,#1) -> V 0, A(1,#3).  C(0,#0) is
    ** still first. */
    assert_ptr_equal(admit_fair_queue_commit(fx.q, &s1), a1);
    const admit_queue_view *v = admit_fair_queue_view(fx.q);
    assert_int_equal(v->active_count, 3);
    assert_int_equal(v->active_groups[0], 2);
    assert_int_equal(v->active_groups[1], 1);
    assert_int_equal(v->active_groups[2], 0);
    assert_ptr_equal(v->first_candidate[0], a2);
    fx_done(&fx);
}

static void test_select_on_empty_queue(void **state) {
    (void)state;
    const int w[] = {1};
    fixture fx;
    fx_init(&fx, w, 1);
    admit_queue_selection sel;
    assert_false(admit_fair_queue_select_next(fx.q, NULL, NULL, &sel));
    const admit_queue_view *v = admit_fair_queue_view(fx.q);
    assert_int_equal(v->queued_total, 0);
    assert_int_equal(v->active_count, 0);
    assert_null(v->first_candidate[0]);
    fx_done(&fx);
}

/* ---- stale commits ----------------------------------------------------- */

static void test_stale_commit_returns_null(void **state) {
    (void)state;
    const int w[] = {1, 1};
    fixture fx;
    fx_init(&fx, w, 2);
    admit_task *a1 = fx_task(&fx, 0, 1, 0, 0);
    admit_task *a2 = fx_task(&fx, 0, 1, 0, 0);
    admit_task *b1 = fx_task(&fx, 1, 1, 0, 0);
    admit_task *b2 = fx_task(&fx, 1, 1, 0, 0);
    const admit_task *items[] = {a1, a2, b1};
    assert_int_equal(admit_fair_queue_enqueue(fx.q, items, 3, NULL), 3);
    const admit_queue_view *v = admit_fair_queue_view(fx.q);

    /* 1. select, enqueue something, commit the old selection. */
    admit_queue_selection old;
    assert_true(admit_fair_queue_select_next(fx.q, NULL, NULL, &old));
    assert_ptr_equal(old.task, a1);
    assert_int_equal(enqueue_one(&fx, b2), 1);
    uint64_t ver = admit_fair_queue_version(fx.q);
    assert_true(ver != old.version);
    assert_null(admit_fair_queue_commit(fx.q, &old));
    assert_int_equal(admit_fair_queue_version(fx.q), ver);
    assert_int_equal(v->queued_total, 4);
    assert_true(admit_fair_queue_is_queued(fx.q, a1->task_id));
    assert_ptr_equal(v->first_candidate[0], a1);
    assert_true(admit_fair_queue_virtual_time(fx.q) == 0.0);

    /* 2. select, discard something else, commit the old selection. */
    assert_true(admit_fair_queue_select_next(fx.q, NULL, NULL, &old));
    assert_ptr_equal(old.task, a1);
    assert_true(admit_fair_queue_discard(fx.q, b2->task_id));
    ver = admit_fair_queue_version(fx.q);
    assert_null(admit_fair_queue_commit(fx.q, &old));
    assert_int_equal(admit_fair_queue_version(fx.q), ver);
    assert_int_equal(v->queued_total, 3);
    assert_ptr_equal(v->first_candidate[0], a1);

    /* 3. two selections at one version: commit one, the other is stale. */
    pred_ctx p = {.reject_group_mask = 1u};
    admit_queue_selection sel_b;
    assert_true(admit_fair_queue_select_next(fx.q, NULL, NULL, &old));
    assert_true(admit_fair_queue_select_next(fx.q, reject_groups, &p, &sel_b));
    assert_int_equal(old.version, sel_b.version);
    assert_ptr_equal(sel_b.task, b1);
    assert_ptr_equal(admit_fair_queue_commit(fx.q, &sel_b), b1);
    ver = admit_fair_queue_version(fx.q);
    assert_null(admit_fair_queue_commit(fx.q, &old));
    assert_int_equal(admit_fair_queue_version(fx.q), ver);
    assert_int_equal(v->queued_total, 2);
    assert_int_equal(v->queued_by_group[0], 2);
    assert_ptr_equal(v->first_candidate[0], a1);

    /* 4. committing the same selection twice: the second is stale. */
    assert_true(admit_fair_queue_select_next(fx.q, NULL, NULL, &old));
    assert_ptr_equal(admit_fair_queue_commit(fx.q, &old), a1);
    assert_null(admit_fair_queue_commit(fx.q, &old));
    assert_int_equal(v->queued_total, 1);
    assert_ptr_equal(v->first_candidate[0], a2);
    fx_done(&fx);
}

/* ---- discard and the view ---------------------------------------------- */

typedef struct view_expect {
    uint64_t total;
    uint32_t by_group[2];
    uint64_t demand[2][NRES];
    const admit_task *first[2];
    uint32_t active_count;
    uint32_t active[2];
} view_expect;

static void check_view(const fixture *fx, const view_expect *e) {
    const admit_queue_view *v = admit_fair_queue_view(fx->q);
    assert_int_equal(v->group_count, 2);
    assert_int_equal(v->resource_count, NRES);
    assert_ptr_equal(v->groups, fx->groups);
    assert_int_equal(v->queued_total, e->total);
    for (uint32_t g = 0; g < 2; g++) {
        assert_int_equal(v->queued_by_group[g], e->by_group[g]);
        assert_ptr_equal(v->first_candidate[g], e->first[g]);
        for (uint32_t r = 0; r < NRES; r++)
            assert_int_equal(v->demand[g * NRES + r], e->demand[g][r]);
    }
    for (uint32_t r = 0; r < NRES; r++)
        assert_int_equal(v->demand_by_resource[r], e->demand[0][r] + e->demand[1][r]);
    assert_int_equal(v->active_count, e->active_count);
    for (uint32_t i = 0; i < e->active_count; i++)
        assert_int_equal(v->active_groups[i], e->active[i]);
}

static void test_discard_and_view_aggregates(void **state) {
    (void)state;
    const int w[] = {1, 1};
    fixture fx;
    fx_init(&fx, w, 2);
    admit_task *a1 = fx_task(&fx, 0, 1, 1, 0);
    admit_task *a2 = fx_task(&fx, 0, 1, 2, 1);
    admit_task *a3 = fx_task(&fx, 0, 2, 0, 3);
    admit_task *b1 = fx_task(&fx, 1, 1, 1, 1);
    admit_task *b2 = fx_task(&fx, 1, 1, 0, 0);

    view_expect e = {0};
    check_view(&fx, &e);

    /* B first so B(0,#0) A(0,#1). */
    const admit_task *items[] = {b1, a1, a2, a3};
    uint64_t ver = admit_fair_queue_version(fx.q);
    assert_int_equal(admit_fair_queue_enqueue(fx.q, items, 4, NULL), 4);
    assert_true(admit_fair_queue_version(fx.q) > ver);
    e = (view_expect){.total = 4,
                      .by_group = {3, 1},
                      .demand = {{4, 3, 4}, {1, 1, 1}},
                      .first = {a1, b1},
                      .active_count = 2,
                      .active = {1, 0}};
    check_view(&fx, &e);

    /* Discard from the middle of A. */
    ver = admit_fair_queue_version(fx.q);
    assert_true(admit_fair_queue_discard(fx.q, a2->task_id));
    assert_true(admit_fair_queue_version(fx.q) > ver);
    assert_false(admit_fair_queue_is_queued(fx.q, a2->task_id));
    e.total = 3;
    e.by_group[0] = 2;
    e.demand[0][R_SUB] = 3;
    e.demand[0][R_LLM] = 1;
    e.demand[0][R_REQ] = 3;
    check_view(&fx, &e);

    /* Discarding again, or an id never queued: false, nothing changes. */
    ver = admit_fair_queue_version(fx.q);
    assert_false(admit_fair_queue_discard(fx.q, a2->task_id));
    assert_false(admit_fair_queue_discard(fx.q, b2->task_id));
    assert_false(admit_fair_queue_discard(fx.q, 0xdeadbeefULL));
    assert_int_equal(admit_fair_queue_version(fx.q), ver);
    check_view(&fx, &e);

    /* Enqueue b2 behind b1. */
    assert_int_equal(enqueue_one(&fx, b2), 1);
    e.total = 4;
    e.by_group[1] = 2;
    e.demand[1][R_SUB] = 2;
    check_view(&fx, &e);

    /* Discard A's head: a3 becomes the first candidate. */
    assert_true(admit_fair_queue_discard(fx.q, a1->task_id));
    e.total = 3;
    e.by_group[0] = 1;
    e.demand[0][R_SUB] = 2;
    e.demand[0][R_LLM] = 0;
    e.demand[0][R_REQ] = 3;
    e.first[0] = a3;
    check_view(&fx, &e);

    /* Commit B's head b1: B(0,#0) -> V 0, B(1,#2); order A(0,#1) B(1,#2). */
    admit_queue_selection sel;
    assert_true(admit_fair_queue_select_next(fx.q, NULL, NULL, &sel));
    assert_ptr_equal(sel.task, b1);
    ver = admit_fair_queue_version(fx.q);
    assert_ptr_equal(admit_fair_queue_commit(fx.q, &sel), b1);
    assert_true(admit_fair_queue_version(fx.q) > ver);
    e.total = 2;
    e.by_group[1] = 1;
    e.demand[1][R_SUB] = 1;
    e.demand[1][R_LLM] = 0;
    e.demand[1][R_REQ] = 0;
    e.first[1] = b2;
    e.active[0] = 0;
    e.active[1] = 1;
    check_view(&fx, &e);

    /* Discard A's last task: A deactivates. */
    assert_true(admit_fair_queue_discard(fx.q, a3->task_id));
    e.total = 1;
    e.by_group[0] = 0;
    memset(e.demand[0], 0, sizeof e.demand[0]);
    e.first[0] = NULL;
    e.active_count = 1;
    e.active[0] = 1;
    check_view(&fx, &e);

    /* Commit the last one: empty queue. */
    assert_true(admit_fair_queue_select_next(fx.q, NULL, NULL, &sel));
    assert_ptr_equal(admit_fair_queue_commit(fx.q, &sel), b2);
    e = (view_expect){0};
    check_view(&fx, &e);
    assert_false(admit_fair_queue_select_next(fx.q, NULL, NULL, &sel));
    fx_done(&fx);
}

/* ---- FIFO within a group ----------------------------------------------- */

static void test_fifo_within_group(void **state) {
    (void)state;
    const int w[] = {1, 1};
    fixture fx;
    fx_init(&fx, w, 2);
    /* 40 tasks of A over several enqueue calls, interleaved with B, with
    ** commits between them (exercises the ring buffer wrapping and growth). */
    admit_task *a[40];
    for (int i = 0; i < 40; i++)
        a[i] = fx_task(&fx, 0, 1, 0, 0);
    admit_task *b[4];
    for (int i = 0; i < 4; i++)
        b[i] = fx_task(&fx, 1, 1, 0, 0);

    const admit_task *batch1[] = {a[0], b[0], a[1], a[2], b[1]};
    assert_int_equal(admit_fair_queue_enqueue(fx.q, batch1, 5, NULL), 5);
    int next_a = 0, next_b = 0, pushed_a = 3;
    admit_queue_selection sel;
    for (int round = 0; round < 60; round++) {
        if (pushed_a < 40 && round % 2 == 0) {
            size_t n = pushed_a + 1 < 40 ? 2 : 1;
            const admit_task *more[2] = {a[pushed_a], n == 2 ? a[pushed_a + 1] : NULL};
            assert_int_equal(admit_fair_queue_enqueue(fx.q, more, n, NULL), n);
            pushed_a += (int)n;
        }
        if (round == 5) {
            const admit_task *more[] = {b[2], b[3]};
            assert_int_equal(admit_fair_queue_enqueue(fx.q, more, 2, NULL), 2);
        }
        if (!admit_fair_queue_select_next(fx.q, NULL, NULL, &sel)) break;
        const admit_task *t = admit_fair_queue_commit(fx.q, &sel);
        assert_non_null(t);
        if (t->group == 0)
            assert_ptr_equal(t, a[next_a++]);
        else
            assert_ptr_equal(t, b[next_b++]);
    }
    assert_int_equal(next_a, 40);
    assert_int_equal(next_b, 4);
    assert_int_equal(admit_fair_queue_view(fx.q)->queued_total, 0);
    fx_done(&fx);
}

/* A burst far beyond FIFO_KEEP (a row group admitted at once) drains with
** the fifo halving its storage on the way: tasks still come out in arrival
** order, also those that arrive after the fifo shrank (wrapping in the
** smaller ring) and while it grows again. */
static void test_fifo_order_survives_trim(void **state) {
    (void)state;
    enum { BURST = 20000, LATER = 6000 };
    const int w[] = {1};
    fixture fx;
    fx_init(&fx, w, 1);
    admit_task *tasks = calloc(BURST + LATER, sizeof *tasks);
    const admit_task **items = calloc(BURST, sizeof *items);
    assert_non_null(tasks);
    assert_non_null(items);
    for (uint32_t i = 0; i < BURST + LATER; i++)
        test_task_init(&tasks[i], 0, i);
    for (uint32_t i = 0; i < BURST; i++)
        items[i] = &tasks[i];
    assert_int_equal(admit_fair_queue_enqueue(fx.q, items, BURST, NULL), BURST);
    uint32_t next = 0, pushed = BURST;
    admit_queue_selection sel;
    while (admit_fair_queue_select_next(fx.q, NULL, NULL, &sel)) {
        const admit_task *t = admit_fair_queue_commit(fx.q, &sel);
        assert_ptr_equal(t, &tasks[next++]);
        if (next >= 17000 && pushed < BURST + LATER && next % 2 == 0) { /* two in, one out */
            const admit_task *more[2] = {&tasks[pushed], &tasks[pushed + 1]};
            assert_int_equal(admit_fair_queue_enqueue(fx.q, more, 2, NULL), 2);
            pushed += 2;
        }
    }
    assert_int_equal(next, BURST + LATER);
    assert_int_equal(admit_fair_queue_view(fx.q)->queued_total, 0);
    free(items);
    free(tasks);
    fx_done(&fx);
}

static void test_create_rejects_bad_arguments(void **state) {
    (void)state;
    admit_group_spec g = {.key = "A", .weight = 1};
    admit_error err = {0};
    assert_null(admit_fair_queue_create(NULL, 1, 1, &err));
    assert_int_equal(err.code, ADMIT_EINVAL);
    err.code = ADMIT_OK;
    assert_null(admit_fair_queue_create(&g, 0, 1, &err));
    assert_int_equal(err.code, ADMIT_EINVAL);
    err.code = ADMIT_OK;
    assert_null(admit_fair_queue_create(&g, 1, 0, &err));
    assert_int_equal(err.code, ADMIT_EINVAL);
}

/* ---- membership (the queued-id set) -------------------------------------- */

static uint64_t rng_next(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Random enqueues (repeats included), commits and discards over ids that
** share 64-id words, straddle word boundaries, or lie far apart, checked
** against a plain array after every operation: enqueue accepts exactly the
** ids not queued, discard finds exactly the queued ones, is_queued agrees
** for every id, and the set grows from its initial size past 2,000 ids. */
static void test_membership_random(void **state) {
    (void)state;
    enum { N = 2400 };
    static admit_task tasks[N];
    static bool queued[N];
    admit_group_spec groups[3];
    memset(groups, 0, sizeof groups);
    for (int g = 0; g < 3; g++)
        groups[g].weight = g + 1;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (uint32_t i = 0; i < N; i++) {
        test_task_init(&tasks[i], i % 3, i);
        uint64_t id = i < 800    ? admit_task_id(0, ADMIT_TASK_CELL, 0, i)        /* dense */
                      : i < 1600 ? admit_task_id(1, ADMIT_TASK_BATCH, i * 63, -1) /* boundaries */
                                 : rng_next(&x) | 1;                              /* sparse */
        tasks[i].task_id = id;
        queued[i] = false;
    }
    admit_error err;
    admit_fair_queue *q = admit_fair_queue_create(groups, 3, 1, &err);
    assert_non_null(q);
    live_queue = q;
    size_t count = 0;
    for (int step = 0; step < 20000; step++) {
        uint64_t op = rng_next(&x) % 10;
        if (op < 5) {
            const admit_task *batch[4];
            size_t want = 0;
            for (int k = 0; k < 4; k++) {
                uint32_t i = (uint32_t)(rng_next(&x) % N);
                batch[k] = &tasks[i]; /* a task twice in one batch goes in once */
                if (!queued[i]) want++;
                queued[i] = true;
            }
            assert_int_equal(admit_fair_queue_enqueue(q, batch, 4, NULL), want);
            count += want;
        } else if (op < 8) {
            admit_queue_selection sel;
            if (!admit_fair_queue_select_next(q, NULL, NULL, &sel)) continue;
            const admit_task *t = admit_fair_queue_commit(q, &sel);
            assert_non_null(t);
            assert_true(queued[t - tasks]);
            queued[t - tasks] = false;
            count--;
        } else {
            uint32_t i = (uint32_t)(rng_next(&x) % N);
            assert_int_equal(admit_fair_queue_discard(q, tasks[i].task_id), queued[i]);
            if (queued[i]) count--;
            queued[i] = false;
        }
        assert_int_equal(admit_fair_queue_view(q)->queued_total, count);
        if (step % 97 == 0)
            for (uint32_t i = 0; i < N; i++)
                assert_int_equal(admit_fair_queue_is_queued(q, tasks[i].task_id), queued[i]);
    }
    admit_fair_queue_destroy(q);
    live_queue = NULL;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_weights_3_1_first_12, teardown_queue),
        cmocka_unit_test_teardown(test_weights_2_1_first_12, teardown_queue),
        cmocka_unit_test_teardown(test_weights_1_2_4_first_12, teardown_queue),
        cmocka_unit_test_teardown(test_late_arrival_activates_at_current_v, teardown_queue),
        cmocka_unit_test_teardown(test_reactivation_reuses_group_finish, teardown_queue),
        cmocka_unit_test_teardown(test_nonpositive_weight_counts_as_one, teardown_queue),
        cmocka_unit_test_teardown(test_enqueue_idempotent_by_task_id, teardown_queue),
        cmocka_unit_test_teardown(test_select_predicate_skips_in_tag_order, teardown_queue),
        cmocka_unit_test_teardown(test_select_on_empty_queue, teardown_queue),
        cmocka_unit_test_teardown(test_stale_commit_returns_null, teardown_queue),
        cmocka_unit_test_teardown(test_discard_and_view_aggregates, teardown_queue),
        cmocka_unit_test_teardown(test_fifo_within_group, teardown_queue),
        cmocka_unit_test_teardown(test_fifo_order_survives_trim, teardown_queue),
        cmocka_unit_test_teardown(test_create_rejects_bad_arguments, teardown_queue),
        cmocka_unit_test_teardown(test_membership_random, teardown_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
