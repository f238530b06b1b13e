#define _XOPEN_SOURCE 700 /* realpath */
/* The sweep file (sweep.h): read, checked and expanded into points, runs
** and shards. */
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "res/artifact.h"
#include "res/stats.h"
#include "run/arms.h"
#include "run/json_reader.h"
#include "sweep.h"

typedef run_json_node node;

static const char *const SWEEP_KEYS[] = {"schema",     "sweep_id",   "description", "scenario",
                                         "arm",        "parameters", "seeds",       "metrics",
                                         "shard_size", NULL};

static bool valid_id(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= SWEEP_ID_MAX) return false;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *s))
            return false;
    return true;
}

/* ---- values --------------------------------------------------------------- */

/* x with 12 significant digits: 0.1 + 2 * 0.2 is 0.5, not 0.5000000000000001. */
static double tidy(double x) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.12g", x);
    return strtod(buf, NULL);
}

/* {"from", "to", "step"} or {"from", "to", "count"} into an array. */
static bool read_range(const node *n, json_t **out) {
    static const char *const keys[] = {"from", "to", "step", "count", NULL};
    node from, to, step, count;
    if (!run_json_as_object(n, keys) || !run_json_field(n, "from", true, &from) ||
        !run_json_field(n, "to", true, &to) || !run_json_field(n, "step", false, &step) ||
        !run_json_field(n, "count", false, &count))
        return false;
    if (!step.v == !count.v) return run_json_fail(n, "expected exactly one of step and count");
    double lo, hi, by = 0;
    int64_t k = 0;
    if (!run_json_as_num(&from, -1e15, 1e15, false, &lo) ||
        !run_json_as_num(&to, lo, 1e15, false, &hi) ||
        (step.v && !run_json_as_num(&step, 0, 1e15, true, &by)) ||
        (count.v && !run_json_as_int(&count, 1, SWEEP_MAX_VALUES, &k)))
        return false;
    bool ints =
        json_is_integer(from.v) && json_is_integer(to.v) &&
        (step.v ? json_is_integer(step.v) : (k <= 1 || fmod(hi - lo, (double)(k - 1)) == 0));
    if (step.v) {
        double steps = floor((hi - lo) / by + 1e-9);
        if (steps + 1 > SWEEP_MAX_VALUES)
            return run_json_fail(n, "expected at most %d values, got %.0f", SWEEP_MAX_VALUES,
                                 steps + 1);
        k = (int64_t)steps + 1;
    } else {
        by = k > 1 ? (hi - lo) / (double)(k - 1) : 0;
    }
    if (!(*out = json_array())) return run_json_fail(n, "out of memory");
    for (int64_t i = 0; i < k; i++) {
        double v = lo + (double)i * by;
        json_array_append_new(*out,
                              ints ? json_integer((json_int_t)llround(v)) : json_real(tidy(v)));
    }
    return true;
}

/* True when a value's text has a "," followed by an "=" before the next
** ",": in a point's arm (NAME=VALUE,...) it would read as another
** parameter ("a,b=1"), and two points' arms could read alike.  Without one
** every "," of an arm followed by an "=" before the next "," starts a
** parameter, and the arm reads one way only (a latency object's
** {"dist":"lognormal","mu":-0.75} has none). */
static bool reads_as_parameters(const char *text) {
    for (const char *c = strchr(text, ','); c; c = strchr(c + 1, ',')) {
        size_t span = strcspn(c + 1, ",");
        if (memchr(c + 1, '=', span)) return true;
    }
    return false;
}

static int compare_text(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* No two values of a parameter alike: a point is known in the store by its
** values as text (its arm), so two that read the same would make one point
** twice, its seeds counted twice in its figures.  Nor one too long to be
** read whole (cut, two could read alike and a point's arm be cut), nor one
** that reads as more parameters (reads_as_parameters). */
static bool distinct_values(const node *n, const json_t *values) {
    size_t count = json_array_size(values);
    char(*text)[SWEEP_VALUE_TEXT_MAX] = calloc(count ? count : 1, sizeof *text);
    char **sorted = calloc(count ? count : 1, sizeof *sorted);
    bool ok = text && sorted;
    for (size_t i = 0; ok && i < count; i++) {
        size_t len = sweep_value_text(json_array_get(values, i), text[i], sizeof text[i]);
        if (len >= sizeof text[i])
            ok = run_json_fail(n,
                               "expected values of at most %d characters as text (a point's arm "
                               "in the store is NAME=VALUE,...), got one of %zu: %.60s...",
                               SWEEP_VALUE_TEXT_MAX - 1, len, text[i]);
        else if (reads_as_parameters(text[i]))
            ok = run_json_fail(n,
                               "expected values without a \",\" followed by \"=\" (a point's "
                               "arm in the store is NAME=VALUE,...: it would read as another "
                               "parameter, and two points' arms could read alike), got %s",
                               text[i]);
        sorted[i] = text[i];
    }
    if (ok) qsort(sorted, count, sizeof *sorted, compare_text);
    for (size_t i = 1; ok && i < count; i++)
        if (!strcmp(sorted[i - 1], sorted[i]))
            ok = run_json_fail(n, "expected distinct values, got %.200s more than once", sorted[i]);
    if (!text || !sorted) run_json_fail(n, "out of memory");
    free(text);
    free(sorted);
    return ok;
}

/* The values of parameter n into *out (a new array; NULL when false). */
static bool read_values(const node *n, json_t **out) {
    *out = NULL;
    if (json_is_object(n->v)) {
        if (!read_range(n, out)) return false;
    } else if (!json_is_array(n->v) || json_array_size(n->v) == 0 ||
               json_array_size(n->v) > SWEEP_MAX_VALUES) {
        return run_json_expect(n,
                               "an array of 1 to %d values or a range {\"from\", \"to\", "
                               "\"step\" or \"count\"}",
                               SWEEP_MAX_VALUES);
    } else if (!(*out = json_deep_copy(n->v))) {
        return run_json_fail(n, "out of memory");
    }
    if (distinct_values(n, *out)) return true;
    json_decref(*out); /* not yet the plan's: its parameter is not counted */
    *out = NULL;
    return false;
}

/* The longest text of a parameter's values. */
static size_t longest_value(const json_t *values) {
    size_t longest = 0, i;
    json_t *v;
    json_array_foreach(values, i, v) {
        char text[SWEEP_VALUE_TEXT_MAX];
        size_t len = sweep_value_text(v, text, sizeof text);
        if (len > longest) longest = len;
    }
    return longest;
}

/* The longest point's arm, NAME=VALUE,... over the parameters so far
** (*label: its length before parameter sp), must fit SWEEP_LABEL_MAX: cut,
** two points' arms could read alike and their runs be taken for one
** another's. */
static bool label_fits(const node *n, const sweep_param *sp, size_t *label) {
    *label += (*label ? 1 : 0) + strlen(sp->name) + 1 + longest_value(sp->values);
    if (*label < SWEEP_LABEL_MAX) return true;
    return run_json_fail(n,
                         "expected a point's arm (NAME=VALUE,... of every parameter, its name in "
                         "the store) of at most %d characters, got %zu with this parameter: "
                         "shorten the parameter names (a model's alias) or values, or use fewer "
                         "parameters",
                         SWEEP_LABEL_MAX - 1, *label);
}

static bool read_parameters(const node *root, sweep_plan *p) {
    node params;
    if (!run_json_field(root, "parameters", true, &params) || !run_json_as_object(&params, NULL))
        return false;
    if (json_object_size(params.v) == 0 || json_object_size(params.v) > SWEEP_MAX_PARAMS)
        return run_json_expect(&params, "an object of 1 to %d parameters", SWEEP_MAX_PARAMS);
    const char *name;
    json_t *v;
    size_t label = 0;
    p->npoints = 1;
    json_object_foreach(params.v, name, v) {
        node n;
        char why[300];
        run_json_child(&params, name, v, &n);
        if (strlen(name) >= sizeof p->params[0].name ||
            !sweep_param_name_is_valid(name, why, sizeof why))
            return run_json_fail(&n, "expected a parameter an arm overrides (%s)", why);
        for (size_t i = 0; i < p->nparams; i++)
            if (sweep_params_overlap(p->params[i].name, name))
                return run_json_fail(&n,
                                     "sets what parameter \"%.200s\" sets too (one setting, or "
                                     "one inside the other): each point would run with only one "
                                     "of their values; keep one of them",
                                     p->params[i].name);
        sweep_param *sp = &p->params[p->nparams];
        snprintf(sp->name, sizeof sp->name, "%s", name);
        if (!read_values(&n, &sp->values)) return false;
        p->nparams++;
        if (!label_fits(&n, sp, &label)) return false;
        p->npoints *= json_array_size(sp->values);
        if (p->npoints > SWEEP_MAX_RUNS)
            return run_json_fail(&params, "expected at most %d points", SWEEP_MAX_RUNS);
    }
    return true;
}

/* No seed twice: a seed's run would be counted twice in its point's
** figures (and stored twice). */
static bool distinct_seeds(const node *n, const uint64_t *seeds, size_t count) {
    uint64_t *sorted = malloc((count ? count : 1) * sizeof *sorted);
    if (!sorted) return run_json_fail(n, "out of memory");
    memcpy(sorted, seeds, count * sizeof *sorted);
    res_sort_u64(sorted, count);
    bool ok = true;
    for (size_t i = 1; ok && i < count; i++)
        if (sorted[i - 1] == sorted[i])
            ok = run_json_fail(n, "expected distinct seeds, got %llu more than once",
                               (unsigned long long)sorted[i]);
    free(sorted);
    return ok;
}

static bool read_seeds(const node *root, sweep_plan *p) {
    node n;
    if (!run_json_field(root, "seeds", true, &n)) return false;
    int64_t lo = 1, hi = 0;
    if (json_is_integer(n.v)) {
        if (!run_json_as_int(&n, 1, SWEEP_MAX_RUNS, &hi)) return false;
    } else if (json_is_object(n.v)) {
        static const char *const keys[] = {"from", "to", NULL};
        node from, to;
        if (!run_json_as_object(&n, keys) || !run_json_field(&n, "from", true, &from) ||
            !run_json_field(&n, "to", true, &to) ||
            !run_json_as_int(&from, 0, INT64_MAX - SWEEP_MAX_RUNS, &lo) ||
            !run_json_as_int(&to, lo, lo + SWEEP_MAX_RUNS - 1, &hi))
            return false;
    } else if (json_is_array(n.v) && json_array_size(n.v) > 0 &&
               json_array_size(n.v) <= SWEEP_MAX_RUNS) {
        p->nseeds = json_array_size(n.v);
        p->seeds = calloc(p->nseeds, sizeof *p->seeds);
        for (size_t i = 0; p->seeds && i < p->nseeds; i++) {
            node item;
            int64_t s;
            run_json_item(&n, i, &item);
            if (!run_json_as_int(&item, 0, INT64_MAX, &s)) return false;
            p->seeds[i] = (uint64_t)s;
        }
        return p->seeds != NULL && distinct_seeds(&n, p->seeds, p->nseeds);
    } else {
        return run_json_expect(&n, "a count of seeds (1..N), an array of seeds or {\"from\", "
                                   "\"to\"}");
    }
    p->nseeds = (size_t)(hi - lo + 1);
    p->seeds = calloc(p->nseeds, sizeof *p->seeds);
    for (size_t i = 0; p->seeds && i < p->nseeds; i++)
        p->seeds[i] = (uint64_t)lo + i;
    return p->seeds != NULL;
}

static bool read_metrics(const node *root, sweep_plan *p) {
    node n;
    if (!run_json_field(root, "metrics", false, &n) || !n.v) return true;
    if (!json_is_array(n.v) || json_array_size(n.v) == 0 ||
        json_array_size(n.v) > SWEEP_MAX_METRICS)
        return run_json_expect(&n, "an array of 1 to %d metric names or patterns",
                               SWEEP_MAX_METRICS);
    for (size_t i = 0; i < json_array_size(n.v); i++) {
        node item;
        run_json_item(&n, i, &item);
        if (!run_json_as_str(&item, p->metrics[i], sizeof p->metrics[i], true)) return false;
    }
    p->nmetrics = json_array_size(n.v);
    return true;
}

/* ---- the scenario ---------------------------------------------------------------- */

/* The scenario file, absolute, resolved beside the sweep file. */
static bool resolve_scenario(const node *root, const char *sweep_dir, sweep_plan *p) {
    node n;
    char rel[SWEEP_PATH_MAX], joined[2 * SWEEP_PATH_MAX + 2];
    if (!run_json_field(root, "scenario", true, &n) || !run_json_as_str(&n, rel, sizeof rel, true))
        return false;
    if (rel[0] == '/' || !sweep_dir[0])
        snprintf(joined, sizeof joined, "%s", rel);
    else
        snprintf(joined, sizeof joined, "%s/%s", sweep_dir, rel);
    if (!realpath(joined, p->scenario))
        return run_json_expect(&n, "a scenario file (relative to the sweep file's directory) "
                                   "that exists");
    return true;
}

/* Loads the scenario (every arm checked), its id, and the document its base
** arm makes. */
static bool load_scenario(const node *root, sweep_plan *p, char *err, size_t errlen) {
    node n;
    if (!run_json_field(root, "arm", false, &n) ||
        !run_json_as_str(&n, p->arm, sizeof p->arm, false))
        return false;
    sim_error serr;
    sim_scenario *sc = sim_scenario_load_arm(p->scenario, p->arm[0] ? p->arm : NULL, &serr);
    if (!sc) {
        snprintf(err, errlen, "%s", serr.message);
        return false;
    }
    snprintf(p->scenario_id, sizeof p->scenario_id, "%s", sc->config.scenario_id);
    run_error rerr = {0};
    json_t *raw = run_json_load_file(p->scenario, RUN_MAX_FILE_BYTES, &rerr);
    if (raw) p->doc = run_arms_apply(raw, p->arm, &sc->config.arms, p->scenario, &rerr);
    json_decref(raw);
    sim_scenario_free(sc);
    if (!p->doc) snprintf(err, errlen, "%s", rerr.message);
    return p->doc != NULL;
}

/* ---- the plan ---------------------------------------------------------------------- */

static uint64_t fnv1a_bytes(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static uint64_t fnv1a(uint64_t h, const char *s) {
    return fnv1a_bytes(h, (const unsigned char *)s, strlen(s));
}

/* h folded with the name and the bytes of a file the scenario reads (an
** empirical distribution's trace), relative to the scenario's directory. */
static uint64_t fold_file(uint64_t h, const char *scenario_dir, const char *file) {
    char path[2 * SWEEP_PATH_MAX + 2];
    if (file[0] == '/' || !scenario_dir[0])
        snprintf(path, sizeof path, "%s", file);
    else
        snprintf(path, sizeof path, "%s/%s", scenario_dir, file);
    h = fnv1a(fnv1a(h, "\nfile:"), file);
    run_error err = {0}; /* a regular file only: a FIFO would block */
    FILE *f = run_file_open_regular(path, (size_t)256 << 20, "a latency trace", &err);
    if (!f) return fnv1a(h, "\nunreadable");
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        h = fnv1a_bytes(h, buf, n);
    if (ferror(f)) h = fnv1a(h, "\nunreadable");
    fclose(f);
    return h;
}

typedef struct trace_fold {
    uint64_t h;
    const char *scenario_dir;
} trace_fold;

/* One trace file of the scenario into the digest (cli_scenario_traces). */
static bool fold_trace(void *ctx, json_t *holder, const char *file) {
    (void)holder;
    trace_fold *t = ctx;
    t->h = fold_file(t->h, t->scenario_dir, file);
    return true;
}

/* The digest of what decides the runs: the expanded plan, the scenario as
** the base arm makes it, the trace files it and the points read (a
** parameter ending in "file" names one per value), and this build. */
static void compute_digest(sweep_plan *p) {
    json_t *plan = sweep_plan_json(p);
    json_object_del(plan, "digest");
    json_object_del(plan, "sweep_file");
    char *a = json_dumps(plan, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    char *b = json_dumps(p->doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    uint64_t h = 14695981039346656037ull;
    h = fnv1a(fnv1a(fnv1a(h, a ? a : ""), b ? b : ""), RES_HARNESS_VERSION);
    char dir[SWEEP_PATH_MAX];
    run_json_dir_of(p->scenario, dir, sizeof dir);
    trace_fold traces = {h, dir};
    cli_scenario_traces(p->doc, fold_trace, &traces);
    h = traces.h;
    for (size_t i = 0; i < p->nparams; i++) {
        size_t n = strlen(p->params[i].name);
        if (n < 4 || strcmp(p->params[i].name + n - 4, "file")) continue;
        size_t k;
        json_t *v;
        json_array_foreach(p->params[i].values, k, v) {
            if (json_is_string(v)) h = fold_file(h, dir, json_string_value(v));
        }
    }
    snprintf(p->digest, sizeof p->digest, "%016llx", (unsigned long long)h);
    free(a);
    free(b);
    json_decref(plan);
}

static bool read_plan(json_t *json, const char *path, sweep_plan *p, char *err, size_t errlen) {
    run_error rerr = {0};
    run_json_doc doc = {path, "", &rerr};
    node root, n;
    run_json_root(&doc, json, &root);
    char dir[SWEEP_PATH_MAX];
    run_json_dir_of(p->file, dir, sizeof dir);
    int64_t schema = 1, shard_size = 1;
    bool ok = run_json_as_object(&root, SWEEP_KEYS) &&
              run_json_get_int(&root, "schema", false, 1, 1, &schema) &&
              run_json_field(&root, "sweep_id", true, &n) &&
              run_json_as_str(&n, p->sweep_id, sizeof p->sweep_id, true);
    if (ok && !valid_id(p->sweep_id))
        ok = run_json_expect(&n, "a sweep id of 1 to %d characters from [A-Za-z0-9_.-]",
                             SWEEP_ID_MAX - 1);
    ok = ok && resolve_scenario(&root, dir, p) && read_parameters(&root, p) &&
         read_seeds(&root, p) && read_metrics(&root, p) &&
         run_json_get_int(&root, "shard_size", false, 1, SWEEP_MAX_RUNS, &shard_size);
    if (ok && p->npoints * p->nseeds > SWEEP_MAX_RUNS)
        ok = run_json_fail(&root, "expected at most %d runs (points x seeds), got %zu x %zu",
                           SWEEP_MAX_RUNS, p->npoints, p->nseeds);
    if (!ok) {
        snprintf(err, errlen, "%s", rerr.message);
        return false;
    }
    p->shard_size = (size_t)shard_size;
    p->nshards = (sweep_plan_runs(p) + p->shard_size - 1) / p->shard_size;
    if (!load_scenario(&root, p, err, errlen)) {
        if (!err[0]) snprintf(err, errlen, "%s", rerr.message);
        return false;
    }
    compute_digest(p);
    return true;
}

/* Builds the scenario of every point in [first, first + count). */
static bool check_points(const sweep_plan *p, size_t first, size_t count, char *err,
                         size_t errlen) {
    for (size_t i = first; i < first + count && i < p->npoints; i++) {
        sim_scenario *sc = sweep_point_scenario(p, i, err, errlen);
        if (!sc) return false;
        sim_scenario_free(sc);
    }
    return true;
}

static bool load(const char *path, sweep_plan *p, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    err[0] = '\0';
    if (!realpath(path, p->file)) {
        snprintf(err, errlen, "%s: cannot read: no such file", path);
        return false;
    }
    run_error rerr = {0};
    json_t *json = run_json_load_file(path, 1 << 20, &rerr);
    if (!json) {
        snprintf(err, errlen, "%s", rerr.message);
        return false;
    }
    bool ok = read_plan(json, path, p, err, errlen);
    json_decref(json);
    return ok;
}

bool sweep_plan_load(const char *path, sweep_plan *p, char *err, size_t errlen) {
    if (load(path, p, err, errlen) && check_points(p, 0, p->npoints, err, errlen)) return true;
    sweep_plan_free(p);
    return false;
}

static bool load_for_shard(const char *path, size_t shard, sweep_plan *p, char *err,
                           size_t errlen) {
    if (!load(path, p, err, errlen)) return false;
    if (shard >= p->nshards) {
        snprintf(err, errlen, "%s: no shard %zu (the sweep has %zu)", path, shard, p->nshards);
        return false;
    }
    size_t first, count;
    sweep_shard_runs(p, shard, &first, &count);
    size_t a = sweep_run_point(p, first), b = sweep_run_point(p, first + count - 1);
    return check_points(p, a, b - a + 1, err, errlen);
}

bool sweep_plan_load_for_shard(const char *path, size_t shard, sweep_plan *p, char *err,
                               size_t errlen) {
    if (load_for_shard(path, shard, p, err, errlen)) return true;
    sweep_plan_free(p);
    return false;
}

void sweep_plan_free(sweep_plan *p) {
    for (size_t i = 0; i < p->nparams; i++)
        json_decref(p->params[i].values);
    json_decref(p->doc);
    free(p->seeds);
    memset(p, 0, sizeof *p);
}

/* ---- points, runs, shards ------------------------------------------------------ */

size_t sweep_plan_runs(const sweep_plan *p) {
    return p->npoints * p->nseeds;
}

size_t sweep_run_point(const sweep_plan *p, size_t run) {
    return run / p->nseeds;
}

uint64_t sweep_run_seed(const sweep_plan *p, size_t run) {
    return p->seeds[run % p->nseeds];
}

void sweep_shard_runs(const sweep_plan *p, size_t shard, size_t *first, size_t *count) {
    size_t runs = sweep_plan_runs(p);
    *first = shard * p->shard_size;
    *count = *first >= runs ? 0 : (runs - *first < p->shard_size ? runs - *first : p->shard_size);
}

bool sweep_metric_is_kept(const sweep_plan *p, const char *name) {
    if (p->nmetrics == 0) return res_metric_is_headline(name);
    for (size_t i = 0; i < p->nmetrics; i++)
        if (fnmatch(p->metrics[i], name, 0) == 0) return true;
    return false;
}

json_t *sweep_plan_json(const sweep_plan *p) {
    json_t *params = json_array(), *seeds = json_array(), *metrics = json_array();
    for (size_t i = 0; i < p->nparams; i++)
        json_array_append_new(params, json_pack("{s:s, s:O}", "name", p->params[i].name, "values",
                                                p->params[i].values));
    for (size_t i = 0; i < p->nseeds; i++)
        json_array_append_new(seeds, json_integer((json_int_t)p->seeds[i]));
    for (size_t i = 0; i < p->nmetrics; i++)
        json_array_append_new(metrics, json_string(p->metrics[i]));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:s}",
                     "sweep_id", p->sweep_id, "sweep_file", p->file, "scenario", p->scenario,
                     "scenario_id", p->scenario_id, "arm", p->arm, "parameters", params, "seeds",
                     seeds, "metrics", metrics, "shard_size", (json_int_t)p->shard_size, "points",
                     (json_int_t)p->npoints, "runs", (json_int_t)sweep_plan_runs(p), "shards",
                     (json_int_t)p->nshards, "digest", p->digest);
}
