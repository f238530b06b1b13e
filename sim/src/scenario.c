/*
** Scenario loading: JSON -> sim_scenario, validating as it goes.
**
** Every value is read through a `node` (a JSON value plus its JSON path), so
** each check reports "FILE: PATH: expected WHAT, got VALUE" from one place.
** Getters treat an absent optional key as "keep the default".
*/
#include "sim/scenario.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/clock.h"

#define PATH_LEN    512
#define MAX_RECORDS 100000000
#define MAX_SECONDS 1e9 /* the sampler's clamp too: keeps the ns clock far from overflow */

static const char *const ROOT_KEYS[] = {"schema",
                                        "scenario_id",
                                        "scenario_version",
                                        "description",
                                        "records",
                                        "buffer_size",
                                        "max_concurrent_row_groups",
                                        "model_group_limit_cap",
                                        "capacity",
                                        "policy",
                                        "failures",
                                        "cancel_at_seconds",
                                        "columns",
                                        NULL};
static const char *const POLICY_KEYS[] = {"default",
                                          "strict_share_rounding",
                                          "reserve_fraction",
                                          "max_reserved_slots",
                                          "default_borrow_ceiling",
                                          "borrow_ceilings",
                                          NULL};
static const char *const CEILING_KEYS[] = {"column", "resource", "ceiling", NULL};
static const char *const FAILURES_KEYS[] = {"salvage_max_rounds", "shutdown_error_rate",
                                            "shutdown_error_window", "spawn_failure_probability",
                                            NULL};
static const char *const COLUMN_KEYS[] = {"name",    "strategy",         "depends_on",
                                          "rows",    "ready_at_seconds", "duration",
                                          "failure", "scheduling",       NULL};
static const char *const FAILURE_KEYS[] = {"retryable_probability", "non_retryable_probability",
                                           NULL};
static const char *const SCHEDULING_KEYS[] = {"kind",           "identity",  "weight",
                                              "admitted_limit", "resources", NULL};
static const char *const POLICY_NAMES[] = {"strict", "bounded", NULL};
static const char *const ROUNDING_NAMES[] = {"ceil", "floor", NULL};
static const char *const STRATEGY_NAMES[] = {"cell_by_cell", "full_column", NULL};
static const char *const KIND_NAMES[] = {"local", "model", "custom_model", NULL};
/* In sim_dist_kind order; DIST_KEYS[k] are the keys dist k accepts. */
static const char *const DIST_NAMES[] = {"constant",  "uniform", "exponential",
                                         "lognormal", "gamma",   NULL};
static const char *const DIST_KEYS[][4] = {{"dist", "seconds", NULL},
                                           {"dist", "low", "high", NULL},
                                           {"dist", "mean", NULL},
                                           {"dist", "mu", "sigma", NULL},
                                           {"dist", "shape", "scale", NULL}};

/* ---- bounded string building -------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, len;
} sbuf;

static void sb_init(sbuf *b, char *p, size_t n) {
    *b = (sbuf){p, n, 0};
    p[0] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->len + 1 >= b->n) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->len, b->n - b->len, fmt, ap);
    va_end(ap);
    if (k > 0) b->len = b->len + (size_t)k < b->n ? b->len + (size_t)k : b->n - 1;
}

/* s as a JSON string literal, cut after about `limit` bytes at a UTF-8 boundary. */
static void sb_quote(sbuf *b, const char *s, size_t limit) {
    size_t len = strlen(s);
    bool cut = len > limit;
    if (cut)
        for (len = limit; len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80;)
            len--;
    sb_printf(b, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            sb_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            sb_printf(b, "\\u%04x", ch);
        else
            sb_printf(b, "%c", ch);
    }
    sb_printf(b, "%s", cut ? "...\"" : "\"");
}

static const char *quoted(char *buf, size_t n, const char *s) {
    sbuf b;
    sb_init(&b, buf, n);
    sb_quote(&b, s, 60);
    return buf;
}

/* Shortest text that reads back as x ("0.1", not "0.10000000000000001"). */
static const char *fmt_num(char *buf, size_t n, double x) {
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, n, "%.0f", x);
        return buf;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) break;
    }
    return buf;
}

static void describe(const json_t *v, char *buf, size_t n) {
    sbuf b;
    sb_init(&b, buf, n);
    size_t size;
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_OBJECT: sb_printf(&b, "%s", json_object_size(v) ? "an object" : "{}"); break;
    case JSON_ARRAY:
        size = json_array_size(v);
        if (size)
            sb_printf(&b, "an array of %zu item%s", size, size == 1 ? "" : "s");
        else
            sb_printf(&b, "[]");
        break;
    case JSON_STRING: sb_quote(&b, json_string_value(v), 60); break;
    case JSON_INTEGER: sb_printf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
    case JSON_REAL: fmt_num(buf, n, json_real_value(v)); break;
    case JSON_TRUE: sb_printf(&b, "true"); break;
    case JSON_FALSE: sb_printf(&b, "false"); break;
    case JSON_NULL: sb_printf(&b, "%s", v ? "null" : "nothing"); break;
    }
}

/* ---- nodes: a value and its path ----------------------------------------- */

typedef struct parser {
    const char *file;
    sim_error *err;
    sim_scenario *s;
} parser;

typedef struct node {
    parser *p;
    json_t *v; /* NULL: an optional key that is absent */
    char path[PATH_LEN];
} node;

static bool is_ident(const char *k) {
    if (!(*k == '_' || (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z'))) return false;
    for (; *k; k++)
        if (!(*k == '_' || (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
              (*k >= '0' && *k <= '9')))
            return false;
    return true;
}

static void child(const node *parent, const char *key, json_t *v, node *out) {
    sbuf b;
    out->p = parent->p;
    out->v = v;
    sb_init(&b, out->path, sizeof out->path);
    sb_printf(&b, "%s", parent->path);
    if (is_ident(key)) {
        sb_printf(&b, ".%s", key);
    } else {
        sb_printf(&b, "[");
        sb_quote(&b, key, 100);
        sb_printf(&b, "]");
    }
}

static void item(const node *array, size_t i, node *out) {
    out->p = array->p;
    out->v = json_array_get(array->v, i);
    snprintf(out->path, sizeof out->path, "%.480s[%zu]", array->path, i);
}

static bool fail(const node *n, const char *fmt, ...) {
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(n->p->err->message, sizeof n->p->err->message, "%.300s: %.300s: %.400s", n->p->file,
             n->path, msg);
    return false;
}

/* "PATH: expected <fmt...>, got <the node's value>" */
static bool expect(const node *n, const char *fmt, ...) {
    char what[400], got[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    describe(n->v, got, sizeof got);
    return fail(n, "expected %s, got %s", what, got);
}

/* o.key into *f (f->v NULL when absent); false only when a required key is missing. */
static bool field(const node *o, const char *key, bool required, node *f) {
    child(o, key, json_object_get(o->v, key), f);
    if (!f->v && required) return fail(o, "missing required key \"%s\"", key);
    return true;
}

static bool check_keys(const node *o, const char *const *allowed) {
    const char *key;
    json_t *v;
    json_object_foreach(o->v, key, v) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (allowed[i]) continue;
        char list[400];
        sbuf b;
        sb_init(&b, list, sizeof list);
        for (i = 0; allowed[i]; i++)
            sb_printf(&b, "%s%s", i ? ", " : "", allowed[i]);
        node k;
        child(o, key, v, &k);
        return fail(&k, "unknown key (expected one of: %s)", list);
    }
    return true;
}

/* The as_* checks accept an absent node (an optional key: keep the default). */

static bool as_object(const node *n, const char *const *keys) {
    if (!n->v) return true;
    if (!json_is_object(n->v)) return expect(n, "an object");
    return !keys || check_keys(n, keys);
}

static bool as_int(const node *n, int64_t lo, int64_t hi, int64_t *out) {
    if (!n->v) return true;
    if (json_is_integer(n->v) && json_integer_value(n->v) >= lo && json_integer_value(n->v) <= hi) {
        *out = json_integer_value(n->v);
        return true;
    }
    if (hi == INT64_MAX) return expect(n, "an integer >= %lld", (long long)lo);
    return expect(n, "an integer between %lld and %lld", (long long)lo, (long long)hi);
}

static bool as_num(const node *n, double lo, double hi, bool lo_open, double *out) {
    if (!n->v) return true;
    double x = json_number_value(n->v);
    if (json_is_number(n->v) && (lo_open ? x > lo : x >= lo) && x <= hi) {
        *out = x;
        return true;
    }
    char l[32], h[32];
    fmt_num(l, sizeof l, lo);
    fmt_num(h, sizeof h, hi);
    if (isinf(hi) && isinf(lo)) return expect(n, "a number");
    if (isinf(hi)) return expect(n, "a number %s %s", lo_open ? ">" : ">=", l);
    return expect(n, "a number between %s and %s", l, h);
}

static bool as_str(const node *n, char *out, size_t size, bool nonempty) {
    if (!n->v) return true;
    const char *s = json_string_value(n->v);
    size_t len = s ? strlen(s) : 0;
    if (!s || len >= size || (nonempty && len == 0))
        return expect(n, "a %sstring of at most %zu characters", nonempty ? "non-empty " : "",
                      size - 1);
    memcpy(out, s, len + 1);
    return true;
}

static bool as_enum(const node *n, const char *const *names, int *out) {
    if (!n->v) return true;
    const char *s = json_string_value(n->v);
    for (int i = 0; s && names[i]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return true;
        }
    char list[200];
    sbuf b;
    sb_init(&b, list, sizeof list);
    for (int i = 0; names[i]; i++)
        sb_printf(&b, "%s\"%s\"", i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
    return expect(n, "%s", list);
}

static bool get_obj(const node *o, const char *key, bool req, const char *const *keys, node *f) {
    return field(o, key, req, f) && as_object(f, keys);
}

static bool get_int(const node *o, const char *key, bool req, int64_t lo, int64_t hi,
                    int64_t *out) {
    node f;
    return field(o, key, req, &f) && as_int(&f, lo, hi, out);
}

static bool get_u32(const node *o, const char *key, uint32_t lo, uint32_t *out) {
    int64_t v = *out;
    if (!get_int(o, key, false, lo, UINT32_MAX, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

static bool get_num(const node *o, const char *key, bool req, double lo, double hi, bool lo_open,
                    double *out) {
    node f;
    return field(o, key, req, &f) && as_num(&f, lo, hi, lo_open, out);
}

static bool get_enum(const node *o, const char *key, const char *const *names, int *out) {
    node f;
    return field(o, key, false, &f) && as_enum(&f, names, out);
}

static int capacity_index(const sim_scenario *s, const char *name) {
    for (uint32_t i = 0; i < s->capacity_count; i++)
        if (strcmp(s->capacity[i].name, name) == 0) return (int)i;
    return -1;
}

/* ---- sections ------------------------------------------------------------- */

static bool parse_capacity(const node *root, sim_scenario *s) {
    node c;
    if (!get_obj(root, "capacity", true, NULL, &c)) return false;
    if (json_object_size(c.v) > SIM_MAX_RESOURCES)
        return fail(&c, "expected at most %d resources, got %zu", SIM_MAX_RESOURCES,
                    json_object_size(c.v));
    const char *key;
    json_t *v;
    json_object_foreach(c.v, key, v) {
        sim_resource_amount *ra = &s->capacity[s->capacity_count];
        node e;
        int64_t amount = 0;
        char q[128];
        child(&c, key, v, &e);
        if (!key[0] || strlen(key) >= sizeof ra->name)
            return fail(&e, "expected a resource name of 1 to %zu characters, got %s",
                        sizeof ra->name - 1, quoted(q, sizeof q, key));
        if (!as_int(&e, 1, UINT32_MAX, &amount)) return false;
        snprintf(ra->name, sizeof ra->name, "%s", key);
        ra->amount = (uint32_t)amount;
        s->capacity_count++;
    }
    if (capacity_index(s, "submission") < 0) return fail(&c, "missing required key \"submission\"");
    return true;
}

static bool parse_duration(const node *c, sim_dist *d) {
    node o, f;
    int kind = 0;
    if (!get_obj(c, "duration", true, NULL, &o) || !field(&o, "dist", true, &f) ||
        !as_enum(&f, DIST_NAMES, &kind) || !check_keys(&o, DIST_KEYS[kind]))
        return false;
    double a = 0, b = 0;
    bool ok = false;
    switch ((sim_dist_kind)kind) {
    case SIM_DIST_CONSTANT: ok = get_num(&o, "seconds", true, 0, INFINITY, false, &a); break;
    case SIM_DIST_UNIFORM:
        ok = get_num(&o, "low", true, 0, INFINITY, false, &a) &&
             get_num(&o, "high", true, a, INFINITY, false, &b);
        break;
    case SIM_DIST_EXPONENTIAL: ok = get_num(&o, "mean", true, 0, INFINITY, true, &a); break;
    case SIM_DIST_LOGNORMAL:
        ok = get_num(&o, "mu", true, -INFINITY, INFINITY, false, &a) &&
             get_num(&o, "sigma", true, 0, INFINITY, false, &b);
        break;
    case SIM_DIST_GAMMA:
        ok = get_num(&o, "shape", true, 0, INFINITY, true, &a) &&
             get_num(&o, "scale", true, 0, INFINITY, true, &b);
        break;
    }
    *d = (sim_dist){(sim_dist_kind)kind, a, b};
    return ok;
}

static bool parse_deps(const node *c, const sim_scenario *s, sim_column *col) {
    node a;
    if (!field(c, "depends_on", false, &a) || !a.v) return true;
    if (!json_is_array(a.v) || json_array_size(a.v) > SIM_MAX_DEPS)
        return expect(&a, "an array of at most %d column names", SIM_MAX_DEPS);
    for (size_t i = 0; i < json_array_size(a.v); i++) {
        node d;
        item(&a, i, &d);
        const char *name = json_string_value(d.v);
        int idx = name ? sim_scenario_column_index(s, name) : -1; /* only earlier ones so far */
        if (idx < 0) return expect(&d, "the name of an earlier column");
        for (uint32_t j = 0; j < col->dep_count; j++)
            if (col->deps[j] == (uint32_t)idx) return expect(&d, "a column not listed before");
        col->deps[col->dep_count++] = (uint32_t)idx;
    }
    return true;
}

static bool parse_rows(const node *c, const sim_scenario *s, sim_column *col) {
    node f;
    int64_t rows = 0;
    if (!field(c, "rows", false, &f) || !as_int(&f, 1, s->records, &rows)) return false;
    col->rows = rows;
    int64_t eff = rows ? rows : s->records;
    for (uint32_t d = 0; d < col->dep_count; d++) {
        const sim_column *dep = &s->columns[col->deps[d]];
        int64_t dep_rows = dep->rows ? dep->rows : s->records;
        if (eff <= dep_rows) continue;
        char got[64];
        if (rows)
            snprintf(got, sizeof got, "%lld", (long long)rows);
        else
            snprintf(got, sizeof got, "none (all %lld records)", (long long)s->records);
        return fail(&f,
                    "expected an integer <= %lld (the rows of \"%s\", which it depends on), got %s",
                    (long long)dep_rows, dep->name, got);
    }
    return true;
}

static bool parse_failure(const node *c, sim_column *col) {
    node o;
    if (!get_obj(c, "failure", false, FAILURE_KEYS, &o)) return false;
    if (!o.v) return true;
    double r = 0, nr = 0;
    if (!get_num(&o, "retryable_probability", false, 0, 1, false, &r) ||
        !get_num(&o, "non_retryable_probability", false, 0, 1, false, &nr))
        return false;
    if (r + nr > 1 + 1e-12) {
        char a[32], b[32];
        return fail(&o, "expected probabilities summing to at most 1, got %s + %s",
                    fmt_num(a, sizeof a, r), fmt_num(b, sizeof b, nr));
    }
    col->retryable_probability = r;
    col->non_retryable_probability = nr;
    return true;
}

static bool parse_task_resources(const node *r, const sim_scenario *s, sim_column *col) {
    size_t n = json_object_size(r->v);
    if (n < 1 || n > ADMIT_MAX_TASK_RESOURCES)
        return expect(r, "an object of 1 to %d resource amounts", ADMIT_MAX_TASK_RESOURCES);
    const char *key;
    json_t *v;
    json_object_foreach(r->v, key, v) {
        node e;
        char q[128];
        int64_t amount = 0;
        child(r, key, v, &e);
        int ci = capacity_index(s, key);
        if (ci < 0)
            return fail(&e, "expected a resource named in $.capacity, got %s",
                        quoted(q, sizeof q, key));
        if (!as_int(&e, 1, s->capacity[ci].amount, &amount)) return false;
        sim_resource_amount *ra = &col->resources[col->resource_count++];
        snprintf(ra->name, sizeof ra->name, "%s", key);
        ra->amount = (uint32_t)amount;
    }
    return true;
}

static bool parse_scheduling(const node *c, const sim_scenario *s, sim_column *col) {
    node o, f;
    if (!get_obj(c, "scheduling", false, SCHEDULING_KEYS, &o)) return false;
    if (!o.v) return true;
    admit_metadata *m = &col->metadata;
    int kind = 0;
    if (!field(&o, "kind", true, &f) || !as_enum(&f, KIND_NAMES, &kind)) return false;
    m->kind = (admit_metadata_kind)kind;
    if (!field(&o, "identity", true, &f)) return false;
    size_t parts = json_array_size(f.v);
    if (!json_is_array(f.v) || parts < 1 || parts > ADMIT_IDENTITY_PARTS)
        return expect(&f, "an array of 1 to %d strings", ADMIT_IDENTITY_PARTS);
    for (size_t i = 0; i < parts; i++) {
        node e;
        item(&f, i, &e);
        if (!as_str(&e, m->identity[i], sizeof m->identity[i], false)) return false;
    }
    /* weight <= 0 and empty identities are the resolver's to judge (SPEC §3) */
    int64_t weight = 1, limit = 0;
    if (!get_int(&o, "weight", false, INT_MIN, INT_MAX, &weight) ||
        !get_int(&o, "admitted_limit", false, 1, INT_MAX, &limit))
        return false;
    m->weight = (int)weight;
    col->admitted_limit = (int)limit;
    col->has_metadata = true;
    node r;
    if (!get_obj(&o, "resources", false, NULL, &r)) return false;
    if (r.v) return parse_task_resources(&r, s, col);
    if (m->kind != ADMIT_KIND_LOCAL && capacity_index(s, "llm_wait") < 0)
        return fail(&o, "expected \"llm_wait\" in $.capacity for model work (or explicit "
                        "\"resources\"), got none");
    return true;
}

static bool parse_column(const node *c, sim_scenario *s, sim_column *col) {
    node f;
    int strategy = ADMIT_CELL_BY_CELL;
    double ready = 0;
    if (!as_object(c, COLUMN_KEYS) || !field(c, "name", true, &f) ||
        !as_str(&f, col->name, sizeof col->name, true))
        return false;
    if (sim_scenario_column_index(s, col->name) >= 0)
        return expect(&f, "a name not used by an earlier column");
    if (!get_enum(c, "strategy", STRATEGY_NAMES, &strategy) || !parse_deps(c, s, col) ||
        !parse_rows(c, s, col) ||
        !get_num(c, "ready_at_seconds", false, 0, MAX_SECONDS, false, &ready) ||
        !parse_duration(c, &col->duration) || !parse_failure(c, col) ||
        !parse_scheduling(c, s, col))
        return false;
    col->strategy = (admit_column_strategy)strategy;
    col->ready_at_ns = sim_seconds_to_ns(ready);
    return true;
}

static bool parse_columns(const node *root, sim_scenario *s) {
    node a;
    if (!field(root, "columns", true, &a)) return false;
    size_t n = json_array_size(a.v);
    if (!json_is_array(a.v) || n == 0 || n > SIM_MAX_COLUMNS)
        return expect(&a, "a non-empty array of at most %d columns", SIM_MAX_COLUMNS);
    for (size_t i = 0; i < n; i++) {
        node c;
        item(&a, i, &c);
        if (!parse_column(&c, s, &s->columns[i])) return false;
        s->column_count++;
    }
    return true;
}

static bool parse_ceilings(const node *p, sim_scenario *s) {
    node a;
    if (!field(p, "borrow_ceilings", false, &a) || !a.v) return true;
    if (!json_is_array(a.v) || json_array_size(a.v) > SIM_MAX_COLUMNS)
        return expect(&a, "an array of at most %d borrow ceilings", SIM_MAX_COLUMNS);
    for (size_t i = 0; i < json_array_size(a.v); i++) {
        node e, f;
        sim_borrow_ceiling *bc = &s->ceilings[s->ceiling_count];
        item(&a, i, &e);
        if (!as_object(&e, CEILING_KEYS) || !field(&e, "column", true, &f)) return false;
        const char *name = json_string_value(f.v);
        int col = name ? sim_scenario_column_index(s, name) : -1;
        if (col < 0) return expect(&f, "the name of a column");
        if (!field(&e, "resource", true, &f)) return false;
        name = json_string_value(f.v);
        if (!name || capacity_index(s, name) < 0)
            return expect(&f, "a resource named in $.capacity");
        int64_t ceiling = 0;
        if (!get_int(&e, "ceiling", true, 0, UINT32_MAX, &ceiling)) return false;
        for (uint32_t j = 0; j < s->ceiling_count; j++)
            if (s->ceilings[j].column == (uint32_t)col &&
                strcmp(s->ceilings[j].resource, name) == 0)
                return fail(&e,
                            "expected a column and resource pair not listed before, got \"%s\" "
                            "and \"%s\" again",
                            s->columns[col].name, name);
        bc->column = (uint32_t)col;
        snprintf(bc->resource, sizeof bc->resource, "%s", name);
        bc->ceiling = (uint32_t)ceiling;
        s->ceiling_count++;
    }
    return true;
}

static bool parse_policy(const node *root, sim_scenario *s) {
    node p, f;
    if (!get_obj(root, "policy", false, POLICY_KEYS, &p)) return false;
    if (!p.v) return true;
    int policy = (int)s->default_policy, rounding = (int)s->rounding;
    if (!get_enum(&p, "default", POLICY_NAMES, &policy) ||
        !get_enum(&p, "strict_share_rounding", ROUNDING_NAMES, &rounding) ||
        !get_num(&p, "reserve_fraction", false, 0, 1, false, &s->reserve_fraction) ||
        !get_u32(&p, "max_reserved_slots", 1, &s->max_reserved_slots) ||
        !field(&p, "default_borrow_ceiling", false, &f))
        return false;
    s->default_policy = (sim_policy_kind)policy;
    s->rounding = (admit_share_rounding)rounding;
    if (f.v && !json_is_null(f.v)) {
        if (!json_is_integer(f.v) || json_integer_value(f.v) < 0)
            return expect(&f, "null or an integer >= 0");
        s->default_ceiling = json_integer_value(f.v);
    }
    return parse_ceilings(&p, s);
}

static bool parse_failures(const node *root, sim_scenario *s) {
    node o;
    return get_obj(root, "failures", false, FAILURES_KEYS, &o) &&
           (!o.v ||
            (get_u32(&o, "salvage_max_rounds", 0, &s->salvage_max_rounds) &&
             get_num(&o, "shutdown_error_rate", false, 0, 1, false, &s->shutdown_error_rate) &&
             get_u32(&o, "shutdown_error_window", 1, &s->shutdown_error_window) &&
             get_num(&o, "spawn_failure_probability", false, 0, 1, false,
                     &s->spawn_failure_probability)));
}

static bool parse_root(parser *p, json_t *json) {
    sim_scenario *s = p->s;
    node root = {p, json, "$"}, f;
    /* the schema first: a newer file's keys are unknown to this reader */
    if (!as_object(&root, NULL) || !field(&root, "schema", true, &f)) return false;
    if (!json_is_integer(f.v) || json_integer_value(f.v) != SIM_SCENARIO_SCHEMA_VERSION)
        return expect(&f, "%d", SIM_SCENARIO_SCHEMA_VERSION);
    if (!check_keys(&root, ROOT_KEYS)) return false;

    if (!field(&root, "scenario_id", true, &f)) return false;
    const char *id = json_string_value(f.v);
    size_t id_len = id ? strlen(id) : 0;
    bool id_ok = id_len > 0 && id_len < sizeof s->scenario_id;
    for (size_t i = 0; id_ok && i < id_len; i++)
        id_ok = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", id[i]);
    if (!id_ok)
        return expect(&f, "a non-empty string of at most %zu characters from [A-Za-z0-9_.-]",
                      sizeof s->scenario_id - 1);
    memcpy(s->scenario_id, id, id_len + 1);

    int64_t buffer_size = 0, cap = s->model_group_limit_cap;
    double cancel = -1;
    if (!get_int(&root, "scenario_version", true, 1, INT64_MAX, &s->scenario_version) ||
        !field(&root, "description", false, &f) ||
        !as_str(&f, s->description, sizeof s->description, false) ||
        !get_int(&root, "records", true, 1, MAX_RECORDS, &s->records) ||
        !get_int(&root, "buffer_size", false, 1, INT64_MAX, &buffer_size) ||
        !get_u32(&root, "max_concurrent_row_groups", 0, &s->max_concurrent_row_groups) ||
        !get_int(&root, "model_group_limit_cap", false, 1, INT_MAX, &cap) ||
        !parse_capacity(&root, s) || !parse_columns(&root, s) || !parse_policy(&root, s) ||
        !parse_failures(&root, s) ||
        !get_num(&root, "cancel_at_seconds", false, 0, MAX_SECONDS, false, &cancel))
        return false;
    s->buffer_size = buffer_size == 0 || buffer_size > s->records ? s->records : buffer_size;
    s->model_group_limit_cap = (int)cap;
    s->cancel_at_ns = cancel < 0 ? -1 : sim_seconds_to_ns(cancel);
    return true;
}

/* ---- public ----------------------------------------------------------------- */

static sim_scenario *from_json(json_t *json, const json_error_t *jerr, const char *name,
                               sim_error *err) {
    if (!json) {
        if (jerr->line > 0)
            snprintf(err->message, sizeof err->message, "%.400s:%d:%d: invalid JSON: %s", name,
                     jerr->line, jerr->column, jerr->text);
        else
            snprintf(err->message, sizeof err->message, "%.400s: invalid JSON: %s", name,
                     jerr->text);
        return NULL;
    }
    sim_scenario *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err->message, sizeof err->message, "%.400s: out of memory", name);
        json_decref(json);
        return NULL;
    }
    snprintf(s->path, sizeof s->path, "%s", name);
    s->model_group_limit_cap = 64;
    s->default_policy = SIM_POLICY_BOUNDED;
    s->rounding = ADMIT_SHARE_CEIL;
    s->max_reserved_slots = 8;
    s->default_ceiling = -1;
    s->salvage_max_rounds = 2;
    s->shutdown_error_rate = 0.5;
    s->shutdown_error_window = 10;
    s->cancel_at_ns = -1;
    parser p = {name, err, s};
    bool ok = parse_root(&p, json);
    json_decref(json);
    if (!ok) {
        free(s);
        return NULL;
    }
    return s;
}

sim_scenario *sim_scenario_load(const char *path, sim_error *err) {
    sim_error scratch;
    if (!err) err = &scratch;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->message, sizeof err->message, "%.400s: cannot read: %s", path,
                 strerror(errno));
        return NULL;
    }
    json_error_t jerr;
    errno = 0;
    json_t *json = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (!json && read_errno) {
        snprintf(err->message, sizeof err->message, "%.400s: cannot read: %s", path,
                 strerror(read_errno));
        return NULL;
    }
    return from_json(json, &jerr, path, err);
}

sim_scenario *sim_scenario_parse(const char *text, const char *name, sim_error *err) {
    sim_error scratch;
    if (!err) err = &scratch;
    json_error_t jerr;
    return from_json(json_loads(text, JSON_REJECT_DUPLICATES, &jerr), &jerr, name, err);
}

void sim_scenario_free(sim_scenario *s) {
    free(s);
}

int sim_scenario_column_index(const sim_scenario *s, const char *name) {
    for (uint32_t i = 0; i < s->column_count; i++)
        if (strcmp(s->columns[i].name, name) == 0) return (int)i;
    return -1;
}

bool sim_policy_parse(const char *text, sim_policy_kind *out) {
    for (int i = 0; text && POLICY_NAMES[i]; i++)
        if (strcmp(text, POLICY_NAMES[i]) == 0) {
            *out = (sim_policy_kind)i;
            return true;
        }
    return false;
}

const char *sim_policy_name(sim_policy_kind p) {
    return (unsigned)p <= SIM_POLICY_BOUNDED ? POLICY_NAMES[p] : "unknown";
}

uint64_t sim_scenario_task_count(const sim_scenario *s) {
    int64_t bs = s->buffer_size > 0 ? s->buffer_size : s->records;
    uint64_t total = 0;
    for (uint32_t c = 0; c < s->column_count; c++) {
        const sim_column *col = &s->columns[c];
        int64_t rows = col->rows > 0 ? col->rows : s->records;
        total += (uint64_t)(col->strategy == ADMIT_FULL_COLUMN ? (rows + bs - 1) / bs : rows);
    }
    return total;
}
