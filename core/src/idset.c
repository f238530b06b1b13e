#include "idset.h"

#include <stdlib.h>

static size_t idset_hash(uint64_t id) {
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)id;
}

bool admit_idset_init(admit_idset *s, size_t expected) {
    size_t cap = 16;
    while (cap < expected * 2)
        cap <<= 1;
    s->slots = calloc(cap, sizeof *s->slots);
    s->mask = cap - 1;
    s->count = 0;
    return s->slots != NULL;
}

void admit_idset_free(admit_idset *s) {
    free(s->slots);
    s->slots = NULL;
}

bool admit_idset_contains(const admit_idset *s, uint64_t id) {
    for (size_t i = idset_hash(id) & s->mask;; i = (i + 1) & s->mask) {
        if (s->slots[i] == id) return true;
        if (s->slots[i] == 0) return false;
    }
}

static bool idset_grow(admit_idset *s) {
    size_t cap = (s->mask + 1) * 2;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i <= s->mask; i++) {
        uint64_t id = s->slots[i];
        if (!id) continue;
        size_t j = idset_hash(id) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = id;
    }
    free(s->slots);
    s->slots = slots;
    s->mask = cap - 1;
    return true;
}

int admit_idset_insert(admit_idset *s, uint64_t id) {
    if ((s->count + 1) * 2 > s->mask + 1 && !idset_grow(s)) return -1;
    size_t i = idset_hash(id) & s->mask;
    for (; s->slots[i]; i = (i + 1) & s->mask)
        if (s->slots[i] == id) return 0;
    s->slots[i] = id;
    s->count++;
    return 1;
}

bool admit_idset_remove(admit_idset *s, uint64_t id) {
    size_t i = idset_hash(id) & s->mask;
    for (; s->slots[i] != id; i = (i + 1) & s->mask)
        if (!s->slots[i]) return false;
    /* Backward shift: pull later entries of the probe run into the hole. */
    size_t hole = i;
    for (size_t j = (hole + 1) & s->mask; s->slots[j]; j = (j + 1) & s->mask) {
        size_t home = idset_hash(s->slots[j]) & s->mask;
        bool movable = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            s->slots[hole] = s->slots[j];
            hole = j;
        }
    }
    s->slots[hole] = 0;
    s->count--;
    return true;
}
