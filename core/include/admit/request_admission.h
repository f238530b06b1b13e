/*
** AdaptiveRequestAdmissionController: may this provider/model/domain request
** start now?  (SPEC §4)
**
** Admission of an item needs all of: the provider/model aggregate in-flight
** below its static cap, the domain in-flight below min(current_limit,
** effective_max), and the domain not cooling down.  A lease increments both
** in-flight counts before it is returned; release decrements them exactly
** once and admits waiters.
**
** Waiters queue in a RequestFairQueue per provider/model: virtual-time
** weighted fair ordering across request groups sharing the cap (a group's
** finish tag advances by 1/weight per admission); on equal tags the group
** whose head waited longest goes first, and within a group waiters are FIFO.
** An admission hands the lease to the waiter it selected and no other.
** try_acquire never jumps a queued waiter of the same resource.
**
** AIMD per request resource (AdaptiveRequestLimitState), on the controller's
** monotonic clock:
**   effective_max = min(static cap, max_limit_clamp if set);
**   initial = clamp(initial_limit or effective_max, 1, effective_max);
**   with a startup ramp the limit starts at 1 and is 1 + floor((initial-1) *
**   elapsed / ramp) until the ramp ends or a rate limit aborts it;
**   rate_limited: decrease to max(1, floor(current * md_factor)) only if the
**   lease was admitted at a limit <= current; remember the pre-decrease limit
**   as the soft ceiling on the first such event; always cool down for
**   retry_after (if > 0) else cooldown; reset the success streak;
**   success outside cooldown and after the ramp: every
**   successes_until_increase successes add ai_step, up to effective_max;
**   other outcomes return capacity and never count as pressure.
** Waiters wake on release, cooldown expiry (even with nothing in flight),
** limit increase, their queue-wait deadline, cancellation and shutdown.
** A waiter has timed out once now >= its deadline.  Every call first brings
** the state up to now as the tick would: it expires due waiters, applies
** due ramp steps of resources with waiters and admits, in fair order, the
** waiters that a cooldown end or ramp step has let in; only then does it
** admit, queue or deny anything.  So a release (or acquire) that runs
** before the tick of a deadline never admits past it, and an acquire that
** runs before the tick of a cooldown end or ramp step never goes before a
** waiter it let in.  shutdown, reset and destroy, which end every waiter,
** time out the due ones and admit none.
**
** Threads: with thread_safe set every call may come from any thread; state
** is under one mutex, acquire_sync blocks on a per-waiter condition variable
** with a timed wait to its earliest deadline (its own timeout, its
** resource's cooldown end or next ramp step), and never polls.  Without it,
** calls must come from one thread (an event loop, the simulator) and locking
** is skipped.  Event sinks and completions are never called with the mutex
** held; events reach the sink in sequence order.
**
** Timers: async waiters do not block, so deadlines (queue timeouts, cooldown
** ends, ramp steps) are driven by the caller: the controller asks wake_at(t)
** and the caller then calls admit_request_admission_tick().  Sync waiters
** need a clock that reads CLOCK_MONOTONIC (the default).
*/
#ifndef ADMIT_REQUEST_ADMISSION_H
#define ADMIT_REQUEST_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/error.h"
#include "admit/events.h"
#include "admit/request_resource.h"
#include "admit/task_admission.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum admit_request_outcome_kind {
    ADMIT_REQ_SUCCESS = 0,
    ADMIT_REQ_RATE_LIMITED,
    ADMIT_REQ_PROVIDER_FAILURE,
    ADMIT_REQ_PROVIDER_TIMEOUT,
    ADMIT_REQ_LOCAL_CANCELLED,
    ADMIT_REQ_LOCAL_TIMEOUT,
    ADMIT_REQ_UNEXPECTED_EXCEPTION,
    ADMIT_REQ_OUTCOME_COUNT
} admit_request_outcome_kind;

typedef struct admit_request_outcome {
    admit_request_outcome_kind kind;
    int64_t retry_after_ns; /* rate_limited only; <= 0: none (use the cooldown) */
} admit_request_outcome;

typedef enum admit_request_deny_reason {
    ADMIT_REQ_DENY_NONE = 0,
    ADMIT_REQ_DENY_NO_CAPACITY,
    ADMIT_REQ_DENY_COOLDOWN,
    ADMIT_REQ_DENY_QUEUE_TIMEOUT,
    ADMIT_REQ_DENY_QUEUED_WAITERS_AHEAD,
    ADMIT_REQ_DENY_CANCELLATION,
    ADMIT_REQ_DENY_SHUTDOWN,
    ADMIT_REQ_DENY_HARD_POLICY,
    ADMIT_REQ_DENY_REASON_COUNT
} admit_request_deny_reason;

/* RequestAdmissionDenied.  A snapshot is available from
** admit_request_admission_snapshot(). */
typedef struct admit_request_denied {
    admit_request_deny_reason reason;
    int64_t retry_after_ns;     /* time left in the resource's cooldown; < 0: not cooling */
    int64_t available_after_ns; /* when that cooldown ends; < 0: not cooling */
} admit_request_denied;

typedef struct admit_request_lease {
    uint64_t lease_id; /* 0 = no lease */
    uint32_t slot;
    uint32_t generation;
} admit_request_lease;

/* RequestEventContext: the task's correlation plus the attempt id, copied
** into every request event of the attempt. */
typedef struct admit_request_context {
    admit_correlation corr;
    uint64_t task_id;    /* 0: none */
    uint64_t attempt_id; /* 0: none */
} admit_request_context;

#define ADMIT_REQ_GROUP_DEFAULT   (-1)
#define ADMIT_REQ_TIMEOUT_DEFAULT (-1)

typedef struct admit_request_item {
    uint32_t resource;             /* request resource id (the resolver's) */
    int32_t group;                 /* ADMIT_REQ_GROUP_DEFAULT: the resource's own group */
    int64_t queue_wait_timeout_ns; /* ADMIT_REQ_TIMEOUT_DEFAULT: controller's; 0: none */
    admit_request_context ctx;
} admit_request_item;

typedef struct admit_aimd_config {
    double md_factor;                  /* (0, 1), default 0.75 */
    uint32_t ai_step;                  /* >= 1, default 1 */
    uint32_t successes_until_increase; /* >= 1, default 25 */
    int64_t cooldown_ns;               /* > 0, default 2 s */
    int64_t startup_ramp_ns;           /* >= 0, default 0 (no ramp), at most 1 h */
} admit_aimd_config;

void admit_aimd_config_init(admit_aimd_config *cfg);

/* The most a provider/model's static cap, an initial_limit or a
** max_limit_clamp may be: admit_request_admission_create refuses more. */
#define ADMIT_REQUEST_MAX_LIMIT 100000

typedef struct admit_request_resource_limits {
    uint32_t initial_limit;   /* 0: effective max; at most ADMIT_REQUEST_MAX_LIMIT */
    uint32_t max_limit_clamp; /* 0: none; at most ADMIT_REQUEST_MAX_LIMIT */
} admit_request_resource_limits;

typedef struct admit_request_admission_config {
    const admit_request_resolver *resolver;      /* read at create; may go away after */
    const admit_request_resource_limits *limits; /* [resource count] or NULL */
    admit_aimd_config aimd;
    int64_t queue_wait_timeout_ns; /* default for items; <= 0: none */
    uint32_t waiter_capacity;      /* preallocated waiters (grows on demand) */
    bool thread_safe;
    int64_t (*now)(void *ctx); /* NULL: CLOCK_MONOTONIC */
    void *clock_ctx;
    void (*wake_at)(void *ctx, int64_t at_ns); /* call tick() at or after at_ns; may be NULL */
    void *wake_ctx;
    admit_event_sink sink;
    uint64_t run_id;
} admit_request_admission_config;

void admit_request_admission_config_init(admit_request_admission_config *cfg);

typedef struct admit_request_admission admit_request_admission;

admit_request_admission *admit_request_admission_create(const admit_request_admission_config *cfg,
                                                        admit_error *err);
/* Waiters still queued are denied shutdown first (completions run). */
void admit_request_admission_destroy(admit_request_admission *c);

/* Adds a request group (RequestGroupSpec) on resource with weight >= 1 and
** returns its id; every resource already has group id == resource id with
** weight 1.  Returns -1 with err filled on bad input. */
int admit_request_admission_add_group(admit_request_admission *c, uint32_t resource, int weight,
                                      admit_error *err);

/* Admits now or denies (no_capacity, cooldown, queued_waiters_ahead,
** shutdown); never waits. */
bool admit_request_admission_try_acquire(admit_request_admission *c, const admit_request_item *item,
                                         admit_request_lease *lease, admit_request_denied *denied);

typedef struct admit_request_result {
    bool admitted;
    admit_request_lease lease; /* admitted: the caller now owns it */
    admit_request_denied denied;
    int64_t wait_started_ns;
    int64_t wait_completed_ns;
} admit_request_result;

typedef void (*admit_request_completion_fn)(void *ctx, const admit_request_result *result);

typedef enum admit_request_acquire_status {
    ADMIT_REQ_ADMITTED = 0, /* *result holds the lease; no completion call */
    ADMIT_REQ_QUEUED,       /* completion is called exactly once, later */
    ADMIT_REQ_DENIED        /* *result holds the denial; no completion call */
} admit_request_acquire_status;

/* Handle of a queued async waiter, for cancellation.  Generations start
** at 1: a zero-filled handle names no waiter. */
typedef struct admit_request_wait {
    uint32_t slot;
    uint32_t generation;
} admit_request_wait;

/* Event-driven acquire.  The completion runs later on whatever thread
** releases, ticks or cancels, never with the controller's mutex held.  It
** may call back into the controller but must not block (no acquire_sync):
** while it runs, that thread is delivering every other completion. */
admit_request_acquire_status
admit_request_admission_acquire_async(admit_request_admission *c, const admit_request_item *item,
                                      admit_request_completion_fn completion, void *completion_ctx,
                                      admit_request_result *result, admit_request_wait *wait);
/* Cancels a queued waiter: returns true and its completion reports denied
** "cancellation" (no lease exists).  Returns false when the waiter was
** already admitted: its completion delivers (or has delivered) the lease to
** the caller, who owns and releases it; a lease is never orphaned. */
bool admit_request_admission_cancel(admit_request_admission *c, admit_request_wait wait);

/* For acquire_sync callers: set from any thread by
** admit_request_admission_cancel_token(). */
typedef struct admit_request_cancel_token {
    volatile int cancelled; /* written under the controller's mutex */
} admit_request_cancel_token;

/* Blocking acquire for threaded callers (needs thread_safe).  true: *lease
** is the caller's; false: *denied says why (queue_timeout, cancellation,
** shutdown).  token may be NULL. */
bool admit_request_admission_acquire_sync(admit_request_admission *c,
                                          const admit_request_item *item,
                                          admit_request_cancel_token *token,
                                          admit_request_lease *lease, admit_request_denied *denied);
void admit_request_admission_cancel_token(admit_request_admission *c,
                                          admit_request_cancel_token *token);

/* Exactly once per lease; never fails loudly.  Only "released" returns
** capacity and feeds AIMD. */
admit_release_reason admit_request_admission_release(admit_request_admission *c,
                                                     admit_request_lease lease,
                                                     admit_request_outcome outcome);

/* Processes due deadlines: queue timeouts, cooldown ends, ramp steps. */
void admit_request_admission_tick(admit_request_admission *c);
/* Denies every queued waiter and every later acquire "shutdown"; releases
** still work. */
void admit_request_admission_shutdown(admit_request_admission *c);
/* Denies queued waiters "shutdown", drops every live lease, clears shutdown
** and starts a new generation: old leases release as
** wrong_controller_generation.  AIMD state and statistics are kept. */
void admit_request_admission_reset(admit_request_admission *c);
/* Changes a resource's max_limit_clamp (0: none) at runtime; emits
** request_effective_cap_changed when the effective max moves. */
void admit_request_admission_set_max_limit_clamp(admit_request_admission *c, uint32_t resource,
                                                 uint32_t clamp);
int64_t admit_request_admission_now(const admit_request_admission *c);

/* Emits an event in the request stream (the executor's model_request_*
** events); sequence and time are assigned here. */
void admit_request_admission_emit(admit_request_admission *c, admit_request_event_kind kind,
                                  uint32_t resource, const admit_request_context *ctx,
                                  uint64_t lease_id, int32_t reason, int64_t value);

/* Read-only pressure facts: pointers into the live state.  Only safe to read
** from the thread that drives a non-thread-safe controller (the ProviderAware
** policy reads it on the dispatch loop); threaded callers use snapshot().
** current_limit is the limit as the last call left it: during a startup
** ramp a step may be due that no call has applied yet, so read the limit
** in force with admit_request_pressure_limit(), which computes it (reading
** never changes the controller). */
typedef struct admit_request_pressure {
    uint32_t resource_count;
    uint32_t pm_count;
    const uint32_t *resource_pm;     /* [resource] */
    const uint32_t *in_flight;       /* [resource] */
    const uint32_t *current_limit;   /* [resource] */
    const uint32_t *effective_max;   /* [resource] */
    const int64_t *blocked_until_ns; /* [resource] */
    const uint32_t *waiters;         /* [resource] */
    const uint32_t *pm_in_flight;    /* [pm] */
    const uint32_t *pm_cap;          /* [pm] */
    const uint32_t *pm_waiters;      /* [pm] */
    /* The startup ramp; ramping NULL: no resource ramps. */
    const uint32_t *initial_limit; /* [resource]: where the ramp ends */
    const int64_t *ramp_start_ns;  /* [resource] */
    const bool *ramping;           /* [resource] */
    int64_t startup_ramp_ns;
} admit_request_pressure;

const admit_request_pressure *admit_request_admission_pressure(const admit_request_admission *c);
/* The limit admissions of resource are held to at now_ns: min(current
** limit, effective max), counting a startup ramp step due by now_ns that
** no call has applied yet (1 + floor((initial - 1) * elapsed / ramp)); 0
** for an unknown resource. */
uint32_t admit_request_pressure_limit(const admit_request_pressure *p, uint32_t resource,
                                      int64_t now_ns);
/* Under pressure: aggregate cap full, cooling down, waiters queued, or
** in-flight at the limit in force at now_ns (admit_request_pressure_limit). */
bool admit_request_pressure_is_pressured(const admit_request_pressure *p, uint32_t resource,
                                         int64_t now_ns);

typedef struct admit_request_resource_snapshot {
    uint32_t in_flight;
    uint32_t current_limit;
    uint32_t effective_max;
    uint32_t initial_limit;
    uint32_t min_limit;
    uint32_t max_in_flight;
    uint32_t waiters;
    uint32_t max_waiters;
    uint32_t pm_in_flight;
    uint32_t pm_cap;
    uint32_t pm_max_in_flight;   /* the provider/model aggregate's most at once */
    uint32_t rate_limit_ceiling; /* 0: none remembered */
    uint32_t consecutive_rate_limits;
    bool ramping;
    int64_t blocked_until_ns;
    int64_t cooldown_total_ns; /* sum of cooldown windows set, overlaps merged */
    uint64_t leases;
    uint64_t released;
    uint64_t outcomes[ADMIT_REQ_OUTCOME_COUNT];
    uint64_t denied[ADMIT_REQ_DENY_REASON_COUNT];
    uint64_t limit_decreases;
    uint64_t limit_increases;
} admit_request_resource_snapshot;

void admit_request_admission_snapshot(admit_request_admission *c, uint32_t resource,
                                      admit_request_resource_snapshot *out);

typedef struct admit_request_admission_stats {
    uint64_t leases_acquired;
    uint64_t leases_active;
    uint64_t waiters_queued; /* now */
    uint64_t release_reasons[ADMIT_RELEASE_REASON_COUNT];
    uint64_t outcomes[ADMIT_REQ_OUTCOME_COUNT];
    uint64_t denied[ADMIT_REQ_DENY_REASON_COUNT];
    uint64_t events_emitted;
} admit_request_admission_stats;

void admit_request_admission_stats_get(admit_request_admission *c,
                                       admit_request_admission_stats *out);

const char *admit_request_outcome_name(admit_request_outcome_kind k);
const char *admit_request_deny_reason_name(admit_request_deny_reason r);

#ifdef __cplusplus
}
#endif

#endif
