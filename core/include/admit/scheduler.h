/*
** AsyncTaskScheduler: the dispatch loop that drives tracker, queue and task
** admission through the runtime seam (SPEC §2, §7).
**
** One dispatch pass: admit row groups (buffer_size, max_concurrent_row_groups),
** pull the ready frontier and enqueue it, then repeatedly select -> acquire ->
** commit -> spawn until nothing eligible is left; then explain why, and ask
** the runtime to wake it at the earliest deadline.  Wakeups are requested on
** every enqueue, release, deadline, shutdown, cancel and stale selection.
**
** Lease invariant: a task lease is taken before its worker is spawned and is
** released exactly once, on whichever terminal path the worker takes
** (success, failure, retry, cancellation, shutdown, salvage, spawn failure).
*/
#ifndef ADMIT_SCHEDULER_H
#define ADMIT_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/error.h"
#include "admit/events.h"
#include "admit/fair_queue.h"
#include "admit/runtime.h"
#include "admit/task_admission.h"
#include "admit/tracker.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct admit_scheduler_config {
    const admit_column_spec *columns;
    uint32_t column_count;
    int64_t records;
    int64_t buffer_size;                /* <= 0: records (one row group) */
    uint32_t max_concurrent_row_groups; /* 0: unlimited */
    const admit_group_spec *groups;     /* must outlive the scheduler */
    uint32_t group_count;
    uint32_t resource_count;
    const uint32_t *resource_limits; /* [resource_count]; submission included */
    admit_task_policy policy;        /* the scheduler's from create on, even if create fails
                                     ** (task_admission.h, "Policy ownership") */
    uint32_t salvage_max_rounds;     /* per task, default 2 */
    double shutdown_error_rate;      /* default 0.5; > 1 disables */
    uint32_t shutdown_error_window;  /* default 10 */
    uint64_t run_id;
    admit_runtime runtime;
    admit_event_sink sink;
} admit_scheduler_config;

/* Fills the defaults above; callers then set what they need. */
void admit_scheduler_config_init(admit_scheduler_config *cfg);

typedef enum admit_job_status {
    ADMIT_JOB_NOT_STARTED = 0,
    ADMIT_JOB_RUNNING,
    ADMIT_JOB_COMPLETED,
    ADMIT_JOB_EARLY_SHUTDOWN,
    ADMIT_JOB_CANCELLED,
    ADMIT_JOB_FAILED /* could not go on (out of memory): see admit_scheduler_error() */
} admit_job_status;

typedef struct admit_scheduler_stats {
    uint64_t tasks_total;
    uint64_t tasks_completed;
    uint64_t tasks_dropped;
    uint64_t rows_dropped;
    uint64_t workers_spawned;
    uint64_t spawn_failures;
    uint64_t retries_deferred;
    uint64_t salvage_rounds;
    uint64_t salvage_redispatched;
    uint64_t stale_selections;
    uint64_t stale_finishes; /* worker_finished calls ignored as repeats */
    uint64_t dispatch_passes;
    uint64_t events_emitted;
    uint64_t hidden_waiters; /* workers spawned without a lease: must be 0 */
    uint32_t running;
    uint32_t row_groups_in_flight;
    uint32_t max_row_groups_in_flight;
    int64_t row_groups_checkpointed;
} admit_scheduler_stats;

typedef struct admit_scheduler admit_scheduler;

admit_scheduler *admit_scheduler_create(const admit_scheduler_config *cfg, admit_error *err);
void admit_scheduler_destroy(admit_scheduler *s);

/* Emits scheduler_job_started and asks for the first dispatch. */
admit_status admit_scheduler_start(admit_scheduler *s, admit_error *err);
/* One dispatch pass at runtime.now(). */
void admit_scheduler_dispatch(admit_scheduler *s);
/* Terminal path of a spawned worker; releases its lease exactly once.
** execution_id is the w->execution_id the runtime saw at spawn: a repeated
** call for an execution that already finished is ignored, even when the
** worker record has since been reused.  A CANCELLED outcome outside a
** shutdown (a runtime timeout, say) is retried like a retryable failure. */
void admit_scheduler_worker_finished(admit_scheduler *s, admit_worker *w, uint64_t execution_id,
                                     admit_worker_outcome outcome);
/* Stops admitting, discards queued work and cancels running workers; the job
** ends once every worker has finished.  Before start: the job is cancelled
** without running anything. */
void admit_scheduler_cancel(admit_scheduler *s);

admit_job_status admit_scheduler_status(const admit_scheduler *s);
bool admit_scheduler_is_finished(const admit_scheduler *s);
void admit_scheduler_stats_get(const admit_scheduler *s, admit_scheduler_stats *out);
/* Why the job ended ADMIT_JOB_FAILED: the code (ADMIT_OK when it did not)
** and, when err != NULL, the code and message in *err.  A failed job stops
** like a cancelled one: workers cancelled, every lease released once. */
admit_status admit_scheduler_error(const admit_scheduler *s, admit_error *err);
const admit_fair_queue *admit_scheduler_queue(const admit_scheduler *s);
const admit_task_admission *admit_scheduler_admission(const admit_scheduler *s);
admit_tracker *admit_scheduler_tracker(admit_scheduler *s);
/* [group]: the most tasks of each group queued at once so far. */
const uint32_t *admit_scheduler_max_queued_by_group(const admit_scheduler *s);
const char *admit_job_status_name(admit_job_status st);

#ifdef __cplusplus
}
#endif

#endif
