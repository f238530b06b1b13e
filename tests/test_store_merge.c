/* Merging results databases (res_store_merge): two shards' runs, real
** simulated iterations with both event streams, move into a store that
** already holds a run, under new run ids and the store's experiment; every
** table's rows come across equal and in their order, the row counts add up,
** an abandoned run stays abandoned.  Each run is one transaction: a run
** that fails to copy leaves nothing, the runs before it stay.  A source
** still being written, of another schema, missing, or the store itself,
** and an experiment that is not stored, are refused with nothing copied;
** the source is never written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "res/store.h"
#include "res/store_reader.h"
#include "sim_test.h"
#include "store_test.h"

typedef struct fixture {
    char dir[256];
    char a[300], b[300], dst[300]; /* two shards and the store they merge into */
    res_store *s;                  /* dst, with one run (1) and an experiment (1) */
} fixture;

/* The tables of a run and their columns but run_id (and event_id,
** pack_id), in the order each table's rows were stored. */
#define EVENT_COLUMNS                                                                              \
    "iteration, stream, sequence, kind, captured_at_ns, task_id, execution_id, task_lease_id,"     \
    " request_attempt_id, request_lease_id, resource, reason, value, row_group, column_name,"      \
    " lifecycle"

static const struct {
    const char *table, *columns, *order;
} tables[] = {
    {"iterations",
     "iteration, status, wall_time_seconds, final_task_leases, final_request_leases,"
     " final_request_waiters, output_hash, event_count",
     "rowid"},
    {"event_rows", EVENT_COLUMNS, "event_id"},
    {"event_packs", "iteration, stream, first_sequence, first_ns, events, strings, body",
     "pack_id"},
    {"metrics", "iteration, scope, name, value", "rowid"},
    {"snapshots", "iteration, kind, json", "rowid"},
    {"task_timelines",
     "iteration, task_execution_id, task_id, column_name, row_group, worker_attempt, end_state,"
     " attempts, rate_limited_attempts, dependency_ready_at, ready_enqueued_at, selected_at,"
     " task_lease_acquired_at, worker_spawned_at, request_wait_started_at,"
     " request_wait_completed_at, request_lease_acquired_at, model_request_started_at,"
     " model_request_completed_at, request_lease_released_at, task_completed_at,"
     " task_lease_released_at, request_wait_ns, cooldown_wait_ns, provider_ns",
     "iteration, task_execution_id"},
    {"capacity_plans", "iteration, json", "rowid"},
};
enum { TABLES = sizeof tables / sizeof *tables };

#define RUN_COLUMNS                                                                                \
    "scenario_id, scenario_version, scenario_file, policy, seed, iterations, harness_version,"     \
    " command_line, created_at, finished_at, writer_host, writer_pid, writer_instance,"            \
    " heartbeat_at, arm, parameters"

static res_store *open_store(const char *path) {
    res_error err;
    res_store *s = NULL;
    if (res_store_open(path, RES_STORE_OPEN_CREATE, &s, &err) != RES_OK)
        fail_msg("%s", err.message);
    return s;
}

/* A run of sc under policy and seed with iterations simulated and stored,
** on arm with parameters. */
static int64_t store_run(res_store *s, const sim_scenario *sc, run_policy_kind policy,
                         uint64_t seed, uint32_t iterations, const char *arm,
                         const char *parameters) {
    res_store_run_info info = {.scenario_id = sc->config.scenario_id,
                               .scenario_version = sc->config.scenario_version,
                               .scenario_file = sc->config.path,
                               .policy = run_policy_name(policy),
                               .seed = seed,
                               .iterations = iterations,
                               .command_line = "admitsim sweep shard",
                               .arm = arm,
                               .parameters = parameters};
    res_error err;
    int64_t run_id = 0;
    if (res_store_begin_run(s, &info, &run_id, &err) != RES_OK) fail_msg("%s", err.message);
    for (uint32_t i = 0; i < iterations; i++) {
        res_run_record *run = run_iteration(sc, policy, seed, i);
        res_summary *sum = res_summary_compute(run);
        assert_non_null(sum);
        if (res_store_write_iteration(s, run_id, run, sum, &err) != RES_OK)
            fail_msg("%s", err.message);
        res_summary_free(sum);
        res_run_record_free(run);
    }
    return run_id;
}

/* Shard a: two complete runs of dynamic_request_count (2 iterations each,
** both streams) on two points.  Shard b: one complete run of
** neutral_ready_at_start, one failed with nothing stored and one whose
** writer (a child process) died while it ran. */
static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    if (scratch_dir(f->dir, sizeof f->dir, "merge") != 0) return -1;
    snprintf(f->a, sizeof f->a, "%s/shard-a.db", f->dir);
    snprintf(f->b, sizeof f->b, "%s/shard-b.db", f->dir);
    snprintf(f->dst, sizeof f->dst, "%s/merged.db", f->dir);
    sim_scenario *dyn = load("dynamic_request_count.json");
    sim_scenario *neutral = load("neutral_ready_at_start.json");
    res_store *s = open_store(f->a);
    store_run(s, dyn, RUN_POLICY_PROVIDER_AWARE, 5, 2, "fast", "{\"cooldown\": 1}");
    store_run(s, dyn, RUN_POLICY_STRICT, 6, 2, "slow", "{\"cooldown\": 4}");
    res_store_close(s);
    s = open_store(f->b);
    store_run(s, neutral, RUN_POLICY_BOUNDED, 7, 1, "fast", "{\"cooldown\": 1}");
    res_error err;
    res_store_run_info info = {.scenario_id = "neutral_ready_at_start",
                               .policy = "bounded",
                               .seed = 8,
                               .iterations = 1,
                               .arm = "slow"};
    int64_t failed = 0;
    if (res_store_begin_run(s, &info, &failed, &err) != RES_OK ||
        res_store_set_run_status(s, failed, "failed", &err) != RES_OK)
        return -1;
    res_store_close(s);
    sim_scenario_free(dyn);
    sim_scenario_free(neutral);
    /* a child begins a run and is killed: says 'R' once the run is in */
    int ready[2];
    if (pipe(ready) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        res_store *child = NULL;
        int64_t id;
        info = (res_store_run_info){.scenario_id = "neutral_ready_at_start",
                                    .policy = "strict",
                                    .seed = 9,
                                    .iterations = 1};
        if (res_store_open(f->b, RES_STORE_OPEN_EXISTING, &child, &err) == RES_OK &&
            res_store_begin_run(child, &info, &id, &err) == RES_OK && write(ready[1], "R", 1) == 1)
            raise(SIGKILL);
        _exit(1);
    }
    close(ready[1]);
    char c = 0;
    bool began = pid > 0 && read(ready[0], &c, 1) == 1 && c == 'R';
    close(ready[0]);
    int status = 0;
    if (!began || waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status)) return -1;

    f->s = open_store(f->dst);
    res_store_run_info plain = {.scenario_id = "earlier", .policy = "strict", .iterations = 1};
    int64_t run_id = 0, experiment_id = 0;
    res_store_experiment_info sweep = {
        .kind = RES_EXPERIMENT_SWEEP, .scenario_id = "dynamic_request_count", .seeds = 2};
    if (res_store_begin_run(f->s, &plain, &run_id, &err) != RES_OK || run_id != 1 ||
        res_store_begin_experiment(f->s, &sweep, &experiment_id, &err) != RES_OK ||
        experiment_id != 1)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    res_store_close(f->s);
    DIR *d = opendir(f->dir);
    struct dirent *e;
    char p[600];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
    if (d) closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* "runs iterations events ..." of the database db's schema name. */
static char *counts(sqlite3 *db, const char *schema) {
    char sql[1024];
    size_t n = (size_t)snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM %s.runs)", schema);
    for (int t = 0; t < TABLES; t++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, " || ' ' || (SELECT count(*) FROM %s.%s)",
                              schema, tables[t].table);
    return text_of(db, sql);
}

/* Adds the numbers of two counts() texts. */
static void add_counts(const char *a, const char *b, char *out, size_t len) {
    long x[TABLES + 1], y[TABLES + 1];
    char *end;
    size_t n = 0;
    for (int i = 0; i <= TABLES; i++) {
        x[i] = strtol(a, &end, 10), a = end;
        y[i] = strtol(b, &end, 10), b = end;
        n += (size_t)snprintf(out + n, len - n, "%s%ld", i ? " " : "", x[i] + y[i]);
    }
}

/* Run src_run of src is run dst_run of main, row for row in every table,
** in the same order; its runs row equal but for the experiment and the
** status (want_status). */
static void expect_same_run(sqlite3 *db, int64_t src_run, int64_t dst_run,
                            const char *want_status) {
    char sql[4096];
    for (int t = 0; t < TABLES; t++) {
        /* column by column, every row in order, values quoted (types kept) */
        char cols[1024];
        snprintf(cols, sizeof cols, "%s", tables[t].columns);
        for (char *col = strtok(cols, ", "); col; col = strtok(NULL, ", ")) {
            snprintf(sql, sizeof sql,
                     "SELECT (SELECT group_concat(r, char(10)) FROM (SELECT quote(%s) AS r"
                     " FROM src.%s WHERE run_id = %lld ORDER BY %s)) IS"
                     " (SELECT group_concat(r, char(10)) FROM (SELECT quote(%s) AS r"
                     " FROM main.%s WHERE run_id = %lld ORDER BY %s))",
                     col, tables[t].table, (long long)src_run, tables[t].order, col,
                     tables[t].table, (long long)dst_run, tables[t].order);
            if (scalar(db, sql) != 1)
                fail_msg("%s.%s of run %lld differs from run %lld", tables[t].table, col,
                         (long long)src_run, (long long)dst_run);
        }
    }
    /* every event as SQL sees it (the view over both), in one pass a side:
    ** the view parses every column of a packed event each time */
    snprintf(sql, sizeof sql,
             "SELECT (SELECT group_concat(r, char(10)) FROM (SELECT json_array(" EVENT_COLUMNS
             ") AS r FROM src.events WHERE run_id = %lld ORDER BY iteration, stream, sequence)) IS"
             " (SELECT group_concat(r, char(10)) FROM (SELECT json_array(" EVENT_COLUMNS
             ") AS r FROM main.events WHERE run_id = %lld ORDER BY iteration, stream, sequence))",
             (long long)src_run, (long long)dst_run);
    if (scalar(db, sql) != 1)
        fail_msg("the events of run %lld differ from run %lld's", (long long)src_run,
                 (long long)dst_run);
    snprintf(sql, sizeof sql,
             "SELECT (SELECT json_array(" RUN_COLUMNS ") FROM src.runs WHERE run_id = %lld) IS"
             " (SELECT json_array(" RUN_COLUMNS ") FROM main.runs WHERE run_id = %lld)",
             (long long)src_run, (long long)dst_run);
    assert_int_equal(scalar(db, sql), 1);
    snprintf(sql, sizeof sql, "SELECT experiment_id || ' ' || status FROM runs WHERE run_id = %lld",
             (long long)dst_run);
    char want[64];
    snprintf(want, sizeof want, "1 %s", want_status);
    expect_text(db, sql, want);
}

static void attach(sqlite3 *db, const char *path) {
    char sql[512];
    snprintf(sql, sizeof sql, "ATTACH '%s' AS src", path);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void detach(sqlite3 *db) {
    assert_int_equal(sqlite3_exec(db, "DETACH src", NULL, NULL, NULL), SQLITE_OK);
}

static void merges_two_shards(void **state) {
    fixture *f = *state;
    sqlite3 *db = raw_open(f->dst);
    char *before = counts(db, "main"), *in_a, *in_b;
    attach(db, f->a);
    in_a = counts(db, "src");
    assert_int_equal(scalar(db, "SELECT sum(event_count) FROM src.iterations"),
                     scalar(db, "SELECT count(*) FROM src.events"));
    assert_true(scalar(db, "SELECT count(*) FROM src.events WHERE stream = 'request'") > 0);
    /* the lifecycle events of both streams are packed */
    assert_int_equal(scalar(db, "SELECT count(DISTINCT stream) FROM src.event_packs"), 2);
    assert_int_equal(scalar(db, "SELECT count(*) FROM src.event_rows WHERE lifecycle = 1"), 0);
    detach(db);
    attach(db, f->b);
    in_b = counts(db, "src");
    detach(db);

    res_error err;
    res_store_merge_result out;
    long len_before, len_after;
    char *bytes_before = contents(f->a, &len_before);
    assert_int_equal(res_store_merge(f->s, f->a, 1, &out, &err), RES_OK);
    assert_int_equal(out.runs, 2);
    assert_int_equal(out.first_run_id, 2);
    assert_int_equal(out.last_run_id, 3);
    /* the source is only read */
    char *bytes_after = contents(f->a, &len_after);
    assert_int_equal(len_before, len_after);
    assert_memory_equal(bytes_before, bytes_after, (size_t)len_before);
    free(bytes_before);
    free(bytes_after);
    assert_int_equal(res_store_merge(f->s, f->b, 1, &out, &err), RES_OK);
    assert_int_equal(out.runs, 3);
    assert_int_equal(out.first_run_id, 4);
    assert_int_equal(out.last_run_id, 6);

    /* the row counts add up */
    char sum[256], want[256];
    add_counts(before, in_a, sum, sizeof sum);
    add_counts(sum, in_b, want, sizeof want);
    char *after = counts(db, "main");
    assert_string_equal(after, want);
    free(before);
    free(in_a);
    free(in_b);
    free(after);
    expect_text(db, "PRAGMA integrity_check", "ok");
    assert_int_equal(scalar(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    /* events stay in capture order: ids ascend with each run's time */
    assert_int_equal(scalar(db, "SELECT count(*) FROM event_rows a JOIN event_rows b"
                                " ON b.event_id = a.event_id + 1 AND b.run_id = a.run_id"
                                " AND b.iteration = a.iteration"
                                " WHERE b.captured_at_ns < a.captured_at_ns"),
                     0);

    /* row for row */
    attach(db, f->a);
    expect_same_run(db, 1, 2, "complete");
    expect_same_run(db, 2, 3, "complete");
    detach(db);
    attach(db, f->b);
    expect_same_run(db, 1, 4, "complete");
    expect_same_run(db, 2, 5, "failed");
    expect_same_run(db, 3, 6, "abandoned");
    detach(db);
    sqlite3_close(db);

    /* the experiment's runs, by arm and seed */
    res_store_reader *r = NULL;
    assert_int_equal(res_store_reader_open(f->dst, &r, &err), RES_OK);
    res_experiment_row e;
    assert_int_equal(res_store_reader_experiment(r, 1, &e, &err), RES_OK);
    assert_int_equal(e.runs, 5);
    assert_int_equal(e.runs_complete, 3);
    res_store_cursor *c = NULL;
    assert_int_equal(res_store_reader_experiment_runs(r, 1, &c, &err), RES_OK);
    static const int64_t order[] = {6, 2, 4, 3, 5}; /* (NULL), fast 5, fast 7, slow 6, slow 8 */
    res_experiment_run_row run;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        assert_int_equal(res_store_cursor_next_experiment_run(c, &run, &err), RES_CURSOR_ROW);
        assert_int_equal(run.run_id, order[i]);
    }
    assert_int_equal(res_store_cursor_next_experiment_run(c, &run, &err), RES_CURSOR_DONE);
    res_store_cursor_close(c);
    /* the reader reads a merged run like its source */
    res_run_row row;
    assert_int_equal(res_store_reader_run(r, 3, &row, &err), RES_OK);
    assert_string_equal(row.arm, "slow");
    assert_string_equal(row.parameters, "{\"cooldown\": 4}");
    assert_int_equal(row.iterations_stored, 2);
    assert_string_equal(row.command_line, "admitsim sweep shard");
    res_store_reader_close(r);
}

/* The second run's capacity plan cannot be inserted: that run leaves
** nothing, the first stays. */
static void a_run_is_one_transaction(void **state) {
    fixture *f = *state;
    sqlite3 *db = raw_open(f->dst);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER no_second BEFORE INSERT ON capacity_plans"
                                  " WHEN new.run_id = 3 BEGIN SELECT RAISE(ABORT, 'refused'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    res_error err;
    res_store_merge_result out;
    assert_int_equal(res_store_merge(f->s, f->a, 1, &out, &err), RES_ESTORE);
    assert_non_null(strstr(err.message, "merging capacity_plans: refused"));
    assert_int_equal(out.runs, 1);
    expect_text(db, "SELECT group_concat(run_id) FROM runs", "1,2");
    assert_int_equal(scalar(db, "SELECT count(DISTINCT run_id) FROM events"), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM iterations WHERE run_id = 3"), 0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM metrics WHERE run_id = 3"), 0);
    sqlite3_close(db);
}

static void refuses_what_cannot_merge(void **state) {
    fixture *f = *state;
    sqlite3 *db = raw_open(f->dst);
    char *before = counts(db, "main");
    res_error err;
    res_store_merge_result out;
    char path[400];
    snprintf(path, sizeof path, "%s/none.db", f->dir);
    assert_int_equal(res_store_merge(f->s, path, 1, &out, &err), RES_ENOTFOUND);
    assert_non_null(strstr(err.message, "no such results database"));
    assert_int_equal(res_store_merge(f->s, f->dst, 1, &out, &err), RES_EINVAL);
    assert_non_null(strstr(err.message, "cannot merge a database into itself"));
    assert_int_equal(res_store_merge(f->s, f->a, 7, &out, &err), RES_ENOTFOUND);
    assert_non_null(strstr(err.message, "merged.db: no experiment 7"));
    /* a shard still being written: its run is running, its writer alive */
    res_store *a = open_store(f->a);
    res_store_run_info info = {.scenario_id = "s", .policy = "strict", .iterations = 1};
    int64_t live;
    assert_int_equal(res_store_begin_run(a, &info, &live, &err), RES_OK);
    assert_int_equal(res_store_merge(f->s, f->a, 1, &out, &err), RES_EINVAL);
    assert_non_null(strstr(err.message, "run 3 is still running (its writer is alive)"));
    res_store_close(a);
    /* another schema */
    snprintf(path, sizeof path, "%s/v5.db", f->dir);
    res_store *old = NULL;
    assert_int_equal(res_store_open_version(path, RES_STORE_OPEN_CREATE, 5, &old, &err), RES_OK);
    res_store_close(old);
    assert_int_equal(res_store_merge(f->s, path, 1, &out, &err), RES_ETOOOLD);
    assert_non_null(strstr(err.message, "merging needs version 9 ('admitsim migrate --db"));
    assert_int_equal(out.runs, 0);
    char *after = counts(db, "main");
    assert_string_equal(after, before);
    free(before);
    free(after);
    /* into no experiment */
    assert_int_equal(res_store_merge(f->s, f->b, 0, &out, &err), RES_OK);
    assert_int_equal(out.runs, 3);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE experiment_id IS NULL"), 4);
    sqlite3_close(db);
}

/* Merging is idempotent: the same shard again, the same runs through
** another store, and a copy of the store itself add nothing; each merged
** run remembers where it was first written. */
static void merging_again_adds_nothing(void **state) {
    fixture *f = *state;
    res_error err;
    res_store_merge_result out;
    assert_int_equal(res_store_merge(f->s, f->a, 1, &out, &err), RES_OK);
    assert_int_equal(out.runs, 2);
    assert_int_equal(out.skipped, 0);
    sqlite3 *db = raw_open(f->dst);
    char *before = counts(db, "main");
    assert_int_equal(res_store_merge(f->s, f->a, 1, &out, &err), RES_OK);
    assert_int_equal(out.runs, 0);
    assert_int_equal(out.skipped, 2);
    assert_int_equal(out.first_run_id, 0);
    char *after = counts(db, "main");
    assert_string_equal(after, before);
    free(after);
    /* each merged run's source: shard a's identity and its run id there */
    attach(db, f->a);
    expect_text(db,
                "SELECT group_concat(source = (SELECT uuid FROM src.store_identity) || '/' ||"
                " (run_id - 1)) FROM runs WHERE run_id > 1",
                "1,1");
    detach(db);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE run_id = 1 AND source IS NULL"),
                     1);

    /* b through another store: b's runs arrive there keyed by b, and keep
    ** that key when they come on here */
    char via[300], copy[300];
    snprintf(via, sizeof via, "%s/via.db", f->dir);
    res_store *v = open_store(via);
    assert_int_equal(res_store_merge(v, f->b, 0, &out, &err), RES_OK);
    assert_int_equal(out.runs, 3);
    res_store_close(v);
    assert_int_equal(res_store_merge(f->s, via, 1, &out, &err), RES_OK);
    assert_int_equal(out.runs, 3);
    assert_int_equal(res_store_merge(f->s, f->b, 1, &out, &err), RES_OK);
    assert_int_equal(out.runs, 0);
    assert_int_equal(out.skipped, 3);
    /* a copy of the store: every run is already here (first written here,
    ** or merged) */
    assert_int_equal(res_store_set_run_status(f->s, 1, "complete", &err), RES_OK);
    snprintf(copy, sizeof copy, "%s/copy.db", f->dir);
    char sql[400];
    snprintf(sql, sizeof sql, "VACUUM INTO '%s'", copy);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    free(before);
    before = counts(db, "main");
    assert_int_equal(res_store_merge(f->s, copy, 0, &out, &err), RES_OK);
    assert_int_equal(out.runs, 0);
    assert_int_equal(out.skipped, 6);
    after = counts(db, "main");
    assert_string_equal(after, before);
    assert_int_equal(scalar(db, "SELECT count(DISTINCT source) FROM runs"), 5);
    expect_text(db, "PRAGMA integrity_check", "ok");
    free(before);
    free(after);
    sqlite3_close(db);
}

/* Two copies of one store (cp), each then given a run of its own: the two
** new runs have one key (the store's identity and the next run id) but are
** different runs.  Merging the second copy must not take its run for the
** first's and skip it (a run lost, exit 0): it is refused, saying why,
** with nothing of that run copied; the runs both copies share are still
** skipped, and the first copy's again adds nothing. */
static void copies_written_apart_are_refused(void **state) {
    fixture *f = *state;
    res_error err;
    res_store_merge_result out;
    char copy[300], sql[400];
    snprintf(copy, sizeof copy, "%s/shard-a-copy.db", f->dir);
    sqlite3 *a = raw_open(f->a);
    snprintf(sql, sizeof sql, "VACUUM INTO '%s'", copy);
    assert_int_equal(sqlite3_exec(a, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(a);
    sim_scenario *dyn = load("dynamic_request_count.json");
    res_store *s = open_store(f->a);
    assert_int_equal(store_run(s, dyn, RUN_POLICY_STRICT, 11, 1, "fast", NULL), 3);
    res_store_close(s);
    s = open_store(copy);
    assert_int_equal(store_run(s, dyn, RUN_POLICY_STRICT, 12, 1, "fast", NULL), 3);
    res_store_close(s);
    sim_scenario_free(dyn);

    assert_int_equal(res_store_merge(f->s, f->a, 0, &out, &err), RES_OK);
    assert_int_equal(out.runs, 3);
    sqlite3 *db = raw_open(f->dst);
    char *before = counts(db, "main");
    assert_int_equal(res_store_merge(f->s, copy, 0, &out, &err), RES_EINVAL);
    assert_non_null(strstr(err.message, "copied from one another"));
    assert_non_null(strstr(err.message, "shard-a-copy.db: run 3"));
    assert_int_equal(out.runs, 0);
    assert_int_equal(out.skipped, 2);
    char *after = counts(db, "main");
    assert_string_equal(after, before);
    free(after);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE seed = 12"), 0);
    assert_int_equal(res_store_merge(f->s, f->a, 0, &out, &err), RES_OK);
    assert_int_equal(out.skipped, 3);
    after = counts(db, "main");
    assert_string_equal(after, before);
    free(after);
    free(before);
    sqlite3_close(db);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(merges_two_shards, setup, teardown),
        cmocka_unit_test_setup_teardown(a_run_is_one_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_what_cannot_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(merging_again_adds_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(copies_written_apart_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
