#include "sim/clock.h"

#include <math.h>

bool sim_clock_init(sim_clock *c, size_t expected_events) {
    c->now_ns = 0;
    c->next_seq = 0;
    return admit_heap_init(&c->events, expected_events < 64 ? 64 : expected_events);
}

void sim_clock_free(sim_clock *c) {
    admit_heap_free(&c->events);
}

int64_t sim_seconds_to_ns(double seconds) {
    return (int64_t)llround(seconds * 1e9);
}
