/*
** The seam between core and whatever drives it.  Core reaches time and
** concurrency only through this interface: the simulator implements it on a
** virtual clock, a live runtime on a monotonic clock and an event loop.
**
** Contract:
**   now()       current time in integer nanoseconds, never decreasing;
**   wake_at(t)  call admit_scheduler_dispatch() at or soon after t.  Several
**               requests for the same instant may be coalesced; a dispatch
**               with nothing to do is harmless;
**   spawn(w)    start worker w; 0 if started, then the runtime calls
**               admit_scheduler_worker_finished(w, w->execution_id, outcome)
**               exactly once, later (never from inside spawn), passing the
**               execution id it saw at spawn.  Non-zero: not started;
**   cancel(w)   ask a started worker to stop soon; it still finishes through
**               admit_scheduler_worker_finished(), typically as CANCELLED.
** Every call happens on the thread that drives the scheduler.
*/
#ifndef ADMIT_RUNTIME_H
#define ADMIT_RUNTIME_H

#include <stdint.h>

#include "admit/resources.h"
#include "admit/task_admission.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum admit_worker_outcome {
    ADMIT_WORKER_SUCCESS = 0,
    ADMIT_WORKER_RETRYABLE_FAILURE,
    ADMIT_WORKER_NON_RETRYABLE_FAILURE,
    ADMIT_WORKER_CANCELLED,
    ADMIT_WORKER_OUTCOME_COUNT
} admit_worker_outcome;

/* One running execution of a task; owned by the scheduler, stable while the
** worker runs.  runtime_data is the runtime's own. */
typedef struct admit_worker {
    const admit_task *task;
    admit_task_lease lease;
    uint64_t execution_id;
    uint32_t attempt; /* 1 for the first execution of the task */
    int64_t started_at_ns;
    void *runtime_data;
} admit_worker;

typedef struct admit_runtime {
    void *ctx;
    int64_t (*now)(void *ctx);
    void (*wake_at)(void *ctx, int64_t at_ns);
    int (*spawn)(void *ctx, admit_worker *worker);
    void (*cancel)(void *ctx, admit_worker *worker);
} admit_runtime;

const char *admit_worker_outcome_name(admit_worker_outcome o);

#ifdef __cplusplus
}
#endif

#endif
