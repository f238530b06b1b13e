/* Experiments in the results store (schema 6): an A/B experiment and a
** sweep are written and read back with their runs in (arm, seed) order and
** their verdict; what is not stored or not JSON is refused with nothing
** written; an experiment whose writer died reads, and is then stored,
** abandoned; a store of an older schema takes no experiment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "res/artifact.h"
#include "res/store.h"
#include "res/store_reader.h"
#include "store_test.h"

typedef struct fixture {
    char dir[256];
    char path[300];
    res_store *s;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    if (scratch_dir(f->dir, sizeof f->dir, "experiment") != 0) return -1;
    snprintf(f->path, sizeof f->path, "%s/results.db", f->dir);
    res_error err;
    if (res_store_open(f->path, RES_STORE_OPEN_CREATE, &f->s, &err) != RES_OK) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    res_store_close(f->s);
    remove_db(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static const res_store_experiment_info ab = {.kind = RES_EXPERIMENT_AB,
                                             .scenario_id = "heavy_root",
                                             .scenario_file = "scenarios/heavy_root.json",
                                             .name = "strict vs bounded",
                                             .baseline_arm = "strict",
                                             .candidate_arm = "bounded",
                                             .seeds = 3,
                                             .command_line = "admitsim ab heavy_root.json"};

/* A run of experiment (0: none) on arm with parameters. */
static int64_t begin_run(res_store *s, int64_t experiment, const char *arm, uint64_t seed,
                         const char *parameters) {
    res_store_run_info info = {.scenario_id = "heavy_root",
                               .scenario_version = 1,
                               .scenario_file = "scenarios/heavy_root.json",
                               .policy = arm ? arm : "strict",
                               .seed = seed,
                               .iterations = 2,
                               .experiment_id = experiment,
                               .arm = arm,
                               .parameters = parameters};
    res_error err;
    int64_t run_id = 0;
    if (res_store_begin_run(s, &info, &run_id, &err) != RES_OK) fail_msg("%s", err.message);
    return run_id;
}

static res_store_reader *open_reader(const char *path) {
    res_error err;
    res_store_reader *r = NULL;
    if (res_store_reader_open(path, &r, &err) != RES_OK) fail_msg("%s", err.message);
    return r;
}

/* An A/B experiment of two arms over three seeds, its runs begun out of
** order, a plain run beside them; then its verdict. */
static void ab_experiment_round_trip(void **state) {
    fixture *f = *state;
    res_error err;
    int64_t id = 0;
    assert_int_equal(res_store_begin_experiment(f->s, &ab, &id, &err), RES_OK);
    assert_int_equal(id, 1);
    int64_t plain = begin_run(f->s, 0, NULL, 1, NULL);
    static const struct {
        const char *arm;
        uint64_t seed;
    } order[] = {{"strict", 2},  {"bounded", 3}, {"strict", 1},
                 {"bounded", 1}, {"strict", 3},  {"bounded", 2}};
    int64_t ids[6];
    for (int i = 0; i < 6; i++) {
        char params[64];
        snprintf(params, sizeof params, "{\"policy\": \"%s\"}", order[i].arm);
        ids[i] = begin_run(f->s, id, order[i].arm, order[i].seed, params);
    }

    res_store_reader *r = open_reader(f->path);
    res_experiment_row e;
    assert_int_equal(res_store_reader_experiment(r, id, &e, &err), RES_OK);
    assert_string_equal(e.kind, "ab");
    assert_string_equal(e.scenario_id, "heavy_root");
    assert_string_equal(e.scenario_file, "scenarios/heavy_root.json");
    assert_string_equal(e.name, "strict vs bounded");
    assert_string_equal(e.baseline_arm, "strict");
    assert_string_equal(e.candidate_arm, "bounded");
    assert_int_equal(e.seeds, 3);
    assert_string_equal(e.harness_version, RES_HARNESS_VERSION);
    assert_string_equal(e.command_line, "admitsim ab heavy_root.json");
    assert_string_equal(e.status, "running");
    assert_string_equal(e.state, "running");
    assert_int_equal(e.writer, RES_RUN_WRITER_ALIVE);
    assert_int_equal(e.writer_pid.value, getpid());
    assert_null(e.finished_at);
    assert_null(e.result_json);
    assert_int_equal(e.runs, 6);
    assert_int_equal(e.runs_complete, 0);
    assert_int_equal(e.arms, 2);

    /* its runs by arm, then seed */
    res_store_cursor *c = NULL;
    assert_int_equal(res_store_reader_experiment_runs(r, id, &c, &err), RES_OK);
    static const int want[] = {3, 5, 1, 2, 0, 4}; /* indexes into order[] */
    for (int i = 0; i < 6; i++) {
        res_experiment_run_row run;
        assert_int_equal(res_store_cursor_next_experiment_run(c, &run, &err), RES_CURSOR_ROW);
        assert_int_equal(run.run_id, ids[want[i]]);
        assert_string_equal(run.arm, order[want[i]].arm);
        assert_int_equal(run.seed, order[want[i]].seed);
        char params[64];
        snprintf(params, sizeof params, "{\"policy\": \"%s\"}", order[want[i]].arm);
        assert_string_equal(run.parameters, params);
        assert_string_equal(run.status, "running");
        assert_string_equal(run.state, "running");
        assert_int_equal(run.iterations, 2);
        assert_int_equal(run.iterations_stored, 0);
    }
    res_experiment_run_row run;
    assert_int_equal(res_store_cursor_next_experiment_run(c, &run, &err), RES_CURSOR_DONE);
    res_store_cursor_close(c);

    /* a run row names its experiment; a plain run none */
    res_run_row row;
    assert_int_equal(res_store_reader_run(r, ids[1], &row, &err), RES_OK);
    assert_true(row.experiment_id.set);
    assert_int_equal(row.experiment_id.value, id);
    assert_string_equal(row.arm, "bounded");
    assert_string_equal(row.parameters, "{\"policy\": \"bounded\"}");
    assert_int_equal(res_store_reader_run(r, plain, &row, &err), RES_OK);
    assert_false(row.experiment_id.set);
    assert_null(row.arm);
    assert_null(row.parameters);
    res_store_reader_close(r);

    /* the verdict */
    const char *verdict = "{\"metric\": \"wall_time_seconds\", \"verdict\": \"no_difference\"}";
    assert_int_equal(res_store_finish_experiment(f->s, id, "complete", verdict, &err), RES_OK);
    r = open_reader(f->path);
    assert_int_equal(res_store_reader_experiment(r, id, &e, &err), RES_OK);
    assert_string_equal(e.status, "complete");
    assert_string_equal(e.state, "complete");
    assert_non_null(e.finished_at);
    assert_string_equal(e.result_json, verdict);
    assert_int_equal(res_store_reader_experiment(r, id + 1, &e, &err), RES_ENOTFOUND);
    assert_non_null(strstr(err.message, "results.db: no experiment 2"));
    res_store_reader_close(r);
}

/* A sweep: points are parameter sets; the list gives every experiment by
** id with what its runs add up to. */
static void sweep_and_the_experiment_list(void **state) {
    fixture *f = *state;
    res_error err;
    int64_t a = 0, b = 0;
    assert_int_equal(res_store_begin_experiment(f->s, &ab, &a, &err), RES_OK);
    res_store_experiment_info sweep = {.kind = RES_EXPERIMENT_SWEEP,
                                       .scenario_id = "aimd_recovery",
                                       .name = "md_factor x cooldown",
                                       .seeds = 2};
    assert_int_equal(res_store_begin_experiment(f->s, &sweep, &b, &err), RES_OK);
    static const char *const points[] = {"{\"md_factor\": 0.5, \"cooldown\": 1}",
                                         "{\"md_factor\": 0.75, \"cooldown\": 1}",
                                         "{\"md_factor\": 0.5, \"cooldown\": 2}"};
    for (int p = 0; p < 3; p++)
        for (uint64_t seed = 1; seed <= 2; seed++)
            begin_run(f->s, b, NULL, seed, points[p]);
    assert_int_equal(res_store_finish_experiment(f->s, b, "failed", NULL, &err), RES_OK);

    res_store_reader *r = open_reader(f->path);
    res_store_cursor *c = NULL;
    assert_int_equal(res_store_reader_experiments(r, &c, &err), RES_OK);
    res_experiment_row e;
    assert_int_equal(res_store_cursor_next_experiment(c, &e, &err), RES_CURSOR_ROW);
    assert_int_equal(e.experiment_id, a);
    assert_int_equal(e.runs, 0);
    assert_int_equal(e.arms, 0);
    assert_int_equal(res_store_cursor_next_experiment(c, &e, &err), RES_CURSOR_ROW);
    assert_int_equal(e.experiment_id, b);
    assert_string_equal(e.kind, "sweep");
    assert_null(e.scenario_file);
    assert_null(e.baseline_arm);
    assert_null(e.candidate_arm);
    assert_string_equal(e.status, "failed");
    assert_null(e.result_json);
    assert_int_equal(e.runs, 6);
    assert_int_equal(e.arms, 3);
    assert_int_equal(res_store_cursor_next_experiment(c, &e, &err), RES_CURSOR_DONE);
    /* stepped as another kind */
    res_run_row run;
    assert_int_equal(res_store_cursor_next_run(c, &run, &err), RES_CURSOR_ERROR);
    assert_int_equal(err.code, RES_EINVAL);
    res_store_cursor_close(c);
    /* runs with no arm come by seed, then run id */
    assert_int_equal(res_store_reader_experiment_runs(r, b, &c, &err), RES_OK);
    res_experiment_run_row er;
    int64_t last_seed = 0, n = 0;
    while (res_store_cursor_next_experiment_run(c, &er, &err) == RES_CURSOR_ROW) {
        assert_null(er.arm);
        assert_true(er.seed >= last_seed);
        last_seed = er.seed;
        n++;
    }
    assert_int_equal(n, 6);
    res_store_cursor_close(c);
    res_store_reader_close(r);
}

/* What is not stored, or not JSON, is refused and nothing is written. */
static void refuses_what_is_not_there_or_not_json(void **state) {
    fixture *f = *state;
    res_error err = {0};
    int64_t id = 0, run_id = 0;
    assert_int_equal(res_store_begin_experiment(f->s, &ab, &id, &err), RES_OK);
    res_store_run_info info = {.scenario_id = "s", .policy = "strict", .iterations = 1};
    info.experiment_id = 99;
    assert_int_equal(res_store_begin_run(f->s, &info, &run_id, &err), RES_ENOTFOUND);
    assert_non_null(strstr(err.message, "no experiment 99"));
    info.experiment_id = id;
    info.parameters = "[1, 2]";
    assert_int_equal(res_store_begin_run(f->s, &info, &run_id, &err), RES_EINVAL);
    assert_non_null(strstr(err.message, "the parameters of a run must be a JSON object"));
    info.parameters = "{\"policy\": ";
    assert_int_equal(res_store_begin_run(f->s, &info, &run_id, &err), RES_EINVAL);
    assert_non_null(strstr(err.message, "the parameters of a run is not JSON"));
    assert_int_equal(res_store_finish_experiment(f->s, id, "complete", "{nope", &err), RES_EINVAL);
    assert_non_null(strstr(err.message, "the result of an experiment is not JSON"));
    assert_int_equal(res_store_finish_experiment(f->s, id, "done", NULL, &err), RES_EINVAL);
    assert_non_null(strstr(err.message, "'complete' or 'failed', not 'done'"));
    assert_int_equal(res_store_finish_experiment(f->s, 42, "complete", "[]", &err), RES_ENOTFOUND);
    assert_non_null(strstr(err.message, "no experiment 42"));
    res_store_experiment_info bad = ab;
    bad.scenario_id = NULL;
    assert_int_equal(res_store_begin_experiment(f->s, &bad, &id, &err), RES_EINVAL);
    sqlite3 *db = raw_open(f->path);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs"), 0);
    expect_text(db, "SELECT status || ' ' || ifnull(result_json, '-') FROM experiments",
                "running -");
    /* the schema itself holds parameters to objects, results to JSON */
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO runs (scenario_id, scenario_version, policy,"
                                      " seed, iterations, harness_version, created_at, status,"
                                      " parameters) VALUES ('s', 1, 'strict', 1, 1, 'h', 'now',"
                                      " 'running', '[1]')",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(db, "UPDATE experiments SET result_json = '{x'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* The child begins an experiment and a run of it and is killed: both read
** abandoned at once and the next writer stores them so. */
static void killed_experiment_reads_abandoned(void **state) {
    fixture *f = *state;
    fflush(NULL);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        res_store *s = NULL;
        res_error err;
        int64_t id = 0, run_id = 0;
        res_store_run_info info = {
            .scenario_id = "s", .policy = "strict", .iterations = 3, .arm = "strict"};
        if (res_store_open(f->path, RES_STORE_OPEN_EXISTING, &s, &err) != RES_OK ||
            res_store_begin_experiment(s, &ab, &id, &err) != RES_OK)
            _exit(3);
        info.experiment_id = id;
        if (res_store_begin_run(s, &info, &run_id, &err) != RES_OK) _exit(4);
        if (write(ready[1], "R", 1) != 1) _exit(5);
        pause();
        _exit(0);
    }
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    res_store_reader *r = open_reader(f->path);
    res_experiment_row e;
    res_error err;
    assert_int_equal(res_store_reader_experiment(r, 1, &e, &err), RES_OK);
    assert_string_equal(e.state, "running"); /* its writer is alive */
    assert_int_equal(e.writer, RES_RUN_WRITER_ALIVE);
    res_store_reader_close(r);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);

    r = open_reader(f->path);
    assert_int_equal(res_store_reader_experiment(r, 1, &e, &err), RES_OK);
    assert_string_equal(e.status, "running");
    assert_string_equal(e.state, "abandoned");
    assert_int_equal(e.writer, RES_RUN_WRITER_GONE);
    assert_int_equal(e.writer_pid.value, pid);
    res_store_cursor *cur = NULL;
    res_experiment_run_row run;
    assert_int_equal(res_store_reader_experiment_runs(r, 1, &cur, &err), RES_OK);
    assert_int_equal(res_store_cursor_next_experiment_run(cur, &run, &err), RES_CURSOR_ROW);
    assert_string_equal(run.status, "running");
    assert_string_equal(run.state, "abandoned");
    res_store_cursor_close(cur);
    res_store_reader_close(r);

    /* the next writer stores both as abandoned */
    res_store_close(f->s);
    assert_int_equal(res_store_open(f->path, RES_STORE_OPEN_EXISTING, &f->s, &err), RES_OK);
    sqlite3 *db = raw_open(f->path);
    expect_text(db, "SELECT status FROM experiments", "abandoned");
    expect_text(db, "SELECT status FROM runs", "abandoned");
    sqlite3_close(db);
}

/* A store opened at schema 5 (before experiments) takes none. */
static void an_older_schema_takes_no_experiment(void **state) {
    fixture *f = *state;
    char path[400];
    snprintf(path, sizeof path, "%s/v5.db", f->dir);
    res_store *s = NULL;
    res_error err;
    assert_int_equal(res_store_open_version(path, RES_STORE_OPEN_CREATE, 5, &s, &err), RES_OK);
    int64_t id = 0, run_id = 0;
    assert_int_equal(res_store_begin_experiment(s, &ab, &id, &err), RES_ESTORE);
    assert_non_null(strstr(err.message, "schema version 5 is not the current one"));
    res_store_run_info info = {.scenario_id = "s", .policy = "strict", .arm = "strict"};
    assert_int_equal(res_store_begin_run(s, &info, &run_id, &err), RES_EINVAL);
    assert_non_null(strstr(err.message, "schema version 5 stores no experiments"));
    info.arm = NULL; /* a plain run is fine */
    assert_int_equal(res_store_begin_run(s, &info, &run_id, &err), RES_OK);
    res_store_close(s);
    remove_db(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ab_experiment_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(sweep_and_the_experiment_list, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_what_is_not_there_or_not_json, setup, teardown),
        cmocka_unit_test_setup_teardown(killed_experiment_reads_abandoned, setup, teardown),
        cmocka_unit_test_setup_teardown(an_older_schema_takes_no_experiment, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
