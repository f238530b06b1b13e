/*
** libFuzzer target: the results store's readers behind `runs`, `show` and
** `export`.
**
** The input is written as a database file, results.db, in the scratch
** directory, and the read commands run over it in this process, as
** `admitsim` runs them (cli/cmd_store.c, cli/cmd_export.c; their output
** goes to /dev/null unless FUZZ_VERBOSE is set): `runs`, then for the first
** and the last run it lists (run 1 when none) `show` and `export` as json,
** csv and chrome-trace.  The reader's remaining queries (one iteration,
** task timelines, metrics by scope, events filtered by stream, kinds and
** resource in stream order) run on those runs too.  What must hold:
**   - every command exits 0 or 1 (a clear error), never 2 (its command
**     line is valid) and never crashes;
**   - every reader call returns OK, ROW, NOT_FOUND or an error with a
**     message naming the database;
**   - reading never writes: the file holds the input's bytes afterwards.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "fuzz_common.h"
#include "res/store_reader.h"

static char db_path[4200];
static FILE *quiet; /* /dev/null, or NULL to keep the commands' output */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_scratch_path("results.db", db_path, sizeof db_path);
    if (!getenv("FUZZ_VERBOSE")) {
        quiet = fopen("/dev/null", "w");
        FUZZ_CHECK(quiet != NULL, "cannot open /dev/null");
    }
    return 0;
}

/* One command line, its output to /dev/null (glibc's stdout and stderr
** are assignable variables; fd 2 stays open for the sanitizers and
** libFuzzer). */
static void command(int (*cmd)(int, char **), const char *name, const char *run, const char *fmt) {
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
    if (quiet) stdout = stderr = quiet;
    int rc = cmd(argc, argv);
    fflush(stdout);
    stdout = out;
    stderr = err;
    FUZZ_CHECK(rc == 0 || rc == 1, "admitsim %s %s %s exited %d", name, run ? run : "",
               fmt ? fmt : "", rc);
}

/* A reader call's result: a row, the end, not found, or a clear error. */
static int step(res_store_reader *r, int rc) {
    FUZZ_CHECK(rc == RES_STORE_OK || rc == RES_STORE_ROW || rc == RES_STORE_NOT_FOUND || rc < 0,
               "reader returned %d", rc);
    if (rc < 0 && rc != RES_STORE_NOT_FOUND)
        FUZZ_CHECK(strstr(res_store_reader_errmsg(r), db_path) != NULL,
                   "reader error without the database: %s", res_store_reader_errmsg(r));
    return rc;
}

/* Drains a cursor with its step function; each row read is read whole. */
#define DRAIN(r, open_call, next, row_type)                                                        \
    do {                                                                                           \
        res_store_cursor *c_ = NULL;                                                               \
        if (step(r, open_call) == RES_STORE_OK) {                                                  \
            FUZZ_CHECK(c_ != NULL, "cursor opened NULL");                                          \
            row_type row_;                                                                         \
            while (step(r, next(c_, &row_)) == RES_STORE_ROW)                                      \
                ;                                                                                  \
            res_store_cursor_close(c_);                                                            \
        }                                                                                          \
    } while (0)

static void reader_queries(res_store_reader *r, int64_t run) {
    res_iteration_row it;
    step(r, res_store_reader_iteration(r, run, 0, &it));
    DRAIN(r, res_store_reader_timelines(r, run, RES_ALL_ITERATIONS, &c_),
          res_store_cursor_next_timeline, res_timeline_row);
    DRAIN(r, res_store_reader_metrics(r, run, 0, "request:", &c_), res_store_cursor_next_metric,
          res_metric_row);
    DRAIN(r, res_store_reader_snapshots(r, run, &c_), res_store_cursor_next_snapshot,
          res_snapshot_row);
    static const char *const kinds[] = {"request_rate_limited", "admission_denied", NULL};
    res_event_query q = {.run_id = run,
                         .iteration = 0,
                         .stream = "request",
                         .kinds = kinds,
                         .resource = "p/m/chat",
                         .order = RES_EVENTS_STREAM_ORDER};
    DRAIN(r, res_store_reader_events(r, &q, &c_), res_store_cursor_next_event, res_event_row);
}

/* The first and last run ids the run list gives (1 when it gives none). */
static void run_ids(res_store_reader *r, int64_t ids[2]) {
    ids[0] = ids[1] = 1;
    res_store_cursor *c = NULL;
    if (step(r, res_store_reader_runs(r, &c)) != RES_STORE_OK) return;
    res_run_row run;
    for (int n = 0; step(r, res_store_cursor_next_run(c, &run)) == RES_STORE_ROW; n++) {
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

static void check_unchanged(const uint8_t *data, size_t size) {
    FILE *f = fopen(db_path, "rb");
    FUZZ_CHECK(f != NULL, "the database is gone");
    uint8_t *back = malloc(size + 1);
    FUZZ_CHECK(back != NULL, "out of memory");
    size_t n = fread(back, 1, size + 1, f);
    fclose(f);
    FUZZ_CHECK(n == size && (size == 0 || !memcmp(back, data, size)),
               "reading changed the database (%zu bytes, was %zu)", n, size);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    remove_db();
    fuzz_write_file(db_path, data, size);
    command(cmd_runs, "runs", NULL, NULL);
    res_store_reader *r = NULL;
    char err[1200];
    int64_t ids[2] = {1, 1};
    if (res_store_reader_open(db_path, &r, err, sizeof err) == RES_STORE_OK) {
        run_ids(r, ids);
        for (int k = 0; k < (ids[0] == ids[1] ? 1 : 2); k++) {
            res_run_row row;
            step(r, res_store_reader_run(r, ids[k], &row));
            reader_queries(r, ids[k]);
        }
        res_store_reader_close(r);
    } else {
        FUZZ_CHECK(r == NULL && strstr(err, db_path) != NULL, "open failed without a message: %s",
                   err);
    }
    for (int k = 0; k < (ids[0] == ids[1] ? 1 : 2); k++) {
        if (ids[k] < 0) continue; /* not a RUN argument */
        char run[32];
        snprintf(run, sizeof run, "%lld", (long long)ids[k]);
        command(cmd_show, "show", run, NULL);
        command(cmd_export, "export", run, "json");
        command(cmd_export, "export", run, "csv");
        command(cmd_export, "export", run, "chrome-trace");
    }
    check_unchanged(data, size);
    remove_db();
    return 0;
}
