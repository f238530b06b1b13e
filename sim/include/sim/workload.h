/*
** A scenario's workload: what each task execution does, drawn from the
** scenario's per-column GSL streams.
**
** For every task of the run, the first execution's program values (per
** step: a local step's duration in nanoseconds, or how many calls a call
** step makes) and its outcome are drawn up front, in task order, from the
** column's stream "column/<name>" (common random numbers: two arms see the
** same draws for the same task).  Later executions (retries, salvage) draw
** from "column/<name>/retry" in the order they run.  A column without a
** program is one local step of its `duration`.
**
** Used by the simulator's engine and by the live runtime (which runs the
** same workload on a real clock); it knows no clock, no engine and no
** provider.
*/
#ifndef SIM_WORKLOAD_H
#define SIM_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admit/runtime.h"
#include "admit/tracker.h"
#include "sim/scenario.h"

typedef struct sim_workload sim_workload;

/* Draws every task's first execution (the tracker's tasks, in order).  NULL
** on out of memory.  The scenario must outlive it. */
sim_workload *sim_workload_create(const sim_scenario *sc, admit_tracker *tracker, uint64_t seed,
                                  uint32_t iteration);
void sim_workload_free(sim_workload *w);

/* Steps of a column's program (1 for a column without one). */
uint32_t sim_workload_step_count(const run_column *col);
/* Task index's first execution: its step values (valid while w lives) and outcome. */
const int64_t *sim_workload_first(const sim_workload *w, size_t task_index,
                                  admit_worker_outcome *outcome);
/* A later execution of a task of column: its step values into
** plan[RUN_MAX_STEPS], drawn now from the column's retry stream. */
admit_worker_outcome sim_workload_draw_retry(sim_workload *w, uint32_t column, int64_t *plan);
/* Whether a duration drawn so far (first executions and retries) passed
** SIM_DIST_MAX_SECONDS, the limit of one duration, and was cut to it: the
** first such draw's column and value in seconds.  The simulator fails the
** run then (a tail draw of an unbounded distribution; the loader refuses
** one more likely than not to pass the limit). */
bool sim_workload_over_limit(const sim_workload *w, uint32_t *column, double *seconds);
/* The per-column seeds of the output hashes (res_run_record_hash_outputs):
** [column_count] values of sim_rng_stream_seed(seed, iteration, column name). */
const uint64_t *sim_workload_column_seeds(const sim_workload *w);

#endif
