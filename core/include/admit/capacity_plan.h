/*
** AsyncCapacityPlan values (SPEC §6): every capacity figure a run uses,
** with where it came from.
**
** A CapacityValue either has a value and a source (and, when the value is a
** fallback, the source it fell back from), or has no value and says why
** (missing_reason).  A value with neither is a configuration error that
** admit_capacity_require() reports before any work is scheduled.  The plan
** itself (which values, grouped how) is assembled by whoever owns the
** configuration: the simulator from a scenario, a live runtime from its
** run config; this header fixes the vocabulary they share.
*/
#ifndef ADMIT_CAPACITY_PLAN_H
#define ADMIT_CAPACITY_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum admit_capacity_source {
    ADMIT_SRC_DEFAULT = 0,
    ADMIT_SRC_RUN_CONFIG,
    ADMIT_SRC_DATASET_BUILDER,
    ADMIT_SRC_MODEL_METADATA,
    ADMIT_SRC_ENGINE_INTERNAL_CONFIG,
    ADMIT_SRC_ADAPTER_CONFIG,
    ADMIT_SRC_ENVIRONMENT,
    ADMIT_SRC_RUNTIME_SNAPSHOT,
    ADMIT_SRC_BENCHMARK_OVERRIDE,
    ADMIT_SRC_COUNT
} admit_capacity_source;

#define ADMIT_SRC_NONE (-1)

typedef struct admit_capacity_value {
    bool present;
    int64_t value;
    int32_t source;             /* admit_capacity_source, or ADMIT_SRC_NONE when absent */
    int32_t fallback_from;      /* the source that had no value, or ADMIT_SRC_NONE */
    const char *missing_reason; /* static text; NULL when present */
} admit_capacity_value;

admit_capacity_value admit_capacity_of(int64_t value, admit_capacity_source source);
/* value taken from `source` because `from` had none. */
admit_capacity_value admit_capacity_fallback(int64_t value, admit_capacity_source source,
                                             admit_capacity_source from);
/* No value, for a stated reason (e.g. "no transport pool in the simulator"). */
admit_capacity_value admit_capacity_missing(const char *reason);

/* ADMIT_OK when v has a value and a source, or no value and a reason;
** ADMIT_ECONFIG naming `name` otherwise. */
admit_status admit_capacity_require(const admit_capacity_value *v, const char *name,
                                    admit_error *err);

const char *admit_capacity_source_name(admit_capacity_source s);

#ifdef __cplusplus
}
#endif

#endif
