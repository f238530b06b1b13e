/* `admitsim bench --request`: request admission microbenchmarks.
**
** uncontended   try_acquire + release(success) on a free resource, and the
**               acquire_async immediate path; with the virtual clock the
**               simulator uses and with CLOCK_MONOTONIC, without and with
**               the mutex of a thread-safe controller.
** queued        1,000 waiters across 16 weighted groups under one cap of 1:
**               each release admits the next waiter in fair order, whose
**               completion queues a new waiter, so the queue stays at 1,000.
**               Cost per admitted waiter covers release, fair selection,
**               grant, completion and re-enqueue.
** threads       8 threads doing acquire_sync/release against caps of 4 and
**               8: wall-clock attempts per second (contention, not latency).
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/request_admission.h"
#include "admit/request_resource.h"
#include "bench.h"
#include "cli.h"

static int64_t frozen_now(void *ctx) {
    return *(const int64_t *)ctx;
}

static admit_request_admission *make(admit_request_resolver *rr, bool thread_safe,
                                     int64_t *virtual_now) {
    admit_request_admission_config cfg;
    admit_request_admission_config_init(&cfg);
    cfg.resolver = rr;
    cfg.thread_safe = thread_safe;
    cfg.waiter_capacity = 2048;
    if (virtual_now) {
        cfg.now = frozen_now;
        cfg.clock_ctx = virtual_now;
    }
    admit_error err;
    admit_request_admission *c = admit_request_admission_create(&cfg, &err);
    if (!c) fprintf(stderr, "admitsim bench: %s\n", err.message);
    return c;
}

static const admit_request_outcome ok_outcome = {.kind = ADMIT_REQ_SUCCESS};

/* Best of repeat runs of n try_acquire+release pairs, ns per pair. */
static double uncontended(admit_request_resolver *rr, bool thread_safe, bool virtual_clock,
                          bool async, uint64_t repeat) {
    int64_t vnow = 1;
    admit_request_admission *c = make(rr, thread_safe, virtual_clock ? &vnow : NULL);
    if (!c) return -1;
    admit_request_item item = {
        .resource = 0, .group = ADMIT_REQ_GROUP_DEFAULT, .queue_wait_timeout_ns = 0};
    const uint64_t n = 2000000;
    double best = 1e30;
    uint64_t refused = 0; /* none on a free resource: else no measurement */
    for (uint64_t rep = 0; rep < repeat && !refused; rep++) {
        double t0 = cli_monotonic_seconds();
        for (uint64_t i = 0; i < n; i++) {
            admit_request_result r;
            bool admitted;
            if (async) {
                admitted = admit_request_admission_acquire_async(c, &item, NULL, NULL, &r, NULL) ==
                           ADMIT_REQ_ADMITTED;
            } else {
                admit_request_denied d;
                admitted = admit_request_admission_try_acquire(c, &item, &r.lease, &d);
            }
            if (admitted)
                admit_request_admission_release(c, r.lease, ok_outcome);
            else
                refused++;
        }
        double ns = (cli_monotonic_seconds() - t0) * 1e9 / (double)n;
        if (ns < best) best = ns;
    }
    admit_request_admission_destroy(c);
    if (refused) {
        fprintf(stderr, "admitsim bench: %llu of %llu acquires refused on a free resource\n",
                (unsigned long long)refused, (unsigned long long)n);
        return -1;
    }
    return best;
}

typedef struct queued_bench {
    admit_request_admission *c;
    admit_request_lease pending;
    bool have;
    uint32_t next_group;
    uint32_t groups[16];
    uint64_t admitted;
} queued_bench;

static void requeue(queued_bench *q);

static void on_admitted(void *ctx, const admit_request_result *r) {
    queued_bench *q = ctx;
    q->pending = r->lease;
    q->have = r->admitted;
    q->admitted++;
    requeue(q);
}

static void requeue(queued_bench *q) {
    admit_request_item item = {.resource = 0,
                               .group = (int32_t)q->groups[q->next_group++ % 16],
                               .queue_wait_timeout_ns = 0};
    admit_request_result r;
    admit_request_admission_acquire_async(q->c, &item, on_admitted, q, &r, NULL);
}

static double queued(admit_request_resolver *rr, uint64_t repeat) {
    double best = 1e30;
    for (uint64_t rep = 0; rep < repeat; rep++) {
        int64_t vnow = 1;
        queued_bench q = {.c = make(rr, false, &vnow)};
        if (!q.c) return -1;
        admit_error err;
        for (int g = 0; g < 16; g++)
            q.groups[g] = (uint32_t)admit_request_admission_add_group(q.c, 0, 1 + g % 4, &err);
        admit_request_item first = {.resource = 0, .group = ADMIT_REQ_GROUP_DEFAULT};
        admit_request_denied d;
        admit_request_admission_try_acquire(q.c, &first, &q.pending, &d);
        q.have = true;
        for (int i = 0; i < 1000; i++)
            requeue(&q);
        const uint64_t n = 1000000;
        double t0 = cli_monotonic_seconds();
        while (q.admitted < n && q.have) {
            admit_request_lease l = q.pending;
            q.have = false;
            admit_request_admission_release(q.c, l, ok_outcome);
        }
        double ns = (cli_monotonic_seconds() - t0) * 1e9 / (double)q.admitted;
        if (ns < best) best = ns;
        admit_request_admission_stats st;
        admit_request_admission_stats_get(q.c, &st);
        if (st.waiters_queued != 1000) {
            fprintf(stderr, "admitsim bench: queue drifted to %llu waiters\n",
                    (unsigned long long)st.waiters_queued);
            best = -1;
        }
        if (q.have) admit_request_admission_release(q.c, q.pending, ok_outcome);
        admit_request_admission_destroy(q.c);
        if (best < 0) return -1;
    }
    return best;
}

typedef struct thread_arg {
    admit_request_admission *c;
    uint32_t resource_count;
    uint64_t attempts;
    uint64_t admitted;
} thread_arg;

static void *thread_main(void *p) {
    thread_arg *a = p;
    for (uint64_t i = 0; i < a->attempts; i++) {
        admit_request_item item = {.resource = (uint32_t)(i % a->resource_count),
                                   .group = ADMIT_REQ_GROUP_DEFAULT,
                                   .queue_wait_timeout_ns = 0};
        admit_request_lease l;
        admit_request_denied d;
        if (admit_request_admission_acquire_sync(a->c, &item, NULL, &l, &d)) {
            a->admitted++;
            admit_request_admission_release(a->c, l, ok_outcome);
        }
    }
    return NULL;
}

static double threaded(admit_request_resolver *rr, uint32_t resources) {
    admit_request_admission *c = make(rr, true, NULL);
    if (!c) return -1;
    enum { THREADS = 8 };
    thread_arg args[THREADS];
    pthread_t th[THREADS];
    double t0 = cli_monotonic_seconds();
    int started = 0;
    for (; started < THREADS; started++) {
        args[started] = (thread_arg){.c = c, .resource_count = resources, .attempts = 200000};
        int e = pthread_create(&th[started], NULL, thread_main, &args[started]);
        if (e) {
            fprintf(stderr, "admitsim bench: cannot start thread %d: %s\n", started + 1,
                    strerror(e));
            break;
        }
    }
    uint64_t total = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        total += args[i].admitted;
    }
    if (started < THREADS) {
        admit_request_admission_destroy(c);
        return -1;
    }
    double secs = cli_monotonic_seconds() - t0;
    admit_request_admission_stats st;
    admit_request_admission_stats_get(c, &st);
    admit_request_admission_destroy(c);
    if (st.leases_active || st.waiters_queued || total != (uint64_t)THREADS * 200000) {
        fprintf(stderr, "admitsim bench: threaded run ended unbalanced\n");
        return -1;
    }
    return (double)total / secs;
}

/* One table row: the figure with decimals digits after the point, or
** "failed" (said on stderr above) when the case gave none (x < 0); false
** then. */
static bool figure_row(const char *name, double x, int decimals) {
    printf("%-52s ", name);
    if (x >= 0)
        printf("%10.*f\n", decimals, x);
    else
        printf("%10s\n", "failed");
    fflush(stdout);
    return x >= 0;
}

int bench_request(uint64_t repeat) {
    admit_error err;
    admit_request_resolver *rr = admit_request_resolver_create(&err);
    uint32_t big, other;
    if (!rr || admit_request_resolver_add_alias(rr, "big", "bench", "big", 100000, &big, &err) ||
        admit_request_resolver_add_alias(rr, "four", "bench", "four", 4, &other, &err)) {
        fprintf(stderr, "admitsim bench: %s\n", err.message);
        admit_request_resolver_destroy(rr);
        return EXIT_FAILURE_RUN;
    }
    /* The queue case runs on its own one-slot endpoint. */
    admit_request_resolver *qrr = admit_request_resolver_create(&err);
    if (!qrr || admit_request_resolver_add_alias(qrr, "one", "bench", "one", 1, NULL, &err)) {
        fprintf(stderr, "admitsim bench: %s\n", err.message);
        admit_request_resolver_destroy(qrr);
        admit_request_resolver_destroy(rr);
        return EXIT_FAILURE_RUN;
    }
    admit_request_resolver_resource(qrr, 0, ADMIT_DOMAIN_CHAT);
    admit_request_resolver_resource(rr, big, ADMIT_DOMAIN_CHAT);
    admit_request_resolver_resource(rr, other, ADMIT_DOMAIN_CHAT);
    admit_request_resolver_resource(rr, other, ADMIT_DOMAIN_EMBEDDING);

    printf("request admission microbenchmarks (best of %llu runs; ns per operation)\n",
           (unsigned long long)repeat);
    printf("%-52s %10s\n", "case", "ns");
    struct {
        const char *name;
        bool ts, vclock, async;
    } cases[] = {
        {"try_acquire+release, virtual clock", false, true, false},
        {"acquire_async(immediate)+release, virtual clock", false, true, true},
        {"try_acquire+release, CLOCK_MONOTONIC", false, false, false},
        {"try_acquire+release, thread-safe, virtual clock", true, true, false},
        {"try_acquire+release, thread-safe, CLOCK_MONOTONIC", true, false, false},
    };
    int rc = EXIT_OK;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double ns = uncontended(rr, cases[i].ts, cases[i].vclock, cases[i].async, repeat);
        if (!figure_row(cases[i].name, ns, 1)) rc = EXIT_FAILURE_RUN;
    }
    if (!figure_row("1,000 waiters / 16 groups, per admitted waiter", queued(qrr, repeat), 1))
        rc = EXIT_FAILURE_RUN;
    if (!figure_row("8 threads acquire_sync+release, attempts/s", threaded(rr, 3), 0))
        rc = EXIT_FAILURE_RUN;
    admit_request_resolver_destroy(qrr);
    admit_request_resolver_destroy(rr);
    return rc;
}
