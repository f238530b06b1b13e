#include "sim/clock.h"

#include <math.h>
#include <stdlib.h>

static bool event_before(const sim_event *a, const sim_event *b) {
    return a->at_ns != b->at_ns ? a->at_ns < b->at_ns : a->seq < b->seq;
}

bool sim_clock_init(sim_clock *c, size_t expected_events) {
    c->now_ns = 0;
    c->count = 0;
    c->next_seq = 0;
    c->cap = expected_events < 64 ? 64 : expected_events;
    c->heap = malloc(c->cap * sizeof *c->heap);
    return c->heap != NULL;
}

void sim_clock_free(sim_clock *c) {
    free(c->heap);
    c->heap = NULL;
}

bool sim_clock_schedule(sim_clock *c, int64_t at_ns, uint32_t type, size_t ref, uint32_t token) {
    if (at_ns < c->now_ns) at_ns = c->now_ns;
    if (c->count == c->cap) {
        sim_event *h = realloc(c->heap, c->cap * 2 * sizeof *h);
        if (!h) return false;
        c->heap = h;
        c->cap *= 2;
    }
    sim_event e = {at_ns, c->next_seq++, type, token, ref};
    size_t i = c->count++;
    while (i > 0 && event_before(&e, &c->heap[(i - 1) / 2])) {
        c->heap[i] = c->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    c->heap[i] = e;
    return true;
}

int64_t sim_clock_next_at(const sim_clock *c) {
    return c->count ? c->heap[0].at_ns : -1;
}

bool sim_clock_pop(sim_clock *c, sim_event *out) {
    if (!c->count) return false;
    *out = c->heap[0];
    sim_event last = c->heap[--c->count];
    size_t i = 0, n = c->count;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const sim_event *best = &last;
        if (l < n && event_before(&c->heap[l], best)) m = l, best = &c->heap[l];
        if (l + 1 < n && event_before(&c->heap[l + 1], best)) m = l + 1;
        if (m == i) break;
        c->heap[i] = c->heap[m];
        i = m;
    }
    if (n) c->heap[i] = last;
    c->now_ns = out->at_ns;
    return true;
}

int64_t sim_seconds_to_ns(double seconds) {
    return (int64_t)llround(seconds * 1e9);
}
