/* Merging one results database into another (res_store_merge in
** res/store.h): a sweep's shards each write a database of their own, and
** their runs then move into one store.
**
** The source is first opened with the store's reader (read-only) and
** checked: this build's schema, no run still running.  It is then attached
** to the destination's connection read-only ("mode=ro": never written,
** never locked for writing, never checkpointed), and each source run is
** copied in one write transaction of the destination, which reads the
** source as of one moment: its runs row gets a new run id (the
** destination's next), and every row of the run's tables follows with
** that id, INSERT ... SELECT, in the order the rows were stored (events in
** capture order).  The tables' columns come from the destination's
** schema, so a column added by a later migration is copied without a
** change here.
**
** Idempotence (schema 7): a run's key is where it was first written, the
** source column ("<store uuid>/<run id>"), or for a run written in the
** source itself the source's identity and the run's id there.  The copy
** keeps that key in the destination's source column (unique there), and a
** run whose key the destination already holds, or which was first written
** in the destination and is still there, is skipped, checked inside the
** run's own transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "res/store.h"
#include "res/store_reader.h"
#include "store_error.h"
#include "store_identity.h"
#include "store_int.h"

/* The tables copied, parents first, and the order of their rows. */
static const struct {
    const char *name, *order;
} tables[] = {
    {"runs", "rowid"},
    {"iterations", "rowid"},
    {"event_rows", "event_id"},
    {"event_packs", "pack_id"},
    {"metrics", "rowid"},
    {"snapshots", "rowid"},
    {"task_timelines", "iteration, task_execution_id"}, /* WITHOUT ROWID */
    {"capacity_plans", "rowid"},
    {"request_attempts", "iteration, request_attempt_id"}, /* WITHOUT ROWID */
};
enum { TABLES = sizeof tables / sizeof *tables };

/* Parameters of the copying statements: the source run, its new id, the
** experiment (NULL: none), whether the run was abandoned, its key. */
enum { P_SRC_RUN = 1, P_NEW_RUN, P_EXPERIMENT, P_ABANDONED, P_KEY };

/* A source run's key, and whether the destination holds that run. */
static const char KEY_SQL[] =
    "SELECT COALESCE(source, (SELECT uuid FROM merge_src.store_identity LIMIT 1) || '/' ||"
    " run_id) FROM merge_src.runs WHERE run_id = ?1";
static const char HELD_SQL[] =
    "SELECT run_id FROM main.runs WHERE source = ?1 UNION ALL SELECT r.run_id FROM"
    " main.store_identity u JOIN main.runs r ON substr(?1, 1, length(u.uuid) + 1) = u.uuid ||"
    " '/' AND r.run_id = CAST(substr(?1, length(u.uuid) + 2) AS INTEGER) LIMIT 1";
/* Whether the destination's run ?1 is the source's run ?2: what a copy
** keeps of a run (its seed, scenario, when and by which process it was
** written) is the same.  A key alone is not enough: a store copied (cp) and
** then written to apart gives each copy's new runs the same keys. */
static const char SAME_SQL[] =
    "SELECT d.seed IS s.seed AND d.scenario_id IS s.scenario_id AND d.created_at IS"
    " s.created_at AND d.writer_host IS s.writer_host AND d.writer_pid IS s.writer_pid AND"
    " d.writer_instance IS s.writer_instance FROM main.runs d, merge_src.runs s WHERE"
    " d.run_id = ?1 AND s.run_id = ?2";

typedef struct merge {
    res_store *dst;
    int64_t experiment_id;
    sqlite3_stmt *copy[TABLES];
    sqlite3_stmt *key, *held, *same;
    const char *src_path;
    /* the run being copied */
    int64_t src_run, new_run;
    bool abandoned, skipped;
} merge;

/* What the destination's column gets from the source's row: NULL when the
** destination allocates it (runs.run_id, event_rows.event_id,
** event_packs.pack_id). */
static const char *source_of(size_t table, const char *column) {
    if (table == 0 && !strcmp(column, "run_id")) return NULL;
    if (table == 0 && !strcmp(column, "experiment_id")) return "?3";
    if (table == 0 && !strcmp(column, "status"))
        return "CASE WHEN ?4 THEN 'abandoned' ELSE status END";
    if (table == 0 && !strcmp(column, "source")) return "?5";
    if (!strcmp(column, "event_id") || !strcmp(column, "pack_id")) return NULL;
    if (!strcmp(column, "run_id")) return "?2";
    return column;
}

/* Appends to buf (len bytes, *n used) sep (when *count > 0) and text;
** false when it does not fit. */
static bool append(char *buf, size_t len, size_t *n, int count, const char *text) {
    int k = snprintf(buf + *n, len - *n, "%s%s", count ? ", " : "", text);
    if (k < 0 || (size_t)k >= len - *n) return false;
    *n += (size_t)k;
    return true;
}

/* "INSERT INTO main.T (columns) SELECT sources FROM merge_src.T WHERE
** run_id = ?1 ORDER BY ..." of table k, over the destination's columns. */
static res_status prepare_copy(merge *m, size_t k, res_error *err) {
    sqlite3 *db = res_store_db(m->dst);
    const char *path = res_store_path(m->dst);
    sqlite3_stmt *info = NULL;
    if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1, 'main')", -1, &info, NULL) !=
        SQLITE_OK)
        return res_store_fail_db(err, db, path, "reading the schema");
    sqlite3_bind_text(info, 1, tables[k].name, -1, SQLITE_STATIC);
    char into[2048], from[4096];
    size_t ni = 0, nf = 0;
    int columns = 0;
    bool fits = true;
    while (fits && sqlite3_step(info) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(info, 0);
        const char *source = source_of(k, name);
        if (!source) continue;
        fits = append(into, sizeof into, &ni, columns, name) &&
               append(from, sizeof from, &nf, columns, source);
        columns++;
    }
    sqlite3_finalize(info);
    char sql[8192];
    int len =
        snprintf(sql, sizeof sql,
                 "INSERT INTO main.%s (%.*s) SELECT %.*s FROM merge_src.%s"
                 " WHERE run_id = ?1 ORDER BY %s",
                 tables[k].name, (int)ni, into, (int)nf, from, tables[k].name, tables[k].order);
    if (!fits || columns == 0 || len < 0 || (size_t)len >= sizeof sql)
        return res_store_fail(err, RES_ESTORE, "%s: cannot merge table %s (%d columns)", path,
                              tables[k].name, columns);
    if (sqlite3_prepare_v2(db, sql, -1, &m->copy[k], NULL) != SQLITE_OK)
        return res_store_fail_db(err, db, path, "preparing the merge");
    return RES_OK;
}

/* The key of the run being copied into *key (valid until m->key is
** reset), and whether the destination holds that run already. */
static res_status find_key(merge *m, const char **key, bool *held, res_error *err) {
    sqlite3 *db = res_store_db(m->dst);
    sqlite3_bind_int64(m->key, 1, m->src_run);
    if (sqlite3_step(m->key) != SQLITE_ROW ||
        !(*key = (const char *)sqlite3_column_text(m->key, 0)))
        return res_store_fail_db(err, db, res_store_path(m->dst), "reading the run's source");
    sqlite3_bind_text(m->held, 1, *key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(m->held);
    *held = rc == SQLITE_ROW;
    int64_t there = *held ? sqlite3_column_int64(m->held, 0) : 0;
    sqlite3_reset(m->held);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return res_store_fail_db(err, db, res_store_path(m->dst), "looking the run up");
    if (!*held) return RES_OK;
    sqlite3_bind_int64(m->same, 1, there);
    sqlite3_bind_int64(m->same, 2, m->src_run);
    rc = sqlite3_step(m->same);
    bool same = rc == SQLITE_ROW && sqlite3_column_int(m->same, 0) == 1;
    sqlite3_reset(m->same);
    if (rc != SQLITE_ROW)
        return res_store_fail_db(err, db, res_store_path(m->dst), "comparing the run");
    if (!same)
        return res_store_fail(err, RES_EINVAL,
                              "%s: run %lld has the key %s of another run in %s (run %lld): the "
                              "two databases were copied from one another and then written to "
                              "apart, so their runs cannot be told apart by where they were "
                              "first written; run %lld is not merged (the runs before it are)",
                              m->src_path, (long long)m->src_run, *key, res_store_path(m->dst),
                              (long long)there, (long long)m->src_run);
    return RES_OK;
}

/* Every table's rows of the run, the runs row (with its key) first. */
static res_status copy_tables(merge *m, const char *key, res_error *err) {
    sqlite3 *db = res_store_db(m->dst);
    for (size_t k = 0; k < TABLES; k++) {
        sqlite3_stmt *st = m->copy[k];
        sqlite3_bind_int64(st, P_SRC_RUN, m->src_run);
        if (k == 0) {
            if (m->experiment_id > 0)
                sqlite3_bind_int64(st, P_EXPERIMENT, m->experiment_id);
            else
                sqlite3_bind_null(st, P_EXPERIMENT);
            sqlite3_bind_int(st, P_ABANDONED, m->abandoned);
            sqlite3_bind_text(st, P_KEY, key, -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_int64(st, P_NEW_RUN, m->new_run);
        }
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            char what[96];
            snprintf(what, sizeof what, "merging %s", tables[k].name);
            return res_store_fail_db(err, db, res_store_path(m->dst), what);
        }
        if (k == 0 && sqlite3_changes(db) != 1)
            return res_store_fail(err, RES_ENOTFOUND, "%s: run %lld is gone from the source",
                                  res_store_path(m->dst), (long long)m->src_run);
        if (k == 0) m->new_run = sqlite3_last_insert_rowid(db);
    }
    return RES_OK;
}

/* One run, every table, in one transaction of the destination; nothing
** when the destination holds the run already. */
static res_status copy_run(res_store *dst, void *arg, res_error *err) {
    (void)dst;
    merge *m = arg;
    m->new_run = 0;
    const char *key = NULL;
    bool held = false;
    res_status status = find_key(m, &key, &held, err);
    m->skipped = held;
    if (status == RES_OK && !held) status = copy_tables(m, key, err);
    sqlite3_reset(m->key);
    return status;
}

/* A source run to copy. */
typedef struct src_run {
    int64_t run_id;
    bool abandoned;
} src_run;

/* The source's runs, after checking that none is still running. */
static res_status list_runs(res_store_reader *r, const char *path, src_run **runs, size_t *n,
                            res_error *err) {
    res_store_cursor *c = NULL;
    *runs = NULL;
    *n = 0;
    res_status rc = res_store_reader_runs(r, &c, err);
    res_run_row row;
    res_cursor_step step = RES_CURSOR_DONE;
    size_t cap = 0;
    while (rc == RES_OK && (step = res_store_cursor_next_run(c, &row, err)) == RES_CURSOR_ROW) {
        if (!strcmp(row.state, "running")) {
            rc = res_store_fail(err, RES_EINVAL,
                                "%s: run %lld is still running (its writer is %s); merge a "
                                "database once its runs have finished",
                                path, (long long)row.run_id,
                                row.writer == RES_RUN_WRITER_ALIVE ? "alive"
                                                                   : "not known to be gone");
            break;
        }
        if (*n == cap) {
            src_run *more = realloc(*runs, (cap = cap ? cap * 2 : 16) * sizeof *more);
            if (!more) {
                rc = res_store_fail(err, RES_ENOMEM, "%s: out of memory", path);
                break;
            }
            *runs = more;
        }
        (*runs)[(*n)++] = (src_run){row.run_id, strcmp(row.state, row.status) != 0};
    }
    if (rc == RES_OK && step == RES_CURSOR_ERROR) rc = err ? err->code : RES_ESTORE;
    res_store_cursor_close(c);
    return rc;
}

/* The checks before anything is written: the experiment exists, the
** source is another file, at this build's schema. */
static res_status check_merge(res_store *dst, const char *src_path, int64_t experiment_id,
                              res_store_reader *r, res_error *err) {
    const char *path = res_store_path(dst);
    struct stat a, b;
    if (stat(src_path, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        return res_store_fail(err, RES_EINVAL, "%s: cannot merge a database into itself", src_path);
    int version = res_store_reader_schema_version(r);
    if (version != RES_STORE_SCHEMA_VERSION)
        return res_store_fail(err, version < RES_STORE_SCHEMA_VERSION ? RES_ETOOOLD : RES_ETOONEW,
                              "%s: schema version %d; merging needs version %d ('admitsim "
                              "migrate --db %s' upgrades an older one)",
                              src_path, version, RES_STORE_SCHEMA_VERSION, src_path);
    if (experiment_id <= 0) return RES_OK;
    sqlite3 *db = res_store_db(dst);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM experiments WHERE experiment_id = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return res_store_fail_db(err, db, path, "reading the experiment");
    sqlite3_bind_int64(st, 1, experiment_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return RES_OK;
    if (rc != SQLITE_DONE) return res_store_fail_db(err, db, path, "reading the experiment");
    return res_store_fail(err, RES_ENOTFOUND, "%s: no experiment %lld", path,
                          (long long)experiment_id);
}

/* Copies the listed runs of the attached source, one transaction each. */
static res_status copy_runs(merge *m, const src_run *runs, size_t n, res_store_merge_result *out,
                            res_error *err) {
    res_status rc = RES_OK;
    sqlite3 *db = res_store_db(m->dst);
    for (size_t k = 0; rc == RES_OK && k < TABLES; k++)
        rc = prepare_copy(m, k, err);
    if (rc == RES_OK && (sqlite3_prepare_v2(db, KEY_SQL, -1, &m->key, NULL) != SQLITE_OK ||
                         sqlite3_prepare_v2(db, HELD_SQL, -1, &m->held, NULL) != SQLITE_OK ||
                         sqlite3_prepare_v2(db, SAME_SQL, -1, &m->same, NULL) != SQLITE_OK))
        rc = res_store_fail_db(err, db, res_store_path(m->dst), "preparing the merge");
    for (size_t i = 0; rc == RES_OK && i < n; i++) {
        m->src_run = runs[i].run_id;
        m->abandoned = runs[i].abandoned;
        rc = res_store_in_transaction(m->dst, copy_run, m, "merging a run", err);
        if (rc != RES_OK) break;
        if (m->skipped) {
            out->skipped++;
            continue;
        }
        out->runs++;
        if (!out->first_run_id) out->first_run_id = m->new_run;
        out->last_run_id = m->new_run;
        sqlite3_db_release_memory(res_store_db(m->dst));
    }
    for (size_t k = 0; k < TABLES; k++)
        sqlite3_finalize(m->copy[k]);
    sqlite3_finalize(m->key);
    sqlite3_finalize(m->held);
    sqlite3_finalize(m->same);
    return rc;
}

/* Attaches src_path read-only as merge_src, copies, detaches. */
static res_status merge_attached(merge *m, const char *src_path, const src_run *runs, size_t n,
                                 res_store_merge_result *out, res_error *err) {
    sqlite3 *db = res_store_db(m->dst);
    char uri[4200];
    res_store_uri(uri, sizeof uri, src_path, "mode=ro");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "ATTACH ?1 AS merge_src", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, uri, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return res_store_fail(err, RES_ESTORE, "%s: cannot open it to merge: %s", src_path,
                              sqlite3_errmsg(db));
    res_status status = copy_runs(m, runs, n, out, err);
    if (sqlite3_exec(db, "DETACH merge_src", NULL, NULL, NULL) != SQLITE_OK && status == RES_OK)
        status =
            res_store_fail_db(err, db, res_store_path(m->dst), "detaching the merged database");
    return status;
}

res_status res_store_merge(res_store *dst, const char *src_path, int64_t experiment_id,
                           res_store_merge_result *out, res_error *err) {
    res_store_merge_result scratch;
    if (!out) out = &scratch;
    *out = (res_store_merge_result){0};
    res_status rc = res_store_check_current(dst, err);
    if (rc != RES_OK) return rc;
    res_store_reader *r = NULL;
    rc = res_store_reader_open(src_path, &r, err);
    if (rc == RES_OK) rc = check_merge(dst, src_path, experiment_id, r, err);
    src_run *runs = NULL;
    size_t n = 0;
    if (rc == RES_OK) rc = list_runs(r, src_path, &runs, &n, err);
    res_store_reader_close(r);
    if (rc == RES_OK) {
        merge m = {.dst = dst, .experiment_id = experiment_id, .src_path = src_path};
        rc = merge_attached(&m, src_path, runs, n, out, err);
    }
    free(runs);
    return rc;
}
