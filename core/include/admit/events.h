/*
** The scheduler event stream (SPEC §5).
**
** Each event has a per-stream monotonic sequence, the clock time it was
** captured at, and the correlation captured when it was built (never read
** later).  Fields are plain numbers and ids: no row values, no payloads.
** Sinks are called synchronously after the state change they describe and
** never while a queue or controller is mid-update.
*/
#ifndef ADMIT_EVENTS_H
#define ADMIT_EVENTS_H

#include <stdint.h>

#define ADMIT_SCHEDULER_EVENT_KINDS(X)                                                             \
    X(SCHEDULER_JOB_STARTED, "scheduler_job_started")                                              \
    X(SCHEDULER_JOB_COMPLETED, "scheduler_job_completed")                                          \
    X(SCHEDULER_HEALTH_SNAPSHOT, "scheduler_health_snapshot")                                      \
    X(DEPENDENCY_READY, "dependency_ready")                                                        \
    X(READY_ENQUEUED, "ready_enqueued")                                                            \
    X(ROW_GROUP_ADMITTED, "row_group_admitted")                                                    \
    X(ROW_GROUP_ADMISSION_BLOCKED, "row_group_admission_blocked")                                  \
    X(ROW_GROUP_ADMISSION_TARGET_CHANGED, "row_group_admission_target_changed")                    \
    X(ROW_GROUP_CHECKPOINTED, "row_group_checkpointed")                                            \
    X(SELECTED, "selected")                                                                        \
    X(QUEUE_EMPTY, "queue_empty")                                                                  \
    X(ADMISSION_BLOCKED, "admission_blocked")                                                      \
    X(GROUP_CAPPED, "group_capped")                                                                \
    X(REQUEST_PRESSURE_ADVISORY_SKIPPED, "request_pressure_advisory_skipped")                      \
    X(TASK_LEASE_ACQUIRED, "task_lease_acquired")                                                  \
    X(ADMISSION_DENIED, "admission_denied")                                                        \
    X(WORKER_SPAWNED, "worker_spawned")                                                            \
    X(WORKER_SPAWN_FAILED, "worker_spawn_failed")                                                  \
    X(STALE_SELECTION, "stale_selection")                                                          \
    X(RETRY_DEFERRED, "retry_deferred")                                                            \
    X(NON_RETRYABLE_DROPPED, "non_retryable_dropped")                                              \
    X(CANCELLED, "cancelled")                                                                      \
    X(SALVAGE_REDISPATCHED, "salvage_redispatched")                                                \
    X(QUEUE_DRAINED, "queue_drained")                                                              \
    X(TASK_COMPLETED, "task_completed")                                                            \
    X(TASK_LEASE_RELEASED, "task_lease_released")                                                  \
    X(RELEASE_DIAGNOSTIC, "release_diagnostic")

typedef enum admit_event_kind {
#define ADMIT_X_ENUM(sym, str) ADMIT_EV_##sym,
    ADMIT_SCHEDULER_EVENT_KINDS(ADMIT_X_ENUM)
#undef ADMIT_X_ENUM
        ADMIT_EV_KIND_COUNT
} admit_event_kind;

typedef enum admit_event_stream {
    ADMIT_STREAM_SCHEDULER = 0,
    ADMIT_STREAM_REQUEST
} admit_event_stream;

/* RuntimeCorrelation primitives, captured at build time. */
typedef struct admit_correlation {
    uint64_t run_id;
    int64_t row_group;  /* -1: none */
    int32_t column;     /* -1: none */
    int32_t task_type;  /* admit_task_type, -1: none */
    int32_t group;      /* task group id, -1: none */
    int32_t group_kind; /* admit_metadata_kind, -1: none */
    uint64_t group_identity_hash;
    uint64_t task_execution_id; /* 0: none */
} admit_correlation;

typedef struct admit_event {
    uint64_t sequence;
    int64_t captured_at_ns;
    uint16_t stream;  /* admit_event_stream */
    uint16_t kind;    /* admit_event_kind for the scheduler stream */
    int32_t reason;   /* deny/release reason or worker outcome, kind-specific; -1: none */
    int32_t resource; /* scheduler resource id, -1: none */
    uint64_t task_id;
    uint64_t lease_id;
    int64_t value; /* kind-specific count (queued tasks, target, round ...) */
    admit_correlation corr;
} admit_event;

/* Called once per event, in sequence order.  Must not call back into the
** scheduler that emitted it. */
typedef void (*admit_event_sink_fn)(void *ctx, const admit_event *event);

typedef struct admit_event_sink {
    admit_event_sink_fn fn; /* NULL: events are counted, not delivered */
    void *ctx;
} admit_event_sink;

const char *admit_event_kind_name(admit_event_kind kind);

#endif
