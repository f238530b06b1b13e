/* CompletionTracker: counter-based readiness over columns x row groups x rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admit/tracker.h"

static const admit_resource_request one = {.count = 1, .resource = {0}, .amount = {1}};

/* Pulls the frontier and marks it enqueued; returns its size. */
static size_t pull(admit_tracker *t, int64_t now, admit_task *const **out) {
    size_t n = admit_tracker_ready_frontier(t, now, out);
    admit_tracker_mark_enqueued(t, *out, n);
    return n;
}

static void run_task(admit_tracker *t, admit_task *task, int64_t *rg, bool *rg_done) {
    admit_tracker_mark_running(t, task);
    *rg_done = admit_tracker_mark_complete(t, task, rg);
}

static void test_roots_wait_for_row_group_admission(void **state) {
    (void)state;
    admit_column_spec col = {.name = "a", .resources = one};
    admit_error err;
    admit_tracker *t = admit_tracker_create(&col, 1, 10, 4, &err);
    assert_non_null(t);
    assert_int_equal(admit_tracker_row_group_count(t), 3);
    admit_task *const *f;
    assert_int_equal(pull(t, 0, &f), 0);
    admit_tracker_admit_row_group(t, 2, 0);
    assert_int_equal(pull(t, 0, &f), 2); /* rows 8 and 9 */
    assert_int_equal(f[0]->row, 8);
    assert_int_equal(f[1]->row, 9);
    assert_int_equal(f[0]->type, ADMIT_TASK_FROM_SCRATCH);
    assert_int_equal(pull(t, 0, &f), 0); /* the frontier is a delta */
    admit_tracker_destroy(t);
}

static void test_cell_and_batch_dependencies(void **state) {
    (void)state;
    uint32_t dep_a[1] = {0}, dep_b[1] = {1};
    admit_column_spec cols[3] = {{.name = "a", .resources = one},
                                 {.name = "b", .deps = dep_a, .dep_count = 1, .resources = one},
                                 {.name = "sum",
                                  .strategy = ADMIT_FULL_COLUMN,
                                  .deps = dep_b,
                                  .dep_count = 1,
                                  .resources = one}};
    admit_error err;
    admit_tracker *t = admit_tracker_create(cols, 3, 4, 2, &err);
    assert_non_null(t);
    assert_int_equal(admit_tracker_task_count(t), 4 + 4 + 2);
    admit_tracker_admit_row_group(t, 0, 0);
    admit_task *const *f;
    assert_int_equal(pull(t, 0, &f), 2);
    admit_task *a0 = f[0], *a1 = f[1];
    int64_t rg;
    bool done;
    run_task(t, a1, &rg, &done);
    assert_false(done);
    assert_int_equal(pull(t, 0, &f), 1); /* b1 only: cell by cell, row for row */
    assert_int_equal(f[0]->column, 1);
    assert_int_equal(f[0]->row, 1);
    assert_int_equal(f[0]->type, ADMIT_TASK_CELL);
    admit_task *b1 = f[0];
    run_task(t, b1, &rg, &done);
    assert_int_equal(pull(t, 0, &f), 0); /* the batch waits for every row of its group */
    run_task(t, a0, &rg, &done);
    assert_int_equal(pull(t, 0, &f), 1);
    admit_task *b0 = f[0];
    run_task(t, b0, &rg, &done);
    assert_int_equal(pull(t, 0, &f), 1);
    assert_int_equal(f[0]->type, ADMIT_TASK_BATCH);
    assert_int_equal(f[0]->row, -1);
    assert_int_equal(admit_tracker_row_group_remaining(t, 0), 1);
    run_task(t, f[0], &rg, &done);
    assert_true(done);
    assert_int_equal(rg, 0);
    admit_tracker_destroy(t);
}

static void test_ready_time_gates_frontier(void **state) {
    (void)state;
    admit_column_spec cols[2] = {{.name = "now", .resources = one},
                                 {.name = "later", .available_at_ns = 50, .resources = one}};
    admit_error err;
    admit_tracker *t = admit_tracker_create(cols, 2, 3, 0, &err);
    admit_tracker_admit_row_group(t, 0, 0);
    admit_task *const *f;
    assert_int_equal(pull(t, 0, &f), 3);
    assert_int_equal(admit_tracker_next_timed_at(t), 50);
    assert_int_equal(pull(t, 49, &f), 0);
    assert_int_equal(pull(t, 50, &f), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(f[i]->row, i); /* in the order they became ready */
    assert_int_equal(admit_tracker_next_timed_at(t), -1);
    admit_tracker_destroy(t);
}

static void test_drop_row_discards_queued_and_unblocks_batch(void **state) {
    (void)state;
    uint32_t dep_a[1] = {0}, dep_b[1] = {1};
    admit_column_spec cols[3] = {{.name = "a", .resources = one},
                                 {.name = "b", .deps = dep_a, .dep_count = 1, .resources = one},
                                 {.name = "sum",
                                  .strategy = ADMIT_FULL_COLUMN,
                                  .deps = dep_b,
                                  .dep_count = 1,
                                  .resources = one}};
    admit_error err;
    admit_tracker *t = admit_tracker_create(cols, 3, 2, 0, &err);
    admit_tracker_admit_row_group(t, 0, 0);
    admit_task *const *f;
    assert_int_equal(pull(t, 0, &f), 2);
    admit_task *a0 = f[0], *a1 = f[1];
    int64_t rg;
    bool done;
    run_task(t, a0, &rg, &done);
    assert_int_equal(pull(t, 0, &f), 1); /* b0 queued */
    admit_task *b0 = f[0];
    /* a1 fails for good: row 1 is dropped, b1 never runs, the batch goes on with row 0. */
    admit_tracker_mark_running(t, a1);
    const admit_task *discard[8];
    int64_t rg_done[1];
    size_t rg_count;
    size_t nd = admit_tracker_drop_rows(t, a1, discard, rg_done, &rg_count);
    assert_int_equal(nd, 0); /* b1 was pending, not queued */
    assert_int_equal(rg_count, 0);
    assert_int_equal(admit_tracker_rows_dropped(t), 1);
    assert_int_equal(admit_tracker_state(t, a1), ADMIT_TASK_DROPPED);
    run_task(t, b0, &rg, &done);
    assert_int_equal(pull(t, 0, &f), 1);
    assert_int_equal(f[0]->type, ADMIT_TASK_BATCH);
    run_task(t, f[0], &rg, &done);
    assert_true(done);
    admit_tracker_destroy(t);
}

static void test_drop_row_reports_queued_tasks(void **state) {
    (void)state;
    admit_column_spec cols[2] = {{.name = "a", .resources = one}, {.name = "b", .resources = one}};
    admit_error err;
    admit_tracker *t = admit_tracker_create(cols, 2, 2, 0, &err);
    admit_tracker_admit_row_group(t, 0, 0);
    admit_task *const *f;
    assert_int_equal(pull(t, 0, &f), 4); /* a0 a1 b0 b1 */
    admit_task *a0 = f[0], *b0 = f[2];
    admit_tracker_mark_running(t, a0);
    const admit_task *discard[8];
    int64_t rg_done[1];
    size_t rg_count;
    assert_int_equal(admit_tracker_drop_rows(t, a0, discard, rg_done, &rg_count), 1);
    assert_ptr_equal(discard[0], b0);
    admit_tracker_destroy(t);
}

static void test_invalid_shapes_rejected(void **state) {
    (void)state;
    uint32_t self_dep[1] = {0};
    admit_column_spec bad = {.name = "a", .deps = self_dep, .dep_count = 1, .resources = one};
    admit_error err;
    assert_null(admit_tracker_create(&bad, 1, 4, 0, &err));
    assert_non_null(strstr(err.message, "not an earlier column"));
    uint32_t dep[1] = {0};
    admit_column_spec wider[2] = {
        {.name = "a", .rows = 2, .resources = one},
        {.name = "b", .rows = 4, .deps = dep, .dep_count = 1, .resources = one}};
    assert_null(admit_tracker_create(wider, 2, 4, 0, &err));
    assert_non_null(strstr(err.message, "covers 4 rows"));
}

static void test_task_ids_stable_and_distinct(void **state) {
    (void)state;
    assert_int_equal(admit_task_id(0, ADMIT_TASK_CELL, 0, 5),
                     admit_task_id(0, ADMIT_TASK_CELL, 3, 5));
    assert_true(admit_task_id(0, ADMIT_TASK_CELL, 0, 5) != admit_task_id(1, ADMIT_TASK_CELL, 0, 5));
    assert_true(admit_task_id(0, ADMIT_TASK_BATCH, 5, -1) !=
                admit_task_id(0, ADMIT_TASK_CELL, 0, 5));
    assert_true(admit_task_id(0, ADMIT_TASK_FROM_SCRATCH, 0, 0) != 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roots_wait_for_row_group_admission),
        cmocka_unit_test(test_cell_and_batch_dependencies),
        cmocka_unit_test(test_ready_time_gates_frontier),
        cmocka_unit_test(test_drop_row_discards_queued_and_unblocks_batch),
        cmocka_unit_test(test_drop_row_reports_queued_tasks),
        cmocka_unit_test(test_invalid_shapes_rejected),
        cmocka_unit_test(test_task_ids_stable_and_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
