/*
** The live runtime's clock and timers (live/loop.h).
**
** Invariant: the timerfd is armed for the real time of the heap's earliest
** timer whenever the heap is not empty, and disarmed when it is.  Each
** timer's callback, context and ref live in a slot of `slots` (free list
** through next_free); the heap entry carries the slot index and a sequence
** number, so equal times fire in the order they were set.
*/
#define _GNU_SOURCE /* timerfd */
#include "live/loop.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "admit/heap.h"

#define NO_SLOT UINT32_MAX

typedef struct timer_slot {
    live_timer_fn fn;
    void *ctx;
    uint64_t ref;
    uint32_t next_free;
} timer_slot;

struct live_loop {
    uv_loop_t *uv;
    double scale;
    int64_t origin_real; /* CLOCK_MONOTONIC ns at create */
    int tfd;
    uv_poll_t poll;
    bool poll_started, closing, closed;
    admit_heap heap;
    uint64_t seq;
    timer_slot *slots;
    uint32_t slot_count, slot_cap, free_slot;
    int64_t armed_at; /* clock time the timerfd is armed for; -1: disarmed */
    void (*batch_fn)(void *ctx);
    void *batch_ctx;
};

static int64_t real_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t saturate(double x) {
    if (!(x > 0)) return 0;
    return x >= 9.2e18 ? INT64_MAX : (int64_t)ceil(x);
}

int64_t live_loop_real_ns(const live_loop *l, int64_t clock_ns) {
    return l->scale == 1 ? clock_ns : saturate((double)clock_ns * l->scale);
}

int64_t live_loop_clock_ns(const live_loop *l, int64_t real_ns) {
    return l->scale == 1 ? real_ns : saturate((double)real_ns / l->scale);
}

int64_t live_loop_now(const live_loop *l) {
    int64_t real = real_now() - l->origin_real;
    return l->scale == 1 ? real : (int64_t)floor((double)real / l->scale);
}

int64_t live_loop_now_fn(void *loop) {
    return live_loop_now(loop);
}

uv_loop_t *live_loop_uv(const live_loop *l) {
    return l->uv;
}

double live_loop_time_scale(const live_loop *l) {
    return l->scale;
}

size_t live_loop_pending(const live_loop *l) {
    return admit_heap_count(&l->heap);
}

void live_loop_on_batch(live_loop *l, void (*fn)(void *ctx), void *ctx) {
    l->batch_fn = fn;
    l->batch_ctx = ctx;
}

/* Arms the timerfd for the earliest timer (absolute real time), or disarms it. */
static void arm(live_loop *l) {
    const admit_heap_entry *top = admit_heap_top(&l->heap);
    int64_t at = top ? top->key : -1;
    if (at == l->armed_at) return;
    struct itimerspec its = {0};
    if (top) {
        int64_t real = l->origin_real + live_loop_real_ns(l, at);
        if (real < 1) real = 1; /* 0 would disarm */
        its.it_value.tv_sec = real / 1000000000;
        its.it_value.tv_nsec = real % 1000000000;
    }
    timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
    l->armed_at = at;
}

/* Runs every timer due now, then the batch hook; repeats while callbacks
** set timers that are already due. */
static void fire_due(live_loop *l) {
    bool any = false;
    for (;;) {
        const admit_heap_entry *top = admit_heap_top(&l->heap);
        if (!top || top->key > live_loop_now(l)) break;
        uint32_t slot = top->tag;
        admit_heap_drop(&l->heap);
        timer_slot t = l->slots[slot];
        l->slots[slot].next_free = l->free_slot;
        l->free_slot = slot;
        t.fn(t.ctx, t.ref);
        any = true;
        if (l->closing) return;
    }
    if (any && l->batch_fn) l->batch_fn(l->batch_ctx);
    if (!l->closing) arm(l);
}

static void on_timerfd(uv_poll_t *h, int status, int events) {
    live_loop *l = h->data;
    (void)status, (void)events;
    if (l->closing) return;
    uint64_t expirations;
    ssize_t n = read(l->tfd, &expirations, sizeof expirations);
    (void)n;          /* EAGAIN when disarmed or re-armed meanwhile: check the heap anyway */
    l->armed_at = -2; /* fired: re-arm whatever is next */
    fire_due(l);
}

bool live_loop_at(live_loop *l, int64_t at_ns, live_timer_fn fn, void *ctx, uint64_t ref) {
    uint32_t slot = l->free_slot;
    if (slot != NO_SLOT) {
        l->free_slot = l->slots[slot].next_free;
    } else {
        if (l->slot_count == l->slot_cap) {
            uint32_t cap = l->slot_cap ? l->slot_cap * 2 : 256;
            timer_slot *n = realloc(l->slots, cap * sizeof *n);
            if (!n) return false;
            l->slots = n;
            l->slot_cap = cap;
        }
        slot = l->slot_count++;
    }
    admit_heap_entry e = {.key = at_ns < 0 ? 0 : at_ns, .tiebreak = l->seq++, .tag = slot};
    if (!admit_heap_push(&l->heap, e)) {
        l->slots[slot].next_free = l->free_slot;
        l->free_slot = slot;
        return false;
    }
    l->slots[slot] = (timer_slot){.fn = fn, .ctx = ctx, .ref = ref, .next_free = NO_SLOT};
    if (admit_heap_top(&l->heap)->tiebreak == e.tiebreak) arm(l);
    return true;
}

live_loop *live_loop_create(uv_loop_t *uv, double time_scale, admit_error *err) {
    if (!(time_scale > 0) || !isfinite(time_scale)) {
        admit_error_set(err, ADMIT_EINVAL, "time scale must be a finite number > 0");
        return NULL;
    }
    live_loop *l = calloc(1, sizeof *l);
    if (!l) {
        admit_error_set(err, ADMIT_ENOMEM, "out of memory creating the live loop");
        return NULL;
    }
    l->uv = uv;
    l->scale = time_scale;
    l->free_slot = NO_SLOT;
    l->armed_at = -1;
    l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->tfd < 0 || uv_poll_init(uv, &l->poll, l->tfd) != 0) {
        admit_error_set(err, ADMIT_EINVAL, "cannot create the live loop's timer: %s",
                        strerror(errno));
        if (l->tfd >= 0) close(l->tfd);
        free(l);
        return NULL;
    }
    l->poll.data = l;
    uv_poll_start(&l->poll, UV_READABLE, on_timerfd);
    l->origin_real = real_now();
    live_loop_thread_init();
    return l;
}

void live_loop_thread_init(void) {
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* timers fire on time, not 50 us late */
}

static void on_closed(uv_handle_t *h) {
    ((live_loop *)h->data)->closed = true;
}

void live_loop_halt(live_loop *l) {
    if (l->closing) return;
    l->closing = true;
    uv_poll_stop(&l->poll);
}

void live_loop_destroy(live_loop *l) {
    if (!l) return;
    live_loop_halt(l);
    uv_close((uv_handle_t *)&l->poll, on_closed);
    while (!l->closed)
        uv_run(l->uv, UV_RUN_ONCE);
    close(l->tfd);
    admit_heap_free(&l->heap);
    free(l->slots);
    free(l);
}
