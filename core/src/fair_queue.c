#include "admit/fair_queue.h"

#include <stdlib.h>
#include <string.h>

#include "idset.h"
#include "wfq.h"

/* Per-group FIFO ring of task pointers; grows by doubling, never shrinks. */
typedef struct group_fifo {
    const admit_task **items;
    uint32_t head, count, cap;
} group_fifo;

struct admit_fair_queue {
    const admit_group_spec *groups;
    uint32_t group_count, resource_count;
    group_fifo *fifo;
    admit_idset queued_ids;

    admit_wfq wfq;         /* SPEC §3 rule: tag = last finish if known, else V */
    uint64_t next_act_seq; /* the tiebreak: activation order */

    uint64_t version;
    uint64_t queued_total;
    uint32_t *queued_by_group;
    uint64_t *demand;
    uint64_t *demand_by_resource;
    const admit_task **first_candidate;
    admit_queue_view view;
};

static void view_refresh(admit_fair_queue *q) {
    q->view.queued_total = q->queued_total;
    q->view.active_count = admit_wfq_active_count(&q->wfq);
}

admit_fair_queue *admit_fair_queue_create(const admit_group_spec *groups, uint32_t group_count,
                                          uint32_t resource_count, admit_error *err) {
    if (!groups || group_count == 0 || resource_count == 0) {
        admit_error_set(err, ADMIT_EINVAL, "fair queue needs at least one group and resource");
        return NULL;
    }
    admit_fair_queue *q = calloc(1, sizeof *q);
    if (!q) goto oom;
    q->groups = groups;
    q->group_count = group_count;
    q->resource_count = resource_count;
    q->fifo = calloc(group_count, sizeof *q->fifo);
    q->queued_by_group = calloc(group_count, sizeof *q->queued_by_group);
    q->demand = calloc((size_t)group_count * resource_count, sizeof *q->demand);
    q->demand_by_resource = calloc(resource_count, sizeof *q->demand_by_resource);
    q->first_candidate = calloc(group_count, sizeof *q->first_candidate);
    if (!q->fifo || !q->queued_by_group || !q->demand || !q->demand_by_resource ||
        !q->first_candidate || !admit_idset_init(&q->queued_ids, 64) ||
        !admit_wfq_init(&q->wfq, group_count, ADMIT_WFQ_TASK))
        goto oom;
    q->view = (admit_queue_view){.group_count = group_count,
                                 .resource_count = resource_count,
                                 .queued_by_group = q->queued_by_group,
                                 .demand = q->demand,
                                 .demand_by_resource = q->demand_by_resource,
                                 .first_candidate = q->first_candidate,
                                 .groups = groups,
                                 .active_groups = q->wfq.active}; /* never reallocated */
    return q;
oom:
    admit_fair_queue_destroy(q);
    admit_error_set(err, ADMIT_ENOMEM, "out of memory creating fair queue");
    return NULL;
}

void admit_fair_queue_destroy(admit_fair_queue *q) {
    if (!q) return;
    if (q->fifo)
        for (uint32_t g = 0; g < q->group_count; g++)
            free(q->fifo[g].items);
    free(q->fifo);
    admit_idset_free(&q->queued_ids);
    admit_wfq_free(&q->wfq);
    free(q->queued_by_group);
    free(q->demand);
    free(q->demand_by_resource);
    free(q->first_candidate);
    free(q);
}

static void group_activate(admit_fair_queue *q, uint32_t g) {
    admit_wfq_activate(&q->wfq, g, q->next_act_seq++);
}

static bool fifo_push(group_fifo *f, const admit_task *t) {
    if (f->count == f->cap) {
        uint32_t cap = f->cap ? f->cap * 2 : 16;
        const admit_task **items = malloc(cap * sizeof *items);
        if (!items) return false;
        for (uint32_t i = 0; i < f->count; i++)
            items[i] = f->items[(f->head + i) % f->cap];
        free(f->items);
        f->items = items;
        f->head = 0;
        f->cap = cap;
    }
    f->items[(f->head + f->count) % f->cap] = t;
    f->count++;
    return true;
}

static const admit_task *fifo_at(const group_fifo *f, uint32_t i) {
    return f->items[(f->head + i) % f->cap];
}

static void demand_add(admit_fair_queue *q, const admit_task *t, int sign) {
    uint64_t *row = &q->demand[(size_t)t->group * q->resource_count];
    for (uint8_t i = 0; i < t->resources.count; i++) {
        uint16_t r = t->resources.resource[i];
        uint64_t a = t->resources.amount[i];
        if (sign > 0) {
            row[r] += a;
            q->demand_by_resource[r] += a;
        } else {
            row[r] -= a;
            q->demand_by_resource[r] -= a;
        }
    }
}

size_t admit_fair_queue_enqueue(admit_fair_queue *q, const admit_task *const *items, size_t n,
                                const admit_task **accepted) {
    size_t nacc = 0;
    for (size_t i = 0; i < n; i++) {
        const admit_task *t = items[i];
        if (t->group >= q->group_count) continue;
        if (admit_idset_insert(&q->queued_ids, t->task_id) != 1) continue;
        group_fifo *f = &q->fifo[t->group];
        if (!fifo_push(f, t)) {
            admit_idset_remove(&q->queued_ids, t->task_id);
            continue;
        }
        q->queued_total++;
        q->queued_by_group[t->group]++;
        demand_add(q, t, +1);
        if (f->count == 1) {
            q->first_candidate[t->group] = t;
            group_activate(q, t->group);
        }
        if (accepted) accepted[nacc] = t;
        nacc++;
    }
    if (nacc) {
        q->version++;
        view_refresh(q);
    }
    return nacc;
}

bool admit_fair_queue_select_next(const admit_fair_queue *q, admit_queue_pred pred, void *ctx,
                                  admit_queue_selection *out) {
    for (uint32_t i = 0; i < admit_wfq_active_count(&q->wfq); i++) {
        uint32_t g = admit_wfq_active_at(&q->wfq, i);
        const admit_task *head = q->first_candidate[g];
        if (!pred || pred(ctx, head, &q->view)) {
            out->task = head;
            out->group = g;
            out->version = q->version;
            return true;
        }
    }
    return false;
}

static void task_removed(admit_fair_queue *q, const admit_task *t) {
    admit_idset_remove(&q->queued_ids, t->task_id);
    q->queued_total--;
    q->queued_by_group[t->group]--;
    demand_add(q, t, -1);
    group_fifo *f = &q->fifo[t->group];
    q->first_candidate[t->group] = f->count ? fifo_at(f, 0) : NULL;
}

const admit_task *admit_fair_queue_commit(admit_fair_queue *q, const admit_queue_selection *sel) {
    if (!sel || sel->version != q->version || sel->group >= q->group_count) return NULL;
    uint32_t g = sel->group;
    group_fifo *f = &q->fifo[g];
    if (!f->count || fifo_at(f, 0) != sel->task) return NULL;
    const admit_task *t = sel->task;
    f->head = (f->head + 1) % f->cap;
    f->count--;
    task_removed(q, t);

    admit_wfq_commit(&q->wfq, g, (double)admit_group_weight(&q->groups[g]));
    if (f->count) group_activate(q, g);
    q->version++;
    view_refresh(q);
    return t;
}

bool admit_fair_queue_discard(admit_fair_queue *q, uint64_t task_id) {
    if (!admit_idset_contains(&q->queued_ids, task_id)) return false;
    for (uint32_t g = 0; g < q->group_count; g++) {
        group_fifo *f = &q->fifo[g];
        for (uint32_t i = 0; i < f->count; i++) {
            const admit_task *t = fifo_at(f, i);
            if (t->task_id != task_id) continue;
            for (uint32_t j = i; j + 1 < f->count; j++)
                f->items[(f->head + j) % f->cap] = f->items[(f->head + j + 1) % f->cap];
            f->count--;
            task_removed(q, t);
            if (!f->count) admit_wfq_deactivate(&q->wfq, g);
            q->version++;
            view_refresh(q);
            return true;
        }
    }
    return false;
}

bool admit_fair_queue_is_queued(const admit_fair_queue *q, uint64_t task_id) {
    return admit_idset_contains(&q->queued_ids, task_id);
}

const admit_queue_view *admit_fair_queue_view(const admit_fair_queue *q) {
    return &q->view;
}

uint64_t admit_fair_queue_version(const admit_fair_queue *q) {
    return q->version;
}

double admit_fair_queue_virtual_time(const admit_fair_queue *q) {
    return q->wfq.vtime;
}
