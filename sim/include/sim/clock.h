/*
** Virtual clock and event list.  Time is integer nanoseconds (never
** accumulated floating point); events are ordered by (time, sequence), so
** two events at one instant keep the order they were scheduled in.
*/
#ifndef SIM_CLOCK_H
#define SIM_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    sim_event *heap;
    size_t count, cap;
    uint64_t next_seq;
} sim_clock;

bool sim_clock_init(sim_clock *c, size_t expected_events);
void sim_clock_free(sim_clock *c);
/* Schedules an event at at_ns (>= now); false on out of memory. */
bool sim_clock_schedule(sim_clock *c, int64_t at_ns, uint32_t type, size_t ref, uint32_t token);
/* Earliest pending event time, or -1 when the list is empty. */
int64_t sim_clock_next_at(const sim_clock *c);
/* Pops the earliest event and advances now to its time. */
bool sim_clock_pop(sim_clock *c, sim_event *out);

/* Seconds (as written in a scenario) to whole nanoseconds, rounded once. */
int64_t sim_seconds_to_ns(double seconds);

#endif
