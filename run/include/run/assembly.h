/*
** Assembly: the core objects of one run, built from a run configuration.
**
** run_assembly_create() is the one place that turns a run_config into the
** core library's objects, so the simulator and a live runtime build them
** alike:
**   the metadata resolver (each column's task group and scheduler
**     resources; limits from the configuration's capacities),
**   the task admission policy chosen by name (StrictFair, BoundedBorrow with
**     the configuration's knobs and ceilings, ProviderAware reading request
**     admission's pressure),
**   the request resolver (model aliases canonicalized; request resources
**     interned in a fixed order: the environment's endpoints first, as
**     listed by the caller, then the configuration's request limits, then
**     each program call), request admission (AIMD settings, per resource
**     limits, one request group per (column, request resource) weighted like
**     the column's task group), the model executor over the caller's
**     provider, and the scheduler.
**
** One clock feeds all three clock hooks: the scheduler's runtime seam,
** request admission's clock and ProviderAware's pressure reads.  The caller
** (the environment) supplies that clock, the scheduler's wake/spawn/cancel,
** request admission's timer, the provider, and the event sinks.  Each
** callback is called with the context beside it: the clock with
** clock.ctx, wake_at, spawn, cancel and request_wake_at with ctx, the
** provider and the sinks with their own (the scheduler's seam goes through
** the assembly, which holds a copy of the clock and worker hooks).
**
** Lifetime: the configuration and the hooks' contexts must outlive the
** assembly.  run_assembly_destroy() tears down the scheduler, then request
** admission (which denies waiters left by a failed run), then the executor;
** callbacks arriving during teardown are the caller's to ignore.
*/
#ifndef RUN_ASSEMBLY_H
#define RUN_ASSEMBLY_H

#include <stdint.h>

#include "admit/events.h"
#include "admit/model_executor.h"
#include "admit/request_admission.h"
#include "admit/request_resource.h"
#include "admit/scheduler.h"
#include "run/config.h"
#include "run/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The run's monotonic clock, in nanoseconds. */
typedef struct run_clock {
    void *ctx;
    int64_t (*now)(void *ctx);
} run_clock;

typedef struct run_hooks {
    run_clock clock;
    void *ctx;                                 /* for the callbacks below */
    void (*wake_at)(void *ctx, int64_t at_ns); /* dispatch at or after at_ns */
    int (*spawn)(void *ctx, admit_worker *w);  /* 0, or -1: spawn failed */
    void (*cancel)(void *ctx, admit_worker *w);
    void (*request_wake_at)(void *ctx, int64_t at_ns); /* call admit_request_admission_tick then */
    admit_model_provider provider;
    admit_event_sink scheduler_sink; /* fn NULL: none */
    admit_event_sink request_sink;
    /* Endpoints the environment serves, interned first in this order so
    ** request resource ids follow it: (model alias index, domain) pairs. */
    const uint32_t *endpoint_models;
    const admit_request_domain *endpoint_domains;
    uint32_t endpoint_count;
} run_hooks;

typedef struct run_assembly run_assembly;

/* NULL with err set (RUN_EINVAL for a configuration the core rejects, with
** the file and JSON path where one applies; RUN_ENOMEM). */
run_assembly *run_assembly_create(const run_config *cfg, run_policy_kind policy, uint64_t run_id,
                                  const run_hooks *hooks, run_error *err);
void run_assembly_destroy(run_assembly *a);

const run_config *run_assembly_config(const run_assembly *a);
admit_scheduler *run_assembly_scheduler(const run_assembly *a);
admit_request_admission *run_assembly_request_admission(const run_assembly *a);
admit_model_executor *run_assembly_executor(const run_assembly *a);
const admit_request_resolver *run_assembly_request_resolver(const run_assembly *a);

/* The resolved shape: task groups, each column's group and resource
** request, the scheduler resources and their limits. */
uint32_t run_assembly_group_count(const run_assembly *a);
const admit_group_spec *run_assembly_groups(const run_assembly *a);
uint32_t run_assembly_column_group(const run_assembly *a, uint32_t column);
const admit_resource_request *run_assembly_column_resources(const run_assembly *a, uint32_t column);
uint32_t run_assembly_resource_count(const run_assembly *a);
const char *run_assembly_resource_name(const run_assembly *a, uint32_t resource);
const uint32_t *run_assembly_resource_limits(const run_assembly *a);
/* The request resource and request group of a column's program step; -1
** for a local step. */
int32_t run_assembly_call_resource(const run_assembly *a, uint32_t column, uint32_t step);
int32_t run_assembly_call_group(const run_assembly *a, uint32_t column, uint32_t step);
/* The resolver's diagnostics (metadata fallbacks, alias merges). */
uint32_t run_assembly_diagnostic_count(const run_assembly *a);
const char *run_assembly_diagnostic(const run_assembly *a, uint32_t i);

#ifdef __cplusplus
}
#endif

#endif
