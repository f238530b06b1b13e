/*
** FairTaskQueue against a deliberately naive model, over random operation
** sequences (model_common.h: seeds, budget, replay).
**
** The model is SPEC §3's reference ordering written the plain way: a FIFO
** array per group, a list of queued ids searched linearly, and for every
** group its finish tag, whether it is active, its active tag and its
** activation sequence; the serving order is found by a fresh scan for the
** least (tag, activation_seq) each time it is needed.
**   activation (a group gains work): tag = finish[g] if known, else V;
**   commit:  V = max(V, tag[g]); finish[g] = V + 1.0/max(weight, 1);
**            g deactivates and reactivates with a new sequence if it
**            still has work;
**   discard: the task leaves its FIFO wherever it is; the group keeps its
**            active entry while it has work and loses it when empty;
**   enqueue is idempotent by task_id (not by pointer: twins share ids);
**   every mutation moves the version, and only a selection made at the
**   current version commits.
** After every operation the queue's view (totals, counts and demand by
** group and resource, first candidates, active groups in serving order),
** its virtual time (bit for bit), its version and is_queued for every task
** must equal the model; select_next must call the predicate on exactly the
** heads of the active groups in serving order up to the one it returns.
** Every sequence ends by draining the queue: every accepted task leaves
** exactly once, by commit or discard.
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
#include "model_common.h"

#define FQ_GROUPS 6
#define FQ_RES    3
#define FQ_TASKS  40
#define FQ_SELS   4    /* selections kept for later commits */
#define FQ_LEN    2000 /* operations per sequence */

enum { OP_ENQUEUE, OP_SELECT, OP_COMMIT, OP_SELECT_COMMIT, OP_DISCARD, OP_KINDS };

typedef struct fq_model {
    uint32_t ngroups;
    int weight[FQ_GROUPS];
    double vtime;
    double finish[FQ_GROUPS];
    bool finish_known[FQ_GROUPS];
    bool active[FQ_GROUPS];
    double tag[FQ_GROUPS];
    uint64_t act_seq[FQ_GROUPS];
    uint64_t next_act_seq;
    uint32_t fifo[FQ_GROUPS][FQ_TASKS]; /* task indices, head first */
    uint32_t fifo_len[FQ_GROUPS];
    uint64_t mutations;
} fq_model;

typedef struct fq_sel {
    admit_queue_selection sel;
    uint64_t mutations; /* the model's count when it was made */
} fq_sel;

typedef struct fq_world {
    model_rng rng;
    uint32_t nres, ntasks;
    admit_group_spec groups[FQ_GROUPS];
    admit_task tasks[FQ_TASKS];
    admit_fair_queue *q;
    fq_model m;
    fq_sel sels[FQ_SELS];
    uint32_t nsels;
    uint64_t version; /* the queue's, after the last operation */
    uint64_t accepted[FQ_TASKS], left[FQ_TASKS];
    /* the predicate of the current select */
    uint64_t pred_salt;
    int pred_mode; /* 0: NULL, 1: a subset by hash, 2: rejects all */
    const admit_task *pred_calls[FQ_GROUPS + 1];
    uint32_t npred_calls;
    bool pred_view_ok;
} fq_world;

static fq_world W;

/* What the sequences exercised, over the whole run (printed at the end). */
static struct {
    uint64_t accepted, rejected, committed, stale, discarded, discard_misses, select_none;
    uint32_t max_queued;
} SEEN;

static const char *const op_names[OP_KINDS] = {"enqueue", "select", "commit", "select+commit",
                                               "discard"};

static void describe(const model_op *op, char *buf, size_t n) {
    switch (op->kind) {
    case OP_ENQUEUE:
        snprintf(buf, n, "enqueue %lld tasks, first indices %lld %lld", (long long)op->a,
                 (long long)op->b, (long long)op->c);
        break;
    case OP_SELECT:
        snprintf(buf, n, "select (predicate %s, salt %llx)",
                 op->a == 0   ? "NULL"
                 : op->a == 1 ? "subset"
                              : "none",
                 (unsigned long long)op->b);
        break;
    case OP_COMMIT: snprintf(buf, n, "commit kept selection #%lld", (long long)op->a); break;
    case OP_DISCARD: snprintf(buf, n, "discard task_id %lld", (long long)op->a); break;
    default: snprintf(buf, n, "%s", op_names[op->kind]); break;
    }
}

static uint32_t task_index(const admit_task *t) {
    MODEL_CHECK(t >= W.tasks && t < W.tasks + W.ntasks, "a task pointer the test never made");
    return (uint32_t)(t - W.tasks);
}

/* ---- the model ------------------------------------------------------------ */

static bool m_is_queued_id(uint64_t id) {
    for (uint32_t g = 0; g < W.m.ngroups; g++)
        for (uint32_t i = 0; i < W.m.fifo_len[g]; i++)
            if (W.tasks[W.m.fifo[g][i]].task_id == id) return true;
    return false;
}

static void m_activate(uint32_t g) {
    fq_model *m = &W.m;
    m->tag[g] = m->finish_known[g] ? m->finish[g] : m->vtime;
    m->act_seq[g] = m->next_act_seq++;
    m->active[g] = true;
}

/* The active groups in serving order: ascending (tag, activation_seq). */
static uint32_t m_order(uint32_t *out) {
    const fq_model *m = &W.m;
    bool taken[FQ_GROUPS] = {0};
    uint32_t n = 0;
    for (;;) {
        int best = -1;
        for (uint32_t g = 0; g < m->ngroups; g++) {
            if (!m->active[g] || taken[g]) continue;
            if (best < 0 || m->tag[g] < m->tag[best] ||
                (m->tag[g] == m->tag[best] && m->act_seq[g] < m->act_seq[best]))
                best = (int)g;
        }
        if (best < 0) return n;
        taken[best] = true;
        out[n++] = (uint32_t)best;
    }
}

/* What the predicate of the current select says about task index i. */
static bool pred_accepts(uint32_t i) {
    if (W.pred_mode == 0) return true;
    if (W.pred_mode == 2) return false;
    return model_hash(W.pred_salt, i) % 3 != 0;
}

static bool real_pred(void *ctx, const admit_task *task, const admit_queue_view *view) {
    (void)ctx;
    if (W.npred_calls <= FQ_GROUPS) W.pred_calls[W.npred_calls++] = task;
    if (view != admit_fair_queue_view(W.q)) W.pred_view_ok = false;
    return pred_accepts(task_index(task));
}

/* ---- checks after every operation ---------------------------------------- */

static void check_view(void) {
    const admit_queue_view *v = admit_fair_queue_view(W.q);
    const fq_model *m = &W.m;
    uint64_t total = 0, by_res[FQ_RES] = {0};
    for (uint32_t g = 0; g < m->ngroups; g++) {
        uint64_t demand[FQ_RES] = {0};
        for (uint32_t i = 0; i < m->fifo_len[g]; i++) {
            const admit_task *t = &W.tasks[m->fifo[g][i]];
            for (uint8_t k = 0; k < t->resources.count; k++)
                demand[t->resources.resource[k]] += t->resources.amount[k];
        }
        total += m->fifo_len[g];
        MODEL_EQ(v->queued_by_group[g], m->fifo_len[g], "queued_by_group[%u]", g);
        for (uint32_t r = 0; r < W.nres; r++) {
            MODEL_EQ(v->demand[g * W.nres + r], demand[r], "demand[group %u][resource %u]", g, r);
            by_res[r] += demand[r];
        }
        const admit_task *head = m->fifo_len[g] ? &W.tasks[m->fifo[g][0]] : NULL;
        MODEL_CHECK(v->first_candidate[g] == head, "first_candidate[%u]: real task %d, model %d", g,
                    v->first_candidate[g] ? (int)task_index(v->first_candidate[g]) : -1,
                    head ? (int)task_index(head) : -1);
    }
    MODEL_EQ(v->queued_total, total, "queued_total%s", "");
    if (total > SEEN.max_queued) SEEN.max_queued = (uint32_t)total;
    for (uint32_t r = 0; r < W.nres; r++)
        MODEL_EQ(v->demand_by_resource[r], by_res[r], "demand_by_resource[%u]", r);
    uint32_t order[FQ_GROUPS];
    uint32_t n = m_order(order);
    MODEL_EQ(v->active_count, n, "active_count%s", "");
    for (uint32_t i = 0; i < n; i++)
        MODEL_EQ(v->active_groups[i], order[i], "active_groups[%u] (serving order)", i);
    MODEL_CHECK(v->groups == W.groups && v->group_count == m->ngroups &&
                    v->resource_count == W.nres,
                "view groups/counts");
}

static void check_all(uint64_t mutations_before) {
    check_view();
    double vt = admit_fair_queue_virtual_time(W.q);
    MODEL_CHECK(vt == W.m.vtime, "virtual time: real %.17g, model %.17g", vt, W.m.vtime);
    uint64_t version = admit_fair_queue_version(W.q);
    if (W.m.mutations != mutations_before)
        MODEL_CHECK(version != W.version, "a mutation left the version at %llu",
                    (unsigned long long)version);
    else
        MODEL_CHECK(version == W.version, "no mutation, but the version moved %llu -> %llu",
                    (unsigned long long)W.version, (unsigned long long)version);
    W.version = version;
    for (uint32_t i = 0; i < W.ntasks; i++) {
        uint64_t id = W.tasks[i].task_id;
        MODEL_EQ(admit_fair_queue_is_queued(W.q, id), m_is_queued_id(id), "is_queued(task %u)", i);
    }
}

/* ---- operations ----------------------------------------------------------- */

static void op_enqueue(void) {
    const admit_task *items[4], *acc[4];
    uint32_t n = 1 + model_below(&W.rng, 4), idx[4] = {0};
    for (uint32_t i = 0; i < n; i++) {
        idx[i] = model_below(&W.rng, W.ntasks);
        items[i] = &W.tasks[idx[i]];
    }
    model_trace(OP_ENQUEUE, n, idx[0], n > 1 ? (int64_t)idx[1] : -1, 0);
    size_t got = admit_fair_queue_enqueue(W.q, items, n, acc);
    /* model: each item in order, unless its id is queued already */
    uint32_t expect[4], nexp = 0;
    for (uint32_t i = 0; i < n; i++) {
        const admit_task *t = items[i];
        if (m_is_queued_id(t->task_id)) continue;
        uint32_t g = t->group;
        W.m.fifo[g][W.m.fifo_len[g]++] = idx[i];
        if (W.m.fifo_len[g] == 1) m_activate(g);
        expect[nexp++] = idx[i];
        W.accepted[idx[i]]++;
    }
    SEEN.accepted += nexp;
    SEEN.rejected += n - nexp;
    if (nexp) W.m.mutations++;
    MODEL_EQ(got, nexp, "accepted count of %u items", n);
    for (uint32_t i = 0; i < nexp; i++)
        MODEL_EQ(task_index(acc[i]), expect[i], "accepted[%u]", i);
}

/* select_next with one of three predicates; the selection is kept. */
static bool op_select(bool keep, admit_queue_selection *out) {
    W.pred_mode = (int)model_below(&W.rng, 3);
    W.pred_salt = model_rng_next(&W.rng);
    if (!keep) W.pred_mode = 0;
    model_trace(keep ? OP_SELECT : OP_SELECT_COMMIT, W.pred_mode, (int64_t)W.pred_salt, 0, 0);
    W.npred_calls = 0;
    W.pred_view_ok = true;
    admit_queue_selection sel;
    bool found = admit_fair_queue_select_next(W.q, W.pred_mode ? real_pred : NULL, NULL, &sel);
    /* model: visit the active groups in order; the first head that passes */
    uint32_t order[FQ_GROUPS], n = m_order(order), calls = 0;
    int pick = -1;
    for (uint32_t i = 0; i < n && pick < 0; i++) {
        uint32_t head = W.m.fifo[order[i]][0];
        if (W.pred_mode) {
            MODEL_CHECK(calls < W.npred_calls && W.pred_calls[calls] == &W.tasks[head],
                        "predicate call %u: expected the head of group %u (task %u)", calls,
                        order[i], head);
            calls++;
        }
        if (pred_accepts(head)) pick = (int)order[i];
    }
    if (W.pred_mode) MODEL_EQ(W.npred_calls, calls, "predicate calls%s", "");
    MODEL_CHECK(W.pred_view_ok, "the predicate saw another view than the queue's");
    MODEL_EQ(found, pick >= 0, "select_next found a task%s", "");
    if (!found) {
        SEEN.select_none++;
        return false;
    }
    MODEL_EQ(sel.group, pick, "selected group%s", "");
    MODEL_EQ(task_index(sel.task), W.m.fifo[pick][0], "selected task%s", "");
    if (keep) {
        if (W.nsels == FQ_SELS)
            memmove(&W.sels[0], &W.sels[1], (FQ_SELS - 1) * sizeof W.sels[0]);
        else
            W.nsels++;
        W.sels[W.nsels - 1] = (fq_sel){.sel = sel, .mutations = W.m.mutations};
    }
    *out = sel;
    return true;
}

static void m_commit(uint32_t g) {
    fq_model *m = &W.m;
    uint32_t head = m->fifo[g][0];
    memmove(&m->fifo[g][0], &m->fifo[g][1], (m->fifo_len[g] - 1) * sizeof m->fifo[g][0]);
    m->fifo_len[g]--;
    if (m->tag[g] > m->vtime) m->vtime = m->tag[g];
    m->finish[g] = m->vtime + 1.0 / (double)(m->weight[g] < 1 ? 1 : m->weight[g]);
    m->finish_known[g] = true;
    m->active[g] = false;
    if (m->fifo_len[g]) m_activate(g);
    m->mutations++;
    W.left[head]++;
}

/* Commits a selection; stale ones (made before the last mutation) fail. */
static void commit_selection(const fq_sel *s) {
    bool fresh = s->mutations == W.m.mutations;
    const admit_task *t = admit_fair_queue_commit(W.q, &s->sel);
    if (!fresh) {
        MODEL_CHECK(t == NULL, "a stale selection (task %u) committed", task_index(s->sel.task));
        SEEN.stale++;
        return;
    }
    MODEL_CHECK(t == s->sel.task, "a fresh selection did not commit its task");
    m_commit(s->sel.group);
    SEEN.committed++;
}

static void op_commit(void) {
    if (!W.nsels) return;
    uint32_t i = model_chance(&W.rng, 600) ? W.nsels - 1 : model_below(&W.rng, W.nsels);
    model_trace(OP_COMMIT, i, 0, 0, 0);
    commit_selection(&W.sels[i]);
}

static bool op_select_commit(void) {
    admit_queue_selection sel;
    if (!op_select(false, &sel)) return false;
    fq_sel s = {.sel = sel, .mutations = W.m.mutations};
    commit_selection(&s);
    return true;
}

static void op_discard(void) {
    /* a task's id, queued or not, or an id no task has */
    uint64_t id =
        model_chance(&W.rng, 100) ? 999999 : W.tasks[model_below(&W.rng, W.ntasks)].task_id;
    model_trace(OP_DISCARD, (int64_t)id, 0, 0, 0);
    bool real = admit_fair_queue_discard(W.q, id);
    bool found = false;
    for (uint32_t g = 0; g < W.m.ngroups && !found; g++) {
        for (uint32_t i = 0; i < W.m.fifo_len[g]; i++) {
            uint32_t t = W.m.fifo[g][i];
            if (W.tasks[t].task_id != id) continue;
            memmove(&W.m.fifo[g][i], &W.m.fifo[g][i + 1],
                    (W.m.fifo_len[g] - i - 1) * sizeof W.m.fifo[g][0]);
            if (--W.m.fifo_len[g] == 0) W.m.active[g] = false;
            W.m.mutations++;
            W.left[t]++;
            found = true;
            break;
        }
    }
    MODEL_EQ(real, found, "discard(%llu)", (unsigned long long)id);
    SEEN.discarded += found;
    SEEN.discard_misses += !found;
}

static void op_select_keep(void) {
    admit_queue_selection sel;
    op_select(true, &sel);
}

static void op_select_commit_once(void) {
    op_select_commit();
}

static void (*const op_table[OP_KINDS])(void) = {
    [OP_ENQUEUE] = op_enqueue, [OP_SELECT] = op_select_keep,
    [OP_COMMIT] = op_commit,   [OP_SELECT_COMMIT] = op_select_commit_once,
    [OP_DISCARD] = op_discard,
};

/* ---- one sequence --------------------------------------------------------- */

static void make_world(uint64_t seed) {
    memset(&W, 0, sizeof W);
    model_rng_seed(&W.rng, seed);
    model_rng *r = &W.rng;
    W.m.ngroups = 1 + model_below(r, FQ_GROUPS);
    W.nres = 1 + model_below(r, FQ_RES);
    static const int weights[] = {-1, 0, 1, 1, 2, 3, 5, 8};
    for (uint32_t g = 0; g < W.m.ngroups; g++) {
        snprintf(W.groups[g].key, sizeof W.groups[g].key, "g%u", g);
        W.groups[g].kind = ADMIT_KIND_MODEL;
        W.groups[g].weight = weights[model_below(r, 8)];
        W.groups[g].admitted_limit = (int)model_below(r, 4);
        W.m.weight[g] = W.groups[g].weight;
    }
    W.ntasks = 4 + model_below(r, FQ_TASKS - 3);
    for (uint32_t i = 0; i < W.ntasks; i++) {
        admit_task *t = &W.tasks[i];
        t->group = model_below(r, W.m.ngroups);
        t->column = t->group;
        t->row = i;
        t->type = ADMIT_TASK_CELL;
        /* a twin shares an earlier task's id (in any group) */
        t->task_id = i > 0 && model_chance(r, 120) ? W.tasks[model_below(r, i)].task_id : 100 + i;
        t->resources.count = 0;
        for (uint16_t res = 0; res < W.nres; res++) {
            if (res > 0 && model_chance(r, 500)) continue;
            t->resources.resource[t->resources.count] = res;
            t->resources.amount[t->resources.count] = 1 + model_below(r, 3);
            t->resources.count++;
        }
    }
    admit_error err;
    W.q = admit_fair_queue_create(W.groups, W.m.ngroups, W.nres, &err);
    MODEL_CHECK(W.q != NULL, "create: %s", err.message);
    W.version = admit_fair_queue_version(W.q);
}

static void run_sequence(uint64_t seed, uint64_t ops) {
    model_begin_sequence(seed, ops);
    make_world(seed);
    /* the mix shifts per sequence: some fill the queue, some keep it short */
    uint32_t weights[OP_KINDS] = {30, 20, 20, 15, 8};
    weights[OP_ENQUEUE] = 15 + model_below(&W.rng, 30);
    for (; MODEL.step < ops; MODEL.step++) {
        uint64_t before = W.m.mutations;
        op_table[model_pick(&W.rng, weights, OP_KINDS)]();
        check_all(before);
    }
    /* drain: select and commit until empty; every accepted task left once */
    MODEL.draining = true;
    for (bool more = true; more;) {
        uint64_t before = W.m.mutations;
        more = op_select_commit();
        check_all(before);
    }
    MODEL_EQ(admit_fair_queue_view(W.q)->queued_total, 0, "queued after the drain%s", "");
    for (uint32_t i = 0; i < W.ntasks; i++)
        MODEL_EQ(W.left[i], W.accepted[i], "task %u: left the queue vs accepted", i);
    admit_fair_queue_destroy(W.q);
    W.q = NULL;
}

static void test_model_fair_queue(void **state) {
    (void)state;
    model_run_all(run_sequence, FQ_LEN);
    printf("model_fair_queue: %llu enqueued (%llu refused as queued), %llu committed, %llu "
           "stale commits refused, %llu discarded (%llu misses), %llu selects found nothing, "
           "up to %u queued\n",
           (unsigned long long)SEEN.accepted, (unsigned long long)SEEN.rejected,
           (unsigned long long)SEEN.committed, (unsigned long long)SEEN.stale,
           (unsigned long long)SEEN.discarded, (unsigned long long)SEEN.discard_misses,
           (unsigned long long)SEEN.select_none, SEEN.max_queued);
}

int main(int argc, char **argv) {
    MODEL.name = "model_fair_queue";
    MODEL.describe = describe;
    if (!model_parse_args(argc, argv)) return 2;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_model_fair_queue)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
