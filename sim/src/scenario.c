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
#define MAX_SECONDS 1e9      /* the sampler's clamp too: keeps the ns clock far from overflow */
#define MAX_SAMPLES 10000000 /* empirical distributions */
#define MAX_RPM     1e6      /* bounds the provider's ring of call starts */
#define MAX_RAMP    3600.0

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
                                        "models",
                                        "request_admission",
                                        "providers",
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
static const char *const COLUMN_KEYS[] = {
    "name",  "strategy", "depends_on", "rows", "ready_at_seconds", "duration", "program",
    "retry", "failure",  "scheduling", NULL};
static const char *const FAILURE_KEYS[] = {"retryable_probability", "non_retryable_probability",
                                           NULL};
static const char *const SCHEDULING_KEYS[] = {"kind",   "identity",       "model",     "domain",
                                              "weight", "admitted_limit", "resources", NULL};
static const char *const MODEL_KEYS[] = {"alias", "provider", "model", "max_parallel_requests",
                                         NULL};
static const char *const AIMD_KEYS[] = {"md_factor",
                                        "ai_step",
                                        "successes_until_increase",
                                        "cooldown_seconds",
                                        "startup_ramp_seconds",
                                        "queue_wait_timeout_seconds",
                                        "resources",
                                        NULL};
static const char *const LIMIT_KEYS[] = {"model", "domain", "initial_limit", "max_limit_clamp",
                                         NULL};
static const char *const PROVIDER_KEYS[] = {"model",
                                            "domain",
                                            "latency",
                                            "max_concurrent",
                                            "requests_per_minute",
                                            "retry_after_seconds",
                                            "rate_limited_latency_seconds",
                                            "failure_probability",
                                            "timeout_probability",
                                            "timeout_seconds",
                                            "windows",
                                            NULL};
/* In sim_window_kind order; WINDOW_KEYS[k] are the keys window kind k accepts. */
static const char *const WINDOW_NAMES[] = {"outage", "capacity", "latency", NULL};
static const char *const WINDOW_KEYS[][6] = {
    {"kind", "start_seconds", "end_seconds", NULL},
    {"kind", "start_seconds", "end_seconds", "max_concurrent", "requests_per_minute", NULL},
    {"kind", "start_seconds", "end_seconds", "multiplier", NULL}};
static const char *const STEP_KEYS[] = {"local", "call", NULL};
static const char *const CALL_KEYS[] = {"model", "domain", "count", NULL};
static const char *const BRANCH_KEYS[] = {"branch", "then", "else", NULL};
static const char *const UNTIL_KEYS[] = {"until_valid", "max", NULL};
static const char *const RETRY_KEYS[] = {"max_attempts", "backoff_seconds", NULL};
static const char *const POLICY_NAMES[] = {"strict", "bounded", "provider_aware", NULL};
static const char *const ROUNDING_NAMES[] = {"ceil", "floor", NULL};
static const char *const STRATEGY_NAMES[] = {"cell_by_cell", "full_column", NULL};
static const char *const KIND_NAMES[] = {"local", "model", "custom_model", NULL};
/* In sim_dist_kind order; DIST_KEYS[k] are the keys dist k accepts. */
static const char *const DIST_NAMES[] = {"constant", "uniform",   "exponential", "lognormal",
                                         "gamma",    "empirical", NULL};
static const char *const DIST_KEYS[][4] = {
    {"dist", "seconds", NULL},     {"dist", "low", "high", NULL},    {"dist", "mean", NULL},
    {"dist", "mu", "sigma", NULL}, {"dist", "shape", "scale", NULL}, {"dist", "file", NULL}};

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
    const char *base_dir; /* relative data files (CSV traces) resolve here; "": cwd */
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
    if (lo_open) return expect(n, "a number > %s and <= %s", l, h);
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

static bool get_u32_req(const node *o, const char *key, uint32_t lo, uint32_t *out) {
    int64_t v = 0;
    if (!get_int(o, key, true, lo, UINT32_MAX, &v)) return false;
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

/* Reads an empirical trace: one latency in seconds per line (the first field
** when the line has commas); blank lines and '#' comments skipped; a first
** line that is not a number is a header. */
static bool load_samples(const node *f, sim_dist *d) {
    parser *p = f->p;
    const char *file = json_string_value(f->v);
    if (!file || !file[0]) return expect(f, "a non-empty string (a CSV file path)");
    char path[4096];
    int k = file[0] == '/' || !p->base_dir[0]
                ? snprintf(path, sizeof path, "%s", file)
                : snprintf(path, sizeof path, "%s/%s", p->base_dir, file);
    if (k < 0 || (size_t)k >= sizeof path)
        return expect(f, "a file path of at most %zu characters", sizeof path - 1);
    FILE *in = fopen(path, "r");
    if (!in) return fail(f, "cannot read %s: %s", path, strerror(errno));
    double *samples = NULL;
    size_t count = 0, cap = 0, line_cap = 0;
    char *line = NULL;
    long lineno = 0;
    bool seen = false, ok = true;
    errno = 0;
    while (ok && getline(&line, &line_cap, in) != -1) {
        lineno++;
        char *t = line;
        if (lineno == 1 && strncmp(t, "\xef\xbb\xbf", 3) == 0) t += 3; /* UTF-8 byte order mark */
        while (*t == ' ' || *t == '\t')
            t++;
        if (*t == '\0' || *t == '\n' || *t == '\r' || *t == '#') continue;
        char *end = t + strcspn(t, ",\r\n");
        while (end > t && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *end = '\0';
        char *rest;
        double x = strtod(t, &rest);
        /* decimal only: strtod would also take hex ("0x10") and "nan"/"inf" */
        bool number = rest != t && *rest == '\0' && !strpbrk(t, "xXnN");
        if (!seen && !number) { /* a header */
            seen = true;
            continue;
        }
        seen = true;
        if (!number || !isfinite(x) || x < 0) {
            char q[128];
            ok = fail(f, "%s:%ld: expected a finite number >= 0, got %s", path, lineno,
                      quoted(q, sizeof q, t));
            break;
        }
        if (count == MAX_SAMPLES) {
            ok =
                fail(f, "%s:%ld: expected at most %d samples, got more", path, lineno, MAX_SAMPLES);
            break;
        }
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            if (ncap > MAX_SAMPLES) ncap = MAX_SAMPLES;
            double *grown = realloc(samples, ncap * sizeof *grown);
            if (!grown) {
                ok = fail(f, "out of memory reading %s", path);
                break;
            }
            samples = grown;
            cap = ncap;
        }
        samples[count++] = x;
    }
    if (ok && ferror(in)) ok = fail(f, "cannot read %s: %s", path, strerror(errno ? errno : EIO));
    if (ok && count == 0) ok = fail(f, "%s: expected at least 1 sample, got none", path);
    free(line);
    fclose(in);
    if (!ok) {
        free(samples);
        return false;
    }
    d->samples = samples;
    d->sample_count = (uint32_t)count;
    return true;
}

/* o: a distribution object, {"dist": KIND, ...parameters}. */
static bool parse_dist(const node *o, sim_dist *d) {
    node f;
    int kind = 0;
    if (!as_object(o, NULL) || !field(o, "dist", true, &f) || !as_enum(&f, DIST_NAMES, &kind) ||
        !check_keys(o, DIST_KEYS[kind]))
        return false;
    double a = 0, b = 0;
    bool ok = false;
    *d = (sim_dist){SIM_DIST_CONSTANT, 0, 0, NULL, 0};
    switch ((sim_dist_kind)kind) {
    case SIM_DIST_CONSTANT: ok = get_num(o, "seconds", true, 0, INFINITY, false, &a); break;
    case SIM_DIST_UNIFORM:
        ok = get_num(o, "low", true, 0, INFINITY, false, &a) &&
             get_num(o, "high", true, a, INFINITY, false, &b);
        break;
    case SIM_DIST_EXPONENTIAL: ok = get_num(o, "mean", true, 0, INFINITY, true, &a); break;
    case SIM_DIST_LOGNORMAL:
        ok = get_num(o, "mu", true, -INFINITY, INFINITY, false, &a) &&
             get_num(o, "sigma", true, 0, INFINITY, false, &b);
        break;
    case SIM_DIST_GAMMA:
        ok = get_num(o, "shape", true, 0, INFINITY, true, &a) &&
             get_num(o, "scale", true, 0, INFINITY, true, &b);
        break;
    case SIM_DIST_EMPIRICAL:
        if (!field(o, "file", true, &f) || !load_samples(&f, d)) return false;
        d->kind = SIM_DIST_EMPIRICAL;
        return true;
    }
    d->kind = (sim_dist_kind)kind;
    d->a = a;
    d->b = b;
    return ok;
}

static bool parse_duration(const node *c, sim_dist *d) {
    node o;
    return field(c, "duration", true, &o) && parse_dist(&o, d);
}

/* ---- models, request admission, providers --------------------------------- */

static int model_index(const sim_scenario *s, const char *alias) {
    for (uint32_t i = 0; i < s->model_count; i++)
        if (strcmp(s->models[i].alias, alias) == 0) return (int)i;
    return -1;
}

static bool same_endpoint(const sim_scenario *s, uint32_t a, uint32_t b) {
    return strcmp(s->models[a].provider, s->models[b].provider) == 0 &&
           strcmp(s->models[a].model_id, s->models[b].model_id) == 0;
}

/* The providers entry serving (the endpoint of) model alias m on domain d, or -1. */
static int provider_index(const sim_scenario *s, uint32_t m, admit_request_domain d) {
    for (uint32_t i = 0; i < s->provider_count; i++)
        if (s->providers[i].domain == d && same_endpoint(s, s->providers[i].model, m))
            return (int)i;
    return -1;
}

static bool as_model(const node *n, const sim_scenario *s, uint32_t *out) {
    const char *name = json_string_value(n->v);
    int m = name ? model_index(s, name) : -1;
    if (m < 0) return expect(n, "a model alias named in $.models");
    *out = (uint32_t)m;
    return true;
}

static bool as_domain(const node *n, admit_request_domain *out) {
    if (!n->v) return true;
    if (admit_request_domain_parse(json_string_value(n->v), out)) return true;
    char list[200];
    sbuf b;
    sb_init(&b, list, sizeof list);
    for (int i = 0; i < ADMIT_DOMAIN_COUNT; i++) {
        const char *sep = i == 0 ? "" : i + 1 < ADMIT_DOMAIN_COUNT ? ", " : " or ";
        sb_printf(&b, "%s\"%s\"", sep, admit_request_domain_name((admit_request_domain)i));
    }
    return expect(n, "%s", list);
}

/* o.model (required alias) and o.domain (default chat). */
static bool get_model_domain(const node *o, const sim_scenario *s, uint32_t *model,
                             admit_request_domain *domain) {
    node f;
    *domain = ADMIT_DOMAIN_CHAT;
    return field(o, "model", true, &f) && as_model(&f, s, model) && field(o, "domain", false, &f) &&
           as_domain(&f, domain);
}

static bool endpoint_repeated(const node *e, const sim_scenario *s, uint32_t model,
                              admit_request_domain domain) {
    char key[2 * ADMIT_NAME_MAX + 2];
    snprintf(key, sizeof key, "%s/%s", s->models[model].provider, s->models[model].model_id);
    return fail(e,
                "expected a model endpoint and domain pair not listed before, got \"%s\" and "
                "\"%s\" again",
                key, admit_request_domain_name(domain));
}

static bool no_provider(const node *e, const sim_scenario *s, uint32_t model,
                        admit_request_domain domain) {
    return fail(e, "expected a $.providers entry for model \"%s\" and domain \"%s\", got none",
                s->models[model].alias, admit_request_domain_name(domain));
}

/* Provider and model ids become parts of "provider/model/domain" keys. */
static bool as_endpoint_name(const node *n, char *out, size_t size) {
    const char *v = json_string_value(n->v);
    if (!v || !v[0] || strlen(v) >= size || strchr(v, '/'))
        return expect(n, "a non-empty string of at most %zu characters without \"/\"", size - 1);
    memcpy(out, v, strlen(v) + 1);
    return true;
}

static bool parse_models(const node *root, sim_scenario *s) {
    node a;
    if (!field(root, "models", false, &a) || !a.v) return true;
    if (!json_is_array(a.v) || json_array_size(a.v) > SIM_MAX_MODELS)
        return expect(&a, "an array of at most %d models", SIM_MAX_MODELS);
    for (size_t i = 0; i < json_array_size(a.v); i++) {
        node e, f;
        sim_model_alias *m = &s->models[s->model_count];
        int64_t cap = 0;
        item(&a, i, &e);
        if (!as_object(&e, MODEL_KEYS) || !field(&e, "alias", true, &f) ||
            !as_str(&f, m->alias, sizeof m->alias, true))
            return false;
        if (model_index(s, m->alias) >= 0)
            return expect(&f, "an alias not used by an earlier model");
        if (!field(&e, "provider", true, &f) ||
            !as_endpoint_name(&f, m->provider, sizeof m->provider) ||
            !field(&e, "model", true, &f) ||
            !as_endpoint_name(&f, m->model_id, sizeof m->model_id) ||
            !get_int(&e, "max_parallel_requests", true, 1, INT_MAX, &cap))
            return false;
        m->max_parallel_requests = (uint32_t)cap;
        s->model_count++;
    }
    return true;
}

static bool parse_request_limits(const node *o, sim_scenario *s) {
    node a;
    if (!field(o, "resources", false, &a) || !a.v) return true;
    if (!json_is_array(a.v) || json_array_size(a.v) > SIM_MAX_PROVIDERS)
        return expect(&a, "an array of at most %d request resources", SIM_MAX_PROVIDERS);
    for (size_t i = 0; i < json_array_size(a.v); i++) {
        node e;
        sim_request_limit *l = &s->request_limits[s->request_limit_count];
        item(&a, i, &e);
        if (!as_object(&e, LIMIT_KEYS) || !get_model_domain(&e, s, &l->model, &l->domain))
            return false;
        for (uint32_t j = 0; j < s->request_limit_count; j++)
            if (s->request_limits[j].domain == l->domain &&
                same_endpoint(s, s->request_limits[j].model, l->model))
                return endpoint_repeated(&e, s, l->model, l->domain);
        /* the simulator serves every request resource with a provider */
        if (provider_index(s, l->model, l->domain) < 0)
            return no_provider(&e, s, l->model, l->domain);
        if (!get_u32(&e, "initial_limit", 1, &l->initial_limit) ||
            !get_u32(&e, "max_limit_clamp", 1, &l->max_limit_clamp))
            return false;
        s->request_limit_count++;
    }
    return true;
}

static bool parse_request_admission(const node *root, sim_scenario *s) {
    node o, f;
    if (!get_obj(root, "request_admission", false, AIMD_KEYS, &o)) return false;
    if (!o.v) return true;
    s->request_admission_set = true;
    admit_aimd_config *c = &s->aimd; /* holds admit_aimd_config_init()'s defaults */
    double cooldown = -1, ramp = -1; /* -1: absent, keep the default */
    if (!field(&o, "md_factor", false, &f)) return false;
    if (f.v) {
        double x = json_number_value(f.v);
        if (!json_is_number(f.v) || !(x > 0 && x < 1)) return expect(&f, "a number > 0 and < 1");
        c->md_factor = x;
    }
    if (!get_u32(&o, "ai_step", 1, &c->ai_step) ||
        !get_u32(&o, "successes_until_increase", 1, &c->successes_until_increase) ||
        !get_num(&o, "cooldown_seconds", false, 0, MAX_SECONDS, true, &cooldown) ||
        !get_num(&o, "startup_ramp_seconds", false, 0, MAX_RAMP, false, &ramp) ||
        !field(&o, "queue_wait_timeout_seconds", false, &f))
        return false;
    if (f.v && !json_is_null(f.v)) {
        double x = json_number_value(f.v);
        if (!json_is_number(f.v) || !(x > 0 && x <= MAX_SECONDS))
            return expect(&f, "null or a number > 0 and <= %.0f", MAX_SECONDS);
        s->queue_wait_timeout_ns = sim_seconds_to_ns(x);
    }
    if (cooldown >= 0) c->cooldown_ns = sim_seconds_to_ns(cooldown);
    if (ramp >= 0) c->startup_ramp_ns = sim_seconds_to_ns(ramp);
    return parse_request_limits(&o, s);
}

/* A window's start and end; a capacity window's keys left out keep the
** entry's base values. */
static bool parse_window(const node *e, sim_provider_spec *ps, sim_window *w) {
    node f;
    int kind = 0;
    double start = 0, end = 0;
    if (!as_object(e, NULL) || !field(e, "kind", true, &f) || !as_enum(&f, WINDOW_NAMES, &kind) ||
        !check_keys(e, WINDOW_KEYS[kind]) ||
        !get_num(e, "start_seconds", true, 0, MAX_SECONDS, false, &start) ||
        !get_num(e, "end_seconds", true, start, MAX_SECONDS, true, &end))
        return false;
    w->kind = (sim_window_kind)kind;
    w->start_ns = sim_seconds_to_ns(start);
    w->end_ns = sim_seconds_to_ns(end);
    w->max_concurrent = ps->max_concurrent;
    w->requests_per_minute = ps->requests_per_minute;
    w->latency_multiplier = 1;
    switch (w->kind) {
    case SIM_WINDOW_OUTAGE: return true;
    case SIM_WINDOW_CAPACITY:
        if (!json_object_get(e->v, "max_concurrent") &&
            !json_object_get(e->v, "requests_per_minute"))
            return fail(e, "missing required key \"max_concurrent\" or \"requests_per_minute\"");
        return get_u32(e, "max_concurrent", 0, &w->max_concurrent) &&
               get_num(e, "requests_per_minute", false, 0, MAX_RPM, false, &w->requests_per_minute);
    case SIM_WINDOW_LATENCY:
        return get_num(e, "multiplier", true, 0, INFINITY, true, &w->latency_multiplier);
    }
    return true;
}

static bool parse_provider(const node *e, sim_scenario *s, sim_provider_spec *ps) {
    node f;
    double rl_latency = 0.05, timeout = 30;
    if (!as_object(e, PROVIDER_KEYS) || !get_model_domain(e, s, &ps->model, &ps->domain))
        return false;
    for (uint32_t j = 0; j < s->provider_count; j++)
        if (s->providers[j].domain == ps->domain &&
            same_endpoint(s, s->providers[j].model, ps->model))
            return endpoint_repeated(e, s, ps->model, ps->domain);
    if (!field(e, "latency", true, &f) || !parse_dist(&f, &ps->latency) ||
        !get_u32(e, "max_concurrent", 0, &ps->max_concurrent) ||
        !get_num(e, "requests_per_minute", false, 0, MAX_RPM, false, &ps->requests_per_minute) ||
        !field(e, "retry_after_seconds", false, &f))
        return false;
    ps->retry_after_ns = -1;
    if (f.v && !json_is_null(f.v)) {
        double x = json_number_value(f.v);
        if (!json_is_number(f.v) || !(x >= 0 && x <= MAX_SECONDS))
            return expect(&f, "null or a number between 0 and %.0f", MAX_SECONDS);
        ps->retry_after_ns = sim_seconds_to_ns(x);
    }
    if (!get_num(e, "rate_limited_latency_seconds", false, 0, MAX_SECONDS, false, &rl_latency) ||
        !get_num(e, "failure_probability", false, 0, 1, false, &ps->failure_probability) ||
        !get_num(e, "timeout_probability", false, 0, 1, false, &ps->timeout_probability) ||
        !get_num(e, "timeout_seconds", false, 0, MAX_SECONDS, true, &timeout))
        return false;
    if (ps->failure_probability + ps->timeout_probability > 1 + 1e-12) {
        char a[32], b[32];
        return fail(e, "expected probabilities summing to at most 1, got %s + %s",
                    fmt_num(a, sizeof a, ps->failure_probability),
                    fmt_num(b, sizeof b, ps->timeout_probability));
    }
    ps->rate_limited_latency_ns = sim_seconds_to_ns(rl_latency);
    ps->timeout_ns = sim_seconds_to_ns(timeout);
    node a;
    if (!field(e, "windows", false, &a) || !a.v) return true;
    if (!json_is_array(a.v) || json_array_size(a.v) > SIM_MAX_WINDOWS)
        return expect(&a, "an array of at most %d windows", SIM_MAX_WINDOWS);
    for (size_t i = 0; i < json_array_size(a.v); i++) {
        node w;
        item(&a, i, &w);
        if (!parse_window(&w, ps, &ps->windows[ps->window_count])) return false;
        ps->window_count++;
    }
    return true;
}

static bool parse_providers(const node *root, sim_scenario *s) {
    node a;
    if (!field(root, "providers", false, &a) || !a.v) return true;
    if (!json_is_array(a.v) || json_array_size(a.v) > SIM_MAX_PROVIDERS)
        return expect(&a, "an array of at most %d providers", SIM_MAX_PROVIDERS);
    for (size_t i = 0; i < json_array_size(a.v); i++) {
        node e;
        item(&a, i, &e);
        if (!parse_provider(&e, s, &s->providers[s->provider_count])) return false;
        s->provider_count++;
    }
    return true;
}

/* ---- request programs ------------------------------------------------------ */

/* A call's "count": an integer, {"branch": p, "then": n, "else": n} or
** {"until_valid": p, "max": n}; absent: one call. */
static bool parse_count(const node *c, sim_step *st) {
    node f;
    st->count_kind = SIM_COUNT_FIXED;
    st->count = 1;
    if (!field(c, "count", false, &f) || !f.v) return true;
    if (json_is_integer(f.v)) return get_u32(c, "count", 0, &st->count);
    if (!json_is_object(f.v))
        return expect(&f, "an integer >= 0 or an object with \"branch\" or \"until_valid\"");
    if (json_object_get(f.v, "branch")) {
        st->count_kind = SIM_COUNT_BRANCH;
        return check_keys(&f, BRANCH_KEYS) &&
               get_num(&f, "branch", true, 0, 1, false, &st->probability) &&
               get_u32_req(&f, "then", 0, &st->count) &&
               get_u32_req(&f, "else", 0, &st->count_else);
    }
    if (json_object_get(f.v, "until_valid")) {
        st->count_kind = SIM_COUNT_UNTIL_VALID;
        return check_keys(&f, UNTIL_KEYS) &&
               get_num(&f, "until_valid", true, 0, 1, true, &st->probability) &&
               get_u32_req(&f, "max", 1, &st->count);
    }
    return fail(&f, "missing required key \"branch\" or \"until_valid\"");
}

static bool parse_step(const node *e, const sim_scenario *s, sim_step *st) {
    node local, call;
    if (!as_object(e, STEP_KEYS) || !field(e, "local", false, &local) ||
        !field(e, "call", false, &call))
        return false;
    if (local.v && call.v)
        return fail(e, "expected exactly one of \"local\" or \"call\", got both");
    if (!local.v && !call.v) return fail(e, "missing required key \"local\" or \"call\"");
    if (local.v) {
        st->kind = SIM_STEP_LOCAL;
        return parse_dist(&local, &st->duration);
    }
    st->kind = SIM_STEP_CALL;
    if (!as_object(&call, CALL_KEYS) || !get_model_domain(&call, s, &st->model, &st->domain) ||
        !parse_count(&call, st))
        return false;
    if (provider_index(s, st->model, st->domain) < 0)
        return no_provider(&call, s, st->model, st->domain);
    return true;
}

static bool parse_program(const node *a, const sim_scenario *s, sim_column *col) {
    size_t n = json_array_size(a->v);
    if (!json_is_array(a->v) || n < 1 || n > SIM_MAX_STEPS)
        return expect(a, "an array of 1 to %d steps", SIM_MAX_STEPS);
    for (size_t i = 0; i < n; i++) {
        node e;
        item(a, i, &e);
        if (!parse_step(&e, s, &col->program[col->step_count])) return false;
        col->step_count++;
    }
    return true;
}

static bool parse_retry(const node *c, sim_column *col) {
    node o;
    double backoff = (double)col->retry_backoff_ns / 1e9;
    if (!get_obj(c, "retry", false, RETRY_KEYS, &o)) return false;
    if (!o.v) return true;
    if (!get_u32(&o, "max_attempts", 1, &col->retry_max_attempts) ||
        !get_num(&o, "backoff_seconds", false, 0, MAX_SECONDS, false, &backoff))
        return false;
    col->retry_backoff_ns = sim_seconds_to_ns(backoff);
    return true;
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

/* The static cap of an alias's endpoint, merged over its aliases by the
** RequestResourceResolver (the one place that rule lives). */
static uint32_t endpoint_cap(const sim_scenario *s, uint32_t alias) {
    uint32_t cap = s->models[alias].max_parallel_requests;
    admit_request_resolver *rr = admit_request_resolver_create(NULL);
    bool ok = rr != NULL;
    for (uint32_t i = 0; ok && i < s->model_count; i++)
        ok = admit_request_resolver_add_alias(
                 rr, s->models[i].alias, s->models[i].provider, s->models[i].model_id,
                 s->models[i].max_parallel_requests, NULL, NULL) == ADMIT_OK;
    int pm = ok ? admit_request_resolver_lookup(rr, s->models[alias].alias) : -1;
    if (pm >= 0) cap = admit_request_resolver_pm_cap(rr, (uint32_t)pm);
    admit_request_resolver_destroy(rr);
    return cap;
}

static bool parse_scheduling(const node *c, const sim_scenario *s, sim_column *col) {
    node o, f;
    if (!get_obj(c, "scheduling", false, SCHEDULING_KEYS, &o)) return false;
    if (!o.v) return true;
    admit_metadata *m = &col->metadata;
    int kind = 0;
    if (!field(&o, "kind", true, &f) || !as_enum(&f, KIND_NAMES, &kind)) return false;
    m->kind = (admit_metadata_kind)kind;
    node mf, df;
    if (!field(&o, "identity", false, &f) || !field(&o, "model", false, &mf) ||
        !field(&o, "domain", false, &df))
        return false;
    if (f.v && mf.v) return fail(&o, "expected either \"identity\" or \"model\", got both");
    if (mf.v && m->kind != ADMIT_KIND_MODEL) return expect(&mf, "kind \"model\" for a model alias");
    if (df.v && !mf.v) return expect(&df, "\"domain\" only together with \"model\"");
    if (!f.v && !mf.v)
        return fail(&o, m->kind == ADMIT_KIND_MODEL
                            ? "missing required key \"identity\" or \"model\""
                            : "missing required key \"identity\"");
    int64_t weight = 1, limit = 0;
    if (mf.v) {
        /* identity [provider, model_id, domain]; weight: the endpoint's static cap */
        uint32_t alias = 0;
        admit_request_domain domain = ADMIT_DOMAIN_CHAT;
        if (!as_model(&mf, s, &alias) || !as_domain(&df, &domain)) return false;
        const sim_model_alias *ma = &s->models[alias];
        snprintf(m->identity[0], sizeof m->identity[0], "%s", ma->provider);
        snprintf(m->identity[1], sizeof m->identity[1], "%s", ma->model_id);
        snprintf(m->identity[2], sizeof m->identity[2], "%s", admit_request_domain_name(domain));
        weight = endpoint_cap(s, alias);
    } else {
        size_t parts = json_array_size(f.v);
        if (!json_is_array(f.v) || parts < 1 || parts > ADMIT_IDENTITY_PARTS)
            return expect(&f, "an array of 1 to %d strings", ADMIT_IDENTITY_PARTS);
        for (size_t i = 0; i < parts; i++) {
            node e;
            item(&f, i, &e);
            if (!as_str(&e, m->identity[i], sizeof m->identity[i], false)) return false;
        }
    }
    /* weight <= 0 and empty identities are the resolver's to judge (SPEC §3) */
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
    node f, program;
    int strategy = ADMIT_CELL_BY_CELL;
    double ready = 0;
    col->retry_max_attempts = 3;
    col->retry_backoff_ns = SIM_NS_PER_SEC / 2;
    if (!as_object(c, COLUMN_KEYS) || !field(c, "name", true, &f) ||
        !as_str(&f, col->name, sizeof col->name, true))
        return false;
    if (sim_scenario_column_index(s, col->name) >= 0)
        return expect(&f, "a name not used by an earlier column");
    if (!get_enum(c, "strategy", STRATEGY_NAMES, &strategy) || !parse_deps(c, s, col) ||
        !parse_rows(c, s, col) ||
        !get_num(c, "ready_at_seconds", false, 0, MAX_SECONDS, false, &ready) ||
        !field(c, "program", false, &program))
        return false;
    if (program.v && json_object_get(c->v, "duration"))
        return fail(c, "expected either \"duration\" or \"program\", got both");
    if (!(program.v ? parse_program(&program, s, col) : parse_duration(c, &col->duration)) ||
        !parse_retry(c, col) || !parse_failure(c, col) || !parse_scheduling(c, s, col))
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
        !parse_capacity(&root, s) || !parse_models(&root, s) || !parse_providers(&root, s) ||
        !parse_request_admission(&root, s) || !parse_columns(&root, s) || !parse_policy(&root, s) ||
        !parse_failures(&root, s) ||
        !get_num(&root, "cancel_at_seconds", false, 0, MAX_SECONDS, false, &cancel))
        return false;
    s->buffer_size_set = buffer_size != 0;
    s->buffer_size = buffer_size == 0 || buffer_size > s->records ? s->records : buffer_size;
    s->model_group_limit_cap = (int)cap;
    s->cancel_at_ns = cancel < 0 ? -1 : sim_seconds_to_ns(cancel);
    return true;
}

/* ---- public ----------------------------------------------------------------- */

static sim_scenario *from_json(json_t *json, const json_error_t *jerr, const char *name,
                               const char *base_dir, sim_error *err) {
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
    admit_aimd_config_init(&s->aimd);
    parser p = {name, base_dir, err, s};
    bool ok = parse_root(&p, json);
    json_decref(json);
    if (!ok) {
        sim_scenario_free(s);
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
    /* relative trace files resolve against the scenario file's directory */
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        dir[0] = '\0';
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    return from_json(json, &jerr, path, dir, err);
}

sim_scenario *sim_scenario_parse(const char *text, const char *name, sim_error *err) {
    sim_error scratch;
    if (!err) err = &scratch;
    json_error_t jerr;
    return from_json(json_loads(text, JSON_REJECT_DUPLICATES, &jerr), &jerr, name, "", err);
}

static void free_dist(sim_dist *d) {
    if (d->kind == SIM_DIST_EMPIRICAL) free((void *)d->samples);
    d->samples = NULL;
    d->sample_count = 0;
}

/* Every slot, not just the counted ones: a load that failed part-way may
** have filled the slot it was working on. */
void sim_scenario_free(sim_scenario *s) {
    if (!s) return;
    for (uint32_t c = 0; c < SIM_MAX_COLUMNS; c++) {
        free_dist(&s->columns[c].duration);
        for (uint32_t i = 0; i < SIM_MAX_STEPS; i++)
            free_dist(&s->columns[c].program[i].duration);
    }
    for (uint32_t i = 0; i < SIM_MAX_PROVIDERS; i++)
        free_dist(&s->providers[i].latency);
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
    return (unsigned)p <= SIM_POLICY_PROVIDER_AWARE ? POLICY_NAMES[p] : "unknown";
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
