/*
** The results store's reader: the questions the read commands ask of a
** results database (res/store.h writes it), answered as typed rows.
**
** A run list, one run, its iterations, its events (in capture order or in
** stream order, filtered by stream, kinds and resource), its task
** timelines, its metrics (rows, or mean/min/max per metric) and its final
** snapshots; the experiments (schema 6; none in an older database), one
** experiment and its runs.  Lists come as cursors that step one row at a time, so a run of
** millions of events is never loaded whole; any number of cursors of one
** reader may be open at once.
**
** Lifetimes.  The strings of a row belong to the reader and stay valid
** until the cursor steps again or is closed (for res_store_reader_run,
** res_store_reader_iteration and res_store_reader_experiment: until the
** next call of the same function or res_store_reader_close).  A cursor must be closed before its
*reader.
**
** Errors.  Functions return RES_OK or the error's code (res/error.h) and
** fill err (when not NULL) with the code and a message naming the database
** file; a cursor's step returns RES_CURSOR_ROW, RES_CURSOR_DONE or
** RES_CURSOR_ERROR (then err says why).  Nothing exits.  A reader is not
** thread-safe: one thread at a time per reader.
*/
#ifndef RES_STORE_READER_H
#define RES_STORE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "res/error.h"
#include "res/store_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct res_store_reader res_store_reader;
typedef struct res_store_cursor res_store_cursor;

/* A column that may be NULL. */
typedef struct res_opt_int {
    int64_t value;
    bool set;
} res_opt_int;

typedef struct res_opt_real {
    double value;
    bool set;
} res_opt_real;

/* Whether a run's writer is alive, seen from this process. */
typedef enum res_run_writer {
    RES_RUN_WRITER_ALIVE,
    RES_RUN_WRITER_GONE,
    RES_RUN_WRITER_UNKNOWN /* not recorded, or on another host or pid namespace */
} res_run_writer;

/* A run (table runs) and what its stored iterations add up to. */
typedef struct res_run_row {
    int64_t run_id;
    const char *scenario_id;
    int64_t scenario_version;
    const char *scenario_file; /* NULL when not stored */
    const char *policy;
    int64_t seed;       /* as stored: a uint64_t in two's complement */
    int64_t iterations; /* requested */
    const char *harness_version;
    const char *command_line; /* NULL when not stored */
    const char *created_at;   /* UTC, ISO 8601 */
    const char *finished_at;  /* NULL until the run completed */
    const char *status;       /* as stored: running, complete, failed, abandoned */
    int64_t iterations_stored;
    res_opt_real wall_time_mean; /* over the stored iterations, seconds */
    /* The process writing the run (schema 5; NULL/unset before), and when
    ** it last wrote. */
    const char *writer_host;
    res_opt_int writer_pid;
    const char *writer_instance; /* boot id, pid namespace, start time */
    const char *heartbeat_at;    /* UTC */
    /* status as it is now: "abandoned" for a run stored as running whose
    ** writer is gone (killed, crashed, an earlier boot), else status */
    const char *state;
    res_run_writer writer;
    /* The experiment the run belongs to (schema 6; unset/NULL when none),
    ** its arm and its parameters (a JSON object). */
    res_opt_int experiment_id;
    const char *arm;
    const char *parameters;
} res_run_row;

/* An experiment (table experiments, schema 6) and what its runs add up to. */
typedef struct res_experiment_row {
    int64_t experiment_id;
    const char *kind; /* ab, sweep or search */
    const char *scenario_id;
    const char *scenario_file;                /* NULL when not stored */
    const char *name;                         /* NULL when not stored */
    const char *baseline_arm, *candidate_arm; /* NULL when none */
    int64_t seeds;
    const char *harness_version;
    const char *command_line; /* NULL when not stored */
    const char *created_at;   /* UTC, ISO 8601 */
    const char *finished_at;  /* NULL until it ended */
    const char *status;       /* as stored: running, complete, failed, abandoned */
    const char *result_json;  /* its verdict; NULL until it ended */
    int64_t runs;             /* runs stored under it */
    int64_t runs_complete;
    int64_t arms; /* distinct (arm, parameters) among its runs */
    const char *writer_host;
    res_opt_int writer_pid;
    const char *writer_instance;
    const char *heartbeat_at;
    /* status as it is now ("abandoned" when stored as running and its
    ** writer is gone) */
    const char *state;
    res_run_writer writer;
} res_experiment_row;

/* A run of an experiment. */
typedef struct res_experiment_run_row {
    int64_t run_id;
    const char *arm;        /* NULL when none */
    int64_t seed;           /* as stored */
    const char *parameters; /* a JSON object, NULL when none */
    const char *status;     /* as stored */
    const char *state;      /* as it is now (abandoned: its writer is gone) */
    int64_t iterations;     /* requested */
    int64_t iterations_stored;
} res_experiment_run_row;

typedef struct res_iteration_row {
    int64_t run_id;
    int64_t iteration;
    const char *status; /* the job status */
    double wall_time_seconds;
    int64_t final_task_leases, final_request_leases, final_request_waiters;
    const char *output_hash;   /* 16 hex digits */
    res_opt_int event_count;   /* the events the iteration made */
    res_opt_int events_stored; /* its events rows (unset before schema version 8) */
} res_iteration_row;

typedef struct res_event_row {
    int64_t iteration;
    const char *stream; /* "scheduler" or "request" */
    int64_t sequence;   /* per stream */
    const char *kind;
    int64_t captured_at_ns;
    res_opt_int task_id, execution_id, task_lease_id, request_attempt_id, request_lease_id;
    const char *resource; /* NULL when none */
    const char *reason;   /* NULL when none */
    res_opt_int value, row_group;
    const char *column_name; /* NULL when none */
} res_event_row;

typedef enum res_event_order {
    /* per iteration: capture time, the scheduler stream first at one
    ** instant, then sequence (how the run saw them) */
    RES_EVENTS_CAPTURE_ORDER = 0,
    /* per iteration: the request stream, then the scheduler stream, each
    ** in sequence order */
    RES_EVENTS_STREAM_ORDER
} res_event_order;

#define RES_ALL_ITERATIONS (-1)

typedef struct res_event_query {
    int64_t run_id;
    int64_t iteration;        /* or RES_ALL_ITERATIONS */
    const char *stream;       /* "scheduler", "request", or NULL for both */
    const char *const *kinds; /* NULL-terminated kind names, or NULL for every kind */
    const char *resource;     /* only events of this resource, or NULL */
    res_event_order order;
    /* An iteration stored with only its notable events (`--store-events
    ** notable`, the default) has its lifecycle events rebuilt from
    ** task_timelines and request_attempts (store_lifecycle.h says how
    ** exactly); false: the events stored, as stored. */
    bool rebuild_lifecycle;
} res_event_query;

/* The thirteen SPEC §5 timestamps of a task timeline, in SPEC order. */
enum { RES_TIMELINE_STAMPS = 13 };
extern const char *const res_timeline_stamp_names[RES_TIMELINE_STAMPS];

/* One task execution of the correlated view (table task_timelines). */
typedef struct res_timeline_row {
    int64_t iteration;
    int64_t task_execution_id, task_id;
    const char *column_name; /* NULL when unknown */
    res_opt_int row_group, worker_attempt;
    const char *end_state; /* completed, cancelled, dropped, deferred, running */
    int64_t attempts, rate_limited_attempts;
    res_opt_int at[RES_TIMELINE_STAMPS]; /* virtual ns; unset when absent */
    int64_t request_wait_ns, cooldown_wait_ns, provider_ns;
} res_timeline_row;

typedef struct res_metric_row {
    int64_t iteration;
    const char *scope; /* run, group:<column>, request:<key>, ... */
    const char *name;
    res_opt_real value;
} res_metric_row;

/* One metric over a run's iterations. */
typedef struct res_metric_stats_row {
    const char *scope;
    const char *name;
    double mean, min, max; /* over the iterations that have a value */
    int64_t count;         /* iterations that carry the metric */
} res_metric_stats_row;

typedef struct res_snapshot_row {
    int64_t iteration;
    const char *kind; /* final_task or final_request */
    const char *json;
} res_snapshot_row;

/* Opens the results database at path for reading, read-only: it never
** migrates the database or changes its journal mode, and reads one in a
** directory it cannot write.  Fails with RES_ENOTFOUND (no file),
** RES_EFOREIGN (another program's database, or an empty one), RES_ETOOOLD
** (below RES_STORE_READ_MIN_VERSION: `admitsim migrate` upgrades it),
** RES_ETOONEW, RES_ENOMEM or RES_ESTORE; then *out is NULL. */
res_status res_store_reader_open(const char *path, res_store_reader **out, res_error *err);
void res_store_reader_close(res_store_reader *r);
int res_store_reader_schema_version(const res_store_reader *r);

/* One run, or RES_ENOTFOUND ("<path>: no run N"). */
res_status res_store_reader_run(res_store_reader *r, int64_t run_id, res_run_row *row,
                                res_error *err);
/* One stored iteration of a run, or RES_ENOTFOUND. */
res_status res_store_reader_iteration(res_store_reader *r, int64_t run_id, int64_t iteration,
                                      res_iteration_row *row, res_error *err);

/* Cursors.  Each opens *out (NULL on failure). */
/* Every run, by run id. */
res_status res_store_reader_runs(res_store_reader *r, res_store_cursor **out, res_error *err);
/* A run's stored iterations, in order. */
res_status res_store_reader_iterations(res_store_reader *r, int64_t run_id, res_store_cursor **out,
                                       res_error *err);
/* How many lifecycle events iteration `iteration` of run_id made that its
** store can give back neither as rows nor rebuilt (rebuild_lifecycle) from
** task_timelines and request_attempts, into *missing: 0 for an iteration
** stored with every event; for one stored with the notable events only,
** those made less those the timelines and attempts hold (a task queued but
** never given a worker, a lease of a stale selection, an execution's
** earlier selection).  A reader that rebuilds them gives an incomplete
** stream when it is not 0. */
res_status res_store_reader_lifecycle_shortfall(res_store_reader *r, int64_t run_id,
                                                int64_t iteration, uint64_t *missing,
                                                res_error *err);
/* The events q selects, in q->order (iterations ascending). */
res_status res_store_reader_events(res_store_reader *r, const res_event_query *q,
                                   res_store_cursor **out, res_error *err);
/* The task timelines of one iteration (or RES_ALL_ITERATIONS), by
** iteration and task execution id. */
res_status res_store_reader_timelines(res_store_reader *r, int64_t run_id, int64_t iteration,
                                      res_store_cursor **out, res_error *err);
/* A run's metrics of one iteration (or RES_ALL_ITERATIONS) whose scope
** starts with scope_prefix (NULL: every scope), by iteration, in the order
** they were stored. */
res_status res_store_reader_metrics(res_store_reader *r, int64_t run_id, int64_t iteration,
                                    const char *scope_prefix, res_store_cursor **out,
                                    res_error *err);
/* Each metric of a run over its iterations: scope "run" first, then by
** scope, within a scope in the order stored. */
res_status res_store_reader_metric_stats(res_store_reader *r, int64_t run_id,
                                         res_store_cursor **out, res_error *err);
/* Every experiment, by id (none before schema 6). */
res_status res_store_reader_experiments(res_store_reader *r, res_store_cursor **out,
                                        res_error *err);
/* One experiment, or RES_ENOTFOUND ("<path>: no experiment N"). */
res_status res_store_reader_experiment(res_store_reader *r, int64_t experiment_id,
                                       res_experiment_row *row, res_error *err);
/* An experiment's runs in (arm, seed) order (then by run id). */
res_status res_store_reader_experiment_runs(res_store_reader *r, int64_t experiment_id,
                                            res_store_cursor **out, res_error *err);
/* A run's final snapshots, by iteration and kind. */
res_status res_store_reader_snapshots(res_store_reader *r, int64_t run_id, res_store_cursor **out,
                                      res_error *err);
/* Each stored iteration's AsyncCapacityPlan (SPEC section 6) as JSON, read
** with res_store_cursor_next_snapshot (kind "capacity_plan"), by iteration. */
res_status res_store_reader_capacity_plans(res_store_reader *r, int64_t run_id,
                                           res_store_cursor **out, res_error *err);

/* What a cursor's step gives. */
typedef enum res_cursor_step {
    RES_CURSOR_ERROR = -1, /* err says why */
    RES_CURSOR_DONE = 0,   /* no more rows */
    RES_CURSOR_ROW = 1     /* *row is filled */
} res_cursor_step;

/* Steps a cursor of the matching kind (another kind is an error). */
res_cursor_step res_store_cursor_next_run(res_store_cursor *c, res_run_row *row, res_error *err);
res_cursor_step res_store_cursor_next_iteration(res_store_cursor *c, res_iteration_row *row,
                                                res_error *err);
res_cursor_step res_store_cursor_next_event(res_store_cursor *c, res_event_row *row,
                                            res_error *err);
res_cursor_step res_store_cursor_next_timeline(res_store_cursor *c, res_timeline_row *row,
                                               res_error *err);
res_cursor_step res_store_cursor_next_metric(res_store_cursor *c, res_metric_row *row,
                                             res_error *err);
res_cursor_step res_store_cursor_next_metric_stats(res_store_cursor *c, res_metric_stats_row *row,
                                                   res_error *err);
res_cursor_step res_store_cursor_next_snapshot(res_store_cursor *c, res_snapshot_row *row,
                                               res_error *err);
res_cursor_step res_store_cursor_next_experiment(res_store_cursor *c, res_experiment_row *row,
                                                 res_error *err);
res_cursor_step res_store_cursor_next_experiment_run(res_store_cursor *c,
                                                     res_experiment_run_row *row, res_error *err);
void res_store_cursor_close(res_store_cursor *c);

#ifdef __cplusplus
}
#endif

#endif
