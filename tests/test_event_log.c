/*
** The event log (res/event_log.h): every event comes back exactly as
** appended, whether its numbers fit a 48-byte record or not, whatever
** contexts its task went through; retain keeps order; the merge takes the
** first log's event at equal times; a log of ordinary events costs about
** 48 bytes an event.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "res/event_log.h"

/* An ordinary event of task `task` (0: none) in row group task / 10. */
static admit_event event_of(uint64_t seq, uint64_t task, uint16_t kind) {
    return (admit_event){.sequence = seq,
                         .captured_at_ns = (int64_t)seq * 1000,
                         .stream = ADMIT_STREAM_SCHEDULER,
                         .kind = kind,
                         .reason = -1,
                         .resource = task ? (int32_t)(task % 3) : -1,
                         .task_id = task,
                         .lease_id = task ? seq + 7 : 0,
                         .value = -(int64_t)seq,
                         .corr = {.run_id = 0xfeedULL,
                                  .row_group = task ? (int64_t)(task / 10) : -1,
                                  .column = task ? (int32_t)(task % 4) : -1,
                                  .task_type = 1,
                                  .group = task ? (int32_t)(task % 5) : -1,
                                  .group_kind = 2,
                                  .group_identity_hash = task * 0x9e3779b97f4a7c15ULL,
                                  .task_execution_id = task ? task * 2 + (seq & 1) : 0}};
}

static void assert_same(const admit_event *a, const admit_event *b) {
    assert_int_equal(a->sequence, b->sequence);
    assert_int_equal(a->captured_at_ns, b->captured_at_ns);
    assert_int_equal(a->stream, b->stream);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->reason, b->reason);
    assert_int_equal(a->resource, b->resource);
    assert_int_equal(a->task_id, b->task_id);
    assert_int_equal(a->lease_id, b->lease_id);
    assert_int_equal(a->attempt_id, b->attempt_id);
    assert_int_equal(a->value, b->value);
    assert_memory_equal(&a->corr, &b->corr, sizeof a->corr);
}

static void assert_log_is(const res_event_log *log, const admit_event *want, size_t n) {
    assert_int_equal(res_event_log_count(log), n);
    for (size_t i = 0; i < n; i++) {
        admit_event got = res_event_log_at(log, i);
        assert_same(&got, &want[i]);
        assert_int_equal(res_event_log_time(log, i), want[i].captured_at_ns);
    }
}

/* Tasks interleaved, both streams, job-level events: all back as appended. */
static void test_round_trip(void **state) {
    (void)state;
    enum { N = 5000 };
    admit_event *want = malloc(N * sizeof *want);
    assert_non_null(want);
    res_event_log *log = res_event_log_create();
    assert_non_null(log);
    for (size_t i = 0; i < N; i++) {
        uint64_t task = (i * 7919) % 613; /* task 0 too */
        want[i] = event_of(i, task, (uint16_t)(i % ADMIT_EV_KIND_COUNT));
        if (i % 3 == 0) {
            want[i].stream = ADMIT_STREAM_REQUEST;
            want[i].kind = (uint16_t)(i % ADMIT_REV_KIND_COUNT);
            want[i].attempt_id = i + 1;
            want[i].reason = (int32_t)(i % 4);
        }
        assert_true(res_event_log_append(log, &want[i]));
    }
    assert_log_is(log, want, N);
    res_event_log_seal(log);
    assert_log_is(log, want, N);
    res_event_log_free(log);
    free(want);
}

/* Numbers a record cannot hold are kept whole, and the records around
** them are unaffected. */
static void test_events_that_do_not_fit_are_kept_whole(void **state) {
    (void)state;
    admit_event want[8];
    for (int i = 0; i < 8; i++)
        want[i] = event_of((uint64_t)i, 42, ADMIT_EV_SELECTED);
    want[1].sequence = UINT64_C(1) << 32;
    want[2].corr.task_execution_id = (UINT64_C(1) << 32) + 5;
    want[3].attempt_id = UINT64_MAX;
    want[4].reason = 40000;
    want[5].resource = -40000;
    want[6].stream = 7;
    want[7].kind = 0xFFFF;
    want[7].reason = INT16_MIN;
    want[7].resource = INT16_MAX;
    res_event_log *log = res_event_log_create();
    for (int i = 0; i < 8; i++)
        assert_true(res_event_log_append(log, &want[i]));
    assert_log_is(log, want, 8);
    res_event_log_free(log);
}

/* One task whose context changes and changes back, and a job-level
** context changing between events of tasks. */
static void test_contexts_change(void **state) {
    (void)state;
    admit_event want[6];
    want[0] = event_of(0, 5, ADMIT_EV_READY_ENQUEUED);
    want[1] = event_of(1, 5, ADMIT_EV_SELECTED);
    want[1].corr.row_group = 9;
    want[2] = event_of(2, 0, ADMIT_EV_ROW_GROUP_ADMITTED);
    want[2].corr.row_group = 3;
    want[3] = event_of(3, 5, ADMIT_EV_TASK_COMPLETED);
    want[4] = event_of(4, 0, ADMIT_EV_ROW_GROUP_CHECKPOINTED);
    want[4].corr.row_group = 4;
    want[5] = event_of(5, 5, ADMIT_EV_TASK_LEASE_RELEASED);
    want[5].corr.group_identity_hash = 1;
    res_event_log *log = res_event_log_create();
    for (int i = 0; i < 6; i++)
        assert_true(res_event_log_append(log, &want[i]));
    assert_log_is(log, want, 6);
    res_event_log_free(log);
}

static bool keep_even(void *ctx, const admit_event *ev) {
    (*(int *)ctx)++;
    return ev->sequence % 2 == 0;
}

/* Retain sees every event once, keeps the chosen ones in order, and the
** log takes more events after it (and after sealing). */
static void test_retain_then_append(void **state) {
    (void)state;
    admit_event all[40], want[40];
    size_t n = 0;
    res_event_log *log = res_event_log_create();
    for (int i = 0; i < 30; i++) {
        all[i] = event_of((uint64_t)i, (uint64_t)(i % 4), ADMIT_EV_SELECTED);
        if (i == 10) all[i].sequence = (UINT64_C(1) << 33) + 10; /* a whole one, kept */
        assert_true(res_event_log_append(log, &all[i]));
        if (all[i].sequence % 2 == 0) want[n++] = all[i];
    }
    int seen = 0;
    res_event_log_retain(log, keep_even, &seen);
    assert_int_equal(seen, 30);
    assert_log_is(log, want, n);
    res_event_log_seal(log);
    for (int i = 30; i < 40; i++) {
        all[i] = event_of((uint64_t)i, (uint64_t)(i % 4), ADMIT_EV_TASK_COMPLETED);
        assert_true(res_event_log_append(log, &all[i]));
        want[n++] = all[i];
    }
    assert_log_is(log, want, n);
    res_event_log_free(log);
}

/* By time; at one time the first log's events first; each log in order. */
static void test_merge_order(void **state) {
    (void)state;
    res_event_log *a = res_event_log_create(), *b = res_event_log_create();
    int64_t ta[] = {1, 3, 3, 7}, tb[] = {0, 3, 7, 8, 9};
    for (int i = 0; i < 4; i++) {
        admit_event ev = event_of((uint64_t)i, 1, ADMIT_EV_SELECTED);
        ev.captured_at_ns = ta[i];
        assert_true(res_event_log_append(a, &ev));
    }
    for (int i = 0; i < 5; i++) {
        admit_event ev = event_of((uint64_t)i, 2, ADMIT_REV_MODEL_REQUEST_STARTED);
        ev.stream = ADMIT_STREAM_REQUEST;
        ev.captured_at_ns = tb[i];
        assert_true(res_event_log_append(b, &ev));
    }
    /* (log, sequence): b0@0 a0@1 a1@3 a2@3 b1@3 a3@7 b2@7 b3@8 b4@9 */
    const int want_stream[] = {1, 0, 0, 0, 1, 0, 1, 1, 1};
    const uint64_t want_seq[] = {0, 0, 1, 2, 1, 3, 2, 3, 4};
    res_event_merge m;
    res_event_merge_begin(&m, a, b);
    admit_event ev;
    for (int k = 0; k < 9; k++) {
        assert_true(res_event_merge_next(&m, &ev));
        assert_int_equal(ev.stream, want_stream[k]);
        assert_int_equal(ev.sequence, want_seq[k]);
    }
    assert_false(res_event_merge_next(&m, &ev));
    res_event_merge_begin(&m, NULL, b); /* a missing log is an empty one */
    for (int k = 0; k < 5; k++)
        assert_true(res_event_merge_next(&m, &ev));
    assert_false(res_event_merge_next(&m, &ev));
    res_event_merge_begin(&m, NULL, NULL);
    assert_false(res_event_merge_next(&m, &ev));
    assert_int_equal(res_event_log_count(NULL), 0);
    res_event_log_free(a);
    res_event_log_free(b);
}

/* 100,000 events of 1,000 tasks, reserved up front: at most 50 bytes an
** event in all (records, contexts, map) once sealed. */
static void test_an_event_costs_48_bytes(void **state) {
    (void)state;
    enum { N = 100000 };
    res_event_log *log = res_event_log_create();
    assert_true(res_event_log_reserve(log, N));
    for (uint64_t i = 0; i < N; i++) {
        admit_event ev = event_of(i, i / 100 + 1, ADMIT_EV_SELECTED);
        assert_true(res_event_log_append(log, &ev));
    }
    res_event_log_seal(log);
    assert_true(res_event_log_bytes(log) <= (size_t)N * 50);
    assert_true(res_event_log_bytes(log) >= (size_t)N * 48);
    admit_event last = res_event_log_at(log, N - 1);
    admit_event want = event_of(N - 1, (N - 1) / 100 + 1, ADMIT_EV_SELECTED);
    assert_same(&last, &want);
    res_event_log_free(log);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_events_that_do_not_fit_are_kept_whole),
        cmocka_unit_test(test_contexts_change),
        cmocka_unit_test(test_retain_then_append),
        cmocka_unit_test(test_merge_order),
        cmocka_unit_test(test_an_event_costs_48_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
