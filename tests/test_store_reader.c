/* The results store's reader: a run of two iterations written by the store
** comes back row for row (runs, iterations, events in capture and in stream
** order with filters, task timelines, metrics and their statistics,
** snapshots), compared with the simulated runs that were written; lookups
** of what is not there and misuse of a cursor fail cleanly.  Reading never
** writes: another program's database, an empty one and an old schema are
** refused unchanged, and a database in a read-only directory is read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "res/event_names.h"
#include "res/store.h"
#include "res/store_reader.h"
#include "sim_test.h"
#include "store_test.h"

enum { ITERATIONS = 2 };

typedef struct fixture {
    char dir[256];
    char path[300];
    sim_scenario *sc;
    res_run_record *runs[ITERATIONS];
    res_summary *sums[ITERATIONS];
    res_store_reader *r;
} fixture;

/* Writes run 1 (two iterations of dynamic_request_count, seed 4) and run 2
** (begun, nothing stored), then opens a reader. */
static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    if (scratch_dir(f->dir, sizeof f->dir, "reader") != 0) return -1;
    snprintf(f->path, sizeof f->path, "%s/results.db", f->dir);
    f->sc = load("dynamic_request_count.json");
    res_error err;
    res_store *s = NULL;
    if (res_store_open(f->path, RES_STORE_OPEN_CREATE, &s, &err) != RES_OK) return -1;
    res_store_run_info info = {.scenario_id = f->sc->config.scenario_id,
                               .scenario_version = f->sc->config.scenario_version,
                               .scenario_file = f->sc->config.path,
                               .policy = "provider_aware",
                               .seed = 4,
                               .iterations = ITERATIONS,
                               .command_line = "admitsim run test"};
    int64_t run_id = 0, second = 0;
    if (res_store_begin_run(s, &info, &run_id, &err) != RES_OK || run_id != 1) return -1;
    for (uint32_t i = 0; i < ITERATIONS; i++) {
        f->runs[i] = run_iteration(f->sc, RUN_POLICY_PROVIDER_AWARE, 4, i);
        f->sums[i] = res_summary_compute(f->runs[i]);
        if (!f->sums[i] ||
            res_store_write_iteration(s, run_id, f->runs[i], f->sums[i], &err) != RES_OK)
            return -1;
    }
    info.command_line = NULL;
    info.iterations = 3;
    if (res_store_begin_run(s, &info, &second, &err) != RES_OK || second != 2) return -1;
    res_store_close(s);
    if (res_store_reader_open(f->path, &f->r, &err) != RES_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    res_store_reader_close(f->r);
    for (int i = 0; i < ITERATIONS; i++) {
        res_summary_free(f->sums[i]);
        res_run_record_free(f->runs[i]);
    }
    sim_scenario_free(f->sc);
    remove_db(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void runs_and_iterations(void **state) {
    fixture *f = *state;
    res_store_cursor *c = NULL;
    assert_int_equal(res_store_reader_runs(f->r, &c, NULL), RES_OK);
    res_run_row run;
    assert_int_equal(res_store_cursor_next_run(c, &run, NULL), RES_CURSOR_ROW);
    assert_int_equal(run.run_id, 1);
    assert_string_equal(run.scenario_id, "dynamic_request_count");
    assert_string_equal(run.policy, "provider_aware");
    assert_int_equal(run.seed, 4);
    assert_int_equal(run.iterations, 2);
    assert_int_equal(run.iterations_stored, 2);
    assert_string_equal(run.status, "complete");
    assert_non_null(run.finished_at);
    assert_string_equal(run.command_line, "admitsim run test");
    assert_string_equal(run.harness_version, RES_HARNESS_VERSION);
    double mean = ((double)f->runs[0]->wall_ns + (double)f->runs[1]->wall_ns) / 2e9;
    assert_true(run.wall_time_mean.set);
    assert_true(fabs(run.wall_time_mean.value - mean) < 1e-9);
    /* its writer: this process, alive */
    assert_true(run.writer_pid.set);
    assert_int_equal(run.writer_pid.value, getpid());
    assert_int_equal(run.writer, RES_RUN_WRITER_ALIVE);
    assert_string_equal(run.state, "complete");
    assert_non_null(run.heartbeat_at);
    assert_int_equal(res_store_cursor_next_run(c, &run, NULL), RES_CURSOR_ROW);
    assert_int_equal(run.run_id, 2);
    assert_string_equal(run.status, "running");
    assert_string_equal(run.state, "running"); /* its writer is alive */
    assert_null(run.finished_at);
    assert_null(run.command_line);
    assert_int_equal(run.iterations_stored, 0);
    assert_false(run.wall_time_mean.set);
    assert_int_equal(res_store_cursor_next_run(c, &run, NULL), RES_CURSOR_DONE);
    res_store_cursor_close(c);

    assert_int_equal(res_store_reader_run(f->r, 2, &run, NULL), RES_OK);
    assert_int_equal(run.iterations, 3);
    res_error err = {0};
    assert_int_equal(res_store_reader_run(f->r, 3, &run, &err), RES_ENOTFOUND);
    assert_int_equal(err.code, RES_ENOTFOUND);
    assert_non_null(strstr(err.message, "results.db: no run 3"));

    assert_int_equal(res_store_reader_iterations(f->r, 1, &c, NULL), RES_OK);
    for (uint32_t i = 0; i < ITERATIONS; i++) {
        const res_run_record *sr = f->runs[i];
        res_iteration_row it;
        assert_int_equal(res_store_cursor_next_iteration(c, &it, NULL), RES_CURSOR_ROW);
        assert_int_equal(it.iteration, i);
        assert_string_equal(it.status, admit_job_status_name(sr->status));
        assert_true(it.wall_time_seconds == (double)sr->wall_ns / 1e9);
        char hash[17];
        snprintf(hash, sizeof hash, "%016llx", (unsigned long long)sr->output_hash_all);
        assert_string_equal(it.output_hash, hash);
        assert_true(it.event_count.set);
        assert_int_equal(it.event_count.value,
                         res_event_log_count(sr->events) + res_event_log_count(sr->request_events));
        assert_int_equal(it.final_task_leases, 0);
    }
    res_iteration_row it;
    assert_int_equal(res_store_cursor_next_iteration(c, &it, NULL), RES_CURSOR_DONE);
    res_store_cursor_close(c);
    assert_int_equal(res_store_reader_iteration(f->r, 1, 1, &it, NULL), RES_OK);
    assert_int_equal(it.iteration, 1);
    assert_int_equal(res_store_reader_iteration(f->r, 1, 2, &it, NULL), RES_ENOTFOUND);
    assert_int_equal(res_store_reader_iteration(f->r, 2, 0, &it, NULL), RES_ENOTFOUND);
}

/* ev as the reader gives it, and the captured event it must be. */
static void expect_event(const res_run_record *sr, const res_event_row *e, const admit_event *ev) {
    bool req = ev->stream == ADMIT_STREAM_REQUEST;
    assert_int_equal(e->iteration, sr->iteration);
    assert_string_equal(e->stream, req ? "request" : "scheduler");
    assert_int_equal(e->sequence, ev->sequence);
    assert_string_equal(e->kind, admit_event_name(ev));
    assert_int_equal(e->captured_at_ns, ev->captured_at_ns);
    assert_int_equal(e->task_id.set, ev->task_id != 0);
    assert_int_equal(e->task_id.value, ev->task_id);
    assert_int_equal(e->request_attempt_id.value, ev->attempt_id);
    assert_true(e->value.set);
    assert_int_equal(e->value.value, ev->value);
    const char *reason = res_event_reason_name(ev);
    if (reason)
        assert_string_equal(e->reason, reason);
    else
        assert_null(e->reason);
}

static void events_in_capture_order(void **state) {
    fixture *f = *state;
    res_event_query q = {.run_id = 1, .iteration = RES_ALL_ITERATIONS};
    res_store_cursor *c = NULL;
    assert_int_equal(res_store_reader_events(f->r, &q, &c, NULL), RES_OK);
    res_event_row e;
    for (int it = 0; it < ITERATIONS; it++) {
        const res_run_record *sr = f->runs[it];
        size_t i = 0, j = 0; /* the two streams merged: scheduler first at one instant */
        size_t ni = res_event_log_count(sr->events), nj = res_event_log_count(sr->request_events);
        while (i < ni || j < nj) {
            bool sched = j == nj || (i < ni && res_event_log_time(sr->events, i) <=
                                                   res_event_log_time(sr->request_events, j));
            admit_event ev = sched ? res_event_log_at(sr->events, i++)
                                   : res_event_log_at(sr->request_events, j++);
            assert_int_equal(res_store_cursor_next_event(c, &e, NULL), RES_CURSOR_ROW);
            expect_event(sr, &e, &ev);
        }
    }
    assert_int_equal(res_store_cursor_next_event(c, &e, NULL), RES_CURSOR_DONE);
    res_store_cursor_close(c);
}

static void events_in_stream_order_filtered(void **state) {
    fixture *f = *state;
    const res_run_record *sr = f->runs[1];
    assert_true(res_event_log_count(sr->request_events) > 0 && sr->request_resource_count > 0);
    /* iteration 1, both streams: the request stream, then the scheduler's */
    res_event_query q = {.run_id = 1, .iteration = 1, .order = RES_EVENTS_STREAM_ORDER};
    res_store_cursor *c = NULL;
    assert_int_equal(res_store_reader_events(f->r, &q, &c, NULL), RES_OK);
    res_event_row e;
    for (size_t j = 0; j < res_event_log_count(sr->request_events); j++) {
        assert_int_equal(res_store_cursor_next_event(c, &e, NULL), RES_CURSOR_ROW);
        admit_event ev = res_event_log_at(sr->request_events, j);
        expect_event(sr, &e, &ev);
    }
    for (size_t i = 0; i < res_event_log_count(sr->events); i++) {
        assert_int_equal(res_store_cursor_next_event(c, &e, NULL), RES_CURSOR_ROW);
        admit_event ev = res_event_log_at(sr->events, i);
        expect_event(sr, &e, &ev);
    }
    assert_int_equal(res_store_cursor_next_event(c, &e, NULL), RES_CURSOR_DONE);
    res_store_cursor_close(c);

    /* one resource's leases and waits, two kinds */
    const char *key = sr->request[0].key;
    static const char *const kinds[] = {"request_lease_acquired", "request_wait_started", NULL};
    q = (res_event_query){.run_id = 1,
                          .iteration = 1,
                          .stream = "request",
                          .kinds = kinds,
                          .resource = key,
                          .order = RES_EVENTS_STREAM_ORDER};
    assert_int_equal(res_store_reader_events(f->r, &q, &c, NULL), RES_OK);
    size_t want = 0;
    for (size_t j = 0; j < res_event_log_count(sr->request_events); j++) {
        admit_event event = res_event_log_at(sr->request_events, j);
        const admit_event *ev = &event;
        if ((ev->kind != ADMIT_REV_REQUEST_LEASE_ACQUIRED &&
             ev->kind != ADMIT_REV_REQUEST_WAIT_STARTED) ||
            ev->resource != 0)
            continue;
        assert_int_equal(res_store_cursor_next_event(c, &e, NULL), RES_CURSOR_ROW);
        expect_event(sr, &e, ev);
        assert_string_equal(e.resource, key);
        want++;
    }
    assert_true(want > 0);
    assert_int_equal(res_store_cursor_next_event(c, &e, NULL), RES_CURSOR_DONE);
    res_store_cursor_close(c);

    /* no such iteration: no rows, no error */
    q = (res_event_query){.run_id = 1, .iteration = 7};
    assert_int_equal(res_store_reader_events(f->r, &q, &c, NULL), RES_OK);
    assert_int_equal(res_store_cursor_next_event(c, &e, NULL), RES_CURSOR_DONE);
    res_store_cursor_close(c);
}

static void timelines_match_the_view(void **state) {
    fixture *f = *state;
    res_store_cursor *c = NULL;
    assert_int_equal(res_store_reader_timelines(f->r, 1, 0, &c, NULL), RES_OK);
    const res_correlated_view *v = f->sums[0]->view;
    assert_true(v->row_count > 0);
    res_timeline_row t;
    for (size_t i = 0; i < v->row_count; i++) {
        const res_view_row *w = &v->rows[i];
        assert_int_equal(res_store_cursor_next_timeline(c, &t, NULL), RES_CURSOR_ROW);
        assert_int_equal(t.iteration, 0);
        assert_int_equal(t.task_execution_id, w->task_execution_id);
        assert_int_equal(t.task_id, w->task_id);
        assert_string_equal(t.column_name, f->sc->config.columns[w->column].name);
        assert_int_equal(t.row_group.value, w->row_group);
        assert_int_equal(t.attempts, w->attempts);
        assert_int_equal(t.rate_limited_attempts, w->rate_limited_attempts);
        for (int s = 0; s < RES_TIMELINE_STAMPS; s++) {
            assert_int_equal(t.at[s].set, w->at[s] >= 0);
            if (t.at[s].set) assert_int_equal(t.at[s].value, w->at[s]);
        }
        assert_int_equal(t.request_wait_ns, w->request_wait_ns);
        assert_int_equal(t.provider_ns, w->provider_ns);
    }
    assert_int_equal(res_store_cursor_next_timeline(c, &t, NULL), RES_CURSOR_DONE);
    res_store_cursor_close(c);
    assert_string_equal(res_timeline_stamp_names[RES_TS_TASK_LEASE_ACQUIRED],
                        "task_lease_acquired_at");
    /* every iteration: both views, iteration 0 first */
    assert_int_equal(res_store_reader_timelines(f->r, 1, RES_ALL_ITERATIONS, &c, NULL), RES_OK);
    size_t rows = 0;
    int64_t last = 0;
    while (res_store_cursor_next_timeline(c, &t, NULL) == RES_CURSOR_ROW) {
        assert_true(t.iteration >= last);
        last = t.iteration;
        rows++;
    }
    res_store_cursor_close(c);
    assert_int_equal(rows, v->row_count + f->sums[1]->view->row_count);
}

static void metrics_and_their_statistics(void **state) {
    fixture *f = *state;
    res_store_cursor *c = NULL;
    /* the request metrics of iteration 1: 18 or 19 per resource, in the
    ** order stored (attempts first) */
    assert_int_equal(res_store_reader_metrics(f->r, 1, 1, "request:", &c, NULL), RES_OK);
    res_metric_row m;
    size_t n = 0, attempts = 0;
    while (res_store_cursor_next_metric(c, &m, NULL) == RES_CURSOR_ROW) {
        assert_int_equal(m.iteration, 1);
        assert_memory_equal(m.scope, "request:", 8);
        if (!strcmp(m.name, "attempts")) {
            uint32_t r = (uint32_t)attempts++;
            assert_string_equal(m.scope + 8, f->runs[1]->request[r].key);
            assert_true(m.value.set &&
                        m.value.value == (double)f->sums[1]->request->resources[r].attempts);
        }
        n++;
    }
    res_store_cursor_close(c);
    assert_int_equal(attempts, f->runs[1]->request_resource_count);
    assert_true(n >= 18 * attempts && n <= 19 * attempts);

    assert_int_equal(res_store_reader_metric_stats(f->r, 1, &c, NULL), RES_OK);
    res_metric_stats_row st;
    assert_int_equal(res_store_cursor_next_metric_stats(c, &st, NULL), RES_CURSOR_ROW);
    assert_string_equal(st.scope, "run");
    assert_string_equal(st.name, "wall_time_seconds"); /* the first stored */
    double w0 = (double)f->runs[0]->wall_ns / 1e9, w1 = (double)f->runs[1]->wall_ns / 1e9;
    assert_int_equal(st.count, 2);
    assert_true(fabs(st.mean - (w0 + w1) / 2) < 1e-9);
    assert_true(st.min == fmin(w0, w1) && st.max == fmax(w0, w1));
    bool left_run = false;
    while (res_store_cursor_next_metric_stats(c, &st, NULL) == RES_CURSOR_ROW) {
        if (strcmp(st.scope, "run")) left_run = true;
        assert_false(left_run && !strcmp(st.scope, "run"));
    }
    res_store_cursor_close(c);
    assert_true(left_run);
}

static void snapshots_by_iteration_and_kind(void **state) {
    fixture *f = *state;
    res_store_cursor *c = NULL;
    assert_int_equal(res_store_reader_snapshots(f->r, 1, &c, NULL), RES_OK);
    res_snapshot_row s;
    for (int it = 0; it < ITERATIONS; it++) {
        assert_int_equal(res_store_cursor_next_snapshot(c, &s, NULL), RES_CURSOR_ROW);
        assert_int_equal(s.iteration, it);
        assert_string_equal(s.kind, "final_request");
        assert_int_equal(res_store_cursor_next_snapshot(c, &s, NULL), RES_CURSOR_ROW);
        assert_string_equal(s.kind, "final_task");
        assert_non_null(strstr(s.json, "\"task_leases\":0"));
    }
    assert_int_equal(res_store_cursor_next_snapshot(c, &s, NULL), RES_CURSOR_DONE);
    res_store_cursor_close(c);
}

/* Cursors of one reader interleave; a cursor stepped as another kind
** fails with a message. */
static void cursors_interleave_and_check_their_kind(void **state) {
    fixture *f = *state;
    res_store_cursor *runs = NULL, *its = NULL;
    assert_int_equal(res_store_reader_runs(f->r, &runs, NULL), RES_OK);
    assert_int_equal(res_store_reader_iterations(f->r, 1, &its, NULL), RES_OK);
    res_run_row run;
    res_iteration_row it;
    assert_int_equal(res_store_cursor_next_run(runs, &run, NULL), RES_CURSOR_ROW);
    assert_int_equal(res_store_cursor_next_iteration(its, &it, NULL), RES_CURSOR_ROW);
    assert_int_equal(res_store_cursor_next_run(runs, &run, NULL), RES_CURSOR_ROW);
    assert_int_equal(run.run_id, 2);
    assert_int_equal(res_store_cursor_next_iteration(its, &it, NULL), RES_CURSOR_ROW);
    assert_int_equal(it.iteration, 1);
    res_event_row e;
    res_error err = {0};
    assert_int_equal(res_store_cursor_next_event(runs, &e, &err), RES_CURSOR_ERROR);
    assert_int_equal(err.code, RES_EINVAL);
    assert_non_null(strstr(err.message, "another kind"));
    res_store_cursor_close(runs);
    res_store_cursor_close(its);
}

static void missing_database(void **state) {
    fixture *f = *state;
    char path[400];
    res_error err = {0};
    snprintf(path, sizeof path, "%s/none.db", f->dir);
    res_store_reader *r = NULL;
    assert_int_equal(res_store_reader_open(path, &r, &err), RES_ENOTFOUND);
    assert_null(r);
    assert_non_null(strstr(err.message, "no such results database"));
    assert_int_not_equal(access(path, F_OK), 0);
}

/* ---- reading never writes ------------------------------------------------ */

typedef struct scratch {
    char dir[256];
    char path[300];
} scratch;

static int scratch_setup(void **state) {
    scratch *f = calloc(1, sizeof *f);
    if (scratch_dir(f->dir, sizeof f->dir, "reader") != 0) return -1;
    snprintf(f->path, sizeof f->path, "%s/other.db", f->dir);
    *state = f;
    return 0;
}

static int scratch_teardown(void **state) {
    scratch *f = *state;
    chmod(f->dir, 0700);
    remove_db(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Runs sql on a connection of its own (rollback journal, as another
** program would). */
static void sql_on(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) fail_msg("%s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* Opening path for reading fails with code and a message holding want,
** and leaves the file as it was. */
static void expect_refused(const char *path, res_status code, const char *want) {
    long before_len, after_len;
    char *before = contents(path, &before_len);
    res_error err = {0};
    res_store_reader *r = NULL;
    assert_int_equal(res_store_reader_open(path, &r, &err), code);
    assert_null(r);
    if (!strstr(err.message, want)) fail_msg("'%s' does not say '%s'", err.message, want);
    char *after = contents(path, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, (size_t)before_len);
    free(before);
    free(after);
    /* a WAL database gets SQLite's (empty) -wal beside it, as with any reader */
    char wal[400];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat sb;
    assert_true(stat(wal, &sb) != 0 || sb.st_size == 0);
}

static void refuses_another_programs_database_unchanged(void **state) {
    scratch *f = *state;
    sql_on(f->path, "CREATE TABLE notes (x); INSERT INTO notes VALUES ('mine');");
    expect_refused(f->path, RES_EFOREIGN, "not an admitsim results database");
    char wal[400]; /* still in rollback-journal mode */
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_int_not_equal(access(wal, F_OK), 0);
    /* a schema version but none of admitsim's tables */
    sql_on(f->path, "PRAGMA user_version = 2; CREATE TABLE runs (x);");
    expect_refused(f->path, RES_EFOREIGN, "no admitsim runs and schema_migrations");
}

static void refuses_an_empty_database_unchanged(void **state) {
    scratch *f = *state;
    FILE *fp = fopen(f->path, "w");
    fclose(fp);
    expect_refused(f->path, RES_EFOREIGN, "an empty database");
}

static void refuses_an_old_schema_with_advice(void **state) {
    scratch *f = *state;
    res_error err;
    res_store *s = NULL;
    assert_int_equal(res_store_open_version(f->path, RES_STORE_OPEN_CREATE, 3, &s, &err), RES_OK);
    res_store_close(s);
    expect_refused(f->path, RES_ETOOOLD, "admitsim migrate --db");
    /* migrated, it reads */
    assert_int_equal(res_store_open(f->path, RES_STORE_OPEN_EXISTING, &s, &err), RES_OK);
    assert_int_equal(res_store_found_version(s), 3);
    res_store_close(s);
    res_store_reader *r = NULL;
    assert_int_equal(res_store_reader_open(f->path, &r, &err), RES_OK);
    assert_int_equal(res_store_reader_schema_version(r), RES_STORE_SCHEMA_VERSION);
    res_store_reader_close(r);
}

/* A WAL database (no writer, so no -wal and no -shm) in a directory the
** reader cannot write: read as root through an unprivileged child, else
** with the directory made read-only. */
static void reads_a_database_in_a_read_only_directory(void **state) {
    scratch *f = *state;
    res_error err;
    res_store *s = NULL;
    assert_int_equal(res_store_open(f->path, RES_STORE_OPEN_CREATE, &s, &err), RES_OK);
    res_store_run_info info = {
        .scenario_id = "ro", .scenario_file = "ro.json", .policy = "strict", .iterations = 1};
    int64_t run_id;
    assert_int_equal(res_store_begin_run(s, &info, &run_id, &err), RES_OK);
    res_store_close(s);
    assert_int_equal(chmod(f->path, 0644), 0);
    assert_int_equal(chmod(f->dir, geteuid() == 0 ? 0755 : 0555), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(10);
        if (access(f->dir, W_OK) == 0) _exit(11); /* the directory must be read-only */
        res_store_reader *r = NULL;
        if (res_store_reader_open(f->path, &r, &err) != RES_OK) {
            fprintf(stderr, "%s\n", err.message);
            _exit(12);
        }
        res_run_row run;
        bool ok =
            res_store_reader_run(r, run_id, &run, NULL) == RES_OK && !strcmp(run.status, "running");
        res_store_reader_close(r);
        _exit(ok ? 0 : 13);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* A run stored as running reads abandoned once its writer is gone: this
** process's own pid with its true instance is alive, with another start
** time (the pid reused) or another boot it is gone, in another pid
** namespace or on another host it cannot be checked (running). */
static void run_state_from_its_writer(void **state) {
    scratch *f = *state;
    res_error err;
    res_store *s = NULL;
    assert_int_equal(res_store_open(f->path, RES_STORE_OPEN_CREATE, &s, &err), RES_OK);
    res_store_close(s);
    char host[256] = "", boot[64] = "", ns[64] = "", stat_line[1024] = "";
    assert_int_equal(gethostname(host, sizeof host - 1), 0);
    FILE *fp = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (!fp) skip(); /* not Linux: instances are not recorded */
    assert_non_null(fgets(boot, sizeof boot, fp));
    fclose(fp);
    boot[strcspn(boot, "\n")] = '\0';
    ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    assert_true(n > 0);
    ns[n] = '\0';
    fp = fopen("/proc/self/stat", "r");
    assert_non_null(fgets(stat_line, sizeof stat_line, fp));
    fclose(fp);
    const char *field = strrchr(stat_line, ')') + 2; /* field 3 */
    for (int i = 3; i < 22; i++)
        field = strchr(field, ' ') + 1;
    unsigned long long start = strtoull(field, NULL, 10);
    struct {
        const char *host, *instance_fmt;
        const char *state;
        res_run_writer writer;
    } cases[] = {
        {host, "%s %s %llu", "running", RES_RUN_WRITER_ALIVE},
        {host, "%s %s 1%llu", "abandoned", RES_RUN_WRITER_GONE},  /* pid reused */
        {host, "x%s %s %llu", "abandoned", RES_RUN_WRITER_GONE},  /* another boot */
        {host, "%s x%s %llu", "running", RES_RUN_WRITER_UNKNOWN}, /* a container */
        {"elsewhere.example", "%s %s %llu", "running", RES_RUN_WRITER_UNKNOWN},
    };
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char instance[200], sql[800];
        snprintf(instance, sizeof instance, cases[i].instance_fmt, boot, ns, start);
        snprintf(sql, sizeof sql,
                 "INSERT INTO runs (scenario_id, scenario_version, policy, seed, iterations,"
                 " harness_version, created_at, status, writer_host, writer_pid, writer_instance)"
                 " VALUES ('s', 1, 'strict', 1, 1, 'h', 'now', 'running', '%s', %lld, '%s')",
                 cases[i].host, (long long)getpid(), instance);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    sqlite3_close(db);
    res_store_reader *r = NULL;
    assert_int_equal(res_store_reader_open(f->path, &r, &err), RES_OK);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        res_run_row row;
        assert_int_equal(res_store_reader_run(r, (int64_t)i + 1, &row, NULL), RES_OK);
        if (row.writer != cases[i].writer || strcmp(row.state, cases[i].state))
            fail_msg("case %zu: %s, writer %d", i, row.state, row.writer);
        assert_string_equal(row.status, "running");
    }
    res_store_reader_close(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_and_iterations),
        cmocka_unit_test(events_in_capture_order),
        cmocka_unit_test(events_in_stream_order_filtered),
        cmocka_unit_test(timelines_match_the_view),
        cmocka_unit_test(metrics_and_their_statistics),
        cmocka_unit_test(snapshots_by_iteration_and_kind),
        cmocka_unit_test(cursors_interleave_and_check_their_kind),
        cmocka_unit_test(missing_database),
    };
    const struct CMUnitTest never_writes[] = {
        cmocka_unit_test_setup_teardown(refuses_another_programs_database_unchanged, scratch_setup,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(refuses_an_empty_database_unchanged, scratch_setup,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(refuses_an_old_schema_with_advice, scratch_setup,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(reads_a_database_in_a_read_only_directory, scratch_setup,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(run_state_from_its_writer, scratch_setup, scratch_teardown),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    return failed + cmocka_run_group_tests(never_writes, NULL, NULL);
}
