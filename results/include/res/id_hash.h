/*
** The hash of a 64-bit id (a task, execution or lease id) that results/'s
** open-addressing maps probe from: the id's bits mixed so that ids that
** differ in their low bits only (consecutive ids) spread over the table.
*/
#ifndef RES_ID_HASH_H
#define RES_ID_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline size_t res_id_hash(uint64_t id) {
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)id;
}

#ifdef __cplusplus
}
#endif

#endif
