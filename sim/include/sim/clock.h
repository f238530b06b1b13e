/*
** Virtual clock and event list.  Time is integer nanoseconds (never
** accumulated floating point); events are ordered by (time, sequence), so
** two events at one instant keep the order they were scheduled in.  The
** list is core's heap (admit/heap.h) keyed by (time, sequence).
*/
#ifndef SIM_CLOCK_H
#define SIM_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admit/heap.h"

#define SIM_NS_PER_SEC 1000000000LL

typedef struct sim_event {
    int64_t at_ns;
    uint64_t seq;
    uint32_t type;
    uint32_t token;
    size_t ref;
} sim_event;

typedef struct sim_clock {
    int64_t now_ns;
    admit_heap events; /* key at_ns, tiebreak seq, tag type, aux token, ref ref */
    uint64_t next_seq;
} sim_clock;

bool sim_clock_init(sim_clock *c, size_t expected_events);
void sim_clock_free(sim_clock *c);

/* The per-event operations are inline, like the heap under them: the
** simulator runs them once per event. */

/* Schedules an event at at_ns (>= now); false on out of memory. */
static inline bool sim_clock_schedule(sim_clock *c, int64_t at_ns, uint32_t type, size_t ref,
                                      uint32_t token) {
    if (at_ns < c->now_ns) at_ns = c->now_ns;
    admit_heap_entry e = {
        .key = at_ns, .tiebreak = c->next_seq, .tag = type, .aux = token, .ref = ref};
    if (!admit_heap_push(&c->events, e)) return false;
    c->next_seq++;
    return true;
}

/* Earliest pending event time, or -1 when the list is empty. */
static inline int64_t sim_clock_next_at(const sim_clock *c) {
    return admit_heap_count(&c->events) ? admit_heap_top(&c->events)->key : -1;
}

/* Pops the earliest event and advances now to its time. */
static inline bool sim_clock_pop(sim_clock *c, sim_event *out) {
    if (!admit_heap_count(&c->events)) return false;
    const admit_heap_entry *e = admit_heap_top(&c->events);
    *out = (sim_event){.at_ns = e->key,
                       .seq = e->tiebreak,
                       .type = e->tag,
                       .token = e->aux,
                       .ref = (size_t)e->ref};
    admit_heap_drop(&c->events);
    c->now_ns = out->at_ns;
    return true;
}

/* Seconds (as written in a scenario) to whole nanoseconds, rounded once. */
int64_t sim_seconds_to_ns(double seconds);

#endif
