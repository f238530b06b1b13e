/*
** ProviderAware task admission policy (SPEC §3, beyond V1).
**
** StrictFair, plus one advisory rule: a task whose group's request resource
** is under pressure (provider/model aggregate cap full, cooling down,
** waiters queued, or in-flight at the current limit) is denied
** policy_denial, marked advisory, while some other group's first candidate
** is eligible and not under pressure.  Without such a peer the task is
** allowed, so the rule never leaves task capacity idle.  Its purpose: keep
** provider B busy while provider A cools down.
**
** The policy only reads the request controller's live pressure view; it
** never mutates request admission.  The view must be read on the thread
** that drives both the scheduler and the (non-thread-safe) request
** controller.
*/
#ifndef ADMIT_PROVIDER_AWARE_H
#define ADMIT_PROVIDER_AWARE_H

#include <stdint.h>

#include "admit/error.h"
#include "admit/request_admission.h"
#include "admit/task_admission.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct admit_provider_aware_config {
    const admit_request_pressure *pressure; /* must outlive the policy */
    const int32_t *group_request_resource;  /* [group_count]: request resource id or -1; copied */
    uint32_t group_count;
    int64_t (*now)(void *ctx); /* the request controller's clock */
    void *clock_ctx;
} admit_provider_aware_config;

admit_status admit_policy_provider_aware(const admit_provider_aware_config *cfg,
                                         admit_task_policy *out, admit_error *err);

#ifdef __cplusplus
}
#endif

#endif
