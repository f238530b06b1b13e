/*
** Set of 64-bit ids, kept as 64-id bitmap words in an open-addressing table
** (linear probing, backward-shift deletion, so no tombstones).  A slot holds
** the word of ids [64k, 64k + 63] under the key k = id >> 6; a slot whose
** word is 0 is empty, so a word that loses its last id frees its slot.
**
** Why words: task ids are dense within a column (admit_task_id), and the
** queue inserts and removes them in near enqueue order, so consecutive ids
** share a word and one cache line serves 64 of them.  One id per slot
** hashed every access to a random line of a table of twice the queued
** count: at a million queued tasks a cache miss per insert and per remove,
** the largest cost of a simulated task.  Sparse ids cost one 16-byte slot
** each, as before two 8-byte ones.
**
** Grows by doubling (at most half the slots used); never shrinks, so a warm
** set allocates nothing.
*/
#ifndef ADMIT_IDSET_H
#define ADMIT_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct admit_idset_slot {
    uint64_t key;  /* id >> 6, when bits != 0 */
    uint64_t bits; /* bit (id & 63) set: id is in the set; 0 = empty slot */
} admit_idset_slot;

typedef struct admit_idset {
    admit_idset_slot *slots;
    size_t mask;
    size_t used;  /* slots with a non-zero word */
    size_t count; /* ids */
} admit_idset;

bool admit_idset_init(admit_idset *s, size_t expected);
void admit_idset_free(admit_idset *s);
bool admit_idset_contains(const admit_idset *s, uint64_t id);
/* 1 inserted, 0 already present, -1 out of memory. */
int admit_idset_insert(admit_idset *s, uint64_t id);
bool admit_idset_remove(admit_idset *s, uint64_t id);

#endif
