/*
** The live runtime's clock and timers on a libuv loop.
**
** Clock: CLOCK_MONOTONIC since the loop was created, in integer
** nanoseconds, divided by the time scale F (live_loop_create's time_scale):
** with F = 1 it is real time; with F = 0.25 one clock second passes in a
** quarter of a real second, so a scenario's durations, cooldowns and
** windows all run four times faster without being rewritten.  Every time a
** live run reports is on this clock.
**
** Timers: one-shot callbacks at a clock time, kept in core's heap
** (admit/heap.h) and fired from one timerfd with nanosecond resolution
** (libuv's own timers count whole milliseconds, too coarse for a scaled
** clock).  Callbacks due at the same time run in the order they were set;
** after each batch of due callbacks the loop's batch hook runs once (the
** runtime dispatches there, after everything due at that instant).  A timer
** cannot be cancelled: its owner ignores a callback it no longer wants
** (a token in ref, say).
**
** Lifetime: create on an initialised uv loop; destroy closes the loop's own
** handles and runs the uv loop until they are closed.  Not thread-safe: one
** thread runs the uv loop and makes every call.
*/
#ifndef LIVE_LOOP_H
#define LIVE_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "admit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct live_loop live_loop;
typedef void (*live_timer_fn)(void *ctx, uint64_t ref);

/* time_scale F > 0 (real seconds per clock second).  NULL with err set. */
live_loop *live_loop_create(uv_loop_t *uv, double time_scale, admit_error *err);
void live_loop_destroy(live_loop *l);

uv_loop_t *live_loop_uv(const live_loop *l);
double live_loop_time_scale(const live_loop *l);
/* The clock, in nanoseconds since create (never decreasing). */
int64_t live_loop_now(const live_loop *l);
/* A clock duration in real nanoseconds, and back (both round up, saturate). */
int64_t live_loop_real_ns(const live_loop *l, int64_t clock_ns);
int64_t live_loop_clock_ns(const live_loop *l, int64_t real_ns);
/* The clock as a run_clock / admit_runtime now() function (ctx: the loop). */
int64_t live_loop_now_fn(void *loop);

/* Calls fn(ctx, ref) once the clock reaches at_ns (at once, from the loop,
** when it already has).  False on out of memory. */
bool live_loop_at(live_loop *l, int64_t at_ns, live_timer_fn fn, void *ctx, uint64_t ref);
/* Timers set and not yet fired. */
size_t live_loop_pending(const live_loop *l);
/* For the thread that will run the loop when it is not the creating one:
** asks the kernel for timer wakeups without slack (create does it for its
** own thread). */
void live_loop_thread_init(void);
/* No timer fires any more (teardown: their owners are going away). */
void live_loop_halt(live_loop *l);
/* Runs fn(ctx) after every batch of due timers. */
void live_loop_on_batch(live_loop *l, void (*fn)(void *ctx), void *ctx);

#ifdef __cplusplus
}
#endif

#endif
