/* Shared by the results store's tests that write a real simulated
** iteration: a scenario run once (seed 1, every event kept) and a new store
** in a scratch directory holding its run row, with a connection of the
** test's own (include after cmocka.h, sim_test.h and store_test.h). */
#ifndef ADMIT_TESTS_STORE_RUN_TEST_H
#define ADMIT_TESTS_STORE_RUN_TEST_H

#include "res/store.h"

typedef struct store_run_fixture {
    char dir[256];
    char path[300]; /* dir/results.db */
    sim_scenario *sc;
    res_run_record *run;
    res_summary *sum;
    res_store *s;
    sqlite3 *db;
    int64_t run_id;
} store_run_fixture;

/* sc (owned from here) run once, and the store named after the test. */
static inline store_run_fixture *store_run_fixture_create(sim_scenario *sc, const char *name) {
    store_run_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(scratch_dir(f->dir, sizeof f->dir, name), 0);
    snprintf(f->path, sizeof f->path, "%s/results.db", f->dir);
    f->sc = sc;
    f->run = run_iteration(sc, sc->config.default_policy, 1, 0);
    f->sum = res_summary_compute(f->run);
    assert_non_null(f->sum);
    res_error err;
    if (res_store_open(f->path, RES_STORE_OPEN_CREATE, &f->s, &err) != RES_OK)
        fail_msg("%s", err.message);
    res_store_run_info info = {.scenario_id = sc->config.scenario_id,
                               .scenario_version = sc->config.scenario_version,
                               .policy = run_policy_name(f->run->policy),
                               .seed = 1,
                               .iterations = 1,
                               .command_line = "admitsim test"};
    if (res_store_begin_run(f->s, &info, &f->run_id, &err) != RES_OK) fail_msg("%s", err.message);
    f->db = raw_open(f->path);
    return f;
}

/* Writes the run's iteration, failing the test with the store's message. */
static inline void store_run_fixture_write(store_run_fixture *f) {
    res_error err;
    if (res_store_write_iteration(f->s, f->run_id, f->run, f->sum, &err) != RES_OK)
        fail_msg("%s", err.message);
}

/* A row of table (put there by block, SQL) in the way of the iteration:
** writing it fails with a message naming says and leaves nothing of it
** behind (no iterations, event rows or packs, metrics, snapshots, task
** timelines or request attempts but that one row); once the row is gone
** the same iteration writes. */
static inline void expect_blocked_write_leaves_nothing(store_run_fixture *f, const char *block,
                                                       const char *table, const char *says) {
    assert_int_equal(sqlite3_exec(f->db, block, NULL, NULL, NULL), SQLITE_OK);
    res_error err;
    assert_int_equal(res_store_write_iteration(f->s, f->run_id, f->run, f->sum, &err), RES_ESTORE);
    if (!strstr(err.message, says)) fail_msg("%s: no \"%s\"", err.message, says);
    static const char *const tables[] = {"iterations",      "event_rows", "event_packs",
                                         "metrics",         "snapshots",  "task_timelines",
                                         "request_attempts"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
        assert_int_equal(scalar(f->db, sql), strcmp(tables[i], table) ? 0 : 1);
    }
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM %s", table);
    assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
    store_run_fixture_write(f);
}

static inline void store_run_fixture_free(store_run_fixture *f) {
    sqlite3_close(f->db);
    res_store_close(f->s);
    res_summary_free(f->sum);
    res_run_record_free(f->run);
    sim_scenario_free(f->sc);
    remove_db(f->path);
    rmdir(f->dir);
    free(f);
}

#endif
