/*
** Walking a task's request program: what every worker of a run does, in
** the simulator and in a live run alike.
**
** A worker's execution walks its column's program (run/config.h) step by
** step with the values its environment drew for it (`plan`: per step, a
** local step's duration in clock nanoseconds or a call step's call count):
**   a local step takes its duration (a timer);
**   a call step makes its calls one after another, each an attempt through
**     the model executor on the step's request resource and request group
**     (run/assembly.h), corr filled from the task;
**   a call that fails (not admitted, or any outcome but success) is tried
**     again after max(the column's backoff, the outcome's Retry-After) until
**     the column's retry.max_attempts attempts have failed; then the
**     execution ends ADMIT_WORKER_RETRYABLE_FAILURE (salvage takes over);
**   after the last step it ends with the outcome its environment drew.
** A cancelled execution cancels its attempt through the executor and ends
** ADMIT_WORKER_CANCELLED once the attempt has come back (at once when it
** has none).
**
** The environment supplies time and the scheduler's side through hooks:
**   timer(delay, slot, token)  call run_walkers_fire(slot, token) once
**                              delay_ns of clock time has passed; with 0,
**                              at this instant, after what is already due
**                              now (an event queue's order);
**   finish(w, id, outcome)     the execution is over: tell the scheduler
**                              (admit_scheduler_worker_finished or the
**                              runtime's equivalent).  Never called from
**                              inside a scheduler or executor call: an
**                              ending decided there (a call's completion, a
**                              cancel, a start inside spawn) waits for a
**                              timer of delay 0;
**   refused(why)               the executor refused an attempt: the run
**                              cannot go on (the walk of that worker stops).
** A timer the environment cannot set (out of memory) is the environment's
** to report; the walk waits for it forever.
**
** Slots and tokens: each execution has a slot; a slot's token changes when
** the execution moves on, ends or is cancelled, so a timer set before is
** stale and run_walkers_fire ignores it.  A slot is reused after its
** execution ends.
**
** Lifetime: the assembly and the hooks' context must outlive the walkers.
** Before destroying the assembly, call run_walkers_stop(): executor
** callbacks during teardown are then ignored.  Not thread-safe: every call
** on the thread that drives the scheduler.
*/
#ifndef RUN_PROGRAM_H
#define RUN_PROGRAM_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/error.h"
#include "admit/model_executor.h"
#include "admit/runtime.h"
#include "run/assembly.h"
#include "run/config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct run_walkers_hooks {
    void *ctx;
    void (*timer)(void *ctx, int64_t delay_ns, uint32_t slot, uint32_t token);
    void (*finish)(void *ctx, admit_worker *w, uint64_t execution_id, admit_worker_outcome outcome);
    void (*refused)(void *ctx, const admit_error *why);
} run_walkers_hooks;

/* One execution's walk.  Between run_walkers_add() and run_walkers_begin()
** the environment sets `plan` (to own_plan or to values that outlive the
** execution) and `outcome`; the rest is the walker's. */
typedef struct run_walk {
    const int64_t *plan;
    int64_t own_plan[RUN_MAX_STEPS];
    admit_worker_outcome outcome; /* the walk sets RETRYABLE_FAILURE or CANCELLED */
    admit_worker *w;              /* NULL: the slot is free */
    uint64_t execution_id;        /* as seen at the start */
    admit_model_attempt *attempt; /* the call in flight, if any */
    uint32_t token;
    uint32_t step, calls_left, call_failures;
    bool step_started, cancelled, finishing;
    uint32_t next_free;
} run_walk;

typedef struct run_walkers run_walkers;

/* NULL on out of memory.  Attempts carry run_id in their correlation. */
run_walkers *run_walkers_create(const run_assembly *a, uint64_t run_id,
                                const run_walkers_hooks *hooks);
void run_walkers_destroy(run_walkers *ws);

/* A slot for worker w's execution (w->runtime_data set to it), its plan and
** outcome to be filled in; NULL on out of memory.  The pointer is valid
** until the next run_walkers_add(). */
run_walk *run_walkers_add(run_walkers *ws, admit_worker *w);
/* Starts walking k.  inside_spawn: called within the runtime's spawn, so an
** execution that takes no time ends on a timer, after the scheduler has
** seen the spawn. */
void run_walkers_begin(run_walkers *ws, run_walk *k, bool inside_spawn);
/* Gives k's slot back without telling anyone (a spawn that failed after
** run_walkers_begin: its timers go stale, its attempt, if any, is the
** caller's to cancel). */
void run_walkers_discard(run_walkers *ws, run_walk *k);
/* A timer set through the hooks came due. */
void run_walkers_fire(run_walkers *ws, uint32_t slot, uint32_t token);
/* Asks w's execution to stop (the runtime's cancel); ignored when w has no
** walk here or its walk is already ending. */
void run_walkers_cancel(run_walkers *ws, admit_worker *w);
/* From now on executor callbacks and timers are ignored (teardown). */
void run_walkers_stop(run_walkers *ws);

#ifdef __cplusplus
}
#endif

#endif
