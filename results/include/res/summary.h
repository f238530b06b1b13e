/*
** Per-run summary figures computed from a run record: wall time, slot
** utilization, and per column the dispatch waits (dispatch time - ready
** time, in dispatch order), their percentiles (res/stats.h) and idle time;
** the request stage's figures (res/request_stats.h); and the run's
** CorrelatedRuntimeView.
*/
#ifndef RES_SUMMARY_H
#define RES_SUMMARY_H

#include <jansson.h>
#include <stdint.h>

#include "res/correlated_view.h"
#include "res/request_stats.h"
#include "res/run_record.h"

typedef struct res_column_summary {
    const char *column;
    uint64_t tasks;
    uint64_t dispatches;
    double first_wait_seconds; /* < 0: never dispatched */
    double wait_mean_seconds;
    double wait_p50_seconds;
    double wait_p95_seconds;
    double wait_p99_seconds;
    double wait_max_seconds;
    double idle_seconds;
    double busy_task_seconds;
} res_column_summary;

typedef struct res_summary {
    double wall_time_seconds;
    double slot_utilization;
    double task_seconds;
    /* p95 over executions of non-root columns of task_lease_acquired -
    ** ready_enqueued (the heavy-root gate's "downstream ready-to-dispatch
    ** gap"); < 0 when no such execution has both. */
    double downstream_ready_to_dispatch_p95;
    uint64_t final_task_leases;
    uint32_t column_count;
    res_column_summary *columns;
    /* The run's CorrelatedRuntimeView and its facts, built once here for
    ** every report of the run (JSON, store, Markdown, CSV); NULL when the
    ** run captured no events. */
    res_view_facts *facts;
    res_correlated_view *view;
    res_request_report *request; /* the request stage's figures */
} res_summary;

/* Needs a record with both event streams.  Returns NULL on out of memory. */
res_summary *res_summary_compute(const res_run_record *run);
void res_summary_free(res_summary *s);

/* The `admitsim run --format json` object (also the artifact's derived
** metrics per iteration).  New reference. */
json_t *res_summary_to_json(const res_summary *s, const res_run_record *run);

#endif
