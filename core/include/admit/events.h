/*
** The scheduler and request event streams (SPEC §5).
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

#ifdef __cplusplus
extern "C" {
#endif

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

#define ADMIT_REQUEST_EVENT_KINDS(X)                                                               \
    X(REQUEST_RESOURCE_REGISTERED, "request_resource_registered")                                  \
    X(REQUEST_EFFECTIVE_CAP_CHANGED, "request_effective_cap_changed")                              \
    X(REQUEST_QUEUE_FORMED, "request_queue_formed")                                                \
    X(REQUEST_WAIT_STARTED, "request_wait_started")                                                \
    X(REQUEST_WAIT_COMPLETED, "request_wait_completed")                                            \
    X(REQUEST_WAIT_TIMEOUT, "request_wait_timeout")                                                \
    X(REQUEST_WAIT_CANCELLED, "request_wait_cancelled")                                            \
    X(REQUEST_ACQUIRE_DENIED, "request_acquire_denied")                                            \
    X(REQUEST_LEASE_ACQUIRED, "request_lease_acquired")                                            \
    X(MODEL_REQUEST_STARTED, "model_request_started")                                              \
    X(MODEL_REQUEST_COMPLETED, "model_request_completed")                                          \
    X(REQUEST_QUEUE_DRAINED, "request_queue_drained")                                              \
    X(REQUEST_RATE_LIMITED, "request_rate_limited")                                                \
    X(REQUEST_LIMIT_DECREASED, "request_limit_decreased")                                          \
    X(REQUEST_LIMIT_INCREASED, "request_limit_increased")                                          \
    X(REQUEST_SOFT_CEILING_RECOVERED, "request_soft_ceiling_recovered")                            \
    X(REQUEST_FULLY_RECOVERED, "request_fully_recovered")                                          \
    X(REQUEST_LEASE_RELEASED, "request_lease_released")                                            \
    X(REQUEST_RELEASE_DIAGNOSTIC, "request_release_diagnostic")

typedef enum admit_event_kind {
#define ADMIT_X_ENUM(sym, str) ADMIT_EV_##sym,
    ADMIT_SCHEDULER_EVENT_KINDS(ADMIT_X_ENUM)
#undef ADMIT_X_ENUM
        ADMIT_EV_KIND_COUNT
} admit_event_kind;

typedef enum admit_request_event_kind {
#define ADMIT_X_ENUM(sym, str) ADMIT_REV_##sym,
    ADMIT_REQUEST_EVENT_KINDS(ADMIT_X_ENUM)
#undef ADMIT_X_ENUM
        ADMIT_REV_KIND_COUNT
} admit_request_event_kind;

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

/* One event of either stream.  Scheduler stream: kind is an
** admit_event_kind, resource a scheduler resource id, lease_id a task lease.
** Request stream: kind is an admit_request_event_kind, resource a request
** resource id, lease_id a request lease, attempt_id the request attempt, and
** reason an admit_request_deny_reason, admit_request_outcome_kind or
** admit_release_reason depending on the kind. */
typedef struct admit_event {
    uint64_t sequence; /* per stream */
    int64_t captured_at_ns;
    uint16_t stream;  /* admit_event_stream */
    uint16_t kind;    /* admit_event_kind or admit_request_event_kind */
    int32_t reason;   /* kind-specific; -1: none */
    int32_t resource; /* -1: none */
    uint64_t task_id;
    uint64_t lease_id;
    uint64_t attempt_id; /* request stream only; 0: none */
    int64_t value;       /* kind-specific (queued tasks, new limit, wait ns, for
                         ** request_rate_limited the ns of cooldown now in force ...) */
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
const char *admit_request_event_kind_name(admit_request_event_kind kind);
/* The kind's name in whichever stream the event belongs to. */
const char *admit_event_name(const admit_event *event);

#ifdef __cplusplus
}
#endif

#endif
