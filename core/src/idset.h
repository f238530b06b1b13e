/*
** Open-addressing set of non-zero 64-bit ids (linear probing, backward-shift
** deletion, so no tombstones).  Grows by doubling; never shrinks, so a warm
** set allocates nothing.
*/
#ifndef ADMIT_IDSET_H
#define ADMIT_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct admit_idset {
    uint64_t *slots; /* 0 = empty */
    size_t mask;
    size_t count;
} admit_idset;

bool admit_idset_init(admit_idset *s, size_t expected);
void admit_idset_free(admit_idset *s);
bool admit_idset_contains(const admit_idset *s, uint64_t id);
/* 1 inserted, 0 already present, -1 out of memory. */
int admit_idset_insert(admit_idset *s, uint64_t id);
bool admit_idset_remove(admit_idset *s, uint64_t id);

#endif
