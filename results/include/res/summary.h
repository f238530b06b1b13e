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
#include <stdbool.h>
#include <stdint.h>

#include "res/attempt_log.h"
#include "res/correlated_view.h"
#include "res/request_stats.h"
#include "res/run_record.h"

typedef struct res_column_summary {
    const char *column;
    uint64_t tasks;
    uint64_t dispatches;
    /* The figures over the column's dispatch waits: NaN (absent: null in
    ** JSON, "-" in tables, no row in the CSV or the store) when the column
    ** never dispatched, as there is then no wait to take them over. */
    double first_wait_seconds;
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
    double slot_utilization; /* NaN (absent) when the wall time is 0 */
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
    /* One row per request attempt (what the store keeps of the request
    ** stream's lifecycle events); NULL when the view keeps no rows. */
    res_attempt_log *attempts;
} res_summary;

/* Needs a record with both event streams.  Returns NULL on out of memory. */
res_summary *res_summary_compute(const res_run_record *run);

/* The same summary built while the run goes, so that no event need be
** kept: create once run's shape is known (res_run_record_shape_from_
** assembly), with view false for a run that builds no correlated view
** (as res_summary_compute for a record without events), rows saying
** what the view does with its rows (res_view_builder_create:
** RES_VIEW_ROWS_NONE for outputs that read no row, _SPILL to read them
** back from a file once the run ended); each scheduler and request event
** as it is made, each stream in sequence order (false once memory ran
** out); finish once run holds its end (wall time, counters, final
** snapshots, column task counts).  run must live until finish; finish
** (NULL, with err set when not NULL: out of memory, or what failed) and
** free consume the builder.
** res_summary_compute is this builder fed from the record's streams, so
** both give the same figures. */
typedef struct res_summary_builder res_summary_builder;
res_summary_builder *res_summary_builder_create(const res_run_record *run, bool view,
                                                res_view_rows rows);
bool res_summary_builder_scheduler_event(res_summary_builder *b, const admit_event *ev);
bool res_summary_builder_request_event(res_summary_builder *b, const admit_event *ev);
res_summary *res_summary_builder_finish(res_summary_builder *b, res_error *err);
void res_summary_builder_free(res_summary_builder *b);
void res_summary_free(res_summary *s);

/* The `admitsim run --format json` object (also the artifact's derived
** metrics per iteration).  New reference. */
json_t *res_summary_to_json(const res_summary *s, const res_run_record *run);

#endif
