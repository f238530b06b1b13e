/* The run pipeline (res/pipeline.h) over the simulator: iterations streamed
** to the artifact, reports and store match what the in-memory builders
** make; every iteration's end is checked for leaks; a failing iteration
** leaves no output file behind. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "res/atomic_file.h"
#include "res/event_names.h"
#include "res/report_files.h"
#include "res/store.h"
#include "sim_test.h"

/* The simulator, with faults injected into chosen iterations. */
typedef struct faulty {
    sim_runner runner;
    res_environment inner;
    int leak_at; /* this iteration's record claims a task lease left (-1: none) */
    int fail_at; /* this iteration cannot run (-1: none) */
    uint32_t seen[8];
    uint32_t nseen;
} faulty;

static res_run_record *faulty_iteration(void *ctx, uint32_t i, res_error *err) {
    faulty *f = ctx;
    if ((int)i == f->fail_at) {
        res_error_set(err, RES_ERUN, "iteration %u: the environment broke", i);
        return NULL;
    }
    res_run_record *r = f->inner.run_iteration(f->inner.ctx, i, err);
    if (r && (int)i == f->leak_at) r->final_task_leases = 1;
    return r;
}

static void seen(void *ctx, const res_run_record *r, const res_summary *s) {
    faulty *f = ctx;
    assert_non_null(s);
    if (f->nseen < 8) f->seen[f->nseen++] = r->iteration;
}

static res_environment faulty_env(faulty *f, const sim_scenario *sc) {
    f->runner = (sim_runner){
        .scenario = sc, .options = {.policy = RUN_POLICY_STRICT, .policy_set = true, .seed = 5}};
    f->inner = sim_runner_environment(&f->runner);
    return (res_environment){.ctx = f, .run_iteration = faulty_iteration};
}

static res_pipeline_options options(const sim_scenario *sc, faulty *f, const char *dir,
                                    const char *db) {
    return (res_pipeline_options){.config = &sc->config,
                                  .policy = RUN_POLICY_STRICT,
                                  .seed = 5,
                                  .iterations = 3,
                                  .db_path = db,
                                  .out_dir = dir,
                                  .command_line = "test",
                                  .on_iteration = seen,
                                  .ctx = f};
}

static char *slurp(const char *path) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
    text[n] = '\0';
    fclose(fp);
    return text;
}

static int files_in(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        remove(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Streamed files are byte for byte what the in-memory builders make of the
** same three iterations (the artifact's host aside). */
static void test_streams_what_memory_builds(void **state) {
    (void)state;
    sim_scenario *sc = load("failures_salvage.json");
    char dir[] = "/tmp/admitsim-pipeline-XXXXXX";
    assert_non_null(mkdtemp(dir));
    faulty f = {.leak_at = -1, .fail_at = -1};
    res_environment env = faulty_env(&f, sc);
    res_pipeline_options opt = options(sc, &f, dir, NULL);
    res_pipeline_result out;
    res_error err;
    assert_int_equal(res_pipeline_run(&opt, &env, &out, &err), RES_OK);
    assert_int_equal(out.iterations_done, 3);
    assert_int_equal(f.nseen, 3);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(f.seen[i], i);

    res_run_record *runs[3];
    res_summary *sums[3];
    for (uint32_t i = 0; i < 3; i++) {
        runs[i] = run_iteration(sc, RUN_POLICY_STRICT, 5, i);
        sums[i] = res_summary_compute(runs[i]);
    }
    json_t *art = res_artifact_build(runs, sums, 3, NULL);
    char *want = json_dumps(art, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
    char *got = slurp(out.files[0]);
    char *host_want = strstr(want, "\"host\":"), *host_got = strstr(got, "\"host\":");
    assert_non_null(host_want);
    assert_non_null(host_got);
    assert_int_equal(host_got - got, host_want - want);
    assert_memory_equal(got, want, (size_t)(host_got - got));
    char *md = res_markdown_summary(runs, sums, 3), *csv = res_metrics_csv(runs, sums, 3),
         *tasks = res_task_timelines_csv(runs, sums, 3);
    char *files[3] = {slurp(out.files[1]), slurp(out.files[2]), slurp(out.files[3])};
    assert_string_equal(files[0], md);
    assert_string_equal(files[1], csv);
    assert_string_equal(files[2], tasks);
    assert_non_null(strstr(out.files[1], "failures_salvage-strict-seed5.md"));
    for (int k = 0; k < 3; k++)
        free(files[k]);
    free(md);
    free(csv);
    free(tasks);
    free(got);
    free(want);
    json_decref(art);
    for (uint32_t i = 0; i < 3; i++) {
        res_summary_free(sums[i]);
        res_run_record_free(runs[i]);
    }
    assert_int_equal(files_in(dir), 4);
    remove_dir(dir);
    sim_scenario_free(sc);
}

static const char *stored_status(const char *db, int64_t run_id, int *iterations) {
    static char status[32];
    sqlite3 *h;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h,
                                        "SELECT status, (SELECT count(*) FROM iterations i "
                                        "WHERE i.run_id = r.run_id) FROM runs r WHERE run_id = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, run_id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(status, sizeof status, "%s", (const char *)sqlite3_column_text(st, 0));
    *iterations = sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return status;
}

/* A lease left at the end of iteration 1 (not 0) fails the run, naming it;
** the outputs are still written, the stored run is marked failed. */
/* Captures what the pipeline hands on_iteration: the summary's JSON and
** the record's kept events. */
typedef struct kept_seen {
    char *summary[2];
    size_t events[2], notable[2], in_memory[2];
    uint64_t made[2];
    res_event_keep kept[2];
} kept_seen;

static void keep_seen(void *ctx, const res_run_record *r, const res_summary *s) {
    kept_seen *k = ctx;
    if (r->iteration >= 2) return;
    json_t *j = res_summary_to_json(s, r);
    k->summary[r->iteration] = json_dumps(j, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(j);
    k->events[r->iteration] = res_run_record_kept_count(r);
    k->in_memory[r->iteration] =
        res_event_log_count(r->events) + res_event_log_count(r->request_events);
    res_kept_reader reader;
    assert_true(res_kept_begin(&reader, r));
    int64_t last = INT64_MIN;
    for (admit_event ev; res_kept_next(&reader, &ev);) {
        k->notable[r->iteration] += !res_event_is_lifecycle(&ev);
        assert_true(ev.captured_at_ns >= last); /* merged in time order */
        last = ev.captured_at_ns;
    }
    assert_null(res_kept_error(&reader));
    k->made[r->iteration] = res_run_record_events_made(r);
    k->kept[r->iteration] = r->kept;
}

/* One run of the simulator through the pipeline, as `run` makes it. */
static void run_kept(const sim_scenario *sc, const char *db, bool notable, kept_seen *k) {
    sim_runner runner = {.scenario = sc,
                         .options = {.policy = RUN_POLICY_BOUNDED, .policy_set = true, .seed = 2}};
    res_environment env = sim_runner_environment(&runner);
    res_pipeline_options opt = {.config = &sc->config,
                                .policy = RUN_POLICY_BOUNDED,
                                .seed = 2,
                                .iterations = 2,
                                .db_path = db,
                                .store_all_events = !notable,
                                .on_iteration = keep_seen,
                                .ctx = k};
    res_pipeline_result out;
    res_error err;
    assert_int_equal(res_pipeline_run(&opt, &env, &out, &err), RES_OK);
}

static int64_t db_count(const char *db, const char *sql) {
    sqlite3 *h;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

/* Without an artifact or a store keeping every event the run keeps none
** (or the notable ones for the store), and the summary built while it ran
** is the one res_summary_compute builds from every event. */
static void test_keeps_only_what_outputs_need(void **state) {
    (void)state;
    static const char *const files[] = {"cross_provider_cooldown.json", "failures_salvage.json",
                                        "cancel_midrun.json"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        sim_scenario *sc = load(files[f]);
        kept_seen none = {0}, notable = {0};
        run_kept(sc, NULL, false, &none);
        char db[] = "/tmp/admitsim-pipeline-kept-XXXXXX";
        int fd = mkstemp(db);
        assert_true(fd >= 0);
        close(fd);
        unlink(db);
        setenv("ADMITSIM_SPILL_AFTER", f < 2 ? "0" : "4096", 1); /* spill at once, or soon */
        run_kept(sc, db, true, &notable);
        unsetenv("ADMITSIM_SPILL_AFTER");
        for (uint32_t i = 0; i < 2; i++) {
            res_run_record *r = run_iteration(sc, RUN_POLICY_BOUNDED, 2, i);
            res_summary *s = res_summary_compute(r);
            json_t *j = res_summary_to_json(s, r);
            char *want = json_dumps(j, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
            assert_string_equal(none.summary[i], want);
            assert_string_equal(notable.summary[i], want);
            assert_int_equal(none.kept[i], RES_KEEP_NO_EVENTS);
            assert_int_equal(none.events[i], 0);
            assert_int_equal(notable.kept[i], RES_KEEP_NOTABLE_EVENTS);
            assert_int_equal(notable.events[i], notable.notable[i]);
            assert_true(notable.events[i] > 0);
            if (f < 2) assert_int_equal(notable.in_memory[i], 0); /* spilled to a file */
            uint64_t all = res_event_log_count(r->events) + res_event_log_count(r->request_events);
            assert_int_equal(none.made[i], all);
            assert_int_equal(notable.made[i], all);
            char sql[160];
            snprintf(sql, sizeof sql, "SELECT event_count FROM iterations WHERE iteration = %u", i);
            assert_int_equal(db_count(db, sql), (int64_t)all);
            snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE iteration = %u", i);
            assert_int_equal(db_count(db, sql), (int64_t)notable.notable[i]);
            assert_int_equal(db_count(db, "SELECT count(*) FROM events WHERE lifecycle = 1"), 0);
            snprintf(sql, sizeof sql, "SELECT count(*) FROM task_timelines WHERE iteration = %u",
                     i);
            assert_int_equal(db_count(db, sql), (int64_t)s->view->row_count);
            free(want);
            json_decref(j);
            res_summary_free(s);
            res_run_record_free(r);
            free(none.summary[i]);
            free(notable.summary[i]);
        }
        for (int k = 0; k < 3; k++) { /* the database, and the -wal and -shm readers leave */
            char path[sizeof db + 8];
            snprintf(path, sizeof path, "%s%s", db, (const char *[]){"", "-wal", "-shm"}[k]);
            unlink(path);
        }
        sim_scenario_free(sc);
    }
}

static void test_every_iteration_checked(void **state) {
    (void)state;
    sim_scenario *sc = load("failures_salvage.json");
    char dir[] = "/tmp/admitsim-pipeline-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char db[sizeof dir + 16];
    snprintf(db, sizeof db, "%s/s.db", dir);
    faulty f = {.leak_at = 1, .fail_at = -1};
    res_environment env = faulty_env(&f, sc);
    res_pipeline_options opt = options(sc, &f, dir, db);
    res_pipeline_result out;
    res_error err;
    assert_int_equal(res_pipeline_run(&opt, &env, &out, &err), RES_ELEAK);
    assert_non_null(strstr(err.message, "iteration 1 ended with 1 task leases"));
    assert_int_equal(out.iterations_done, 3);
    assert_int_equal(out.leaky_iterations, 1);
    assert_true(out.files[0][0] && out.files[3][0]);
    int stored;
    assert_string_equal(stored_status(db, out.run_id, &stored), "failed");
    assert_int_equal(stored, 3);
    remove_dir(dir);
    sim_scenario_free(sc);
}

/* An iteration that cannot run: the error, no file left in the output
** directory (not even a temporary one), the iterations before it stored. */
static void test_failed_iteration_leaves_nothing(void **state) {
    (void)state;
    sim_scenario *sc = load("failures_salvage.json");
    char dir[] = "/tmp/admitsim-pipeline-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char out_dir[sizeof dir + 16], db[sizeof dir + 16];
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    snprintf(db, sizeof db, "%s/s.db", dir);
    faulty f = {.leak_at = -1, .fail_at = 2};
    res_environment env = faulty_env(&f, sc);
    res_pipeline_options opt = options(sc, &f, out_dir, db);
    res_pipeline_result out;
    res_error err;
    assert_int_equal(res_pipeline_run(&opt, &env, &out, &err), RES_ERUN);
    assert_string_equal(err.message, "iteration 2: the environment broke");
    assert_int_equal(out.iterations_done, 2);
    assert_false(out.files[0][0]);
    assert_int_equal(files_in(out_dir), 0);
    int stored;
    assert_string_equal(stored_status(db, out.run_id, &stored), "failed");
    assert_int_equal(stored, 2);
    rmdir(out_dir);
    remove_dir(dir);
    sim_scenario_free(sc);
}

/* A run as an arm of a stored experiment: the store names its experiment,
** arm and parameters; an experiment that is not stored fails the run
** before anything runs. */
static void test_run_of_an_experiment(void **state) {
    (void)state;
    sim_scenario *sc = load("neutral_ready_at_start.json");
    char dir[] = "/tmp/admitsim-pipeline-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char db[sizeof dir + 16];
    snprintf(db, sizeof db, "%s/s.db", dir);
    res_store *s = NULL;
    res_error err;
    int64_t experiment = 0;
    res_store_experiment_info info = {.kind = RES_EXPERIMENT_AB,
                                      .scenario_id = sc->config.scenario_id,
                                      .baseline_arm = "strict",
                                      .candidate_arm = "bounded",
                                      .seeds = 1};
    assert_int_equal(res_store_open(db, RES_STORE_OPEN_CREATE, &s, &err), RES_OK);
    assert_int_equal(res_store_begin_experiment(s, &info, &experiment, &err), RES_OK);
    res_store_close(s);
    faulty f = {.leak_at = -1, .fail_at = -1};
    res_environment env = faulty_env(&f, sc);
    res_pipeline_options opt = options(sc, &f, NULL, db);
    opt.iterations = 1;
    opt.experiment_id = experiment;
    opt.arm = "strict";
    opt.parameters = "{\"policy\": \"strict\"}";
    res_pipeline_result out;
    assert_int_equal(res_pipeline_run(&opt, &env, &out, &err), RES_OK);
    sqlite3 *h;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h,
                                        "SELECT experiment_id, arm, parameters, status FROM runs"
                                        " WHERE run_id = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, out.run_id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), experiment);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "strict");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "{\"policy\": \"strict\"}");
    assert_string_equal((const char *)sqlite3_column_text(st, 3), "complete");
    sqlite3_finalize(st);
    sqlite3_close(h);
    f.nseen = 0;
    opt.experiment_id = experiment + 1;
    assert_int_equal(res_pipeline_run(&opt, &env, &out, &err), RES_ENOTFOUND);
    assert_non_null(strstr(err.message, "no experiment 2"));
    assert_int_equal(out.run_id, 0);
    assert_int_equal(f.nseen, 0);
    remove_dir(dir);
    sim_scenario_free(sc);
}

/* A scenario file name that is not UTF-8 (a Latin-1 "café"): the artifact is
** written, the name carried with U+FFFD for the byte that is not UTF-8. */
static void test_file_name_not_utf8(void **state) {
    (void)state;
    sim_scenario *sc = load("neutral_ready_at_start.json");
    snprintf(sc->config.path, sizeof sc->config.path, "caf\xe9.json");
    char dir[] = "/tmp/admitsim-pipeline-XXXXXX";
    assert_non_null(mkdtemp(dir));
    faulty f = {.leak_at = -1, .fail_at = -1};
    res_environment env = faulty_env(&f, sc);
    res_pipeline_options opt = options(sc, &f, dir, NULL);
    opt.iterations = 1;
    opt.command_line = "admitsim run caf\xe9.json";
    res_pipeline_result out;
    res_error err;
    assert_int_equal(res_pipeline_run(&opt, &env, &out, &err), RES_OK);
    char *text = slurp(out.files[0]);
    assert_non_null(strstr(text, "\"scenario_file\": \"caf\xef\xbf\xbd.json\""));
    assert_non_null(strstr(text, "\"command_line\": \"admitsim run caf\xef\xbf\xbd.json\""));
    free(text);
    remove_dir(dir);
    sim_scenario_free(sc);
}

/* ---- figures over an empty set: absent, not 0 ------------------------------------- */

/* One iteration of text (strict, seed 5) into dir and dir/s.db: the
** iteration's summary object of the artifact (in *doc, to free), the
** Markdown and the metrics CSV. */
typedef struct empty_run {
    char dir[64], db[96];
    json_t *doc;
    const json_t *sum; /* the artifact's derived metrics of iteration 0 */
    char *md, *csv;
} empty_run;

static void empty_run_start(empty_run *e, const char *text) {
    sim_scenario *sc = parse(text);
    snprintf(e->dir, sizeof e->dir, "/tmp/admitsim-pipeline-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->db, sizeof e->db, "%s/s.db", e->dir);
    faulty f = {.leak_at = -1, .fail_at = -1};
    res_environment env = faulty_env(&f, sc);
    res_pipeline_options opt = options(sc, &f, e->dir, e->db);
    opt.iterations = 1;
    res_pipeline_result out;
    res_error err;
    assert_int_equal(res_pipeline_run(&opt, &env, &out, &err), RES_OK);
    json_error_t jerr;
    e->doc = json_load_file(out.files[0], 0, &jerr);
    assert_non_null(e->doc);
    e->sum = json_array_get(
        json_object_get(json_object_get(e->doc, "derived_metrics"), "iterations"), 0);
    assert_true(json_is_object(e->sum));
    e->md = slurp(out.files[1]);
    e->csv = slurp(out.files[2]);
    sim_scenario_free(sc);
}

static void empty_run_end(empty_run *e) {
    json_decref(e->doc);
    free(e->md);
    free(e->csv);
    char path[128];
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s%s", e->db, (const char *[]){"", "-wal", "-shm"}[k]);
        unlink(path);
    }
    remove_dir(e->dir);
}

/* The names the store keeps for scope, comma-separated in name order. */
static char *stored_names(const char *db, const char *scope) {
    static char names[1024];
    sqlite3 *h;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h,
                                        "SELECT coalesce(group_concat(name, ','), '') FROM"
                                        " (SELECT name FROM metrics WHERE scope = ? ORDER BY name)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(names, sizeof names, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return names;
}

static void assert_null_keys(const json_t *obj, const char *const *keys) {
    for (size_t i = 0; keys[i]; i++) {
        json_t *v = json_object_get(obj, keys[i]);
        if (!json_is_null(v)) fail_msg("%s: expected null, got %g", keys[i], json_number_value(v));
    }
}

/* Column b waits for a, whose every task fails: b never dispatches.  Ten
** 1 s tasks of a on 2 slots end at 5 s, dispatched two at a time at 0, 1,
** .., 4: a's waits 0,0,1,1,..,4,4 (mean 2, p50 at index round(4.5) = 4: 2,
** p95 at index round(8.55) = 9: 4).  b has no wait, so no first wait, mean,
** percentile or maximum: null in the JSON, "-" in the Markdown, no row in
** the CSV or the store; its idle time (the whole 5 s) is a figure.  Its
** name, with a '|' and a line break, is escaped in the Markdown tables. */
static void test_empty_group_figures_absent(void **state) {
    (void)state;
    empty_run e;
    empty_run_start(&e, "{\"schema\":1,\"scenario_id\":\"empty_col\",\"scenario_version\":1,"
                        "\"records\":10,\"capacity\":{\"submission\":2},"
                        "\"failures\":{\"shutdown_error_rate\":1},\"columns\":["
                        "{\"name\":\"a\",\"duration\":{\"dist\":\"constant\",\"seconds\":1},"
                        "\"failure\":{\"non_retryable_probability\":1}},"
                        "{\"name\":\"b|x\\ny\",\"depends_on\":[\"a\"],"
                        "\"duration\":{\"dist\":\"constant\",\"seconds\":1}}]}");
    static const char *const waits[] = {"first_wait_seconds",
                                        "wait_mean_seconds",
                                        "wait_p50_seconds",
                                        "wait_p95_seconds",
                                        "wait_p99_seconds",
                                        "wait_max_seconds",
                                        NULL};
    const json_t *groups = json_object_get(e.sum, "groups");
    const json_t *a = json_object_get(groups, "a"), *b = json_object_get(groups, "b|x\ny");
    assert_true(json_number_value(json_object_get(a, "wait_mean_seconds")) == 2.0);
    assert_true(json_number_value(json_object_get(a, "wait_p50_seconds")) == 2.0);
    assert_true(json_number_value(json_object_get(a, "wait_p95_seconds")) == 4.0);
    assert_true(json_number_value(json_object_get(a, "first_wait_seconds")) == 0.0);
    assert_null_keys(b, waits);
    assert_int_equal(json_integer_value(json_object_get(b, "tasks")), 10);
    assert_true(json_number_value(json_object_get(b, "idle_seconds")) == 5.0);
    /* the correlated view agrees: no execution of b, no fractions of its time */
    const json_t *layers = json_object_get(
        json_object_get(json_object_get(json_object_get(e.sum, "correlated"), "limiting_layers"),
                        "groups"),
        "local:default|b|x\ny");
    assert_true(json_is_object(layers));
    assert_null_keys(json_object_get(layers, "fractions"),
                     (const char *const[]){"ready_queue", "task_admission", "request_admission",
                                           "cooldown", "provider_execution", "local_other", NULL});
    assert_true(json_number_value(
                    json_object_get(json_object_get(layers, "seconds"), "ready_queue")) == 0.0);
    /* Markdown: "-" for each absent figure, the '|' of the name escaped */
    assert_non_null(strstr(e.md, "| a | 10 | 0.000 | 2.000 | 2.000 | 4.000 | 4.000 | 0.000 |\n"));
    assert_non_null(strstr(e.md, "| b\\|x\\ny | 10 | - | - | - | - | - | 5.000 |\n"));
    assert_null(strstr(e.md, "-1.000"));
    assert_non_null(strstr(e.md, "| local:default\\|b\\|x\\ny | - | - | - | - | - | - |\n"));
    /* CSV and store: the figures there are, no row for the others */
    assert_non_null(
        strstr(e.csv, "0,\"group:b|x\ny\",tasks,10\n0,\"group:b|x\ny\",idle_seconds,5\n"));
    assert_null(strstr(e.csv, "group:b|x\ny\",first_wait"));
    assert_null(strstr(e.csv, "group:b|x\ny\",wait_"));
    assert_non_null(strstr(e.csv, "0,group:a,wait_p95_seconds,4\n"));
    assert_string_equal(stored_names(e.db, "group:b|x\ny"),
                        "busy_task_seconds,dispatches,idle_seconds,tasks");
    assert_string_equal(stored_names(e.db, "group:a"),
                        "busy_task_seconds,dispatches,first_wait_seconds,idle_seconds,tasks,"
                        "wait_max_seconds,wait_mean_seconds,wait_p50_seconds,wait_p95_seconds");
    empty_run_end(&e);
}

/* Model b (provider pb) is never called: its resource has no admitted
** attempt, so no request wait (null, "-", no row); its in-flight mean over
** the 3 s run is a real 0.  Five tasks of x on 2 slots, each one 1 s call
** of a with 2 parallel requests: a's five waits are all 0. */
static void test_request_resource_without_attempts(void **state) {
    (void)state;
    empty_run e;
    empty_run_start(
        &e, "{\"schema\":1,\"scenario_id\":\"req\",\"scenario_version\":1,\"records\":5,"
            "\"capacity\":{\"submission\":2,\"llm_wait\":2},\"models\":["
            "{\"alias\":\"a\",\"provider\":\"pa\",\"model\":\"ma\",\"max_parallel_requests\":2},"
            "{\"alias\":\"b\",\"provider\":\"pb\",\"model\":\"mb\",\"max_parallel_requests\":2}],"
            "\"providers\":[{\"model\":\"a\",\"latency\":{\"dist\":\"constant\",\"seconds\":1}},"
            "{\"model\":\"b\",\"latency\":{\"dist\":\"constant\",\"seconds\":1}}],"
            "\"columns\":[{\"name\":\"x\",\"program\":[{\"call\":{\"model\":\"a\"}}],"
            "\"scheduling\":{\"kind\":\"model\",\"model\":\"a\"}}]}");
    static const char *const waits[] = {"request_wait_mean_seconds", "request_wait_p50_seconds",
                                        "request_wait_p95_seconds", "request_wait_max_seconds",
                                        NULL};
    const json_t *res = json_object_get(e.sum, "request_resources");
    const json_t *pa = json_object_get(res, "pa/ma/chat"), *pb = json_object_get(res, "pb/mb/chat");
    assert_int_equal(json_integer_value(json_object_get(pa, "attempts")), 5);
    assert_true(json_number_value(json_object_get(pa, "request_wait_p95_seconds")) == 0.0);
    assert_int_equal(json_integer_value(json_object_get(pb, "attempts")), 0);
    assert_null_keys(pb, waits);
    assert_true(json_number_value(json_object_get(pb, "in_flight_mean")) == 0.0);
    assert_true(json_number_value(json_object_get(
                    json_object_get(json_object_get(e.sum, "providers"), "pb"), "busy_fraction")) ==
                0.0);
    assert_non_null(strstr(e.md, "| pa/ma/chat | 5 | 5 | 0 | 0.000 | 0.000 | 0.000 | "));
    assert_non_null(strstr(e.md, "| pb/mb/chat | 0 | 0 | 0 | - | - | - | 0.00 / 0 | "));
    assert_non_null(strstr(e.csv, "0,request:pa/ma/chat,request_wait_p95_seconds,0\n"));
    assert_null(strstr(e.csv, "request:pb/mb/chat,request_wait"));
    assert_non_null(strstr(e.csv, "0,request:pb/mb/chat,in_flight_mean,0\n"));
    char *names = stored_names(e.db, "request:pb/mb/chat");
    assert_null(strstr(names, "request_wait"));
    assert_non_null(strstr(names, "in_flight_mean"));
    assert_non_null(strstr(stored_names(e.db, "request:pa/ma/chat"), "request_wait_p95_seconds"));
    empty_run_end(&e);
}

/* Calls that take no time: the run ends at 0 s, so every share of the wall
** time (slot utilization, busy fraction, active capacity's fraction of wall,
** the in-flight mean) is 0/0: absent, while the waits (all 0) are figures. */
static void test_zero_wall_time_shares_absent(void **state) {
    (void)state;
    empty_run e;
    empty_run_start(
        &e, "{\"schema\":1,\"scenario_id\":\"zw\",\"scenario_version\":1,\"records\":3,"
            "\"capacity\":{\"submission\":2,\"llm_wait\":2},\"models\":["
            "{\"alias\":\"a\",\"provider\":\"pa\",\"model\":\"ma\",\"max_parallel_requests\":2}],"
            "\"providers\":[{\"model\":\"a\",\"latency\":{\"dist\":\"constant\",\"seconds\":0}}],"
            "\"columns\":[{\"name\":\"x\",\"program\":[{\"call\":{\"model\":\"a\"}}],"
            "\"scheduling\":{\"kind\":\"model\",\"model\":\"a\"}}]}");
    assert_true(json_number_value(json_object_get(e.sum, "wall_time_seconds")) == 0.0);
    assert_null_keys(e.sum, (const char *const[]){"slot_utilization", NULL});
    assert_null_keys(json_object_get(json_object_get(e.sum, "providers"), "pa"),
                     (const char *const[]){"busy_fraction", NULL});
    const json_t *pa = json_object_get(json_object_get(e.sum, "request_resources"), "pa/ma/chat");
    assert_null_keys(pa, (const char *const[]){"in_flight_mean", NULL});
    assert_true(json_number_value(json_object_get(pa, "request_wait_p95_seconds")) == 0.0);
    assert_null_keys(
        json_object_get(json_object_get(e.sum, "correlated"), "active_capacity_integral"),
        (const char *const[]){"fraction_of_wall", NULL});
    assert_true(
        json_number_value(json_object_get(json_object_get(json_object_get(e.sum, "groups"), "x"),
                                          "wait_max_seconds")) == 0.0);
    assert_non_null(strstr(e.md, "| 0 | 5 | completed | 0.000 | - | 0 | 0 | 0 |\n"));
    assert_non_null(strstr(e.md, "| pa | - |\n"));
    assert_non_null(strstr(e.md, "| active capacity (fraction of wall) | - |\n"));
    assert_null(strstr(e.csv, "slot_utilization"));
    assert_null(strstr(e.csv, "busy_fraction"));
    assert_null(strstr(e.csv, "in_flight_mean"));
    assert_string_equal(stored_names(e.db, "provider:pa"), "cooldown_seconds");
    assert_null(strstr(stored_names(e.db, "run"), "slot_utilization"));
    assert_null(strstr(stored_names(e.db, "run"), "active_capacity_fraction"));
    assert_null(strstr(stored_names(e.db, "request:pa/ma/chat"), "in_flight_mean"));
    empty_run_end(&e);
}

/* ---- a set of files published together -------------------------------- */

static void put(const char *dir, const char *name, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The text of dir/name, or "-" when there is no such file. */
static char *got(const char *dir, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0 ? slurp(path) : strdup("-");
}

static void expect(const char *dir, const char *name, const char *text) {
    char *t = got(dir, name);
    assert_string_equal(t, text);
    free(t);
}

/* Three files a, b, c sealed with "new <name>", the temporary file of
** `broken` (-1: none) removed so that its rename fails; publishes them. */
static bool publish_three(const char *dir, int broken, res_error *err) {
    res_atomic_file f[3], *set[3];
    static const char *const names[] = {"a", "b", "c"};
    for (int k = 0; k < 3; k++) {
        assert_true(res_atomic_file_open(&f[k], dir, names[k], err));
        fprintf(f[k].f, "new %s", names[k]);
        assert_true(res_atomic_file_seal(&f[k], err));
        set[k] = &f[k];
    }
    if (broken >= 0) unlink(f[broken].tmp);
    return res_atomic_files_publish(set, 3, err);
}

/* A rename that fails midway undoes the ones before it: the earlier files
** back (a), a file that was not there before removed (b); none of the
** earlier files is lost, no temporary or kept-aside file is left; a set
** that succeeds replaces every file. */
static void test_publish_all_or_none(void **state) {
    (void)state;
    char dir[] = "/tmp/admitsim-publish-XXXXXX";
    assert_non_null(mkdtemp(dir));
    res_error err;
    put(dir, "a", "old a");
    put(dir, "c", "old c");
    for (int broken = 0; broken < 3; broken++) {
        assert_false(publish_three(dir, broken, &err));
        assert_non_null(strstr(err.message, "cannot rename into place"));
        if (broken) assert_non_null(strstr(err.message, "renamed before it were put back"));
        expect(dir, "a", "old a");
        expect(dir, "b", "-");
        expect(dir, "c", "old c");
        assert_int_equal(files_in(dir), 2);
    }
    /* a target that is a directory: refused before anything is renamed */
    char sub[sizeof dir + 8];
    snprintf(sub, sizeof sub, "%s/c", dir);
    assert_int_equal(remove(sub), 0);
    assert_int_equal(mkdir(sub, 0777), 0);
    res_atomic_file f, g, *set[] = {&f, &g};
    assert_true(res_atomic_file_open(&f, dir, "a", &err));
    assert_true(res_atomic_file_open(&g, dir, "b", &err));
    assert_true(res_atomic_file_seal(&f, &err) && res_atomic_file_seal(&g, &err));
    assert_int_equal(rename(sub, g.path), 0); /* b becomes a directory after its open */
    assert_false(res_atomic_files_publish(set, 2, &err));
    assert_non_null(strstr(err.message, "/b: is a directory, not a file"));
    expect(dir, "a", "old a");
    assert_int_equal(files_in(dir), 2);
    assert_int_equal(rename(g.path, sub), 0);
    assert_int_equal(rmdir(sub), 0);
    /* and a set that succeeds */
    assert_true(publish_three(dir, -1, &err));
    expect(dir, "a", "new a");
    expect(dir, "b", "new b");
    expect(dir, "c", "new c");
    assert_int_equal(files_in(dir), 3);
    remove_dir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streams_what_memory_builds),
        cmocka_unit_test(test_keeps_only_what_outputs_need),
        cmocka_unit_test(test_every_iteration_checked),
        cmocka_unit_test(test_failed_iteration_leaves_nothing),
        cmocka_unit_test(test_run_of_an_experiment),
        cmocka_unit_test(test_file_name_not_utf8),
        cmocka_unit_test(test_empty_group_figures_absent),
        cmocka_unit_test(test_request_resource_without_attempts),
        cmocka_unit_test(test_zero_wall_time_shares_absent),
        cmocka_unit_test(test_publish_all_or_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
