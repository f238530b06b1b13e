/*
** Loading the simulated environment of a scenario file (sim/scenario.h):
** the configuration through run_config_read(), then the keys only the
** simulator reads, with the same node readers (run/json_reader.h) so every
** error reads "FILE: PATH: expected ..., got ...".
*/
#include "sim/scenario.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/json_reader.h"

typedef run_json_node node;

#define MAX_SAMPLES 10000000 /* empirical distributions */
#define STR_(x)     #x
#define STR(x)      STR_(x)
#define MAX_RPM     1e6 /* bounds the provider's ring of call starts */

static const char *const FAILURE_KEYS[] = {"retryable_probability", "non_retryable_probability",
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
static const char *const BRANCH_KEYS[] = {"branch", "then", "else", NULL};
static const char *const UNTIL_KEYS[] = {"until_valid", "max", NULL};
/* In sim_dist_kind order; DIST_KEYS[k] are the keys dist k accepts. */
static const char *const DIST_NAMES[] = {"constant", "uniform",   "exponential", "lognormal",
                                         "gamma",    "empirical", NULL};
static const char *const DIST_KEYS[][4] = {
    {"dist", "seconds", NULL},     {"dist", "low", "high", NULL},    {"dist", "mean", NULL},
    {"dist", "mu", "sigma", NULL}, {"dist", "shape", "scale", NULL}, {"dist", "file", NULL}};

/* ---- distributions ------------------------------------------------------------ */

/* One line of a trace, at most SIM_MAX_TRACE_LINE bytes; false at the end.
** A NUL byte or a longer line is an error (*bad set). */
static bool read_line(FILE *in, char *line, bool *bad, const char **why) {
    size_t n = 0;
    int ch;
    while ((ch = getc_unlocked(in)) != EOF && ch != '\n') {
        if (ch == '\0' || n == SIM_MAX_TRACE_LINE) {
            *bad = true;
            *why =
                ch == '\0' ? "a NUL byte" : "a line longer than " STR(SIM_MAX_TRACE_LINE) " bytes";
            return false;
        }
        line[n++] = (char)ch;
    }
    line[n] = '\0';
    return ch != EOF || n > 0;
}

/* The line's value: its first comma-separated field, trimmed; NULL for a
** blank line or a '#' comment. */
static char *line_value(char *line, long lineno) {
    char *t = line;
    if (lineno == 1 && strncmp(t, "\xef\xbb\xbf", 3) == 0) t += 3; /* UTF-8 byte order mark */
    while (*t == ' ' || *t == '\t')
        t++;
    if (*t == '\0' || *t == '\r' || *t == '#') return NULL;
    char *end = t + strcspn(t, ",\r");
    while (end > t && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *end = '\0';
    return t;
}

typedef struct samples {
    double *v;
    size_t n, cap;
} samples;

static bool samples_push(samples *s, double x) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        if (cap > MAX_SAMPLES) cap = MAX_SAMPLES;
        double *grown = realloc(s->v, cap * sizeof *grown);
        if (!grown) return false;
        s->v = grown;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return true;
}

/* Reads an empirical trace: one latency in seconds per line (the first field
** when the line has commas); blank lines and '#' comments skipped; a first
** line that is not a number is a header.  Regular files only, of bounded
** size, lines and sample count. */
static bool read_trace(const node *f, const char *path, FILE *in, samples *out) {
    char line[SIM_MAX_TRACE_LINE + 1];
    long lineno = 0;
    bool seen = false, bad = false;
    const char *why = NULL;
    while (read_line(in, line, &bad, &why)) {
        char *t = line_value(line, ++lineno);
        if (!t) continue;
        char *rest;
        double x = strtod(t, &rest);
        /* decimal only: strtod would also take hex ("0x10") and "nan"/"inf" */
        bool number = rest != t && *rest == '\0' && !strpbrk(t, "xXnN");
        if (!seen && !number) { /* a header */
            seen = true;
            continue;
        }
        seen = true;
        char q[128];
        if (!number || !isfinite(x) || x < 0 || x > RUN_MAX_SECONDS)
            return run_json_fail(f,
                                 "%s:%ld: expected a number between 0 and %.0f (the limit of one "
                                 "duration), got %s",
                                 path, lineno, RUN_MAX_SECONDS, run_json_quoted(q, sizeof q, t));
        if (out->n == MAX_SAMPLES)
            return run_json_fail(f, "%s:%ld: expected at most %d samples, got more", path, lineno,
                                 MAX_SAMPLES);
        if (!samples_push(out, x)) return run_json_fail(f, "out of memory reading %s", path);
    }
    if (bad)
        return run_json_fail(f, "%s:%ld: expected a line of text, got %s", path, lineno + 1, why);
    if (ferror(in))
        return run_json_fail(f, "cannot read %s: %s", path, strerror(errno ? errno : EIO));
    if (out->n == 0) return run_json_fail(f, "%s: expected at least 1 sample, got none", path);
    return true;
}

static bool load_samples(const node *f, sim_dist *d) {
    const run_json_doc *p = f->doc;
    const char *file = json_string_value(f->v);
    if (!file || !file[0]) return run_json_expect(f, "a non-empty string (a CSV file path)");
    char path[4096];
    int k = file[0] == '/' || !p->base_dir[0]
                ? snprintf(path, sizeof path, "%s", file)
                : snprintf(path, sizeof path, "%s/%s", p->base_dir, file);
    if (k < 0 || (size_t)k >= sizeof path)
        return run_json_expect(f, "a file path of at most %zu characters", sizeof path - 1);
    run_error ferr = {0};
    FILE *in = run_file_open_regular(path, SIM_MAX_TRACE_BYTES, "a latency trace", &ferr);
    if (!in) return run_json_fail(f, "%s", ferr.message);
    samples s = {0};
    errno = 0;
    bool ok = read_trace(f, path, in, &s);
    fclose(in);
    if (!ok) {
        free(s.v);
        return false;
    }
    d->samples = s.v;
    d->sample_count = (uint32_t)s.n;
    return true;
}

/* An unbounded distribution (exponential, lognormal, gamma) whose median
** passes the limit of one duration: most of its draws would.  (A bounded
** one's parameters are held to the limit; a tail draw past it fails the
** run: sim_workload_over_limit, sim_providers_over_limit.) */
static bool median_within_limit(const node *o, const sim_dist *d) {
    double median = sim_dist_reach_seconds(d);
    if (!(median > RUN_MAX_SECONDS)) return true;
    char m[32];
    return run_json_fail(o,
                         "expected a distribution whose median is at most %.0f seconds (the "
                         "limit of one duration), got %s with a median of %s%s s",
                         RUN_MAX_SECONDS, sim_dist_kind_name(d->kind),
                         d->kind == SIM_DIST_GAMMA ? "above " : "",
                         run_json_fmt_num(m, sizeof m, median));
}

/* o: a distribution object, {"dist": KIND, ...parameters}. */
static bool parse_dist(const node *o, sim_dist *d) {
    node f;
    int kind = 0;
    if (!run_json_as_object(o, NULL) || !run_json_field(o, "dist", true, &f) ||
        !run_json_as_enum(&f, DIST_NAMES, &kind) || !run_json_check_keys(o, DIST_KEYS[kind]))
        return false;
    double a = 0, b = 0;
    bool ok = false;
    *d = (sim_dist){SIM_DIST_CONSTANT, 0, 0, NULL, 0};
    switch ((sim_dist_kind)kind) {
    case SIM_DIST_CONSTANT:
        ok = run_json_get_num(o, "seconds", true, 0, RUN_MAX_SECONDS, false, &a);
        break;
    case SIM_DIST_UNIFORM:
        ok = run_json_get_num(o, "low", true, 0, RUN_MAX_SECONDS, false, &a) &&
             run_json_get_num(o, "high", true, a, RUN_MAX_SECONDS, false, &b);
        break;
    case SIM_DIST_EXPONENTIAL: ok = run_json_get_num(o, "mean", true, 0, INFINITY, true, &a); break;
    case SIM_DIST_LOGNORMAL:
        ok = run_json_get_num(o, "mu", true, -INFINITY, INFINITY, false, &a) &&
             run_json_get_num(o, "sigma", true, 0, INFINITY, false, &b);
        break;
    case SIM_DIST_GAMMA:
        ok = run_json_get_num(o, "shape", true, 0, INFINITY, true, &a) &&
             run_json_get_num(o, "scale", true, 0, INFINITY, true, &b);
        break;
    case SIM_DIST_EMPIRICAL:
        if (!run_json_field(o, "file", true, &f) || !load_samples(&f, d)) return false;
        d->kind = SIM_DIST_EMPIRICAL;
        return true;
    }
    d->kind = (sim_dist_kind)kind;
    d->a = a;
    d->b = b;
    return ok && median_within_limit(o, d);
}

static bool parse_duration(const node *c, sim_dist *d) {
    node o;
    return run_json_field(c, "duration", true, &o) && parse_dist(&o, d);
}

/* ---- providers ---------------------------------------------------------------- */

/* A window's start and end; a capacity window's keys left out keep the
** entry's base values. */
static bool parse_window(const node *e, sim_provider_spec *ps, sim_window *w) {
    node f;
    int kind = 0;
    double start = 0, end = 0;
    if (!run_json_as_object(e, NULL) || !run_json_field(e, "kind", true, &f) ||
        !run_json_as_enum(&f, WINDOW_NAMES, &kind) || !run_json_check_keys(e, WINDOW_KEYS[kind]) ||
        !run_json_get_num(e, "start_seconds", true, 0, RUN_MAX_SECONDS, false, &start) ||
        !run_json_get_num(e, "end_seconds", true, start, RUN_MAX_SECONDS, true, &end))
        return false;
    w->kind = (sim_window_kind)kind;
    w->start_ns = run_seconds_to_ns(start);
    w->end_ns = run_seconds_to_ns(end);
    w->max_concurrent = ps->max_concurrent;
    w->requests_per_minute = ps->requests_per_minute;
    w->latency_multiplier = 1;
    switch (w->kind) {
    case SIM_WINDOW_OUTAGE: return true;
    case SIM_WINDOW_CAPACITY:
        if (!json_object_get(e->v, "max_concurrent") &&
            !json_object_get(e->v, "requests_per_minute"))
            return run_json_fail(
                e, "missing required key \"max_concurrent\" or \"requests_per_minute\"");
        return run_json_get_u32(e, "max_concurrent", 0, &w->max_concurrent) &&
               run_json_get_num(e, "requests_per_minute", false, 0, MAX_RPM, false,
                                &w->requests_per_minute);
    case SIM_WINDOW_LATENCY:
        return run_json_get_num(e, "multiplier", true, 0, INFINITY, true, &w->latency_multiplier);
    }
    return true;
}

/* A call's latency is a draw times the multipliers of the latency windows
** covering its start (the product is largest at some window's start): the
** latency's reach (its largest value, an unbounded one's median) times that
** product must stay within the limit of one duration. */
static bool latency_within_limit(const node *windows, const sim_provider_spec *ps) {
    double reach = sim_dist_reach_seconds(&ps->latency);
    for (uint32_t i = 0; i < ps->window_count; i++) {
        const sim_window *w = &ps->windows[i];
        if (w->kind != SIM_WINDOW_LATENCY) continue;
        double others = 1; /* the other latency windows covering w's start */
        for (uint32_t j = 0; j < ps->window_count; j++) {
            const sim_window *v = &ps->windows[j];
            if (j != i && v->kind == SIM_WINDOW_LATENCY && v->start_ns <= w->start_ns &&
                w->start_ns < v->end_ns)
                others *= v->latency_multiplier;
        }
        if (!(reach * others * w->latency_multiplier > RUN_MAX_SECONDS)) continue;
        node item, f;
        run_json_item(windows, i, &item);
        run_json_field(&item, "multiplier", true, &f);
        char most[32], r[32];
        return run_json_expect(
            &f,
            "at most %s (the %s latency, %s s, times the multipliers of the "
            "latency windows covering the start of a call must stay within "
            "%.0f seconds, the limit of one duration)",
            run_json_fmt_num(most, sizeof most, RUN_MAX_SECONDS / reach / others),
            ps->latency.kind <= SIM_DIST_UNIFORM || ps->latency.kind == SIM_DIST_EMPIRICAL
                ? "largest"
                : "median",
            run_json_fmt_num(r, sizeof r, reach), RUN_MAX_SECONDS);
    }
    return true;
}

static bool parse_provider(const node *e, const run_config *cfg, const sim_environment *env,
                           sim_provider_spec *ps) {
    node f;
    double rl_latency = 0.05, timeout = 30;
    if (!run_json_as_object(e, PROVIDER_KEYS) ||
        !run_config_read_model_domain(e, cfg, &ps->model, &ps->domain))
        return false;
    for (uint32_t j = 0; j < env->provider_count; j++)
        if (env->providers[j].domain == ps->domain &&
            run_config_is_same_endpoint(cfg, env->providers[j].model, ps->model))
            return run_config_endpoint_repeated(e, cfg, ps->model, ps->domain);
    if (!run_json_field(e, "latency", true, &f) || !parse_dist(&f, &ps->latency) ||
        !run_json_get_u32(e, "max_concurrent", 0, &ps->max_concurrent) ||
        !run_json_get_num(e, "requests_per_minute", false, 0, MAX_RPM, false,
                          &ps->requests_per_minute) ||
        !run_json_field(e, "retry_after_seconds", false, &f))
        return false;
    ps->retry_after_ns = -1;
    if (f.v && !json_is_null(f.v)) {
        double x = json_number_value(f.v);
        if (!json_is_number(f.v) || !(x >= 0 && x <= RUN_MAX_SECONDS))
            return run_json_expect(&f, "null or a number between 0 and %.0f", RUN_MAX_SECONDS);
        ps->retry_after_ns = run_seconds_to_ns(x);
    }
    if (!run_json_get_num(e, "rate_limited_latency_seconds", false, 0, RUN_MAX_SECONDS, false,
                          &rl_latency) ||
        !run_json_get_num(e, "failure_probability", false, 0, 1, false, &ps->failure_probability) ||
        !run_json_get_num(e, "timeout_probability", false, 0, 1, false, &ps->timeout_probability) ||
        !run_json_get_num(e, "timeout_seconds", false, 0, RUN_MAX_SECONDS, true, &timeout))
        return false;
    if (ps->failure_probability + ps->timeout_probability > 1 + 1e-12) {
        char a[32], b[32];
        return run_json_fail(e, "expected probabilities summing to at most 1, got %s + %s",
                             run_json_fmt_num(a, sizeof a, ps->failure_probability),
                             run_json_fmt_num(b, sizeof b, ps->timeout_probability));
    }
    ps->rate_limited_latency_ns = run_seconds_to_ns(rl_latency);
    ps->timeout_ns = run_seconds_to_ns(timeout);
    node a;
    if (!run_json_field(e, "windows", false, &a) || !a.v) return true;
    if (!json_is_array(a.v) || json_array_size(a.v) > SIM_MAX_WINDOWS)
        return run_json_expect(&a, "an array of at most %d windows", SIM_MAX_WINDOWS);
    for (size_t i = 0; i < json_array_size(a.v); i++) {
        node w;
        run_json_item(&a, i, &w);
        if (!parse_window(&w, ps, &ps->windows[ps->window_count])) return false;
        ps->window_count++;
    }
    return latency_within_limit(&a, ps);
}

static bool parse_providers(const node *root, const run_config *cfg, sim_environment *s) {
    node a;
    if (!run_json_field(root, "providers", false, &a) || !a.v) return true;
    if (!json_is_array(a.v) || json_array_size(a.v) > SIM_MAX_PROVIDERS)
        return run_json_expect(&a, "an array of at most %d providers", SIM_MAX_PROVIDERS);
    for (size_t i = 0; i < json_array_size(a.v); i++) {
        node e;
        run_json_item(&a, i, &e);
        if (!parse_provider(&e, cfg, s, &s->providers[s->provider_count])) return false;
        s->provider_count++;
    }
    return true;
}

/* ---- request programs and failures -------------------------------------------- */

/* A call's "count": an integer, {"branch": p, "then": n, "else": n} or
** {"until_valid": p, "max": n}; absent: one call. */
/* A call count: 0 (or lo) to SIM_MAX_CALLS_PER_STEP. */
static bool get_count(const node *o, const char *key, bool req, int64_t lo, uint32_t *out) {
    int64_t v = *out;
    if (!run_json_get_int(o, key, req, lo, SIM_MAX_CALLS_PER_STEP, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

/* A call's "count": an integer, {"branch": p, "then": n, "else": n} or
** {"until_valid": p, "max": n}; absent: one call. */
static bool parse_count(const node *c, sim_step *st) {
    node f;
    st->count_kind = SIM_COUNT_FIXED;
    st->count = 1;
    if (!run_json_field(c, "count", false, &f) || !f.v) return true;
    if (json_is_integer(f.v)) return get_count(c, "count", false, 0, &st->count);
    if (!json_is_object(f.v))
        return run_json_expect(&f,
                               "an integer >= 0 or an object with \"branch\" or \"until_valid\"");
    if (json_object_get(f.v, "branch")) {
        st->count_kind = SIM_COUNT_BRANCH;
        return run_json_check_keys(&f, BRANCH_KEYS) &&
               run_json_get_num(&f, "branch", true, 0, 1, false, &st->probability) &&
               get_count(&f, "then", true, 0, &st->count) &&
               get_count(&f, "else", true, 0, &st->count_else);
    }
    if (json_object_get(f.v, "until_valid")) {
        st->count_kind = SIM_COUNT_UNTIL_VALID;
        return run_json_check_keys(&f, UNTIL_KEYS) &&
               run_json_get_num(&f, "until_valid", true, 0, 1, true, &st->probability) &&
               get_count(&f, "max", true, 1, &st->count);
    }
    return run_json_fail(&f, "missing required key \"branch\" or \"until_valid\"");
}

static bool parse_failure(const node *c, sim_column *col) {
    node o;
    if (!run_json_get_obj(c, "failure", false, FAILURE_KEYS, &o)) return false;
    if (!o.v) return true;
    double r = 0, nr = 0;
    if (!run_json_get_num(&o, "retryable_probability", false, 0, 1, false, &r) ||
        !run_json_get_num(&o, "non_retryable_probability", false, 0, 1, false, &nr))
        return false;
    if (r + nr > 1 + 1e-12) {
        char a[32], b[32];
        return run_json_fail(&o, "expected probabilities summing to at most 1, got %s + %s",
                             run_json_fmt_num(a, sizeof a, r), run_json_fmt_num(b, sizeof b, nr));
    }
    col->retryable_probability = r;
    col->non_retryable_probability = nr;
    return true;
}

/* The providers entry serving (the endpoint of) model alias m on domain d, or -1. */
static int provider_index(const run_config *cfg, const sim_environment *env, uint32_t m,
                          admit_request_domain d) {
    for (uint32_t i = 0; i < env->provider_count; i++)
        if (env->providers[i].domain == d &&
            run_config_is_same_endpoint(cfg, env->providers[i].model, m))
            return (int)i;
    return -1;
}

/* The simulator serves every request resource with a provider. */
static bool has_provider(const node *e, const run_config *cfg, const sim_environment *env,
                         uint32_t model, admit_request_domain domain) {
    if (provider_index(cfg, env, model, domain) >= 0) return true;
    return run_json_fail(
        e, "expected a $.providers entry for model \"%s\" and domain \"%s\", got none",
        cfg->models[model].alias, admit_request_domain_name(domain));
}

static bool check_request_limits(const node *root, const run_config *cfg,
                                 const sim_environment *env) {
    node o, a;
    if (!run_json_field(root, "request_admission", false, &o) || !o.v ||
        !run_json_field(&o, "resources", false, &a) || !a.v)
        return true;
    for (uint32_t i = 0; i < cfg->request_limit_count; i++) {
        node e;
        run_json_item(&a, i, &e);
        const run_request_limit *l = &cfg->request_limits[i];
        if (!has_provider(&e, cfg, env, l->model, l->domain)) return false;
    }
    return true;
}

/* ---- columns -------------------------------------------------------------------- */

static bool parse_step(const node *e, const run_config *cfg, const sim_environment *env,
                       const run_step *shape, sim_step *st) {
    node local, call;
    if (shape->kind == RUN_STEP_LOCAL)
        return run_json_field(e, "local", true, &local) && parse_dist(&local, &st->duration);
    return run_json_field(e, "call", true, &call) && parse_count(&call, st) &&
           has_provider(&call, cfg, env, shape->model, shape->domain);
}

static bool parse_column(const node *c, const run_config *cfg, const sim_environment *env,
                         const run_column *shape, sim_column *col) {
    node program;
    if (!run_json_field(c, "program", false, &program)) return false;
    if (!program.v && !parse_duration(c, &col->duration)) return false;
    for (uint32_t i = 0; program.v && i < shape->step_count; i++) {
        node e;
        run_json_item(&program, i, &e);
        if (!parse_step(&e, cfg, env, &shape->program[i], &col->program[i])) return false;
    }
    return parse_failure(c, col);
}

static bool parse_columns(const node *root, const run_config *cfg, sim_environment *env) {
    node a;
    if (!run_json_field(root, "columns", true, &a)) return false;
    for (uint32_t i = 0; i < cfg->column_count; i++) {
        node c;
        run_json_item(&a, i, &c);
        if (!parse_column(&c, cfg, env, &cfg->columns[i], &env->columns[i])) return false;
    }
    return true;
}

/* ---- the document ----------------------------------------------------------------- */

uint64_t sim_scenario_planned_work(const sim_scenario *s) {
    const run_config *cfg = &s->config;
    int64_t bs = cfg->buffer_size > 0 ? cfg->buffer_size : cfg->records;
    uint64_t work = 0;
    for (uint32_t c = 0; c < cfg->column_count; c++) {
        const run_column *col = &cfg->columns[c];
        int64_t rows = col->rows > 0 ? col->rows : cfg->records;
        uint64_t tasks =
            (uint64_t)(col->strategy == ADMIT_FULL_COLUMN ? (rows + bs - 1) / bs : rows);
        uint64_t calls = 0;
        for (uint32_t i = 0; i < col->step_count; i++) {
            const sim_step *st = &s->env.columns[c].program[i];
            if (col->program[i].kind == RUN_STEP_CALL)
                calls += st->count > st->count_else ? st->count : st->count_else;
        }
        uint64_t per_task = (1 + calls * col->retry_max_attempts) * (cfg->salvage_max_rounds + 1);
        uint64_t w;
        if (__builtin_mul_overflow(tasks, per_task, &w) || __builtin_add_overflow(work, w, &work))
            return UINT64_MAX; /* saturates (a scaled bench scenario can get there) */
    }
    return work;
}

static bool check_planned_work(const node *root, const sim_scenario *s) {
    uint64_t work = sim_scenario_planned_work(s);
    if (work <= SIM_MAX_PLANNED_WORK) return true;
    node f;
    run_json_field(root, "columns", true, &f);
    return run_json_fail(&f,
                         "expected at most %d units of planned work (per task: 1 + its most calls "
                         "x retry.max_attempts, x (salvage_max_rounds + 1)), got %llu",
                         SIM_MAX_PLANNED_WORK, (unsigned long long)work);
}

static bool parse_environment(const node *root, const run_config *cfg, sim_environment *env) {
    node o;
    double cancel = -1;
    if (!parse_providers(root, cfg, env) || !check_request_limits(root, cfg, env) ||
        !parse_columns(root, cfg, env) || !run_json_field(root, "failures", false, &o) ||
        (o.v && !run_json_get_num(&o, "spawn_failure_probability", false, 0, 1, false,
                                  &env->spawn_failure_probability)) ||
        !run_json_get_num(root, "cancel_at_seconds", false, 0, RUN_MAX_SECONDS, false, &cancel))
        return false;
    env->cancel_at_ns = cancel < 0 ? -1 : run_seconds_to_ns(cancel);
    return true;
}

static void copy_error(sim_error *err, const run_error *rerr) {
    err->code = (sim_status)rerr->code;
    snprintf(err->message, sizeof err->message, "%s", rerr->message);
}

typedef struct load_ctx {
    const char *name, *base_dir;
} load_ctx;

/* One document (an arm's or the plain one) into a scenario. */
static void *parse_doc(void *ctx, json_t *json, const char *arm, run_error *rerr) {
    const load_ctx *l = ctx;
    sim_scenario *s = calloc(1, sizeof *s);
    if (!s) {
        run_error_set(rerr, RUN_ENOMEM, "%.400s: out of memory", l->name);
        return NULL;
    }
    run_config_init(&s->config, l->name);
    snprintf(s->config.arm, sizeof s->config.arm, "%s", arm ? arm : "");
    s->env.cancel_at_ns = -1;
    run_json_doc doc = {l->name, l->base_dir, rerr};
    node root;
    run_json_root(&doc, json, &root);
    if (run_config_read(&root, &s->config) && parse_environment(&root, &s->config, &s->env) &&
        check_planned_work(&root, s))
        return s;
    sim_scenario_free(s);
    return NULL;
}

static void drop_doc(void *obj) {
    sim_scenario_free(obj);
}

static sim_scenario *from_json(json_t *json, const char *name, const char *base_dir,
                               const char *arm, sim_error *err) {
    load_ctx l = {name, base_dir};
    run_error rerr = {0};
    run_arm_list arms;
    sim_scenario *s = run_arms_load(json, name, arm, parse_doc, drop_doc, &l, &arms, &rerr);
    if (s)
        s->config.arms = arms;
    else
        copy_error(err, &rerr);
    return s;
}

sim_scenario *sim_scenario_load_arm(const char *path, const char *arm, sim_error *err) {
    sim_error scratch;
    if (!err) err = &scratch;
    run_error rerr = {0};
    char dir[4096];
    run_json_dir_of(path, dir, sizeof dir); /* relative trace files resolve there */
    json_t *json = run_json_load_file(path, RUN_MAX_FILE_BYTES, &rerr);
    if (!json) {
        copy_error(err, &rerr);
        return NULL;
    }
    return from_json(json, path, dir, arm, err);
}

sim_scenario *sim_scenario_from_json(json_t *json, const char *path, const char *arm,
                                     sim_error *err) {
    sim_error scratch;
    if (!err) err = &scratch;
    char dir[4096];
    run_json_dir_of(path, dir, sizeof dir);
    return from_json(json, path, dir, arm, err);
}

sim_scenario *sim_scenario_load(const char *path, sim_error *err) {
    return sim_scenario_load_arm(path, NULL, err);
}

sim_scenario *sim_scenario_parse(const char *text, const char *name, sim_error *err) {
    sim_error scratch;
    if (!err) err = &scratch;
    run_error rerr = {0};
    json_t *json = run_json_load_text(text, name, &rerr);
    if (!json) {
        copy_error(err, &rerr);
        return NULL;
    }
    return from_json(json, name, "", NULL, err);
}

sim_scenario *sim_scenario_parse_arm(const char *text, const char *name, const char *arm,
                                     sim_error *err) {
    sim_error scratch;
    if (!err) err = &scratch;
    run_error rerr = {0};
    json_t *json = run_json_load_text(text, name, &rerr);
    if (!json) {
        copy_error(err, &rerr);
        return NULL;
    }
    return from_json(json, name, "", arm, err);
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
    for (uint32_t c = 0; c < RUN_MAX_COLUMNS; c++) {
        free_dist(&s->env.columns[c].duration);
        for (uint32_t i = 0; i < RUN_MAX_STEPS; i++)
            free_dist(&s->env.columns[c].program[i].duration);
    }
    for (uint32_t i = 0; i < SIM_MAX_PROVIDERS; i++)
        free_dist(&s->env.providers[i].latency);
    free(s);
}
