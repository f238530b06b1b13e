/* String names for enums and the stable task id encoding. */
#include "admit/events.h"
#include "admit/metadata.h"
#include "admit/resources.h"
#include "admit/runtime.h"
#include "admit/scheduler.h"
#include "admit/task_admission.h"

uint64_t admit_task_id(uint32_t column, admit_task_type type, int64_t row_group, int64_t row) {
    uint64_t index = (uint64_t)(row >= 0 ? row : row_group) & ((1ULL << 40) - 1);
    return ((uint64_t)(column + 1) << 44) | ((uint64_t)type << 40) | index;
}

const char *admit_task_type_name(admit_task_type type) {
    static const char *names[] = {"from_scratch", "cell", "batch", "pre_batch_processor",
                                  "post_batch_processor"};
    return (unsigned)type < sizeof names / sizeof *names ? names[type] : "unknown";
}

const char *admit_metadata_kind_name(admit_metadata_kind kind) {
    static const char *names[] = {"local", "model", "custom_model"};
    return (unsigned)kind < sizeof names / sizeof *names ? names[kind] : "unknown";
}

const char *admit_event_kind_name(admit_event_kind kind) {
    static const char *names[] = {
#define ADMIT_X_NAME(sym, str) str,
        ADMIT_SCHEDULER_EVENT_KINDS(ADMIT_X_NAME)
#undef ADMIT_X_NAME
    };
    return (unsigned)kind < ADMIT_EV_KIND_COUNT ? names[kind] : "unknown";
}

const char *admit_request_event_kind_name(admit_request_event_kind kind) {
    static const char *names[] = {
#define ADMIT_X_NAME(sym, str) str,
        ADMIT_REQUEST_EVENT_KINDS(ADMIT_X_NAME)
#undef ADMIT_X_NAME
    };
    return (unsigned)kind < ADMIT_REV_KIND_COUNT ? names[kind] : "unknown";
}

const char *admit_event_name(const admit_event *event) {
    return event->stream == ADMIT_STREAM_REQUEST
               ? admit_request_event_kind_name((admit_request_event_kind)event->kind)
               : admit_event_kind_name((admit_event_kind)event->kind);
}

const char *admit_deny_reason_name(admit_deny_reason r) {
    static const char *names[] = {"none",        "no_capacity", "group_cap",
                                  "borrow_debt", "shutdown",    "policy_denial"};
    return (unsigned)r < ADMIT_DENY_REASON_COUNT ? names[r] : "unknown";
}

const char *admit_release_reason_name(admit_release_reason r) {
    static const char *names[] = {"released", "duplicate", "stale_lease",
                                  "wrong_controller_generation", "unknown_lease"};
    return (unsigned)r < ADMIT_RELEASE_REASON_COUNT ? names[r] : "unknown";
}

const char *admit_worker_outcome_name(admit_worker_outcome o) {
    static const char *names[] = {"success", "retryable_failure", "non_retryable_failure",
                                  "cancelled"};
    return (unsigned)o < ADMIT_WORKER_OUTCOME_COUNT ? names[o] : "unknown";
}

const char *admit_job_status_name(admit_job_status st) {
    static const char *names[] = {"not_started",    "running",   "completed",
                                  "early_shutdown", "cancelled", "failed"};
    return (unsigned)st <= ADMIT_JOB_FAILED ? names[st] : "unknown";
}

const char *admit_metadata_error_code_name(admit_metadata_error_code code) {
    static const char *names[] = {"ok", "invalid_kind", "empty_identity", "invalid_weight"};
    return (unsigned)code <= ADMIT_META_INVALID_WEIGHT ? names[code] : "unknown";
}
