/*
** TaskAdmissionController and TaskAdmissionPolicy: may this ready task become
** a running worker now?
**
** The controller owns the hard ledger (limit, leased per resource, leased per
** group and resource, running count per group) and the policy's debt.  A task
** is denied no_capacity if any requested amount exceeds availability; else
** the policy decides.  Policies are pure: evaluate() has no side effects and
** on_acquire()/on_release() return deltas the controller applies together
** with the ledger change.  Debt never changes hard availability.
**
** Leases: each carries a unique id, the task, its resources, the acquire time
** and the controller generation.  Release never fails loudly; only the
** "released" outcome returns capacity, so capacity is returned exactly once.
** Not thread-safe: the dispatcher and worker completions run on one loop.
*/
#ifndef ADMIT_TASK_ADMISSION_H
#define ADMIT_TASK_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/error.h"
#include "admit/fair_queue.h"
#include "admit/resources.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum admit_deny_reason {
    ADMIT_DENY_NONE = 0,
    ADMIT_DENY_NO_CAPACITY,
    ADMIT_DENY_GROUP_CAP,
    ADMIT_DENY_BORROW_DEBT,
    ADMIT_DENY_SHUTDOWN,
    ADMIT_DENY_POLICY,
    ADMIT_DENY_REASON_COUNT
} admit_deny_reason;

typedef enum admit_release_reason {
    ADMIT_RELEASE_RELEASED = 0,
    ADMIT_RELEASE_DUPLICATE,
    ADMIT_RELEASE_STALE_LEASE,
    ADMIT_RELEASE_WRONG_GENERATION,
    ADMIT_RELEASE_UNKNOWN_LEASE,
    ADMIT_RELEASE_REASON_COUNT
} admit_release_reason;

typedef struct admit_task_lease {
    uint64_t lease_id; /* 0 = no lease */
    uint32_t slot;
    uint32_t generation;
} admit_task_lease;

/* TaskAdmissionView: read-only pointers into the controller's ledger. */
typedef struct admit_admission_view {
    uint32_t resource_count;
    uint32_t group_count;
    const uint32_t *limits;           /* [r] */
    const uint32_t *leased;           /* [r] */
    const uint32_t *leased_by_group;  /* [g * resource_count + r] */
    const uint32_t *running_by_group; /* [g] */
    const uint32_t *debt;             /* [g * resource_count + r] */
    const uint32_t *max_leased;       /* [r]: the most ever leased at once */
    const admit_group_spec *groups;
    uint64_t leases_active;
    bool shutdown;
} admit_admission_view;

typedef struct admit_policy_decision {
    bool allowed;
    admit_deny_reason reason;
    int64_t available_after_ns; /* < 0: none */
    int32_t deny_resource;      /* resource that decided a denial, or -1 */
    uint32_t strict_share;      /* share computed for deny_resource */
    bool advisory;              /* policy_denial that only steers: request-pressure skip */
    uint8_t borrow_count;       /* debts to add on acquire */
    uint16_t borrow_resource[ADMIT_MAX_TASK_RESOURCES];
    uint32_t borrow_amount[ADMIT_MAX_TASK_RESOURCES];
} admit_policy_decision;

typedef struct admit_policy_delta {
    uint8_t count;
    uint16_t resource[ADMIT_MAX_TASK_RESOURCES];
    int64_t debt_change[ADMIT_MAX_TASK_RESOURCES];
} admit_policy_delta;

/* Policy ownership, one rule for every create that takes a policy
** (admit_task_admission_create, admit_scheduler_create): the policy belongs
** to the object being created from the call on, whether the call succeeds
** or fails.  On failure the create has already called policy.destroy(ctx)
** (when set); on success the object calls it when it is destroyed.  The
** caller never destroys a policy it has handed over.  The policy
** constructors (admit_policy_bounded_borrow, admit_policy_provider_aware)
** fill *out only on success, so on their failure there is nothing to own. */
typedef struct admit_task_policy {
    const char *name;
    void *ctx;
    void (*evaluate)(void *ctx, const admit_task *task, const admit_queue_view *qview,
                     const admit_admission_view *aview, admit_policy_decision *out);
    void (*on_acquire)(void *ctx, const admit_task *task, const admit_policy_decision *decision,
                       admit_policy_delta *out);
    void (*on_release)(void *ctx, const admit_task *task, admit_policy_delta *out);
    void (*destroy)(void *ctx);
    /* evaluate reads nothing but its arguments (no clock, no outside state),
    ** so the controller may reuse a decision for the same task while
    ** neither the queue (its view's queue_id and version) nor the ledger
    ** changed: is_eligible then try_acquire evaluate once.  StrictFair and
    ** BoundedBorrow set it; false (a zeroed policy) re-evaluates every time. */
    bool pure;
} admit_task_policy;

typedef enum admit_share_rounding { ADMIT_SHARE_CEIL = 0, ADMIT_SHARE_FLOOR } admit_share_rounding;

typedef struct admit_borrow_ceiling {
    uint32_t group;
    uint16_t resource;
    uint32_t ceiling;
} admit_borrow_ceiling;

typedef struct admit_bounded_borrow_config {
    const admit_borrow_ceiling *ceilings; /* explicit per (group, resource) */
    uint32_t ceiling_count;
    int64_t default_ceiling;     /* < 0: none, use the dynamic ceiling */
    double reserve_fraction;     /* [0, 1], default 0.0 */
    uint32_t max_reserved_slots; /* > 0, default 8 */
    admit_share_rounding rounding;
} admit_bounded_borrow_config;

void admit_bounded_borrow_config_init(admit_bounded_borrow_config *cfg);

/* StrictFair: allow unless the group has an admitted limit, its running count
** is at that limit, and there is peer pressure on one of its fair resources. */
void admit_policy_strict_fair(admit_task_policy *out);

/* BoundedBorrow (SPEC §3).  Copies cfg; destroy via policy->destroy. */
admit_status admit_policy_bounded_borrow(const admit_bounded_borrow_config *cfg,
                                         admit_task_policy *out, admit_error *err);

/* The shared definitions the policies use, exposed for diagnostics and tests. */
bool admit_policy_is_hard_eligible(const admit_task *task, const admit_admission_view *aview);
bool admit_policy_is_peer_pressured(const admit_task *task, uint16_t resource,
                                    const admit_queue_view *qview,
                                    const admit_admission_view *aview);
uint32_t admit_policy_strict_share(const admit_task *task, uint16_t resource,
                                   const admit_queue_view *qview, const admit_admission_view *aview,
                                   admit_share_rounding rounding);

typedef struct admit_task_admission admit_task_admission;

typedef struct admit_task_admission_config {
    const admit_group_spec *groups; /* must outlive the controller */
    uint32_t group_count;
    uint32_t resource_count;
    const uint32_t *limits;   /* [resource_count]; copied */
    admit_task_policy policy; /* the controller's from create on ("Policy ownership") */
} admit_task_admission_config;

typedef struct admit_block_summary {
    uint64_t queued_count;
    uint32_t reason_counts[ADMIT_DENY_REASON_COUNT];
    int64_t earliest_available_after_ns; /* < 0: none */
} admit_block_summary;

admit_task_admission *admit_task_admission_create(const admit_task_admission_config *cfg,
                                                  admit_error *err);
void admit_task_admission_destroy(admit_task_admission *c);

/* Hard availability, then the policy.  out may be NULL. */
bool admit_task_admission_is_eligible(admit_task_admission *c, const admit_task *task,
                                      const admit_queue_view *qview, admit_policy_decision *out);
/* On success writes *lease and returns true; on denial fills *decision. */
bool admit_task_admission_try_acquire(admit_task_admission *c, const admit_task *task,
                                      const admit_queue_view *qview, int64_t now_ns,
                                      admit_task_lease *lease, admit_policy_decision *decision);
admit_release_reason admit_task_admission_release(admit_task_admission *c, admit_task_lease lease);
/* The task a live lease belongs to, or NULL. */
const admit_task *admit_task_admission_lease_task(const admit_task_admission *c,
                                                  admit_task_lease lease);
const admit_admission_view *admit_task_admission_view(const admit_task_admission *c);
void admit_task_admission_explain_blocked(admit_task_admission *c, const admit_queue_view *qview,
                                          admit_block_summary *out);
/* After shutdown every try_acquire is denied "shutdown"; releases still work. */
void admit_task_admission_shutdown(admit_task_admission *c);
/* Drops every live lease and all debt, clears shutdown and starts a new
** generation: leases of the old generation release as
** wrong_controller_generation.  Statistics keep counting across resets. */
void admit_task_admission_reset(admit_task_admission *c);

typedef struct admit_task_admission_stats {
    uint64_t acquired;
    uint64_t released;
    uint64_t release_reasons[ADMIT_RELEASE_REASON_COUNT];
    uint64_t denied[ADMIT_DENY_REASON_COUNT];
    uint32_t max_leased_submission;
} admit_task_admission_stats;
void admit_task_admission_stats_get(const admit_task_admission *c, admit_task_admission_stats *out);

const char *admit_deny_reason_name(admit_deny_reason r);
const char *admit_release_reason_name(admit_release_reason r);

#ifdef __cplusplus
}
#endif

#endif
