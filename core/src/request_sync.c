/*
** Request admission: acquire_sync's blocking wait (thread_safe controllers
** only).  The waiting thread sleeps on its own condition variable with the
** controller's mutex released, timed to the earliest of its deadline, its
** resource's cooldown end and next ramp step, so it never polls; whoever
** admits or denies it signals it.  Cooldown ends and ramp steps are nobody
** else's to notice, so the waiting thread pumps its provider/model itself
** when it wakes.
*/
#include "request_admission_int.h"

#include <time.h>

static struct timespec to_timespec(int64_t ns) {
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000LL),
                             .tv_nsec = (long)(ns % 1000000000LL)};
}

bool admit_rq_wait_sync(admit_request_admission *c, uint32_t slot, uint32_t r,
                        admit_request_cancel_token *token, admit_request_lease *lease,
                        admit_request_denied *denied) {
    pthread_cond_t cond;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cond, &attr);
    pthread_condattr_destroy(&attr);
    waiter *w = &c->waiters_slab[slot];
    w->sync = true;
    w->cond = &cond;
    w->token = token;
    for (;;) {
        w = &c->waiters_slab[slot]; /* the slab may move while we sleep */
        if (w->state != W_QUEUED) break;
        int64_t now = now_of(c);
        if (token && token->cancelled) {
            admit_rq_waiter_deny(c, slot, ADMIT_REQ_DENY_CANCELLATION, now);
            break;
        }
        admit_rq_expire_due(c, now); /* this waiter's own deadline and everyone else's */
        if (w->state != W_QUEUED) break;
        /* Cooldown ends and ramp steps are nobody else's to notice. */
        admit_rq_pump(c, c->resource_pm[r], now);
        if (w->state != W_QUEUED) break;
        if (!c->flushing && (c->event_count || c->done_head != NIL)) {
            /* Others admitted by this pump must hear of it before we sleep
            ** (a delivery already running will pick it up instead). */
            admit_rq_unlock_and_flush(c);
            lock(c);
            continue;
        }
        int64_t at = w->deadline_ns;
        int64_t t = admit_rq_opening(c, r, now);
        if (t >= 0 && (at < 0 || t < at)) at = t;
        if (at < 0) {
            pthread_cond_wait(&cond, &c->mu);
        } else {
            struct timespec ts = to_timespec(at);
            pthread_cond_timedwait(&cond, &c->mu, &ts);
        }
    }
    w = &c->waiters_slab[slot];
    bool admitted = w->state == W_GRANTED;
    if (admitted)
        *lease = w->result.lease;
    else if (denied)
        *denied = w->result.denied;
    admit_rq_waiter_free(c, slot);
    admit_rq_unlock_and_flush(c);
    pthread_cond_destroy(&cond);
    return admitted;
}

/* A sync waiter sleeps until its own deadline or the cooldown end / ramp
** step it saw when it went to sleep, and otherwise until signalled.  A new
** cooldown on its resource must wake it to re-arm that timed wait, or it
** sleeps past the cooldown end when nothing else is in flight. */
void admit_rq_rearm_sync_waiters(admit_request_admission *c, uint32_t r) {
    if (!c->locking || !c->waiters[r]) return;
    for (uint32_t g = 0; g < c->group_count; g++) {
        if (c->groups[g].resource != r) continue;
        for (uint32_t s = c->groups[g].head; s != NIL; s = c->waiters_slab[s].next)
            if (c->waiters_slab[s].sync) pthread_cond_signal(c->waiters_slab[s].cond);
    }
}

void admit_request_admission_cancel_token(admit_request_admission *c,
                                          admit_request_cancel_token *token) {
    lock(c);
    token->cancelled = 1;
    for (uint32_t i = 0; i < c->waiter_cap; i++) {
        waiter *w = &c->waiters_slab[i];
        if (w->state == W_QUEUED && w->sync && w->token == token) pthread_cond_signal(w->cond);
    }
    unlock(c);
}
