/*
** CorrelatedRuntimeView: joins of hand-built scheduler and request streams
** (plain execution, zero-wait acquisition, several attempts with a rate
** limit, retry / salvage, cancellation, a hidden waiter), each derived
** metric on small timelines worked out by hand, and end-to-end checks on
** shipped scenarios.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/resources.h"
#include "res/correlated_view.h"
#include "res/spill.h"
#include "sim_test.h"

#define SEC 1000000000LL
#define MS  1000000LL

typedef struct stream {
    admit_event ev[128];
    size_t n;
} stream;

/* Scheduler event; group and column < 0 for job-level events. */
static void S(stream *s, int64_t t, admit_event_kind kind, uint64_t task, uint64_t exec,
              uint64_t lease, int32_t column, int64_t value) {
    assert_true(s->n < 128);
    s->ev[s->n] = (admit_event){.sequence = s->n,
                                .captured_at_ns = t,
                                .stream = ADMIT_STREAM_SCHEDULER,
                                .kind = (uint16_t)kind,
                                .reason = -1,
                                .resource = -1,
                                .task_id = task,
                                .lease_id = lease,
                                .value = value,
                                .corr = {.row_group = -1,
                                         .column = column,
                                         .task_type = -1,
                                         .group = column, /* group g = column g here */
                                         .group_kind = -1,
                                         .task_execution_id = exec}};
    if (task) s->ev[s->n].corr.row_group = 0;
    s->n++;
}

static void R(stream *s, int64_t t, admit_request_event_kind kind, uint64_t task, uint64_t exec,
              uint64_t attempt, int64_t value) {
    assert_true(s->n < 128);
    s->ev[s->n] = (admit_event){.sequence = s->n,
                                .captured_at_ns = t,
                                .stream = ADMIT_STREAM_REQUEST,
                                .kind = (uint16_t)kind,
                                .reason = -1,
                                .resource = 0,
                                .task_id = task,
                                .lease_id = attempt,
                                .attempt_id = attempt,
                                .value = value,
                                .corr = {.row_group = 0,
                                         .column = 0,
                                         .task_type = -1,
                                         .group = 0,
                                         .group_kind = -1,
                                         .task_execution_id = exec}};
    s->n++;
}

/* Column 0 "root" (group 0, weight w0) -> column 1 "down" (group 1,
** weight w1), both cell by cell; down covers down_rows rows (0: all). */
static res_view_column cols[2];
static res_view_group groups[2];

static res_view_facts facts(uint32_t cap, int w0, int w1, int64_t records, int64_t down_rows) {
    cols[0] = (res_view_column){.group = 0, .root = true, .cell_by_cell = true, .rows = 0};
    cols[1] = (res_view_column){.group = 1, .root = false, .cell_by_cell = true, .rows = down_rows};
    groups[0] = (res_view_group){"root", w0};
    groups[1] = (res_view_group){"down", w1};
    return (res_view_facts){.submission_capacity = cap,
                            .wall_ns = 0,
                            .records = records,
                            .buffer_size = records,
                            .cooldown_ns = 2 * SEC,
                            .column_count = 2,
                            .columns = cols,
                            .group_count = 2,
                            .groups = groups};
}

static uint64_t root_task(int64_t row) {
    return admit_task_id(0, ADMIT_TASK_FROM_SCRATCH, 0, row);
}
static uint64_t down_task(int64_t row) {
    return admit_task_id(1, ADMIT_TASK_CELL, 0, row);
}

/* ready -> queued -> selected -> leased -> spawned, all for one task. */
static void dispatch(stream *s, int64_t enq, int64_t sel, int64_t lease, uint64_t task, int32_t col,
                     uint64_t exec, uint64_t lease_id) {
    S(s, enq, ADMIT_EV_DEPENDENCY_READY, task, 0, 0, col, 0);
    S(s, enq, ADMIT_EV_READY_ENQUEUED, task, 0, 0, col, 1);
    S(s, sel, ADMIT_EV_SELECTED, task, 0, 0, col, 0);
    S(s, lease, ADMIT_EV_TASK_LEASE_ACQUIRED, task, 0, lease_id, col, 0);
    S(s, lease, ADMIT_EV_WORKER_SPAWNED, task, exec, lease_id, col, 1);
}

static void finish(stream *s, int64_t t, uint64_t task, int32_t col, uint64_t exec,
                   uint64_t lease_id) {
    S(s, t, ADMIT_EV_TASK_COMPLETED, task, exec, lease_id, col, 0);
    S(s, t, ADMIT_EV_TASK_LEASE_RELEASED, task, exec, lease_id, col, 0);
}

static res_correlated_view *build(const stream *sched, const stream *req, res_view_facts *f) {
    res_correlated_view *v =
        res_correlated_view_build(sched->ev, sched->n, req ? req->ev : NULL, req ? req->n : 0, f);
    assert_non_null(v);
    return v;
}

/* JSON of facts without resources: empty per-resource maps. */
static void assert_no_resource_maps(json_t *j) {
    assert_int_equal(
        json_object_size(json_object_get(json_object_get(j, "ready_idle_gap"), "resources")), 0);
    assert_int_equal(json_object_size(json_object_get(json_object_get(j, "fairness"), "resources")),
                     0);
}

static void assert_near(double got, double want) {
    if (got < want - 1e-9 || got > want + 1e-9) fail_msg("got %.12f, want %.12f", got, want);
}

/* One execution, one request attempt admitted at once (wait started ==
** completed): all thirteen timestamps; layers 1 + 1 + 0 + 4 + 2. */
static void test_plain_execution_zero_wait(void **state) {
    (void)state;
    stream s = {.n = 0}, r = {.n = 0};
    uint64_t t = root_task(0);
    dispatch(&s, 0, 1 * SEC, 2 * SEC, t, 0, 1, 11);
    R(&r, 3 * SEC, ADMIT_REV_REQUEST_WAIT_STARTED, t, 1, 1, 0);
    R(&r, 3 * SEC, ADMIT_REV_REQUEST_WAIT_COMPLETED, t, 1, 1, 0);
    R(&r, 3 * SEC, ADMIT_REV_REQUEST_LEASE_ACQUIRED, t, 1, 1, 1);
    R(&r, 3 * SEC, ADMIT_REV_MODEL_REQUEST_STARTED, t, 1, 1, 0);
    R(&r, 7 * SEC, ADMIT_REV_MODEL_REQUEST_COMPLETED, t, 1, 1, 4 * SEC);
    R(&r, 7 * SEC, ADMIT_REV_REQUEST_LEASE_RELEASED, t, 1, 1, 0);
    finish(&s, 8 * SEC, t, 0, 1, 11);
    res_view_facts f = facts(2, 1, 1, 1, 0);
    res_correlated_view *v = build(&s, &r, &f);
    assert_int_equal(v->row_count, 1);
    const res_view_row *row = &v->rows[0];
    int64_t want[RES_TS_COUNT] = {0,       0,       1 * SEC, 2 * SEC, 2 * SEC, 3 * SEC, 3 * SEC,
                                  3 * SEC, 3 * SEC, 7 * SEC, 7 * SEC, 8 * SEC, 8 * SEC};
    for (int i = 0; i < RES_TS_COUNT; i++)
        assert_int_equal(row->at[i], want[i]);
    assert_int_equal(row->task_execution_id, 1);
    assert_int_equal(row->attempts, 1);
    assert_int_equal(row->rate_limited_attempts, 0);
    assert_int_equal(row->end, RES_END_COMPLETED);
    assert_int_equal(row->request_wait_ns, 0); /* zero wait, present */
    assert_int_equal(row->provider_ns, 4 * SEC);
    const res_view_metrics *m = &v->m;
    assert_int_equal(m->hidden_scheduler_resource_waiters, 0);
    assert_near(m->ready_queue_wait.mean, 1.0);    /* 1 - 0 */
    assert_near(m->task_admission_wait.mean, 1.0); /* 2 - 1 */
    assert_near(m->ready_to_lease_gap.mean, 2.0);  /* 2 - 0 */
    assert_near(m->layers.ready_queue, 1.0);       /* 1 - 0 */
    assert_near(m->layers.task_admission, 1.0);    /* 2 - 1 */
    assert_near(m->layers.request_admission, 0.0); /* 3 - 3 */
    assert_near(m->layers.provider, 4.0);          /* 7 - 3 */
    assert_near(m->layers.local_other, 2.0);       /* (8 - 2) - 0 - 4 */
    assert_int_equal(m->records_done, 0);          /* row 0 also needs column 1 (down), */
    assert_near(m->time_to_first_record, -1);      /* which never ran */
    assert_int_equal(m->groups[0].executions, 1);
    /* fractions in JSON: 8 s total, provider 4/8 */
    json_t *j = res_correlated_view_json(v, &f);
    json_t *fr = json_object_get(
        json_object_get(json_object_get(json_object_get(j, "limiting_layers"), "overall"),
                        "fractions"),
        "provider_execution");
    assert_near(json_real_value(fr), 0.5);
    /* no resources in the facts: empty per-resource maps */
    assert_no_resource_maps(j);
    json_decref(j);
    res_correlated_view_free(v);
}

/* Two attempts: request fields from the first for started/acquired and
** from the last for completed/released.  The first is rate limited at 4 s
** with 1.5 s of cooldown in force (the event's value): cooldown window [4, 5.5); the second waits 4
*-> 7
** s, 1.5 s of it in cooldown. */
static void test_first_last_attempt_and_cooldown(void **state) {
    (void)state;
    stream s = {.n = 0}, r = {.n = 0};
    uint64_t t = root_task(0);
    dispatch(&s, 0, 1 * SEC, 2 * SEC, t, 0, 1, 11);
    R(&r, 3 * SEC, ADMIT_REV_REQUEST_WAIT_STARTED, t, 1, 1, 0);
    R(&r, 3 * SEC, ADMIT_REV_REQUEST_WAIT_COMPLETED, t, 1, 1, 0);
    R(&r, 3 * SEC, ADMIT_REV_REQUEST_LEASE_ACQUIRED, t, 1, 1, 1);
    R(&r, 3 * SEC, ADMIT_REV_MODEL_REQUEST_STARTED, t, 1, 1, 0);
    R(&r, 4 * SEC, ADMIT_REV_REQUEST_RATE_LIMITED, t, 1, 1, 1500 * MS);
    R(&r, 4 * SEC, ADMIT_REV_MODEL_REQUEST_COMPLETED, t, 1, 1, 1 * SEC);
    R(&r, 4 * SEC, ADMIT_REV_REQUEST_LEASE_RELEASED, t, 1, 1, 0);
    R(&r, 4 * SEC, ADMIT_REV_REQUEST_WAIT_STARTED, t, 1, 2, 1);
    R(&r, 7 * SEC, ADMIT_REV_REQUEST_WAIT_COMPLETED, t, 1, 2, 3 * SEC);
    R(&r, 7 * SEC, ADMIT_REV_REQUEST_LEASE_ACQUIRED, t, 1, 2, 1);
    R(&r, 7 * SEC, ADMIT_REV_MODEL_REQUEST_STARTED, t, 1, 2, 0);
    R(&r, 9 * SEC, ADMIT_REV_MODEL_REQUEST_COMPLETED, t, 1, 2, 2 * SEC);
    R(&r, 9 * SEC, ADMIT_REV_REQUEST_LEASE_RELEASED, t, 1, 2, 0);
    finish(&s, 10 * SEC, t, 0, 1, 11);
    res_view_facts f = facts(2, 1, 1, 1, 0);
    res_correlated_view *v = build(&s, &r, &f);
    const res_view_row *row = &v->rows[0];
    assert_int_equal(row->at[RES_TS_REQUEST_WAIT_STARTED], 3 * SEC);    /* first */
    assert_int_equal(row->at[RES_TS_REQUEST_WAIT_COMPLETED], 3 * SEC);  /* first */
    assert_int_equal(row->at[RES_TS_REQUEST_LEASE_ACQUIRED], 3 * SEC);  /* first */
    assert_int_equal(row->at[RES_TS_MODEL_REQUEST_STARTED], 3 * SEC);   /* first */
    assert_int_equal(row->at[RES_TS_MODEL_REQUEST_COMPLETED], 9 * SEC); /* last */
    assert_int_equal(row->at[RES_TS_REQUEST_LEASE_RELEASED], 9 * SEC);  /* last */
    assert_int_equal(row->attempts, 2);
    assert_int_equal(row->rate_limited_attempts, 1);
    assert_int_equal(row->request_wait_ns, 3 * SEC);    /* 0 + (7 - 4) */
    assert_int_equal(row->cooldown_wait_ns, 1500 * MS); /* [4, 7) n [4, 5.5) */
    assert_int_equal(row->provider_ns, 3 * SEC);        /* (4 - 3) + (9 - 7) */
    assert_near(v->m.layers.local_other, 2.0);          /* (10 - 2) - 3 - 3 */
    assert_near(v->m.groups[0].layers.cooldown, 1.5);
    res_correlated_view_free(v);

    /* With no value the facts' cooldown (2 s) applies: [4, 6) n [4, 7). */
    r.ev[4].value = -1;
    v = build(&s, &r, &f);
    assert_int_equal(v->rows[0].cooldown_wait_ns, 2 * SEC);
    res_correlated_view_free(v);
}

/* A release that returned no capacity (duplicate, stale) changes no lease
** count: capacity 2, R0 leased [0, 4), R1 [1, 3), R1's lease released a
** second time at 2 as a duplicate.  Leases 1, 2, 1 over [0,1), [1,3),
** [3,4): integral 6 lease-s = 3 s of capacity 2, fraction 3 / 4. */
static void test_duplicate_release_keeps_leases(void **state) {
    (void)state;
    stream s = {.n = 0};
    dispatch(&s, 0, 0, 0, root_task(0), 0, 1, 11);
    dispatch(&s, 1 * SEC, 1 * SEC, 1 * SEC, root_task(1), 0, 2, 12);
    S(&s, 2 * SEC, ADMIT_EV_TASK_LEASE_RELEASED, root_task(1), 2, 12, 0, 0);
    s.ev[s.n - 1].reason = ADMIT_RELEASE_DUPLICATE;
    finish(&s, 3 * SEC, root_task(1), 0, 2, 12);
    finish(&s, 4 * SEC, root_task(0), 0, 1, 11);
    res_view_facts f = facts(2, 1, 1, 2, 0);
    res_correlated_view *v = build(&s, NULL, &f);
    assert_near(v->m.active_capacity_integral, 3.0);
    assert_near(v->m.active_capacity_fraction, 0.75);
    assert_near(v->m.groups[0].lease_seconds, 6.0);
    res_correlated_view_free(v);
}

/* A retried task (salvage): two executions; the second gets the enqueue
** that preceded it, not the first one's. */
static void test_retry_two_executions(void **state) {
    (void)state;
    stream s = {.n = 0};
    uint64_t t = root_task(0);
    dispatch(&s, 0, 0, 0, t, 0, 1, 11);
    S(&s, 1 * SEC, ADMIT_EV_RETRY_DEFERRED, t, 1, 0, 0, 1);
    S(&s, 1 * SEC, ADMIT_EV_TASK_LEASE_RELEASED, t, 1, 11, 0, 0);
    S(&s, 1 * SEC, ADMIT_EV_SALVAGE_REDISPATCHED, t, 0, 0, 0, 1);
    S(&s, 2 * SEC, ADMIT_EV_DEPENDENCY_READY, t, 0, 0, 0, 0);
    S(&s, 2 * SEC, ADMIT_EV_READY_ENQUEUED, t, 0, 0, 0, 1);
    S(&s, 3 * SEC, ADMIT_EV_SELECTED, t, 0, 0, 0, 0);
    S(&s, 3500 * MS, ADMIT_EV_TASK_LEASE_ACQUIRED, t, 0, 12, 0, 0);
    S(&s, 3500 * MS, ADMIT_EV_WORKER_SPAWNED, t, 2, 12, 0, 2);
    finish(&s, 5 * SEC, t, 0, 2, 12);
    res_view_facts f = facts(2, 1, 1, 1, 0);
    res_correlated_view *v = build(&s, NULL, &f);
    assert_int_equal(v->row_count, 2);
    const res_view_row *a = &v->rows[0], *b = &v->rows[1];
    assert_int_equal(a->task_execution_id, 1);
    assert_int_equal(a->end, RES_END_DEFERRED);
    assert_int_equal(a->at[RES_TS_TASK_COMPLETED], -1);
    assert_int_equal(a->at[RES_TS_TASK_LEASE_RELEASED], 1 * SEC);
    assert_int_equal(a->at[RES_TS_REQUEST_WAIT_STARTED], -1); /* no request events */
    assert_int_equal(b->task_execution_id, 2);
    assert_int_equal(b->worker_attempt, 2);
    assert_int_equal(b->at[RES_TS_DEPENDENCY_READY], 2 * SEC);
    assert_int_equal(b->at[RES_TS_READY_ENQUEUED], 2 * SEC);
    assert_int_equal(b->at[RES_TS_SELECTED], 3 * SEC);
    assert_int_equal(b->at[RES_TS_TASK_LEASE_ACQUIRED], 3500 * MS);
    assert_int_equal(b->at[RES_TS_TASK_COMPLETED], 5 * SEC);
    assert_int_equal(b->end, RES_END_COMPLETED);
    assert_int_equal(v->m.hidden_scheduler_resource_waiters, 0);
    /* waits: rows (0, 0) and (1, 0.5): ready_to_lease_gap mean (0 + 1.5) / 2 */
    assert_near(v->m.ready_to_lease_gap.mean, 0.75);
    res_correlated_view_free(v);
}

/* Cancelled while waiting for a request lease: no task_completed, the wait
** counts until the cancellation, and a task that never ran has no row. */
static void test_cancellation(void **state) {
    (void)state;
    stream s = {.n = 0}, r = {.n = 0};
    uint64_t t = root_task(0), never = root_task(1);
    dispatch(&s, 0, 0, 0, t, 0, 1, 11);
    S(&s, 0, ADMIT_EV_DEPENDENCY_READY, never, 0, 0, 0, 0);
    S(&s, 0, ADMIT_EV_READY_ENQUEUED, never, 0, 0, 0, 1);
    R(&r, 1 * SEC, ADMIT_REV_REQUEST_WAIT_STARTED, t, 1, 1, 0);
    R(&r, 2 * SEC, ADMIT_REV_REQUEST_WAIT_CANCELLED, t, 1, 1, 0);
    S(&s, 2 * SEC, ADMIT_EV_CANCELLED, t, 1, 11, 0, 0);
    S(&s, 2 * SEC, ADMIT_EV_TASK_LEASE_RELEASED, t, 1, 11, 0, 0);
    S(&s, 2 * SEC, ADMIT_EV_SCHEDULER_JOB_COMPLETED, 0, 0, 0, -1, 0);
    res_view_facts f = facts(1, 1, 1, 2, 0);
    res_correlated_view *v = build(&s, &r, &f);
    assert_int_equal(v->row_count, 1);
    const res_view_row *row = &v->rows[0];
    assert_int_equal(row->end, RES_END_CANCELLED);
    assert_int_equal(row->at[RES_TS_TASK_COMPLETED], -1);
    assert_int_equal(row->at[RES_TS_REQUEST_WAIT_STARTED], 1 * SEC);
    assert_int_equal(row->at[RES_TS_REQUEST_WAIT_COMPLETED], -1);
    assert_int_equal(row->at[RES_TS_REQUEST_LEASE_ACQUIRED], -1);
    assert_int_equal(row->at[RES_TS_TASK_LEASE_RELEASED], 2 * SEC);
    assert_int_equal(row->attempts, 1);
    assert_int_equal(row->request_wait_ns, 1 * SEC);
    assert_int_equal(v->m.records_done, 0);
    assert_near(v->m.time_to_first_record, -1);
    /* capacity 1 is full [0, 2): no idle gap although `never` is queued */
    assert_near(v->m.ready_idle_gap_total, 0);
    res_correlated_view_free(v);

    /* Capacity 2: `never` waits with a free slot over [0, 2) (2 s of ready
    ** idle gap); the cancellation at 2 ends the queue (cancelled then
    ** released, no retry), so [2, 3) before the job completes is no gap. */
    s.n -= 1; /* drop job_completed */
    S(&s, 3 * SEC, ADMIT_EV_SCHEDULER_HEALTH_SNAPSHOT, 0, 0, 0, -1, 0);
    S(&s, 3 * SEC, ADMIT_EV_SCHEDULER_JOB_COMPLETED, 0, 0, 0, -1, 0);
    f = facts(2, 1, 1, 2, 0);
    v = build(&s, &r, &f);
    assert_near(v->m.ready_idle_gap_total, 2);
    assert_near(v->m.ready_idle_gap_max, 2);
    res_correlated_view_free(v);
}

/* A worker spawned with no task lease is a hidden waiter. */
static void test_hidden_waiter(void **state) {
    (void)state;
    stream s = {.n = 0};
    uint64_t t = root_task(0);
    S(&s, 0, ADMIT_EV_READY_ENQUEUED, t, 0, 0, 0, 1);
    S(&s, 0, ADMIT_EV_SELECTED, t, 0, 0, 0, 0);
    S(&s, 0, ADMIT_EV_WORKER_SPAWNED, t, 1, 0, 0, 1);
    finish(&s, 1 * SEC, t, 0, 1, 0);
    res_view_facts f = facts(1, 1, 1, 1, 0);
    res_correlated_view *v = build(&s, NULL, &f);
    assert_int_equal(v->m.hidden_scheduler_resource_waiters, 1);
    assert_int_equal(v->rows[0].at[RES_TS_TASK_LEASE_ACQUIRED], -1);
    res_correlated_view_free(v);
}

/* Capacity 2, root (w 2) R0, R1 at 0; R0 done at 2 makes D0 ready, but it
** waits until 3 with a free slot; R1 done at 4 makes D1 ready, selected at
** 4, leased at 4.5.  D0 done at 5, D1 at 6.
**   leases: [0,2) 2, [2,3) 1, [3,4) 2, [4,4.5) 1, [4.5,5) 2, [5,6) 1
**   integral = 4 + 1 + 2 + 0.5 + 1 + 1 = 9.5 lease-s; / 2 = 4.75 s; / 6 s
**   ready idle gaps: [2,3) (D0 queued, 1 < 2) and [4,4.5): max 1, total 1.5
**   ready_queue_wait R0 0, R1 0, D0 1, D1 0 -> sorted 0 0 0 1: mean .25,
**     p50 = index round(1.5) = 2 -> 0, p95 = index round(2.85) = 3 -> 1
**   task_admission_wait 0 0 0 .5: mean .125, p50 0, p95 .5, max .5
**   ready_to_lease_gap 0 0 1 .5 -> 0 0 .5 1: mean .375, p50 .5, p95 1
**   down's gap .5 1: p50 index round(.5) = 0 -> .5, p95 index 1 -> 1
**   first downstream ready 2, dispatch 3
**   debt: from 2, root has 1 lease, fair = ceil(2 * 2 / 3) = 2: 0
**   records: row 0 done at max(2, 5) = 5, row 1 at max(4, 6) = 6; 50% of 2
**     = the 1st = 5; latency from row group admission at 0: p95 index 1 -> 6
**   fairness: root is never queued for a positive time: undefined */
static void test_metrics_by_hand(void **state) {
    (void)state;
    stream s = {.n = 0};
    S(&s, 0, ADMIT_EV_ROW_GROUP_ADMITTED, 0, 0, 0, -1, 1);
    s.ev[s.n - 1].corr.row_group = 0;
    dispatch(&s, 0, 0, 0, root_task(0), 0, 1, 1);
    dispatch(&s, 0, 0, 0, root_task(1), 0, 2, 2);
    S(&s, 0, ADMIT_EV_QUEUE_DRAINED, 0, 0, 0, -1, 0);
    finish(&s, 2 * SEC, root_task(0), 0, 1, 1);
    S(&s, 2 * SEC, ADMIT_EV_DEPENDENCY_READY, down_task(0), 0, 0, 1, 0);
    S(&s, 2 * SEC, ADMIT_EV_READY_ENQUEUED, down_task(0), 0, 0, 1, 1);
    S(&s, 3 * SEC, ADMIT_EV_SELECTED, down_task(0), 0, 0, 1, 0);
    S(&s, 3 * SEC, ADMIT_EV_TASK_LEASE_ACQUIRED, down_task(0), 0, 3, 1, 0);
    S(&s, 3 * SEC, ADMIT_EV_WORKER_SPAWNED, down_task(0), 3, 3, 1, 1);
    finish(&s, 4 * SEC, root_task(1), 0, 2, 2);
    dispatch(&s, 4 * SEC, 4 * SEC, 4500 * MS, down_task(1), 1, 4, 4);
    finish(&s, 5 * SEC, down_task(0), 1, 3, 3);
    finish(&s, 6 * SEC, down_task(1), 1, 4, 4);
    S(&s, 6 * SEC, ADMIT_EV_SCHEDULER_JOB_COMPLETED, 0, 0, 0, -1, 0);
    res_view_facts f = facts(2, 2, 1, 2, 0);
    res_correlated_view *v = build(&s, NULL, &f);
    const res_view_metrics *m = &v->m;
    assert_int_equal(m->executions, 4);
    assert_near(m->active_capacity_integral, 4.75);
    assert_near(m->active_capacity_fraction, 4.75 / 6);
    assert_near(m->ready_idle_gap_max, 1.0);
    assert_near(m->ready_idle_gap_total, 1.5);
    assert_near(m->groups[1].ready_idle_gap_max, 1.0);
    assert_near(m->groups[1].ready_idle_gap_total, 1.5);
    assert_near(m->groups[0].ready_idle_gap_total, 0);
    assert_near(m->ready_queue_wait.mean, 0.25);
    assert_near(m->ready_queue_wait.p50, 0);
    assert_near(m->ready_queue_wait.p95, 1);
    assert_near(m->ready_queue_wait.max, 1);
    assert_near(m->task_admission_wait.mean, 0.125);
    assert_near(m->task_admission_wait.p50, 0);
    assert_near(m->task_admission_wait.p95, 0.5);
    assert_near(m->ready_to_lease_gap.mean, 0.375);
    assert_near(m->ready_to_lease_gap.p50, 0.5);
    assert_near(m->ready_to_lease_gap.p95, 1);
    assert_int_equal(m->groups[1].ready_to_lease_gap.n, 2);
    assert_near(m->groups[1].ready_to_lease_gap.p50, 0.5);
    assert_near(m->groups[1].ready_to_lease_gap.p95, 1);
    assert_near(m->groups[0].ready_to_lease_gap.max, 0);
    assert_near(m->first_downstream_ready, 2);
    assert_near(m->first_downstream_dispatch, 3);
    assert_near(m->root_over_admission_debt, 0);
    assert_int_equal(m->records_done, 2);
    assert_near(m->time_to_first_record, 5);
    assert_near(m->time_to_50pct_records, 5);
    assert_near(m->row_completion_p95, 6);
    assert_true(m->jain_fairness_index < 0);
    assert_int_equal(m->hidden_scheduler_resource_waiters, 0);
    res_correlated_view_free(v);
}

/* Capacity 4, root and down weight 1 each; six root rows, down covers row 0.
**   t=0: R0..R3 leased (R4, R5 queued).  t=1: R0 done, D0 ready, R4 leased
**   (root 4 leases, R5 and D0 queued).  t=3: R1 done, D0 leased.  t=4: R2
**   done, R5 leased.  t=5: everything else done.
**   debt (from t=1; W_active = 2, fair root = ceil(4 * 1 / 2) = 2):
**     [1,3) 4 - 2 = 2 -> 4; [3,4) 3 - 2 -> 1; [4,5) 3 - 2 -> 1: 6 lease-s
**   all backlogged (R5 and D0 queued): [1,3); service root 4 * 2 = 8,
**     down 0: Jain = (8 + 0)^2 / (2 * (64 + 0)) = 0.5
**   integral: 4 leases over [0,5) = 20 / 4 = 5 s, fraction 1; no idle gap
**   records: rows done at R0..R5 = 1,3,4,5,5,5 and row 0 needs D0 (5):
**     sorted 3 4 5 5 5 5 -> first 3, 50% = 3rd = 5; p95 = index 5 -> 5 */
static void test_debt_and_fairness_by_hand(void **state) {
    (void)state;
    stream s = {.n = 0};
    S(&s, 0, ADMIT_EV_ROW_GROUP_ADMITTED, 0, 0, 0, -1, 1);
    s.ev[s.n - 1].corr.row_group = 0;
    for (int i = 0; i < 6; i++) {
        S(&s, 0, ADMIT_EV_DEPENDENCY_READY, root_task(i), 0, 0, 0, 0);
        S(&s, 0, ADMIT_EV_READY_ENQUEUED, root_task(i), 0, 0, 0, i + 1);
    }
    for (int i = 0; i < 4; i++) {
        S(&s, 0, ADMIT_EV_SELECTED, root_task(i), 0, 0, 0, 0);
        S(&s, 0, ADMIT_EV_TASK_LEASE_ACQUIRED, root_task(i), 0, (uint64_t)i + 1, 0, 0);
        S(&s, 0, ADMIT_EV_WORKER_SPAWNED, root_task(i), (uint64_t)i + 1, (uint64_t)i + 1, 0, 1);
    }
    finish(&s, 1 * SEC, root_task(0), 0, 1, 1);
    S(&s, 1 * SEC, ADMIT_EV_DEPENDENCY_READY, down_task(0), 0, 0, 1, 0);
    S(&s, 1 * SEC, ADMIT_EV_READY_ENQUEUED, down_task(0), 0, 0, 1, 3);
    S(&s, 1 * SEC, ADMIT_EV_SELECTED, root_task(4), 0, 0, 0, 0);
    S(&s, 1 * SEC, ADMIT_EV_TASK_LEASE_ACQUIRED, root_task(4), 0, 5, 0, 0);
    S(&s, 1 * SEC, ADMIT_EV_WORKER_SPAWNED, root_task(4), 5, 5, 0, 1);
    finish(&s, 3 * SEC, root_task(1), 0, 2, 2);
    S(&s, 3 * SEC, ADMIT_EV_SELECTED, down_task(0), 0, 0, 1, 0);
    S(&s, 3 * SEC, ADMIT_EV_TASK_LEASE_ACQUIRED, down_task(0), 0, 6, 1, 0);
    S(&s, 3 * SEC, ADMIT_EV_WORKER_SPAWNED, down_task(0), 6, 6, 1, 1);
    finish(&s, 4 * SEC, root_task(2), 0, 3, 3);
    S(&s, 4 * SEC, ADMIT_EV_SELECTED, root_task(5), 0, 0, 0, 0);
    S(&s, 4 * SEC, ADMIT_EV_TASK_LEASE_ACQUIRED, root_task(5), 0, 7, 0, 0);
    S(&s, 4 * SEC, ADMIT_EV_WORKER_SPAWNED, root_task(5), 7, 7, 0, 1);
    S(&s, 4 * SEC, ADMIT_EV_QUEUE_DRAINED, 0, 0, 0, -1, 0);
    finish(&s, 5 * SEC, down_task(0), 1, 6, 6);
    finish(&s, 5 * SEC, root_task(3), 0, 4, 4);
    finish(&s, 5 * SEC, root_task(4), 0, 5, 5);
    finish(&s, 5 * SEC, root_task(5), 0, 7, 7);
    S(&s, 5 * SEC, ADMIT_EV_SCHEDULER_JOB_COMPLETED, 0, 0, 0, -1, 0);
    res_view_facts f = facts(4, 1, 1, 6, 1);
    res_correlated_view *v = build(&s, NULL, &f);
    const res_view_metrics *m = &v->m;
    assert_near(m->root_over_admission_debt, 6);
    assert_near(m->all_backlogged_seconds, 2);
    assert_near(m->groups[0].backlogged_service, 8);
    assert_near(m->groups[1].backlogged_service, 0);
    assert_near(m->jain_fairness_index, 0.5);
    assert_near(m->active_capacity_integral, 5);
    assert_near(m->active_capacity_fraction, 1);
    assert_near(m->ready_idle_gap_total, 0);
    assert_near(m->first_downstream_ready, 1);
    assert_near(m->first_downstream_dispatch, 3);
    assert_int_equal(m->records_done, 6);
    assert_near(m->time_to_first_record, 3);
    assert_near(m->time_to_50pct_records, 5);
    assert_near(m->row_completion_p95, 5);
    assert_near(m->groups[1].ready_queue_wait.max, 2); /* D0: 3 - 1 */
    res_correlated_view_free(v);
}

/* Per-resource gaps and fairness.  Three groups, capacity (submission) 3:
**   A (column 0, weight 1): submission 1, llm_wait 1
**   B (column 1, weight 2): submission 1, llm_wait 1, gpu 2
**   C (column 2, weight 1): submission 1
**   limits: submission 3, llm_wait 2, gpu 3, unused 1 (requested by nobody)
** t=0 A1 A2 B1 C1 ready, A1 and B1 leased; 1 C1 leased; 2 B2 ready; 2.5 C2
** ready; 3 B1 released; 3.5 B2 leased; 4 C1 released; 4.25 A1 released;
** 4.5 C2 leased; 5.5 A2 leased; 6 B2 and C2 released; 7 A2 released.
**   queued: A [0,5.5); B [2,3.5); C [0,1) u [2.5,4.5)
**   leases: A [0,4.25) u [5.5,7); B [0,3) u [3.5,6); C [1,4) u [4.5,6)
**   submission leased = all leases: [0,1) 2, [1,3) 3, [3,3.5) 2, [3.5,4) 3,
**     [4,4.25) 2, [4.25,4.5) 1, [4.5,5.5) 2, [5.5,6) 3, [6,7) 1.  Every
**     group requests it, so any acquisition ends a gap: [0,1) 1, [3,3.5) .5,
**     [4,4.5) .5, [4.5,5.5) 1 -> max 1, total 3 (= the overall gap)
**   llm_wait leased = A + B: [0,3) 2, [3,3.5) 1, [3.5,4.25) 2, [4.25,5.5)
**     1, [5.5,6) 2, [6,7) 1; A2 (needs 1) queued [0,5.5).  Over [0,1) and
**     [4,4.25) submission has a free unit but llm_wait is full: no gap of
**     llm_wait.  Gaps [3,3.5) .5 (B2 ends it) and [4.25,5.5) 1.25 (C2's
**     acquisition at 4.5 does not end it: C does not request llm_wait)
**     -> max 1.25, total 1.75
**   gpu leased = 2 x B: [0,3) 2, [3,3.5) 0, [3.5,6) 2; B2 (needs 2) queued
**     [2,3.5): over [2,3) one unit is free, too few for B2: no gap;
**     [3,3.5) gap .5 -> max .5, total .5
**   unused: 0, 0
**   fairness, x_g = lease-seconds while all requesters are queued / w_g:
**     overall = submission, {A,B,C} all queued [2.5,3.5) (1 s): A 1/1,
**       B .5/2 = .25, C 1/1: J = 2.25^2 / (3 x 2.0625) = 9/11
**     llm_wait, {A,B} both queued [2,3.5) (1.5 s): A 1.5/1, B 1/2 = .5:
**       J = 2^2 / (2 x (2.25 + .25)) = 0.8
**     gpu, only B requests it: null; B queued 1.5 s, x_B = .5
**     unused: no group: null, 0 s */
#define EPS 1e-6f
static res_view_column cols3[3];
static res_view_group groups3[3];
static res_view_resource resources4[4];
static uint32_t amounts3x4[3 * 4];

static res_view_facts facts_resources(void) {
    cols3[0] = (res_view_column){.group = 0, .root = true, .cell_by_cell = true, .rows = 0};
    cols3[1] = (res_view_column){.group = 1, .root = false, .cell_by_cell = true, .rows = 0};
    cols3[2] = (res_view_column){.group = 2, .root = false, .cell_by_cell = true, .rows = 0};
    groups3[0] = (res_view_group){"A", 1};
    groups3[1] = (res_view_group){"B", 2};
    groups3[2] = (res_view_group){"C", 1};
    resources4[0] = (res_view_resource){"submission", 3};
    resources4[1] = (res_view_resource){"llm_wait", 2};
    resources4[2] = (res_view_resource){"gpu", 3};
    resources4[3] = (res_view_resource){"unused", 1};
    static const uint32_t amounts[3 * 4] = {1, 1, 0, 0, /* A */
                                            1, 1, 2, 0, /* B */
                                            1, 0, 0, 0 /* C */};
    memcpy(amounts3x4, amounts, sizeof amounts);
    return (res_view_facts){.submission_capacity = 3,
                            .column_count = 3,
                            .columns = cols3,
                            .group_count = 3,
                            .groups = groups3,
                            .resource_count = 4,
                            .resources = resources4,
                            .group_amounts = amounts3x4};
}

static uint64_t task3(int32_t col, int64_t row) {
    return admit_task_id((uint32_t)col, ADMIT_TASK_CELL, 0, row);
}

static void enqueue(stream *s, int64_t t, uint64_t task, int32_t col) {
    S(s, t, ADMIT_EV_DEPENDENCY_READY, task, 0, 0, col, 0);
    S(s, t, ADMIT_EV_READY_ENQUEUED, task, 0, 0, col, 1);
}

static void lease(stream *s, int64_t t, uint64_t task, int32_t col, uint64_t exec) {
    S(s, t, ADMIT_EV_SELECTED, task, 0, 0, col, 0);
    S(s, t, ADMIT_EV_TASK_LEASE_ACQUIRED, task, 0, exec, col, 0);
    S(s, t, ADMIT_EV_WORKER_SPAWNED, task, exec, exec, col, 1);
}

static json_t *resource_json(json_t *j, const char *metric, const char *resource) {
    json_t *x = json_object_get(json_object_get(json_object_get(j, metric), "resources"), resource);
    assert_non_null(x);
    return x;
}

static double json_num(json_t *o, const char *key) {
    json_t *x = json_object_get(o, key);
    assert_true(json_is_number(x));
    return json_number_value(x);
}

static void test_resources_by_hand(void **state) {
    (void)state;
    stream s = {.n = 0};
    uint64_t a1 = task3(0, 0), a2 = task3(0, 1), b1 = task3(1, 0), b2 = task3(1, 1);
    uint64_t c1 = task3(2, 0), c2 = task3(2, 1);
    enqueue(&s, 0, a1, 0);
    enqueue(&s, 0, a2, 0);
    enqueue(&s, 0, b1, 1);
    enqueue(&s, 0, c1, 2);
    lease(&s, 0, a1, 0, 1);
    lease(&s, 0, b1, 1, 2);
    lease(&s, 1 * SEC, c1, 2, 3);
    enqueue(&s, 2 * SEC, b2, 1);
    enqueue(&s, 2500 * MS, c2, 2);
    finish(&s, 3 * SEC, b1, 1, 2, 2);
    lease(&s, 3500 * MS, b2, 1, 4);
    finish(&s, 4 * SEC, c1, 2, 3, 3);
    finish(&s, 4250 * MS, a1, 0, 1, 1);
    lease(&s, 4500 * MS, c2, 2, 5);
    lease(&s, 5500 * MS, a2, 0, 6);
    finish(&s, 6 * SEC, b2, 1, 4, 4);
    finish(&s, 6 * SEC, c2, 2, 5, 5);
    finish(&s, 7 * SEC, a2, 0, 6, 6);
    S(&s, 7 * SEC, ADMIT_EV_SCHEDULER_JOB_COMPLETED, 0, 0, 0, -1, 0);
    res_view_facts f = facts_resources();
    res_correlated_view *v = build(&s, NULL, &f);
    const res_view_metrics *m = &v->m;
    assert_int_equal(m->executions, 6);
    assert_int_equal(m->hidden_scheduler_resource_waiters, 0);
    assert_float_equal(m->ready_idle_gap_max, 1.0, EPS);
    assert_float_equal(m->ready_idle_gap_total, 3.0, EPS);
    assert_float_equal(m->all_backlogged_seconds, 1.0, EPS);
    assert_float_equal(m->jain_fairness_index, 9.0 / 11.0, EPS);
    assert_int_equal(m->resource_count, 4);
    const res_resource_metrics *sub = &m->resources[0], *llm = &m->resources[1];
    const res_resource_metrics *gpu = &m->resources[2], *unused = &m->resources[3];
    assert_float_equal(sub->ready_idle_gap_max, 1.0, EPS);
    assert_float_equal(sub->ready_idle_gap_total, 3.0, EPS);
    assert_float_equal(llm->ready_idle_gap_max, 1.25, EPS);
    assert_float_equal(llm->ready_idle_gap_total, 1.75, EPS);
    assert_float_equal(gpu->ready_idle_gap_max, 0.5, EPS);
    assert_float_equal(gpu->ready_idle_gap_total, 0.5, EPS);
    assert_float_equal(unused->ready_idle_gap_max, 0, EPS);
    assert_float_equal(unused->ready_idle_gap_total, 0, EPS);
    /* fairness per resource */
    assert_int_equal(sub->fairness_group_count, 3);
    assert_float_equal(sub->all_backlogged_seconds, 1.0, EPS);
    assert_float_equal(sub->jain_fairness_index, 9.0 / 11.0, EPS);
    const double *x = m->resource_service; /* [resource * 3 + group] */
    assert_float_equal(x[0 * 3 + 0], 1.0, EPS);
    assert_float_equal(x[0 * 3 + 1], 0.25, EPS);
    assert_float_equal(x[0 * 3 + 2], 1.0, EPS);
    assert_int_equal(llm->fairness_group_count, 2);
    assert_float_equal(llm->all_backlogged_seconds, 1.5, EPS);
    assert_float_equal(x[1 * 3 + 0], 1.5, EPS);
    assert_float_equal(x[1 * 3 + 1], 0.5, EPS);
    assert_true(x[1 * 3 + 2] < 0); /* C does not request llm_wait */
    assert_float_equal(llm->jain_fairness_index, 0.8, EPS);
    assert_int_equal(gpu->fairness_group_count, 1);
    assert_true(gpu->jain_fairness_index < 0);
    assert_float_equal(gpu->all_backlogged_seconds, 1.5, EPS);
    assert_float_equal(x[2 * 3 + 1], 0.5, EPS);
    assert_int_equal(unused->fairness_group_count, 0);
    assert_true(unused->jain_fairness_index < 0);
    assert_float_equal(unused->all_backlogged_seconds, 0, EPS);

    /* JSON: the existing keys unchanged, the resources beside them */
    json_t *j = res_correlated_view_json(v, &f);
    json_t *idle = json_object_get(j, "ready_idle_gap"), *fair = json_object_get(j, "fairness");
    assert_float_equal(json_num(idle, "max_seconds"), 1.0, EPS);
    assert_float_equal(json_num(idle, "total_seconds"), 3.0, EPS);
    assert_int_equal(json_object_size(json_object_get(idle, "groups")), 3);
    assert_float_equal(json_num(fair, "jain_index"), 9.0 / 11.0, EPS);
    assert_int_equal(json_object_size(json_object_get(idle, "resources")), 4);
    assert_int_equal(json_object_size(json_object_get(fair, "resources")), 4);
    json_t *r = resource_json(j, "ready_idle_gap", "llm_wait");
    assert_float_equal(json_num(r, "max_seconds"), 1.25, EPS);
    assert_float_equal(json_num(r, "total_seconds"), 1.75, EPS);
    r = resource_json(j, "ready_idle_gap", "gpu");
    assert_float_equal(json_num(r, "total_seconds"), 0.5, EPS);
    r = resource_json(j, "fairness", "llm_wait");
    assert_float_equal(json_num(r, "jain_index"), 0.8, EPS);
    assert_float_equal(json_num(r, "all_backlogged_seconds"), 1.5, EPS);
    json_t *names = json_object_get(r, "groups");
    assert_int_equal(json_array_size(names), 2);
    assert_string_equal(json_string_value(json_array_get(names, 0)), "A");
    assert_string_equal(json_string_value(json_array_get(names, 1)), "B");
    assert_float_equal(json_num(json_object_get(r, "backlogged_service_per_weight"), "B"), 0.5,
                       EPS);
    r = resource_json(j, "fairness", "gpu");
    assert_true(json_is_null(json_object_get(r, "jain_index")));
    assert_int_equal(json_array_size(json_object_get(r, "groups")), 1);
    r = resource_json(j, "fairness", "unused");
    assert_true(json_is_null(json_object_get(r, "jain_index")));
    assert_int_equal(json_array_size(json_object_get(r, "groups")), 0);
    json_decref(j);
    res_correlated_view_free(v);

    /* No resources in the facts: no per-resource metrics, empty maps, and
    ** every other figure the same. */
    f.resource_count = 0;
    f.resources = NULL;
    f.group_amounts = NULL;
    v = build(&s, NULL, &f);
    assert_int_equal(v->m.resource_count, 0);
    assert_float_equal(v->m.ready_idle_gap_total, 3.0, EPS);
    assert_float_equal(v->m.jain_fairness_index, 9.0 / 11.0, EPS);
    j = res_correlated_view_json(v, &f);
    assert_no_resource_maps(j);
    json_decref(j);
    res_correlated_view_free(v);
}

/* A log's events as an array (res_correlated_view_build's input); free()d
** by the caller. */
static admit_event *log_array(const res_event_log *log) {
    size_t n = res_event_log_count(log);
    admit_event *a = malloc((n ? n : 1) * sizeof *a);
    assert_non_null(a);
    for (size_t i = 0; i < n; i++)
        a[i] = res_event_log_at(log, i);
    return a;
}

/* The view res_correlated_view_build makes of a run's kept events. */
static res_correlated_view *view_of(const res_run_record *run, const res_view_facts *f) {
    admit_event *sched = log_array(run->events), *req = log_array(run->request_events);
    res_correlated_view *v = res_correlated_view_build(sched, res_event_log_count(run->events), req,
                                                       res_event_log_count(run->request_events), f);
    free(sched);
    free(req);
    return v;
}

/* Facts from a run: explicit amounts (hot: submission 1, llm_wait 2) and a
** local column (submission only, by default).  Four llm_wait units hold two
** hot tasks, so hot work waits with free submission units: gaps of
** submission (the same as the overall gap, every group requests one unit of
** it) but none of llm_wait, whose only requester is hot (no Jain index). */
static void test_resources_from_run(void **state) {
    (void)state;
    sim_scenario *sc =
        parse("{\"schema\":1,\"scenario_id\":\"res_amounts\",\"scenario_version\":1,\"records\":8,"
              "\"capacity\":{\"submission\":4,\"llm_wait\":4},\"columns\":["
              "{\"name\":\"hot\",\"duration\":{\"dist\":\"constant\",\"seconds\":0.5},"
              "\"scheduling\":{\"kind\":\"custom_model\",\"identity\":[\"t\",\"hot\",\"v1\"],"
              "\"weight\":1,\"resources\":{\"submission\":1,\"llm_wait\":2}}},"
              "{\"name\":\"local\",\"duration\":{\"dist\":\"constant\",\"seconds\":0.1}}]}");
    res_run_record *run = run_iteration(sc, RUN_POLICY_STRICT, 1, 0);
    res_view_facts *f = res_view_facts_from_run(run);
    assert_non_null(f);
    assert_int_equal(f->resource_count, 2);
    assert_string_equal(f->resources[0].name, "submission");
    assert_int_equal(f->resources[0].limit, 4);
    assert_string_equal(f->resources[1].name, "llm_wait");
    assert_int_equal(f->resources[1].limit, 4);
    uint32_t hot = run->column_group[0], local = run->column_group[1];
    assert_int_equal(f->group_amounts[hot * 2 + 0], 1);
    assert_int_equal(f->group_amounts[hot * 2 + 1], 2);
    assert_int_equal(f->group_amounts[local * 2 + 0], 1);
    assert_int_equal(f->group_amounts[local * 2 + 1], 0);
    res_correlated_view *v = view_of(run, f);
    assert_non_null(v);
    const res_view_metrics *m = &v->m;
    assert_true(m->resources[0].ready_idle_gap_total > 0);
    assert_float_equal(m->resources[0].ready_idle_gap_total, m->ready_idle_gap_total, EPS);
    assert_float_equal(m->resources[0].ready_idle_gap_max, m->ready_idle_gap_max, EPS);
    assert_float_equal(m->resources[1].ready_idle_gap_total, 0, EPS);
    assert_int_equal(m->resources[0].fairness_group_count, 2);
    assert_int_equal(m->resources[1].fairness_group_count, 1);
    assert_true(m->resources[1].jain_fairness_index < 0);
    res_correlated_view_free(v);
    res_view_facts_free(f);
    res_run_record_free(run);
    sim_scenario_free(sc);
}

/* The view of the same streams from a builder keeping no rows: the same
** figures, bit for bit, and no rows. */
static int row_by_exec(const void *a, const void *b) {
    uint64_t x = ((const res_view_row *)a)->task_execution_id;
    uint64_t y = ((const res_view_row *)b)->task_execution_id;
    return (x > y) - (x < y);
}

/* A spilling view's rows are v's rows, in some order. */
static void assert_spill_rows(const res_correlated_view *lean, const res_correlated_view *v) {
    if (!v->row_count) {
        assert_null(lean->row_spill);
        return;
    }
    assert_non_null(lean->row_spill);
    assert_int_equal(res_spill_count(lean->row_spill), v->row_count);
    res_view_row *got = calloc(v->row_count, sizeof *got),
                 *want = calloc(v->row_count, sizeof *want);
    assert_true(res_spill_rewind(lean->row_spill));
    for (size_t i = 0; i < v->row_count; i++)
        assert_true(res_spill_next(lean->row_spill, &got[i]));
    assert_false(res_spill_next(lean->row_spill, &got[0]));
    assert_null(res_spill_error(lean->row_spill));
    memcpy(want, v->rows, v->row_count * sizeof *want);
    qsort(got, v->row_count, sizeof *got, row_by_exec);
    qsort(want, v->row_count, sizeof *want, row_by_exec);
    for (size_t i = 0; i < v->row_count; i++)
        assert_memory_equal(&got[i], &want[i], sizeof *got);
    free(got);
    free(want);
}

static void assert_rowless_same(const res_run_record *run, const res_view_facts *f,
                                const res_correlated_view *v, res_view_rows mode) {
    res_view_builder *vb = res_view_builder_create(f, mode);
    assert_non_null(vb);
    if (mode == RES_VIEW_ROWS_SPILL) { /* one time order, as a run makes them */
        res_event_merge m;
        res_event_merge_begin(&m, run->events, run->request_events);
        for (admit_event ev; res_event_merge_next(&m, &ev);)
            assert_true(ev.stream == ADMIT_STREAM_REQUEST
                            ? res_view_builder_request_event(vb, &ev)
                            : res_view_builder_scheduler_event(vb, &ev));
    }
    for (size_t i = 0; mode != RES_VIEW_ROWS_SPILL && i < res_event_log_count(run->events); i++) {
        admit_event ev = res_event_log_at(run->events, i);
        assert_true(res_view_builder_scheduler_event(vb, &ev));
    }
    for (size_t i = 0; mode != RES_VIEW_ROWS_SPILL && i < res_event_log_count(run->request_events);
         i++) {
        admit_event ev = res_event_log_at(run->request_events, i);
        assert_true(res_view_builder_request_event(vb, &ev));
    }
    res_error err = {0};
    res_correlated_view *lean = res_view_builder_finish(vb, &err);
    if (!lean) fail_msg("%s", err.message);
    assert_int_equal(lean->row_count, v->row_count);
    const char *after = getenv("ADMITSIM_SPILL_AFTER");
    if (mode == RES_VIEW_ROWS_SPILL && after && !strcmp(after, "0")) {
        assert_null(lean->rows);
        assert_spill_rows(lean, v);
    } else if (mode == RES_VIEW_ROWS_SPILL && v->row_count) { /* they fit: kept, in order */
        assert_null(lean->row_spill);
        assert_non_null(lean->rows);
        assert_memory_equal(lean->rows, v->rows, v->row_count * sizeof *v->rows);
    } else {
        assert_null(lean->rows);
        assert_null(lean->row_spill);
    }
    assert_memory_equal(&lean->m.layers, &v->m.layers, sizeof v->m.layers);
    assert_memory_equal(&lean->m.ready_to_lease_gap, &v->m.ready_to_lease_gap,
                        sizeof v->m.ready_to_lease_gap);
    assert_memory_equal(&lean->m.downstream_ready_to_lease_p95, &v->m.downstream_ready_to_lease_p95,
                        sizeof(double));
    for (uint32_t g = 0; g < v->m.group_count; g++)
        assert_memory_equal(&lean->m.groups[g], &v->m.groups[g], sizeof v->m.groups[g]);
    json_t *a = res_correlated_view_json(v, f), *b = res_correlated_view_json(lean, f);
    char *ta = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(17));
    char *tb = json_dumps(b, JSON_COMPACT | JSON_REAL_PRECISION(17));
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
    json_decref(a);
    json_decref(b);
    res_correlated_view_free(lean);
}

/* End to end on shipped scenarios: no hidden waiters, timestamps in SPEC
** order where present, gap = queue wait + admission wait per row, every
** executed task has a row, the JSON is deterministic, and a builder keeping
** no rows gives the same figures. */
static void check_scenario(const char *name, run_policy_kind policy) {
    sim_scenario *sc = load(name);
    res_run_record *run = run_iteration(sc, policy, 1, 0);
    res_view_facts *f = res_view_facts_from_run(run);
    assert_non_null(f);
    res_correlated_view *v = view_of(run, f);
    assert_non_null(v);
    assert_int_equal(v->m.hidden_scheduler_resource_waiters, 0);
    assert_int_equal(v->row_count, run->stats.workers_spawned);
    uint64_t completed = 0;
    for (size_t i = 0; i < v->row_count; i++) {
        const res_view_row *r = &v->rows[i];
        int64_t last = -1;
        int last_i = -1;
        for (int k = 0; k < RES_TS_COUNT; k++) {
            if (r->at[k] < 0) continue;
            if (r->at[k] < last)
                fail_msg("%s: execution %llu: %s %lld before %s %lld", name,
                         (unsigned long long)r->task_execution_id, res_ts_name((res_ts)k),
                         (long long)r->at[k], res_ts_name((res_ts)last_i), (long long)last);
            last = r->at[k];
            last_i = k;
        }
        assert_true(r->at[RES_TS_TASK_LEASE_ACQUIRED] >= 0);
        assert_true(r->at[RES_TS_TASK_LEASE_RELEASED] >= 0);
        if (r->at[RES_TS_READY_ENQUEUED] >= 0 && r->at[RES_TS_SELECTED] >= 0)
            assert_int_equal(r->at[RES_TS_TASK_LEASE_ACQUIRED] - r->at[RES_TS_READY_ENQUEUED],
                             (r->at[RES_TS_SELECTED] - r->at[RES_TS_READY_ENQUEUED]) +
                                 (r->at[RES_TS_TASK_LEASE_ACQUIRED] - r->at[RES_TS_SELECTED]));
        if (r->end == RES_END_COMPLETED) completed++;
    }
    assert_int_equal(completed, run->stats.tasks_completed);
    /* the groups' requests were recovered; where every group requests one
    ** submission unit, its gap and fairness are the overall ones */
    assert_int_equal(f->resource_count, run->resource_count);
    assert_int_equal(v->m.resource_count, run->resource_count);
    bool unit_submission = true;
    for (uint32_t g = 0; g < f->group_count; g++)
        if (f->group_amounts[(size_t)g * f->resource_count + ADMIT_RESOURCE_SUBMISSION] != 1)
            unit_submission = false;
    if (unit_submission) {
        const res_resource_metrics *sub = &v->m.resources[ADMIT_RESOURCE_SUBMISSION];
        assert_near(sub->ready_idle_gap_max, v->m.ready_idle_gap_max);
        assert_near(sub->ready_idle_gap_total, v->m.ready_idle_gap_total);
        assert_near(sub->all_backlogged_seconds, v->m.all_backlogged_seconds);
        assert_near(sub->jain_fairness_index, v->m.jain_fairness_index);
    }
    assert_rowless_same(run, f, v, RES_VIEW_ROWS_NONE);
    assert_rowless_same(run, f, v, RES_VIEW_ROWS_SPILL); /* the rows fit: kept */
    setenv("ADMITSIM_SPILL_AFTER", "0", 1);
    assert_rowless_same(run, f, v, RES_VIEW_ROWS_SPILL); /* spilled once final */
    unsetenv("ADMITSIM_SPILL_AFTER");
    json_t *a = res_correlated_view_json(v, f), *b = res_correlated_json(run);
    char *ta = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(15));
    char *tb = json_dumps(b, JSON_COMPACT | JSON_REAL_PRECISION(15));
    assert_string_equal(ta, tb);
    res_run_record *again = run_iteration(sc, policy, 1, 0); /* same run: same JSON */
    json_t *c = res_correlated_json(again);
    char *tc = json_dumps(c, JSON_COMPACT | JSON_REAL_PRECISION(15));
    assert_string_equal(ta, tc);
    free(ta);
    free(tb);
    free(tc);
    json_decref(c);
    res_run_record_free(again);
    json_decref(a);
    json_decref(b);
    res_correlated_view_free(v);
    res_view_facts_free(f);
    res_run_record_free(run);
    sim_scenario_free(sc);
}

/* Spilling builder fed `sched` then `req` interleaved by time (the
** scheduler first at one instant), or `late` (an index into sched) moved
** to the very end; finish's view, or NULL with *err. */
static res_correlated_view *spilled(const stream *sched, const stream *req, res_view_facts *f,
                                    size_t late, res_error *err) {
    res_view_builder *vb = res_view_builder_create(f, RES_VIEW_ROWS_SPILL);
    assert_non_null(vb);
    size_t i = 0, j = 0;
    while (i < sched->n || j < req->n) {
        if (i == late) i++;
        bool take_s = i < sched->n &&
                      (j == req->n || sched->ev[i].captured_at_ns <= req->ev[j].captured_at_ns);
        if (take_s)
            assert_true(res_view_builder_scheduler_event(vb, &sched->ev[i++]));
        else if (j < req->n)
            assert_true(res_view_builder_request_event(vb, &req->ev[j++]));
    }
    if (late < sched->n) assert_true(res_view_builder_scheduler_event(vb, &sched->ev[late]));
    return res_view_builder_finish(vb, err);
}

/* A spilling builder writes each row once final and fails, saying which
** execution, when a later event would change a row already written. */
static void test_spilled_rows_and_late_events(void **state) {
    (void)state;
    setenv("ADMITSIM_SPILL_AFTER", "0", 1);
    res_view_facts f = facts(2, 1, 1, 2, 0);
    stream sched = {.n = 0}, req = {.n = 0};
    dispatch(&sched, 0, 1 * SEC, 1 * SEC, root_task(0), 0, 1, 11);
    dispatch(&sched, 0, 1 * SEC, 1 * SEC, root_task(1), 0, 2, 12);
    R(&req, 2 * SEC, ADMIT_REV_REQUEST_WAIT_STARTED, root_task(1), 2, 1, 0);
    R(&req, 3 * SEC, ADMIT_REV_REQUEST_WAIT_COMPLETED, root_task(1), 2, 1, 0);
    finish(&sched, 4 * SEC, root_task(0), 0, 1, 11);
    finish(&sched, 5 * SEC, root_task(1), 0, 2, 12);
    res_correlated_view *keep = build(&sched, &req, &f);
    res_error err = {0};
    res_correlated_view *v = spilled(&sched, &req, &f, SIZE_MAX, &err);
    if (!v) fail_msg("%s", err.message);
    res_view_row rows[3];
    assert_true(res_spill_rewind(v->row_spill));
    assert_true(res_spill_next(v->row_spill, &rows[0])); /* execution 1: at its release */
    assert_true(res_spill_next(v->row_spill, &rows[1])); /* execution 2 (attempts): at the end */
    assert_false(res_spill_next(v->row_spill, &rows[2]));
    assert_memory_equal(&rows[0], &keep->rows[0], sizeof rows[0]);
    assert_memory_equal(&rows[1], &keep->rows[1], sizeof rows[1]);
    assert_int_equal(rows[1].attempts, 1);
    assert_int_equal(rows[1].request_wait_ns, 1 * SEC);
    res_correlated_view_free(v);
    /* execution 1's task_completed after its release: 11 = its completed */
    size_t completed = sched.n - 4;
    assert_int_equal(sched.ev[completed].kind, ADMIT_EV_TASK_COMPLETED);
    sched.ev[completed].captured_at_ns = 4 * SEC;
    assert_null(spilled(&sched, &req, &f, completed, &err));
    assert_int_equal(err.code, RES_ERUN);
    assert_non_null(strstr(err.message, "task_completed of task execution 1 came after"));
    /* a request event of execution 1 once its row was written */
    R(&req, 6 * SEC, ADMIT_REV_REQUEST_WAIT_STARTED, root_task(0), 1, 2, 0);
    assert_null(spilled(&sched, &req, &f, SIZE_MAX, &err));
    assert_int_equal(err.code, RES_ERUN);
    assert_non_null(strstr(err.message, "task execution 1 came after"));
    /* the same with the rows kept in memory: the outcome does not depend on the size */
    unsetenv("ADMITSIM_SPILL_AFTER");
    assert_null(spilled(&sched, &req, &f, SIZE_MAX, &err));
    assert_int_equal(err.code, RES_ERUN);
    req.n--;
    v = spilled(&sched, &req, &f, SIZE_MAX, &err);
    assert_non_null(v);
    assert_null(v->row_spill);
    assert_memory_equal(v->rows, keep->rows, 2 * sizeof *v->rows);
    res_correlated_view_free(v);
    res_correlated_view_free(keep);
}

/* An attempt whose first events come before its worker_spawned (the
** executor acquires at once inside the spawn), fed as a run makes them:
** a spilling builder gives the row a keeping one gives. */
static void test_spilled_row_with_requests_before_spawn(void **state) {
    (void)state;
    setenv("ADMITSIM_SPILL_AFTER", "0", 1);
    res_view_facts f = facts(1, 1, 1, 1, 0);
    stream sched = {.n = 0}, req = {.n = 0};
    dispatch(&sched, 0, 1 * SEC, 1 * SEC, root_task(0), 0, 1, 11);
    admit_event spawned = sched.ev[--sched.n]; /* worker_spawned, fed after the requests */
    R(&req, 1 * SEC, ADMIT_REV_REQUEST_WAIT_STARTED, root_task(0), 1, 1, 0);
    R(&req, 1 * SEC, ADMIT_REV_REQUEST_WAIT_COMPLETED, root_task(0), 1, 1, 0);
    R(&req, 1 * SEC, ADMIT_REV_REQUEST_LEASE_ACQUIRED, root_task(0), 1, 1, 0);
    R(&req, 2 * SEC, ADMIT_REV_REQUEST_LEASE_RELEASED, root_task(0), 0, 1, 0); /* no exec id */
    finish(&sched, 3 * SEC, root_task(0), 0, 1, 11);
    res_view_builder *vb = res_view_builder_create(&f, RES_VIEW_ROWS_SPILL);
    for (size_t i = 0; i < 4; i++)
        assert_true(res_view_builder_scheduler_event(vb, &sched.ev[i]));
    for (size_t i = 0; i < 3; i++)
        assert_true(res_view_builder_request_event(vb, &req.ev[i]));
    assert_true(res_view_builder_scheduler_event(vb, &spawned));
    assert_true(res_view_builder_request_event(vb, &req.ev[3]));
    for (size_t i = 4; i < sched.n; i++)
        assert_true(res_view_builder_scheduler_event(vb, &sched.ev[i]));
    res_error err = {0};
    res_correlated_view *v = res_view_builder_finish(vb, &err);
    if (!v) fail_msg("%s", err.message);
    stream all = sched; /* in sequence order: spawned back in its place */
    memmove(&all.ev[5], &all.ev[4], (all.n - 4) * sizeof all.ev[0]);
    all.ev[4] = spawned;
    all.n++;
    res_correlated_view *keep = build(&all, &req, &f);
    res_view_row row;
    assert_true(res_spill_rewind(v->row_spill));
    assert_true(res_spill_next(v->row_spill, &row));
    assert_memory_equal(&row, &keep->rows[0], sizeof row);
    assert_int_equal(row.attempts, 1);
    assert_int_equal(row.at[RES_TS_REQUEST_LEASE_RELEASED], 2 * SEC);
    res_correlated_view_free(v);
    res_correlated_view_free(keep);
    unsetenv("ADMITSIM_SPILL_AFTER");
}

/* An execution id a second worker_spawned takes over at the instant of its
** first row's release: its attempts are the later row's, as a keeping
** builder joins them, whether the rows are spilled or kept. */
static void test_spilled_rows_execution_reused(void **state) {
    (void)state;
    res_view_facts f = facts(2, 1, 1, 2, 0);
    stream sched = {.n = 0}, req = {.n = 0};
    dispatch(&sched, 0, 1 * SEC, 6 * SEC, root_task(0), 0, 1, 11);
    for (uint64_t a = 1; a <= 3; a++) {
        R(&req, (int64_t)(6 + 2 * a) * SEC, ADMIT_REV_REQUEST_WAIT_STARTED, root_task(0), 1, a, 0);
        R(&req, (int64_t)(7 + 2 * a) * SEC, ADMIT_REV_REQUEST_WAIT_COMPLETED, root_task(0), 1, a,
          0);
    }
    finish(&sched, 13 * SEC, root_task(0), 0, 1, 11);
    dispatch(&sched, 13 * SEC, 13 * SEC, 13 * SEC, root_task(1), 0, 1, 12); /* execution 1 again */
    R(&req, 18 * SEC, ADMIT_REV_REQUEST_WAIT_STARTED, root_task(1), 1, 4, 0);
    R(&req, 19 * SEC, ADMIT_REV_REQUEST_WAIT_COMPLETED, root_task(1), 1, 4, 0);
    finish(&sched, 20 * SEC, root_task(1), 0, 1, 12);
    res_correlated_view *keep = build(&sched, &req, &f);
    assert_int_equal(keep->row_count, 2);
    assert_int_equal(keep->rows[0].attempts, 0);
    assert_int_equal(keep->rows[1].attempts, 4);
    for (int spill = 0; spill < 2; spill++) {
        if (spill) setenv("ADMITSIM_SPILL_AFTER", "0", 1);
        res_error err = {0};
        res_correlated_view *v = spilled(&sched, &req, &f, SIZE_MAX, &err);
        if (!v) fail_msg("%s", err.message);
        res_view_row rows[2];
        if (spill) {
            assert_true(res_spill_rewind(v->row_spill));
            assert_true(res_spill_next(v->row_spill, &rows[0]));
            assert_true(res_spill_next(v->row_spill, &rows[1]));
        } else {
            memcpy(rows, v->rows, sizeof rows);
        }
        assert_memory_equal(rows, keep->rows, sizeof rows);
        res_correlated_view_free(v);
        unsetenv("ADMITSIM_SPILL_AFTER");
    }
    res_correlated_view_free(keep);
}

static void test_shipped_scenarios(void **state) {
    (void)state;
    check_scenario("heavy_root.json", RUN_POLICY_STRICT);
    check_scenario("heavy_root.json", RUN_POLICY_BOUNDED);
    check_scenario("dynamic_request_count.json", RUN_POLICY_STRICT);
    check_scenario("failures_salvage.json", RUN_POLICY_STRICT);
    check_scenario("cancel_midrun.json", RUN_POLICY_STRICT);
    check_scenario("cross_provider_cooldown.json", RUN_POLICY_PROVIDER_AWARE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spilled_rows_and_late_events),
        cmocka_unit_test(test_spilled_row_with_requests_before_spawn),
        cmocka_unit_test(test_spilled_rows_execution_reused),
        cmocka_unit_test(test_plain_execution_zero_wait),
        cmocka_unit_test(test_first_last_attempt_and_cooldown),
        cmocka_unit_test(test_retry_two_executions),
        cmocka_unit_test(test_duplicate_release_keeps_leases),
        cmocka_unit_test(test_cancellation),
        cmocka_unit_test(test_hidden_waiter),
        cmocka_unit_test(test_metrics_by_hand),
        cmocka_unit_test(test_debt_and_fairness_by_hand),
        cmocka_unit_test(test_resources_by_hand),
        cmocka_unit_test(test_resources_from_run),
        cmocka_unit_test(test_shipped_scenarios),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
