/*
** ModelRequestExecutor: one concrete outbound model-call attempt (SPEC §2).
**
**   lease   = request_admission.acquire_async(item)   may wait
**   outcome = provider.call(...)
**   request_admission.release(lease, outcome)         exactly once
**
** Every attempt, including each retry, is admitted and released on its own
** and gets its own attempt id; the caller's correlation is copied into the
** attempt's RequestEventContext.  A cancelled attempt that holds no lease
** reports "not admitted"; one that holds a lease has its call cancelled and
** its lease released as local_cancelled.  The done callback runs exactly
** once per attempt, after the lease (if any) is released.
**
** Single-threaded: all calls for one executor come from the thread that
** drives it (an event loop, the simulator).  Attempt records come from a
** free list, so steady state allocates nothing.
*/
#ifndef ADMIT_MODEL_EXECUTOR_H
#define ADMIT_MODEL_EXECUTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/error.h"
#include "admit/request_admission.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct admit_model_attempt admit_model_attempt;
typedef struct admit_model_executor admit_model_executor;

/* The provider boundary.  call() starts the outbound call and returns 0; the
** provider later calls admit_model_executor_call_finished() exactly once
** (never from inside call()).  Non-zero: the call never started; the lease is
** released as unexpected_exception.  cancel() asks an in-flight call to stop
** soon; it still finishes through call_finished (any outcome: the executor
** records local_cancelled). */
typedef struct admit_model_provider {
    void *ctx;
    int (*call)(void *ctx, admit_model_attempt *attempt);
    void (*cancel)(void *ctx, admit_model_attempt *attempt);
} admit_model_provider;

typedef struct admit_model_request {
    uint32_t resource;             /* request resource id */
    int32_t group;                 /* ADMIT_REQ_GROUP_DEFAULT or a request group id */
    int64_t queue_wait_timeout_ns; /* ADMIT_REQ_TIMEOUT_DEFAULT: the controller's */
    admit_correlation corr;
    uint64_t task_id;
    void *user; /* the caller's, handed back in the result */
} admit_model_request;

typedef struct admit_model_attempt_result {
    bool admitted; /* false: never held a lease; see denied */
    admit_request_outcome outcome;
    admit_request_denied denied;
    uint64_t attempt_id;
    uint64_t lease_id;
    uint32_t resource;
    void *user;
    int64_t wait_started_ns;
    int64_t wait_completed_ns; /* lease acquired or denied */
    int64_t call_started_ns;   /* < 0: not called */
    int64_t call_completed_ns; /* < 0: not called */
    int64_t released_ns;       /* < 0: no lease */
} admit_model_attempt_result;

typedef void (*admit_model_attempt_done_fn)(void *ctx, const admit_model_attempt_result *result);

admit_model_executor *admit_model_executor_create(admit_request_admission *admission,
                                                  const admit_model_provider *provider,
                                                  admit_error *err);
/* Every attempt must have finished first. */
void admit_model_executor_destroy(admit_model_executor *e);

/* Starts one attempt.  done runs exactly once, possibly before this returns
** (an immediate denial or a provider that cannot start).  *out (may be
** NULL) receives the attempt for cancellation; it stays valid until done
** has run. */
admit_status admit_model_executor_execute_attempt(admit_model_executor *e,
                                                  const admit_model_request *req,
                                                  admit_model_attempt_done_fn done, void *done_ctx,
                                                  admit_model_attempt **out, admit_error *err);
void admit_model_executor_cancel(admit_model_executor *e, admit_model_attempt *a);
/* The provider's answer for an attempt it was asked to call. */
void admit_model_executor_call_finished(admit_model_executor *e, admit_model_attempt *a,
                                        admit_request_outcome outcome);

uint64_t admit_model_attempt_id(const admit_model_attempt *a);
uint32_t admit_model_attempt_resource(const admit_model_attempt *a);
const admit_model_request *admit_model_attempt_request(const admit_model_attempt *a);
/* Free for the provider's own bookkeeping while the call is in flight. */
void *admit_model_attempt_provider_data(const admit_model_attempt *a);
void admit_model_attempt_set_provider_data(admit_model_attempt *a, void *data);

typedef struct admit_model_executor_stats {
    uint64_t attempts;
    uint64_t admitted;
    uint64_t not_admitted;
    uint64_t cancelled;
    uint64_t in_progress;
    uint64_t outcomes[ADMIT_REQ_OUTCOME_COUNT];
} admit_model_executor_stats;
void admit_model_executor_stats_get(const admit_model_executor *e, admit_model_executor_stats *out);

#ifdef __cplusplus
}
#endif

#endif
