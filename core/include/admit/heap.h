/*
** A binary min-heap of small fixed-size records: a utility of the core
** library, the one heap every timed list uses (the simulator's event list,
** the completion tracker's timed tasks, request admission's queue-wait
** deadlines).
**
** Records are ordered by (key, tiebreak) ascending, compared as two integers
** inline: no comparison callback on the hot path.  Records with equal key
** and tiebreak leave in an order that is deterministic but unspecified; an
** owner that needs first-in-first-out among equal keys passes a sequence
** number as the tiebreak.  tag, aux and ref are the owner's payload: copied
** with the record, never read by the heap.
**
** The heap is a value embedded in its owner (init/free instead of
** create/destroy), so the owner pays no extra allocation or indirection and
** peeking is inline.  Its members are private: use the functions.  Storage
** grows by doubling and never shrinks, so a warm heap allocates nothing.
** Not thread-safe: whoever guards the owner guards its heap.
*/
#ifndef ADMIT_HEAP_H
#define ADMIT_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct admit_heap_entry {
    int64_t key;       /* first order: a time, usually */
    uint64_t tiebreak; /* second order */
    uint32_t tag, aux; /* payload */
    uint64_t ref;      /* payload */
} admit_heap_entry;

typedef struct admit_heap {
    admit_heap_entry *items; /* private */
    size_t count, cap;       /* private */
} admit_heap;

/* Room for capacity records up front (0: none until the first push).  false:
** out of memory; the heap is then empty and safe to free.  A zero-filled
** admit_heap is an empty heap too. */
bool admit_heap_init(admit_heap *h, size_t capacity);
void admit_heap_free(admit_heap *h);
/* Makes room for n more records, so the next n pushes cannot fail.  false:
** out of memory (the heap is unchanged). */
bool admit_heap_reserve(admit_heap *h, size_t n);

static inline size_t admit_heap_count(const admit_heap *h) {
    return h->count;
}

/* The least record, or NULL when the heap is empty; valid until the next
** push or pop. */
static inline const admit_heap_entry *admit_heap_top(const admit_heap *h) {
    return h->count ? &h->items[0] : NULL;
}

/* Push and drop are inline: the simulator's event list runs them once per
** event, and a call per operation measurably slowed it down.  There is no
** pop: read top(), then drop(). */
static inline bool admit_heap_before_(const admit_heap_entry *a, const admit_heap_entry *b) {
    return a->key != b->key ? a->key < b->key : a->tiebreak < b->tiebreak;
}

/* false: out of memory (the heap is unchanged). */
static inline bool admit_heap_push(admit_heap *h, admit_heap_entry e) {
    if (h->count == h->cap && !admit_heap_reserve(h, 1)) return false;
    admit_heap_entry *a = h->items;
    size_t i = h->count++;
    while (i > 0 && admit_heap_before_(&e, &a[(i - 1) / 2])) { /* sift up */
        a[i] = a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    a[i] = e;
    return true;
}

/* Removes the least record (the one top() shows); no-op when empty. */
static inline void admit_heap_drop(admit_heap *h) {
    if (!h->count) return;
    admit_heap_entry *a = h->items;
    const admit_heap_entry last = a[--h->count];
    size_t i = 0, n = h->count;
    for (;;) { /* sift the last record down from the root */
        size_t l = 2 * i + 1, m = i;
        const admit_heap_entry *best = &last;
        if (l < n && admit_heap_before_(&a[l], best)) m = l, best = &a[l];
        if (l + 1 < n && admit_heap_before_(&a[l + 1], best)) m = l + 1;
        if (m == i) break;
        a[i] = a[m];
        i = m;
    }
    if (n) a[i] = last;
}

#ifdef __cplusplus
}
#endif

#endif
