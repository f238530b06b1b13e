/*
** CorrelatedRuntimeView (SPEC §5) and the derived metrics of SPEC §9.
**
** res_correlated_view_build joins the scheduler stream and the request
** stream of one run into one row per task execution (a worker_spawned event;
** executions that never got a worker, e.g. spawn failures, have no row) and
** computes the derived metrics.  It is a pure function of the two streams
** (each in its own sequence order) and the static facts in res_view_facts, so
** hand-built streams test it.  Times are ns on the run clock; -1 = absent.
**
** Joining.  Scheduler events dependency_ready, ready_enqueued, selected and
** task_lease_acquired carry no execution id: they belong to the task, and an
** execution takes the task's LATEST such event before its worker_spawned
** (so a retried or salvaged task's second execution gets the enqueue that
** preceded it, never the first one's); the lease must carry the same lease
** id as worker_spawned.  Per-task state is reset at each worker_spawned, so an
** execution with no fresh dependency_ready/ready_enqueued shows -1.  Later
** scheduler events (task_completed, cancelled, retry_deferred,
** non_retryable_dropped, task_lease_released) carry the execution id.
** Request events carry corr.task_execution_id and the attempt id; attempts
** are ordered by attempt id (the executor numbers them in creation order).
** request_wait_started_at, request_wait_completed_at,
** request_lease_acquired_at and model_request_started_at come from the
** execution's FIRST attempt (lowest attempt id); model_request_completed_at
** and request_lease_released_at from its LAST attempt (highest attempt id).
**
** Derived metrics (seconds unless stated), per group (task group, keyed by
** the group spec key) and overall, over rows that have both endpoints:
**   ready_queue_wait     = selected_at - ready_enqueued_at
**   task_admission_wait  = task_lease_acquired_at - selected_at
**   ready_to_lease_gap   = task_lease_acquired_at - ready_enqueued_at
**   each as n / mean / p50 / p95 / max (pXX: res/stats.h).
** A sweep over the scheduler stream keeps: active task leases (per group and
** total; +1 task_lease_acquired, -1 task_lease_released whose reason is
** released or absent, any lease id; a duplicate or stale release returned
** nothing and is ignored, also as the execution's release time), and
** queued tasks (per group; a task is queued from ready_enqueued until its
** worker_spawned / worker_spawn_failed / non_retryable_dropped, and every
** queued task is cleared at queue_empty, queue_drained,
** scheduler_job_completed and at a task_lease_released that directly
** follows a cancelled of the same execution (no retry between: the
** scheduler is stopping and has emptied its queue).  Tasks discarded from
** the queue by a row drop emit no event of their own, so they count as
** queued until the next of those; an approximation that only matters on
** failure paths).
**   ready_idle_gap: a gap is a maximal interval during which queued > 0,
**     active leases < submission capacity, and no task_lease_acquired
**     happens (an acquisition ends one gap and may start the next).
**     Reported as the longest gap and the total, overall and per group (per
**     group: queued of that group > 0, total leases < capacity, no lease
**     acquired by that group).
**   ready_idle_gap per scheduler resource r (facts.resources; the groups'
**     requests are facts.group_amounts, since task_lease_acquired names no
**     amounts): the requesters of r are the groups whose tasks request
**     amount_g(r) > 0; leased(r) = sum over groups of active leases_g *
**     amount_g(r); need(r) = the smallest amount_g(r) over requesters with
**     queued_g > 0 (none: no gap).  A gap of r is a maximal interval during
**     which need(r) exists, limit_r - leased(r) >= need(r) (a queued
**     requester's task would fit in r; with unit amounts: leased(r) <
**     limit_r), and no task_lease_acquired of a requester happens (an
**     acquisition ends one gap and may start the next).  Only r's own
**     capacity counts: a queued task that fits in r but not in another of
**     its resources still makes a gap of r, so comparing the resources shows
**     which one holds work back.  With unit submission amounts and every
**     group requesting it, the gap of "submission" equals the overall one.
**   active_capacity_integral = integral of active leases / capacity dt over
**     the run (seconds), and the same divided by the wall time (fraction;
**     null when the run took no time).
**   jain_fairness_index: over the time during which every participating
**     group (one with any ready_enqueued) has queued > 0 ("all backlogged"),
**     x_g = integral of group leases dt / weight_g; J = (sum x)^2 /
**     (n * sum x^2).  Undefined (null) with < 2 groups or no such time.
**   jain_fairness_index per scheduler resource r: the same over the
**     participating groups that request r (amount_g(r) > 0) and the time
**     during which every one of them has queued > 0; x_g = integral of group
**     leases dt / weight_g as above (task leases, not units of r: the queue
**     is fair in tasks, so unequal amounts do not count as unfairness).
**     Undefined (null) when fewer than 2 participating groups request r,
**     when they are never all backlogged, or when none of them held a lease
**     then.  all_backlogged_seconds is reported with it (for a single
**     requester: the time it is backlogged; for none: 0).
**   hidden_scheduler_resource_waiters = executions whose worker_spawned
**     has no task_lease_acquired of the same task with the same lease id
**     at or before it (since the task's previous worker_spawned): must be 0.
** Capacity (overall and per-group metrics) is the submission resource's
** limit and every task lease counts as one unit of it; the per-resource
** metrics use facts.resources[r].limit and the groups' amounts instead.  The
** build is linear in events, tasks and rows (results/src/correlated_view.c
** gives the cost exactly).
**   first_downstream_ready / first_downstream_dispatch = the first
**     dependency_ready / task_lease_acquired of any non-root column
**     (a root column has no dependencies).
**   root_over_admission_debt (lease-seconds): from the first downstream-
**     ready instant, the integral over time of, summed over root groups g
**     (groups of root columns), max(0, leases_g - ceil(capacity * w_g /
**     W_active)), W_active = sum of weights of groups with queued or
**     running (leased) work at that time.
**   records: a record (row r) is done when every column covering r has
**     completed (task_completed) the task covering r (its cell, or its row
**     group's batch); done_at = the latest of those.  time_to_first_record
**     = min done_at; time_to_50pct_records = the ceil(records/2)-th smallest
**     done_at (null if fewer rows are done); row_completion_p95 = p95 over
**     done rows of done_at - row_group_admitted of the row's row group.
**   limiting layers per execution, from ready onward (the time inputs were
**     pending before dependency_ready is not in the streams): ready_queue
**     (ready_queue_wait), task_admission (task_admission_wait),
**     request_admission (sum over attempts of the wait: wait_started to
**     wait_completed, or to wait_timeout / wait_cancelled), cooldown (the
**     part of those waits that overlaps a cooldown window of the attempt's
**     resource: a request_rate_limited at t with value > 0 (the cooldown
**     then in force, i.e. the controller's blocked_until - t) opens [t, t +
**     value); with value <= 0 (streams from before that field) [t, t +
**     facts.cooldown_ns), which ignores retry-after; windows of one
**     resource merge, so the union is exactly the blocked time), provider
**     (sum over attempts of model_request_started..completed) and
**     local_other = task_lease_released - task_lease_acquired -
**     request_admission - provider, clamped at 0 (concurrent attempts of one
**     task can overlap).  Summed per group and overall, as seconds and as
**     fractions of ready_queue + task_admission + request_admission +
**     provider + local_other (cooldown is part of request_admission); the
**     fractions are null when that sum is 0 (a group that never ran).
*/
#ifndef RES_CORRELATED_VIEW_H
#define RES_CORRELATED_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admit/events.h"
#include "res/error.h"
#include "res/run_record.h"

/* The thirteen SPEC §5 timestamps, in SPEC order. */
typedef enum res_ts {
    RES_TS_DEPENDENCY_READY = 0,
    RES_TS_READY_ENQUEUED,
    RES_TS_SELECTED,
    RES_TS_TASK_LEASE_ACQUIRED,
    RES_TS_WORKER_SPAWNED,
    RES_TS_REQUEST_WAIT_STARTED,
    RES_TS_REQUEST_WAIT_COMPLETED,
    RES_TS_REQUEST_LEASE_ACQUIRED,
    RES_TS_MODEL_REQUEST_STARTED,
    RES_TS_MODEL_REQUEST_COMPLETED,
    RES_TS_REQUEST_LEASE_RELEASED,
    RES_TS_TASK_COMPLETED,
    RES_TS_TASK_LEASE_RELEASED,
    RES_TS_COUNT
} res_ts;

/* "dependency_ready_at" ... */
const char *res_ts_name(res_ts ts);

typedef enum res_exec_end {
    RES_END_NONE = 0, /* lease never released in the stream */
    RES_END_COMPLETED,
    RES_END_CANCELLED,
    RES_END_DROPPED,  /* non_retryable_dropped */
    RES_END_DEFERRED, /* retry_deferred: a later execution may follow */
} res_exec_end;

typedef struct res_view_row {
    uint64_t task_execution_id;
    uint64_t task_id;
    int32_t column;
    int32_t group;
    int64_t row_group;
    int64_t worker_attempt; /* worker_spawned value: 1 for the task's first execution */
    int64_t at[RES_TS_COUNT];
    uint32_t attempts;              /* request attempts of this execution */
    uint32_t rate_limited_attempts; /* attempts with a request_rate_limited */
    res_exec_end end;
    int64_t request_wait_ns; /* sum over attempts */
    int64_t cooldown_wait_ns;
    int64_t provider_ns;
} res_view_row;

typedef struct res_view_column {
    uint32_t group;
    bool root;         /* no dependencies */
    bool cell_by_cell; /* one task per row; else one per row group */
    int64_t rows;      /* rows covered from row 0; <= 0: all records */
} res_view_column;

typedef struct res_view_group {
    const char *name;
    int weight;
} res_view_group;

/* A scheduler resource (resource id = index; "submission" is id 0 in a run). */
typedef struct res_view_resource {
    const char *name;
    uint32_t limit;
} res_view_resource;

typedef struct res_view_facts {
    uint32_t submission_capacity;
    int64_t wall_ns; /* <= 0: the last scheduler event */
    int64_t records;
    int64_t buffer_size;
    int64_t cooldown_ns; /* fallback cooldown for request_rate_limited with value <= 0 */
    uint32_t column_count;
    const res_view_column *columns;
    uint32_t group_count;
    const res_view_group *groups;
    /* Scheduler resources for the per-resource metrics; 0: none computed. */
    uint32_t resource_count;
    const res_view_resource *resources;
    /* [group * resource_count + resource]: the amount of the resource each
    ** task of the group requests (0: not requested); NULL: nothing requested. */
    const uint32_t *group_amounts;
} res_view_facts;

typedef struct res_wait_stats {
    uint64_t n;
    double mean, p50, p95, max;
} res_wait_stats;

typedef struct res_layers {
    double ready_queue, task_admission, request_admission, cooldown, provider, local_other;
} res_layers;

typedef struct res_group_metrics {
    uint64_t executions;
    res_wait_stats ready_queue_wait, task_admission_wait, ready_to_lease_gap;
    double ready_idle_gap_max, ready_idle_gap_total;
    double lease_seconds;      /* integral of the group's leases */
    double backlogged_service; /* x_g of the fairness index */
    res_layers layers;
} res_group_metrics;

/* Per scheduler resource (facts.resources). */
typedef struct res_resource_metrics {
    double ready_idle_gap_max, ready_idle_gap_total;
    uint32_t fairness_group_count; /* participating groups requesting it */
    double jain_fairness_index;    /* < 0: undefined */
    double all_backlogged_seconds;
} res_resource_metrics;

typedef struct res_view_metrics {
    uint64_t executions;
    uint64_t spawn_failures;
    uint64_t hidden_scheduler_resource_waiters;
    res_wait_stats ready_queue_wait, task_admission_wait, ready_to_lease_gap;
    double ready_idle_gap_max, ready_idle_gap_total;
    double wall_seconds;
    double active_capacity_integral; /* seconds */
    double active_capacity_fraction; /* / wall; NaN (absent) when the wall is 0 */
    double jain_fairness_index;      /* < 0: undefined */
    double all_backlogged_seconds;
    double first_downstream_ready; /* < 0: none */
    double first_downstream_dispatch;
    double root_over_admission_debt; /* lease-seconds */
    uint64_t records, records_done;
    double time_to_first_record; /* < 0: none */
    double time_to_50pct_records;
    double row_completion_p95;
    /* p95 of ready_to_lease_gap (to >= from) over non-root columns'
    ** executions (the summary's downstream_ready_to_dispatch_p95; not in
    ** the view's JSON); < 0: none */
    double downstream_ready_to_lease_p95;
    res_layers layers;
    uint32_t group_count;
    res_group_metrics *groups;
    uint32_t resource_count;
    res_resource_metrics *resources;
    /* [resource * group_count + group]: x_g of that resource's fairness
    ** index; < 0 for groups outside it (not requesting it, or never ready). */
    double *resource_service;
} res_view_metrics;

struct res_spill;

typedef struct res_correlated_view {
    size_t row_count;
    res_view_row *rows; /* by task_execution_id; NULL from a builder not keeping rows */
    /* From a builder spilling rows (RES_VIEW_ROWS_SPILL) whose final rows
    ** passed res_spill_after() bytes: the rows as res_view_row records
    ** (res/spill.h: rewind, then next), those final then in row order, then
    ** each as it became final, then those still open at the end in row
    ** order; NULL otherwise (the rows are then in `rows`, or none). */
    struct res_spill *row_spill;
    res_view_metrics m;
} res_correlated_view;

/* NULL on out of memory. */
res_correlated_view *res_correlated_view_build(const admit_event *sched, size_t nsched,
                                               const admit_event *req, size_t nreq,
                                               const res_view_facts *facts);
void res_correlated_view_free(res_correlated_view *v);

/* What a builder does with the rows: keeps none (the metrics are the same),
** keeps them all (rows), or spills each once final (row_spill). */
typedef enum res_view_rows {
    RES_VIEW_ROWS_NONE = 0,
    RES_VIEW_ROWS_KEEP = 1,
    RES_VIEW_ROWS_SPILL = 2,
} res_view_rows;

/* The same view built while the run goes: a builder takes each stream's
** events in its own sequence order as they are made (the two streams may
** interleave in any way), keeps none of them, and finish gives exactly
** what res_correlated_view_build gives for the same streams (which is
** this builder fed from arrays).  facts must outlive the builder; its
** wall_ns is read only by finish, so it may be set once the run ended.
** The _event calls return false once memory ran out (finish then gives
** NULL).  finish and free consume the builder.  With RES_VIEW_ROWS_NONE
** the view keeps no rows (rows NULL; row_count counts them): during the
** run it keeps 40 bytes per execution of what the metrics read instead of
** a row (and, at finish, the request sums of each execution when any
** attempt was made), and the metrics are the same.  RES_VIEW_ROWS_SPILL
** keeps the same and, besides, the full rows: a row is final once an
** event later than its execution's task lease release comes (or at
** finish), when its execution's request attempts join it (found through a
** per-execution list: 8 bytes per execution id and per attempt id); final
** rows stay in memory until they pass res_spill_after() bytes, then they
** and every later final row go to the view's row_spill (a chunk of 1024
** full rows is freed once all its rows are spilled), so the full rows in
** memory follow the executions in flight.  A run whose final rows never
** pass the budget gets `rows` exactly as RES_VIEW_ROWS_KEEP gives them.
** Finality asks the two streams to come in one time order (as a run makes
** them; at one instant in any order): an event that would change a final
** row (its execution's end or release, any event of one of its attempts,
** a cooldown window that could overlap one of its waits, a second
** worker_spawned of its execution after its attempts joined it) fails
** finish (RES_ERUN, saying which), whatever the budget, as does a spill
** file that cannot be made or written (RES_EIO).  Either way a task's join state
** is freed with the rest of its chunk of 4096 tasks once they all
** finished (completed or dropped), so it follows the tasks in flight; 8
** bytes per task (its completion time; 16 with full rows) stay until
** finish.  finish sets err (NULL: not told) when it gives NULL. */
typedef struct res_view_builder res_view_builder;
res_view_builder *res_view_builder_create(const res_view_facts *facts, res_view_rows rows);
bool res_view_builder_scheduler_event(res_view_builder *vb, const admit_event *ev);
bool res_view_builder_request_event(res_view_builder *vb, const admit_event *ev);
res_correlated_view *res_view_builder_finish(res_view_builder *vb, res_error *err);
void res_view_builder_free(res_view_builder *vb);

/* The metrics as the "correlated" JSON object (in every
** res_summary_to_json object, hence `run --format json` and the artifact's
** derived_metrics.iterations[]): executions, spawn_failures,
** hidden_scheduler_resource_waiters, ready_queue_wait / task_admission_wait
** / ready_to_lease_gap {overall, groups}, ready_idle_gap {max_seconds,
** total_seconds, groups, resources: {<resource>: {max_seconds,
** total_seconds}}}, active_capacity_integral, fairness {jain_index,
** all_backlogged_seconds, groups, resources: {<resource>: {jain_index,
** groups: [participating requesters], all_backlogged_seconds,
** backlogged_service_per_weight}}} (every facts resource in both
** resources maps), first_downstream_ready_seconds,
** first_downstream_dispatch_seconds, root_over_admission_debt_lease_seconds,
** records, limiting_layers {overall, groups}.  Absent values are null.
** New reference. */
json_t *res_correlated_view_json(const res_correlated_view *v, const res_view_facts *facts);

/* The view's headline figures, in report order: where each sits in the
** res_correlated_view_json object (object, then field or NULL), its name in
** the results store's metrics (scope "run") and its label for people. */
typedef struct res_headline {
    const char *object, *field, *metric, *label;
} res_headline;
extern const res_headline res_correlated_headlines[];
extern const size_t res_correlated_headline_count;
/* The headline's value in cv (borrowed; NULL or JSON null when absent). */
json_t *res_correlated_headline_get(json_t *cv, const res_headline *h);

/* Facts of a run; free with res_view_facts_free. NULL on out of memory.
** The groups' resource requests come from the run's resolved column
** requests (res_run_record.column_resources). */
res_view_facts *res_view_facts_from_run(const res_run_record *run);
void res_view_facts_free(res_view_facts *f);

/* Builds the view of a run captured with capture_events and returns its
** JSON; JSON null when the run has no events or memory runs out. */
json_t *res_correlated_json(const res_run_record *run);

#endif
