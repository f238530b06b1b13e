/*
** FairTaskQueue: weighted fair ordering of ready tasks across task groups.
**
** Reference ordering (virtual-time WFQ over groups):
**   - each group with queued work has an active entry (finish_tag, act_seq);
**     on activation finish_tag = group_finish[g] if known, else V;
**   - select_next visits active groups in ascending (finish_tag, act_seq) and
**     returns the head of the first group whose head passes the predicate;
**   - commit pops that head, V = max(V, finish_tag[g]),
**     group_finish[g] = V + 1/max(weight,1), deactivates g and reactivates it
**     with a new act_seq if it still has work.
** Within a group tasks leave in enqueue order.  Tags are doubles accumulated
** with exactly the reference implementation's arithmetic, so orderings match
** it bit for bit (including where 1/3 steps make rational ties inexact).
**
** Invariants: every mutation bumps the version; commit() of a selection made
** at another version returns NULL (stale).  enqueue is idempotent by task_id.
** The queue never tracks running counts and never calls the predicate with
** anything but a read-only view.  Not thread-safe: one dispatcher owns it.
*/
#ifndef ADMIT_FAIR_QUEUE_H
#define ADMIT_FAIR_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admit/error.h"
#include "admit/resources.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct admit_fair_queue admit_fair_queue;

/* One distinct request among the groups' first candidates: the active groups
** whose first candidate asks exactly `request`, how many, and their summed
** weight (max(weight, 1) each).  What policies need to know about peers'
** heads without visiting every group. */
typedef struct admit_head_request {
    admit_resource_request request;
    uint64_t weight;
    uint32_t groups; /* 0: no first candidate asks it now */
} admit_head_request;

/* QueueView: read-only pointers into the queue's live aggregates; valid until
** the next mutation of the queue and never copied. */
typedef struct admit_queue_view {
    uint64_t queued_total;
    uint32_t group_count;
    uint32_t resource_count;
    const uint32_t *queued_by_group;          /* [group] */
    const uint64_t *demand;                   /* [group * resource_count + r] */
    const uint64_t *demand_by_resource;       /* [r], summed over groups */
    const admit_task *const *first_candidate; /* [group], NULL when empty */
    const admit_group_spec *groups;           /* [group] */
    uint32_t active_count;
    const uint32_t *active_groups; /* groups with queued work, selection order */
    /* The first candidates by request (see admit_head_request); every active
    ** group's first candidate counts in exactly one entry.  NULL in a view
    ** not made by a queue (or one that ran out of memory keeping them):
    ** readers then walk active_groups. */
    uint32_t head_request_count;
    const admit_head_request *head_requests;
    /* Which queue, and its state: queue_id is unique among the queues of
    ** the process, version changes with every mutation (it is
    ** admit_fair_queue_version()).  Together they name the view's contents,
    ** so a reader may keep what it derived from them while both are
    ** unchanged.  0 in a view not made by a queue: nothing may be kept. */
    uint64_t queue_id;
    uint64_t version;
} admit_queue_view;

typedef struct admit_queue_selection {
    const admit_task *task;
    uint32_t group;
    uint64_t version;
} admit_queue_selection;

typedef bool (*admit_queue_pred)(void *ctx, const admit_task *task, const admit_queue_view *view);

/* groups must outlive the queue; resource_count bounds every request's ids. */
admit_fair_queue *admit_fair_queue_create(const admit_group_spec *groups, uint32_t group_count,
                                          uint32_t resource_count, admit_error *err);
void admit_fair_queue_destroy(admit_fair_queue *q);

/* Appends the items not already queued, in order; returns how many were
** accepted and, when accepted != NULL, writes them there (size >= n). */
size_t admit_fair_queue_enqueue(admit_fair_queue *q, const admit_task *const *items, size_t n,
                                const admit_task **accepted);

/* Non-mutating.  pred == NULL accepts every head. */
bool admit_fair_queue_select_next(const admit_fair_queue *q, admit_queue_pred pred, void *ctx,
                                  admit_queue_selection *out);

/* The only operation that removes a selected task.  NULL when stale. */
const admit_task *admit_fair_queue_commit(admit_fair_queue *q, const admit_queue_selection *sel);

/* Removes a queued task wherever it is; false when it is not queued. */
bool admit_fair_queue_discard(admit_fair_queue *q, uint64_t task_id);

bool admit_fair_queue_is_queued(const admit_fair_queue *q, uint64_t task_id);
const admit_queue_view *admit_fair_queue_view(const admit_fair_queue *q);
uint64_t admit_fair_queue_version(const admit_fair_queue *q);
double admit_fair_queue_virtual_time(const admit_fair_queue *q);

#ifdef __cplusplus
}
#endif

#endif
