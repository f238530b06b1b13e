/* AsyncTaskScheduler through the runtime seam, with a scripted runtime: the
** test decides when workers finish and how. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/admit.h"

#define MAX_RUNNING 256
#define MAX_EVENTS  8192

typedef struct script_rt {
    int64_t now;
    int64_t last_wake;
    int wakes;
    admit_worker *running[MAX_RUNNING];
    int nrunning;
    int spawn_calls;
    int fail_spawn_on_call; /* 1-based spawn call that fails, 0: none */
    int cancels;
    admit_event events[MAX_EVENTS];
    int nevents;
} script_rt;

static int64_t rt_now(void *ctx) {
    return ((script_rt *)ctx)->now;
}
static void rt_wake(void *ctx, int64_t at) {
    script_rt *r = ctx;
    r->last_wake = at;
    r->wakes++;
}
static int rt_spawn(void *ctx, admit_worker *w) {
    script_rt *r = ctx;
    r->spawn_calls++;
    if (r->spawn_calls == r->fail_spawn_on_call) return -1;
    assert_true(r->nrunning < MAX_RUNNING);
    r->running[r->nrunning++] = w;
    return 0;
}
static void rt_cancel(void *ctx, admit_worker *w) {
    (void)w;
    ((script_rt *)ctx)->cancels++;
}
static void sink(void *ctx, const admit_event *ev) {
    script_rt *r = ctx;
    if (r->nevents < MAX_EVENTS) r->events[r->nevents++] = *ev;
}

static admit_worker *take_first(script_rt *r) {
    assert_true(r->nrunning > 0);
    admit_worker *w = r->running[0];
    memmove(&r->running[0], &r->running[1], (size_t)(r->nrunning - 1) * sizeof r->running[0]);
    r->nrunning--;
    return w;
}

static void finish(admit_scheduler *s, admit_worker *w, admit_worker_outcome o) {
    admit_scheduler_worker_finished(s, w, w->execution_id, o);
}

static admit_group_spec groups[2];
static uint32_t limits[1] = {2};

static admit_scheduler *make(script_rt *rt, admit_column_spec *cols, uint32_t ncols,
                             int64_t records, int64_t buffer, uint32_t max_rg) {
    memset(groups, 0, sizeof groups);
    groups[0] = (admit_group_spec){.key = "local:default|a", .weight = 1};
    groups[1] = (admit_group_spec){.key = "local:default|b", .weight = 1};
    admit_scheduler_config cfg;
    admit_scheduler_config_init(&cfg);
    cfg.columns = cols;
    cfg.column_count = ncols;
    cfg.records = records;
    cfg.buffer_size = buffer;
    cfg.max_concurrent_row_groups = max_rg;
    cfg.groups = groups;
    cfg.group_count = 2;
    cfg.resource_count = 1;
    cfg.resource_limits = limits;
    admit_policy_strict_fair(&cfg.policy);
    cfg.runtime = (admit_runtime){rt, rt_now, rt_wake, rt_spawn, rt_cancel};
    cfg.sink = (admit_event_sink){sink, rt};
    admit_error err;
    admit_scheduler *s = admit_scheduler_create(&cfg, &err);
    assert_non_null(s);
    assert_int_equal(admit_scheduler_start(s, &err), ADMIT_OK);
    return s;
}

static const admit_resource_request one_submission = {.count = 1, .resource = {0}, .amount = {1}};

/* One group, one submission resource, strict policy, no sink. */
static void one_group_config(admit_scheduler_config *cfg, script_rt *rt, admit_column_spec *col) {
    groups[0] = (admit_group_spec){.key = "g", .weight = 1};
    admit_scheduler_config_init(cfg);
    cfg->columns = col;
    cfg->column_count = 1;
    cfg->records = 1;
    cfg->groups = groups;
    cfg->group_count = 1;
    cfg->resource_count = 1;
    cfg->resource_limits = limits;
    admit_policy_strict_fair(&cfg->policy);
    cfg->runtime = (admit_runtime){rt, rt_now, rt_wake, rt_spawn, rt_cancel};
}

static int count_kind(const script_rt *r, admit_event_kind k) {
    int n = 0;
    for (int i = 0; i < r->nevents; i++)
        n += r->events[i].kind == k;
    return n;
}

/* Every acquired lease was released exactly once and nothing is left. */
static void assert_ledger_clean(const admit_scheduler *s) {
    const admit_task_admission *a = admit_scheduler_admission(s);
    admit_task_admission_stats st;
    admit_task_admission_stats_get(a, &st);
    assert_int_equal(st.acquired, st.released);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_RELEASED], st.released);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_DUPLICATE], 0);
    const admit_admission_view *v = admit_task_admission_view(a);
    assert_int_equal(v->leases_active, 0);
    assert_int_equal(v->leased[0], 0);
    assert_int_equal(v->running_by_group[0], 0);
    admit_scheduler_stats ss;
    admit_scheduler_stats_get(s, &ss);
    assert_int_equal(ss.hidden_waiters, 0);
    assert_int_equal(ss.running, 0);
}

static void test_deadline_wakes_sleeping_dispatcher(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec col = {
        .name = "a", .rows = 0, .available_at_ns = 5000000000LL, .resources = one_submission};
    admit_scheduler *s = make(&rt, &col, 1, 3, 0, 0);
    assert_int_equal(rt.last_wake, 0);
    admit_scheduler_dispatch(s);
    assert_int_equal(rt.nrunning, 0);
    assert_int_equal(rt.last_wake, 5000000000LL); /* asked to be woken at the ready time */
    rt.now = 5000000000LL;
    admit_scheduler_dispatch(s);
    assert_int_equal(rt.nrunning, 2); /* limit 2 */
    while (rt.nrunning) {
        finish(s, take_first(&rt), ADMIT_WORKER_SUCCESS);
        admit_scheduler_dispatch(s);
    }
    assert_int_equal(admit_scheduler_status(s), ADMIT_JOB_COMPLETED);
    assert_ledger_clean(s);
    admit_scheduler_destroy(s);
}

/* A policy that holds every task until a fixed time and says so through
** available_after, as a rate or time-window policy would. */
typedef struct hold_policy {
    const script_rt *rt;
    int64_t until;
} hold_policy;

static void hold_evaluate(void *ctx, const admit_task *task, const admit_queue_view *q,
                          const admit_admission_view *a, admit_policy_decision *out) {
    (void)task, (void)q, (void)a;
    const hold_policy *h = ctx;
    out->allowed = h->rt->now >= h->until;
    if (!out->allowed) {
        out->reason = ADMIT_DENY_POLICY;
        out->available_after_ns = h->until;
    }
}

static void test_available_after_wakes_sleeping_dispatcher(void **state) {
    (void)state;
    script_rt rt = {0};
    hold_policy hold = {&rt, 7000};
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler_config cfg;
    one_group_config(&cfg, &rt, &col);
    groups[0].admitted_limit = 4;
    cfg.records = 2;
    cfg.policy = (admit_task_policy){.name = "hold", .ctx = &hold, .evaluate = hold_evaluate};
    cfg.sink = (admit_event_sink){sink, &rt};
    admit_error err;
    admit_scheduler *s = admit_scheduler_create(&cfg, &err);
    assert_non_null(s);
    assert_int_equal(admit_scheduler_start(s, &err), ADMIT_OK);
    admit_scheduler_dispatch(s);
    assert_int_equal(rt.nrunning, 0);
    assert_int_equal(count_kind(&rt, ADMIT_EV_ADMISSION_BLOCKED), 1);
    assert_int_equal(rt.last_wake, 7000); /* sleeps until the policy's deadline */
    rt.now = 7000;
    admit_scheduler_dispatch(s);
    assert_int_equal(rt.nrunning, 2);
    admit_scheduler_destroy(s);
}

static void test_release_wakes_dispatcher(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler *s = make(&rt, &col, 1, 4, 0, 0);
    admit_scheduler_dispatch(s);
    assert_int_equal(rt.nrunning, 2);
    int wakes = rt.wakes;
    rt.now = 10;
    finish(s, take_first(&rt), ADMIT_WORKER_SUCCESS);
    assert_int_equal(rt.wakes, wakes + 1);
    assert_int_equal(rt.last_wake, 10);
    admit_scheduler_destroy(s);
}

/* Drives to the end, finishing workers in FIFO order with scripted outcomes. */
static void drive(admit_scheduler *s, script_rt *rt, const admit_worker_outcome *script,
                  int nscript) {
    int step = 0;
    admit_scheduler_dispatch(s);
    for (int guard = 0; !admit_scheduler_is_finished(s) && guard < 10000; guard++) {
        if (rt->nrunning == 0) {
            admit_scheduler_dispatch(s);
            if (rt->nrunning == 0) break;
            continue;
        }
        rt->now += 1000;
        admit_worker_outcome o = step < nscript ? script[step] : ADMIT_WORKER_SUCCESS;
        step++;
        finish(s, take_first(rt), o);
        admit_scheduler_dispatch(s);
    }
    assert_true(admit_scheduler_is_finished(s));
}

static void test_exactly_once_under_failures(void **state) {
    (void)state;
    script_rt rt = {.fail_spawn_on_call = 3};
    uint32_t deps[1] = {0};
    admit_column_spec cols[2] = {
        {.name = "a", .resources = one_submission},
        {.name = "b", .deps = deps, .dep_count = 1, .group = 1, .resources = one_submission}};
    admit_scheduler *s = make(&rt, cols, 2, 8, 4, 1);
    admit_worker_outcome script[] = {ADMIT_WORKER_RETRYABLE_FAILURE, ADMIT_WORKER_SUCCESS,
                                     ADMIT_WORKER_NON_RETRYABLE_FAILURE, ADMIT_WORKER_SUCCESS,
                                     ADMIT_WORKER_RETRYABLE_FAILURE};
    drive(s, &rt, script, 5);
    assert_int_equal(admit_scheduler_status(s), ADMIT_JOB_COMPLETED);
    assert_ledger_clean(s);
    admit_scheduler_stats st;
    admit_scheduler_stats_get(s, &st);
    assert_int_equal(st.spawn_failures, 1);
    assert_true(st.retries_deferred >= 3); /* two scripted + the spawn failure */
    assert_true(st.salvage_redispatched >= 3);
    assert_int_equal(st.rows_dropped, 1);
    /* A dropped row takes its downstream cell with it: 16 tasks, one failed
    ** root and its child dropped, everything else completed. */
    assert_int_equal(st.tasks_completed, 14);
    assert_int_equal(count_kind(&rt, ADMIT_EV_WORKER_SPAWN_FAILED), 1);
    assert_int_equal(count_kind(&rt, ADMIT_EV_ROW_GROUP_CHECKPOINTED), 2);
    /* Leases released == leases acquired, as events too. */
    assert_int_equal(count_kind(&rt, ADMIT_EV_TASK_LEASE_ACQUIRED),
                     count_kind(&rt, ADMIT_EV_TASK_LEASE_RELEASED));
    admit_scheduler_destroy(s);
}

/* A salvaged task goes back through the frontier only after its first
** lease was released. */
static void test_salvage_after_release(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler *s = make(&rt, &col, 1, 1, 0, 0);
    admit_worker_outcome script[] = {ADMIT_WORKER_RETRYABLE_FAILURE,
                                     ADMIT_WORKER_RETRYABLE_FAILURE};
    drive(s, &rt, script, 2);
    admit_scheduler_stats st;
    admit_scheduler_stats_get(s, &st);
    assert_int_equal(st.salvage_rounds, 2);
    assert_int_equal(st.tasks_completed, 1);
    int released = -1, salvaged = -1;
    for (int i = 0; i < rt.nevents; i++) {
        if (rt.events[i].kind == ADMIT_EV_TASK_LEASE_RELEASED && released < 0) released = i;
        if (rt.events[i].kind == ADMIT_EV_SALVAGE_REDISPATCHED && salvaged < 0) salvaged = i;
    }
    assert_true(released >= 0 && salvaged > released);
    assert_ledger_clean(s);
    admit_scheduler_destroy(s);
}

static void test_salvage_exhausted_drops(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler *s = make(&rt, &col, 1, 1, 0, 0);
    admit_worker_outcome script[] = {ADMIT_WORKER_RETRYABLE_FAILURE, ADMIT_WORKER_RETRYABLE_FAILURE,
                                     ADMIT_WORKER_RETRYABLE_FAILURE};
    drive(s, &rt, script, 3);
    admit_scheduler_stats st;
    admit_scheduler_stats_get(s, &st);
    assert_int_equal(st.salvage_rounds, 2);
    assert_int_equal(st.tasks_completed, 0);
    assert_int_equal(st.tasks_dropped, 1);
    assert_int_equal(admit_scheduler_status(s), ADMIT_JOB_COMPLETED);
    assert_ledger_clean(s);
    admit_scheduler_destroy(s);
}

static void test_cancellation_releases_every_lease(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler *s = make(&rt, &col, 1, 10, 0, 0);
    admit_scheduler_dispatch(s);
    assert_int_equal(rt.nrunning, 2);
    admit_scheduler_cancel(s);
    assert_int_equal(rt.cancels, 2);
    assert_false(admit_scheduler_is_finished(s)); /* waits for the workers */
    admit_scheduler_dispatch(s);
    assert_int_equal(rt.nrunning, 2); /* nothing new after cancel */
    admit_worker *w1 = take_first(&rt), *w2 = take_first(&rt);
    finish(s, w1, ADMIT_WORKER_CANCELLED);
    finish(s, w2, ADMIT_WORKER_SUCCESS); /* finished just before the cancel landed */
    admit_scheduler_dispatch(s);
    assert_int_equal(admit_scheduler_status(s), ADMIT_JOB_CANCELLED);
    assert_int_equal(admit_fair_queue_view(admit_scheduler_queue(s))->queued_total, 0);
    assert_int_equal(count_kind(&rt, ADMIT_EV_CANCELLED), 1);
    assert_ledger_clean(s);
    admit_scheduler_destroy(s);
}

static void test_early_shutdown_on_error_rate(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler *s = make(&rt, &col, 1, 40, 0, 0);
    admit_worker_outcome script[40];
    for (int i = 0; i < 40; i++)
        script[i] = ADMIT_WORKER_NON_RETRYABLE_FAILURE;
    drive(s, &rt, script, 40);
    assert_int_equal(admit_scheduler_status(s), ADMIT_JOB_EARLY_SHUTDOWN);
    admit_scheduler_stats st;
    admit_scheduler_stats_get(s, &st);
    /* 6 of the first 10 fail > 0.5: shutdown after the sixth failure at the latest
    ** (the window needs 10 outcomes), then the one in flight is cancelled. */
    assert_true(st.workers_spawned <= 12);
    assert_ledger_clean(s);
    admit_scheduler_destroy(s);
}

static void test_duplicate_finish_ignored(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler *s = make(&rt, &col, 1, 3, 0, 0);
    admit_scheduler_dispatch(s);
    admit_worker *w = take_first(&rt);
    finish(s, w, ADMIT_WORKER_SUCCESS);
    finish(s, w, ADMIT_WORKER_SUCCESS); /* ignored: no second release */
    admit_task_admission_stats st;
    admit_task_admission_stats_get(admit_scheduler_admission(s), &st);
    assert_int_equal(st.released, 1);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_DUPLICATE], 0);
    admit_scheduler_destroy(s);
}

/* A repeated finish for an execution whose worker record was reused must not
** end the worker that now owns the record. */
static void test_repeated_finish_after_reuse_ignored(void **state) {
    (void)state;
    script_rt rt = {0};
    limits[0] = 1;
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler *s = make(&rt, &col, 1, 2, 0, 0);
    admit_scheduler_dispatch(s);
    admit_worker *w1 = take_first(&rt);
    uint64_t exec1 = w1->execution_id;
    finish(s, w1, ADMIT_WORKER_SUCCESS);
    admit_scheduler_dispatch(s);
    admit_worker *w2 = take_first(&rt);
    assert_ptr_equal(w1, w2);                                            /* the record was reused */
    admit_scheduler_worker_finished(s, w2, exec1, ADMIT_WORKER_SUCCESS); /* late repeat */
    admit_scheduler_stats st;
    admit_scheduler_stats_get(s, &st);
    assert_int_equal(st.stale_finishes, 1);
    assert_int_equal(st.running, 1);
    assert_int_equal(admit_task_admission_view(admit_scheduler_admission(s))->leases_active, 1);
    finish(s, w2, ADMIT_WORKER_SUCCESS);
    admit_scheduler_dispatch(s);
    assert_int_equal(admit_scheduler_status(s), ADMIT_JOB_COMPLETED);
    assert_ledger_clean(s);
    limits[0] = 2;
    admit_scheduler_destroy(s);
}

/* A runtime may cancel one worker on its own (a timeout): the task is
** retried, not stranded. */
static void test_runtime_cancel_outside_shutdown_retries(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler *s = make(&rt, &col, 1, 1, 0, 0);
    admit_worker_outcome script[] = {ADMIT_WORKER_CANCELLED};
    drive(s, &rt, script, 1);
    assert_int_equal(admit_scheduler_status(s), ADMIT_JOB_COMPLETED);
    admit_scheduler_stats st;
    admit_scheduler_stats_get(s, &st);
    assert_int_equal(st.tasks_completed, 1);
    assert_int_equal(st.retries_deferred, 1);
    assert_ledger_clean(s);
    admit_scheduler_destroy(s);
}

/* Salvage rounds are a per-task budget: every row gets its own retries. */
static void test_salvage_budget_is_per_task(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler *s = make(&rt, &col, 1, 3, 1, 1); /* 3 row groups of one row, one at a time */
    admit_worker_outcome script[9];
    for (int i = 0; i < 9; i++)
        script[i] = ADMIT_WORKER_RETRYABLE_FAILURE;
    drive(s, &rt, script, 9);
    admit_scheduler_stats st;
    admit_scheduler_stats_get(s, &st);
    assert_int_equal(st.workers_spawned, 9); /* 3 attempts for each of the 3 rows */
    assert_int_equal(st.tasks_dropped, 3);
    assert_int_equal(st.salvage_redispatched, 6);
    assert_ledger_clean(s);
    admit_scheduler_destroy(s);
}

/* A task whose row was dropped while it ran is not retried after a
** retryable failure: there is nothing left to produce. */
static void test_no_retry_for_dropped_row(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec cols[2] = {{.name = "a", .resources = one_submission},
                                 {.name = "b", .group = 1, .resources = one_submission}};
    admit_scheduler *s = make(&rt, cols, 2, 1, 0, 0);
    admit_scheduler_dispatch(s);
    assert_int_equal(rt.nrunning, 2); /* a0 and b0, independent roots of row 0 */
    admit_worker *a0 = take_first(&rt), *b0 = take_first(&rt);
    finish(s, a0, ADMIT_WORKER_NON_RETRYABLE_FAILURE); /* drops row 0 */
    finish(s, b0, ADMIT_WORKER_RETRYABLE_FAILURE);
    admit_scheduler_dispatch(s);
    assert_int_equal(rt.nrunning, 0);
    assert_int_equal(admit_scheduler_status(s), ADMIT_JOB_COMPLETED);
    admit_scheduler_stats st;
    admit_scheduler_stats_get(s, &st);
    assert_int_equal(st.retries_deferred, 0);
    assert_int_equal(st.salvage_redispatched, 0);
    assert_ledger_clean(s);
    admit_scheduler_destroy(s);
}

static void test_unsatisfiable_requests_rejected(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec col = {.name = "a",
                             .resources = {.count = 2, .resource = {0, 0}, .amount = {1, 1}}};
    admit_scheduler_config cfg;
    one_group_config(&cfg, &rt, &col);
    admit_error err;
    assert_null(admit_scheduler_create(&cfg, &err));
    assert_string_equal(err.message, "column 0 requests resource 0 twice");
    col.resources = (admit_resource_request){.count = 1, .resource = {0}, .amount = {3}};
    assert_null(admit_scheduler_create(&cfg, &err));
    assert_int_equal(err.code, ADMIT_ECONFIG);
    assert_string_equal(err.message, "column 0 requests 3 of resource 0, whose limit is 2");
}

/* The controller itself never over-grants, even for a request naming one
** resource twice (callers other than the scheduler can build one). */
static void test_admission_counts_repeated_resource(void **state) {
    (void)state;
    groups[0] = (admit_group_spec){.key = "g", .weight = 1};
    uint32_t one[1] = {1};
    admit_task_policy pol;
    admit_policy_strict_fair(&pol);
    admit_task_admission_config ac = {
        .groups = groups, .group_count = 1, .resource_count = 1, .limits = one, .policy = pol};
    admit_error err;
    admit_task_admission *c = admit_task_admission_create(&ac, &err);
    assert_non_null(c);
    admit_task t = {.task_id = 1, .resources = {.count = 2, .resource = {0, 0}, .amount = {1, 1}}};
    admit_task_lease lease;
    admit_policy_decision d;
    assert_false(admit_task_admission_try_acquire(c, &t, NULL, 0, &lease, &d));
    assert_int_equal(d.reason, ADMIT_DENY_NO_CAPACITY);
    assert_int_equal(admit_task_admission_view(c)->leased[0], 0);
    admit_task_admission_destroy(c);
}

static void test_cancel_before_start(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler_config cfg;
    one_group_config(&cfg, &rt, &col);
    admit_error err;
    admit_scheduler *s = admit_scheduler_create(&cfg, &err);
    admit_scheduler_cancel(s);
    assert_int_equal(admit_scheduler_status(s), ADMIT_JOB_CANCELLED);
    assert_int_not_equal(admit_scheduler_start(s, &err), ADMIT_OK);
    assert_int_equal(rt.spawn_calls, 0);
    admit_scheduler_destroy(s);
}

static void test_row_group_admission_limits_frontier(void **state) {
    (void)state;
    script_rt rt = {0};
    limits[0] = 8;
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler *s = make(&rt, &col, 1, 6, 2, 1);
    admit_scheduler_dispatch(s);
    assert_int_equal(rt.nrunning, 2); /* one row group of two rows, despite 8 slots */
    assert_int_equal(count_kind(&rt, ADMIT_EV_ROW_GROUP_ADMISSION_BLOCKED), 1);
    finish(s, take_first(&rt), ADMIT_WORKER_SUCCESS);
    admit_scheduler_dispatch(s);
    assert_int_equal(rt.nrunning, 1);
    finish(s, take_first(&rt), ADMIT_WORKER_SUCCESS);
    admit_scheduler_dispatch(s);
    assert_int_equal(rt.nrunning, 2); /* row group 1 admitted after the checkpoint */
    assert_int_equal(count_kind(&rt, ADMIT_EV_ROW_GROUP_CHECKPOINTED), 1);
    drive(s, &rt, NULL, 0);
    admit_scheduler_stats st;
    admit_scheduler_stats_get(s, &st);
    assert_int_equal(st.max_row_groups_in_flight, 1);
    assert_int_equal(st.row_groups_checkpointed, 3);
    limits[0] = 2;
    admit_scheduler_destroy(s);
}

static void test_event_sequence_monotonic(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler *s = make(&rt, &col, 1, 5, 0, 0);
    drive(s, &rt, NULL, 0);
    for (int i = 1; i < rt.nevents; i++) {
        assert_int_equal(rt.events[i].sequence, rt.events[i - 1].sequence + 1);
        assert_true(rt.events[i].captured_at_ns >= rt.events[i - 1].captured_at_ns);
    }
    assert_int_equal(rt.events[0].kind, ADMIT_EV_SCHEDULER_JOB_STARTED);
    assert_int_equal(rt.events[rt.nevents - 1].kind, ADMIT_EV_SCHEDULER_JOB_COMPLETED);
    /* Per task: dependency_ready, ready_enqueued, selected, lease, spawn, completed, released. */
    assert_int_equal(count_kind(&rt, ADMIT_EV_WORKER_SPAWNED), 5);
    assert_int_equal(count_kind(&rt, ADMIT_EV_DEPENDENCY_READY), 5);
    admit_scheduler_destroy(s);
}

static int destroyed;

static void counting_destroy(void *ctx) {
    destroyed++;
    free(ctx);
}

/* Creates a scheduler from cfg with a policy whose context is allocated and
** whose destroy counts; returns the scheduler (NULL on failure). */
static admit_scheduler *create_counting(admit_scheduler_config *cfg, admit_error *err) {
    admit_policy_strict_fair(&cfg->policy);
    cfg->policy.ctx = malloc(16);
    assert_non_null(cfg->policy.ctx);
    cfg->policy.destroy = counting_destroy;
    return admit_scheduler_create(cfg, err);
}

/* "Policy ownership" (task_admission.h): whichever step of create fails
** (configuration, tracker, queue, task admission), the policy has been
** destroyed exactly once when create returns NULL; after a successful
** create it is destroyed with the scheduler.  Valgrind and ASan see no leak
** and no double free on any of these paths. */
static void test_create_owns_policy_on_every_failure(void **state) {
    (void)state;
    script_rt rt = {0};
    admit_column_spec col = {.name = "a", .resources = one_submission};
    admit_scheduler_config cfg;
    admit_error err;
    destroyed = 0;

    one_group_config(&cfg, &rt, &col);
    cfg.runtime.spawn = NULL; /* configuration */
    assert_null(create_counting(&cfg, &err));
    assert_int_equal(err.code, ADMIT_EINVAL);
    assert_int_equal(destroyed, 1);

    one_group_config(&cfg, &rt, &col);
    cfg.records = 0; /* the tracker refuses it */
    assert_null(create_counting(&cfg, &err));
    assert_string_equal(err.message, "tracker needs at least one column and one record");
    assert_int_equal(destroyed, 2);

    one_group_config(&cfg, &rt, &col);
    cfg.groups = NULL; /* the queue refuses it */
    assert_null(create_counting(&cfg, &err));
    assert_string_equal(err.message, "fair queue needs at least one group and resource");
    assert_int_equal(destroyed, 3);

    one_group_config(&cfg, &rt, &col);
    assert_null(admit_scheduler_create(NULL, &err)); /* no configuration, no policy */
    admit_policy_strict_fair(&cfg.policy);
    cfg.policy.ctx = malloc(16);
    cfg.policy.destroy = counting_destroy;
    cfg.policy.evaluate = NULL; /* task admission refuses it, after taking it */
    assert_null(admit_scheduler_create(&cfg, &err));
    assert_string_equal(err.message, "task admission needs groups, resource limits and a policy");
    assert_int_equal(destroyed, 4);

    one_group_config(&cfg, &rt, &col);
    admit_scheduler *s = create_counting(&cfg, &err);
    assert_non_null(s);
    assert_int_equal(destroyed, 4);
    admit_scheduler_destroy(s);
    assert_int_equal(destroyed, 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_wakes_sleeping_dispatcher),
        cmocka_unit_test(test_available_after_wakes_sleeping_dispatcher),
        cmocka_unit_test(test_release_wakes_dispatcher),
        cmocka_unit_test(test_exactly_once_under_failures),
        cmocka_unit_test(test_salvage_after_release),
        cmocka_unit_test(test_salvage_exhausted_drops),
        cmocka_unit_test(test_cancellation_releases_every_lease),
        cmocka_unit_test(test_early_shutdown_on_error_rate),
        cmocka_unit_test(test_duplicate_finish_ignored),
        cmocka_unit_test(test_repeated_finish_after_reuse_ignored),
        cmocka_unit_test(test_runtime_cancel_outside_shutdown_retries),
        cmocka_unit_test(test_salvage_budget_is_per_task),
        cmocka_unit_test(test_no_retry_for_dropped_row),
        cmocka_unit_test(test_unsatisfiable_requests_rejected),
        cmocka_unit_test(test_admission_counts_repeated_resource),
        cmocka_unit_test(test_cancel_before_start),
        cmocka_unit_test(test_row_group_admission_limits_frontier),
        cmocka_unit_test(test_event_sequence_monotonic),
        cmocka_unit_test(test_create_owns_policy_on_every_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
