/*
** The metrics of a run iteration in one flat namespace (SPEC §10), each
** with its direction, shared by `ab`, `check`, `sweep` and the reports.
**
** Names:
**   run level     wall_time_seconds, throughput_records_per_second (records
**                 done / wall time), time_to_first_record_seconds,
**                 time_to_50pct_records_seconds, row_completion_p95_seconds,
**                 jain_fairness_index, ready_idle_gap_max_seconds,
**                 ready_idle_gap_total_seconds, active_capacity_fraction,
**                 slot_utilization, first_downstream_ready_seconds,
**                 first_downstream_dispatch_seconds,
**                 root_over_admission_debt_lease_seconds,
**                 hidden_scheduler_resource_waiters,
**                 downstream_ready_to_dispatch_p95_seconds, final_task_leases,
**                 final_request_leases, final_request_waiters
**   group.<column>.   first_wait_seconds, wait_mean_seconds,
**                 wait_p50_seconds, wait_p95_seconds, wait_p99_seconds,
**                 wait_max_seconds, idle_seconds, tasks
**   request.<provider/model/domain>.   attempts, leases, not_admitted,
**                 rate_limited, request_wait_mean/p50/p95/max_seconds,
**                 in_flight_mean, cooldown_seconds,
**                 utilization_while_others_cooling (only when defined)
**   provider.<name>.busy_fraction
**   resource.<scheduler resource>.   ready_idle_gap_max_seconds,
**                 jain_fairness_index (when defined)
** A figure that is undefined for the run (null in its JSON) is absent.
**
** Directions: lower is better for times, waits and counts of trouble
** (rate_limited, not_admitted, leases or waiters left, hidden waiters,
** over-admission debt); higher for throughput, Jain's index and utilisation
** while others cool.  Busy time is not progress: slot_utilization,
** active_capacity_fraction, busy_fraction, in-flight means, idle seconds and
** counts of tasks, attempts and leases have no direction (reported, never
** judged).
**
** The metrics are read off the summary object `run --format json` prints
** (res_summary_to_json), so the output of another admitsim build reads the
** same way.
*/
#ifndef RES_METRICS_H
#define RES_METRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "res/compare.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RES_METRIC_NAME_MAX 256

typedef struct res_metric {
    char name[RES_METRIC_NAME_MAX];
    double value;
} res_metric;

typedef struct res_metric_set {
    size_t count, cap;
    res_metric *m;
} res_metric_set;

/* Appends the metrics of one iteration's summary object; false on out of
** memory.  Free with res_metric_set_free. */
bool res_metrics_from_summary(const json_t *summary, res_metric_set *out);
void res_metric_set_free(res_metric_set *s);
/* Appends one metric (a host figure, say); false on out of memory. */
bool res_metric_set_add(res_metric_set *s, const char *name, double value);
/* NULL when absent. */
const res_metric *res_metric_find(const res_metric_set *s, const char *name);

/* The flat name (in out) of a figure the results store keeps as (scope,
** name) in its metrics table (res/store.h): scope "run" names are flat
** names, but the correlated view's hidden waiters ("correlated_hidden_waiters")
** are hidden_scheduler_resource_waiters; "group:<column>",
** "request:<provider/model/domain>", "provider:<name>" and
** "resource:<scheduler resource>" become group.<column>.<name>, ...  False
** for a stored figure outside the flat namespace (task_seconds, dispatches,
** in_flight_max, request limits, limiting layers, the scheduler's own count
** of hidden waiters, ...) or a name too long for out. */
bool res_metric_name_of_stored(const char *scope, const char *name, char *out, size_t size);

/* False for the flat metrics the results store does not keep, so a stored
** run lacks them: throughput_records_per_second (records done are not
** stored), downstream_ready_to_dispatch_p95_seconds and
** group.<column>.wait_p99_seconds. */
bool res_metric_is_stored(const char *name);

res_direction res_metric_direction(const char *name);

/* True for the headline metrics (reported first): run-level times and
** throughput, group wait p95s, Jain's index, the longest ready-idle gap,
** request wait p95s and rate limits, utilisation while others cool. */
bool res_metric_is_headline(const char *name);

#ifdef __cplusplus
}
#endif

#endif
