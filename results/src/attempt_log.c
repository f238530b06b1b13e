#include "res/attempt_log.h"

#include <stdlib.h>
#include <string.h>

#include "admit/request_admission.h"

res_attempt_log *res_attempt_log_create(void) {
    return calloc(1, sizeof(res_attempt_log));
}

void res_attempt_log_free(res_attempt_log *log) {
    if (!log) return;
    free(log->rows);
    free(log);
}

/* The row of attempt id (made when first seen), or NULL on out of memory
** (or an id no array of rows could reach). */
static res_attempt_row *row_of(res_attempt_log *log, uint64_t id) {
    if (id > log->cap) {
        size_t cap = log->cap ? log->cap : 256;
        while (cap < id) {
            if (cap > SIZE_MAX / 2 / sizeof(res_attempt_row)) return NULL;
            cap *= 2;
        }
        res_attempt_row *rows = realloc(log->rows, cap * sizeof *rows);
        if (!rows) return NULL;
        memset(rows + log->cap, 0, (cap - log->cap) * sizeof *rows);
        log->rows = rows;
        log->cap = cap;
    }
    res_attempt_row *r = &log->rows[id - 1];
    if (!r->attempt_id) {
        *r = (res_attempt_row){.attempt_id = id, .resource = -1, .outcome = -1};
        for (int s = 0; s < RES_ATTEMPT_STAMPS; s++)
            r->at[s] = -1;
    }
    if (id > log->count) log->count = (size_t)id;
    return r;
}

static int stamp_of(uint16_t kind) {
    switch ((admit_request_event_kind)kind) {
    case ADMIT_REV_REQUEST_WAIT_STARTED: return RES_ATTEMPT_WAIT_STARTED;
    case ADMIT_REV_REQUEST_WAIT_COMPLETED: return RES_ATTEMPT_WAIT_COMPLETED;
    case ADMIT_REV_REQUEST_LEASE_ACQUIRED: return RES_ATTEMPT_LEASE_ACQUIRED;
    case ADMIT_REV_MODEL_REQUEST_STARTED: return RES_ATTEMPT_MODEL_STARTED;
    case ADMIT_REV_MODEL_REQUEST_COMPLETED: return RES_ATTEMPT_MODEL_COMPLETED;
    case ADMIT_REV_REQUEST_LEASE_RELEASED: return RES_ATTEMPT_LEASE_RELEASED;
    default: return -1;
    }
}

bool res_attempt_log_request_event(res_attempt_log *log, const admit_event *ev) {
    if (ev->stream != ADMIT_STREAM_REQUEST || !ev->attempt_id) return true;
    int stamp = stamp_of(ev->kind);
    bool limited = ev->kind == ADMIT_REV_REQUEST_RATE_LIMITED;
    if (stamp < 0 && !limited) return true;
    res_attempt_row *r = row_of(log, ev->attempt_id);
    if (!r) return false;
    if (limited) {
        r->rate_limited = true;
        return true;
    }
    r->at[stamp] = ev->captured_at_ns;
    r->sequence[stamp] = ev->sequence;
    if (ev->corr.task_execution_id) r->task_execution_id = ev->corr.task_execution_id;
    if (ev->task_id) r->task_id = ev->task_id;
    if (ev->lease_id) r->request_lease_id = ev->lease_id;
    if (ev->resource >= 0) r->resource = ev->resource;
    if (stamp == RES_ATTEMPT_MODEL_COMPLETED ||
        (stamp == RES_ATTEMPT_LEASE_RELEASED && r->outcome < 0))
        r->outcome = ev->reason;
    if (stamp == RES_ATTEMPT_LEASE_ACQUIRED) r->in_flight_acquired = ev->value;
    if (stamp == RES_ATTEMPT_LEASE_RELEASED) r->in_flight_released = ev->value;
    return true;
}
