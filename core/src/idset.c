#include "idset.h"

#include <stdlib.h>

static size_t idset_hash(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (size_t)key;
}

bool admit_idset_init(admit_idset *s, size_t expected) {
    size_t cap = 16;
    while (cap < expected / 32) /* about expected / 64 words, at most half full */
        cap <<= 1;
    s->slots = calloc(cap, sizeof *s->slots);
    s->mask = cap - 1;
    s->used = 0;
    s->count = 0;
    return s->slots != NULL;
}

void admit_idset_free(admit_idset *s) {
    free(s->slots);
    s->slots = NULL;
}

/* The slot holding key, or the empty slot that ends its probe run. */
static size_t idset_find(const admit_idset *s, uint64_t key) {
    size_t i = idset_hash(key) & s->mask;
    while (s->slots[i].bits && s->slots[i].key != key)
        i = (i + 1) & s->mask;
    return i;
}

bool admit_idset_contains(const admit_idset *s, uint64_t id) {
    const admit_idset_slot *slot = &s->slots[idset_find(s, id >> 6)];
    return (slot->bits >> (id & 63)) & 1;
}

static bool idset_grow(admit_idset *s) {
    size_t cap = (s->mask + 1) * 2;
    admit_idset_slot *slots = calloc(cap, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i <= s->mask; i++) {
        if (!s->slots[i].bits) continue;
        size_t j = idset_hash(s->slots[i].key) & (cap - 1);
        while (slots[j].bits)
            j = (j + 1) & (cap - 1);
        slots[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = slots;
    s->mask = cap - 1;
    return true;
}

int admit_idset_insert(admit_idset *s, uint64_t id) {
    uint64_t key = id >> 6, bit = 1ULL << (id & 63);
    size_t i = idset_find(s, key);
    if (s->slots[i].bits) {
        if (s->slots[i].bits & bit) return 0;
        s->slots[i].bits |= bit;
        s->count++;
        return 1;
    }
    if ((s->used + 1) * 2 > s->mask + 1) {
        if (!idset_grow(s)) return -1;
        i = idset_find(s, key);
    }
    s->slots[i] = (admit_idset_slot){key, bit};
    s->used++;
    s->count++;
    return 1;
}

/* Empties slot i and pulls later entries of its probe run into the hole. */
static void idset_erase_slot(admit_idset *s, size_t i) {
    size_t hole = i;
    for (size_t j = (hole + 1) & s->mask; s->slots[j].bits; j = (j + 1) & s->mask) {
        size_t home = idset_hash(s->slots[j].key) & s->mask;
        bool movable = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            s->slots[hole] = s->slots[j];
            hole = j;
        }
    }
    s->slots[hole].bits = 0;
    s->used--;
}

bool admit_idset_remove(admit_idset *s, uint64_t id) {
    uint64_t bit = 1ULL << (id & 63);
    size_t i = idset_find(s, id >> 6);
    if (!(s->slots[i].bits & bit)) return false;
    s->slots[i].bits &= ~bit;
    s->count--;
    if (!s->slots[i].bits) idset_erase_slot(s, i);
    return true;
}
