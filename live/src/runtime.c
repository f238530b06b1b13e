/*
** The core's runtime seam on a live loop (live/runtime.h).
**
** Timer refs: the low two bits say which kind: WAKE (dispatch) and TICK
** (request admission), with the time asked for above them, or 0 for a
** worker's start or finish, whose ref is a pointer to a pending record
** (8-byte aligned), so a worker is never started or finished inside a
** scheduler call.
*/
#include "live/runtime.h"

#include <stdlib.h>

enum { REF_WAKE = 1, REF_TICK = 2, PENDING_BLOCK = 64 };

/* A start or finish waiting for the loop. */
typedef struct pending {
    admit_worker *w;
    uint64_t execution_id;
    admit_worker_outcome outcome;
    bool finish, active, cancelled;
    struct pending *next_free;
} pending;

struct live_runtime {
    live_loop *loop;
    live_worker_hooks hooks;
    admit_scheduler *sched;
    admit_request_admission *adm;
    bool dispatch_due;                   /* a wake timer fired in this batch */
    bool wake_now_pending;               /* a wake for "now" is set and has not fired */
    int64_t last_future_wake, last_tick; /* the latest times asked for (dedup); -1: none */
    bool failed, stopped, running;
    pending *free_pending;
    pending **blocks;
    size_t block_count;
};

live_loop *live_runtime_loop(const live_runtime *rt) {
    return rt->loop;
}

bool live_runtime_is_failed(const live_runtime *rt) {
    return rt->failed;
}

static void fail(live_runtime *rt) {
    rt->failed = true;
    live_runtime_stop(rt);
}

void live_runtime_stop(live_runtime *rt) {
    rt->stopped = true;
    uv_stop(live_loop_uv(rt->loop));
}

int64_t live_runtime_now(void *ctx) {
    return live_loop_now(((live_runtime *)ctx)->loop);
}

static void on_timer(void *ctx, uint64_t ref);

static void set_timer(live_runtime *rt, int64_t at, uint64_t ref) {
    if (!live_loop_at(rt->loop, at, on_timer, rt, ref)) fail(rt);
}

/* Every requested time gets its timer, but one "now" at a time and no
** repeat of the same future time (as the simulator coalesces them).  The
** timer's ref carries its time above the kind bits. */
void live_runtime_wake_at(void *ctx, int64_t at) {
    live_runtime *rt = ctx;
    int64_t now = live_loop_now(rt->loop);
    if (at <= now) {
        if (rt->wake_now_pending) return;
        rt->wake_now_pending = true;
        at = now;
    } else if (at == rt->last_future_wake) {
        return;
    } else {
        rt->last_future_wake = at;
    }
    set_timer(rt, at, ((uint64_t)at << 2) | REF_WAKE);
}

void live_runtime_request_wake_at(void *ctx, int64_t at) {
    live_runtime *rt = ctx;
    int64_t now = live_loop_now(rt->loop);
    if (at < now) at = now;
    if (at == rt->last_tick) return;
    rt->last_tick = at;
    set_timer(rt, at, ((uint64_t)at << 2) | REF_TICK);
}

static pending *pending_get(live_runtime *rt) {
    if (!rt->free_pending) {
        enum { BLOCK = PENDING_BLOCK };
        pending **nb = realloc(rt->blocks, (rt->block_count + 1) * sizeof *nb);
        if (!nb) return NULL;
        rt->blocks = nb;
        pending *b = calloc(BLOCK, sizeof *b);
        if (!b) return NULL;
        rt->blocks[rt->block_count++] = b;
        for (int i = 0; i < BLOCK; i++) {
            b[i].next_free = rt->free_pending;
            rt->free_pending = &b[i];
        }
    }
    pending *p = rt->free_pending;
    rt->free_pending = p->next_free;
    return p;
}

static bool defer(live_runtime *rt, admit_worker *w, bool finish, admit_worker_outcome o) {
    pending *p = pending_get(rt);
    if (!p) return false;
    *p = (pending){
        .w = w, .execution_id = w->execution_id, .outcome = o, .finish = finish, .active = true};
    if (!finish) w->runtime_data = p; /* until the start hook takes it over */
    if (!live_loop_at(rt->loop, live_loop_now(rt->loop), on_timer, rt, (uint64_t)(uintptr_t)p)) {
        p->active = false;
        p->next_free = rt->free_pending;
        rt->free_pending = p;
        return false;
    }
    return true;
}

int live_runtime_spawn(void *ctx, admit_worker *w) {
    live_runtime *rt = ctx;
    return defer(rt, w, false, ADMIT_WORKER_SUCCESS) ? 0 : -1;
}

/* The pending start of w, if it has not started yet. */
static pending *pending_start(const live_runtime *rt, const admit_worker *w) {
    uintptr_t p = (uintptr_t)w->runtime_data;
    for (size_t i = 0; i < rt->block_count; i++) {
        uintptr_t b = (uintptr_t)rt->blocks[i];
        if (p >= b && p < b + PENDING_BLOCK * sizeof(pending) && (p - b) % sizeof(pending) == 0) {
            pending *q = (pending *)p;
            return q->active && !q->finish && q->w == w ? q : NULL;
        }
    }
    return NULL;
}

/* A worker that has not started yet finishes CANCELLED instead of starting. */
void live_runtime_cancel(void *ctx, admit_worker *w) {
    live_runtime *rt = ctx;
    pending *p = pending_start(rt, w);
    if (p)
        p->cancelled = true;
    else if (rt->hooks.cancel)
        rt->hooks.cancel(rt->hooks.ctx, w);
}

void live_runtime_finish(live_runtime *rt, admit_worker *w, admit_worker_outcome outcome) {
    if (!defer(rt, w, true, outcome)) fail(rt);
}

admit_runtime live_runtime_seam(live_runtime *rt) {
    return (admit_runtime){rt, live_runtime_now, live_runtime_wake_at, live_runtime_spawn,
                           live_runtime_cancel};
}

static void on_timer(void *ctx, uint64_t ref) {
    live_runtime *rt = ctx;
    int64_t at = (int64_t)(ref >> 2);
    if ((ref & 3) == REF_WAKE) {
        rt->wake_now_pending = false;
        if (at == rt->last_future_wake) rt->last_future_wake = -1;
        rt->dispatch_due = true;
    } else if ((ref & 3) == REF_TICK) {
        if (at == rt->last_tick) rt->last_tick = -1;
        if (rt->adm) admit_request_admission_tick(rt->adm);
    } else {
        pending *p = (pending *)(uintptr_t)ref;
        pending job = *p;
        p->active = false;
        p->next_free = rt->free_pending;
        rt->free_pending = p;
        if (job.finish || job.cancelled)
            admit_scheduler_worker_finished(rt->sched, job.w, job.execution_id,
                                            job.finish ? job.outcome : ADMIT_WORKER_CANCELLED);
        else
            rt->hooks.start(rt->hooks.ctx, job.w);
    }
}

/* After everything due at an instant: one dispatch, then the end check. */
static void on_batch(void *ctx) {
    live_runtime *rt = ctx;
    if (!rt->running) return;
    if (rt->dispatch_due) {
        rt->dispatch_due = false;
        admit_scheduler_dispatch(rt->sched);
    }
    if (admit_scheduler_is_finished(rt->sched)) uv_stop(live_loop_uv(rt->loop));
}

void live_runtime_bind(live_runtime *rt, admit_scheduler *sched, admit_request_admission *adm) {
    rt->sched = sched;
    rt->adm = adm;
}

admit_status live_runtime_run(live_runtime *rt, admit_error *err) {
    admit_status st = admit_scheduler_start(rt->sched, err);
    if (st != ADMIT_OK) return st;
    rt->running = true;
    while (!rt->stopped && !admit_scheduler_is_finished(rt->sched))
        uv_run(live_loop_uv(rt->loop), UV_RUN_DEFAULT);
    rt->running = false;
    if (rt->failed) return admit_error_set(err, ADMIT_ENOMEM, "out of memory setting a timer");
    return ADMIT_OK;
}

live_runtime *live_runtime_create(live_loop *loop, const live_worker_hooks *hooks,
                                  admit_error *err) {
    live_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) {
        admit_error_set(err, ADMIT_ENOMEM, "out of memory creating the live runtime");
        return NULL;
    }
    rt->loop = loop;
    rt->hooks = *hooks;
    rt->last_future_wake = rt->last_tick = -1;
    live_loop_on_batch(loop, on_batch, rt);
    return rt;
}

void live_runtime_destroy(live_runtime *rt) {
    if (!rt) return;
    live_loop_on_batch(rt->loop, NULL, NULL);
    for (size_t i = 0; i < rt->block_count; i++)
        free(rt->blocks[i]);
    free(rt->blocks);
    free(rt);
}
