/* Experiments in the results store (res/store.h, schema version 6): an
** A/B experiment or a sweep is one experiments row, written when it begins
** and again when it ends with its verdict; its runs are ordinary runs that
** name it. */
#include <stdio.h>
#include <string.h>

#include "res/artifact.h"
#include "res/store.h"
#include "store_error.h"
#include "store_int.h"
#include "store_liveness.h"

static const char *const kind_names[] = {[RES_EXPERIMENT_AB] = "ab",
                                         [RES_EXPERIMENT_SWEEP] = "sweep",
                                         [RES_EXPERIMENT_SEARCH] = "search"};

const char *res_experiment_kind_name(res_experiment_kind kind) {
    return kind_names[kind];
}

typedef struct new_experiment {
    const res_store_experiment_info *info;
    int64_t experiment_id;
} new_experiment;

static res_status insert_experiment(res_store *s, void *arg, res_error *err) {
    new_experiment *ne = arg;
    const res_store_experiment_info *info = ne->info;
    sqlite3 *db = res_store_db(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO experiments (kind, scenario_id, scenario_file, name,"
                           " baseline_arm, candidate_arm, seeds, harness_version, command_line,"
                           " created_at, status, writer_host, writer_pid, writer_instance,"
                           " heartbeat_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                           " 'running', ?11, ?12, ?13, ?10)",
                           -1, &st, NULL) != SQLITE_OK)
        return res_store_fail_db(err, db, res_store_path(s), "preparing the experiment");
    char now[64];
    res_store_utc_now(now, sizeof now);
    res_writer_id self;
    res_writer_self(&self);
    sqlite3_bind_text(st, 1, kind_names[info->kind], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, info->scenario_id, -1, SQLITE_TRANSIENT);
    res_store_bind_text(st, 3, info->scenario_file);
    res_store_bind_text(st, 4, info->name);
    res_store_bind_text(st, 5, info->baseline_arm);
    res_store_bind_text(st, 6, info->candidate_arm);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)info->seeds);
    sqlite3_bind_text(st, 8, RES_HARNESS_VERSION, -1, SQLITE_STATIC);
    res_store_bind_text(st, 9, info->command_line);
    sqlite3_bind_text(st, 10, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 11, self.host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 12, self.pid);
    res_store_bind_text(st, 13, self.instance[0] ? self.instance : NULL);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return res_store_fail_db(err, db, res_store_path(s), "inserting the experiment");
    ne->experiment_id = sqlite3_last_insert_rowid(db);
    return RES_OK;
}

res_status res_store_begin_experiment(res_store *s, const res_store_experiment_info *info,
                                      int64_t *experiment_id, res_error *err) {
    res_status rc = res_store_check_current(s, err);
    if (rc != RES_OK) return rc;
    if ((unsigned)info->kind >= sizeof kind_names / sizeof *kind_names || !info->scenario_id)
        return res_store_fail(err, RES_EINVAL, "%s: an experiment needs a kind and a scenario",
                              res_store_path(s));
    new_experiment ne = {info, 0};
    rc = res_store_in_transaction(s, insert_experiment, &ne, "inserting the experiment", err);
    if (rc == RES_OK) *experiment_id = ne.experiment_id;
    return rc;
}

typedef struct experiment_end {
    int64_t experiment_id;
    const char *status, *result_json;
} experiment_end;

static res_status update_experiment(res_store *s, void *arg, res_error *err) {
    const experiment_end *e = arg;
    sqlite3 *db = res_store_db(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(
            db,
            "UPDATE experiments SET status = ?2, finished_at = ?3, heartbeat_at = ?3,"
            " result_json = ?4 WHERE experiment_id = ?1",
            -1, &st, NULL) != SQLITE_OK)
        return res_store_fail_db(err, db, res_store_path(s), "finishing the experiment");
    char now[64];
    res_store_utc_now(now, sizeof now);
    sqlite3_bind_int64(st, 1, e->experiment_id);
    sqlite3_bind_text(st, 2, e->status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
    res_store_bind_text(st, 4, e->result_json);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return res_store_fail_db(err, db, res_store_path(s), "finishing the experiment");
    if (sqlite3_changes(db) == 0)
        return res_store_fail(err, RES_ENOTFOUND, "%s: no experiment %lld", res_store_path(s),
                              (long long)e->experiment_id);
    return RES_OK;
}

res_status res_store_finish_experiment(res_store *s, int64_t experiment_id, const char *status,
                                       const char *result_json, res_error *err) {
    res_status rc = res_store_check_current(s, err);
    if (rc == RES_OK && (!status || (strcmp(status, "complete") && strcmp(status, "failed"))))
        rc = res_store_fail(err, RES_EINVAL,
                            "%s: an experiment ends 'complete' or 'failed', not '%s'",
                            res_store_path(s), status ? status : "(null)");
    if (rc == RES_OK && result_json)
        rc = res_store_check_json(s, result_json, false, "the result of an experiment", err);
    if (rc != RES_OK) return rc;
    experiment_end e = {experiment_id, status, result_json};
    return res_store_in_transaction(s, update_experiment, &e, "finishing the experiment", err);
}
