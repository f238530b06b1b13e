/*
** CompletionTracker: which tasks have all their inputs done?
**
** Tracks a column DAG x row groups x rows.  cell_by_cell columns have one
** task per row, full_column columns one batch task per row group; columns
** without dependencies are roots and generate from scratch.  Readiness is
** counter-based and frontier-driven: completing a task touches only its
** dependents, so cost is proportional to the frontier, never to columns x
** rows.  Root tasks come out of the same frontier once their row group is
** admitted.  A column may carry an earliest ready time; tasks that become
** dependency-ready earlier wait in a time-ordered list until then.
**
** The tracker never enqueues: the scheduler pulls ready_frontier() and
** enqueues.  Every task ends exactly once, as done or dropped, unless the
** job is cancelled or shut down early (then running tasks stay running).
*/
#ifndef ADMIT_TRACKER_H
#define ADMIT_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admit/error.h"
#include "admit/resources.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum admit_column_strategy {
    ADMIT_CELL_BY_CELL = 0,
    ADMIT_FULL_COLUMN
} admit_column_strategy;

typedef struct admit_column_spec {
    const char *name;
    admit_column_strategy strategy;
    const uint32_t *deps; /* indices of earlier columns */
    uint32_t dep_count;
    int64_t rows;            /* rows this column covers, from row 0; <= 0: all records */
    int64_t available_at_ns; /* earliest ready time */
    uint32_t group;
    admit_resource_request resources;
} admit_column_spec;

typedef enum admit_task_state {
    ADMIT_TASK_PENDING = 0, /* waiting for inputs or row-group admission */
    ADMIT_TASK_TIMED,       /* inputs done, waiting for the column's ready time */
    ADMIT_TASK_READY,       /* in the frontier, not yet enqueued */
    ADMIT_TASK_QUEUED,
    ADMIT_TASK_RUNNING,
    ADMIT_TASK_DEFERRED, /* retryable failure, waiting for salvage */
    ADMIT_TASK_DONE,
    ADMIT_TASK_DROPPED
} admit_task_state;

typedef struct admit_tracker admit_tracker;

admit_tracker *admit_tracker_create(const admit_column_spec *columns, uint32_t column_count,
                                    int64_t records, int64_t buffer_size, admit_error *err);
void admit_tracker_destroy(admit_tracker *t);

int64_t admit_tracker_row_group_count(const admit_tracker *t);
size_t admit_tracker_task_count(const admit_tracker *t);
admit_task *admit_tracker_task(admit_tracker *t, size_t index);
size_t admit_tracker_task_index(const admit_tracker *t, const admit_task *task);
admit_task_state admit_tracker_state(const admit_tracker *t, const admit_task *task);
/* Tasks of a row group that are not yet done or dropped. */
uint64_t admit_tracker_row_group_remaining(const admit_tracker *t, int64_t row_group);
/* Row range [first, last) of a row group. */
void admit_tracker_row_group_rows(const admit_tracker *t, int64_t rg, int64_t *first,
                                  int64_t *last);

/* Makes the root tasks of rg ready (or timed). */
void admit_tracker_admit_row_group(admit_tracker *t, int64_t rg, int64_t now_ns);

/* Moves timed tasks whose time has come into the frontier, then returns the
** frontier (tasks that became ready since the last call, in the order they
** became ready).  The array stays valid until the next tracker call. */
size_t admit_tracker_ready_frontier(admit_tracker *t, int64_t now_ns, admit_task *const **out);
void admit_tracker_mark_enqueued(admit_tracker *t, admit_task *const *tasks, size_t n);
void admit_tracker_mark_running(admit_tracker *t, const admit_task *task);

/* Marks done and releases dependents.  Returns true and sets *rg when this
** completion finished its row group. */
bool admit_tracker_mark_complete(admit_tracker *t, const admit_task *task, int64_t *rg_done);
/* Retryable failure: the task waits for salvage. */
void admit_tracker_mark_deferred(admit_tracker *t, const admit_task *task);
/* Salvage: a deferred task goes back through the frontier. */
void admit_tracker_redispatch(admit_tracker *t, const admit_task *task);

/* Drops the rows a failed task covers: every task of those rows that is not
** running or finished is dropped.  Dropped tasks that were queued are
** written to *discard (caller removes them from the queue; capacity of
** discard must be >= column count x rows of one row group).  Returns how many.
** Row groups finished by the drop are written to *rg_done (same capacity
** rule: at most one) and counted in *rg_done_count. */
size_t admit_tracker_drop_rows(admit_tracker *t, const admit_task *failed,
                               const admit_task **discard, int64_t *rg_done, size_t *rg_done_count);

/* True when every row the task covers has been dropped (a cell's row, or
** all rows of a batch's row group): retrying it would produce nothing. */
bool admit_tracker_is_output_dropped(const admit_tracker *t, const admit_task *task);

/* Earliest time a timed task becomes ready; < 0 when none. */
int64_t admit_tracker_next_timed_at(const admit_tracker *t);
uint64_t admit_tracker_rows_dropped(const admit_tracker *t);
/* ADMIT_OK, or the error of the first task that could not be recorded as
** ready (out of memory): that task will never reach the frontier, so the
** job cannot finish.  err (may be NULL) receives code and message. */
admit_status admit_tracker_error(const admit_tracker *t, admit_error *err);

#ifdef __cplusplus
}
#endif

#endif
