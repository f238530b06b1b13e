/*
** Scheduler resources, task groups and schedulable tasks: the values that
** flow from the resolver into the queue and the task admission controller.
**
** Resources and groups are interned to small dense ids by their owner (the
** resolver); the queue and the controller index arrays by them.  Resource id
** 0 is always "submission".
*/
#ifndef ADMIT_RESOURCES_H
#define ADMIT_RESOURCES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ADMIT_RESOURCE_SUBMISSION 0
#define ADMIT_MAX_TASK_RESOURCES  4 /* resources one task may request */
#define ADMIT_NAME_MAX            96

/* Amounts a task requests, in the order it requests them (policies check
** resources in this order; the first denial wins). */
typedef struct admit_resource_request {
    uint8_t count;
    uint16_t resource[ADMIT_MAX_TASK_RESOURCES];
    uint32_t amount[ADMIT_MAX_TASK_RESOURCES];
} admit_resource_request;

typedef enum admit_metadata_kind {
    ADMIT_KIND_LOCAL = 0,
    ADMIT_KIND_MODEL,
    ADMIT_KIND_CUSTOM_MODEL
} admit_metadata_kind;

/* TaskGroupSpec.  admitted_limit <= 0 means "no admitted limit" (local work),
** which every policy always allows. */
typedef struct admit_group_spec {
    char key[2 * ADMIT_NAME_MAX];
    admit_metadata_kind kind;
    uint64_t identity_hash;
    int weight;
    int admitted_limit;
} admit_group_spec;

typedef enum admit_task_type {
    ADMIT_TASK_FROM_SCRATCH = 0,
    ADMIT_TASK_CELL,
    ADMIT_TASK_BATCH,
    ADMIT_TASK_PRE_BATCH,
    ADMIT_TASK_POST_BATCH
} admit_task_type;

/* SchedulableTask.  Lives in its owner's slab at a stable address for the
** whole run; the queue and leases hold pointers to it. */
typedef struct admit_task {
    uint64_t task_id; /* stable: see admit_task_id() */
    uint32_t group;
    uint32_t column;
    int64_t row_group;
    int64_t row; /* -1 for batch tasks */
    admit_task_type type;
    admit_resource_request resources;
    void *payload;
} admit_task;

/* Stable id from (column, task type, row group or row).  Decodable, so ids
** sort by column then row and never collide for < 2^40 rows per column. */
uint64_t admit_task_id(uint32_t column, admit_task_type type, int64_t row_group, int64_t row);

const char *admit_task_type_name(admit_task_type type);
const char *admit_metadata_kind_name(admit_metadata_kind kind);

static inline int admit_group_weight(const admit_group_spec *g) {
    return g->weight < 1 ? 1 : g->weight;
}

#ifdef __cplusplus
}
#endif

#endif
