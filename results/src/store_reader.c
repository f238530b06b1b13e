/* The results store's reader (res/store_reader.h): every query the read
** commands make, one prepared statement per cursor. */
#include "res/store_reader.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_error.h"
#include "store_identity.h"
#include "store_int.h"
#include "store_lifecycle.h"
#include "store_liveness.h"
#include "store_unpack.h"

const char *const res_timeline_stamp_names[RES_TIMELINE_STAMPS] = {
    "dependency_ready_at",        "ready_enqueued_at",         "selected_at",
    "task_lease_acquired_at",     "worker_spawned_at",         "request_wait_started_at",
    "request_wait_completed_at",  "request_lease_acquired_at", "model_request_started_at",
    "model_request_completed_at", "request_lease_released_at", "task_completed_at",
    "task_lease_released_at"};

typedef enum cursor_kind {
    CURSOR_RUN,
    CURSOR_ITERATION,
    CURSOR_EVENT,
    CURSOR_TIMELINE,
    CURSOR_METRIC,
    CURSOR_METRIC_STATS,
    CURSOR_SNAPSHOT,
    CURSOR_EXPERIMENT,
    CURSOR_EXPERIMENT_RUN
} cursor_kind;

struct res_store_reader {
    sqlite3 *db; /* read-only */
    int version;
    sqlite3_stmt *one_run, *one_iteration, *one_experiment; /* single-row lookups */
    char path[1024];
};

struct res_store_cursor {
    res_store_reader *r;
    sqlite3_stmt *st;
    cursor_kind kind;
};

static res_status fail_db(res_store_reader *r, res_error *err, const char *what) {
    return res_store_fail_db(err, r->db, r->path, what);
}

static bool wal_file_exists(const char *path) {
    char wal[1100];
    struct stat sb;
    snprintf(wal, sizeof wal, "%s-wal", path);
    return stat(wal, &sb) == 0 || errno != ENOENT;
}

/* Opens path read-only and identifies it.  A WAL database in a directory
** this process cannot write (so SQLite cannot create its -shm) is read as
** immutable when it has no -wal file: then no connection has it open. */
static res_status open_read_only(res_store_reader *r, const char *path,
                                 res_store_identity *identity, res_error *err) {
    char uri[4200];
    for (int immutable = 0; immutable < 2; immutable++) {
        /* immutable: no locks, no -shm or -wal */
        res_store_uri(uri, sizeof uri, path, "immutable=1");
        int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | (immutable ? SQLITE_OPEN_URI : 0);
        if (sqlite3_open_v2(immutable ? uri : path, &r->db, flags, NULL) != SQLITE_OK)
            return res_store_fail(err, RES_ESTORE, "%s: cannot open: %s", path,
                                  r->db ? sqlite3_errmsg(r->db) : "out of memory");
        sqlite3_busy_timeout(r->db, 10000);
        if (res_unpack_register(r->db) != SQLITE_OK)
            return res_store_fail(err, RES_ESTORE, "%s: cannot register the pack reader: %s", path,
                                  sqlite3_errmsg(r->db));
        int sqlite_rc;
        res_status rc = res_store_identify(r->db, path, identity, &r->version, &sqlite_rc, err);
        int primary = sqlite_rc & 0xff;
        if (rc == RES_OK || immutable || wal_file_exists(path) ||
            (primary != SQLITE_READONLY && primary != SQLITE_CANTOPEN))
            return rc;
        sqlite3_close(r->db);
        r->db = NULL;
    }
    return RES_ESTORE;
}

/* Opens r->path: an admitsim database of a schema this reader reads. */
static res_status open_reader(res_store_reader *r, res_error *err) {
    const char *path = r->path;
    struct stat sb;
    res_store_identity identity = RES_STORE_IS_EMPTY;
    if (stat(path, &sb) != 0)
        return res_store_fail(err, RES_ENOTFOUND, "%s: no such results database (%s)", path,
                              strerror(errno));
    res_status rc = open_read_only(r, path, &identity, err);
    if (rc != RES_OK) return rc;
    if (identity == RES_STORE_IS_EMPTY)
        return res_store_fail(
            err, RES_EFOREIGN,
            "%s: an empty database, not an admitsim results database (no run stored)", path);
    if (r->version < RES_STORE_READ_MIN_VERSION)
        return res_store_fail(
            err, RES_ETOOOLD,
            "%s: schema version %d is older than this admitsim reads (%d to %d); "
            "'admitsim migrate --db %s' upgrades it (reading never changes a database)",
            path, r->version, RES_STORE_READ_MIN_VERSION, RES_STORE_SCHEMA_VERSION, path);
    return RES_OK;
}

res_status res_store_reader_open(const char *path, res_store_reader **out, res_error *err) {
    *out = NULL;
    if (!res_store_names_file(path, err)) return RES_EINVAL;
    res_store_reader *r = calloc(1, sizeof *r);
    if (!r) return res_store_fail(err, RES_ENOMEM, "%s: out of memory", path);
    snprintf(r->path, sizeof r->path, "%s", path);
    res_status rc = open_reader(r, err);
    if (rc != RES_OK) {
        res_store_reader_close(r);
        return rc;
    }
    *out = r;
    return RES_OK;
}

void res_store_reader_close(res_store_reader *r) {
    if (!r) return;
    sqlite3_finalize(r->one_run);
    sqlite3_finalize(r->one_iteration);
    sqlite3_finalize(r->one_experiment);
    sqlite3_close(r->db);
    free(r);
}

int res_store_reader_schema_version(const res_store_reader *r) {
    return r->version;
}

sqlite3 *res_store_reader_db(const res_store_reader *r) {
    return r->db;
}

/* ---- columns ------------------------------------------------------------ */

static const char *col_text(sqlite3_stmt *st, int col) {
    return (const char *)sqlite3_column_text(st, col);
}

static res_opt_int col_opt_int(sqlite3_stmt *st, int col) {
    bool set = sqlite3_column_type(st, col) != SQLITE_NULL;
    return (res_opt_int){set ? sqlite3_column_int64(st, col) : 0, set};
}

static res_opt_real col_opt_real(sqlite3_stmt *st, int col) {
    bool set = sqlite3_column_type(st, col) != SQLITE_NULL;
    return (res_opt_real){set ? sqlite3_column_double(st, col) : 0, set};
}

/* ---- statements and cursors ---------------------------------------------- */

/* Prepares sql and binds ?1 to run_id and, when iteration >= 0 and the
** statement has a second parameter, ?2 to iteration. */
static sqlite3_stmt *prepare(res_store_reader *r, const char *sql, int64_t run_id,
                             int64_t iteration, const char *what, res_error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fail_db(r, err, what);
        return NULL;
    }
    sqlite3_bind_int64(st, 1, run_id);
    if (iteration >= 0 && sqlite3_bind_parameter_count(st) >= 2)
        sqlite3_bind_int64(st, 2, iteration);
    return st;
}

/* A cursor over st (prepared, or NULL when preparing failed and err says
** why). */
static res_status cursor_open(res_store_reader *r, sqlite3_stmt *st, cursor_kind kind,
                              res_store_cursor **out, res_error *err) {
    *out = NULL;
    if (!st) return RES_ESTORE;
    res_store_cursor *c = malloc(sizeof *c);
    if (!c) {
        sqlite3_finalize(st);
        return res_store_fail(err, RES_ENOMEM, "%s: out of memory", r->path);
    }
    *c = (res_store_cursor){.r = r, .st = st, .kind = kind};
    *out = c;
    return RES_OK;
}

static res_cursor_step cursor_step(res_store_cursor *c, cursor_kind kind, res_error *err) {
    if (!c) {
        res_store_fail(err, RES_EINVAL, "no cursor");
        return RES_CURSOR_ERROR;
    }
    if (c->kind != kind) {
        res_store_fail(err, RES_EINVAL, "%s: a cursor stepped as another kind", c->r->path);
        return RES_CURSOR_ERROR;
    }
    int rc = sqlite3_step(c->st);
    if (rc == SQLITE_ROW) return RES_CURSOR_ROW;
    if (rc == SQLITE_DONE) return RES_CURSOR_DONE;
    fail_db(c->r, err, "reading");
    return RES_CURSOR_ERROR;
}

void res_store_cursor_close(res_store_cursor *c) {
    if (!c) return;
    sqlite3_finalize(c->st);
    free(c);
}

/* Steps a single-row lookup held by the reader: RES_OK with its row,
** RES_ENOTFOUND (err says what, missing) or an error. */
static res_status lookup(res_store_reader *r, sqlite3_stmt **held, sqlite3_stmt *st,
                         const char *what, const char *missing, res_error *err) {
    sqlite3_finalize(*held);
    *held = st;
    if (!st) return RES_ESTORE;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return RES_OK;
    if (rc != SQLITE_DONE) return fail_db(r, err, what);
    return res_store_fail(err, RES_ENOTFOUND, "%s: %s", r->path, missing);
}

/* ---- runs ---------------------------------------------------------------- */

/* The writer's columns came with schema 5, the experiment's with 6. */
#define RUN_SELECT                                                                                 \
    "SELECT r.run_id, r.scenario_id, r.scenario_version, r.scenario_file, r.policy, r.seed,"       \
    " r.iterations, r.harness_version, r.command_line, r.created_at, r.finished_at, r.status,"     \
    " (SELECT count(*) FROM iterations i WHERE i.run_id = r.run_id),"                              \
    " (SELECT avg(wall_time_seconds) FROM iterations i WHERE i.run_id = r.run_id), %s, %s"         \
    " FROM runs r"
#define RUN_WRITER        "r.writer_host, r.writer_pid, r.writer_instance, r.heartbeat_at"
#define RUN_NO_WRITER     "NULL, NULL, NULL, NULL"
#define RUN_EXPERIMENT    "r.experiment_id, r.arm, r.parameters"
#define RUN_NO_EXPERIMENT "NULL, NULL, NULL"

static sqlite3_stmt *prepare_runs(res_store_reader *r, const char *where, int64_t run_id,
                                  const char *what, res_error *err) {
    char sql[1024];
    snprintf(sql, sizeof sql, RUN_SELECT "%s", r->version >= 5 ? RUN_WRITER : RUN_NO_WRITER,
             r->version >= 6 ? RUN_EXPERIMENT : RUN_NO_EXPERIMENT, where);
    return prepare(r, sql, run_id, -1, what, err);
}

/* Whether the writer a row recorded is alive, and so the row's status as
** it is now: "abandoned" for one stored as running whose writer is gone. */
static void writer_state(const char *host, res_opt_int pid, const char *instance,
                         const char *status, res_run_writer *writer, const char **state) {
    res_writer_state w = res_writer_check(host, pid.set ? pid.value : -1, instance);
    *writer = w == RES_WRITER_ALIVE  ? RES_RUN_WRITER_ALIVE
              : w == RES_WRITER_GONE ? RES_RUN_WRITER_GONE
                                     : RES_RUN_WRITER_UNKNOWN;
    bool running = status && !strcmp(status, "running");
    *state = running && w == RES_WRITER_GONE ? "abandoned" : status;
}

static void run_row(sqlite3_stmt *st, res_run_row *row) {
    *row = (res_run_row){.run_id = sqlite3_column_int64(st, 0),
                         .scenario_id = col_text(st, 1),
                         .scenario_version = sqlite3_column_int64(st, 2),
                         .scenario_file = col_text(st, 3),
                         .policy = col_text(st, 4),
                         .seed = sqlite3_column_int64(st, 5),
                         .iterations = sqlite3_column_int64(st, 6),
                         .harness_version = col_text(st, 7),
                         .command_line = col_text(st, 8),
                         .created_at = col_text(st, 9),
                         .finished_at = col_text(st, 10),
                         .status = col_text(st, 11),
                         .iterations_stored = sqlite3_column_int64(st, 12),
                         .wall_time_mean = col_opt_real(st, 13),
                         .writer_host = col_text(st, 14),
                         .writer_pid = col_opt_int(st, 15),
                         .writer_instance = col_text(st, 16),
                         .heartbeat_at = col_text(st, 17),
                         .experiment_id = col_opt_int(st, 18),
                         .arm = col_text(st, 19),
                         .parameters = col_text(st, 20)};
    writer_state(row->writer_host, row->writer_pid, row->writer_instance, row->status, &row->writer,
                 &row->state);
}

res_status res_store_reader_runs(res_store_reader *r, res_store_cursor **out, res_error *err) {
    return cursor_open(r, prepare_runs(r, " ORDER BY r.run_id", 0, "listing runs", err), CURSOR_RUN,
                       out, err);
}

res_cursor_step res_store_cursor_next_run(res_store_cursor *c, res_run_row *row, res_error *err) {
    res_cursor_step rc = cursor_step(c, CURSOR_RUN, err);
    if (rc == RES_CURSOR_ROW) run_row(c->st, row);
    return rc;
}

res_status res_store_reader_run(res_store_reader *r, int64_t run_id, res_run_row *row,
                                res_error *err) {
    sqlite3_stmt *st = prepare_runs(r, " WHERE r.run_id = ?1", run_id, "reading a run", err);
    char missing[64];
    snprintf(missing, sizeof missing, "no run %lld", (long long)run_id);
    res_status rc = lookup(r, &r->one_run, st, "reading a run", missing, err);
    if (rc == RES_OK) run_row(st, row);
    return rc;
}

/* ---- iterations ---------------------------------------------------------- */

/* %s: events_stored, or NULL before schema version 8 */
#define ITERATION_SELECT                                                                           \
    "SELECT run_id, iteration, status, wall_time_seconds, final_task_leases,"                      \
    " final_request_leases, final_request_waiters, output_hash, event_count, %s FROM iterations"   \
    " WHERE run_id = ?1%s"

static const char *iteration_sql(const res_store_reader *r, char *sql, size_t len,
                                 const char *tail) {
    snprintf(sql, len, ITERATION_SELECT, r->version >= 8 ? "events_stored" : "NULL", tail);
    return sql;
}

static void iteration_row(sqlite3_stmt *st, res_iteration_row *row) {
    *row = (res_iteration_row){.run_id = sqlite3_column_int64(st, 0),
                               .iteration = sqlite3_column_int64(st, 1),
                               .status = col_text(st, 2),
                               .wall_time_seconds = sqlite3_column_double(st, 3),
                               .final_task_leases = sqlite3_column_int64(st, 4),
                               .final_request_leases = sqlite3_column_int64(st, 5),
                               .final_request_waiters = sqlite3_column_int64(st, 6),
                               .output_hash = col_text(st, 7),
                               .event_count = col_opt_int(st, 8),
                               .events_stored = col_opt_int(st, 9)};
}

res_status res_store_reader_iterations(res_store_reader *r, int64_t run_id, res_store_cursor **out,
                                       res_error *err) {
    char sql[512];
    return cursor_open(r,
                       prepare(r, iteration_sql(r, sql, sizeof sql, " ORDER BY iteration"), run_id,
                               -1, "listing iterations", err),
                       CURSOR_ITERATION, out, err);
}

res_cursor_step res_store_cursor_next_iteration(res_store_cursor *c, res_iteration_row *row,
                                                res_error *err) {
    res_cursor_step rc = cursor_step(c, CURSOR_ITERATION, err);
    if (rc == RES_CURSOR_ROW) iteration_row(c->st, row);
    return rc;
}

res_status res_store_reader_iteration(res_store_reader *r, int64_t run_id, int64_t iteration,
                                      res_iteration_row *row, res_error *err) {
    char missing[96];
    snprintf(missing, sizeof missing, "no iteration %lld of run %lld", (long long)iteration,
             (long long)run_id);
    if (iteration < 0) return res_store_fail(err, RES_ENOTFOUND, "%s: %s", r->path, missing);
    char sql[512];
    sqlite3_stmt *st = prepare(r, iteration_sql(r, sql, sizeof sql, " AND iteration = ?2"), run_id,
                               iteration, "reading an iteration", err);
    res_status rc = lookup(r, &r->one_iteration, st, "reading an iteration", missing, err);
    if (rc == RES_OK) iteration_row(st, row);
    return rc;
}

/* ---- events -------------------------------------------------------------- */

/* Whether an iteration q selects kept fewer events than it made, into
** *missing; RES_ESTORE when the store could not say (never read as "no":
** the notable events alone would pass for every event). */
static res_status lifecycle_missing(res_store_reader *r, const res_event_query *q, bool *missing,
                                    res_error *err) {
    *missing = false;
    if (r->version < 8 || !q->rebuild_lifecycle) return RES_OK;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db,
                           "SELECT EXISTS (SELECT 1 FROM iterations WHERE run_id = ?1 AND"
                           " (?2 < 0 OR iteration = ?2) AND events_stored < event_count)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(r, err, "reading which events were stored");
    sqlite3_bind_int64(st, 1, q->run_id);
    sqlite3_bind_int64(st, 2, q->iteration);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *missing = sqlite3_column_int(st, 0) != 0;
    res_status out =
        rc == SQLITE_ROW ? RES_OK : fail_db(r, err, "reading which events were stored");
    sqlite3_finalize(st);
    return out;
}

res_status res_store_reader_lifecycle_shortfall(res_store_reader *r, int64_t run_id,
                                                int64_t iteration, uint64_t *missing,
                                                res_error *err) {
    *missing = 0;
    if (r->version < 8) return RES_OK; /* every event was stored */
    sqlite3_stmt *st = prepare(
        r,
        "SELECT (SELECT coalesce(sum(event_count - events_stored), 0) FROM iterations"
        " WHERE run_id = ?1 AND iteration = ?2 AND events_stored < event_count),"
        " (SELECT coalesce(sum((dependency_ready_at IS NOT NULL) + (ready_enqueued_at IS NOT"
        " NULL) + (selected_at IS NOT NULL) + (task_lease_acquired_at IS NOT NULL) +"
        " (worker_spawned_at IS NOT NULL) + (task_completed_at IS NOT NULL) +"
        " (task_lease_released_at IS NOT NULL)), 0) FROM task_timelines"
        " WHERE run_id = ?1 AND iteration = ?2),"
        " (SELECT coalesce(sum((wait_started_at IS NOT NULL) + (wait_completed_at IS NOT NULL) +"
        " (lease_acquired_at IS NOT NULL) + (model_request_started_at IS NOT NULL) +"
        " (model_request_completed_at IS NOT NULL) + (lease_released_at IS NOT NULL)), 0)"
        " FROM request_attempts WHERE run_id = ?1 AND iteration = ?2)",
        run_id, iteration, "counting the lifecycle events", err);
    if (!st) return RES_ESTORE;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t made = sqlite3_column_int64(st, 0);
        int64_t held = sqlite3_column_int64(st, 1) + sqlite3_column_int64(st, 2);
        *missing = made > held ? (uint64_t)(made - held) : 0;
    }
    res_status out = rc == SQLITE_ROW ? RES_OK : fail_db(r, err, "counting the lifecycle events");
    sqlite3_finalize(st);
    return out;
}

#define EVENT_COLUMNS                                                                              \
    "iteration, stream, sequence, kind, captured_at_ns, task_id, execution_id, task_lease_id,"     \
    " request_attempt_id, request_lease_id, resource, reason, value, row_group, column_name"

/* The table of the events stored as rows: event_rows from schema version 9
** (events is then a view), events before. */
static const char *event_rows(const res_store_reader *r) {
    return r->version >= 9 ? "event_rows" : "events";
}

/* The events query as stored.  From schema version 9 the lifecycle events
** of a store keeping every event are packed (store_packs.h): the rows and
** the packs, each pack parsed once (store_unpack.h) rather than once per
** column as the events view does. */
static void stored_events_sql(const res_store_reader *r, FILE *f, const res_event_query *q) {
    fputs("SELECT " EVENT_COLUMNS, f);
    fprintf(f, " FROM %s", event_rows(r));
    res_event_filters_sql(f, q, "", "");
    if (r->version >= 9) {
        fputs(" UNION ALL SELECT p.iteration, p.stream, u.sequence, u.kind, u.captured_at_ns,"
              " u.task_id, u.execution_id, CASE p.stream WHEN 'scheduler' THEN u.lease_id END,"
              " u.request_attempt_id, CASE p.stream WHEN 'request' THEN u.lease_id END,"
              " u.resource, u.reason, u.value, u.row_group, u.column_name FROM event_packs p,"
              " admit_event_pack(p.strings, p.body, p.first_sequence, p.first_ns, p.events) u",
              f);
        res_event_filters_sql(f, q, "p.", "u.");
    }
    fputs(q->order == RES_EVENTS_STREAM_ORDER
              ? " ORDER BY iteration, stream, sequence"
              : " ORDER BY iteration, captured_at_ns, stream DESC, sequence",
          f);
}

res_status res_store_reader_events(res_store_reader *r, const res_event_query *q,
                                   res_store_cursor **out, res_error *err) {
    *out = NULL;
    char *sql = NULL;
    size_t len = 0;
    bool rebuild = false;
    if (lifecycle_missing(r, q, &rebuild, err) != RES_OK) return RES_ESTORE;
    FILE *f = open_memstream(&sql, &len);
    if (!f) return res_store_fail(err, RES_ENOMEM, "%s: out of memory", r->path);
    if (rebuild)
        res_lifecycle_sql(f, q, event_rows(r));
    else
        stored_events_sql(r, f, q);
    if (fclose(f) != 0) {
        free(sql);
        return res_store_fail(err, RES_ENOMEM, "%s: out of memory", r->path);
    }
    sqlite3_stmt *st = NULL;
    int prc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
    free(sql);
    if (prc != SQLITE_OK) return fail_db(r, err, "reading events");
    /* numbered: ?1 run, ?2 iteration, ?3 stream, ?4 resource, ?5... kinds */
    sqlite3_bind_int64(st, 1, q->run_id);
    if (q->iteration >= 0) sqlite3_bind_int64(st, 2, q->iteration);
    if (q->stream) sqlite3_bind_text(st, 3, q->stream, -1, SQLITE_TRANSIENT);
    if (q->resource) sqlite3_bind_text(st, 4, q->resource, -1, SQLITE_TRANSIENT);
    for (size_t k = 0; q->kinds && q->kinds[k]; k++)
        sqlite3_bind_text(st, 5 + (int)k, q->kinds[k], -1, SQLITE_TRANSIENT);
    return cursor_open(r, st, CURSOR_EVENT, out, err);
}

res_cursor_step res_store_cursor_next_event(res_store_cursor *c, res_event_row *row,
                                            res_error *err) {
    res_cursor_step rc = cursor_step(c, CURSOR_EVENT, err);
    if (rc != RES_CURSOR_ROW) return rc;
    sqlite3_stmt *st = c->st;
    *row = (res_event_row){.iteration = sqlite3_column_int64(st, 0),
                           .stream = col_text(st, 1),
                           .sequence = sqlite3_column_int64(st, 2),
                           .kind = col_text(st, 3),
                           .captured_at_ns = sqlite3_column_int64(st, 4),
                           .task_id = col_opt_int(st, 5),
                           .execution_id = col_opt_int(st, 6),
                           .task_lease_id = col_opt_int(st, 7),
                           .request_attempt_id = col_opt_int(st, 8),
                           .request_lease_id = col_opt_int(st, 9),
                           .resource = col_text(st, 10),
                           .reason = col_text(st, 11),
                           .value = col_opt_int(st, 12),
                           .row_group = col_opt_int(st, 13),
                           .column_name = col_text(st, 14)};
    return rc;
}

/* ---- task timelines -------------------------------------------------------- */

res_status res_store_reader_timelines(res_store_reader *r, int64_t run_id, int64_t iteration,
                                      res_store_cursor **out, res_error *err) {
    char sql[1024];
    size_t n = (size_t)snprintf(sql, sizeof sql,
                                "SELECT iteration, task_execution_id, task_id, column_name,"
                                " row_group, worker_attempt, end_state, attempts,"
                                " rate_limited_attempts");
    for (int t = 0; t < RES_TIMELINE_STAMPS; t++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s", res_timeline_stamp_names[t]);
    snprintf(sql + n, sizeof sql - n,
             ", request_wait_ns, cooldown_wait_ns, provider_ns FROM task_timelines"
             " WHERE run_id = ?1%s ORDER BY iteration, task_execution_id",
             iteration >= 0 ? " AND iteration = ?2" : "");
    return cursor_open(r, prepare(r, sql, run_id, iteration, "reading task timelines", err),
                       CURSOR_TIMELINE, out, err);
}

res_cursor_step res_store_cursor_next_timeline(res_store_cursor *c, res_timeline_row *row,
                                               res_error *err) {
    res_cursor_step rc = cursor_step(c, CURSOR_TIMELINE, err);
    if (rc != RES_CURSOR_ROW) return rc;
    sqlite3_stmt *st = c->st;
    *row = (res_timeline_row){.iteration = sqlite3_column_int64(st, 0),
                              .task_execution_id = sqlite3_column_int64(st, 1),
                              .task_id = sqlite3_column_int64(st, 2),
                              .column_name = col_text(st, 3),
                              .row_group = col_opt_int(st, 4),
                              .worker_attempt = col_opt_int(st, 5),
                              .end_state = col_text(st, 6),
                              .attempts = sqlite3_column_int64(st, 7),
                              .rate_limited_attempts = sqlite3_column_int64(st, 8)};
    int col = 9;
    for (int t = 0; t < RES_TIMELINE_STAMPS; t++)
        row->at[t] = col_opt_int(st, col++);
    row->request_wait_ns = sqlite3_column_int64(st, col++);
    row->cooldown_wait_ns = sqlite3_column_int64(st, col++);
    row->provider_ns = sqlite3_column_int64(st, col);
    return rc;
}

/* ---- metrics and snapshots ------------------------------------------------- */

res_status res_store_reader_metrics(res_store_reader *r, int64_t run_id, int64_t iteration,
                                    const char *scope_prefix, res_store_cursor **out,
                                    res_error *err) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT iteration, scope, name, value FROM metrics WHERE run_id = ?1%s%s"
             " ORDER BY iteration, rowid",
             iteration >= 0 ? " AND iteration = ?2" : "",
             scope_prefix ? " AND substr(scope, 1, length(?3)) = ?3" : "");
    sqlite3_stmt *st = prepare(r, sql, run_id, iteration, "reading metrics", err);
    if (st && scope_prefix) sqlite3_bind_text(st, 3, scope_prefix, -1, SQLITE_TRANSIENT);
    return cursor_open(r, st, CURSOR_METRIC, out, err);
}

res_cursor_step res_store_cursor_next_metric(res_store_cursor *c, res_metric_row *row,
                                             res_error *err) {
    res_cursor_step rc = cursor_step(c, CURSOR_METRIC, err);
    if (rc == RES_CURSOR_ROW)
        *row = (res_metric_row){.iteration = sqlite3_column_int64(c->st, 0),
                                .scope = col_text(c->st, 1),
                                .name = col_text(c->st, 2),
                                .value = col_opt_real(c->st, 3)};
    return rc;
}

res_status res_store_reader_metric_stats(res_store_reader *r, int64_t run_id,
                                         res_store_cursor **out, res_error *err) {
    return cursor_open(
        r,
        prepare(r,
                "SELECT scope, name, avg(value), min(value), max(value), count(*) FROM metrics"
                " WHERE run_id = ?1 GROUP BY scope, name"
                " ORDER BY CASE WHEN scope = 'run' THEN 0 ELSE 1 END, scope, min(rowid)",
                run_id, -1, "reading metrics", err),
        CURSOR_METRIC_STATS, out, err);
}

res_cursor_step res_store_cursor_next_metric_stats(res_store_cursor *c, res_metric_stats_row *row,
                                                   res_error *err) {
    res_cursor_step rc = cursor_step(c, CURSOR_METRIC_STATS, err);
    if (rc == RES_CURSOR_ROW)
        *row = (res_metric_stats_row){.scope = col_text(c->st, 0),
                                      .name = col_text(c->st, 1),
                                      .mean = sqlite3_column_double(c->st, 2),
                                      .min = sqlite3_column_double(c->st, 3),
                                      .max = sqlite3_column_double(c->st, 4),
                                      .count = sqlite3_column_int64(c->st, 5)};
    return rc;
}

res_status res_store_reader_snapshots(res_store_reader *r, int64_t run_id, res_store_cursor **out,
                                      res_error *err) {
    return cursor_open(r,
                       prepare(r,
                               "SELECT iteration, kind, json FROM snapshots WHERE run_id = ?1"
                               " ORDER BY iteration, kind",
                               run_id, -1, "reading snapshots", err),
                       CURSOR_SNAPSHOT, out, err);
}

res_cursor_step res_store_cursor_next_snapshot(res_store_cursor *c, res_snapshot_row *row,
                                               res_error *err) {
    res_cursor_step rc = cursor_step(c, CURSOR_SNAPSHOT, err);
    if (rc == RES_CURSOR_ROW)
        *row = (res_snapshot_row){.iteration = sqlite3_column_int64(c->st, 0),
                                  .kind = col_text(c->st, 1),
                                  .json = col_text(c->st, 2)};
    return rc;
}

res_status res_store_reader_capacity_plans(res_store_reader *r, int64_t run_id,
                                           res_store_cursor **out, res_error *err) {
    return cursor_open(r,
                       prepare(r,
                               "SELECT iteration, 'capacity_plan', json FROM capacity_plans"
                               " WHERE run_id = ?1 ORDER BY iteration",
                               run_id, -1, "reading capacity plans", err),
                       CURSOR_SNAPSHOT, out, err);
}

/* ---- experiments --------------------------------------------------------- */

/* Schema 6; an older database has none: a select of no rows with the
** columns' count. */
#define EXPERIMENT_SELECT                                                                          \
    "SELECT e.experiment_id, e.kind, e.scenario_id, e.scenario_file, e.name, e.baseline_arm,"      \
    " e.candidate_arm, e.seeds, e.harness_version, e.command_line, e.created_at, e.finished_at,"   \
    " e.status, e.result_json,"                                                                    \
    " (SELECT count(*) FROM runs r WHERE r.experiment_id = e.experiment_id),"                      \
    " (SELECT count(*) FROM runs r WHERE r.experiment_id = e.experiment_id"                        \
    "  AND r.status = 'complete'),"                                                                \
    " (SELECT count(*) FROM (SELECT DISTINCT arm, parameters FROM runs r"                          \
    "  WHERE r.experiment_id = e.experiment_id)),"                                                 \
    " e.writer_host, e.writer_pid, e.writer_instance, e.heartbeat_at FROM experiments e"
enum { EXPERIMENT_COLUMNS = 21, EXPERIMENT_RUN_COLUMNS = 10 };

#define EXPERIMENT_RUN_SELECT                                                                      \
    "SELECT r.run_id, r.arm, r.seed, r.parameters, r.status, r.iterations,"                        \
    " (SELECT count(*) FROM iterations i WHERE i.run_id = r.run_id), r.writer_host,"               \
    " r.writer_pid, r.writer_instance FROM runs r WHERE r.experiment_id = ?1"                      \
    " ORDER BY r.arm, r.seed, r.run_id"

/* sql, or for a database before schema 6 a select of no rows with as many
** columns. */
static sqlite3_stmt *prepare_experiments(res_store_reader *r, const char *sql, int columns,
                                         int64_t id, const char *what, res_error *err) {
    if (r->version >= 6) return prepare(r, sql, id, -1, what, err);
    char none[512];
    size_t n = (size_t)snprintf(none, sizeof none, "SELECT ?1");
    for (int c = 1; c < columns; c++)
        n += (size_t)snprintf(none + n, sizeof none - n, ", NULL");
    snprintf(none + n, sizeof none - n, " WHERE 0");
    return prepare(r, none, id, -1, what, err);
}

static void experiment_row(sqlite3_stmt *st, res_experiment_row *row) {
    *row = (res_experiment_row){.experiment_id = sqlite3_column_int64(st, 0),
                                .kind = col_text(st, 1),
                                .scenario_id = col_text(st, 2),
                                .scenario_file = col_text(st, 3),
                                .name = col_text(st, 4),
                                .baseline_arm = col_text(st, 5),
                                .candidate_arm = col_text(st, 6),
                                .seeds = sqlite3_column_int64(st, 7),
                                .harness_version = col_text(st, 8),
                                .command_line = col_text(st, 9),
                                .created_at = col_text(st, 10),
                                .finished_at = col_text(st, 11),
                                .status = col_text(st, 12),
                                .result_json = col_text(st, 13),
                                .runs = sqlite3_column_int64(st, 14),
                                .runs_complete = sqlite3_column_int64(st, 15),
                                .arms = sqlite3_column_int64(st, 16),
                                .writer_host = col_text(st, 17),
                                .writer_pid = col_opt_int(st, 18),
                                .writer_instance = col_text(st, 19),
                                .heartbeat_at = col_text(st, 20)};
    writer_state(row->writer_host, row->writer_pid, row->writer_instance, row->status, &row->writer,
                 &row->state);
}

res_status res_store_reader_experiments(res_store_reader *r, res_store_cursor **out,
                                        res_error *err) {
    return cursor_open(r,
                       prepare_experiments(r, EXPERIMENT_SELECT " ORDER BY e.experiment_id",
                                           EXPERIMENT_COLUMNS, 0, "listing experiments", err),
                       CURSOR_EXPERIMENT, out, err);
}

res_cursor_step res_store_cursor_next_experiment(res_store_cursor *c, res_experiment_row *row,
                                                 res_error *err) {
    res_cursor_step rc = cursor_step(c, CURSOR_EXPERIMENT, err);
    if (rc == RES_CURSOR_ROW) experiment_row(c->st, row);
    return rc;
}

res_status res_store_reader_experiment(res_store_reader *r, int64_t experiment_id,
                                       res_experiment_row *row, res_error *err) {
    sqlite3_stmt *st =
        prepare_experiments(r, EXPERIMENT_SELECT " WHERE e.experiment_id = ?1", EXPERIMENT_COLUMNS,
                            experiment_id, "reading an experiment", err);
    char missing[64];
    snprintf(missing, sizeof missing, "no experiment %lld", (long long)experiment_id);
    res_status rc = lookup(r, &r->one_experiment, st, "reading an experiment", missing, err);
    if (rc == RES_OK) experiment_row(st, row);
    return rc;
}

res_status res_store_reader_experiment_runs(res_store_reader *r, int64_t experiment_id,
                                            res_store_cursor **out, res_error *err) {
    return cursor_open(r,
                       prepare_experiments(r, EXPERIMENT_RUN_SELECT, EXPERIMENT_RUN_COLUMNS,
                                           experiment_id, "listing an experiment's runs", err),
                       CURSOR_EXPERIMENT_RUN, out, err);
}

res_cursor_step res_store_cursor_next_experiment_run(res_store_cursor *c,
                                                     res_experiment_run_row *row, res_error *err) {
    res_cursor_step rc = cursor_step(c, CURSOR_EXPERIMENT_RUN, err);
    if (rc != RES_CURSOR_ROW) return rc;
    sqlite3_stmt *st = c->st;
    *row = (res_experiment_run_row){.run_id = sqlite3_column_int64(st, 0),
                                    .arm = col_text(st, 1),
                                    .seed = sqlite3_column_int64(st, 2),
                                    .parameters = col_text(st, 3),
                                    .status = col_text(st, 4),
                                    .iterations = sqlite3_column_int64(st, 5),
                                    .iterations_stored = sqlite3_column_int64(st, 6)};
    res_run_writer writer;
    writer_state(col_text(st, 7), col_opt_int(st, 8), col_text(st, 9), row->status, &writer,
                 &row->state);
    return rc;
}
