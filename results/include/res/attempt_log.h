/*
** The request attempts of one run: one row per executor attempt (SPEC §5
** request attempt id), holding what its six lifecycle events of the
** request stream said -- request_wait_started, request_wait_completed,
** request_lease_acquired, model_request_started, model_request_completed,
** request_lease_released -- so that a store that keeps only the notable
** events (res/run_record.h) can still give every reader those events:
** their times, their per-stream sequences, the lease, the outcome, and the
** in-flight count the two lease events carry.  Built from the request
** stream as it comes (in sequence order), like the summary.
**
** Attempt ids are numbered by the executor from 1 in creation order, so a
** row is found by its id (rows[id - 1]); an id never seen has
** attempt_id 0.  Times are ns on the run clock, -1 when the event never
** came.
*/
#ifndef RES_ATTEMPT_LOG_H
#define RES_ATTEMPT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admit/events.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The six lifecycle kinds of one attempt, in the order they happen. */
typedef enum res_attempt_stamp {
    RES_ATTEMPT_WAIT_STARTED = 0,
    RES_ATTEMPT_WAIT_COMPLETED,
    RES_ATTEMPT_LEASE_ACQUIRED,
    RES_ATTEMPT_MODEL_STARTED,
    RES_ATTEMPT_MODEL_COMPLETED,
    RES_ATTEMPT_LEASE_RELEASED,
    RES_ATTEMPT_STAMPS
} res_attempt_stamp;

typedef struct res_attempt_row {
    uint64_t attempt_id;                                   /* 0: no such attempt */
    uint64_t task_execution_id, task_id, request_lease_id; /* 0: none */
    int32_t resource;                                      /* request resource id, -1: none */
    int32_t outcome;   /* admit_request_outcome_kind of the call (else of the release), -1 */
    bool rate_limited; /* a request_rate_limited named the attempt */
    int64_t at[RES_ATTEMPT_STAMPS];                 /* ns, -1: absent */
    uint64_t sequence[RES_ATTEMPT_STAMPS];          /* request stream sequence of each */
    int64_t in_flight_acquired, in_flight_released; /* the lease events' values */
} res_attempt_row;

typedef struct res_attempt_log {
    res_attempt_row *rows; /* rows[attempt id - 1] */
    size_t count;          /* highest attempt id seen */
    size_t cap;
} res_attempt_log;

res_attempt_log *res_attempt_log_create(void);
void res_attempt_log_free(res_attempt_log *log);
/* Takes one event of the request stream (others and events of no attempt
** are ignored); false on out of memory. */
bool res_attempt_log_request_event(res_attempt_log *log, const admit_event *ev);

#ifdef __cplusplus
}
#endif

#endif
