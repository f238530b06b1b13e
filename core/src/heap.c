/* The binary min-heap of admit/heap.h: storage (push and pop are inline there). */
#include "admit/heap.h"

#include <stdlib.h>

bool admit_heap_init(admit_heap *h, size_t capacity) {
    h->count = 0;
    h->cap = 0;
    h->items = NULL;
    return admit_heap_reserve(h, capacity);
}

void admit_heap_free(admit_heap *h) {
    free(h->items);
    h->items = NULL;
    h->count = h->cap = 0;
}

bool admit_heap_reserve(admit_heap *h, size_t n) {
    if (n <= h->cap - h->count) return true;
    size_t cap = h->cap ? h->cap : 16;
    while (cap - h->count < n) {
        if (cap > SIZE_MAX / 2 / sizeof *h->items) return false;
        cap *= 2;
    }
    admit_heap_entry *items = realloc(h->items, cap * sizeof *items);
    if (!items) return false;
    h->items = items;
    h->cap = cap;
    return true;
}
