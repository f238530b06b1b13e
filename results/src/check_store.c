/*
** The regression check's stored inputs (res/check.h): run:ID and
** experiment:ID read from a results database through its reader, each run
** made into the document an artifact gives the check (res_check_run_in),
** with its metrics in the flat namespace.  The store keeps no check
** section: it comes from the run's scenario file when that still holds the
** run's scenario, else the run says why it is unknown.
*/
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_int.h"
#include "res/artifact.h"
#include "res/store_reader.h"
#include "run/config.h"

#define RUN_PREFIX        "run:"
#define EXPERIMENT_PREFIX "experiment:"

bool res_check_spec_is_stored(const char *spec) {
    return strncmp(spec, RUN_PREFIX, strlen(RUN_PREFIX)) == 0 ||
           strncmp(spec, EXPERIMENT_PREFIX, strlen(EXPERIMENT_PREFIX)) == 0;
}

/* The ID of "<prefix>ID": a positive decimal integer. */
static bool parse_id(const char *spec, const char *prefix, const char *lister, int64_t *id,
                     res_error *err) {
    const char *p = spec + strlen(prefix);
    char *end = NULL;
    errno = 0;
    long long v = isdigit((unsigned char)*p) ? strtoll(p, &end, 10) : 0;
    if (v <= 0 || errno || !end || *end)
        return res_error_set(err, RES_EINVAL,
                             "%s: expected %sID, ID a positive number (`admitsim %s` lists them)",
                             spec, prefix, lister);
    *id = v;
    return true;
}

/* A figure at the precision an artifact records it (15 significant
** digits, as json_dumps with JSON_REAL_PRECISION(15) writes it). */
static double at_artifact_precision(double v) {
    char text[64];
    snprintf(text, sizeof text, "%.15g", v);
    return strtod(text, NULL);
}

/* ---- the check section ------------------------------------------------------------ */

/* The run's check section from its scenario file (NULL: none), or NULL with
** why it is unknown in unknown. */
static json_t *stored_check(const res_run_row *row, char *unknown, size_t n) {
    const char *file = row->scenario_file;
    if (!file || !file[0]) {
        snprintf(unknown, n, "run %lld names no scenario file: its check section is unknown",
                 (long long)row->run_id);
        return NULL;
    }
    if (access(file, F_OK) != 0) {
        snprintf(unknown, n, "the scenario file %s is gone, its check section unknown", file);
        return NULL;
    }
    run_error rerr = {0};
    run_config *c = run_config_load_arm(file, row->arm, &rerr);
    json_t *check = NULL;
    if (!c)
        snprintf(unknown, n,
                 "the scenario file %.250s no longer loads (%.250s): its check section unknown",
                 file, rerr.message);
    else if (strcmp(c->scenario_id, row->scenario_id) != 0 ||
             c->scenario_version != row->scenario_version)
        snprintf(unknown, n,
                 "the scenario file %s now holds %s version %lld, not the run's %s version %lld: "
                 "its check section unknown",
                 file, c->scenario_id, (long long)c->scenario_version, row->scenario_id,
                 (long long)row->scenario_version);
    else
        check = res_artifact_check_json(&c->check);
    run_config_free(c);
    return check;
}

/* ---- one run ------------------------------------------------------------------------ */

/* scenario_id and inputs of a run row (copied: the row's strings are the
** reader's). */
static json_t *stored_doc(const res_run_row *row, res_check_run_in *scratch) {
    json_t *inputs = json_pack("{s:s, s:I}", "policy", row->policy, "seed", (json_int_t)row->seed);
    if (inputs && row->scenario_file)
        json_object_set_new(inputs, "scenario_file", res_json_string_lossy(row->scenario_file));
    if (inputs && row->arm) json_object_set_new(inputs, "arm", json_string(row->arm));
    json_t *check = stored_check(row, scratch->check_unknown, sizeof scratch->check_unknown);
    if (inputs && check) json_object_set(inputs, "check", check);
    json_decref(check);
    return inputs ? json_pack("{s:s, s:o, s:[]}", "scenario_id", row->scenario_id, "inputs", inputs,
                              "iterations")
                  : NULL;
}

/* The iterations rows: status, wall time, the all-columns output hash and
** the row's final leases and waiters. */
static bool stored_iterations(res_store_reader *r, int64_t id, json_t *its, const char *path,
                              res_error *err) {
    res_store_cursor *c = NULL;
    if (res_store_reader_iterations(r, id, &c, err) != RES_OK) return false;
    res_iteration_row row;
    res_cursor_step step = RES_CURSOR_ERROR;
    bool ok = true;
    while (ok && (step = res_store_cursor_next_iteration(c, &row, err)) == RES_CURSOR_ROW) {
        if (row.iteration != (int64_t)json_array_size(its)) {
            ok = res_error_set(err, RES_EINVAL, "%s: iteration %lld stored where %zu was expected",
                               path, (long long)row.iteration, json_array_size(its));
            break;
        }
        json_t *it = json_pack("{s:I, s:s, s:f, s:{s:s}, s:{s:I, s:I, s:I}, s:{}}", "iteration",
                               (json_int_t)row.iteration, "status", row.status, "wall_time_seconds",
                               row.wall_time_seconds, "output_hashes", "all", row.output_hash,
                               "recorded_final", "task_leases", (json_int_t)row.final_task_leases,
                               "request_leases", (json_int_t)row.final_request_leases, "waiters",
                               (json_int_t)row.final_request_waiters, "stats");
        ok = it && json_array_append_new(its, it) == 0;
        if (!ok) res_error_set(err, RES_ENOMEM, "out of memory reading %s", path);
    }
    res_store_cursor_close(c);
    return ok && step == RES_CURSOR_DONE;
}

/* Iteration i of a stored run's document, or NULL with err set. */
static json_t *iteration_at(json_t *its, int64_t i, const char *what, const char *path,
                            res_error *err) {
    json_t *it = i >= 0 ? json_array_get(its, (size_t)i) : NULL;
    if (!it)
        res_error_set(err, RES_EINVAL, "%s: %s of iteration %lld, which is not stored", path, what,
                      (long long)i);
    return it;
}

/* The final_task and final_request snapshots into the iterations. */
static bool stored_snapshots(res_store_reader *r, int64_t id, json_t *its, const char *path,
                             res_error *err) {
    res_store_cursor *c = NULL;
    if (res_store_reader_snapshots(r, id, &c, err) != RES_OK) return false;
    res_snapshot_row row;
    res_cursor_step step = RES_CURSOR_ERROR;
    bool ok = true;
    while (ok && (step = res_store_cursor_next_snapshot(c, &row, err)) == RES_CURSOR_ROW) {
        const char *key = !strcmp(row.kind, "final_task")      ? "final_task_snapshot"
                          : !strcmp(row.kind, "final_request") ? "final_request_snapshot"
                                                               : NULL;
        if (!key) continue; /* a kind the check does not read */
        json_t *it = iteration_at(its, row.iteration, "a snapshot", path, err);
        json_t *snap = it && row.json ? json_loads(row.json, 0, NULL) : NULL;
        if (it && !json_is_object(snap))
            res_error_set(err, RES_EINVAL,
                          "%s: iteration %lld: its %s snapshot is not a JSON object", path,
                          (long long)row.iteration, row.kind);
        ok = it && json_is_object(snap) && json_object_set(it, key, snap) == 0;
        json_decref(snap);
    }
    res_store_cursor_close(c);
    if (!ok || step != RES_CURSOR_DONE) return false;
    size_t i;
    json_t *it;
    json_array_foreach(its, i, it) {
        const char *missing = !json_object_get(it, "final_task_snapshot")      ? "final_task"
                              : !json_object_get(it, "final_request_snapshot") ? "final_request"
                                                                               : NULL;
        if (missing)
            return res_error_set(err, RES_EINVAL, "%s: iteration %zu has no %s snapshot stored",
                                 path, i, missing);
    }
    return true;
}

/* The metrics rows: the flat ones into the run's sets, the scheduler's
** count of hidden waiters into its iteration's stats. */
static bool stored_metrics(res_store_reader *r, int64_t id, res_check_run_in *run, res_error *err) {
    res_store_cursor *c = NULL;
    if (res_store_reader_metrics(r, id, RES_ALL_ITERATIONS, NULL, &c, err) != RES_OK) return false;
    json_t *its = json_object_get(run->doc, "iterations");
    res_metric_row row;
    res_cursor_step step = RES_CURSOR_ERROR;
    bool ok = true;
    while (ok && (step = res_store_cursor_next_metric(c, &row, err)) == RES_CURSOR_ROW) {
        json_t *it = iteration_at(its, row.iteration, "a metric", run->path, err);
        char flat[RES_METRIC_NAME_MAX];
        if (!it)
            ok = false;
        else if (!row.value.set)
            continue; /* undefined for the run: absent, as null is in an artifact */
        else if (!strcmp(row.scope, "run") &&
                 !strcmp(row.name, "hidden_scheduler_resource_waiters"))
            ok = json_object_set_new(json_object_get(it, "stats"), row.name,
                                     json_integer((json_int_t)row.value.value)) == 0;
        else if (res_metric_name_of_stored(row.scope, row.name, flat, sizeof flat))
            ok = res_metric_set_add(&run->metrics[row.iteration], flat,
                                    at_artifact_precision(row.value.value));
        if (!ok && it) res_error_set(err, RES_ENOMEM, "out of memory reading %s", run->path);
    }
    res_store_cursor_close(c);
    return ok && step == RES_CURSOR_DONE;
}

/* Adds stored run id: only a complete one, all its iterations stored. */
static bool load_run(res_check_side *s, res_store_reader *r, const char *db, int64_t id,
                     res_error *err) {
    res_run_row row;
    if (res_store_reader_run(r, id, &row, err) != RES_OK) return false;
    res_check_run_in scratch = {0};
    snprintf(scratch.path, sizeof scratch.path, "run:%lld in %s", (long long)id, db);
    if (strcmp(row.state, "complete") != 0 || row.iterations_stored != row.iterations)
        return res_error_set(err, RES_EINVAL,
                             "%s: the run is %s, %lld of its %lld iterations stored: only a "
                             "complete run can be judged",
                             scratch.path, row.state, (long long)row.iterations_stored,
                             (long long)row.iterations);
    json_t *doc = stored_doc(&row, &scratch);
    json_t *its = json_object_get(doc, "iterations");
    bool ok = doc && stored_iterations(r, id, its, scratch.path, err) &&
              stored_snapshots(r, id, its, scratch.path, err);
    if (!doc) res_error_set(err, RES_ENOMEM, "out of memory reading %s", scratch.path);
    res_check_run_in *run = ok ? res_check_side_add(s, doc, scratch.path, err) : NULL;
    json_decref(doc);
    if (!run) return false;
    run->stored = true;
    memcpy(run->check_unknown, scratch.check_unknown, sizeof run->check_unknown);
    return stored_metrics(r, id, run, err);
}

/* ---- experiments -------------------------------------------------------------------- */

/* Adds every run of experiment id (arm: only that arm's; NULL: all).  The
** number added in *added. */
static bool load_experiment_runs(res_check_side *s, res_store_reader *r, const char *db, int64_t id,
                                 const char *arm, size_t *added, res_error *err) {
    res_store_cursor *c = NULL;
    if (res_store_reader_experiment_runs(r, id, &c, err) != RES_OK) return false;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    res_experiment_run_row row;
    res_cursor_step step = RES_CURSOR_ERROR;
    bool ok = true;
    while (ok && (step = res_store_cursor_next_experiment_run(c, &row, err)) == RES_CURSOR_ROW) {
        if (arm && (!row.arm || strcmp(row.arm, arm) != 0)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *p = realloc(ids, cap * sizeof *p);
            ok = p != NULL;
            if (p) ids = p;
        }
        if (ok) ids[n++] = row.run_id;
    }
    res_store_cursor_close(c);
    if (!ok) res_error_set(err, RES_ENOMEM, "out of memory reading %s", db);
    ok = ok && step == RES_CURSOR_DONE;
    for (size_t i = 0; ok && i < n; i++)
        ok = load_run(s, r, db, ids[i], err);
    free(ids);
    *added = n;
    return ok;
}

/* Experiment id's row, when it is complete. */
static bool complete_experiment(res_store_reader *r, const char *db, int64_t id,
                                res_experiment_row *e, res_error *err) {
    if (res_store_reader_experiment(r, id, e, err) != RES_OK) return false;
    if (strcmp(e->state, "complete") != 0)
        return res_error_set(err, RES_EINVAL,
                             "experiment:%lld in %s: the experiment is %s, %lld of its %lld runs "
                             "complete: only a complete experiment can be judged",
                             (long long)id, db, e->state, (long long)e->runs_complete,
                             (long long)e->runs);
    return true;
}

static bool load_experiment(res_check_side *s, res_store_reader *r, const char *db, int64_t id,
                            res_error *err) {
    res_experiment_row e;
    size_t added = 0;
    if (!complete_experiment(r, db, id, &e, err) ||
        !load_experiment_runs(s, r, db, id, NULL, &added, err))
        return false;
    if (added == 0)
        return res_error_set(err, RES_EINVAL, "experiment:%lld in %s: no runs stored",
                             (long long)id, db);
    return true;
}

bool res_check_store_load(res_check_side *s, const char *spec, const char *db_path,
                          res_error *err) {
    bool run = strncmp(spec, RUN_PREFIX, strlen(RUN_PREFIX)) == 0;
    int64_t id = 0;
    if (!(run ? parse_id(spec, RUN_PREFIX, "runs", &id, err)
              : parse_id(spec, EXPERIMENT_PREFIX, "experiments", &id, err)))
        return false;
    res_store_reader *r = NULL;
    if (res_store_reader_open(db_path, &r, err) != RES_OK) return false;
    bool ok = run ? load_run(s, r, db_path, id, err) : load_experiment(s, r, db_path, id, err);
    res_store_reader_close(r);
    return ok;
}

/* ---- one experiment's two arms ------------------------------------------------------ */

/* Keys by (scenario, seed), judged as label. */
static void pair_by_seed(res_check_side *s, const char *label) {
    for (size_t i = 0; i < s->count; i++) {
        res_check_run_in *run = &s->runs[i];
        const char *scenario = json_string_value(json_object_get(run->doc, "scenario_id"));
        snprintf(run->key, sizeof run->key, "%s / seed %lld", scenario, (long long)run->seed);
        snprintf(run->group, sizeof run->group, "%s / %s", scenario, label);
    }
}

/* The runs of one arm of an A/B experiment: at least one. */
static res_check_side *arm_side(res_store_reader *r, const char *db, int64_t id, const char *arm,
                                const char *role, res_error *err) {
    res_check_side *s = calloc(1, sizeof *s);
    size_t added = 0;
    if (!s) {
        res_error_set(err, RES_ENOMEM, "out of memory");
        return NULL;
    }
    if (load_experiment_runs(s, r, db, id, arm, &added, err) && added > 0) return s;
    if (added == 0)
        res_error_set(err, RES_EINVAL,
                      "experiment:%lld in %s: its %s arm \"%s\" has no stored runs (an arm "
                      "run by another build, --%s-bin, is not stored)",
                      (long long)id, db, role, arm, role);
    res_check_side_free(s);
    return NULL;
}

static bool experiment_arms(res_store_reader *r, const char *db, int64_t id, char arms[2][128],
                            res_error *err) {
    res_experiment_row e;
    if (!complete_experiment(r, db, id, &e, err)) return false;
    if (strcmp(e.kind, "ab") != 0 || !e.baseline_arm || !e.candidate_arm)
        return res_error_set(err, RES_EINVAL,
                             "experiment:%lld in %s: a %s, not an A/B experiment: name a "
                             "--baseline",
                             (long long)id, db, e.kind);
    if (strcmp(e.baseline_arm, e.candidate_arm) == 0)
        return res_error_set(err, RES_EINVAL,
                             "experiment:%lld in %s: both arms are %s, so its runs cannot be told "
                             "apart: name a --baseline",
                             (long long)id, db, e.baseline_arm);
    snprintf(arms[0], sizeof arms[0], "%s", e.candidate_arm);
    snprintf(arms[1], sizeof arms[1], "%s", e.baseline_arm);
    return true;
}

bool res_check_sides_of_experiment(const char *spec, const char *db_path,
                                   res_check_side **candidate, res_check_side **baseline,
                                   res_error *err) {
    const char *db = db_path ? db_path : RES_STORE_DEFAULT_PATH;
    int64_t id = 0;
    *candidate = *baseline = NULL;
    if (strncmp(spec, EXPERIMENT_PREFIX, strlen(EXPERIMENT_PREFIX)) != 0)
        return res_error_set(err, RES_EINVAL,
                             "%s: without --baseline the candidate must be experiment:ID", spec);
    if (!parse_id(spec, EXPERIMENT_PREFIX, "experiments", &id, err)) return false;
    res_store_reader *r = NULL;
    if (res_store_reader_open(db, &r, err) != RES_OK) return false;
    char arms[2][128], label[300];
    if (experiment_arms(r, db, id, arms, err)) {
        *candidate = arm_side(r, db, id, arms[0], "candidate", err);
        *baseline = *candidate ? arm_side(r, db, id, arms[1], "baseline", err) : NULL;
    }
    res_store_reader_close(r);
    if (!*baseline) {
        res_check_side_free(*candidate);
        *candidate = NULL;
        return false;
    }
    snprintf(label, sizeof label, "%s vs %s", arms[0], arms[1]);
    pair_by_seed(*candidate, label);
    pair_by_seed(*baseline, label);
    if (res_check_side_is_unique(*candidate, err) && res_check_side_is_unique(*baseline, err))
        return true;
    res_check_side_free(*candidate);
    res_check_side_free(*baseline);
    *candidate = *baseline = NULL;
    return false;
}
