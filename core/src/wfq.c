/* Virtual-time weighted fair queueing over groups (see wfq.h). */
#include "wfq.h"

#include <stdlib.h>
#include <string.h>

bool admit_wfq_init(admit_wfq *w, uint32_t group_count, admit_wfq_rule rule) {
    memset(w, 0, sizeof *w);
    w->rule = rule;
    if (group_count > UINT32_MAX / 4) return false; /* the window holds 2 * cap ids */
    uint32_t cap = group_count ? group_count : 1;
    w->groups = calloc(cap, sizeof *w->groups);
    w->window = calloc(2 * (size_t)cap, sizeof *w->window);
    if (!w->groups || !w->window) return false;
    w->active = w->window;
    w->group_count = group_count;
    w->group_cap = cap;
    return true;
}

void admit_wfq_free(admit_wfq *w) {
    free(w->groups);
    free(w->window);
    w->groups = NULL;
    w->window = w->active = NULL;
}

bool admit_wfq_add_group(admit_wfq *w, uint32_t *id) {
    if (w->group_count == w->group_cap) {
        if (w->group_cap > UINT32_MAX / 4) return false;
        uint32_t cap = w->group_cap ? w->group_cap * 2 : 4;
        admit_wfq_group *groups = realloc(w->groups, cap * sizeof *groups);
        if (!groups) return false;
        w->groups = groups;
        uint32_t *window = realloc(w->window, 2 * (size_t)cap * sizeof *window);
        if (!window) return false; /* groups grew; nothing else changed */
        w->window = window;
        w->active = window + w->start;
        w->group_cap = cap;
    }
    *id = w->group_count++;
    w->groups[*id] = (admit_wfq_group){0};
    return true;
}

static bool before(const admit_wfq *w, uint32_t a, uint32_t b) {
    const admit_wfq_group *x = &w->groups[a], *y = &w->groups[b];
    if (x->tag != y->tag) return x->tag < y->tag;
    return x->tiebreak < y->tiebreak;
}

/* Index in the active array where g sits (if active) or would go, at lo or
** after. */
static uint32_t lower_bound(const admit_wfq *w, uint32_t g, uint32_t lo) {
    uint32_t hi = w->active_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (before(w, w->active[mid], g))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The array moved to the window's start, so that it may grow at its end. */
static void compact(admit_wfq *w) {
    memmove(w->window, w->active, w->active_count * sizeof *w->active);
    w->start = 0;
    w->active = w->window;
}

/* Whether the array may grow by one at its end. */
static bool room_at_end(const admit_wfq *w) {
    return w->start + w->active_count < 2 * w->group_cap;
}

/* The array starts one id later (its first slot is dropped). */
static void start_later(admit_wfq *w) {
    w->start++;
    w->active++;
}

/* g placed at index at, moving the shorter side. */
static void insert_at(admit_wfq *w, uint32_t g, uint32_t at) {
    uint32_t n = w->active_count;
    if (w->start > 0 && at < n - at) {
        w->start--;
        w->active--;
        memmove(&w->active[0], &w->active[1], at * sizeof *w->active);
    } else {
        if (!room_at_end(w)) compact(w);
        memmove(&w->active[at + 1], &w->active[at], (n - at) * sizeof *w->active);
    }
    w->active[at] = g;
    w->active_count++;
}

static void insert(admit_wfq *w, uint32_t g) {
    insert_at(w, g, lower_bound(w, g, 0));
}

static void erase(admit_wfq *w, uint32_t g) {
    uint32_t at = lower_bound(w, g, 0), n = w->active_count;
    if (at < n - at - 1) {
        memmove(&w->active[1], &w->active[0], at * sizeof *w->active);
        start_later(w);
    } else {
        memmove(&w->active[at], &w->active[at + 1], (n - at - 1) * sizeof *w->active);
    }
    w->active_count--;
}

void admit_wfq_activate(admit_wfq *w, uint32_t g, uint64_t tiebreak) {
    admit_wfq_group *gr = &w->groups[g];
    gr->tag = admit_wfq_activation_tag(w, g);
    gr->tiebreak = tiebreak;
    gr->active = true;
    insert(w, g);
}

void admit_wfq_deactivate(admit_wfq *w, uint32_t g) {
    erase(w, g);
    w->groups[g].active = false;
}

void admit_wfq_retie(admit_wfq *w, uint32_t g, uint64_t tiebreak) {
    erase(w, g);
    w->groups[g].tiebreak = tiebreak;
    insert(w, g);
}

void admit_wfq_commit(admit_wfq *w, uint32_t g, double weight) {
    admit_wfq_advance_(w, g, w->groups[g].tag, weight);
    admit_wfq_deactivate(w, g);
}

void admit_wfq_commit_requeue(admit_wfq *w, uint32_t g, double weight, uint64_t tiebreak) {
    /* the group served is most often the first, and moves most often last */
    uint32_t from = w->active[0] == g ? 0 : lower_bound(w, g, 0), n = w->active_count;
    admit_wfq_group *gr = &w->groups[g];
    admit_wfq_advance_(w, g, gr->tag, weight);
    gr->tag = admit_wfq_activation_tag(w, g);
    gr->tiebreak = tiebreak;
    /* g's new place, among those after it: before the id at lo */
    uint32_t lo = before(w, w->active[n - 1], g) ? n : lower_bound(w, g, from + 1);
    if (lo - from - 1 <= from + (n - lo)) { /* those between g's places move forward */
        memmove(&w->active[from], &w->active[from + 1], (lo - from - 1) * sizeof *w->active);
        w->active[lo - 1] = g;
        return;
    }
    /* those before g move back over it and those from lo on move back by
    ** one, into the room at the end: the array then starts one later */
    if (!room_at_end(w)) compact(w);
    memmove(&w->active[1], &w->active[0], from * sizeof *w->active);
    memmove(&w->active[lo + 1], &w->active[lo], (n - lo) * sizeof *w->active);
    w->active[lo] = g;
    start_later(w);
}
