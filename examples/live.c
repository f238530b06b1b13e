/*
** Embedding the admit core live: two generator columns defined in C run
** against an OpenAI-compatible endpoint on the real clock.
**
**   question  (ROWS cells)          one chat call each
**   answer    (depends on question) one chat call each
**
** libadmit-live provides the runtime seam on a libuv loop (live/runtime.h:
** now, wake_at, spawn, cancel, request admission's timer) and the HTTP
** provider on libcurl (live/http_provider.h); the core provides the
** scheduler, request admission (AIMD: a 429 cools the endpoint down for its
** Retry-After) and the model executor.  A call that does not succeed fails
** its task retryably, and the scheduler's salvage runs it again (at most
** twice).  The API key, if any, comes from the environment variable
** ADMIT_EXAMPLE_API_KEY and is never printed.  Prints every event; exits 0
** when every task completed and nothing is left: no task or request lease,
** no waiter.
**
** Build: cc -std=c11 live.c $(pkg-config --cflags --libs admit-live admit-core)
** Run:   ./live http://127.0.0.1:8080/v1 MODEL_ID
*/
#define _POSIX_C_SOURCE 200809L /* libuv's headers need POSIX types under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/admit.h"
#include "live/http_provider.h"
#include "live/loop.h"
#include "live/runtime.h"

#define ROWS 6

typedef struct app {
    live_loop *loop;
    live_runtime *rt;
    live_http *http;
    admit_scheduler *sched;
    admit_request_admission *requests;
    admit_model_executor *exec;
    int64_t t0;
} app;

static void print_event(void *ctx, const admit_event *ev) {
    const app *a = ctx;
    printf("%9.3f ms  %-9s  %-34s task=%#-14llx lease=%llu\n",
           (double)(ev->captured_at_ns - a->t0) / 1e6,
           ev->stream == ADMIT_STREAM_SCHEDULER ? "scheduler" : "request", admit_event_name(ev),
           (unsigned long long)ev->task_id, (unsigned long long)ev->lease_id);
}

/* A call ended (its request lease already released): so does the task. */
static void call_done(void *ctx, const admit_model_attempt_result *r) {
    app *a = ctx;
    admit_worker *w = r->user;
    bool ok = r->admitted && r->outcome.kind == ADMIT_REQ_SUCCESS;
    live_runtime_finish(a->rt, w, ok ? ADMIT_WORKER_SUCCESS : ADMIT_WORKER_RETRYABLE_FAILURE);
}

/* A worker of either column: one chat call through the executor. */
static void worker_start(void *ctx, admit_worker *w) {
    app *a = ctx;
    admit_model_request req = {
        .resource = 0,
        .group = ADMIT_REQ_GROUP_DEFAULT,
        .queue_wait_timeout_ns = ADMIT_REQ_TIMEOUT_DEFAULT,
        .corr = {.column = (int32_t)w->task->column, .task_execution_id = w->execution_id},
        .task_id = w->task->task_id,
        .user = w};
    admit_error err = {0};
    if (admit_model_executor_execute_attempt(a->exec, &req, call_done, a, NULL, &err) != ADMIT_OK)
        live_runtime_finish(a->rt, w, ADMIT_WORKER_RETRYABLE_FAILURE);
}

/* Calls take what they take; a cancelled worker finishes with its call. */
static void worker_cancel(void *ctx, admit_worker *w) {
    (void)ctx, (void)w;
}

/* Request stage: one endpoint, 3 calls at once, AIMD defaults. */
static admit_status setup_requests(app *a, const char *url, const char *model, admit_error *err) {
    admit_request_resolver *resolver = admit_request_resolver_create(err);
    uint32_t pm;
    if (!resolver ||
        admit_request_resolver_add_alias(resolver, "model", "example", model, 3, &pm, err) !=
            ADMIT_OK ||
        admit_request_resolver_resource(resolver, pm, ADMIT_DOMAIN_CHAT) != 0) {
        admit_request_resolver_destroy(resolver);
        return err->code ? err->code : admit_error_set(err, ADMIT_EINVAL, "no request resource");
    }
    admit_request_admission_config rc;
    admit_request_admission_config_init(&rc);
    rc.resolver = resolver;
    rc.now = live_runtime_now; /* the loop's clock: one clock for both stages */
    rc.clock_ctx = a->rt;
    rc.wake_at = live_runtime_request_wake_at;
    rc.wake_ctx = a->rt;
    rc.sink = (admit_event_sink){print_event, a};
    a->requests = admit_request_admission_create(&rc, err);
    admit_request_resolver_destroy(resolver);
    if (!a->requests) return err->code;
    admit_model_provider provider = live_http_provider(a->http);
    a->exec = admit_model_executor_create(a->requests, &provider, err);
    if (!a->exec) return err->code;
    live_http_bind(a->http, a->exec);
    live_http_endpoint ep = {.domain = ADMIT_DOMAIN_CHAT, .timeout_ns = INT64_C(30000000000)};
    snprintf(ep.base_url, sizeof ep.base_url, "%s", url);
    snprintf(ep.model, sizeof ep.model, "%s", model);
    if (getenv("ADMIT_EXAMPLE_API_KEY"))
        live_http_api_key_from_env("ADMIT_EXAMPLE_API_KEY", ep.api_key, sizeof ep.api_key, err);
    return live_http_set_endpoint(a->http, 0, &ep, err);
}

/* Task stage: the two columns, 4 submission slots. */
static admit_status setup_tasks(app *a, admit_error *err) {
    static const admit_group_spec groups[2] = {
        {.key = "model:example|question", .kind = ADMIT_KIND_MODEL, .weight = 2},
        {.key = "model:example|answer", .kind = ADMIT_KIND_MODEL, .weight = 2}};
    static const uint32_t limits[1] = {4}; /* resource 0: submission */
    static const uint32_t question[1] = {0};
    static const admit_column_spec columns[2] = {
        {.name = "question", .group = 0, .resources = {.count = 1, .resource = {0}, .amount = {1}}},
        {.name = "answer",
         .deps = question,
         .dep_count = 1,
         .group = 1,
         .resources = {.count = 1, .resource = {0}, .amount = {1}}}};
    admit_scheduler_config sc;
    admit_scheduler_config_init(&sc);
    sc.columns = columns;
    sc.column_count = 2;
    sc.records = ROWS;
    sc.groups = groups;
    sc.group_count = 2;
    sc.resource_count = 1;
    sc.resource_limits = limits;
    admit_policy_strict_fair(&sc.policy);
    sc.runtime = live_runtime_seam(a->rt);
    sc.sink = (admit_event_sink){print_event, a};
    a->sched = admit_scheduler_create(&sc, err);
    if (!a->sched) return err->code;
    live_runtime_bind(a->rt, a->sched, a->requests);
    return ADMIT_OK;
}

static int report(app *a) {
    admit_request_admission_stats rs;
    admit_request_admission_stats_get(a->requests, &rs);
    admit_scheduler_stats ss;
    admit_scheduler_stats_get(a->sched, &ss);
    uint64_t task_leases =
        admit_task_admission_view(admit_scheduler_admission(a->sched))->leases_active;
    printf("live: %s, %llu of %d tasks completed, %llu request leases taken; left: %llu task "
           "leases, %llu request leases, %llu request waiters\n",
           admit_job_status_name(admit_scheduler_status(a->sched)),
           (unsigned long long)ss.tasks_completed, 2 * ROWS, (unsigned long long)rs.leases_acquired,
           (unsigned long long)task_leases, (unsigned long long)rs.leases_active,
           (unsigned long long)rs.waiters_queued);
    return admit_scheduler_status(a->sched) == ADMIT_JOB_COMPLETED &&
                   ss.tasks_completed == 2 * ROWS && task_leases == 0 && rs.leases_active == 0 &&
                   rs.waiters_queued == 0
               ? 0
               : 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s BASE_URL MODEL   (e.g. http://127.0.0.1:8080/v1 gpt-4o-mini)\n",
                argv[0]);
        return 2;
    }
    uv_loop_t uv;
    uv_loop_init(&uv);
    app a = {0};
    admit_error err = {0};
    live_worker_hooks hooks = {.ctx = &a, .start = worker_start, .cancel = worker_cancel};
    int rc = 1;
    if ((a.loop = live_loop_create(&uv, 1.0, &err)) &&
        (a.rt = live_runtime_create(a.loop, &hooks, &err)) &&
        (a.http = live_http_create(a.loop, &err)) &&
        setup_requests(&a, argv[1], argv[2], &err) == ADMIT_OK &&
        setup_tasks(&a, &err) == ADMIT_OK) {
        a.t0 = live_loop_now(a.loop);
        if (live_runtime_run(a.rt, &err) == ADMIT_OK) rc = report(&a);
    }
    if (err.code != ADMIT_OK) fprintf(stderr, "live: %s\n", err.message);
    if (a.loop) live_loop_halt(a.loop);
    admit_scheduler_destroy(a.sched);
    admit_model_executor_destroy(a.exec);
    admit_request_admission_destroy(a.requests);
    live_http_destroy(a.http);
    live_runtime_destroy(a.rt);
    live_loop_destroy(a.loop);
    uv_run(&uv, UV_RUN_DEFAULT);
    uv_loop_close(&uv);
    return rc;
}
