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
