#include "res/store.h"
#include "res/capacity_plan.h"
#include "store_error.h"
#include "store_identity.h"
#include "store_int.h"
#include "store_liveness.h"
#include "store_packs.h"
#include "store_txn.h"
#include "res/correlated_view.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admit/request_admission.h"
#include "admit/scheduler.h"
#include "res/artifact.h"
#include "res/event_names.h"
#include "res/request_report.h"
#include "res/spill.h"

/* The columns and key of task_timelines (versions 3 and 8). */
#define TIMELINE_COLUMNS_SQL                                                                       \
    " run_id INTEGER NOT NULL,"                                                                    \
    " iteration INTEGER NOT NULL,"                                                                 \
    " task_execution_id INTEGER NOT NULL,"                                                         \
    " task_id INTEGER NOT NULL,"                                                                   \
    " column_name TEXT,"                                                                           \
    " row_group INTEGER,"                                                                          \
    " worker_attempt INTEGER,"                                                                     \
    " end_state TEXT NOT NULL,"                                                                    \
    " attempts INTEGER NOT NULL,"                                                                  \
    " rate_limited_attempts INTEGER NOT NULL,"                                                     \
    " dependency_ready_at INTEGER, ready_enqueued_at INTEGER, selected_at INTEGER,"                \
    " task_lease_acquired_at INTEGER, worker_spawned_at INTEGER,"                                  \
    " request_wait_started_at INTEGER, request_wait_completed_at INTEGER,"                         \
    " request_lease_acquired_at INTEGER, model_request_started_at INTEGER,"                        \
    " model_request_completed_at INTEGER, request_lease_released_at INTEGER,"                      \
    " task_completed_at INTEGER, task_lease_released_at INTEGER,"                                  \
    " request_wait_ns INTEGER NOT NULL, cooldown_wait_ns INTEGER NOT NULL,"                        \
    " provider_ns INTEGER NOT NULL,"                                                               \
    " PRIMARY KEY (run_id, iteration, task_execution_id)"

/* The columns of event_rows (version 9; events before), in order. */
#define EVENT_VIEW_COLUMNS                                                                         \
    "event_id, run_id, iteration, stream, sequence, kind, captured_at_ns, task_id,"                \
    " execution_id, task_lease_id, request_attempt_id, request_lease_id, resource, reason,"        \
    " value, row_group, column_name, lifecycle"

/* Forward migrations: entry i takes the schema from version i to i + 1.
** A new version is one more entry here and RES_STORE_SCHEMA_VERSION + 1. */
static const char *const migrations[] = {
    /* 1: the base schema */
    "CREATE TABLE runs ("
    " run_id INTEGER PRIMARY KEY,"
    " scenario_id TEXT NOT NULL,"
    " scenario_version INTEGER NOT NULL,"
    " scenario_file TEXT,"
    " policy TEXT NOT NULL,"
    " seed INTEGER NOT NULL,"
    " iterations INTEGER NOT NULL,"
    " harness_version TEXT NOT NULL,"
    " command_line TEXT,"
    " created_at TEXT NOT NULL,"
    " status TEXT NOT NULL);"
    "CREATE TABLE iterations ("
    " run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,"
    " iteration INTEGER NOT NULL,"
    " status TEXT NOT NULL,"
    " wall_time_seconds REAL NOT NULL,"
    " final_task_leases INTEGER NOT NULL,"
    " final_request_leases INTEGER NOT NULL,"
    " final_request_waiters INTEGER NOT NULL,"
    " output_hash TEXT NOT NULL,"
    " PRIMARY KEY (run_id, iteration));"
    "CREATE TABLE events ("
    " run_id INTEGER NOT NULL,"
    " iteration INTEGER NOT NULL,"
    " stream TEXT NOT NULL CHECK (stream IN ('scheduler', 'request')),"
    " sequence INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " captured_at_ns INTEGER NOT NULL,"
    " task_id INTEGER,"
    " execution_id INTEGER,"
    " task_lease_id INTEGER,"
    " request_attempt_id INTEGER,"
    " request_lease_id INTEGER,"
    " resource TEXT,"
    " reason TEXT,"
    " value INTEGER,"
    " row_group INTEGER,"
    " column_name TEXT,"
    " PRIMARY KEY (run_id, iteration, stream, sequence),"
    " FOREIGN KEY (run_id, iteration) REFERENCES iterations(run_id, iteration)"
    " ON DELETE CASCADE) WITHOUT ROWID;"
    "CREATE INDEX events_by_kind ON events(run_id, kind);"
    "CREATE INDEX events_by_resource ON events(run_id, resource) WHERE resource IS NOT NULL;"
    "CREATE INDEX events_by_time ON events(run_id, captured_at_ns);"
    "CREATE TABLE metrics ("
    " run_id INTEGER NOT NULL,"
    " iteration INTEGER NOT NULL,"
    " scope TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " value REAL,"
    " FOREIGN KEY (run_id, iteration) REFERENCES iterations(run_id, iteration)"
    " ON DELETE CASCADE);"
    "CREATE INDEX metrics_by_name ON metrics(run_id, name);"
    "CREATE TABLE snapshots ("
    " run_id INTEGER NOT NULL,"
    " iteration INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('final_task', 'final_request')),"
    " json TEXT NOT NULL,"
    " PRIMARY KEY (run_id, iteration, kind),"
    " FOREIGN KEY (run_id, iteration) REFERENCES iterations(run_id, iteration)"
    " ON DELETE CASCADE);",
    /* 2: per-iteration event counts (back-filled), when a run finished, and
    ** metrics by scope (e.g. every figure of one request resource). */
    "ALTER TABLE iterations ADD COLUMN event_count INTEGER;"
    "UPDATE iterations SET event_count = (SELECT count(*) FROM events e"
    " WHERE e.run_id = iterations.run_id AND e.iteration = iterations.iteration);"
    "ALTER TABLE runs ADD COLUMN finished_at TEXT;"
    "CREATE INDEX metrics_by_scope ON metrics(run_id, scope, name);",
    /* 3: the CorrelatedRuntimeView's task timelines (one row per task
    ** execution, the thirteen SPEC §5 timestamps in ns, NULL when absent) and
    ** the AsyncCapacityPlan of each iteration. */
    "CREATE TABLE task_timelines (" TIMELINE_COLUMNS_SQL ","
    " FOREIGN KEY (run_id, iteration) REFERENCES iterations(run_id, iteration)"
    " ON DELETE CASCADE) WITHOUT ROWID;"
    "CREATE INDEX task_timelines_by_column ON task_timelines(run_id, column_name);"
    "CREATE TABLE capacity_plans ("
    " run_id INTEGER NOT NULL,"
    " iteration INTEGER NOT NULL,"
    " json TEXT NOT NULL,"
    " PRIMARY KEY (run_id, iteration),"
    " FOREIGN KEY (run_id, iteration) REFERENCES iterations(run_id, iteration)"
    " ON DELETE CASCADE);",
    /* 4: events become a rowid table in capture order (event_id), so a run
    ** appends to the table and to its (run, iteration, time) index, which
    ** replaces the primary key and the time index.  Each further per-event
    ** index cost ~1.3 us an event on the reference machine (more than the
    ** row itself), so by kind and by resource only the notable events are
    ** indexed: those not of the thirteen lifecycle kinds (column lifecycle
    ** = 1; ~90% of all events), whose times are the SPEC §5 timestamps and
    ** so are columns of task_timelines, one row per execution.  The
    ** notable_events view carries the partial indexes' WHERE, so SQLite
    ** uses them for "kind = ?" or "resource = ?" on the view; lifecycle
    ** events of one run are reached through the run's time index.  The
    ** per-row foreign key check becomes a delete trigger. */
    "CREATE TABLE events_v4 ("
    " event_id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL,"
    " iteration INTEGER NOT NULL,"
    " stream TEXT NOT NULL CHECK (stream IN ('scheduler', 'request')),"
    " sequence INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " captured_at_ns INTEGER NOT NULL,"
    " task_id INTEGER,"
    " execution_id INTEGER,"
    " task_lease_id INTEGER,"
    " request_attempt_id INTEGER,"
    " request_lease_id INTEGER,"
    " resource TEXT,"
    " reason TEXT,"
    " value INTEGER,"
    " row_group INTEGER,"
    " column_name TEXT,"
    " lifecycle INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO events_v4 (run_id, iteration, stream, sequence, kind, captured_at_ns, task_id,"
    " execution_id, task_lease_id, request_attempt_id, request_lease_id, resource, reason,"
    " value, row_group, column_name)"
    " SELECT run_id, iteration, stream, sequence, kind, captured_at_ns, task_id, execution_id,"
    " task_lease_id, request_attempt_id, request_lease_id, resource, reason, value, row_group,"
    " column_name FROM events"
    " ORDER BY run_id, iteration, captured_at_ns, stream DESC, sequence;"
    "UPDATE events_v4 SET lifecycle = 1 WHERE kind IN ('dependency_ready', 'ready_enqueued',"
    " 'selected', 'task_lease_acquired', 'worker_spawned', 'task_completed',"
    " 'task_lease_released', 'request_wait_started', 'request_wait_completed',"
    " 'request_lease_acquired', 'model_request_started', 'model_request_completed',"
    " 'request_lease_released');"
    "DROP TABLE events;"
    /* legacy: a user's views over events must not be re-checked while
    ** events is briefly missing; they read the new table afterwards */
    "PRAGMA legacy_alter_table = ON;"
    "ALTER TABLE events_v4 RENAME TO events;"
    "PRAGMA legacy_alter_table = OFF;"
    "CREATE INDEX events_by_run_time ON events(run_id, iteration, captured_at_ns);"
    "CREATE INDEX events_by_notable_kind ON events(kind, run_id) WHERE lifecycle = 0;"
    "CREATE INDEX events_by_notable_resource ON events(resource, run_id)"
    " WHERE lifecycle = 0 AND resource IS NOT NULL;"
    "CREATE VIEW notable_events AS SELECT * FROM events WHERE lifecycle = 0;"
    "CREATE TRIGGER iterations_delete_events AFTER DELETE ON iterations BEGIN"
    " DELETE FROM events WHERE run_id = old.run_id AND iteration = old.iteration; END;",
    /* 5: who writes a run (store_liveness.h), so that a run whose writer
    ** died reads 'abandoned' rather than 'running' forever, and when it last
    ** wrote.  Runs stored before have none of it. */
    "ALTER TABLE runs ADD COLUMN writer_host TEXT;"
    "ALTER TABLE runs ADD COLUMN writer_pid INTEGER;"
    "ALTER TABLE runs ADD COLUMN writer_instance TEXT;"
    "ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;",
    /* 6: experiments (SPEC §10): an A/B experiment's arms paired by seed,
    ** or a sweep's points, each run of one arm or point a runs row that
    ** names its experiment, its arm and its parameters (the arm's overrides
    ** or the point's values, a JSON object).  An experiment has a writer
    ** and a heartbeat like a run, and its verdict (result_json) once it
    ** finished.  Runs stored before belong to no experiment. */
    "CREATE TABLE experiments ("
    " experiment_id INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('ab', 'sweep')),"
    " scenario_id TEXT NOT NULL,"
    " scenario_file TEXT,"
    " name TEXT,"
    " baseline_arm TEXT,"
    " candidate_arm TEXT,"
    " seeds INTEGER NOT NULL,"
    " harness_version TEXT NOT NULL,"
    " command_line TEXT,"
    " created_at TEXT NOT NULL,"
    " finished_at TEXT,"
    " status TEXT NOT NULL,"
    " result_json TEXT CHECK (result_json IS NULL OR json_valid(result_json)),"
    " writer_host TEXT,"
    " writer_pid INTEGER,"
    " writer_instance TEXT,"
    " heartbeat_at TEXT);"
    "ALTER TABLE runs ADD COLUMN experiment_id INTEGER REFERENCES experiments(experiment_id);"
    "ALTER TABLE runs ADD COLUMN arm TEXT;"
    "ALTER TABLE runs ADD COLUMN parameters TEXT"
    " CHECK (parameters IS NULL OR json_type(parameters) = 'object');"
    "CREATE INDEX runs_by_experiment ON runs(experiment_id, arm, seed);",
    /* 7: merging is idempotent.  A store has an identity (store_identity:
    ** one random uuid, given when it gets this version), and a run merged
    ** from another store remembers where it was first written (source:
    ** "<uuid>/<run id>" of that store; NULL for a run written here), so
    ** that merging the same runs again finds them and skips them.  An
    ** experiment may also be a capacity search ('search').  SQLite cannot
    ** change a CHECK constraint in place: experiments is rebuilt (runs
    ** refers to it, so this migration runs with foreign keys off and checks
    ** them before it commits). */
    "CREATE TABLE store_identity (uuid TEXT NOT NULL);"
    "INSERT INTO store_identity VALUES (lower(hex(randomblob(16))));"
    "ALTER TABLE runs ADD COLUMN source TEXT;"
    "CREATE UNIQUE INDEX runs_by_source ON runs(source) WHERE source IS NOT NULL;"
    "CREATE TABLE experiments_v7 ("
    " experiment_id INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('ab', 'sweep', 'search')),"
    " scenario_id TEXT NOT NULL,"
    " scenario_file TEXT,"
    " name TEXT,"
    " baseline_arm TEXT,"
    " candidate_arm TEXT,"
    " seeds INTEGER NOT NULL,"
    " harness_version TEXT NOT NULL,"
    " command_line TEXT,"
    " created_at TEXT NOT NULL,"
    " finished_at TEXT,"
    " status TEXT NOT NULL,"
    " result_json TEXT CHECK (result_json IS NULL OR json_valid(result_json)),"
    " writer_host TEXT,"
    " writer_pid INTEGER,"
    " writer_instance TEXT,"
    " heartbeat_at TEXT);"
    "INSERT INTO experiments_v7 SELECT experiment_id, kind, scenario_id, scenario_file, name,"
    " baseline_arm, candidate_arm, seeds, harness_version, command_line, created_at,"
    " finished_at, status, result_json, writer_host, writer_pid, writer_instance, heartbeat_at"
    " FROM experiments ORDER BY experiment_id;"
    "DROP TABLE experiments;"
    "ALTER TABLE experiments_v7 RENAME TO experiments;",
    /* 8: the default store keeps only the notable events (those not of
    ** the thirteen lifecycle kinds).  The scheduler's lifecycle times are
    ** columns of task_timelines; request_attempts keeps the request
    ** stream's six lifecycle events, one row per attempt: each one's time
    ** and sequence (NULL when it never came), the lease, the outcome of the
    ** call (else of the release), whether a request_rate_limited named the
    ** attempt, and the in-flight count the lease events carry -- so the
    ** readers rebuild those events exactly.  It is back-filled from the
    ** events of the runs already stored (which kept every event).
    ** iterations.events_stored counts the events rows of an iteration
    ** (event_count keeps counting the events it made).  Appending rows is
    ** the cost of a store (task_timelines rows are most of it): neither
    ** table has a secondary index or a per-row foreign key check (a delete
    ** trigger instead: task_timelines is rebuilt without its foreign key,
    ** ~6% of a default store of heavy_root_peer_arrival x100 in callgrind
    ** instructions), and task_timelines loses its (run, column) index,
    ** which cost ~25% (a query by column scans the run's rows). */
    "CREATE TABLE request_attempts ("
    " run_id INTEGER NOT NULL,"
    " iteration INTEGER NOT NULL,"
    " request_attempt_id INTEGER NOT NULL,"
    " task_execution_id INTEGER,"
    " task_id INTEGER,"
    " resource TEXT,"
    " request_lease_id INTEGER,"
    " outcome TEXT,"
    " rate_limited INTEGER NOT NULL,"
    " wait_started_at INTEGER,"
    " wait_completed_at INTEGER,"
    " lease_acquired_at INTEGER,"
    " model_request_started_at INTEGER,"
    " model_request_completed_at INTEGER,"
    " lease_released_at INTEGER,"
    " wait_started_sequence INTEGER,"
    " wait_completed_sequence INTEGER,"
    " lease_acquired_sequence INTEGER,"
    " model_request_started_sequence INTEGER,"
    " model_request_completed_sequence INTEGER,"
    " lease_released_sequence INTEGER,"
    " in_flight_acquired INTEGER,"
    " in_flight_released INTEGER,"
    " PRIMARY KEY (run_id, iteration, request_attempt_id)) WITHOUT ROWID;"
    "CREATE TRIGGER iterations_delete_request_attempts AFTER DELETE ON iterations BEGIN"
    " DELETE FROM request_attempts WHERE run_id = old.run_id AND iteration = old.iteration; END;"
    "INSERT INTO request_attempts SELECT run_id, iteration, request_attempt_id,"
    " max(execution_id), max(task_id), max(resource), max(request_lease_id),"
    " coalesce(max(CASE kind WHEN 'model_request_completed' THEN reason END),"
    " max(CASE kind WHEN 'request_lease_released' THEN reason END)),"
    " max(kind = 'request_rate_limited'),"
    " max(CASE kind WHEN 'request_wait_started' THEN captured_at_ns END),"
    " max(CASE kind WHEN 'request_wait_completed' THEN captured_at_ns END),"
    " max(CASE kind WHEN 'request_lease_acquired' THEN captured_at_ns END),"
    " max(CASE kind WHEN 'model_request_started' THEN captured_at_ns END),"
    " max(CASE kind WHEN 'model_request_completed' THEN captured_at_ns END),"
    " max(CASE kind WHEN 'request_lease_released' THEN captured_at_ns END),"
    " max(CASE kind WHEN 'request_wait_started' THEN sequence END),"
    " max(CASE kind WHEN 'request_wait_completed' THEN sequence END),"
    " max(CASE kind WHEN 'request_lease_acquired' THEN sequence END),"
    " max(CASE kind WHEN 'model_request_started' THEN sequence END),"
    " max(CASE kind WHEN 'model_request_completed' THEN sequence END),"
    " max(CASE kind WHEN 'request_lease_released' THEN sequence END),"
    " max(CASE kind WHEN 'request_lease_acquired' THEN value END),"
    " max(CASE kind WHEN 'request_lease_released' THEN value END)"
    " FROM events WHERE stream = 'request' AND request_attempt_id IS NOT NULL AND kind IN ("
    "'request_wait_started', 'request_wait_completed', 'request_lease_acquired',"
    " 'model_request_started', 'model_request_completed', 'request_lease_released',"
    " 'request_rate_limited')"
    " GROUP BY run_id, iteration, request_attempt_id;"
    "ALTER TABLE iterations ADD COLUMN events_stored INTEGER;"
    "UPDATE iterations SET events_stored = (SELECT count(*) FROM events e"
    " WHERE e.run_id = iterations.run_id AND e.iteration = iterations.iteration);"
    "DROP INDEX task_timelines_by_column;"
    "CREATE TABLE task_timelines_v8 (" TIMELINE_COLUMNS_SQL ") WITHOUT ROWID;"
    "INSERT INTO task_timelines_v8 SELECT * FROM task_timelines"
    " ORDER BY run_id, iteration, task_execution_id;"
    "DROP TABLE task_timelines;"
    "PRAGMA legacy_alter_table = ON;"
    "ALTER TABLE task_timelines_v8 RENAME TO task_timelines;"
    "PRAGMA legacy_alter_table = OFF;"
    "CREATE TRIGGER iterations_delete_task_timelines AFTER DELETE ON iterations BEGIN"
    " DELETE FROM task_timelines WHERE run_id = old.run_id AND iteration = old.iteration; END;",
    /* 9: a store keeping every event packs the lifecycle ones, up to 4,096
    ** consecutive events of one stream a row of event_packs (their format:
    ** store_packs.h), instead of a row each: appending ~90% of the events
    ** as rows with the run/time index was most of such a store's cost.  The
    ** table events becomes event_rows (the notable events; the lifecycle
    ** ones of the runs stored before stay there, lifecycle = 1), and
    ** events a view of both, so SQL reads every event as before (without
    ** an event_id for a packed one).  Renamed in legacy mode so that a
    ** user's view over events reads the new view; notable_events and the
    ** delete trigger are made again over event_rows.  The view uses
    ** json_extract, not ->> (syntax from SQLite 3.38), so that an older
    ** SQLite library still opens the database (and reads the view where
    ** it has JSON1). */
    "PRAGMA legacy_alter_table = ON;"
    "ALTER TABLE events RENAME TO event_rows;"
    "PRAGMA legacy_alter_table = OFF;"
    "DROP VIEW IF EXISTS notable_events;"
    "CREATE VIEW notable_events AS SELECT * FROM event_rows WHERE lifecycle = 0;"
    "DROP TRIGGER IF EXISTS iterations_delete_events;"
    "CREATE TRIGGER iterations_delete_event_rows AFTER DELETE ON iterations BEGIN"
    " DELETE FROM event_rows WHERE run_id = old.run_id AND iteration = old.iteration; END;"
    "CREATE TABLE event_packs ("
    " pack_id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL,"
    " iteration INTEGER NOT NULL,"
    " stream TEXT NOT NULL CHECK (stream IN ('scheduler', 'request')),"
    " first_sequence INTEGER NOT NULL,"
    " first_ns INTEGER NOT NULL,"
    " events INTEGER NOT NULL,"
    " strings TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " UNIQUE (run_id, iteration, stream, first_sequence));"
    "CREATE TRIGGER iterations_delete_event_packs AFTER DELETE ON iterations BEGIN"
    " DELETE FROM event_packs WHERE run_id = old.run_id AND iteration = old.iteration; END;"
    /* the packed half casts like the table's columns, so that a comparison
    ** with text converts as it did against a row */
    "CREATE VIEW events AS SELECT " EVENT_VIEW_COLUMNS " FROM event_rows UNION ALL"
    " SELECT CAST(NULL AS INTEGER), p.run_id, p.iteration, p.stream,"
    " CAST(p.first_sequence + json_extract(e.value, '$[0]') AS INTEGER),"
    " CAST(json_extract(p.strings, '$[' || json_extract(e.value, '$[1]') || ']') AS TEXT),"
    " CAST(p.first_ns + json_extract(e.value, '$[2]') AS INTEGER),"
    " CAST(nullif(json_extract(e.value, '$[3]'), 0) AS INTEGER),"
    " CAST(nullif(json_extract(e.value, '$[4]'), 0) AS INTEGER),"
    " CAST(CASE p.stream WHEN 'scheduler' THEN nullif(json_extract(e.value, '$[5]'), 0) END"
    " AS INTEGER),"
    " CAST(nullif(json_extract(e.value, '$[11]'), 0) AS INTEGER),"
    " CAST(CASE p.stream WHEN 'request' THEN nullif(json_extract(e.value, '$[5]'), 0) END"
    " AS INTEGER),"
    " CAST(json_extract(p.strings, '$[' || (nullif(json_extract(e.value, '$[9]'), 0) - 1) || ']')"
    " AS TEXT),"
    " CAST(json_extract(p.strings, '$[' || (nullif(json_extract(e.value, '$[10]'), 0) - 1) ||"
    " ']') AS TEXT),"
    " CAST(coalesce(json_extract(e.value, '$[6]'), 0) AS INTEGER),"
    " CAST(nullif(json_extract(e.value, '$[7]'), 0) - 1 AS INTEGER),"
    " CAST(json_extract(p.strings, '$[' || (nullif(json_extract(e.value, '$[8]'), 0) - 1) || ']')"
    " AS TEXT), CAST(1 AS INTEGER)"
    " FROM event_packs p, json_each(p.body) e;"
    /* What wrote to the table events writes to event_rows (a writer of
    ** version 8 still running, a user's own statements and triggers); a
    ** packed event goes with its iteration only. */
    "CREATE TRIGGER events_insert INSTEAD OF INSERT ON events BEGIN"
    " INSERT INTO event_rows (" EVENT_VIEW_COLUMNS ") VALUES (new.event_id, new.run_id,"
    " new.iteration, new.stream, new.sequence, new.kind, new.captured_at_ns, new.task_id,"
    " new.execution_id, new.task_lease_id, new.request_attempt_id, new.request_lease_id,"
    " new.resource, new.reason, new.value, new.row_group, new.column_name,"
    " coalesce(new.lifecycle, 0)); END;"
    "CREATE TRIGGER events_update INSTEAD OF UPDATE ON events BEGIN"
    " SELECT RAISE(ABORT, 'a packed event (schema version 9) cannot be changed')"
    " WHERE old.event_id IS NULL;"
    " UPDATE event_rows SET event_id = new.event_id, run_id = new.run_id,"
    " iteration = new.iteration, stream = new.stream, sequence = new.sequence, kind = new.kind,"
    " captured_at_ns = new.captured_at_ns, task_id = new.task_id,"
    " execution_id = new.execution_id, task_lease_id = new.task_lease_id,"
    " request_attempt_id = new.request_attempt_id, request_lease_id = new.request_lease_id,"
    " resource = new.resource, reason = new.reason, value = new.value,"
    " row_group = new.row_group, column_name = new.column_name, lifecycle = new.lifecycle"
    " WHERE event_id = old.event_id; END;"
    "CREATE TRIGGER events_delete INSTEAD OF DELETE ON events BEGIN"
    " SELECT RAISE(ABORT, 'a packed event (schema version 9) is deleted with its iteration:"
    " DELETE FROM iterations') WHERE old.event_id IS NULL;"
    " DELETE FROM event_rows WHERE event_id = old.event_id; END;",
};

/* The migrations that rebuild a table another table refers to: they run
** with foreign keys off (SQLite's way to rebuild a table: the drop would
** otherwise delete the parent rows) and commit only when
** PRAGMA foreign_key_check finds nothing. */
static bool rebuilds_parent(int version) {
    return version == 6;
}

_Static_assert(sizeof migrations / sizeof *migrations == RES_STORE_SCHEMA_VERSION,
               "one migration per schema version");

enum {
    ST_ITERATION,
    ST_EVENT,
    ST_EVENT_BATCH,
    ST_METRIC,
    ST_SNAPSHOT,
    ST_TIMELINE,
    ST_TIMELINE_BATCH,
    ST_PLAN,
    ST_ATTEMPT,
    ST_ATTEMPT_BATCH,
    ST_PACK,
    ST_COMPLETE,
    ST_COUNT
};

/* Events, task timelines and request attempts go in many rows per
** statement: one VDBE program run per batch instead of per row (about a
** third of the cost of a row).  Columns 1 and 2 of every row (run,
** iteration) are bound once per iteration; a tail shorter than a batch goes
** one row at a time.  (64 timeline rows a statement rather than 16: ~2% of
** a default store.)
** They say OR FAIL: a many-row statement in ABORT mode (the default) makes
** SQLite keep a statement journal to undo the statement alone, a temporary
** file past 64 KiB (about 20,000 page writes for an x100 run), and that undo
** is never needed: a failure rolls the whole iteration back
** (res_store_in_transaction; tests/test_store_batches.c). */
enum {
    EVENT_COLUMNS = 17,
    EVENT_BATCH = 32,
    TIMELINE_COLUMNS = 26,
    TIMELINE_BATCH = 64,
    ATTEMPT_COLUMNS = 23,
    ATTEMPT_BATCH = 16
};
#define EVENT_INSERT                                                                               \
    "INSERT OR FAIL INTO event_rows (run_id, iteration, stream, sequence, kind, captured_at_ns,"   \
    " task_id, execution_id, task_lease_id, request_attempt_id, request_lease_id, resource,"       \
    " reason, value, row_group, column_name, lifecycle) VALUES "

#define TIMELINE_INSERT "INSERT OR FAIL INTO task_timelines VALUES "
#define ATTEMPT_INSERT  "INSERT OR FAIL INTO request_attempts VALUES "

/* sql as is, or with columns > 0 sql followed by rows "(?, ...)" groups */
static const struct {
    const char *sql;
    int columns, rows;
} statements[ST_COUNT] = {
    [ST_ITERATION] = {.sql = "INSERT INTO iterations (run_id, iteration, status, wall_time_seconds,"
                             " final_task_leases, final_request_leases, final_request_waiters,"
                             " output_hash, event_count, events_stored)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
    [ST_EVENT] = {.sql = EVENT_INSERT, .columns = EVENT_COLUMNS, .rows = 1},
    [ST_EVENT_BATCH] = {.sql = EVENT_INSERT, .columns = EVENT_COLUMNS, .rows = EVENT_BATCH},
    [ST_METRIC] = {.sql = "INSERT INTO metrics VALUES (?, ?, ?, ?, ?)"},
    [ST_SNAPSHOT] = {.sql = "INSERT INTO snapshots VALUES (?, ?, ?, ?)"},
    [ST_TIMELINE] = {.sql = TIMELINE_INSERT, .columns = TIMELINE_COLUMNS, .rows = 1},
    [ST_TIMELINE_BATCH] = {.sql = TIMELINE_INSERT,
                           .columns = TIMELINE_COLUMNS,
                           .rows = TIMELINE_BATCH},
    [ST_PLAN] = {.sql = "INSERT INTO capacity_plans VALUES (?, ?, ?)"},
    [ST_ATTEMPT] = {.sql = ATTEMPT_INSERT, .columns = ATTEMPT_COLUMNS, .rows = 1},
    [ST_ATTEMPT_BATCH] = {.sql = ATTEMPT_INSERT, .columns = ATTEMPT_COLUMNS, .rows = ATTEMPT_BATCH},
    [ST_PACK] = {.sql = "INSERT OR FAIL INTO event_packs (run_id, iteration, stream,"
                        " first_sequence, first_ns, events, strings, body)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"},
    [ST_COMPLETE] = {.sql =
                         "UPDATE runs SET status = 'complete', finished_at = ?2 WHERE run_id = ?1"
                         " AND status = 'running' AND (SELECT count(*) FROM iterations i"
                         " WHERE i.run_id = ?1) >= iterations"},
};

struct res_store {
    sqlite3 *db;
    res_store_txn txn; /* write transactions: waits for the lock */
    int version;
    int found_version; /* before migrating */
    sqlite3_stmt *stmt[ST_COUNT];
    res_event_keep keep; /* which events an iteration stores */
    char path[1024];
};

static res_status fail_db(res_store *s, res_error *err, const char *what) {
    return res_store_fail_db(err, s->db, s->path, what);
}

static res_status exec(res_store *s, const char *sql, const char *what, res_error *err) {
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK) return RES_OK;
    res_store_fail(err, RES_ESTORE, "%s: %s: %s", s->path, what, msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return RES_ESTORE;
}

void res_store_utc_now(char *buf, size_t len) {
    time_t now = time(NULL);
    struct tm tm;
    buf[0] = '\0';
    if (gmtime_r(&now, &tm)) strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int mkdir_parents(const char *path) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(dir, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static res_status read_version(res_store *s, int *version, res_error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "reading the schema version");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? RES_OK : fail_db(s, err, "reading the schema version");
}

static res_status foreign_keys(res_store *s, bool on, res_error *err) {
    return exec(s, on ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF",
                "switching foreign keys", err);
}

/* RES_OK when no row breaks a foreign key. */
static res_status check_foreign_keys(res_store *s, const char *what, res_error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM pragma_foreign_key_check", -1, &st, NULL) !=
        SQLITE_OK)
        return fail_db(s, err, what);
    int rc = sqlite3_step(st);
    int64_t broken = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    if (broken == 0) return RES_OK;
    if (broken < 0) return fail_db(s, err, what);
    return res_store_fail(err, RES_ESTORE, "%s: %s: %lld rows break a foreign key", s->path, what,
                          (long long)broken);
}

static res_status migrate(res_store *s, int target, res_error *err) {
    int version;
    if (read_version(s, &version, err) != RES_OK) return RES_ESTORE;
    if (version > RES_STORE_SCHEMA_VERSION)
        return res_store_fail(
            err, RES_ETOONEW,
            "%s: database schema version %d is newer than this admitsim supports (%d); "
            "use a newer admitsim or another --db",
            s->path, version, RES_STORE_SCHEMA_VERSION);
    while (version < target) {
        /* (outside a transaction: SQLite ignores the pragma inside one) */
        if (rebuilds_parent(version) && foreign_keys(s, false, err) != RES_OK) return RES_ESTORE;
        if (res_store_txn_begin(&s->txn) != SQLITE_OK)
            return fail_db(s, err, "starting a migration");
        /* Re-read under the write lock: another process may have migrated. */
        if (read_version(s, &version, err) != RES_OK) goto rollback;
        if (version >= target) {
            exec(s, "COMMIT", "committing", err);
            break;
        }
        char what[64], sql[256];
        snprintf(what, sizeof what, "migrating to schema version %d", version + 1);
        snprintf(sql, sizeof sql,
                 "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                 " applied_at TEXT NOT NULL);"
                 "INSERT INTO schema_migrations VALUES (%d, strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ'));"
                 "PRAGMA user_version = %d;",
                 version + 1, version + 1);
        if (exec(s, migrations[version], what, err) != RES_OK ||
            exec(s, sql, what, err) != RES_OK ||
            (rebuilds_parent(version) && check_foreign_keys(s, what, err) != RES_OK) ||
            exec(s, "COMMIT", what, err) != RES_OK)
            goto rollback;
        version++;
        if (rebuilds_parent(version - 1) && foreign_keys(s, true, err) != RES_OK) return RES_ESTORE;
    }
    s->version = version;
    return RES_OK;
rollback:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    foreign_keys(s, true, NULL);
    return RES_ESTORE;
}

static res_status abandon_dead_writers(res_store *s, res_error *err);

/* Before anything is written: the file must be empty or an admitsim
** database this binary can migrate, and writable. */
static res_status check_identity(res_store *s, res_error *err) {
    res_store_identity identity;
    int version, sqlite_rc;
    res_status rc = res_store_identify(s->db, s->path, &identity, &version, &sqlite_rc, err);
    /* a WAL database whose -shm cannot be created reads as read-only */
    if (rc != RES_OK && (sqlite_rc & 0xff) != SQLITE_READONLY) return rc;
    s->found_version = version;
    if (rc != RES_OK || sqlite3_db_readonly(s->db, "main") == 1)
        return res_store_fail(err, RES_ESTORE,
                              "%s: cannot write it: the file or its directory is read-only (the "
                              "read commands can still read it)",
                              s->path);
    return RES_OK;
}

/* Opens s->path for writing (the store allocated, its path set). */
static res_status open_store(res_store *s, int flags, int target_version, res_error *err) {
    const char *path = s->path;
    struct stat sb;
    if (!(flags & RES_STORE_OPEN_CREATE) && stat(path, &sb) != 0)
        return res_store_fail(err, RES_ENOTFOUND, "%s: no such results database (%s)", path,
                              strerror(errno));
    if ((flags & RES_STORE_OPEN_CREATE) && mkdir_parents(path) != 0)
        return res_store_fail(err, RES_ESTORE, "%s: cannot create its directory: %s", path,
                              strerror(errno));
    /* by URI, so that res_store_merge can attach another database read-only */
    int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI |
                 ((flags & RES_STORE_OPEN_CREATE) ? SQLITE_OPEN_CREATE : 0);
    char uri[4200];
    res_store_uri(uri, sizeof uri, path, NULL);
    if (sqlite3_open_v2(uri, &s->db, oflags, NULL) != SQLITE_OK)
        return res_store_fail(err, RES_ESTORE, "%s: cannot open: %s", path,
                              s->db ? sqlite3_errmsg(s->db) : "out of memory");
    res_store_txn_init(&s->txn, s->db);
    res_status rc;
    if ((rc = check_identity(s, err)) ||
        /* a new database gets 16 KiB pages (fewer page splits and cells
        ** per row stored: ~4% of a default store's instructions) */
        (rc =
             exec(s, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL", "setting WAL mode", err)) ||
        (rc =
             exec(s, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-131072",
                  "setting pragmas", err)) ||
        (rc = migrate(s, target_version, err)))
        return rc;
    return s->version == RES_STORE_SCHEMA_VERSION ? abandon_dead_writers(s, err) : RES_OK;
}

res_status res_store_open_version(const char *path, int flags, int target_version, res_store **out,
                                  res_error *err) {
    *out = NULL;
    if (!res_store_names_file(path, err)) return RES_EINVAL;
    res_store *s = calloc(1, sizeof *s);
    if (!s) return res_store_fail(err, RES_ENOMEM, "%s: out of memory", path);
    snprintf(s->path, sizeof s->path, "%s", path);
    res_status rc = open_store(s, flags, target_version, err);
    if (rc != RES_OK) {
        res_store_close(s);
        return rc;
    }
    *out = s;
    return RES_OK;
}

res_status res_store_open(const char *path, int flags, res_store **out, res_error *err) {
    return res_store_open_version(path, flags, RES_STORE_SCHEMA_VERSION, out, err);
}

void res_store_close(res_store *s) {
    if (!s) return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close(s->db);
    free(s);
}

int res_store_schema_version(const res_store *s) {
    return s->version;
}

int res_store_found_version(const res_store *s) {
    return s->found_version;
}

void res_store_keep_events(res_store *s, res_event_keep keep) {
    s->keep = keep;
}

void res_store_on_lock_wait(res_store *s, res_store_wait_fn fn, void *ctx) {
    s->txn.on_wait = fn;
    s->txn.on_wait_ctx = ctx;
}

res_store_lock_waits res_store_lock_wait_stats(const res_store *s) {
    return s->txn.stats;
}

sqlite3 *res_store_db(const res_store *s) {
    return s->db;
}

const char *res_store_path(const res_store *s) {
    return s->path;
}

res_status res_store_check_current(const res_store *s, res_error *err) {
    if (s->version == RES_STORE_SCHEMA_VERSION) return RES_OK;
    return res_store_fail(err, RES_ESTORE, "%s: schema version %d is not the current one (%d)",
                          s->path, s->version, RES_STORE_SCHEMA_VERSION);
}

res_status res_store_check_json(const res_store *s, const char *text, bool object_only,
                                const char *what, res_error *err) {
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    bool parsed = j != NULL, ok = parsed && (!object_only || json_is_object(j));
    json_decref(j);
    if (ok) return RES_OK;
    if (parsed)
        return res_store_fail(err, RES_EINVAL, "%s: %s must be a JSON object, got '%.80s'", s->path,
                              what, text);
    return res_store_fail(err, RES_EINVAL, "%s: %s is not JSON: %s (line %d, column %d)", s->path,
                          what, jerr.text, jerr.line, jerr.column);
}

/* ---- runs and their writers ------------------------------------------------ */

/* Runs fn(s, arg, err) in a write transaction, waiting for the lock as long
** as it takes.  A transaction that meets SQLITE_BUSY anyway (a stale WAL
** snapshot) is rolled back and run again, a few times; any other failure
** rolls back and keeps fn's message. */
res_status res_store_in_transaction(res_store *s, res_store_txn_fn fn, void *arg, const char *what,
                                    res_error *err) {
    enum { ATTEMPTS = 8 };
    for (int attempt = 1;; attempt++) {
        res_status rc =
            res_store_txn_begin(&s->txn) == SQLITE_OK ? fn(s, arg, err) : fail_db(s, err, what);
        if (rc == RES_OK && res_store_txn_commit(&s->txn) != SQLITE_OK) rc = fail_db(s, err, what);
        if (rc == RES_OK) return rc;
        bool busy = rc == RES_ESTORE && (sqlite3_errcode(s->db) & 0xff) == SQLITE_BUSY;
        res_store_txn_rollback(&s->txn);
        if (!busy || attempt == ATTEMPTS) return rc;
    }
}

/* Runs sql (parameters: ?1 the row's id, ?2 now, ?3 text) once; *changes rows. */
static res_status update_run(res_store *s, const char *sql, int64_t run_id, const char *text,
                             const char *what, int *changes, res_error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return fail_db(s, err, what);
    char now[64];
    res_store_utc_now(now, sizeof now);
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
    if (text) sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return fail_db(s, err, what);
    if (changes) *changes = sqlite3_changes(s->db);
    return RES_OK;
}

/* The writer's heartbeat: when it last wrote the run. */
static res_status touch_run(res_store *s, int64_t run_id, res_error *err) {
    return update_run(s, "UPDATE runs SET heartbeat_at = ?2 WHERE run_id = ?1", run_id, NULL,
                      "recording the writer's heartbeat", NULL, err);
}

typedef struct new_run {
    const res_store_run_info *info;
    int64_t run_id;
} new_run;

/* The columns of a new runs row in the store's schema: before version 5
** (tests build old databases) no writer, before 6 no experiment. */
static void run_insert_sql(int version, char *sql, size_t len) {
    snprintf(sql, len,
             "INSERT INTO runs (scenario_id, scenario_version, scenario_file, policy, seed,"
             " iterations, harness_version, command_line, created_at, status%s%s)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'running'%s%s)",
             version >= 5 ? ", writer_host, writer_pid, writer_instance, heartbeat_at" : "",
             version >= 6 ? ", experiment_id, arm, parameters" : "",
             version >= 5 ? ", ?10, ?11, ?12, ?9" : "", version >= 6 ? ", ?13, ?14, ?15" : "");
}

void res_store_bind_text(sqlite3_stmt *st, int i, const char *text) {
    if (text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_run(sqlite3_stmt *st, int version, const res_store_run_info *info,
                     const char *now) {
    sqlite3_bind_text(st, 1, info->scenario_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, info->scenario_version);
    sqlite3_bind_text(st, 3, info->scenario_file, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, info->policy, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)info->seed);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)info->iterations);
    sqlite3_bind_text(st, 7, RES_HARNESS_VERSION, -1, SQLITE_STATIC);
    res_store_bind_text(st, 8, info->command_line);
    sqlite3_bind_text(st, 9, now, -1, SQLITE_TRANSIENT);
    if (version >= 5) {
        res_writer_id self;
        res_writer_self(&self);
        sqlite3_bind_text(st, 10, self.host, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 11, self.pid);
        res_store_bind_text(st, 12, self.instance[0] ? self.instance : NULL);
    }
    if (version >= 6) {
        if (info->experiment_id > 0)
            sqlite3_bind_int64(st, 13, info->experiment_id);
        else
            sqlite3_bind_null(st, 13);
        res_store_bind_text(st, 14, info->arm);
        res_store_bind_text(st, 15, info->parameters);
    }
}

static res_status insert_run(res_store *s, void *arg, res_error *err) {
    new_run *nr = arg;
    char sql[512], now[64];
    run_insert_sql(s->version, sql, sizeof sql);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "preparing the run");
    res_store_utc_now(now, sizeof now);
    bind_run(st, s->version, nr->info, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT && sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        return res_store_fail(err, RES_ENOTFOUND, "%s: no experiment %lld", s->path,
                              (long long)nr->info->experiment_id);
    if (rc != SQLITE_DONE) return fail_db(s, err, "inserting the run");
    nr->run_id = sqlite3_last_insert_rowid(s->db);
    return RES_OK;
}

/* What a run may name: an experiment, an arm and parameters (a JSON
** object) need schema version 6. */
static res_status check_run_info(const res_store *s, const res_store_run_info *info,
                                 res_error *err) {
    bool experiment = info->experiment_id > 0 || info->arm || info->parameters;
    if (experiment && s->version < 6)
        return res_store_fail(err, RES_EINVAL,
                              "%s: schema version %d stores no experiments (version 6 does)",
                              s->path, s->version);
    if (info->experiment_id < 0)
        return res_store_fail(err, RES_EINVAL, "%s: no experiment %lld", s->path,
                              (long long)info->experiment_id);
    return info->parameters
               ? res_store_check_json(s, info->parameters, true, "the parameters of a run", err)
               : RES_OK;
}

res_status res_store_begin_run(res_store *s, const res_store_run_info *info, int64_t *run_id,
                               res_error *err) {
    res_status rc = check_run_info(s, info, err);
    if (rc != RES_OK) return rc;
    new_run nr = {info, 0};
    rc = res_store_in_transaction(s, insert_run, &nr, "inserting the run", err);
    if (rc == RES_OK) *run_id = nr.run_id;
    return rc;
}

typedef struct status_change {
    int64_t run_id;
    const char *status;
} status_change;

static res_status update_status(res_store *s, void *arg, res_error *err) {
    const status_change *sc = arg;
    int changes = 0;
    res_status rc = update_run(
        s,
        s->version >= 5 ? "UPDATE runs SET status = ?3, heartbeat_at = ?2 WHERE run_id = ?1"
                        : "UPDATE runs SET status = ?3 WHERE run_id = ?1",
        sc->run_id, sc->status, "updating the run status", &changes, err);
    if (rc == RES_OK && changes == 0)
        return res_store_fail(err, RES_ENOTFOUND, "%s: no run %lld", s->path,
                              (long long)sc->run_id);
    return rc;
}

res_status res_store_set_run_status(res_store *s, int64_t run_id, const char *status,
                                    res_error *err) {
    status_change sc = {run_id, status};
    return res_store_in_transaction(s, update_status, &sc, "updating the run status", err);
}

/* The tables whose rows record their writer: runs, and (schema 6)
** experiments. */
typedef struct writer_table {
    const char *name, *key, *what;
} writer_table;

static const writer_table writer_tables[] = {
    {"runs", "run_id", "marking an abandoned run"},
    {"experiments", "experiment_id", "marking an abandoned experiment"}};

/* The ids of t's rows stored as running whose writer is gone, in *ids
** (malloc'd, *n of them). */
static res_status find_abandoned(res_store *s, const writer_table *t, int64_t **ids, size_t *n,
                                 res_error *err) {
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT %s, writer_host, writer_pid, writer_instance FROM %s"
             " WHERE status = 'running' AND writer_pid IS NOT NULL",
             t->key, t->name);
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return fail_db(s, err, t->what);
    size_t cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (res_writer_check((const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2),
                             (const char *)sqlite3_column_text(st, 3)) != RES_WRITER_GONE)
            continue;
        if (*n == cap) {
            int64_t *more = realloc(*ids, (cap = cap ? cap * 2 : 8) * sizeof *more);
            if (!more) break;
            *ids = more;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    res_status rc = step == SQLITE_ROW || step == SQLITE_DONE ? RES_OK : fail_db(s, err, t->what);
    sqlite3_finalize(st);
    return rc;
}

typedef struct abandonment {
    const writer_table *t;
    int64_t id;
} abandonment;

static res_status mark_abandoned(res_store *s, void *arg, res_error *err) {
    const abandonment *a = arg;
    char sql[160];
    snprintf(sql, sizeof sql,
             "UPDATE %s SET status = 'abandoned', heartbeat_at = ?2 WHERE %s = ?1"
             " AND status = 'running'",
             a->t->name, a->t->key);
    return update_run(s, sql, a->id, NULL, a->t->what, NULL, err);
}

/* Marks 'abandoned' the running runs and experiments whose writer is gone
** (another process SIGKILLed, crashed, or of an earlier boot), so that the
** database itself says so. */
static res_status abandon_dead_writers(res_store *s, res_error *err) {
    res_status rc = RES_OK;
    for (size_t k = 0; rc == RES_OK && k < sizeof writer_tables / sizeof *writer_tables; k++) {
        int64_t *gone;
        size_t n;
        rc = find_abandoned(s, &writer_tables[k], &gone, &n, err);
        for (size_t i = 0; rc == RES_OK && i < n; i++) {
            abandonment a = {&writer_tables[k], gone[i]};
            rc = res_store_in_transaction(s, mark_abandoned, &a, writer_tables[k].what, err);
        }
        free(gone);
    }
    return rc;
}

/* ---- one iteration ----------------------------------------------------- */

static res_status step(res_store *s, sqlite3_stmt *st, const char *what, res_error *err) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? RES_OK : fail_db(s, err, what);
}
static void bind_opt_id(sqlite3_stmt *st, int i, uint64_t v) {
    if (v)
        sqlite3_bind_int64(st, i, (sqlite3_int64)v);
    else
        sqlite3_bind_null(st, i);
}

static void bind_static_text(sqlite3_stmt *st, int i, const char *text) {
    if (text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Binds ev to the row of st whose first parameter follows base. */
static void bind_event(sqlite3_stmt *st, int base, const res_run_record *run,
                       const admit_event *ev) {
    bool req = ev->stream == ADMIT_STREAM_REQUEST;
    /* columns 1 and 2 (run, iteration) are bound once per iteration */
    sqlite3_bind_text(st, base + 3, req ? "request" : "scheduler", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, base + 4, (sqlite3_int64)ev->sequence);
    sqlite3_bind_text(st, base + 5, admit_event_name(ev), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, base + 6, ev->captured_at_ns);
    bind_opt_id(st, base + 7, ev->task_id);
    bind_opt_id(st, base + 8, ev->corr.task_execution_id);
    bind_opt_id(st, base + 9, req ? 0 : ev->lease_id);
    bind_opt_id(st, base + 10, ev->attempt_id);
    bind_opt_id(st, base + 11, req ? ev->lease_id : 0);
    bind_static_text(st, base + 12, res_event_resource_text(run, ev));
    bind_static_text(st, base + 13, res_event_reason_name(ev));
    sqlite3_bind_int64(st, base + 14, ev->value);
    if (ev->corr.row_group >= 0)
        sqlite3_bind_int64(st, base + 15, ev->corr.row_group);
    else
        sqlite3_bind_null(st, base + 15);
    bind_static_text(st, base + 16, res_event_column_text(run, ev));
    sqlite3_bind_int(st, base + 17, res_event_is_lifecycle(ev));
}

/* Writes count rows through a one-row and a batch statement.  rows_next
** gives the statement and the parameter offset of the next row, rows_done
** runs the statement when its rows are all bound. */
typedef struct rows_writer {
    res_store *s;
    sqlite3_stmt *one, *many;
    int columns, batch, row;
    size_t left;
    const char *what;
    res_error *err;
} rows_writer;

static rows_writer rows_begin(res_store *s, int one, int many, size_t count, int64_t run_id,
                              int64_t iteration, const char *what, res_error *err) {
    rows_writer w = {.s = s,
                     .one = s->stmt[one],
                     .many = s->stmt[many],
                     .columns = statements[many].columns,
                     .batch = statements[many].rows,
                     .left = count,
                     .what = what,
                     .err = err};
    for (int r = 0; r < w.batch; r++) {
        sqlite3_bind_int64(w.many, r * w.columns + 1, run_id);
        sqlite3_bind_int64(w.many, r * w.columns + 2, iteration);
    }
    sqlite3_bind_int64(w.one, 1, run_id);
    sqlite3_bind_int64(w.one, 2, iteration);
    return w;
}

static sqlite3_stmt *rows_next(const rows_writer *w, int *base) {
    bool single = w->row == 0 && w->left < (size_t)w->batch;
    *base = single ? 0 : w->row * w->columns;
    return single ? w->one : w->many;
}

static res_status rows_done(rows_writer *w, sqlite3_stmt *st) {
    w->left--;
    if (st == w->one) return step(w->s, st, w->what, w->err);
    if (++w->row < w->batch) return RES_OK;
    w->row = 0;
    return step(w->s, st, w->what, w->err);
}

static bool event_is_stored(const res_store *s, const admit_event *ev) {
    return s->keep == RES_KEEP_ALL_EVENTS ||
           (s->keep == RES_KEEP_NOTABLE_EVENTS && !res_event_is_lifecycle(ev));
}

/* How many of the record's events the store keeps.  Those in spill files
** are notable ones (a run keeping only those), all stored: the store keeps
** at least what the run kept (res_store_write_iteration). */
static size_t stored_events(const res_store *s, const res_run_record *run) {
    if (s->keep == RES_KEEP_ALL_EVENTS) return res_run_record_kept_count(run);
    if (s->keep == RES_KEEP_NOTABLE_EVENTS) return res_run_record_notable_count(run);
    return res_run_record_kept_count(run) - res_event_log_count(run->events) -
           res_event_log_count(run->request_events); /* the spilled ones */
}

/* The lifecycle events packed (store_packs.h), a pack per stream being
** filled, when the store keeps every event; else the rows alone. */
typedef struct event_packer {
    res_store *s;
    const res_run_record *run;
    res_pack pack[2]; /* [admit_event_stream] */
    res_error *err;
} event_packer;

static bool packs_events(const res_store *s, const admit_event *ev) {
    return s->keep == RES_KEEP_ALL_EVENTS && res_event_is_lifecycle(ev);
}

/* Inserts the pack of stream k and empties it (nothing when empty). */
static res_status pack_flush(event_packer *pk, int k) {
    res_pack *p = &pk->pack[k];
    if (p->events == 0) return RES_OK;
    char *strings = res_pack_strings(p);
    if (!strings)
        return res_store_fail(pk->err, RES_EINVAL,
                              "%s: cannot pack events: a text they name (a kind, resource, reason"
                              " or column name) is not UTF-8, or out of memory",
                              pk->s->path);
    sqlite3_stmt *st = pk->s->stmt[ST_PACK];
    size_t len;
    const char *body = res_pack_body(p, &len);
    sqlite3_bind_text(st, 3, k == ADMIT_STREAM_REQUEST ? "request" : "scheduler", -1,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)p->first_sequence);
    sqlite3_bind_int64(st, 5, p->first_ns);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)p->events);
    sqlite3_bind_text(st, 7, strings, -1, free);
    sqlite3_bind_text(st, 8, body, (int)len, SQLITE_STATIC);
    res_status rc = step(pk->s, st, "inserting packed events", pk->err);
    sqlite3_bind_null(st, 7);
    sqlite3_bind_null(st, 8);
    res_pack_clear(p);
    return rc;
}

static res_status pack_event(event_packer *pk, const admit_event *ev) {
    int k = ev->stream == ADMIT_STREAM_REQUEST;
    const char *why = res_pack_add(&pk->pack[k], pk->run, ev);
    if (why)
        return res_store_fail(pk->err, why == res_pack_no_memory ? RES_ENOMEM : RES_EINVAL,
                              "%s: cannot pack %s event %llu: %s", pk->s->path,
                              k ? "request" : "scheduler", (unsigned long long)ev->sequence, why);
    return res_pack_is_full(&pk->pack[k]) ? pack_flush(pk, k) : RES_OK;
}

/* Both streams merged by capture time (scheduler first at one instant), so
** event_id order is capture order and the run-time index grows at its end;
** only the events the store keeps, n of them, the lifecycle ones of a
** store keeping every event in packs. */
static res_status write_events(res_store *s, int64_t run_id, const res_run_record *run, size_t n,
                               res_error *err) {
    /* the notable ones are rows; with every event kept, those alone */
    size_t rows = s->keep == RES_KEEP_ALL_EVENTS ? res_run_record_notable_count(run) : n;
    rows_writer w = rows_begin(s, ST_EVENT, ST_EVENT_BATCH, rows, run_id, run->iteration,
                               "inserting events", err);
    event_packer pk = {.s = s, .run = run, .err = err};
    sqlite3_bind_int64(s->stmt[ST_PACK], 1, run_id);
    sqlite3_bind_int64(s->stmt[ST_PACK], 2, run->iteration);
    res_kept_reader k;
    bool more = res_kept_begin(&k, run);
    size_t done = 0;
    res_status rc = RES_OK;
    for (admit_event ev; rc == RES_OK && more && res_kept_next(&k, &ev);) {
        if (!event_is_stored(s, &ev)) continue;
        if (done++ == n) break;
        if (packs_events(s, &ev)) {
            rc = pack_event(&pk, &ev);
            continue;
        }
        int base;
        sqlite3_stmt *st = rows_next(&w, &base);
        bind_event(st, base, run, &ev);
        rc = rows_done(&w, st);
    }
    for (int j = 0; j < 2; j++) {
        if (rc == RES_OK) rc = pack_flush(&pk, j);
        res_pack_free(&pk.pack[j]);
    }
    if (rc != RES_OK) return rc;
    if (res_kept_error(&k))
        return res_store_fail(err, RES_EIO, "%s: %s", s->path, res_kept_error(&k));
    if (done != n || w.left != 0)
        return res_store_fail(err, RES_ESTORE, "%s: %zu events to store, %zu read back", s->path, n,
                              done);
    return RES_OK;
}

static res_status metric(res_store *s, const char *scope, const char *name, double value,
                         res_error *err) {
    sqlite3_stmt *st = s->stmt[ST_METRIC];
    sqlite3_bind_text(st, 3, scope, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, value);
    return step(s, st, "inserting a metric", err);
}

/* The CorrelatedRuntimeView's headline figures (scope "run") and its
** limiting-layer breakdown per group (scope "layers:<group key>", names
** layer_<layer>_seconds; request_admission includes cooldown). */
static res_status write_correlated_metrics(res_store *s, const res_summary *sum, res_error *err) {
    json_t *cv = sum->view ? res_correlated_view_json(sum->view, sum->facts) : NULL;
    if (!cv || json_is_null(cv)) {
        json_decref(cv);
        return RES_OK;
    }
    res_status rc = RES_OK;
    for (size_t i = 0; rc == RES_OK && i < res_correlated_headline_count; i++) {
        const res_headline *h = &res_correlated_headlines[i];
        json_t *x = res_correlated_headline_get(cv, h);
        if (json_is_number(x)) rc = metric(s, "run", h->metric, json_number_value(x), err);
    }
    /* per scheduler resource (scope "resource:<name>") */
    const char *name;
    json_t *r;
    json_object_foreach(json_object_get(json_object_get(cv, "ready_idle_gap"), "resources"), name,
                        r) {
        char scope[512];
        snprintf(scope, sizeof scope, "resource:%s", name);
        json_t *fair =
            json_object_get(json_object_get(json_object_get(cv, "fairness"), "resources"), name);
        if (rc == RES_OK)
            rc = metric(s, scope, "ready_idle_gap_max_seconds",
                        json_number_value(json_object_get(r, "max_seconds")), err);
        if (rc == RES_OK)
            rc = metric(s, scope, "ready_idle_gap_total_seconds",
                        json_number_value(json_object_get(r, "total_seconds")), err);
        if (rc == RES_OK && json_is_number(json_object_get(fair, "jain_index")))
            rc = metric(s, scope, "jain_fairness_index",
                        json_number_value(json_object_get(fair, "jain_index")), err);
    }
    const char *group, *layer;
    json_t *g, *x;
    json_object_foreach(json_object_get(json_object_get(cv, "limiting_layers"), "groups"), group,
                        g) {
        char scope[512], name[128];
        snprintf(scope, sizeof scope, "layers:%s", group);
        json_object_foreach(json_object_get(g, "seconds"), layer, x) {
            if (rc != RES_OK) break;
            snprintf(name, sizeof name, "layer_%s_seconds", layer);
            rc = metric(s, scope, name, json_number_value(x), err);
        }
    }
    json_decref(cv);
    return rc;
}

static res_status write_metrics(res_store *s, const res_run_record *run, const res_summary *sum,
                                res_error *err) {
    const admit_scheduler_stats *stt = &run->stats;
#define M(scope, name, v)                                                                          \
    do {                                                                                           \
        if (metric(s, scope, name, (double)(v), err) != RES_OK) return RES_ESTORE;                 \
    } while (0)
/* A figure that may be absent (NaN: over an empty set, a share of no time): no row then. */
#define M_OPT(scope, name, v)                                                                      \
    do {                                                                                           \
        if (!isnan(v)) M(scope, name, v);                                                          \
    } while (0)
    M("run", "wall_time_seconds", sum->wall_time_seconds);
    M_OPT("run", "slot_utilization", sum->slot_utilization);
    M("run", "task_seconds", sum->task_seconds);
    M("run", "final_task_leases", sum->final_task_leases);
    M("run", "final_request_leases", run->final_request_leases);
    M("run", "final_request_waiters", run->final_request_waiters);
    M("run", "tasks_total", stt->tasks_total);
    M("run", "tasks_completed", stt->tasks_completed);
    M("run", "tasks_dropped", stt->tasks_dropped);
    M("run", "rows_dropped", stt->rows_dropped);
    M("run", "salvage_rounds", stt->salvage_rounds);
    M("run", "hidden_scheduler_resource_waiters", stt->hidden_waiters);
    M("run", "max_row_groups_in_flight", stt->max_row_groups_in_flight);
    M("run", "cpu_seconds", run->cpu_seconds);
    char scope[512];
    for (uint32_t c = 0; c < sum->column_count; c++) {
        const res_column_summary *cs = &sum->columns[c];
        snprintf(scope, sizeof scope, "group:%s", cs->column);
        M(scope, "tasks", cs->tasks);
        M(scope, "dispatches", cs->dispatches);
        M_OPT(scope, "first_wait_seconds", cs->first_wait_seconds);
        M_OPT(scope, "wait_mean_seconds", cs->wait_mean_seconds);
        M_OPT(scope, "wait_p50_seconds", cs->wait_p50_seconds);
        M_OPT(scope, "wait_p95_seconds", cs->wait_p95_seconds);
        M_OPT(scope, "wait_max_seconds", cs->wait_max_seconds);
        M(scope, "idle_seconds", cs->idle_seconds);
        M(scope, "busy_task_seconds", cs->busy_task_seconds);
    }
    const res_request_report *rep = sum->request;
    for (uint32_t r = 0; r < run->request_resource_count; r++) {
        const res_request_stats *rs = &rep->resources[r];
        const res_request_resource *rr = &run->request[r];
        res_wait_quantiles q = res_request_waits(rs);
        snprintf(scope, sizeof scope, "request:%s", rr->key);
        M(scope, "attempts", rs->attempts);
        M(scope, "leases", rs->leases);
        M(scope, "not_admitted", rs->not_admitted);
        M(scope, "rate_limited", rs->outcomes[ADMIT_REQ_RATE_LIMITED]);
        M_OPT(scope, "request_wait_mean_seconds", q.mean);
        M_OPT(scope, "request_wait_p50_seconds", q.p50);
        M_OPT(scope, "request_wait_p95_seconds", q.p95);
        M_OPT(scope, "request_wait_max_seconds", q.max);
        M_OPT(scope, "in_flight_mean", rs->in_flight_mean);
        M(scope, "in_flight_max", rs->in_flight_max);
        M(scope, "effective_max", rr->final.effective_max);
        M(scope, "initial_limit", rr->initial.initial_limit);
        M(scope, "current_limit_end", rr->final.current_limit);
        M(scope, "current_limit_min", rr->final.min_limit);
        M(scope, "limit_decreases", rr->final.limit_decreases);
        M(scope, "limit_increases", rr->final.limit_increases);
        M(scope, "cooldown_seconds", (double)rs->cooldown_ns / 1e9);
        if (rs->utilization_while_others_cooling >= 0)
            M(scope, "utilization_while_others_cooling", rs->utilization_while_others_cooling);
        M(scope, "others_cooling_seconds", (double)rs->others_cooling_ns / 1e9);
    }
    for (uint32_t p = 0; p < rep->provider_count; p++) {
        snprintf(scope, sizeof scope, "provider:%s", rep->provider_names[p]);
        double cooldown = 0; /* summed over the provider's request resources */
        for (uint32_t r = 0; r < run->request_resource_count; r++)
            if (!strcmp(run->request[r].provider, rep->provider_names[p]))
                cooldown += (double)rep->resources[r].cooldown_ns / 1e9;
        M_OPT(scope, "busy_fraction", rep->provider_busy_fraction[p]);
        M(scope, "cooldown_seconds", cooldown);
    }
#undef M_OPT
#undef M
    return write_correlated_metrics(s, sum, err);
}

static json_t *task_snapshot_json(const res_run_record *run) {
    json_t *leased = json_object();
    for (uint32_t r = 0; r < run->resource_count; r++)
        json_object_set_new(leased, run->resource_names[r], json_integer(run->final_leased[r]));
    return json_pack(
        "{s:I, s:o, s:I, s:i, s:I, s:I, s:I}", "task_leases", (json_int_t)run->final_task_leases,
        "leased_by_resource", leased, "queued", (json_int_t)run->final_queued, "running",
        (int)run->stats.running, "leases_acquired", (json_int_t)run->admission_stats.acquired,
        "leases_released", (json_int_t)run->admission_stats.released, "duplicate_releases",
        (json_int_t)run->admission_stats.release_reasons[ADMIT_RELEASE_DUPLICATE]);
}

static res_status snapshot(res_store *s, const char *kind, json_t *j, res_error *err) {
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(j);
    if (!text)
        return res_store_fail(err, RES_ENOMEM, "%s: out of memory building a snapshot", s->path);
    sqlite3_stmt *st = s->stmt[ST_SNAPSHOT];
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, text, -1, SQLITE_TRANSIENT);
    res_status rc = step(s, st, "inserting a snapshot", err);
    free(text);
    return rc;
}

static const char *const end_names[] = {"running", "completed", "cancelled", "dropped", "deferred"};

static void bind_timeline(sqlite3_stmt *st, int base, const res_run_record *run,
                          const res_view_row *r) {
    int c = base + 3; /* after run, iteration */
    sqlite3_bind_int64(st, c++, (sqlite3_int64)r->task_execution_id);
    sqlite3_bind_int64(st, c++, (sqlite3_int64)r->task_id);
    if (r->column >= 0 && (uint32_t)r->column < run->config->column_count)
        sqlite3_bind_text(st, c++, run->config->columns[r->column].name, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, c++);
    sqlite3_bind_int64(st, c++, r->row_group);
    sqlite3_bind_int64(st, c++, r->worker_attempt);
    sqlite3_bind_text(st, c++, end_names[r->end], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, c++, r->attempts);
    sqlite3_bind_int64(st, c++, r->rate_limited_attempts);
    for (int t = 0; t < RES_TS_COUNT; t++, c++) {
        if (r->at[t] >= 0)
            sqlite3_bind_int64(st, c, r->at[t]);
        else
            sqlite3_bind_null(st, c);
    }
    sqlite3_bind_int64(st, c++, r->request_wait_ns);
    sqlite3_bind_int64(st, c++, r->cooldown_wait_ns);
    sqlite3_bind_int64(st, c++, r->provider_ns);
}

/* One task_timelines row per execution of the run's CorrelatedRuntimeView:
** from its rows, or read back from its spill file. */
static res_status write_timelines(res_store *s, int64_t run_id, const res_run_record *run,
                                  const res_correlated_view *v, res_error *err) {
    res_spill *sp = v->rows ? NULL : v->row_spill;
    size_t n = v->rows ? v->row_count : sp ? res_spill_count(sp) : 0;
    if (!v->rows && n != v->row_count)
        return res_store_fail(err, RES_ESTORE, "%s: the view has %zu task timelines, %zu at hand",
                              s->path, v->row_count, n);
    if (sp && !res_spill_rewind(sp))
        return res_store_fail(err, RES_EIO, "%s: %s", s->path, res_spill_error(sp));
    rows_writer w = rows_begin(s, ST_TIMELINE, ST_TIMELINE_BATCH, n, run_id, run->iteration,
                               "inserting task timelines", err);
    res_view_row spilled;
    for (size_t i = 0; i < n; i++) {
        if (sp && !res_spill_next(sp, &spilled))
            return res_store_fail(err, RES_EIO, "%s: %s", s->path,
                                  res_spill_error(sp) ? res_spill_error(sp)
                                                      : "the spill file ended early");
        int base;
        sqlite3_stmt *st = rows_next(&w, &base);
        bind_timeline(st, base, run, sp ? &spilled : &v->rows[i]);
        if (rows_done(&w, st) != RES_OK) return RES_ESTORE;
    }
    return RES_OK;
}

static void bind_opt_ns(sqlite3_stmt *st, int i, bool set, int64_t v) {
    if (set)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static void bind_attempt(sqlite3_stmt *st, int base, const res_run_record *run,
                         const res_attempt_row *a) {
    int c = base + 3; /* after run, iteration */
    sqlite3_bind_int64(st, c++, (sqlite3_int64)a->attempt_id);
    bind_opt_id(st, c++, a->task_execution_id);
    bind_opt_id(st, c++, a->task_id);
    if (a->resource >= 0 && (uint32_t)a->resource < run->request_resource_count)
        sqlite3_bind_text(st, c++, run->request[a->resource].key, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, c++);
    bind_opt_id(st, c++, a->request_lease_id);
    if (a->outcome >= 0)
        sqlite3_bind_text(st, c++,
                          admit_request_outcome_name((admit_request_outcome_kind)a->outcome), -1,
                          SQLITE_STATIC);
    else
        sqlite3_bind_null(st, c++);
    sqlite3_bind_int(st, c++, a->rate_limited);
    for (int t = 0; t < RES_ATTEMPT_STAMPS; t++)
        bind_opt_ns(st, c++, a->at[t] >= 0, a->at[t]);
    for (int t = 0; t < RES_ATTEMPT_STAMPS; t++)
        bind_opt_ns(st, c++, a->at[t] >= 0, (int64_t)a->sequence[t]);
    bind_opt_ns(st, c++, a->at[RES_ATTEMPT_LEASE_ACQUIRED] >= 0, a->in_flight_acquired);
    bind_opt_ns(st, c++, a->at[RES_ATTEMPT_LEASE_RELEASED] >= 0, a->in_flight_released);
}

/* One request_attempts row per attempt the run made. */
static res_status write_attempts(res_store *s, int64_t run_id, const res_run_record *run,
                                 const res_attempt_log *log, res_error *err) {
    size_t n = 0;
    for (size_t i = 0; i < log->count; i++)
        n += log->rows[i].attempt_id != 0;
    rows_writer w = rows_begin(s, ST_ATTEMPT, ST_ATTEMPT_BATCH, n, run_id, run->iteration,
                               "inserting request attempts", err);
    for (size_t i = 0; i < log->count; i++) {
        if (!log->rows[i].attempt_id) continue;
        int base;
        sqlite3_stmt *st = rows_next(&w, &base);
        bind_attempt(st, base, run, &log->rows[i]);
        if (rows_done(&w, st) != RES_OK) return RES_ESTORE;
    }
    return RES_OK;
}

static res_status write_plan(res_store *s, const res_run_record *run, const res_summary *sum,
                             res_error *err) {
    json_t *plan = res_capacity_plan_json(run, sum->request);
    char *text = plan ? json_dumps(plan, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(plan);
    if (!text)
        return res_store_fail(err, RES_ENOMEM, "%s: out of memory storing the plan", s->path);
    sqlite3_bind_text(s->stmt[ST_PLAN], 3, text, -1, SQLITE_TRANSIENT);
    res_status rc = step(s, s->stmt[ST_PLAN], "inserting the capacity plan", err);
    free(text);
    return rc;
}

static res_status write_body(res_store *s, int64_t run_id, const res_run_record *run,
                             const res_summary *sum, res_error *err) {
    sqlite3_stmt *it = s->stmt[ST_ITERATION];
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)run->output_hash_all);
    sqlite3_bind_int64(it, 1, run_id);
    sqlite3_bind_int64(it, 2, run->iteration);
    sqlite3_bind_text(it, 3, admit_job_status_name(run->status), -1, SQLITE_STATIC);
    sqlite3_bind_double(it, 4, (double)run->wall_ns / 1e9);
    sqlite3_bind_int64(it, 5, (sqlite3_int64)run->final_task_leases);
    sqlite3_bind_int64(it, 6, (sqlite3_int64)run->final_request_leases);
    sqlite3_bind_int64(it, 7, (sqlite3_int64)run->final_request_waiters);
    sqlite3_bind_text(it, 8, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(it, 9, (sqlite3_int64)res_run_record_events_made(run));
    size_t stored = stored_events(s, run);
    sqlite3_bind_int64(it, 10, (sqlite3_int64)stored);
    if (step(s, it, "inserting the iteration", err) != RES_OK) return RES_ESTORE;
    static const int keyed[] = {ST_METRIC, ST_SNAPSHOT, ST_PLAN}; /* (run, iteration) first */
    for (size_t k = 0; k < sizeof keyed / sizeof *keyed; k++) {
        sqlite3_bind_int64(s->stmt[keyed[k]], 1, run_id);
        sqlite3_bind_int64(s->stmt[keyed[k]], 2, run->iteration);
    }
    res_status wrote = write_events(s, run_id, run, stored, err);
    if (wrote != RES_OK) return wrote;
    /* The summary's correlated view feeds the metrics and the task timelines. */
    res_status rc = write_metrics(s, run, sum, err);
    if (rc == RES_OK) rc = snapshot(s, "final_task", task_snapshot_json(run), err);
    if (rc == RES_OK)
        rc = snapshot(s, "final_request", res_final_request_snapshot_json(run, sum->request), err);
    if (rc == RES_OK && sum->view) rc = write_timelines(s, run_id, run, sum->view, err);
    if (rc == RES_OK && sum->attempts) rc = write_attempts(s, run_id, run, sum->attempts, err);
    if (rc == RES_OK) rc = write_plan(s, run, sum, err);
    if (rc != RES_OK) return rc;
    char now[64];
    res_store_utc_now(now, sizeof now);
    sqlite3_stmt *done = s->stmt[ST_COMPLETE];
    sqlite3_bind_int64(done, 1, run_id);
    sqlite3_bind_text(done, 2, now, -1, SQLITE_TRANSIENT);
    return step(s, done, "completing the run", err);
}

static res_status prepare(res_store *s, int k, res_error *err) {
    char sql[16384];
    size_t n = (size_t)snprintf(sql, sizeof sql, "%s", statements[k].sql);
    for (int r = 0; r < statements[k].rows && n < sizeof sql; r++)
        for (int c = 0; c < statements[k].columns && n < sizeof sql; c++)
            n += (size_t)snprintf(sql + n, sizeof sql - n, "%s?%s", c ? ", " : (r ? ", (" : "("),
                                  c + 1 == statements[k].columns ? ")" : "");
    if (n >= sizeof sql) return res_store_fail(err, RES_ESTORE, "%s: statement too long", s->path);
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[k], NULL) !=
        SQLITE_OK)
        return fail_db(s, err, "preparing statements");
    return RES_OK;
}

typedef struct iteration_write {
    int64_t run_id;
    const res_run_record *run;
    const res_summary *summary;
} iteration_write;

/* One iteration's transaction: its rows, then the writer's heartbeat. */
static res_status write_iteration_txn(res_store *s, void *arg, res_error *err) {
    const iteration_write *w = arg;
    res_status rc = write_body(s, w->run_id, w->run, w->summary, err);
    return rc == RES_OK ? touch_run(s, w->run_id, err) : rc;
}

res_status res_store_write_iteration(res_store *s, int64_t run_id, const res_run_record *run,
                                     const res_summary *summary, res_error *err) {
    if (s->version != RES_STORE_SCHEMA_VERSION)
        return res_store_fail(err, RES_ESTORE, "%s: schema version %d is not the current one (%d)",
                              s->path, s->version, RES_STORE_SCHEMA_VERSION);
    if (s->keep < run->kept)
        return res_store_fail(err, RES_EINVAL,
                              "%s: the run kept fewer events than the store is to keep", s->path);
    for (int k = 0; k < ST_COUNT; k++)
        if (!s->stmt[k] && prepare(s, k, err) != RES_OK) return RES_ESTORE;
    iteration_write w = {run_id, run, summary};
    res_status rc =
        res_store_in_transaction(s, write_iteration_txn, &w, "writing the iteration", err);
    for (int k = 0; k < ST_COUNT; k++)
        sqlite3_clear_bindings(s->stmt[k]);
    /* The page cache (up to cache_size) keeps what this iteration wrote;
    ** handing it back bounds a run's memory by one iteration's, whatever
    ** the number of iterations. */
    sqlite3_db_release_memory(s->db);
    return rc;
}
