/*
** libFuzzer target: the results store's readers behind `runs`, `show` and
** `export`.
**
** An input is a database in one of two forms, written to results.db in the
** scratch directory: a database file as it is (an input that starts with
** SQLite's header, "SQLite format 3"), or otherwise SQL text run statement
** by statement into an empty database (a failing statement is skipped), so
** that mutations of a dump (the .sql files of corpus/store/) change rows
** and keep the schema: values NULL, huge, negative, of another type, text
** that is not UTF-8.  (ATTACH and VACUUM are refused and every statement is bounded, so
** an input neither writes elsewhere nor runs long.)  Then the read commands
** run over the database in this process, as `admitsim` runs them
** (cli/cmd_store.c, cli/cmd_export.c; their output and errors go to scratch
** files, shown with FUZZ_VERBOSE): `runs`, and for the first and the last run it
** lists (run 1 when none) `show` and `export` as json, csv and
** chrome-trace.  The reader's remaining queries (one iteration, task
** timelines, metrics by scope, events filtered by stream, kinds and resource
** in stream order) run on those runs too.  What must hold:
**   - every command exits 0, or 1 with a message ("admitsim CMD: why"),
**     never 2 (its command line is valid) and never crashes;
**   - an export as json or chrome-trace that exits 0 wrote valid JSON;
**   - every reader call returns OK, ROW, NOT_FOUND or an error with a
**     message naming the database;
**   - reading never writes: the file holds the same bytes afterwards.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "commands.h"
#include "fuzz_common.h"
#include "res/store_reader.h"

static char db_path[4200], out_path[4200], err_path[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_scratch_path("results.db", db_path, sizeof db_path);
    fuzz_scratch_path("command.out", out_path, sizeof out_path);
    fuzz_scratch_path("command.err", err_path, sizeof err_path);
    return 0;
}

/* Prints a scratch file on stderr. */
static void show_file(const char *path) {
    FILE *f = fopen(path, "r");
    for (int ch; f && (ch = getc(f)) != EOF;)
        putc(ch, stderr);
    if (f) fclose(f);
}

/* Whether the file holds "admitsim NAME: " and a message. */
static int says_why(const char *path, const char *name) {
    char line[2048], prefix[64];
    snprintf(prefix, sizeof prefix, "admitsim %s: ", name);
    FILE *f = fopen(path, "r");
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f))
        found = !strncmp(line, prefix, strlen(prefix)) &&
                line[strlen(prefix)] > ' '; /* something after the prefix */
    if (f) fclose(f);
    return found;
}

/* One command line, its standard output to out_path and its errors to
** err_path (glibc's stdout and stderr are assignable variables; fd 2 stays
** open for the sanitizers and libFuzzer).  Returns the exit status; one
** that failed must have said why. */
static int command(int (*cmd)(int, char **), const char *name, const char *run, const char *fmt) {
    char run_arg[32], fmt_arg[32], name_arg[16], db_flag[] = "--db", fmt_flag[] = "--format";
    snprintf(name_arg, sizeof name_arg, "%s", name);
    snprintf(run_arg, sizeof run_arg, "%s", run ? run : "");
    snprintf(fmt_arg, sizeof fmt_arg, "%s", fmt ? fmt : "");
    char *argv[8] = {name_arg, db_flag, db_path};
    int argc = 3;
    if (run) argv[argc++] = run_arg;
    if (fmt) {
        argv[argc++] = fmt_flag;
        argv[argc++] = fmt_arg;
    }
    argv[argc] = NULL;
    FILE *out = stdout, *err = stderr;
    FILE *to = fopen(out_path, "w"), *to_err = fopen(err_path, "w");
    FUZZ_CHECK(to != NULL && to_err != NULL, "cannot write %s", out_path);
    stdout = to;
    stderr = to_err;
    int rc = cmd(argc, argv);
    stdout = out;
    stderr = err;
    FUZZ_CHECK(fclose(to) == 0 && fclose(to_err) == 0, "cannot write %s", out_path);
    if (fuzz_is_verbose()) {
        fprintf(stderr, "fuzz: admitsim %s %s %s: exit %d\n", name, run ? run : "", fmt ? fmt : "",
                rc);
        show_file(out_path);
        show_file(err_path);
    }
    FUZZ_CHECK(rc == 0 || rc == 1, "admitsim %s %s %s exited %d", name, run ? run : "",
               fmt ? fmt : "", rc);
    FUZZ_CHECK(rc == 0 || says_why(err_path, name), "admitsim %s %s %s failed without saying why",
               name, run ? run : "", fmt ? fmt : "");
    return rc;
}

/* An export that succeeded wrote one JSON document. */
static void check_json_output(const char *what) {
    json_error_t jerr;
    json_t *doc = json_load_file(out_path, 0, &jerr);
    FUZZ_CHECK(doc != NULL, "export %s exited 0 with invalid JSON: %s (line %d)", what, jerr.text,
               jerr.line);
    json_decref(doc);
}

/* What the reader last failed at. */
static res_error reader_err;

/* A reader call's status: true when found; not found, or a clear error
** naming the database. */
static bool found(res_status st) {
    if (st != RES_OK && st != RES_ENOTFOUND)
        FUZZ_CHECK(strstr(reader_err.message, db_path) != NULL,
                   "reader error %d without the database: %s", (int)st, reader_err.message);
    return st == RES_OK;
}

/* A cursor step: true for a row; the end, or a clear error naming the
** database. */
static bool row(res_cursor_step st) {
    FUZZ_CHECK(st == RES_CURSOR_ROW || st == RES_CURSOR_DONE || st == RES_CURSOR_ERROR,
               "cursor step returned %d", (int)st);
    if (st == RES_CURSOR_ERROR)
        FUZZ_CHECK(strstr(reader_err.message, db_path) != NULL,
                   "cursor error without the database: %s", reader_err.message);
    return st == RES_CURSOR_ROW;
}

/* Drains a cursor with its step function; each row read is read whole. */
#define DRAIN(open_call, next, row_type)                                                           \
    do {                                                                                           \
        res_store_cursor *c_ = NULL;                                                               \
        if (found(open_call)) {                                                                    \
            FUZZ_CHECK(c_ != NULL, "cursor opened NULL");                                          \
            row_type row_;                                                                         \
            while (row(next(c_, &row_, &reader_err)))                                              \
                ;                                                                                  \
            res_store_cursor_close(c_);                                                            \
        }                                                                                          \
    } while (0)

static void reader_queries(res_store_reader *r, int64_t run) {
    res_iteration_row it;
    found(res_store_reader_iteration(r, run, 0, &it, &reader_err));
    DRAIN(res_store_reader_iterations(r, run, &c_, &reader_err), res_store_cursor_next_iteration,
          res_iteration_row);
    DRAIN(res_store_reader_timelines(r, run, RES_ALL_ITERATIONS, &c_, &reader_err),
          res_store_cursor_next_timeline, res_timeline_row);
    DRAIN(res_store_reader_metrics(r, run, 0, "request:", &c_, &reader_err),
          res_store_cursor_next_metric, res_metric_row);
    DRAIN(res_store_reader_metric_stats(r, run, &c_, &reader_err),
          res_store_cursor_next_metric_stats, res_metric_stats_row);
    DRAIN(res_store_reader_snapshots(r, run, &c_, &reader_err), res_store_cursor_next_snapshot,
          res_snapshot_row);
    static const char *const kinds[] = {"request_rate_limited", "admission_denied", NULL};
    res_event_query q = {.run_id = run,
                         .iteration = 0,
                         .stream = "request",
                         .kinds = kinds,
                         .resource = "p/m/chat",
                         .order = RES_EVENTS_STREAM_ORDER};
    DRAIN(res_store_reader_events(r, &q, &c_, &reader_err), res_store_cursor_next_event,
          res_event_row);
}

/* Every experiment the list gives, read whole with its runs. */
static void experiment_queries(res_store_reader *r) {
    res_store_cursor *c = NULL;
    if (!found(res_store_reader_experiments(r, &c, &reader_err))) return;
    res_experiment_row e;
    for (int n = 0; n < 4 && row(res_store_cursor_next_experiment(c, &e, &reader_err)); n++) {
        res_experiment_row again;
        found(res_store_reader_experiment(r, e.experiment_id, &again, &reader_err));
        DRAIN(res_store_reader_experiment_runs(r, e.experiment_id, &c_, &reader_err),
              res_store_cursor_next_experiment_run, res_experiment_run_row);
    }
    res_store_cursor_close(c);
}

/* The first and last run ids the run list gives (1 when it gives none). */
static void run_ids(res_store_reader *r, int64_t ids[2]) {
    ids[0] = ids[1] = 1;
    res_store_cursor *c = NULL;
    if (!found(res_store_reader_runs(r, &c, &reader_err))) return;
    res_run_row run;
    for (int n = 0; row(res_store_cursor_next_run(c, &run, &reader_err)); n++) {
        if (n == 0) ids[0] = run.run_id;
        ids[1] = run.run_id;
    }
    res_store_cursor_close(c);
}

static void remove_db(void) {
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[4300];
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        snprintf(path, sizeof path, "%s%s", db_path, suffixes[i]);
        unlink(path);
    }
}

/* The file's bytes, malloc'ed (*size set), or NULL when there is none. */
static uint8_t *file_bytes(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    FUZZ_CHECK(buf != NULL, "out of memory");
    for (size_t got; (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            buf = realloc(buf, cap *= 2);
            FUZZ_CHECK(buf != NULL, "out of memory");
        }
    }
    fclose(f);
    *size = n;
    return buf;
}

/* Statements only: no ATTACH (a file elsewhere), no VACUUM INTO. */
static int authorize(void *arg, int action, const char *a, const char *b, const char *c,
                     const char *d) {
    (void)arg, (void)a, (void)b, (void)c, (void)d;
    return action == SQLITE_ATTACH || action == SQLITE_DETACH ? SQLITE_DENY : SQLITE_OK;
}

static int bounded(void *steps) {
    return ++*(long *)steps > 2000; /* x 1000 virtual machine steps a statement */
}

/* Runs sql into a new database at db_path, statement by statement,
** skipping those that fail. */
static void build_database(const uint8_t *data, size_t size) {
    char *sql = malloc(size + 1);
    FUZZ_CHECK(sql != NULL, "out of memory");
    memcpy(sql, data, size);
    sql[size] = '\0';
    sqlite3 *db = NULL;
    FUZZ_CHECK(sqlite3_open(db_path, &db) == SQLITE_OK, "cannot create %s", db_path);
    sqlite3_set_authorizer(db, authorize, NULL);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    long steps = 0;
    sqlite3_progress_handler(db, 1000, bounded, &steps);
    for (const char *next = sql; next && *next;) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(db, next, -1, &st, &tail);
        if (rc == SQLITE_OK && st && !sqlite3_strnicmp(sqlite3_sql(st), "VACUUM", 6)) {
            sqlite3_finalize(st);
            st = NULL;
        }
        if (st) {
            steps = 0;
            while (sqlite3_step(st) == SQLITE_ROW)
                ;
            sqlite3_finalize(st);
        }
        if (!tail || tail == next) break; /* nothing more that parses */
        next = tail;
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL); /* a transaction the input left open */
    FUZZ_CHECK(sqlite3_close(db) == SQLITE_OK, "cannot close %s", db_path);
    free(sql);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    remove_db();
    static const char header[] = "SQLite format 3";
    if (size >= sizeof header && !memcmp(data, header, sizeof header))
        fuzz_write_file(db_path, data, size);
    else
        build_database(data, size);
    size_t before_size = 0;
    uint8_t *before = file_bytes(db_path, &before_size);
    command(cmd_runs, "runs", NULL, NULL);
    res_store_reader *r = NULL;
    int64_t ids[2] = {1, 1};
    if (res_store_reader_open(db_path, &r, &reader_err) == RES_OK) {
        run_ids(r, ids);
        for (int k = 0; k < (ids[0] == ids[1] ? 1 : 2); k++) {
            res_run_row run_row;
            found(res_store_reader_run(r, ids[k], &run_row, &reader_err));
            reader_queries(r, ids[k]);
        }
        experiment_queries(r);
        res_store_reader_close(r);
    } else {
        FUZZ_CHECK(r == NULL && strstr(reader_err.message, db_path) != NULL,
                   "open failed without a message: %s", reader_err.message);
    }
    for (int k = 0; k < (ids[0] == ids[1] ? 1 : 2); k++) {
        if (ids[k] < 0) continue; /* not a RUN argument */
        char run[32];
        snprintf(run, sizeof run, "%lld", (long long)ids[k]);
        command(cmd_show, "show", run, NULL);
        if (command(cmd_export, "export", run, "json") == 0) check_json_output("json");
        command(cmd_export, "export", run, "csv");
        if (command(cmd_export, "export", run, "chrome-trace") == 0)
            check_json_output("chrome-trace");
    }
    size_t after_size = 0;
    uint8_t *after = file_bytes(db_path, &after_size);
    FUZZ_CHECK(!before == !after && before_size == after_size &&
                   (!before || !memcmp(before, after, before_size)),
               "reading changed the database (%zu bytes, was %zu)", after_size, before_size);
    free(before);
    free(after);
    remove_db();
    return 0;
}
