/* The results store's batched inserts (events, task timelines, request
** attempts many rows per statement): writing an iteration opens no
** statement journal, and a batch that fails part-way leaves nothing of the
** iteration behind and the connection usable.
**
** A multi-row INSERT whose conflict mode is ABORT (the default) makes
** SQLite keep a statement journal so that a failing statement can undo its
** own rows inside the transaction; past 64 KiB that journal is a temporary
** file, and an x100 run wrote about 20,000 pages to it.  The store's batch
** statements say OR FAIL instead: a failure ends the whole iteration's
** transaction anyway (res_store_in_transaction rolls it back), so the
** statement's own undo is never needed.  The counting VFS below wraps the
** default one and sees every temporary file SQLite opens; the same kind of
** statement in ABORT mode, on the same database, shows that it would see
** the journal (a build keeping temporary files in memory opens none). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "res/store.h"
#include "sim_test.h"
#include "store_test.h"
#include "store_run_test.h"

/* The default VFS with xOpen counting statement journals. */
static sqlite3_vfs *real_vfs;
static sqlite3_vfs counting_vfs;
static int subjournal_opens;

static int counting_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                         int *out_flags) {
    (void)vfs;
    if (flags & SQLITE_OPEN_SUBJOURNAL) subjournal_opens++;
    return real_vfs->xOpen(real_vfs, name, file, flags, out_flags);
}

typedef store_run_fixture fixture;

/* dynamic_request_calls (1,500 task timelines, 33,275 events, 3,466
** request attempts, every event kept) run once, and a new store holding
** its run row, through the counting VFS. */
static int setup(void **state) {
    if (!real_vfs) {
        real_vfs = sqlite3_vfs_find(NULL);
        counting_vfs = *real_vfs;
        counting_vfs.zName = "admitsim-test-counting";
        counting_vfs.xOpen = counting_open;
        if (sqlite3_vfs_register(&counting_vfs, 1) != SQLITE_OK) return -1;
    }
    *state = store_run_fixture_create(load("dynamic_request_calls.json"), "store-batches");
    return 0;
}

static int teardown(void **state) {
    store_run_fixture_free(*state);
    return 0;
}

/* A task_timelines row of its NOT NULL columns alone, for the rows a test
** puts there itself; VALUES or SELECT follow. */
#define BARE_TIMELINE_INSERT                                                                       \
    "INSERT INTO task_timelines (run_id, iteration, task_execution_id, task_id, end_state,"        \
    " attempts, rate_limited_attempts, request_wait_ns, cooldown_wait_ns, provider_ns)"

static void writes_without_a_statement_journal(void **state) {
    fixture *f = *state;
    /* enough rows for many full batches of each kind */
    assert_true(res_event_log_count(f->run->events) > 64 * 32);
    assert_true(f->run->stats.tasks_completed > 8 * 64);
    subjournal_opens = 0;
    store_run_fixture_write(f);
    assert_int_equal(subjournal_opens, 0);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM task_timelines"),
                     f->run->stats.tasks_completed);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM events"),
                     res_event_log_count(f->run->events) +
                         res_event_log_count(f->run->request_events));
    assert_true(scalar(f->db, "SELECT count(*) FROM request_attempts") > 8 * 16);
    /* the control: 64-row statements in ABORT mode, in one transaction */
    assert_int_equal(sqlite3_exec(f->db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    for (int k = 0; k < 64; k++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < "
                 "63) " BARE_TIMELINE_INSERT
                 " SELECT 99, 0, %d + i, i, 'completed', 0, 0, 0, 0, 0 FROM n",
                 k * 64);
        assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    assert_int_equal(sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_true(subjournal_opens > 0);
}

/* A timeline row already there under the iteration's key makes a batch in
** the middle of the timelines fail, after the iteration row, every event
** and the metrics went in: none of them stays, and once the row is gone the
** same iteration writes whole. */
static void failed_batch_leaves_nothing_behind(void **state) {
    fixture *f = *state;
    char sql[256];
    snprintf(sql, sizeof sql,
             BARE_TIMELINE_INSERT " VALUES (%lld, 0, 300, 0, 'completed', 0, 0, 0, 0, 0)",
             (long long)f->run_id);
    expect_blocked_write_leaves_nothing(f, sql, "task_timelines", "task timelines");
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM iterations"), 1);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM task_timelines"),
                     f->run->stats.tasks_completed);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(writes_without_a_statement_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_batch_leaves_nothing_behind, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
