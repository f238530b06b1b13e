#include "admit/fair_queue.h"

#include <stdatomic.h>
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

    /* The first candidates by request (admit_head_request): entries never
    ** go away (a request no head asks has groups 0), found through an
    ** open-addressing map of entry + 1 (0: empty).  heads_lost: out of
    ** memory once, the view has no head_requests from then on. */
    admit_head_request *heads;
    uint32_t head_count, head_cap;
    uint32_t *head_map, head_mask;
    uint32_t *head_of; /* [g]: the entry of g's first candidate, NO_HEAD: none */
    bool heads_lost;
};

#define NO_HEAD UINT32_MAX

static atomic_uint_fast64_t next_queue_id = 1;

static void view_refresh(admit_fair_queue *q) {
    q->view.queued_total = q->queued_total;
    q->view.active_count = admit_wfq_active_count(&q->wfq);
    q->view.active_groups = admit_wfq_active_ids(&q->wfq);
    q->view.version = q->version;
    q->view.head_request_count = q->heads_lost ? 0 : q->head_count;
    q->view.head_requests = q->heads_lost ? NULL : q->heads;
}

/* ---- the first candidates by request ---------------------------------------- */

static bool request_is_same(const admit_resource_request *a, const admit_resource_request *b) {
    if (a->count != b->count) return false;
    for (uint8_t i = 0; i < a->count; i++)
        if (a->resource[i] != b->resource[i] || a->amount[i] != b->amount[i]) return false;
    return true;
}

static uint32_t request_hash(const admit_resource_request *rq) {
    uint64_t h = 0xcbf29ce484222325ULL ^ rq->count;
    for (uint8_t i = 0; i < rq->count; i++)
        h = (h ^ ((uint64_t)rq->resource[i] << 32 | rq->amount[i])) * 0x100000001b3ULL;
    return (uint32_t)(h ^ h >> 32);
}

static uint32_t *head_slot(const admit_fair_queue *q, const admit_resource_request *rq) {
    uint32_t i = request_hash(rq) & q->head_mask;
    while (q->head_map[i] && !request_is_same(&q->heads[q->head_map[i] - 1].request, rq))
        i = (i + 1) & q->head_mask;
    return &q->head_map[i];
}

static bool heads_grow(admit_fair_queue *q) {
    uint32_t cap = q->head_cap * 2;
    admit_head_request *heads = realloc(q->heads, cap * sizeof *heads);
    if (!heads) return false;
    q->heads = heads;
    q->head_cap = cap;
    uint32_t *map = calloc((size_t)cap * 2, sizeof *map);
    if (!map) return false;
    free(q->head_map);
    q->head_map = map;
    q->head_mask = cap * 2 - 1;
    for (uint32_t e = 0; e < q->head_count; e++)
        *head_slot(q, &q->heads[e].request) = e + 1;
    return true;
}

/* The entry of rq, made when new; NO_HEAD when out of memory. */
static uint32_t head_entry(admit_fair_queue *q, const admit_resource_request *rq) {
    uint32_t *slot = head_slot(q, rq);
    if (*slot) return *slot - 1;
    if (q->head_count == q->head_cap) {
        if (!heads_grow(q)) return NO_HEAD;
        slot = head_slot(q, rq);
    }
    admit_head_request *h = &q->heads[q->head_count];
    memset(h, 0, sizeof *h);
    h->request.count = rq->count;
    for (uint8_t i = 0; i < rq->count; i++) {
        h->request.resource[i] = rq->resource[i];
        h->request.amount[i] = rq->amount[i];
    }
    *slot = ++q->head_count;
    return q->head_count - 1;
}

static void heads_lose(admit_fair_queue *q) {
    q->heads_lost = true;
    free(q->heads);
    free(q->head_map);
    free(q->head_of);
    q->heads = NULL;
    q->head_map = q->head_of = NULL;
}

/* g's first candidate becomes t (NULL: g has none). */
static void head_set(admit_fair_queue *q, uint32_t g, const admit_task *t) {
    if (q->first_candidate[g] == t) return;
    q->first_candidate[g] = t;
    if (q->heads_lost) return;
    uint32_t old = q->head_of[g];
    if (old != NO_HEAD && t && request_is_same(&q->heads[old].request, &t->resources)) return;
    uint64_t w = (uint64_t)admit_group_weight(&q->groups[g]);
    if (old != NO_HEAD) {
        q->heads[old].weight -= w;
        q->heads[old].groups--;
    }
    q->head_of[g] = NO_HEAD;
    if (!t) return;
    uint32_t e = head_entry(q, &t->resources);
    if (e == NO_HEAD) {
        heads_lose(q);
        return;
    }
    q->heads[e].weight += w;
    q->heads[e].groups++;
    q->head_of[g] = e;
}

static bool heads_init(admit_fair_queue *q) {
    q->head_cap = 4;
    q->heads = malloc(q->head_cap * sizeof *q->heads);
    q->head_map = calloc(q->head_cap * 2, sizeof *q->head_map);
    q->head_mask = q->head_cap * 2 - 1;
    q->head_of = malloc(q->group_count * sizeof *q->head_of);
    if (!q->heads || !q->head_map || !q->head_of) return false;
    for (uint32_t g = 0; g < q->group_count; g++)
        q->head_of[g] = NO_HEAD;
    return true;
}

/* ---- the queue -------------------------------------------------------------- */

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
        !admit_wfq_init(&q->wfq, group_count, ADMIT_WFQ_TASK) || !heads_init(q))
        goto oom;
    q->version = 1; /* never 0, which names no queue state (admit_queue_view) */
    q->view = (admit_queue_view){.group_count = group_count,
                                 .resource_count = resource_count,
                                 .queued_by_group = q->queued_by_group,
                                 .demand = q->demand,
                                 .demand_by_resource = q->demand_by_resource,
                                 .first_candidate = q->first_candidate,
                                 .groups = groups,
                                 .queue_id = atomic_fetch_add(&next_queue_id, 1)};
    view_refresh(q);
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
    free(q->heads);
    free(q->head_map);
    free(q->head_of);
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

/* Storage a group's fifo keeps however few tasks it holds. */
#define FIFO_KEEP 4096

/* Halves a large fifo that is less than a quarter full, so a burst of ready
** tasks does not hold its memory once it drained (a failed allocation
** keeps the storage as it is). */
static void fifo_trim(group_fifo *f) {
    if (f->cap <= FIFO_KEEP || f->count >= f->cap / 4) return;
    uint32_t cap = f->cap / 2;
    const admit_task **items = malloc(cap * sizeof *items);
    if (!items) return;
    for (uint32_t i = 0; i < f->count; i++)
        items[i] = fifo_at(f, i);
    free(f->items);
    f->items = items;
    f->head = 0;
    f->cap = cap;
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
            head_set(q, t->group, t);
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
    fifo_trim(f);
    head_set(q, t->group, f->count ? fifo_at(f, 0) : NULL);
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

    double w = (double)admit_group_weight(&q->groups[g]);
    if (f->count) /* deactivated and activated again, in one move */
        admit_wfq_commit_requeue(&q->wfq, g, w, q->next_act_seq++);
    else
        admit_wfq_commit(&q->wfq, g, w);
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
