/* The results store under concurrent writers: four processes write runs into
** one database while another connection holds its write lock for longer
** than SQLite's old busy timeout (10 s).  Every writer waits and succeeds
** (none fails with "database is locked"), its waits are counted, a status
** update waits too, and every run ends complete with all its iterations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "res/store.h"
#include "res/store_reader.h"
#include "sim_test.h"
#include "store_test.h"

enum { WRITERS = 4, ITERATIONS = 3, HOLD_SECONDS = 11 };

/* Exit codes of a writer child. */
enum {
    CHILD_OK = 0,
    CHILD_OPEN = 3,
    CHILD_BEGIN = 4,
    CHILD_WRITE = 5,
    CHILD_STATUS = 6,
    CHILD_NO_WAIT = 7
};

/* Child k: a new run of ITERATIONS iterations (writer 0 first marks the
** parent's run 1 failed); it must have waited for the lock at least once. */
static int writer(const char *path, int k, res_run_record *run, const res_summary *sum) {
    res_error err;
    res_store *s = NULL;
    if (res_store_open(path, RES_STORE_OPEN_EXISTING, &s, &err) != RES_OK) {
        fprintf(stderr, "writer %d: %s\n", k, err.message);
        return CHILD_OPEN;
    }
    int rc = CHILD_OK;
    int64_t run_id = 0;
    res_store_run_info info = {.scenario_id = run->config->scenario_id,
                               .scenario_version = 1,
                               .scenario_file = run->config->path,
                               .policy = "strict",
                               .seed = (uint64_t)k,
                               .iterations = ITERATIONS};
    if (k == 0 && res_store_set_run_status(s, 1, "failed", &err) != RES_OK) rc = CHILD_STATUS;
    if (rc == CHILD_OK && res_store_begin_run(s, &info, &run_id, &err) != RES_OK) rc = CHILD_BEGIN;
    for (uint32_t i = 0; rc == CHILD_OK && i < ITERATIONS; i++) {
        run->iteration = i;
        if (res_store_write_iteration(s, run_id, run, sum, &err) != RES_OK) rc = CHILD_WRITE;
    }
    if (rc != CHILD_OK) fprintf(stderr, "writer %d: %s\n", k, err.message);
    res_store_lock_waits w = res_store_lock_wait_stats(s);
    if (rc == CHILD_OK && (w.count == 0 || w.longest_seconds < HOLD_SECONDS - 2)) {
        fprintf(stderr, "writer %d: waited %llu times, at most %.3f s\n", k,
                (unsigned long long)w.count, w.longest_seconds);
        rc = CHILD_NO_WAIT;
    }
    res_store_close(s);
    return rc;
}

/* The holder: takes the write lock, says 'L' on fd, holds it HOLD_SECONDS. */
static int hold_lock(const char *path, int fd) {
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        write(fd, "L", 1) != 1)
        return 1;
    struct timespec hold = {HOLD_SECONDS, 0};
    nanosleep(&hold, NULL);
    int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : 2;
    sqlite3_close(db);
    return rc;
}

static void four_writers_wait_out_a_held_lock(void **state) {
    (void)state;
    char dir[256], path[300];
    assert_int_equal(scratch_dir(dir, sizeof dir, "concurrency"), 0);
    snprintf(path, sizeof path, "%s/results.db", dir);
    sim_scenario *sc = load("dynamic_request_count.json");
    res_run_record *run = run_iteration(sc, RUN_POLICY_STRICT, 1, 0);
    res_summary *sum = res_summary_compute(run);
    assert_non_null(sum);

    /* the database, with run 1 for writer 0's status update */
    res_error err;
    res_store *s = NULL;
    assert_int_equal(res_store_open(path, RES_STORE_OPEN_CREATE, &s, &err), RES_OK);
    res_store_run_info info = {
        .scenario_id = "held", .scenario_file = "held.json", .policy = "strict", .iterations = 1};
    int64_t first = 0;
    assert_int_equal(res_store_begin_run(s, &info, &first, &err), RES_OK);
    res_store_close(s);

    /* another process takes the write lock before the writers start (no
    ** connection may cross a fork: SQLite keeps its locks per process) */
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    fflush(NULL);
    pid_t holder = fork();
    assert_true(holder >= 0);
    if (holder == 0) _exit(hold_lock(path, ready[1]));
    char byte = 0;
    assert_int_equal(read(ready[0], &byte, 1), 1);
    assert_int_equal(byte, 'L');
    close(ready[0]);
    close(ready[1]);
    pid_t pids[WRITERS];
    for (int k = 0; k < WRITERS; k++) {
        pids[k] = fork();
        assert_true(pids[k] >= 0);
        if (pids[k] == 0) _exit(writer(path, k, run, sum));
    }
    int status = 0;
    assert_int_equal(waitpid(holder, &status, 0), holder);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int k = 0; k < WRITERS; k++) {
        assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != CHILD_OK)
            fail_msg("writer %d ended with status %d", k, status);
    }

    res_store_reader *r = NULL;
    assert_int_equal(res_store_reader_open(path, &r, &err), RES_OK);
    res_store_cursor *c = NULL;
    assert_int_equal(res_store_reader_runs(r, &c, NULL), RES_OK);
    res_run_row row;
    assert_int_equal(res_store_cursor_next_run(c, &row, NULL), RES_CURSOR_ROW);
    assert_string_equal(row.state, "failed");
    int runs = 0;
    while (res_store_cursor_next_run(c, &row, NULL) == RES_CURSOR_ROW) {
        assert_string_equal(row.state, "complete");
        assert_int_equal(row.iterations_stored, ITERATIONS);
        runs++;
    }
    assert_int_equal(runs, WRITERS);
    res_store_cursor_close(c);
    res_store_reader_close(r);

    res_summary_free(sum);
    res_run_record_free(run);
    sim_scenario_free(sc);
    remove_db(path);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(four_writers_wait_out_a_held_lock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
