/*
** The core's runtime seam (admit/runtime.h) on a live loop (live/loop.h).
**
**   now()        the loop's clock;
**   wake_at(t)   a loop timer at t; dispatch runs once after the batch of
**                timers due at that instant, so releases and arrivals due at
**                t are all seen by the dispatch at t; requests for the same
**                instant are coalesced;
**   spawn(w)     the worker starts from the loop, never inside spawn: the
**                caller's start hook runs at the current clock time;
**   cancel(w)    passed to the caller's cancel hook.
** Request admission's timer (request_wake_at) is a loop timer that calls
** admit_request_admission_tick().  A worker ends with live_runtime_finish(),
** which reports it to the scheduler from the loop (never from inside a
** caller's hook that the scheduler is running).
**
** After every batch the runtime checks whether the job has finished and
** then stops the uv loop; live_runtime_run() starts the job and runs the
** loop until then (or until live_runtime_stop()).
**
** Single-threaded like the scheduler: every call on the loop's thread.
*/
#ifndef LIVE_RUNTIME_H
#define LIVE_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/request_admission.h"
#include "admit/runtime.h"
#include "admit/scheduler.h"
#include "live/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct live_runtime live_runtime;

typedef struct live_worker_hooks {
    void *ctx;
    /* A spawned worker starts: run its work, then live_runtime_finish(). */
    void (*start)(void *ctx, admit_worker *w);
    /* Asked to stop soon; it still ends with live_runtime_finish(). */
    void (*cancel)(void *ctx, admit_worker *w);
} live_worker_hooks;

/* NULL with err set (out of memory). */
live_runtime *live_runtime_create(live_loop *loop, const live_worker_hooks *hooks,
                                  admit_error *err);
void live_runtime_destroy(live_runtime *rt);

/* The seam for admit_scheduler_config.runtime (ctx: the runtime). */
admit_runtime live_runtime_seam(live_runtime *rt);
/* For the seam's and request admission's callbacks (ctx: the runtime). */
int64_t live_runtime_now(void *rt);
void live_runtime_wake_at(void *rt, int64_t at_ns);
int live_runtime_spawn(void *rt, admit_worker *w);
void live_runtime_cancel(void *rt, admit_worker *w);
void live_runtime_request_wake_at(void *rt, int64_t at_ns);

/* What the callbacks drive; set before the job starts (adm may be NULL). */
void live_runtime_bind(live_runtime *rt, admit_scheduler *sched, admit_request_admission *adm);
/* The worker w is done with outcome (reported from the loop, once). */
void live_runtime_finish(live_runtime *rt, admit_worker *w, admit_worker_outcome outcome);

/* Starts the job and runs the loop until the job is finished or
** live_runtime_stop() is called.  ADMIT_OK, or an error (the scheduler
** refused to start, a timer could not be set: out of memory). */
admit_status live_runtime_run(live_runtime *rt, admit_error *err);
/* Stops live_runtime_run() after the current callback (an error of the caller's). */
void live_runtime_stop(live_runtime *rt);
/* Out of memory setting a timer since create (the run cannot be trusted). */
bool live_runtime_is_failed(const live_runtime *rt);
live_loop *live_runtime_loop(const live_runtime *rt);

#ifdef __cplusplus
}
#endif

#endif
