/*
** Embedding the admit core in C: both admission stages on the real monotonic
** clock, in a single-threaded event loop.  An AsyncTaskScheduler (it owns the
** TaskAdmissionController) runs ROWS tasks with 3 submission slots, reaching
** clock and workers only through the runtime seam below (now / wake_at /
** spawn / cancel).  Each worker makes one CALL_MS model call under a request
** lease from a RequestAdmissionController that allows 2 calls at once (so the
** third worker queues), releases it, and finishes, which releases its task
** lease.  Prints every event both sinks receive.  Exits 0 when every task
** completed and nothing is left: no task or request lease, no waiter.
** Build: cc -std=c11 embed.c $(pkg-config --cflags --libs admit-core)
*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#include "admit/admit.h"

#define ROWS    5
#define CALL_MS 20

enum job_state { JOB_FREE = 0, JOB_SPAWNED, JOB_WAITING, JOB_CALLING, JOB_DENIED };

typedef struct job {
    enum job_state state;
    admit_worker *worker;
    admit_request_lease lease;
    int64_t call_ends_ns;
} job;

typedef struct app {
    admit_scheduler *sched;
    admit_request_admission *requests;
    uint32_t resource;                /* the request resource every call uses */
    int64_t t0, dispatch_at, tick_at; /* -1: no deadline */
    job jobs[ROWS];
} app;

/* The one clock both stages share: CLOCK_MONOTONIC in nanoseconds. */
static int64_t monotonic_now(void *ctx) {
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Keeps the earlier of two deadlines; -1 means none. */
static void earliest(int64_t *slot, int64_t at) {
    if (at >= 0 && (*slot < 0 || at < *slot)) *slot = at;
}

static void print_event(void *ctx, const admit_event *ev) {
    printf("%8.3f ms  %-9s  %-34s task=%#-14llx lease=%llu value=%lld\n",
           (double)(ev->captured_at_ns - ((const app *)ctx)->t0) / 1e6,
           ev->stream == ADMIT_STREAM_SCHEDULER ? "scheduler" : "request", admit_event_name(ev),
           (unsigned long long)ev->task_id, (unsigned long long)ev->lease_id, (long long)ev->value);
}

/* The runtime seam and the request controller's timer. */
static void rt_wake_at(void *ctx, int64_t at) {
    earliest(&((app *)ctx)->dispatch_at, at);
}
static void req_wake_at(void *ctx, int64_t at) {
    earliest(&((app *)ctx)->tick_at, at);
}

static int rt_spawn(void *ctx, admit_worker *w) {
    app *a = ctx;
    for (int i = 0; i < ROWS; i++) {
        if (a->jobs[i].state != JOB_FREE) continue;
        a->jobs[i] = (job){.state = JOB_SPAWNED, .worker = w};
        return 0; /* the loop starts it: never finish a worker inside spawn */
    }
    return -1;
}

/* Calls last CALL_MS; a cancelled worker just finishes its call. */
static void rt_cancel(void *ctx, admit_worker *w) {
    (void)ctx, (void)w;
}

static void call_admitted(void *ctx, const admit_request_result *res) {
    job *j = ctx;
    j->state = res->admitted ? JOB_CALLING : JOB_DENIED;
    j->lease = res->lease;
    j->call_ends_ns = res->wait_completed_ns + (int64_t)CALL_MS * 1000000;
}

static void start_call(app *a, job *j) {
    admit_request_item item = {
        .resource = a->resource,
        .group = ADMIT_REQ_GROUP_DEFAULT,
        .queue_wait_timeout_ns = ADMIT_REQ_TIMEOUT_DEFAULT,
        .ctx = {.task_id = j->worker->task->task_id, .attempt_id = j->worker->execution_id}};
    item.ctx.corr.task_execution_id = j->worker->execution_id;
    admit_request_result res;
    admit_request_wait wait;
    j->state = JOB_WAITING;
    if (admit_request_admission_acquire_async(a->requests, &item, call_admitted, j, &res, &wait) !=
        ADMIT_REQ_QUEUED)
        call_admitted(j, &res); /* admitted or denied at once: no completion call */
}

/* Releases the request lease (exactly once), then ends the worker, which
** releases its task lease. */
static void finish_job(app *a, job *j) {
    admit_worker_outcome outcome = ADMIT_WORKER_RETRYABLE_FAILURE;
    if (j->state == JOB_CALLING) {
        admit_request_outcome ok = {.kind = ADMIT_REQ_SUCCESS};
        admit_request_admission_release(a->requests, j->lease, ok);
        outcome = ADMIT_WORKER_SUCCESS;
    }
    admit_worker *w = j->worker;
    j->state = JOB_FREE;
    admit_scheduler_worker_finished(a->sched, w, w->execution_id, outcome);
}

/* The event loop: run what is due, then sleep until the next deadline. */
static int run(app *a) {
    while (!admit_scheduler_is_finished(a->sched)) {
        int64_t now = monotonic_now(NULL), next = -1;
        if (a->tick_at >= 0 && now >= a->tick_at) {
            a->tick_at = -1;
            admit_request_admission_tick(a->requests);
        }
        if (a->dispatch_at >= 0 && now >= a->dispatch_at) {
            a->dispatch_at = -1;
            admit_scheduler_dispatch(a->sched);
        }
        for (job *j = a->jobs; j < a->jobs + ROWS; j++) {
            if (j->state == JOB_SPAWNED) start_call(a, j);
            if (j->state == JOB_DENIED || (j->state == JOB_CALLING && now >= j->call_ends_ns))
                finish_job(a, j);
        }
        for (job *j = a->jobs; j < a->jobs + ROWS; j++) { /* a release may admit a waiter */
            if (j->state == JOB_CALLING) earliest(&next, j->call_ends_ns);
            if (j->state == JOB_SPAWNED || j->state == JOB_DENIED) next = now;
        }
        earliest(&next, a->dispatch_at);
        earliest(&next, a->tick_at);
        if (next < 0) return admit_scheduler_is_finished(a->sched) ? 0 : -1; /* nothing can happen */
        struct timespec ts = {.tv_sec = next / 1000000000, .tv_nsec = next % 1000000000};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
    return 0;
}

/* Request stage: endpoint "example/model-a" (alias "model-a"), 2 calls at once. */
static admit_status setup_requests(app *a, admit_error *err) {
    admit_request_resolver *resolver = admit_request_resolver_create(err);
    uint32_t pm = 0;
    int resource = -1;
    if (resolver &&
        !admit_request_resolver_add_alias(resolver, "model-a", "example", "model-a", 2, &pm, err))
        resource = admit_request_resolver_resource(resolver, pm, ADMIT_DOMAIN_CHAT);
    if (resource < 0) {
        admit_request_resolver_destroy(resolver);
        return err->code ? err->code : admit_error_set(err, ADMIT_ENOMEM, "no request resource");
    }
    a->resource = (uint32_t)resource;
    admit_request_admission_config rc;
    admit_request_admission_config_init(&rc);
    rc.resolver = resolver; /* read at create only */
    rc.now = monotonic_now;
    rc.wake_at = req_wake_at;
    rc.wake_ctx = a;
    rc.sink = (admit_event_sink){print_event, a};
    a->requests = admit_request_admission_create(&rc, err);
    admit_request_resolver_destroy(resolver);
    return a->requests ? ADMIT_OK : err->code;
}

/* Task stage: one model column of ROWS cells, 3 submission slots. */
static admit_status setup_tasks(app *a, admit_error *err) {
    static const admit_group_spec groups[1] = {
        {.key = "model:example/model-a|answer", .kind = ADMIT_KIND_MODEL, .weight = 2}};
    static const uint32_t limits[1] = {3}; /* resource 0: submission */
    static const admit_column_spec column = {
        .name = "answer", .resources = {.count = 1, .resource = {0}, .amount = {1}}};
    admit_scheduler_config sc;
    admit_scheduler_config_init(&sc);
    sc.columns = &column;
    sc.column_count = 1;
    sc.records = ROWS;
    sc.groups = groups;
    sc.group_count = 1;
    sc.resource_count = 1;
    sc.resource_limits = limits;
    admit_policy_strict_fair(&sc.policy);
    sc.runtime = (admit_runtime){a, monotonic_now, rt_wake_at, rt_spawn, rt_cancel};
    sc.sink = (admit_event_sink){print_event, a};
    a->sched = admit_scheduler_create(&sc, err);
    return a->sched ? admit_scheduler_start(a->sched, err) : err->code;
}

int main(void) {
    app a = {.t0 = monotonic_now(NULL), .dispatch_at = -1, .tick_at = -1};
    admit_error err = {0};
    int ok = 0;
    if (setup_requests(&a, &err) || setup_tasks(&a, &err)) {
        fprintf(stderr, "embed: %s: %s\n", admit_status_name(err.code), err.message);
    } else if (run(&a) != 0) {
        fprintf(stderr, "embed: nothing left to wait for, but the job is not finished\n");
    } else { /* final snapshot: every lease released, nobody waiting */
        admit_request_admission_stats rs;
        admit_request_admission_stats_get(a.requests, &rs);
        admit_scheduler_stats ss;
        admit_scheduler_stats_get(a.sched, &ss);
        uint64_t task_leases =
            admit_task_admission_view(admit_scheduler_admission(a.sched))->leases_active;
        printf("embed: %s, %llu of %d tasks completed, %llu task and %llu request leases taken; "
               "left: %llu task leases, %llu request leases, %llu request waiters\n",
               admit_job_status_name(admit_scheduler_status(a.sched)),
               (unsigned long long)ss.tasks_completed, ROWS, (unsigned long long)ss.workers_spawned,
               (unsigned long long)rs.leases_acquired, (unsigned long long)task_leases,
               (unsigned long long)rs.leases_active, (unsigned long long)rs.waiters_queued);
        ok = admit_scheduler_status(a.sched) == ADMIT_JOB_COMPLETED && ss.tasks_completed == ROWS &&
             task_leases == 0 && rs.leases_active == 0 && rs.waiters_queued == 0;
    }
    admit_scheduler_destroy(a.sched);
    admit_request_admission_destroy(a.requests);
    return ok ? 0 : 1;
}
