/*
** Virtual-time weighted fair queueing over groups: the one implementation
** behind FairTaskQueue (fair_queue.c, SPEC §3) and the RequestFairQueue of
** request admission (request_queue.c, SPEC §4).
**
** The wfq orders groups, not items: its owner keeps each group's FIFO of
** items and tells the wfq when a group gains work (activate), loses it
** (deactivate) or has its head served (commit).  State:
**   V            the virtual time; it only grows;
**   finish[g]    the finish tag of g's last commit, once g has one;
**   tag[g]       g's finish tag while it is active;
**   tiebreak[g]  given by the owner at activation, orders equal tags;
**   active       the active groups in ascending (tag, tiebreak), so the
**                owner serves the first one whose head it may serve.
** commit(g, w):  V = max(V, tag[g]); finish[g] = V + 1.0/w; g is deactivated
**                (the owner reactivates it when it still has work).
** Tags are doubles accumulated exactly like that, never rescaled, so both
** queues keep the orderings of their reference implementations bit for bit
** (including where 1/3 steps make rational ties inexact).  Callers pass
** w = max(weight, 1).
**
** Where the two queues differ, and why:
**   1. Activation tag.  ADMIT_WFQ_TASK: tag = finish[g] if g has one, else V
**      (SPEC §3's reference, verbatim; a group that was idle keeps the lower
**      tag it had).  ADMIT_WFQ_REQUEST: tag = max(V, finish[g] or V) (README
**      "Request fair queue": a request group that comes back after idling
**      banks no credit against groups that kept waiting).
**   2. Tiebreak.  The task queue passes a fresh activation sequence (SPEC
**      §3: ascending (finish_tag, activation_seq)); request admission passes
**      the enqueue sequence of the group's head waiter (equal tags: the
**      group whose head waited longest), and re-ties the group when its head
**      leaves other than by commit (a cancellation or timeout).
**   3. Request admission also charges a group that is served without ever
**      queueing (charge(): an immediate admission advances V and the
**      group's finish like a commit), so arriving at an empty queue does not
**      bypass fairness.  The task queue has no immediate path.
**
** Not thread-safe: the owner's lock (if any) guards it.  Active groups are
** kept in a sorted array (binary search, memmove) that slides in a window
** of twice the groups: a change moves the shorter side of the array, so
** the commonest commit (the first group served, moving last) moves no id
** at all, only the array's start, and the window is compacted when the
** array reaches its end (O(1) amortized).  The array's address therefore
** changes: read it through admit_wfq_active_ids after a change.  No
** allocation after add_group.
*/
#ifndef ADMIT_WFQ_H
#define ADMIT_WFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum admit_wfq_rule {
    ADMIT_WFQ_TASK = 0, /* activation tag: finish if known, else V */
    ADMIT_WFQ_REQUEST   /* activation tag: max(V, finish if known) */
} admit_wfq_rule;

typedef struct admit_wfq_group {
    double tag;        /* while active */
    uint64_t tiebreak; /* while active */
    double finish;     /* last finish tag, when finish_known */
    bool finish_known;
    bool active;
} admit_wfq_group;

typedef struct admit_wfq {
    double vtime;
    admit_wfq_rule rule;
    admit_wfq_group *groups;
    uint32_t *active; /* window + start: active group ids, ascending (tag, tiebreak) */
    uint32_t *window; /* room for 2 * group_cap ids */
    uint32_t start;   /* start + active_count <= 2 * group_cap */
    uint32_t group_count, group_cap, active_count;
} admit_wfq;

/* group_count groups (ids 0..group_count-1), none active, V = 0.  false:
** out of memory (free() is still safe). */
bool admit_wfq_init(admit_wfq *w, uint32_t group_count, admit_wfq_rule rule);
void admit_wfq_free(admit_wfq *w);
/* One more group; its id in *id.  false: out of memory (nothing changed). */
bool admit_wfq_add_group(admit_wfq *w, uint32_t *id);

/* g (inactive) gains work: it gets its activation tag and joins the order. */
void admit_wfq_activate(admit_wfq *w, uint32_t g, uint64_t tiebreak);
/* g (active) has no work left. */
void admit_wfq_deactivate(admit_wfq *w, uint32_t g);
/* g (active) keeps its tag but takes a new tiebreak (its head changed). */
void admit_wfq_retie(admit_wfq *w, uint32_t g, uint64_t tiebreak);
/* g's head (g active) was served: V and finish[g] advance, g is deactivated. */
void admit_wfq_commit(admit_wfq *w, uint32_t g, double weight);
/* The same, then g (with work left) activated again with tiebreak, which
** must be larger than g's current one: its new (tag, tiebreak) is then
** larger than the old, so g moves back in the order in one step instead of
** leaving and rejoining it (the memmove of the active array is the cost of
** a commit at hundreds of groups). */
void admit_wfq_commit_requeue(admit_wfq *w, uint32_t g, double weight, uint64_t tiebreak);

/* The tag g would get if activated now. */
static inline double admit_wfq_activation_tag(const admit_wfq *w, uint32_t g) {
    const admit_wfq_group *gr = &w->groups[g];
    double tag = gr->finish_known ? gr->finish : w->vtime;
    if (w->rule == ADMIT_WFQ_REQUEST && tag < w->vtime) tag = w->vtime;
    return tag;
}

/* A commit at tag: V = max(V, tag); finish[g] = V + 1/weight. */
static inline void admit_wfq_advance_(admit_wfq *w, uint32_t g, double tag, double weight) {
    if (tag > w->vtime) w->vtime = tag;
    w->groups[g].finish = w->vtime + 1.0 / weight;
    w->groups[g].finish_known = true;
}

/* g (inactive) was served without queueing: as activate + commit.  Inline:
** request admission runs it on every immediate admission. */
static inline void admit_wfq_charge(admit_wfq *w, uint32_t g, double weight) {
    admit_wfq_advance_(w, g, admit_wfq_activation_tag(w, g), weight);
}

static inline uint32_t admit_wfq_active_count(const admit_wfq *w) {
    return w->active_count;
}

/* The active groups in serving order (valid until the next change). */
static inline const uint32_t *admit_wfq_active_ids(const admit_wfq *w) {
    return w->active;
}

/* The i-th active group in serving order. */
static inline uint32_t admit_wfq_active_at(const admit_wfq *w, uint32_t i) {
    return w->active[i];
}

static inline bool admit_wfq_is_active(const admit_wfq *w, uint32_t g) {
    return w->groups[g].active;
}

#endif
