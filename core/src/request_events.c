/*
** Request admission: the event queue and the delivery of events and
** completions with the lock dropped (see request_admission_int.h, Locking).
*/
#include "request_admission_int.h"

#include <stdlib.h>
#include <string.h>

bool admit_rq_grow(void **arr, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap) return true;
    uint32_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, (size_t)n * elem);
    if (!p) return false;
    *arr = p;
    *cap = n;
    return true;
}

/* The part of admit_rq_event (request_admission_int.h) that needs a sink. */
void admit_rq_event_push(admit_request_admission *c, admit_request_event_kind kind, int64_t now,
                         uint32_t resource, const admit_request_context *ctx, uint64_t lease_id,
                         int32_t reason, int64_t value) {
    /* Without room the event is dropped rather than failing the caller; the
    ** sequence gap shows the loss. */
    if (c->event_count == c->event_cap &&
        !admit_rq_grow((void **)&c->events, &c->event_cap, c->event_count + 1, sizeof *c->events)) {
        c->next_event_seq++;
        return;
    }
    admit_event *ev = &c->events[c->event_count++];
    memset(ev, 0, sizeof *ev);
    ev->sequence = c->next_event_seq++;
    ev->captured_at_ns = now;
    ev->stream = ADMIT_STREAM_REQUEST;
    ev->kind = (uint16_t)kind;
    ev->reason = reason;
    ev->resource = resource == NO_RESOURCE ? -1 : (int32_t)resource;
    ev->lease_id = lease_id;
    ev->value = value;
    if (ctx) {
        ev->corr = ctx->corr;
        ev->task_id = ctx->task_id;
        ev->attempt_id = ctx->attempt_id;
    } else {
        ev->corr = (admit_correlation){.run_id = c->cfg.run_id,
                                       .row_group = -1,
                                       .column = -1,
                                       .task_type = -1,
                                       .group = -1,
                                       .group_kind = -1};
    }
    if (!ev->corr.run_id) ev->corr.run_id = c->cfg.run_id;
}

/* Completion delivery depth of this thread (any controller): a thread that
** is already running completions only queues more for its outer loop. */
static _Thread_local int tl_completion_depth;

typedef struct done_item {
    admit_request_completion_fn fn;
    void *ctx;
    admit_request_result result;
} done_item;

static void pop_completions(admit_request_admission *c, done_item *batch, uint32_t max,
                            uint32_t *nd) {
    *nd = 0;
    while (c->done_head != NIL && *nd < max) {
        uint32_t slot = c->done_head;
        waiter *w = &c->waiters_slab[slot];
        c->done_head = w->next;
        batch[(*nd)++] = (done_item){.fn = w->fn, .ctx = w->fn_ctx, .result = w->result};
        admit_rq_waiter_free(c, slot);
    }
    if (c->done_head == NIL) c->done_tail = NIL;
}

/* Called with the lock held; returns with it released.  Delivers queued
** events, then completions (whose records are freed as they are copied out),
** until both are empty.  Events go out from one thread at a time, in
** sequence order; while another thread is delivering events, a caller
** delivers the completions due so far itself, so a completion never waits
** behind other threads' event traffic. */
void admit_rq_unlock_and_flush(admit_request_admission *c) {
    done_item batch[32];
    uint32_t nd;
    if (c->flushing) {
        if (c->locking && !pthread_equal(c->flusher, pthread_self()) && tl_completion_depth == 0) {
            tl_completion_depth++;
            while (c->done_head != NIL) {
                pop_completions(c, batch, 32, &nd);
                unlock(c);
                for (uint32_t i = 0; i < nd; i++)
                    batch[i].fn(batch[i].ctx, &batch[i].result);
                lock(c);
            }
            tl_completion_depth--;
        }
        unlock(c);
        return;
    }
    if (c->event_count == 0 && c->done_head == NIL) {
        unlock(c);
        return;
    }
    c->flushing = true;
    if (c->locking) c->flusher = pthread_self();
    tl_completion_depth++;
    while (c->event_count || c->done_head != NIL) {
        /* Swap the pending events out so producers keep appending. */
        admit_event *evs = c->events;
        uint32_t nev = c->event_count, evcap = c->event_cap;
        c->events = c->deliver_events;
        c->event_cap = c->deliver_cap;
        c->event_count = 0;
        c->deliver_events = evs;
        c->deliver_cap = evcap;
        pop_completions(c, batch, 32, &nd);
        unlock(c);
        for (uint32_t i = 0; i < nev; i++)
            c->cfg.sink.fn(c->cfg.sink.ctx, &evs[i]);
        for (uint32_t i = 0; i < nd; i++)
            batch[i].fn(batch[i].ctx, &batch[i].result);
        lock(c);
    }
    tl_completion_depth--;
    c->flushing = false;
    unlock(c);
}

void admit_request_admission_emit(admit_request_admission *c, admit_request_event_kind kind,
                                  uint32_t resource, const admit_request_context *ctx,
                                  uint64_t lease_id, int32_t reason, int64_t value) {
    lock(c);
    admit_rq_event(c, kind, now_of(c), resource, ctx, lease_id, reason, value);
    admit_rq_unlock_and_flush(c);
}
