#define _XOPEN_SOURCE 700 /* realpath */
/* The end of a sweep (sweep.h): every shard's database merged into one
** store under one experiment, each point's figures over its seeds, stored
** as the experiment's result, written to DIR/result.json and printed.
**
** The experiment a directory's shards merge into is in the journal
** ({"event": "experiment", "db", "experiment_id"}): a resumed or repeated
** finish reuses it, and merging is idempotent (res_store_merge), so the
** store ends with exactly one run per (point, seed) however often this
** runs.  Shards merge in index order, runs within a shard in order: the
** run ids are the same whatever the engine or --jobs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "res/compare.h"
#include "res/report_files.h"
#include "res/store.h"
#include "res/store_reader.h"
#include "sweep.h"

json_t *sweep_figures_json(const double *v, size_t n) {
    res_spread s;
    res_spread_of(v, n, &s);
    json_t *lo = json_null(), *hi = json_null();
    if (n >= 2) {
        double half = res_t_quantile_975(n - 1) * s.stddev / sqrt((double)n);
        lo = json_real(s.mean - half);
        hi = json_real(s.mean + half);
    }
    return json_pack("{s:I, s:f, s:f, s:o, s:o, s:f, s:f}", "n", (json_int_t)n, "mean", s.mean,
                     "stddev", s.stddev, "ci95_low", lo, "ci95_high", hi, "min", s.min, "max",
                     s.max);
}

/* The shard's JSON (new reference), or NULL. */
static json_t *shard_json(const sweep_dir *d, size_t k) {
    char path[SWEEP_PATH_MAX + 64];
    sweep_shard_json_path(d->path, k, path, sizeof path);
    return json_load_file(path, 0, NULL);
}

/* ---- the experiment ------------------------------------------------------------ */

static bool same_text(const char *a, const char *b) {
    return a && b && !strcmp(a, b);
}

/* The experiment this directory began in the store at db, when it is
** still there; 0 otherwise.  "Still there" is the same experiment, not its
** id: a database made anew at db (removed, or another store moved there)
** may give that id to another experiment, whose runs and result this
** directory's must not join or replace. */
static int64_t earlier_experiment(const sweep_dir *d, const char *db,
                                  const res_store_experiment_info *info) {
    json_t *journal = sweep_journal_read(d->path);
    int64_t id = 0;
    const char *created = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(journal, i, e) {
        const char *ev = json_string_value(json_object_get(e, "event"));
        const char *at = json_string_value(json_object_get(e, "db"));
        if (ev && at && !strcmp(ev, "experiment") && !strcmp(at, db)) {
            id = json_integer_value(json_object_get(e, "experiment_id"));
            created = json_string_value(json_object_get(e, "created_at"));
        }
    }
    res_store_reader *r = NULL;
    res_experiment_row row;
    if (id > 0 &&
        (res_store_reader_open(db, &r, NULL) != RES_OK ||
         res_store_reader_experiment(r, id, &row, NULL) != RES_OK ||
         !same_text(row.kind, res_experiment_kind_name(info->kind)) ||
         !same_text(row.name, info->name) || !same_text(row.scenario_id, info->scenario_id) ||
         (created && !same_text(row.created_at, created))))
        id = 0;
    res_store_reader_close(r);
    json_decref(journal);
    return id;
}

/* When experiment id of the store at db was created (for the journal), or
** NULL; a new reference. */
static json_t *created_at(const char *db, int64_t id) {
    res_store_reader *r = NULL;
    res_experiment_row row;
    json_t *at = NULL;
    if (res_store_reader_open(db, &r, NULL) == RES_OK &&
        res_store_reader_experiment(r, id, &row, NULL) == RES_OK && row.created_at)
        at = json_string(row.created_at);
    res_store_reader_close(r);
    return at ? at : json_null();
}

int64_t sweep_result_experiment(const sweep_dir *d, res_store *s, const char *db,
                                const res_store_experiment_info *info, const char *who) {
    int64_t id = earlier_experiment(d, db, info);
    if (id > 0) return id;
    res_error err;
    if (res_store_begin_experiment(s, info, &id, &err) != RES_OK) {
        fprintf(stderr, "%s: %s\n", who, err.message);
        return 0;
    }
    sweep_journal(d->path,
                  json_pack("{s:s, s:s, s:I, s:o}", "event", "experiment", "db", db,
                            "experiment_id", (json_int_t)id, "created_at", created_at(db, id)));
    return id;
}

/* "arm\nseed" of a run, the key of the set below. */
static void point_seed_key(const char *arm, long long seed, char *buf, size_t len) {
    snprintf(buf, len, "%s\n%lld", arm ? arm : "", seed);
}

/* The (arm, seed) of every run experiment id holds in db, as the keys of
** an object (new reference); NULL with the reason on stderr. */
static json_t *held_runs(const char *db, int64_t id, const char *who) {
    res_store_reader *r = NULL;
    res_store_cursor *c = NULL;
    res_error err;
    json_t *set = json_object();
    res_status st = res_store_reader_open(db, &r, &err);
    if (st == RES_OK) st = res_store_reader_experiment_runs(r, id, &c, &err);
    res_experiment_run_row row;
    res_cursor_step step = RES_CURSOR_DONE;
    while (st == RES_OK &&
           (step = res_store_cursor_next_experiment_run(c, &row, &err)) == RES_CURSOR_ROW) {
        char key[1200];
        point_seed_key(row.arm, (long long)row.seed, key, sizeof key);
        json_object_set_new(set, key, json_true());
    }
    if (st == RES_OK && step == RES_CURSOR_ERROR) st = err.code ? err.code : RES_ESTORE;
    res_store_cursor_close(c);
    res_store_reader_close(r);
    if (st == RES_OK) return set;
    fprintf(stderr, "%s: %s\n", who, err.message);
    json_decref(set);
    return NULL;
}

/* How many of the shard's runs (its JSON's) the experiment holds (their
** point and seed); with add, they are added to the set. */
static size_t shard_runs_held(json_t *set, const json_t *shard, bool add) {
    size_t i, n = 0;
    json_t *run;
    json_array_foreach(json_object_get(shard, "runs"), i, run) {
        char key[1200];
        point_seed_key(json_string_value(json_object_get(run, "arm")),
                       (long long)json_integer_value(json_object_get(run, "seed")), key,
                       sizeof key);
        n += json_object_get(set, key) != NULL;
        if (add) json_object_set_new(set, key, json_true());
    }
    return n;
}

/* Every shard's database into the experiment, in shard order.  A shard
** whose every run (point, seed) the experiment holds already is not merged
** again: its runs are there, from this database or from an earlier one of
** the same shard (run again after its files were removed), which merging
** would store a second time. */
bool sweep_result_merge(const sweep_plan *p, const sweep_dir *d, res_store *s, int64_t id,
                        const char *db_path, const char *who, uint64_t *runs, uint64_t *skipped) {
    json_t *held = held_runs(db_path, id, who);
    if (!held) return false;
    for (size_t k = 0; k < p->nshards; k++) {
        json_t *j = shard_json(d, k);
        const char *name = json_string_value(json_object_get(j, "db"));
        size_t count = json_array_size(json_object_get(j, "runs"));
        if (name && count && shard_runs_held(held, j, false) == count) {
            *skipped += count;
            json_decref(j);
            continue;
        }
        char db[2 * SWEEP_PATH_MAX];
        snprintf(db, sizeof db, "%s/shards/%s", d->path, name ? name : "?");
        res_store_merge_result out;
        res_error err;
        res_status st = name ? res_store_merge(s, db, id, &out, &err) : RES_ENOTFOUND;
        if (st == RES_OK) shard_runs_held(held, j, true);
        json_decref(j);
        if (st != RES_OK) {
            fprintf(stderr, "%s: shard %zu: %s\n", who, k,
                    name ? err.message : "its JSON names no database");
            json_decref(held);
            return false;
        }
        *runs += out.runs;
        *skipped += out.skipped;
    }
    json_decref(held);
    return true;
}

bool sweep_result_holds(const char *db, const char *shown, int64_t id, size_t want,
                        const char *what, const char *who) {
    res_store_reader *r = NULL;
    res_experiment_row row;
    res_error err;
    if (res_store_reader_open(db, &r, &err) != RES_OK ||
        res_store_reader_experiment(r, id, &row, &err) != RES_OK) {
        fprintf(stderr, "%s: %s\n", who, err.message);
        res_store_reader_close(r);
        return false;
    }
    int64_t held = row.runs;
    res_store_reader_close(r);
    if (held == (int64_t)want) return true;
    if (held > (int64_t)want)
        fprintf(stderr,
                "%s: experiment %lld in %s holds %lld runs, more than the %s's %zu: a "
                "(point, seed) is stored more than once\n",
                who, (long long)id, shown, (long long)held, what, want);
    else
        fprintf(stderr,
                "%s: experiment %lld in %s holds %lld of the %s's %zu runs: the others were in "
                "%s before, outside this experiment (its shards or another copy of its runs "
                "merged there by admitsim merge, or the directory copied with its database); "
                "merge into another --db\n",
                who, (long long)id, shown, (long long)held, what, want, shown);
    return false;
}

/* Every shard of d into the experiment, saying how many runs; then every
** run of the plan must be the experiment's (sweep_result_holds). */
static bool merge_shards(const sweep_plan *p, const sweep_dir *d, res_store *s, int64_t id,
                         const char *db, const sweep_result_options *o) {
    uint64_t runs = 0, skipped = 0;
    if (!sweep_result_merge(p, d, s, id, db, o->who, &runs, &skipped)) return false;
    if (!o->quiet)
        fprintf(stderr, "%s: merged %llu run%s into %s%s\n", o->who, (unsigned long long)runs,
                runs == 1 ? "" : "s", o->db_path,
                skipped ? " (the others were merged before)" : "");
    return sweep_result_holds(db, o->db_path, id, sweep_plan_runs(p), "sweep", o->who);
}

/* ---- figures ------------------------------------------------------------------- */

/* values[point] = {metric: [value per seed]}; runs[point]: the point's
** runs (a metric a run does not record, such as a request resource's wait
** percentiles when it had no requests, has fewer values); names: the
** metrics in the order first seen. */
static bool gather(const sweep_plan *p, const sweep_dir *d, json_t *values, size_t *runs,
                   json_t *names) {
    for (size_t i = 0; i < p->npoints; i++)
        json_array_append_new(values, json_object());
    for (size_t k = 0; k < p->nshards; k++) {
        json_t *j = shard_json(d, k), *run;
        size_t i;
        json_array_foreach(json_object_get(j, "runs"), i, run) {
            size_t point = (size_t)json_integer_value(json_object_get(run, "point"));
            json_t *at = json_array_get(values, point);
            if (point < p->npoints) runs[point]++;
            const char *name;
            json_t *v;
            json_object_foreach(json_object_get(run, "metrics"), name, v) {
                if (!json_object_get(at, name)) json_object_set_new(at, name, json_array());
                json_array_append(json_object_get(at, name), v);
                size_t n;
                json_t *seen;
                bool known = false;
                json_array_foreach(names, n, seen) known =
                    known || !strcmp(json_string_value(seen), name);
                if (!known) json_array_append_new(names, json_string(name));
            }
        }
        json_decref(j);
    }
    return true;
}

static const char *direction_name(const char *metric) {
    res_direction dir = res_metric_direction(metric);
    return dir == RES_LOWER_IS_BETTER ? "lower" : dir == RES_HIGHER_IS_BETTER ? "higher" : "none";
}

/* One point's figures: "runs" the most values any metric has (as it
** always was), "n" the point's runs, each metric's "n" its values. */
static json_t *point_json(const sweep_plan *p, size_t point, json_t *values, size_t nruns,
                          json_t *names) {
    json_t *metrics = json_object(), *name;
    size_t i, runs = 0;
    json_array_foreach(names, i, name) {
        json_t *vals = json_object_get(values, json_string_value(name));
        size_t n = json_array_size(vals);
        double *v = calloc(n ? n : 1, sizeof *v);
        for (size_t k = 0; v && k < n; k++)
            v[k] = json_number_value(json_array_get(vals, k));
        if (n) json_object_set_new(metrics, json_string_value(name), sweep_figures_json(v, n));
        if (n > runs) runs = n;
        free(v);
    }
    char label[SWEEP_LABEL_MAX];
    sweep_point_label(p, point, label, sizeof label);
    return json_pack("{s:I, s:s, s:o, s:I, s:o, s:I}", "point", (json_int_t)point, "arm", label,
                     "parameters", sweep_point_values(p, point), "runs", (json_int_t)runs,
                     "metrics", metrics, "n", (json_int_t)nruns);
}

json_t *sweep_result_json(const sweep_plan *p, const sweep_dir *d, int64_t id) {
    json_t *values = json_array(), *names = json_array(), *points = json_array();
    size_t *runs = calloc(p->npoints ? p->npoints : 1, sizeof *runs);
    if (!runs) {
        json_decref(values);
        json_decref(names);
        json_decref(points);
        return NULL;
    }
    gather(p, d, values, runs, names);
    for (size_t i = 0; i < p->npoints; i++)
        json_array_append_new(points, point_json(p, i, json_array_get(values, i), runs[i], names));
    free(runs);
    json_t *directions = json_object(), *name;
    size_t i;
    json_array_foreach(names, i, name) json_object_set_new(
        directions, json_string_value(name), json_string(direction_name(json_string_value(name))));
    json_t *plan = sweep_plan_json(p);
    json_t *r = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:O, s:O, s:o, s:o, s:o}", "kind", "sweep", "sweep_id",
        p->sweep_id, "scenario_id", p->scenario_id, "arm", p->arm, "experiment_id", (json_int_t)id,
        "parameters", json_object_get(plan, "parameters"), "seeds", json_object_get(plan, "seeds"),
        "metrics", names, "directions", directions, "points", points);
    json_decref(plan);
    json_decref(values);
    return r;
}

/* ---- printing ------------------------------------------------------------------ */

static void print_number(FILE *f, const json_t *v, int width) {
    if (json_is_number(v))
        fprintf(f, "  %*.*g", width, 6, json_number_value(v));
    else
        fprintf(f, "  %*s", width, "-");
}

/* A table per metric: a row per point, its parameters, n (the runs whose
** figures it averages: fewer than the point's when some runs lack the
** metric, said below the table) and figures. */
static void print_tables(const sweep_plan *p, json_t *r, FILE *f) {
    json_t *name;
    size_t i;
    fprintf(f, "sweep %s: scenario %s, %zu point%s x %zu seed%s (experiment %lld)\n", p->sweep_id,
            p->scenario_id, p->npoints, p->npoints == 1 ? "" : "s", p->nseeds,
            p->nseeds == 1 ? "" : "s",
            (long long)json_integer_value(json_object_get(r, "experiment_id")));
    json_array_foreach(json_object_get(r, "metrics"), i, name) {
        const char *m = json_string_value(name);
        fprintf(f, "\n%s (%s is better; mean and 95%% interval over the seeds)\n", m,
                direction_name(m));
        int width[SWEEP_MAX_PARAMS];
        for (size_t k = 0; k < p->nparams; k++) {
            width[k] = (int)strlen(p->params[k].name);
            fprintf(f, "%s%s", k ? "  " : "  ", p->params[k].name);
        }
        fprintf(f, "  %5s  %12s  %12s  %12s  %12s  %12s\n", "n", "mean", "ci95_low", "ci95_high",
                "min", "max");
        json_t *pt;
        size_t j;
        bool fewer = false;
        json_array_foreach(json_object_get(r, "points"), j, pt) {
            for (size_t k = 0; k < p->nparams; k++) {
                char v[SWEEP_VALUE_TEXT_MAX];
                sweep_value_text(sweep_point_value(p, j, k), v, sizeof v);
                fprintf(f, "  %*s", width[k], v);
            }
            json_t *fig = json_object_get(json_object_get(pt, "metrics"), m);
            json_int_t n = json_integer_value(json_object_get(fig, "n"));
            fewer = fewer || n < json_integer_value(json_object_get(pt, "n"));
            fprintf(f, "  %5lld", (long long)n);
            static const char *const cols[] = {"mean", "ci95_low", "ci95_high", "min", "max"};
            for (int c = 0; c < 5; c++)
                print_number(f, json_object_get(fig, cols[c]), 12);
            fputc('\n', f);
        }
        if (fewer)
            fprintf(f, "  (n below %zu: the other seeds' runs do not record this metric)\n",
                    p->nseeds);
    }
}

/* ---- the whole -------------------------------------------------------------- */

bool sweep_shards_are_complete(const sweep_plan *p, const sweep_dir *d, const char *who) {
    for (size_t k = 0; k < p->nshards; k++)
        if (!sweep_shard_is_complete(d->path, k)) {
            fprintf(stderr, "%s: shard %zu is not complete\n", who, k);
            return false;
        }
    return true;
}

/* Stores r as the experiment's result and writes DIR/result.json. */
bool sweep_result_store(const sweep_dir *d, res_store *s, int64_t id, json_t *r, const char *who) {
    char *text = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(15));
    char *pretty = json_dumps(r, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
    res_error err;
    char why[1024] = "out of memory";
    bool ok =
        text && pretty && res_store_finish_experiment(s, id, "complete", text, &err) == RES_OK;
    if (text && pretty && !ok) snprintf(why, sizeof why, "%s", err.message);
    ok = ok && res_write_text_atomic(pretty, d->path, "result.json", why, sizeof why) == 0;
    if (!ok) fprintf(stderr, "%s: %s\n", who, why);
    free(text);
    free(pretty);
    return ok;
}

int sweep_result_finish(const sweep_plan *p, const sweep_dir *d, const sweep_result_options *o,
                        json_t **result, int64_t *experiment_id) {
    if (result) *result = NULL;
    if (!sweep_shards_are_complete(p, d, o->who)) return EXIT_FAILURE_RUN;
    res_store *s = NULL;
    res_error err;
    if (res_store_open(o->db_path, RES_STORE_OPEN_CREATE, &s, &err) != RES_OK) {
        fprintf(stderr, "%s: %s\n", o->who, err.message);
        return EXIT_FAILURE_RUN;
    }
    char db[SWEEP_PATH_MAX];
    if (!realpath(o->db_path, db)) snprintf(db, sizeof db, "%s", o->db_path);
    res_store_experiment_info info = {.kind = (res_experiment_kind)o->kind,
                                      .scenario_id = p->scenario_id,
                                      .scenario_file = p->scenario,
                                      .name = o->name ? o->name : p->sweep_id,
                                      .seeds = p->nseeds,
                                      .command_line = o->command_line};
    int64_t id = sweep_result_experiment(d, s, db, &info, o->who);
    json_t *r = NULL;
    bool ok = id > 0 && merge_shards(p, d, s, id, db, o);
    if (ok && !(r = sweep_result_json(p, d, id)))
        fprintf(stderr, "%s: out of memory building the result\n", o->who);
    ok = ok && r && sweep_result_store(d, s, id, r, o->who);
    if (!ok && id > 0) res_store_finish_experiment(s, id, "failed", NULL, NULL);
    res_store_close(s);
    if (ok) {
        sweep_journal(d->path, json_pack("{s:s, s:s, s:I}", "event", "complete", "db", db,
                                         "experiment_id", (json_int_t)id));
        sweep_dir_clean(d->path);
        if (o->json) {
            json_dumpf(r, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
            fputc('\n', stdout);
        } else if (!o->quiet) {
            print_tables(p, r, stdout);
        }
    }
    if (experiment_id) *experiment_id = id;
    if (result && ok)
        *result = r;
    else
        json_decref(r);
    return ok ? EXIT_OK : EXIT_FAILURE_RUN;
}
