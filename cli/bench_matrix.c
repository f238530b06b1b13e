/* The admission microbench's matrix file (scenarios/microbench/
** admission_cycle.json, SPEC §9 scenario 1): which cases `admitsim bench
** --cycle` runs and how often, read and checked whole before any case
** runs.  Keys (every one required but "description" and "check"):
**   scenario_id       string, 1 to 95 characters
**   scenario_version  integer >= 1
**   kind              "microbench"
**   tasks             integers 1 to 1,000,000, no repeats
**   groups            integers 1 to 4,096, no repeats
**   mixes             "local", "resource", "mixed", no repeats
**   policies          "strict", "bounded", no repeats
**   warmups           integer 0 to 1,000 (unmeasured runs per case)
**   repeats           integer 1 to 1,000 (timed runs per case)
**   description       string
**   check             {"thresholds": {"admission_cycle_p95": F}}, F 0 to 10;
**                     copied into the results for `admitsim check`
** A file larger than 1 MiB, an unknown key, a missing one or a value of
** another type is an error naming the file and the JSON path. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"
#include "res/check.h"

enum { MATRIX_MAX_BYTES = 1 << 20 };

static bool fail(char *why, size_t len, const char *path, const char *where, const char *what) {
    snprintf(why, len, "%s: %s: %s", path, where, what);
    return false;
}

/* doc.key: an array of distinct integers lo..hi, at most max of them. */
static bool int_list(const json_t *doc, const char *key, uint32_t lo, uint32_t hi, uint32_t *out,
                     size_t max, size_t *n, const char *path, char *why, size_t len) {
    char where[64], what[96];
    snprintf(where, sizeof where, "$.%s", key);
    const json_t *a = json_object_get(doc, key);
    snprintf(what, sizeof what, "expected a non-empty array of at most %zu integers", max);
    if (!json_is_array(a) || !json_array_size(a) || json_array_size(a) > max)
        return fail(why, len, path, where, what);
    *n = json_array_size(a);
    for (size_t i = 0; i < *n; i++) {
        const json_t *v = json_array_get(a, i);
        snprintf(where, sizeof where, "$.%s[%zu]", key, i);
        snprintf(what, sizeof what, "expected an integer %u to %u", lo, hi);
        if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
            return fail(why, len, path, where, what);
        out[i] = (uint32_t)json_integer_value(v);
        for (size_t k = 0; k < i; k++)
            if (out[k] == out[i]) return fail(why, len, path, where, "repeats an earlier value");
    }
    return true;
}

/* doc.key: an array of distinct names from names[0..count); out[i] is the
** index of the i-th. */
static bool name_list(const json_t *doc, const char *key, const char *const *names, int count,
                      int *out, size_t *n, const char *path, char *why, size_t len) {
    char where[64], what[160] = "expected one of";
    for (int k = 0; k < count; k++)
        snprintf(what + strlen(what), sizeof what - strlen(what), "%s \"%s\"", k ? "," : "",
                 names[k]);
    snprintf(where, sizeof where, "$.%s", key);
    const json_t *a = json_object_get(doc, key);
    if (!json_is_array(a) || !json_array_size(a) || json_array_size(a) > (size_t)count)
        return fail(why, len, path, where, "expected a non-empty array of distinct names");
    *n = json_array_size(a);
    for (size_t i = 0; i < *n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        snprintf(where, sizeof where, "$.%s[%zu]", key, i);
        out[i] = -1;
        for (int k = 0; s && k < count; k++)
            if (!strcmp(s, names[k])) out[i] = k;
        if (out[i] < 0) return fail(why, len, path, where, what);
        for (size_t k = 0; k < i; k++)
            if (out[k] == out[i]) return fail(why, len, path, where, "repeats an earlier value");
    }
    return true;
}

static bool count_of(const json_t *doc, const char *key, json_int_t lo, json_int_t hi,
                     uint64_t *out, const char *path, char *why, size_t len) {
    char where[64], what[64];
    snprintf(where, sizeof where, "$.%s", key);
    snprintf(what, sizeof what, "expected an integer %lld to %lld", (long long)lo, (long long)hi);
    const json_t *v = json_object_get(doc, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return fail(why, len, path, where, what);
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static bool keys_known(const json_t *doc, const char *path, char *why, size_t len) {
    static const char *const known[] = {
        "scenario_id", "scenario_version", "kind",    "tasks",       "groups", "mixes",
        "policies",    "warmups",          "repeats", "description", "check",  NULL};
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)doc, key, v) {
        bool ok = false;
        for (int k = 0; known[k]; k++)
            ok = ok || !strcmp(key, known[k]);
        if (ok) continue;
        char where[160];
        snprintf(where, sizeof where, "$.%.120s", key);
        return fail(why, len, path, where,
                    "unknown key (expected scenario_id, scenario_version, kind, tasks, groups, "
                    "mixes, policies, warmups, repeats, description, check)");
    }
    return true;
}

static bool header_ok(const json_t *doc, bench_matrix *m, const char *path, char *why, size_t len) {
    const char *id = json_string_value(json_object_get(doc, "scenario_id"));
    if (!id || !id[0] || strlen(id) > 95)
        return fail(why, len, path, "$.scenario_id", "expected a string of 1 to 95 characters");
    snprintf(m->scenario_id, sizeof m->scenario_id, "%s", id);
    if (!count_of(doc, "scenario_version", 1, INT32_MAX, &m->scenario_version, path, why, len))
        return false;
    const char *kind = json_string_value(json_object_get(doc, "kind"));
    if (!kind || strcmp(kind, "microbench"))
        return fail(why, len, path, "$.kind", "expected \"microbench\"");
    const json_t *d = json_object_get(doc, "description"), *c = json_object_get(doc, "check");
    if (d && !json_is_string(d)) return fail(why, len, path, "$.description", "expected a string");
    res_error err = {0};
    if (!res_check_bench_thresholds_ok(c, path, &err)) {
        snprintf(why, len, "%s", err.message);
        return false;
    }
    return true;
}

bool bench_matrix_load(const char *path, bench_matrix *m, char *why, size_t len) {
    static const char *const mixes[] = {"local", "resource", "mixed"};
    static const char *const policies[] = {"strict", "bounded"};
    memset(m, 0, sizeof *m);
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, len, "%s: cannot read: %s", path, strerror(errno));
        return false;
    }
    if (st.st_size > MATRIX_MAX_BYTES) {
        snprintf(why, len, "%s: larger than %d bytes", path, MATRIX_MAX_BYTES);
        return false;
    }
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        snprintf(why, len, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column, jerr.text);
        return false;
    }
    bool ok = json_is_object(doc) || fail(why, len, path, "$", "expected an object");
    ok = ok && keys_known(doc, path, why, len) && header_ok(doc, m, path, why, len) &&
         int_list(doc, "tasks", 1, 1000000, m->tasks, BENCH_MATRIX_MAX, &m->ntasks, path, why,
                  len) &&
         int_list(doc, "groups", 1, 4096, m->groups, BENCH_MATRIX_MAX, &m->ngroups, path, why,
                  len) &&
         name_list(doc, "mixes", mixes, 3, m->mixes, &m->nmixes, path, why, len) &&
         name_list(doc, "policies", policies, 2, m->policies, &m->npolicies, path, why, len) &&
         count_of(doc, "warmups", 0, 1000, &m->warmups, path, why, len) &&
         count_of(doc, "repeats", 1, 1000, &m->repeats, path, why, len);
    if (ok) {
        m->check = json_incref(json_object_get(doc, "check"));
        snprintf(m->path, sizeof m->path, "%s", path);
    }
    json_decref(doc);
    return ok;
}

void bench_matrix_release(bench_matrix *m) {
    json_decref(m->check);
    m->check = NULL;
}
