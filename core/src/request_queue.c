/*
** Request admission: the waiters.  Waiters live in a slab with a free list;
** those of one request group form an intrusive FIFO; the groups of one
** provider/model with waiters are ordered by that provider/model's wfq
** (ADMIT_WFQ_REQUEST: a group activates with tag max(V, its last finish),
** equal tags go to the group whose head waited longest).  pump() admits in
** that order while capacity allows, handing each lease to the waiter it
** selected and no other.  Queue-wait deadlines sit in a heap keyed by the
** deadline; records of waiters that left are recognised by their slot's
** generation and skipped.
*/
#include "request_admission_int.h"

#include <stdlib.h>

bool admit_rq_pm_init(admit_request_admission *c, uint32_t pm) {
    return admit_wfq_init(&c->pms[pm].wfq, 0, ADMIT_WFQ_REQUEST);
}

bool admit_rq_pm_add_resource(admit_request_admission *c, uint32_t pm, uint32_t r) {
    pm_state *p = &c->pms[pm];
    uint32_t *a = realloc(p->resources, (p->resource_count + 1) * sizeof *a);
    if (!a) return false;
    a[p->resource_count++] = r;
    p->resources = a;
    return true;
}

bool admit_rq_waiters_init(admit_request_admission *c, uint32_t capacity) {
    c->waiters_slab = calloc(capacity, sizeof *c->waiters_slab);
    if (!c->waiters_slab) return false;
    c->waiter_cap = capacity;
    for (uint32_t i = 0; i < capacity; i++)
        c->waiters_slab[i] = (waiter){.generation = 1, .next = i + 1 < capacity ? i + 1 : NIL};
    c->free_waiter = 0;
    return true;
}

void admit_rq_queue_free(admit_request_admission *c) {
    for (uint32_t pm = 0; pm < c->pm_count && c->pms; pm++) {
        admit_wfq_free(&c->pms[pm].wfq);
        free(c->pms[pm].group_of);
        free(c->pms[pm].resources);
    }
    free(c->pms);
    free(c->groups);
    free(c->waiters_slab);
    admit_heap_free(&c->deadlines);
}

int admit_rq_add_group(admit_request_admission *c, uint32_t r, int weight) {
    uint32_t pm = c->resource_pm[r];
    pm_state *p = &c->pms[pm];
    uint32_t local = p->wfq.group_count;
    if (!admit_rq_grow((void **)&c->groups, &c->group_cap, c->group_count + 1, sizeof *c->groups) ||
        !admit_rq_grow((void **)&p->group_of, &p->group_cap, local + 1, sizeof *p->group_of) ||
        !admit_wfq_add_group(&p->wfq, &local))
        return -1;
    uint32_t id = c->group_count++;
    p->group_of[local] = id;
    c->groups[id] = (rgroup){.resource = r,
                             .pm = pm,
                             .local = local,
                             .weight = (double)weight,
                             .head = NIL,
                             .tail = NIL};
    return (int)id;
}

/* While r cools down: when the cooldown ends (available_after) and how long
** it has left (retry_after); otherwise -1 for both. */
admit_request_denied admit_rq_denial(const admit_request_admission *c, uint32_t r,
                                     admit_request_deny_reason why, int64_t now) {
    bool cooling = r < c->resource_count && c->blocked_until[r] > now;
    return (admit_request_denied){.reason = why,
                                  .retry_after_ns = cooling ? c->blocked_until[r] - now : -1,
                                  .available_after_ns = cooling ? c->blocked_until[r] : -1};
}

void admit_rq_count_denial(admit_request_admission *c, uint32_t r, admit_request_deny_reason why) {
    c->stats.denied[why]++;
    if (r < c->resource_count) c->rs[r].denied[why]++;
}

/* Appends slot to an intrusive list of waiters linked by next (a group's
** FIFO or the completion list). */
static void append(admit_request_admission *c, uint32_t *head, uint32_t *tail, uint32_t slot) {
    c->waiters_slab[slot].next = NIL;
    if (*tail != NIL)
        c->waiters_slab[*tail].next = slot;
    else
        *head = slot;
    *tail = slot;
}

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

static void drained_check(admit_request_admission *c, uint32_t r, int64_t now) {
    if (c->waiters[r] == 0)
        admit_rq_event(c, ADMIT_REV_REQUEST_QUEUE_DRAINED, now, r, NULL, 0, -1, 0);
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
        w->result.denied = admit_rq_denial(c, r, why, now);
        admit_rq_count_denial(c, r, why);
    }
    if (w->sync) {
        w->state = admitted ? W_GRANTED : W_DENIED;
        pthread_cond_signal(w->cond);
        return; /* the waiting thread frees its record */
    }
    /* The record waits in the completion list until delivered. */
    w->state = admitted ? W_GRANTED : W_DENIED;
    append(c, &c->done_head, &c->done_tail, slot);
}

/* Its event, the drained check, then its completion. */
void admit_rq_waiter_deny(admit_request_admission *c, uint32_t slot, admit_request_deny_reason why,
                          int64_t now) {
    waiter *w = &c->waiters_slab[slot];
    uint32_t r = c->groups[w->group].resource;
    waiter_unlink(c, slot);
    admit_rq_event(c,
                   why == ADMIT_REQ_DENY_QUEUE_TIMEOUT ? ADMIT_REV_REQUEST_WAIT_TIMEOUT
                                                       : ADMIT_REV_REQUEST_WAIT_CANCELLED,
                   now, r, &w->ctx, 0, (int32_t)why, now - w->result.wait_started_ns);
    drained_check(c, r, now);
    waiter_finish(c, slot, false, NULL, why, now);
}

void admit_rq_deny_all(admit_request_admission *c, admit_request_deny_reason why, int64_t now) {
    for (uint32_t g = 0; g < c->group_count; g++) {
        rgroup *gr = &c->groups[g];
        while (gr->head != NIL) {
            admit_rq_waiter_deny(c, gr->head, why, now);
        }
    }
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

static bool alloc_waiter(admit_request_admission *c, uint32_t *slot) {
    if (c->free_waiter == NIL) {
        uint32_t old = c->waiter_cap;
        if (!admit_rq_grow((void **)&c->waiters_slab, &c->waiter_cap, old + 1,
                           sizeof *c->waiters_slab))
            return false;
        for (uint32_t i = old; i < c->waiter_cap; i++)
            c->waiters_slab[i] =
                (waiter){.generation = 1, .next = i + 1 < c->waiter_cap ? i + 1 : NIL};
        c->free_waiter = old;
    }
    *slot = c->free_waiter;
    c->free_waiter = c->waiters_slab[*slot].next;
    return true;
}

bool admit_rq_enqueue(admit_request_admission *c, const admit_request_item *item, uint32_t group,
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
    w->cond = NULL;
    w->token = NULL;
    w->sync = false;
    append(c, &gr->head, &gr->tail, slot);
    if (gr->count++ == 0) pm_activate(c, group);
    if (w->deadline_ns >= 0) deadline_push(c, w->deadline_ns, slot);
    uint32_t r = gr->resource;
    if (++c->waiters[r] > c->rs[r].max_waiters) c->rs[r].max_waiters = c->waiters[r];
    c->pm_waiters[gr->pm]++;
    c->stats.waiters_queued++;
    admit_rq_due_at(c, admit_rq_opening(c, r, now));
    admit_rq_event(c, ADMIT_REV_REQUEST_WAIT_STARTED, now, r, &item->ctx, 0, -1, c->waiters[r]);
    if (c->waiters[r] == 1)
        admit_rq_event(c, ADMIT_REV_REQUEST_QUEUE_FORMED, now, r, &item->ctx, 0, -1, 1);
    *slot_out = slot;
    return true;
}

/* The first group of pm, in fair order, whose resource admits now; NIL if
** none.  Every resource of pm with waiters is first brought up to date with
** its startup ramp, in resource order (as tick does), so a ramp step that is
** due counts even before its tick. */
static uint32_t pump_select(admit_request_admission *c, uint32_t pm, int64_t now) {
    const pm_state *p = &c->pms[pm];
    for (uint32_t i = 0; i < p->resource_count; i++)
        if (c->waiters[p->resources[i]]) admit_rq_ramp_update(c, p->resources[i], now);
    for (uint32_t i = 0; i < admit_wfq_active_count(&p->wfq); i++) {
        uint32_t g = p->group_of[admit_wfq_active_at(&p->wfq, i)];
        if (admit_rq_resource_open(c, c->groups[g].resource, now)) return g;
    }
    return NIL;
}

uint32_t admit_rq_pump(admit_request_admission *c, uint32_t pm, int64_t now) {
    pm_state *p = &c->pms[pm];
    uint32_t admitted = 0;
    while (admit_wfq_active_count(&p->wfq) && admit_rq_pm_open(c, pm) && !c->shutdown) {
        uint32_t best = pump_select(c, pm, now);
        if (best == NIL) break;
        rgroup *gr = &c->groups[best];
        uint32_t slot = gr->head;
        waiter *w = &c->waiters_slab[slot];
        admit_request_lease lease;
        if (!admit_rq_grant(c, gr->resource, &w->ctx, &lease)) break;
        admit_wfq_commit(&p->wfq, gr->local, gr->weight);
        fifo_unlink(c, slot);
        if (gr->count) pm_activate(c, best); /* with the new tag, behind its new head */
        admit_rq_event(c, ADMIT_REV_REQUEST_WAIT_COMPLETED, now, gr->resource, &w->ctx,
                       lease.lease_id, -1, now - w->result.wait_started_ns);
        admit_rq_lease_event(c, gr->resource, &w->ctx, now, lease.lease_id);
        drained_check(c, gr->resource, now);
        waiter_finish(c, slot, true, &lease, ADMIT_REQ_DENY_NONE, now);
        admitted++;
    }
    return admitted;
}

/* Admissions for every provider/model (due deadlines were expired first, in
** admit_rq_begin). */
void admit_rq_pump_all(admit_request_admission *c, int64_t now) {
    for (uint32_t pm = 0; pm < c->pm_count; pm++)
        if (admit_wfq_active_count(&c->pms[pm].wfq)) admit_rq_pump(c, pm, now);
}

int64_t admit_rq_next_opening(const admit_request_admission *c, int64_t now) {
    int64_t at = INT64_MAX;
    for (uint32_t r = 0; r < c->resource_count; r++) {
        if (!c->waiters[r]) continue;
        int64_t t = admit_rq_opening(c, r, now);
        if (t >= 0 && t < at) at = t;
    }
    return at;
}

void admit_rq_catch_up(admit_request_admission *c, int64_t now) {
    for (uint32_t r = 0; r < c->resource_count; r++)
        if (c->waiters[r]) admit_rq_ramp_update(c, r, now);
    admit_rq_pump_all(c, now);
    c->due_ns = admit_rq_next_opening(c, now);
}

void admit_rq_expire_due(admit_request_admission *c, int64_t now) {
    while (admit_heap_count(&c->deadlines) && admit_heap_top(&c->deadlines)->key <= now) {
        admit_heap_entry d = *admit_heap_top(&c->deadlines);
        admit_heap_drop(&c->deadlines);
        if (deadline_live(c, &d)) admit_rq_waiter_deny(c, d.tag, ADMIT_REQ_DENY_QUEUE_TIMEOUT, now);
    }
}

void admit_rq_schedule_wake(admit_request_admission *c, int64_t now) {
    if (!c->cfg.wake_at) return;
    int64_t at = -1;
    const admit_heap_entry *top;
    /* drop deadlines of waiters already admitted, timed out or cancelled */
    while ((top = admit_heap_top(&c->deadlines)) && !deadline_live(c, top))
        admit_heap_drop(&c->deadlines);
    if (top) at = top->key;
    int64_t opening = admit_rq_next_opening(c, now);
    if (opening != INT64_MAX && (at < 0 || opening < at)) at = opening;
    if (at < 0) return;
    if (at < now) at = now;
    /* A pending earlier request will reschedule when it fires. */
    if (c->wake_requested_ns >= now && c->wake_requested_ns <= at) return;
    c->wake_requested_ns = at;
    c->cfg.wake_at(c->cfg.wake_ctx, at);
}
