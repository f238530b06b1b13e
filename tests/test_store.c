/* The SQLite results store: schema and version, migration (from version 1,
** and from real version 4 and version 5 databases), refusal of a newer schema and of
** another program's database, round trip of a run, rollback on error, and a
** writer killed mid-transaction leaving a consistent database whose run
** reads, and then is marked, abandoned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "res/event_names.h"
#include "res/store.h"
#include "res/store_reader.h"
#include "sim_test.h"
#include "store_test.h"

typedef struct fixture {
    char dir[256];
    char path[300];
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    if (scratch_dir(f->dir, sizeof f->dir, "store") != 0) return -1;
    snprintf(f->path, sizeof f->path, "%s/sub/results.db", f->dir);
    *state = f;
    return 0;
}

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0) remove_tree(p);
    }
    closedir(d);
    rmdir(dir);
}

static int teardown(void **state) {
    fixture *f = *state;
    remove_tree(f->dir);
    free(f);
    return 0;
}

static res_store *open_ok(const char *path, int flags) {
    res_error err;
    res_store *s = NULL;
    if (res_store_open(path, flags, &s, &err) != RES_OK) fail_msg("%s", err.message);
    return s;
}

static sqlite3 *raw_open_create(const char *path) {
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) fail_msg("%s: cannot create", path);
    return db;
}

/* The query plan of sql names index. */
static void expect_plan(sqlite3 *db, const char *sql, const char *index) {
    char eqp[1200];
    snprintf(eqp, sizeof eqp, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, eqp, -1, &st, NULL), SQLITE_OK);
    bool found = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 3);
        if (detail && strstr(detail, index)) found = true;
    }
    sqlite3_finalize(st);
    if (!found) fail_msg("%s: plan does not use %s", sql, index);
}

static void schema_created_at_current_version(void **state) {
    fixture *f = *state;
    res_store *s = open_ok(f->path, RES_STORE_OPEN_CREATE);
    sqlite3 *db = raw_open(f->path);
    assert_int_equal(res_store_schema_version(s), RES_STORE_SCHEMA_VERSION);
    assert_int_equal(scalar(db, "PRAGMA user_version"), RES_STORE_SCHEMA_VERSION);
    assert_int_equal(scalar(db, "SELECT count(*) FROM schema_migrations"),
                     RES_STORE_SCHEMA_VERSION);
    expect_text(db, "PRAGMA journal_mode", "wal");
    const char *tables[] = {"runs",        "iterations",      "event_rows",     "event_packs",
                            "metrics",     "snapshots",       "task_timelines", "capacity_plans",
                            "experiments", "request_attempts"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'", tables[i]);
        assert_int_equal(scalar(db, sql), 1);
    }
    /* every event through the events view (version 9), the notable ones
    ** through notable_events */
    assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND"
                                " name IN ('events', 'notable_events')"),
                     2);
    const char *indexes[] = {"events_by_run_time",         "events_by_notable_kind",
                             "events_by_notable_resource", "metrics_by_name",
                             "metrics_by_scope",           "runs_by_experiment"};
    for (size_t i = 0; i < sizeof indexes / sizeof *indexes; i++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM sqlite_master WHERE type='index' AND name='%s'", indexes[i]);
        assert_int_equal(scalar(db, sql), 1);
    }
    /* the queries a user makes use them: by run and time, and through the
    ** notable_events view by kind and by resource */
    expect_plan(db,
                "SELECT * FROM events WHERE run_id = 1 AND iteration = 0 AND captured_at_ns"
                " BETWEEN 5 AND 9",
                "events_by_run_time");
    expect_plan(db, "SELECT * FROM events WHERE run_id = 1 ORDER BY iteration, captured_at_ns",
                "events_by_run_time");
    expect_plan(db, "SELECT * FROM notable_events WHERE kind = 'request_rate_limited'",
                "events_by_notable_kind");
    expect_plan(db, "SELECT * FROM notable_events WHERE run_id = 1 AND kind = 'admission_blocked'",
                "events_by_notable_kind");
    expect_plan(db, "SELECT count(*) FROM notable_events WHERE resource = 'p/m/default'",
                "events_by_notable_resource");
    expect_plan(db, "SELECT run_id FROM runs WHERE experiment_id = 1 ORDER BY arm, seed",
                "runs_by_experiment");
    /* a run's packed events are found by its key, not by a scan */
    expect_plan(db, "SELECT * FROM events WHERE run_id = 1 AND iteration = 0",
                "sqlite_autoindex_event_packs_1");
    res_store_close(s);
    /* reopening changes nothing */
    s = open_ok(f->path, RES_STORE_OPEN_EXISTING);
    assert_int_equal(scalar(db, "SELECT count(*) FROM schema_migrations"),
                     RES_STORE_SCHEMA_VERSION);
    res_store_close(s);
    sqlite3_close(db);
}

static void missing_database_is_not_created(void **state) {
    fixture *f = *state;
    res_error err = {0};
    res_store *s = NULL;
    assert_int_equal(res_store_open(f->path, RES_STORE_OPEN_EXISTING, &s, &err), RES_ENOTFOUND);
    assert_int_equal(err.code, RES_ENOTFOUND);
    assert_null(s);
    assert_non_null(strstr(err.message, "no such results database"));
    assert_int_not_equal(access(f->path, F_OK), 0);
}

static void migrates_v1_to_latest_keeping_data(void **state) {
    fixture *f = *state;
    res_error err;
    res_store *s = NULL;
    assert_int_equal(res_store_open_version(f->path, RES_STORE_OPEN_CREATE, 1, &s, &err), RES_OK);
    assert_int_equal(res_store_schema_version(s), 1);
    res_store_run_info info = {.scenario_id = "old",
                               .scenario_version = 3,
                               .scenario_file = "old.json",
                               .policy = "strict",
                               .seed = 42,
                               .iterations = 1};
    int64_t run_id = 0;
    assert_int_equal(res_store_begin_run(s, &info, &run_id, NULL), RES_OK);
    sqlite3 *db = raw_open(f->path);
    /* a v1 store refuses to write iterations; fill one by hand, v1 columns only */
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO iterations VALUES (1, 0, 'completed', 2.5, 0, 0, 0,"
                     " '00000000000000ff');"
                     "INSERT INTO events (run_id, iteration, stream, sequence, kind,"
                     " captured_at_ns, request_attempt_id, resource) VALUES"
                     " (1, 0, 'request', 0, 'request_wait_started', 11, 3, 'p/m/chat'),"
                     " (1, 0, 'scheduler', 1, 'task_lease_acquired', 10, NULL, NULL),"
                     " (1, 0, 'request', 1, 'request_rate_limited', 10, 3, 'p/m/chat'),"
                     " (1, 0, 'scheduler', 0, 'selected', 10, NULL, NULL);"
                     "INSERT INTO metrics VALUES (1, 0, 'run', 'wall_time_seconds', 2.5);"
                     /* a user's own view over events survives the v4 rebuild */
                     "CREATE VIEW my_rate_limits AS SELECT run_id, captured_at_ns FROM events"
                     " WHERE kind = 'request_rate_limited';",
                     NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(scalar(db, "SELECT count(*) FROM pragma_table_info('iterations')"
                                " WHERE name = 'event_count'"),
                     0);
    res_store_close(s);

    s = open_ok(f->path, RES_STORE_OPEN_EXISTING);
    assert_int_equal(res_store_schema_version(s), 9);
    assert_int_equal(scalar(db, "PRAGMA user_version"), 9);
    assert_int_equal(
        scalar(db, "SELECT group_concat(version) = '1,2,3,4,5,6,7,8,9' FROM schema_migrations"), 1);
    /* version 4: events in capture order (time, scheduler first, sequence),
    ** lifecycle flagged */
    expect_text(db,
                "SELECT group_concat(kind || ':' || lifecycle, ' ') FROM"
                " (SELECT kind, lifecycle FROM events ORDER BY event_id)",
                "selected:1 task_lease_acquired:1 request_rate_limited:0 request_wait_started:1");
    assert_int_equal(scalar(db, "SELECT count(*) FROM notable_events"), 1);
    assert_int_equal(scalar(db, "SELECT captured_at_ns FROM my_rate_limits"), 10);
    /* version 3: task timelines and capacity plans */
    assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                "('task_timelines', 'capacity_plans')"),
                     2);
    assert_int_equal(scalar(db, "SELECT event_count FROM iterations WHERE run_id = 1"), 4);
    assert_int_equal(scalar(db, "SELECT seed FROM runs WHERE run_id = 1"), 42);
    expect_text(db, "SELECT scenario_id || ':' || status FROM runs WHERE run_id = 1",
                "old:running");
    /* version 5: the writer's columns, unknown for a run stored before */
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE writer_pid IS NULL AND"
                                " writer_host IS NULL AND heartbeat_at IS NULL"),
                     1);
    assert_int_equal(scalar(db, "SELECT finished_at IS NULL FROM runs WHERE run_id = 1"), 1);
    /* version 6: no experiment, arm or parameters for a run stored before */
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE experiment_id IS NULL AND"
                                " arm IS NULL AND parameters IS NULL"),
                     1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM experiments"), 0);
    /* version 7: an identity, no source for a run written here */
    assert_int_equal(scalar(db, "SELECT count(*) FROM store_identity WHERE length(uuid) = 32"), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE source IS NULL"), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM events WHERE run_id = 1"), 4);
    assert_int_equal(scalar(db, "SELECT value = 2.5 FROM metrics WHERE name = 'wall_time_seconds'"),
                     1);
    /* version 8: request attempts back-filled from the request stream's
    ** events, and the events stored counted (every one, before) */
    expect_text(db,
                "SELECT request_attempt_id || ' ' || resource || ' ' || rate_limited || ' ' ||"
                " wait_started_at || ' ' || wait_started_sequence || ' ' ||"
                " coalesce(lease_acquired_at, 'null') FROM request_attempts",
                "3 p/m/chat 1 11 0 null");
    assert_int_equal(scalar(db, "SELECT events_stored FROM iterations WHERE run_id = 1"), 4);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name ="
                                " 'task_timelines_by_column'"),
                     0);
    /* version 9: the rows stay rows (event_rows), seen through the events
    ** view, the user's view over events reads the view */
    assert_int_equal(scalar(db, "SELECT count(*) FROM event_rows WHERE run_id = 1"), 4);
    assert_int_equal(scalar(db, "SELECT count(*) FROM event_packs"), 0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_master WHERE sql LIKE"
                                " '%FROM events WHERE kind%' AND name = 'my_rate_limits'"),
                     1);
    /* deleting an iteration deletes its events (a trigger since v4) and the
    ** rest (foreign keys) */
    assert_int_equal(sqlite3_exec(db, "DELETE FROM iterations WHERE run_id = 1", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(scalar(db, "SELECT count(*) FROM events"), 0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM request_attempts"), 0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM metrics"), 0);
    assert_int_equal(
        scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'metrics_by_scope'"), 1);
    res_store_close(s);
    sqlite3_close(db);
}

/* Copies a database of tests/data, which must stay as it is. */
static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

/* tests/data/store-v4.db was written by admitsim at schema version 4 (the
** build before version 5): run 1 complete (2 iterations), run 2 stored as
** running with 2 of 3 iterations, as a writer killed in its third leaves
** it.  Readers read it as it is; a writer migrates it to the current version. */
static void migrates_a_real_v4_database(void **state) {
    fixture *f = *state;
    char path[400];
    snprintf(path, sizeof path, "%s/v4.db", f->dir);
    copy_file(ADMIT_TEST_DATA_DIR "/store-v4.db", path);

    res_error err;
    res_store_reader *r = NULL;
    assert_int_equal(res_store_reader_open(path, &r, &err), RES_OK);
    assert_int_equal(res_store_reader_schema_version(r), 4);
    res_run_row row;
    assert_int_equal(res_store_reader_run(r, 2, &row, &err), RES_OK);
    assert_string_equal(row.state, "running"); /* no writer recorded: cannot tell */
    assert_int_equal(row.writer, RES_RUN_WRITER_UNKNOWN);
    assert_false(row.writer_pid.set);
    assert_int_equal(row.iterations_stored, 2);
    res_store_reader_close(r);

    res_store *s = open_ok(path, RES_STORE_OPEN_EXISTING);
    assert_int_equal(res_store_found_version(s), 4);
    assert_int_equal(res_store_schema_version(s), RES_STORE_SCHEMA_VERSION);
    sqlite3 *db = raw_open(path);
    assert_int_equal(scalar(db, "PRAGMA user_version"), RES_STORE_SCHEMA_VERSION);
    assert_int_equal(scalar(db, "SELECT max(version) FROM schema_migrations"),
                     RES_STORE_SCHEMA_VERSION);
    assert_int_equal(scalar(db, "SELECT count(*) FROM iterations"), 4);
    assert_int_equal(scalar(db, "SELECT count(*) FROM events"), 780);
    assert_int_equal(scalar(db, "SELECT sum(event_count) FROM iterations"), 780);
    expect_text(db, "SELECT group_concat(status) FROM runs", "complete,running");
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE writer_pid IS NULL"), 2);
    /* a new run records its writer: this process, alive */
    res_store_run_info info = {
        .scenario_id = "tiny", .scenario_file = "tiny.json", .policy = "strict", .iterations = 1};
    int64_t run_id = 0;
    assert_int_equal(res_store_begin_run(s, &info, &run_id, NULL), RES_OK);
    assert_int_equal(run_id, 3);
    assert_int_equal(scalar(db, "SELECT writer_pid FROM runs WHERE run_id = 3"), getpid());
    res_store_close(s);
    sqlite3_close(db);
    assert_int_equal(res_store_reader_open(path, &r, &err), RES_OK);
    assert_int_equal(res_store_reader_run(r, 3, &row, &err), RES_OK);
    assert_string_equal(row.state, "running");
    assert_int_equal(row.writer, RES_RUN_WRITER_ALIVE);
    assert_int_equal(res_store_reader_run(r, 1, &row, &err), RES_OK);
    assert_string_equal(row.state, "complete");
    res_store_reader_close(r);
}

/* The rows of every table of a run's data, as one text, to compare a
** database before and after a migration. */
static char *table_counts(sqlite3 *db) {
    return text_of(db, "SELECT (SELECT count(*) FROM runs) || ' ' ||"
                       " (SELECT count(*) FROM iterations) || ' ' ||"
                       " (SELECT count(*) FROM events) || ' ' ||"
                       " (SELECT count(*) FROM metrics) || ' ' ||"
                       " (SELECT count(*) FROM snapshots) || ' ' ||"
                       " (SELECT count(*) FROM task_timelines) || ' ' ||"
                       " (SELECT count(*) FROM capacity_plans) || ' ' ||"
                       " (SELECT sum(event_count) FROM iterations)");
}

/* tests/data/store-v5.db was written by admitsim at schema version 5 (the
** build before version 6) from an 8-record, two-column scenario "tiny": run 1
** (policy bounded, seed 1) complete with 2 iterations, run 2 (seed 2) stored
** as running with 2 of 3 iterations, its writer killed (under gdb, as it
** began writing the third).  Readers read it as it is: no experiments, run 2
** abandoned (its writer is gone); a writer migrates it to the current
** version keeping every row, stores run 2 as abandoned, and then writes
** experiments. */
static void migrates_a_real_v5_database(void **state) {
    fixture *f = *state;
    char path[400];
    snprintf(path, sizeof path, "%s/v5.db", f->dir);
    copy_file(ADMIT_TEST_DATA_DIR "/store-v5.db", path);

    res_error err;
    res_store_reader *r = NULL;
    assert_int_equal(res_store_reader_open(path, &r, &err), RES_OK);
    assert_int_equal(res_store_reader_schema_version(r), 5);
    res_run_row row;
    assert_int_equal(res_store_reader_run(r, 2, &row, &err), RES_OK);
    assert_string_equal(row.status, "running");
    assert_string_equal(row.state, "abandoned");
    assert_int_equal(row.writer, RES_RUN_WRITER_GONE);
    assert_int_equal(row.iterations_stored, 2);
    assert_false(row.experiment_id.set);
    assert_null(row.arm);
    assert_null(row.parameters);
    res_store_cursor *c = NULL;
    res_experiment_row e;
    assert_int_equal(res_store_reader_experiments(r, &c, &err), RES_OK);
    assert_int_equal(res_store_cursor_next_experiment(c, &e, &err), RES_CURSOR_DONE);
    res_store_cursor_close(c);
    assert_int_equal(res_store_reader_experiment(r, 1, &e, &err), RES_ENOTFOUND);
    assert_int_equal(res_store_reader_experiment_runs(r, 1, &c, &err), RES_OK);
    res_experiment_run_row er;
    assert_int_equal(res_store_cursor_next_experiment_run(c, &er, &err), RES_CURSOR_DONE);
    res_store_cursor_close(c);
    res_store_reader_close(r);

    sqlite3 *db = raw_open(path);
    char *before = table_counts(db);
    assert_string_equal(before, "2 4 546 248 8 64 4 546");
    char *writers = text_of(db, "SELECT group_concat(writer_host || writer_pid || writer_instance"
                                " || heartbeat_at, '|') FROM runs");
    assert_non_null(writers);
    res_store *s = open_ok(path, RES_STORE_OPEN_EXISTING);
    assert_int_equal(res_store_found_version(s), 5);
    assert_int_equal(res_store_schema_version(s), RES_STORE_SCHEMA_VERSION);
    assert_int_equal(scalar(db, "PRAGMA user_version"), RES_STORE_SCHEMA_VERSION);
    assert_int_equal(scalar(db, "SELECT max(version) FROM schema_migrations"),
                     RES_STORE_SCHEMA_VERSION);
    char *after = table_counts(db);
    assert_string_equal(after, before);
    free(before);
    free(after);
    expect_text(db, "SELECT group_concat(status) FROM runs", "complete,abandoned");
    /* the writers as recorded (the abandoned run's heartbeat is when it was marked) */
    expect_text(db,
                "SELECT writer_host || writer_pid || writer_instance || heartbeat_at FROM runs"
                " WHERE run_id = 1",
                strtok(writers, "|"));
    free(writers);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE experiment_id IS NULL AND"
                                " arm IS NULL AND parameters IS NULL"),
                     2);
    assert_int_equal(scalar(db, "SELECT count(*) FROM experiments"), 0);
    expect_text(db, "PRAGMA integrity_check", "ok");
    assert_int_equal(scalar(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);

    /* the migrated store takes an experiment and runs of it */
    res_store_experiment_info ei = {.kind = RES_EXPERIMENT_AB,
                                    .scenario_id = "tiny",
                                    .scenario_file = "tiny.json",
                                    .name = "strict vs bounded",
                                    .baseline_arm = "strict",
                                    .candidate_arm = "bounded",
                                    .seeds = 1};
    int64_t experiment_id = 0, run_id = 0;
    assert_int_equal(res_store_begin_experiment(s, &ei, &experiment_id, &err), RES_OK);
    assert_int_equal(experiment_id, 1);
    res_store_run_info info = {.scenario_id = "tiny",
                               .scenario_file = "tiny.json",
                               .policy = "bounded",
                               .seed = 1,
                               .iterations = 1,
                               .experiment_id = experiment_id,
                               .arm = "bounded",
                               .parameters = "{\"policy\": \"bounded\"}"};
    assert_int_equal(res_store_begin_run(s, &info, &run_id, &err), RES_OK);
    assert_int_equal(run_id, 3);
    expect_text(db,
                "SELECT experiment_id || ' ' || arm || ' ' || parameters FROM runs"
                " WHERE run_id = 3",
                "1 bounded {\"policy\": \"bounded\"}");
    res_store_close(s);
    sqlite3_close(db);
}

/* tests/data/store-v6.db was written by admitsim at schema version 6 (the
** build before version 7) from a 6-record scenario "tiny_v6": run 1 alone,
** runs 2-5 an A/B experiment (experiment 1, complete, with its verdict:
** baseline and candidate over seeds 1 and 2; written by `admitsim ab`, the
** experiment row and the runs' experiment, arm and parameters filled in
** with sqlite3, as this build's ab did not store experiments yet).  A
** writer migrates it to version 7 (and on): experiments is rebuilt (its kinds gain
** 'search') with every row and the runs still pointing at it, the store
** gets an identity, no run has a source; a search can then be stored. */
static void migrates_a_real_v6_database(void **state) {
    fixture *f = *state;
    char path[400];
    snprintf(path, sizeof path, "%s/v6.db", f->dir);
    copy_file(ADMIT_TEST_DATA_DIR "/store-v6.db", path);
    sqlite3 *db = raw_open(path);
    assert_int_equal(scalar(db, "PRAGMA user_version"), 6);
    char *before = table_counts(db);
    assert_string_equal(before, "5 5 450 315 10 30 5 450");
    char *experiments = text_of(db, "SELECT json_group_array(json_array(experiment_id, kind,"
                                    " scenario_id, name, baseline_arm, candidate_arm, seeds,"
                                    " created_at, finished_at, status, result_json, writer_pid))"
                                    " FROM experiments");
    res_error err;
    res_store *s = open_ok(path, RES_STORE_OPEN_EXISTING);
    assert_int_equal(res_store_found_version(s), 6);
    assert_int_equal(res_store_schema_version(s), RES_STORE_SCHEMA_VERSION);
    assert_int_equal(scalar(db, "PRAGMA user_version"), RES_STORE_SCHEMA_VERSION);
    char *after = table_counts(db);
    assert_string_equal(after, before);
    expect_text(db,
                "SELECT json_group_array(json_array(experiment_id, kind, scenario_id, name,"
                " baseline_arm, candidate_arm, seeds, created_at, finished_at, status,"
                " result_json, writer_pid)) FROM experiments",
                experiments);
    expect_text(db,
                "SELECT group_concat(r, ' ') FROM (SELECT run_id || ':' || experiment_id ||"
                " ':' || arm AS r FROM runs WHERE experiment_id IS NOT NULL ORDER BY run_id)",
                "2:1:baseline 3:1:candidate 4:1:baseline 5:1:candidate");
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE source IS NULL"), 5);
    assert_int_equal(scalar(db, "SELECT count(*) FROM store_identity"), 1);
    expect_text(db, "PRAGMA integrity_check", "ok");
    assert_int_equal(scalar(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    /* foreign keys are on again: a run of a missing experiment is refused */
    res_store_run_info orphan = {
        .scenario_id = "tiny_v6", .policy = "strict", .iterations = 1, .experiment_id = 9};
    int64_t run_id = 0;
    assert_int_equal(res_store_begin_run(s, &orphan, &run_id, &err), RES_ENOTFOUND);
    /* the rebuilt table takes a search */
    res_store_experiment_info search = {
        .kind = RES_EXPERIMENT_SEARCH, .scenario_id = "tiny_v6", .seeds = 3};
    int64_t experiment_id = 0;
    assert_int_equal(res_store_begin_experiment(s, &search, &experiment_id, &err), RES_OK);
    assert_int_equal(experiment_id, 2);
    expect_text(db, "SELECT kind FROM experiments WHERE experiment_id = 2", "search");
    res_store_close(s);
    sqlite3_close(db);
    free(before);
    free(after);
    free(experiments);
}

static void refuses_a_newer_schema(void **state) {
    fixture *f = *state;
    res_store *s = open_ok(f->path, RES_STORE_OPEN_CREATE);
    res_store_close(s);
    sqlite3 *db = raw_open(f->path);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    res_error err = {0};
    s = NULL;
    assert_int_equal(res_store_open(f->path, RES_STORE_OPEN_CREATE, &s, &err), RES_ETOONEW);
    assert_int_equal(err.code, RES_ETOONEW);
    assert_null(s);
    char want[128];
    snprintf(want, sizeof want, "schema version 99 is newer than this admitsim supports (%d)",
             RES_STORE_SCHEMA_VERSION);
    assert_non_null(strstr(err.message, want));
}

/* Another program's database is refused before anything is written: no
** admitsim tables, no WAL; an empty file becomes a results database. */
static void refuses_another_programs_database(void **state) {
    fixture *f = *state;
    char path[400];
    res_error err = {0};
    snprintf(path, sizeof path, "%s/other.db", f->dir);
    sqlite3 *db = raw_open_create(path);
    assert_int_equal(
        sqlite3_exec(db, "CREATE TABLE notes (x); INSERT INTO notes VALUES (1);", NULL, NULL, NULL),
        SQLITE_OK);
    res_store *s = NULL;
    assert_int_equal(res_store_open(path, RES_STORE_OPEN_CREATE, &s, &err), RES_EFOREIGN);
    assert_null(s);
    assert_non_null(strstr(err.message, "not an admitsim results database"));
    assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_master"), 1);
    expect_text(db, "PRAGMA journal_mode", "delete");
    /* a schema version, but not admitsim's tables */
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 4", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(res_store_open(path, RES_STORE_OPEN_CREATE, &s, &err), RES_EFOREIGN);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_master"), 1);
    sqlite3_close(db);
    /* an empty file is a new database */
    snprintf(path, sizeof path, "%s/empty.db", f->dir);
    fclose(fopen(path, "w"));
    s = open_ok(path, RES_STORE_OPEN_EXISTING);
    assert_int_equal(res_store_found_version(s), 0);
    assert_int_equal(res_store_schema_version(s), RES_STORE_SCHEMA_VERSION);
    res_store_close(s);
}

static void round_trip_one(const char *dir, const char *scenario) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.db", dir, scenario);
    char file[256];
    snprintf(file, sizeof file, "%s.json", scenario);
    sim_scenario *sc = load(file);
    res_run_record *run = run_iteration(sc, sc->config.default_policy, 3, 0);
    res_summary *sum = res_summary_compute(run);
    assert_non_null(sum);
    res_store *s = open_ok(path, RES_STORE_OPEN_CREATE);
    sqlite3 *db = raw_open(path);
    res_store_run_info info = {.scenario_id = sc->config.scenario_id,
                               .scenario_version = sc->config.scenario_version,
                               .scenario_file = sc->config.path,
                               .policy = run_policy_name(run->policy),
                               .seed = 3,
                               .iterations = 1,
                               .command_line = "admitsim test"};
    int64_t run_id = 0;
    assert_int_equal(res_store_begin_run(s, &info, &run_id, NULL), RES_OK);
    assert_int_equal(run_id, 1);
    expect_text(db, "SELECT status FROM runs", "running");
    res_error err;
    if (res_store_write_iteration(s, run_id, run, sum, &err) != RES_OK) fail_msg("%s", err.message);
    size_t total = res_event_log_count(run->events) + res_event_log_count(run->request_events);
    assert_int_equal(scalar(db, "SELECT count(*) FROM events WHERE run_id = 1"), total);
    assert_int_equal(scalar(db, "SELECT event_count FROM iterations"), total);
    assert_int_equal(scalar(db, "SELECT count(*) FROM events WHERE stream = 'request'"),
                     res_event_log_count(run->request_events));
    expect_text(db, "SELECT status FROM runs", "complete");
    assert_int_equal(scalar(db, "SELECT finished_at IS NOT NULL FROM runs"), 1);
    expect_text(db, "SELECT harness_version FROM runs", RES_HARNESS_VERSION);
    expect_text(db, "SELECT scenario_id FROM runs", sc->config.scenario_id);

    /* exact fields of a few events, both streams */
    size_t nsched = res_event_log_count(run->events);
    size_t nreq = res_event_log_count(run->request_events);
    admit_event picks[3] = {res_event_log_at(run->events, 0),
                            res_event_log_at(run->events, nsched / 2),
                            nreq ? res_event_log_at(run->request_events, nreq / 2)
                                 : res_event_log_at(run->events, nsched - 1)};
    for (int i = 0; i < 3; i++) {
        const admit_event *ev = &picks[i];
        char sql[512];
        snprintf(
            sql, sizeof sql,
            "SELECT kind || '|' || captured_at_ns || '|' || ifnull(task_id, 0) || '|' ||"
            " value || '|' || ifnull(reason, '-') || '|' || ifnull(request_attempt_id, 0)"
            " FROM events WHERE run_id = 1 AND iteration = 0 AND stream = '%s' AND sequence = %llu",
            ev->stream == ADMIT_STREAM_REQUEST ? "request" : "scheduler",
            (unsigned long long)ev->sequence);
        const char *reason = res_event_reason_name(ev);
        char want[512];
        snprintf(want, sizeof want, "%s|%lld|%llu|%lld|%s|%llu", admit_event_name(ev),
                 (long long)ev->captured_at_ns, (unsigned long long)ev->task_id,
                 (long long)ev->value, reason ? reason : "-", (unsigned long long)ev->attempt_id);
        expect_text(db, sql, want);
    }
    /* the events of one kind match the capture */
    size_t leases = 0;
    for (size_t i = 0; i < res_event_log_count(run->events); i++)
        leases += res_event_log_at(run->events, i).kind == ADMIT_EV_TASK_LEASE_ACQUIRED;
    assert_int_equal(scalar(db, "SELECT count(*) FROM events WHERE run_id = 1"
                                " AND kind = 'task_lease_acquired' AND task_lease_id IS NOT NULL"
                                " AND column_name IS NOT NULL"),
                     leases);
    /* notable = not lifecycle, in both streams; stored in capture order */
    size_t notable = 0;
    res_event_merge m;
    res_event_merge_begin(&m, run->events, run->request_events);
    for (admit_event ev; res_event_merge_next(&m, &ev);)
        notable += !res_event_is_lifecycle(&ev);
    assert_int_equal(scalar(db, "SELECT count(*) FROM notable_events WHERE run_id = 1"), notable);
    assert_int_equal(scalar(db, "SELECT count(*) FROM events a JOIN events b"
                                " ON b.event_id = a.event_id + 1 WHERE a.run_id = 1"
                                " AND b.run_id = 1 AND b.captured_at_ns < a.captured_at_ns"),
                     0);
    /* metrics and snapshots */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT abs(value - %.17g) < 1e-9 FROM metrics WHERE scope = 'run'"
             " AND name = 'wall_time_seconds'",
             sum->wall_time_seconds);
    assert_int_equal(scalar(db, sql), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM metrics WHERE scope LIKE 'group:%'"
                                " AND name = 'wait_p95_seconds'"),
                     sum->column_count);
    assert_int_equal(scalar(db, "SELECT count(*) FROM metrics WHERE scope LIKE 'request:%'"
                                " AND name = 'request_wait_p95_seconds'"),
                     run->request_resource_count);
    assert_int_equal(scalar(db, "SELECT count(*) FROM metrics WHERE scope LIKE 'resource:%'"
                                " AND name = 'ready_idle_gap_max_seconds'"),
                     run->resource_count);
    assert_int_equal(scalar(db, "SELECT count(*) FROM snapshots"), 2);
    assert_int_equal(scalar(db, "SELECT json_extract(json, '$.task_leases') FROM snapshots"
                                " WHERE kind = 'final_task'"),
                     0);
    assert_int_equal(
        scalar(db, "SELECT json_valid(json) FROM snapshots WHERE kind = 'final_request'"), 1);
    /* task timelines: one row per worker spawned, timestamps in SPEC order */
    size_t spawned = 0;
    for (size_t i = 0; i < res_event_log_count(run->events); i++)
        spawned += res_event_log_at(run->events, i).kind == ADMIT_EV_WORKER_SPAWNED;
    assert_int_equal(scalar(db, "SELECT count(*) FROM task_timelines WHERE run_id = 1"), spawned);
    assert_int_equal(scalar(db,
                            "SELECT count(*) FROM task_timelines WHERE NOT ("
                            "ready_enqueued_at <= selected_at AND selected_at <="
                            " task_lease_acquired_at AND task_lease_acquired_at <="
                            " worker_spawned_at AND worker_spawned_at <= task_lease_released_at)"),
                     0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM task_timelines WHERE end_state ="
                                " 'completed'"),
                     run->stats.tasks_completed);
    assert_int_equal(scalar(db, "SELECT json_extract(json, '$.configured.submission_capacity."
                                "value') FROM capacity_plans WHERE run_id = 1"),
                     run->resource_limits[ADMIT_RESOURCE_SUBMISSION]);

    /* writing the same iteration again fails and leaves nothing behind */
    assert_int_equal(res_store_write_iteration(s, run_id, run, sum, &err), RES_ESTORE);
    assert_int_equal(err.code, RES_ESTORE);
    assert_non_null(strstr(err.message, "inserting the iteration"));
    assert_int_equal(scalar(db, "SELECT count(*) FROM events"), total);
    assert_int_equal(scalar(db, "SELECT count(*) FROM snapshots"), 2);
    assert_int_equal(scalar(db, "SELECT count(*) FROM iterations"), 1);
    /* the connection is usable after the rollback */
    assert_int_equal(res_store_set_run_status(s, run_id, "failed", &err), RES_OK);
    assert_int_equal(res_store_set_run_status(s, 77, "failed", &err), RES_ENOTFOUND);
    assert_non_null(strstr(err.message, "no run 77"));
    res_store_close(s);
    sqlite3_close(db);
    res_summary_free(sum);
    res_run_record_free(run);
    sim_scenario_free(sc);
}

static void round_trip(void **state) {
    fixture *f = *state;
    round_trip_one(f->dir, "neutral_ready_at_start");
    round_trip_one(f->dir, "dynamic_request_count");
}

/* The child writes iterations of one run forever; the parent kills it with
** SIGKILL mid-stream and checks what a crash leaves behind. */
static void killed_writer_leaves_consistent_database(void **state) {
    fixture *f = *state;
    sim_scenario *sc = load("heavy_root_peer_arrival.json");
    res_run_record *run = run_iteration(sc, sc->config.default_policy, 1, 0);
    res_summary *sum = res_summary_compute(run);
    assert_non_null(sum);
    int64_t per_iteration =
        (int64_t)(res_event_log_count(run->events) + res_event_log_count(run->request_events));
    char path[1024];
    snprintf(path, sizeof path, "%s/killed.db", f->dir);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        res_error err;
        res_store *s = NULL;
        int64_t run_id;
        res_store_run_info info = {.scenario_id = sc->config.scenario_id,
                                   .scenario_version = 1,
                                   .scenario_file = sc->config.path,
                                   .policy = "strict",
                                   .seed = 1,
                                   .iterations = 1000000};
        if (res_store_open(path, RES_STORE_OPEN_CREATE, &s, &err) != RES_OK ||
            res_store_begin_run(s, &info, &run_id, &err) != RES_OK)
            _exit(3);
        for (uint32_t i = 0; i < 100000; i++) {
            run->iteration = i;
            if (res_store_write_iteration(s, run_id, run, sum, &err) != RES_OK) _exit(4);
        }
        _exit(0);
    }
    /* wait until at least two iterations are committed */
    int64_t committed = 0;
    struct timespec nap = {0, 2000000};
    for (int tries = 0; tries < 60000 && committed < 2; tries++) {
        sqlite3 *db = NULL;
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
            sqlite3_busy_timeout(db, 1000);
            sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v2(db, "SELECT count(*) FROM iterations", -1, &st, NULL) ==
                    SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW)
                committed = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
        sqlite3_close(db);
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) fail_msg("writer exited early (%d)", status);
        if (committed < 2) nanosleep(&nap, NULL);
    }
    assert_true(committed >= 2);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    int64_t pid_of_writer = pid;
    /* before any writer opens it again: stored as running, read as abandoned */
    res_error err;
    res_store_reader *r = NULL;
    assert_int_equal(res_store_reader_open(path, &r, &err), RES_OK);
    res_run_row row;
    assert_int_equal(res_store_reader_run(r, 1, &row, &err), RES_OK);
    assert_string_equal(row.status, "running");
    assert_string_equal(row.state, "abandoned");
    assert_int_equal(row.writer, RES_RUN_WRITER_GONE);
    assert_int_equal(row.writer_pid.value, pid_of_writer);
    assert_non_null(row.heartbeat_at);
    res_store_reader_close(r);

    res_store *s = open_ok(path, RES_STORE_OPEN_EXISTING);
    sqlite3 *db = raw_open(path);
    expect_text(db, "PRAGMA integrity_check", "ok");
    assert_int_equal(scalar(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    int64_t iterations = scalar(db, "SELECT count(*) FROM iterations");
    assert_true(iterations >= committed);
    /* the iterations are 0..n-1, each complete */
    assert_int_equal(scalar(db, "SELECT max(iteration) + 1 FROM iterations"), iterations);
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM iterations i WHERE event_count != %lld OR"
             " (SELECT count(*) FROM events e WHERE e.run_id = i.run_id"
             "  AND e.iteration = i.iteration) != %lld OR"
             " (SELECT count(*) FROM snapshots n WHERE n.run_id = i.run_id"
             "  AND n.iteration = i.iteration) != 2",
             (long long)per_iteration, (long long)per_iteration);
    assert_int_equal(scalar(db, sql), 0);
    /* nothing of a later, uncommitted iteration is visible */
    assert_int_equal(scalar(db, "SELECT count(*) FROM events WHERE iteration NOT IN"
                                " (SELECT iteration FROM iterations)"),
                     0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM metrics WHERE iteration NOT IN"
                                " (SELECT iteration FROM iterations)"),
                     0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM events"), iterations * per_iteration);
    /* the writer reopening the store marked the run abandoned: its writer,
    ** recorded with the run, is gone */
    expect_text(db, "SELECT status FROM runs WHERE run_id = 1", "abandoned");
    assert_int_equal(scalar(db, "SELECT writer_pid FROM runs WHERE run_id = 1"), pid_of_writer);
    res_store_close(s);
    sqlite3_close(db);
    res_summary_free(sum);
    res_run_record_free(run);
    sim_scenario_free(sc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(schema_created_at_current_version, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_database_is_not_created, setup, teardown),
        cmocka_unit_test_setup_teardown(migrates_v1_to_latest_keeping_data, setup, teardown),
        cmocka_unit_test_setup_teardown(migrates_a_real_v4_database, setup, teardown),
        cmocka_unit_test_setup_teardown(migrates_a_real_v5_database, setup, teardown),
        cmocka_unit_test_setup_teardown(migrates_a_real_v6_database, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_a_newer_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_another_programs_database, setup, teardown),
        cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(killed_writer_leaves_consistent_database, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
