#include "res/event_names.h"

#include "admit/request_admission.h"
#include "admit/resources.h"
#include "admit/scheduler.h"
#include "admit/task_admission.h"

static const char *request_reason_name(const admit_event *ev) {
    switch (ev->kind) {
    case ADMIT_REV_REQUEST_LEASE_RELEASED:
    case ADMIT_REV_MODEL_REQUEST_COMPLETED:
    case ADMIT_REV_REQUEST_RATE_LIMITED:
        return admit_request_outcome_name((admit_request_outcome_kind)ev->reason);
    case ADMIT_REV_REQUEST_RELEASE_DIAGNOSTIC:
        return admit_release_reason_name((admit_release_reason)ev->reason);
    default: return admit_request_deny_reason_name((admit_request_deny_reason)ev->reason);
    }
}

const char *res_event_reason_name(const admit_event *ev) {
    if (ev->reason < 0) return NULL;
    if (ev->stream == ADMIT_STREAM_REQUEST) return request_reason_name(ev);
    switch (ev->kind) {
    case ADMIT_EV_ADMISSION_DENIED:
    case ADMIT_EV_REQUEST_PRESSURE_ADVISORY_SKIPPED:
        return admit_deny_reason_name((admit_deny_reason)ev->reason);
    case ADMIT_EV_TASK_LEASE_RELEASED:
    case ADMIT_EV_RELEASE_DIAGNOSTIC:
        return admit_release_reason_name((admit_release_reason)ev->reason);
    case ADMIT_EV_SCHEDULER_JOB_COMPLETED:
        return admit_job_status_name((admit_job_status)ev->reason);
    case ADMIT_EV_WORKER_SPAWN_FAILED: return "spawn_failed";
    default: return admit_worker_outcome_name((admit_worker_outcome)ev->reason);
    }
}

bool res_event_is_lifecycle(const admit_event *ev) {
    if (ev->stream == ADMIT_STREAM_REQUEST) switch ((admit_request_event_kind)ev->kind) {
        case ADMIT_REV_REQUEST_WAIT_STARTED:
        case ADMIT_REV_REQUEST_WAIT_COMPLETED:
        case ADMIT_REV_REQUEST_LEASE_ACQUIRED:
        case ADMIT_REV_MODEL_REQUEST_STARTED:
        case ADMIT_REV_MODEL_REQUEST_COMPLETED:
        case ADMIT_REV_REQUEST_LEASE_RELEASED: return true;
        default: return false;
        }
    switch ((admit_event_kind)ev->kind) {
    case ADMIT_EV_DEPENDENCY_READY:
    case ADMIT_EV_READY_ENQUEUED:
    case ADMIT_EV_SELECTED:
    case ADMIT_EV_TASK_LEASE_ACQUIRED:
    case ADMIT_EV_WORKER_SPAWNED:
    case ADMIT_EV_TASK_COMPLETED:
    case ADMIT_EV_TASK_LEASE_RELEASED: return true;
    default: return false;
    }
}
