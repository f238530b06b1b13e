/*
** The regression check's inputs (res/check.h): artifacts read without their
** timelines (stored runs: check_store.c), and the gates file.
*/
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_int.h"
#include "res/store_common.h"

#define MAX_ARTIFACT_BYTES ((size_t)4 << 30) /* read in chunks; timelines are dropped */

/* ---- reading JSON without the "timeline" values ------------------------------- */

typedef struct skim {
    char *out;
    size_t len, cap;
    bool in_string, escape;
    char key[16]; /* the last string's first bytes */
    size_t key_len;
    bool key_long;
    int skip_depth;    /* > 0: inside a dropped value */
    bool skip_pending; /* a dropped key's ':' seen, its value not started */
    bool failed;
} skim;

static void put(skim *k, char c) {
    if (k->len == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 1 << 16;
        char *p = realloc(k->out, cap);
        if (!p) {
            k->failed = true;
            return;
        }
        k->out = p;
        k->cap = cap;
    }
    k->out[k->len++] = c;
}

/* Inside a dropped value: follow strings and brackets until it closes. */
static void skip_char(skim *k, char c) {
    if (k->in_string) {
        if (k->escape)
            k->escape = false;
        else if (c == '\\')
            k->escape = true;
        else if (c == '"')
            k->in_string = false;
        return;
    }
    if (c == '"') k->in_string = true;
    if (c == '[' || c == '{') k->skip_depth++;
    if ((c == ']' || c == '}') && --k->skip_depth == 0) {
        put(k, '[');
        put(k, ']');
    }
}

static void skim_char(skim *k, char c) {
    if (k->skip_depth > 0) {
        skip_char(k, c);
        return;
    }
    if (k->skip_pending && !k->in_string && (c == '[' || c == '{')) {
        k->skip_pending = false;
        k->skip_depth = 1;
        return;
    }
    put(k, c);
    if (k->in_string) {
        if (k->escape) {
            k->escape = false;
        } else if (c == '\\') {
            k->escape = true;
        } else if (c == '"') {
            k->in_string = false;
        } else if (k->key_len < sizeof k->key - 1) {
            k->key[k->key_len++] = c;
        } else {
            k->key_long = true;
        }
        return;
    }
    if (c == '"') {
        k->in_string = true;
        k->key_len = 0;
        k->key_long = false;
    } else if (c == ':') {
        k->key[k->key_len] = '\0';
        k->skip_pending = !k->key_long && strcmp(k->key, "timeline") == 0;
    } else if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
        k->skip_pending = false; /* a scalar value: kept */
    }
}

/* The JSON document at path with every "timeline" array or object emptied. */
json_t *res_check_skim_file(const char *path, res_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        res_error_set(err, RES_EIO, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    skim k = {0};
    char buf[1 << 16];
    size_t n, total = 0;
    while (!k.failed && (n = fread(buf, 1, sizeof buf, f)) > 0 && total < MAX_ARTIFACT_BYTES) {
        total += n;
        for (size_t i = 0; i < n; i++)
            skim_char(&k, buf[i]);
    }
    bool read_error = ferror(f), too_big = total >= MAX_ARTIFACT_BYTES;
    fclose(f);
    json_t *doc = NULL;
    json_error_t jerr;
    if (k.failed)
        res_error_set(err, RES_ENOMEM, "%s: out of memory reading it", path);
    else if (read_error)
        res_error_set(err, RES_EIO, "%s: cannot read: %s", path, strerror(errno ? errno : EIO));
    else if (too_big)
        res_error_set(err, RES_EINVAL, "%s: larger than %zu bytes", path, MAX_ARTIFACT_BYTES);
    else if (!(doc = json_loadb(k.out ? k.out : "", k.len, 0, &jerr)))
        res_error_set(err, RES_EINVAL, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column,
                      jerr.text);
    free(k.out);
    return doc;
}

/* ---- one side ------------------------------------------------------------------- */

/* An artifact: its metrics are its derived metrics, one summary per iteration. */
static bool add_artifact(res_check_side *s, json_t *doc, const char *path, res_error *err) {
    const json_t *sums = json_object_get(json_object_get(doc, "derived_metrics"), "iterations");
    res_check_run_in *r = res_check_side_add(s, doc, path, err);
    if (r && json_array_size(sums) != r->iterations)
        return res_error_set(err, RES_EINVAL,
                             "%s: $.derived_metrics.iterations: expected one per iteration", path);
    for (size_t i = 0; r && i < r->iterations; i++)
        if (!res_metrics_from_summary(json_array_get(sums, i), &r->metrics[i]))
            return res_error_set(err, RES_ENOMEM, "out of memory reading %s", path);
    return r && res_check_run_hidden_ok(r, err);
}

static bool load_file(res_check_side *s, const char *path, bool from_dir, res_error *err) {
    json_t *doc = res_check_skim_file(path, err);
    if (!doc) return false;
    bool ok = true;
    if (json_object_get(doc, "artifact_schema_version"))
        ok = add_artifact(s, doc, path, err);
    else if (res_check_is_bench(doc))
        ok = res_check_bench_add(s, doc, path, err);
    else if (!from_dir)
        ok = res_error_set(err, RES_EINVAL,
                           "%s: not an admitsim artifact or `bench --cycle --format json` result",
                           path);
    json_decref(doc);
    return ok;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool load_dir(res_check_side *s, const char *dir, res_error *err) {
    DIR *d = opendir(dir);
    if (!d) return res_error_set(err, RES_EIO, "%s: cannot read: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    bool ok = true;
    while (ok && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **p = realloc(names, cap * sizeof *p);
            if (!p)
                ok = false;
            else
                names = p;
        }
        if (ok) ok = (names[n++] = strdup(e->d_name)) != NULL;
    }
    closedir(d);
    if (!ok) res_error_set(err, RES_ENOMEM, "out of memory reading %s", dir);
    if (ok) qsort(names, n, sizeof *names, by_name); /* a stable order */
    for (size_t i = 0; ok && i < n; i++) {
        char path[4096];
        ok = res_path_join(path, sizeof path, dir, names[i], err) && load_file(s, path, true, err);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (ok && s->count == 0 && !s->bench)
        ok = res_error_set(err, RES_EINVAL, "%s: no admitsim artifact in it", dir);
    return ok;
}

res_check_side *res_check_side_load(const char *spec, const char *db_path, res_error *err) {
    res_check_side *s = calloc(1, sizeof *s);
    if (!s) {
        res_error_set(err, RES_ENOMEM, "out of memory");
        return NULL;
    }
    struct stat st;
    bool ok;
    if (res_check_spec_is_stored(spec))
        ok = res_check_store_load(s, spec, db_path ? db_path : RES_STORE_DEFAULT_PATH, err);
    else if (stat(spec, &st) != 0)
        ok = res_error_set(err, RES_EIO, "%s: cannot read: %s", spec, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        ok = load_dir(s, spec, err);
    else
        ok = load_file(s, spec, false, err);
    if (ok && res_check_side_is_unique(s, err)) return s;
    res_check_side_free(s);
    return NULL;
}

/* ---- the gates file -------------------------------------------------------------- */

static const char *const KINDS[] = {
    "final_snapshots_clean",   "output_hashes_equal", "mean_not_worse",     "claims_better",
    "claims_survive_trimming", "bench_not_worse",     "request_accounting", NULL};

int res_check_kind(const char *kind) {
    for (int i = 0; kind && KINDS[i]; i++)
        if (strcmp(kind, KINDS[i]) == 0) return i;
    return -1;
}

static const char *const GATE_KEYS[] = {"name",     "kind",        "metric", "threshold",
                                        "when_tag", "description", NULL};

static bool known(const char *key, const char *const *keys) {
    for (int i = 0; keys[i]; i++)
        if (strcmp(key, keys[i]) == 0) return true;
    return false;
}

/* One gate: known keys only (a misspelt one is an error, not a gate that
** quietly reads its default), a known kind, a name no earlier gate has, a
** string when_tag, and for the kinds that compare a figure its metric and a
** finite threshold 0 to 1e9 (a scenario's own thresholds' range). */
static bool gate_ok(const json_t *gates, size_t i, const char *path, res_error *err) {
    const json_t *g = json_array_get(gates, i);
    if (!json_is_object(g))
        return res_error_set(err, RES_EINVAL, "%s: $.gates[%zu]: expected an object", path, i);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)g, key, v) {
        if (!known(key, GATE_KEYS))
            return res_error_set(err, RES_EINVAL,
                                 "%s: $.gates[%zu].%.100s: unknown key (expected name, kind, "
                                 "metric, threshold, when_tag, description)",
                                 path, i, key);
    }
    const char *name = json_string_value(json_object_get(g, "name"));
    const char *kind = json_string_value(json_object_get(g, "kind"));
    json_t *metric = json_object_get(g, "metric"), *threshold = json_object_get(g, "threshold"),
           *tag = json_object_get(g, "when_tag");
    if (!name || !name[0])
        return res_error_set(err, RES_EINVAL, "%s: $.gates[%zu].name: expected a non-empty string",
                             path, i);
    for (size_t k = 0; k < i; k++)
        if (strcmp(name, json_string_value(json_object_get(json_array_get(gates, k), "name"))) == 0)
            return res_error_set(err, RES_EINVAL,
                                 "%s: $.gates[%zu].name: \"%.100s\" is the name of $.gates[%zu] "
                                 "too",
                                 path, i, name, k);
    int k = res_check_kind(kind);
    if (k < 0)
        return res_error_set(err, RES_EINVAL,
                             "%s: $.gates[%zu].kind: unknown gate kind \"%.100s\" (expected one "
                             "of: final_snapshots_clean, output_hashes_equal, mean_not_worse, "
                             "claims_better, claims_survive_trimming, bench_not_worse, "
                             "request_accounting)",
                             path, i, kind ? kind : "");
    if (tag && !(json_is_string(tag) && json_string_length(tag) > 0))
        return res_error_set(err, RES_EINVAL,
                             "%s: $.gates[%zu].when_tag: expected a non-empty string", path, i);
    bool needs = k == RES_GATE_MEAN_NOT_WORSE || k == RES_GATE_BENCH_NOT_WORSE;
    if (needs && !(json_is_string(metric) && json_string_length(metric) > 0))
        return res_error_set(err, RES_EINVAL,
                             "%s: $.gates[%zu].metric: kind %s needs a metric name", path, i, kind);
    if (!needs && metric)
        return res_error_set(err, RES_EINVAL,
                             "%s: $.gates[%zu].metric: kind %s reads no metric of the gates "
                             "file",
                             path, i, kind);
    if (needs && !threshold)
        return res_error_set(err, RES_EINVAL, "%s: $.gates[%zu].threshold: kind %s needs one", path,
                             i, kind);
    if (threshold && !(json_is_number(threshold) && json_number_value(threshold) >= 0 &&
                       json_number_value(threshold) <= 1e9))
        return res_error_set(err, RES_EINVAL,
                             "%s: $.gates[%zu].threshold: expected a number 0 to 1e9 (relative: "
                             "0.05 is 5%%)",
                             path, i);
    if (!needs && threshold)
        return res_error_set(err, RES_EINVAL,
                             "%s: $.gates[%zu].threshold: kind %s takes no threshold", path, i,
                             kind);
    return true;
}

json_t *res_check_gates_load(const char *path, res_error *err) {
    json_error_t jerr;
    json_t *g = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!g) {
        res_error_set(err, jerr.line > 0 ? RES_EINVAL : RES_EIO, "%s:%d:%d: %s", path, jerr.line,
                      jerr.column, jerr.text);
        return NULL;
    }
    json_t *version = json_object_get(g, "gates_version"), *gates = json_object_get(g, "gates");
    bool ok = json_is_integer(version) && json_integer_value(version) == 1 && json_is_array(gates);
    if (!ok)
        res_error_set(err, RES_EINVAL,
                      "%s: expected {\"gates_version\": 1, \"gates\": [...]}, a gates file this "
                      "build reads",
                      path);
    static const char *const TOP_KEYS[] = {"gates_version", "description", "gates", NULL};
    const char *key;
    json_t *v;
    json_object_foreach(g, key, v) {
        if (ok && !known(key, TOP_KEYS))
            ok = res_error_set(err, RES_EINVAL,
                               "%s: $.%.100s: unknown key (expected gates_version, description, "
                               "gates)",
                               path, key);
    }
    for (size_t i = 0; ok && i < json_array_size(gates); i++)
        ok = gate_ok(gates, i, path, err);
    if (ok) return g;
    json_decref(g);
    return NULL;
}
