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
#define MAX_RPM     1e6      /* bounds the provider's ring of call starts */

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

/* Reads an empirical trace: one latency in seconds per line (the first field
** when the line has commas); blank lines and '#' comments skipped; a first
** line that is not a number is a header. */
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
    FILE *in = fopen(path, "r");
    if (!in) return run_json_fail(f, "cannot read %s: %s", path, strerror(errno));
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
            ok = run_json_fail(f, "%s:%ld: expected a finite number >= 0, got %s", path, lineno,
                               run_json_quoted(q, sizeof q, t));
            break;
        }
        if (count == MAX_SAMPLES) {
            ok = run_json_fail(f, "%s:%ld: expected at most %d samples, got more", path, lineno,
                               MAX_SAMPLES);
            break;
        }
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            if (ncap > MAX_SAMPLES) ncap = MAX_SAMPLES;
            double *grown = realloc(samples, ncap * sizeof *grown);
            if (!grown) {
                ok = run_json_fail(f, "out of memory reading %s", path);
                break;
            }
            samples = grown;
            cap = ncap;
        }
        samples[count++] = x;
    }
    if (ok && ferror(in))
        ok = run_json_fail(f, "cannot read %s: %s", path, strerror(errno ? errno : EIO));
    if (ok && count == 0) ok = run_json_fail(f, "%s: expected at least 1 sample, got none", path);
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
    if (!run_json_as_object(o, NULL) || !run_json_field(o, "dist", true, &f) ||
        !run_json_as_enum(&f, DIST_NAMES, &kind) || !run_json_check_keys(o, DIST_KEYS[kind]))
        return false;
    double a = 0, b = 0;
    bool ok = false;
    *d = (sim_dist){SIM_DIST_CONSTANT, 0, 0, NULL, 0};
    switch ((sim_dist_kind)kind) {
    case SIM_DIST_CONSTANT:
        ok = run_json_get_num(o, "seconds", true, 0, INFINITY, false, &a);
        break;
    case SIM_DIST_UNIFORM:
        ok = run_json_get_num(o, "low", true, 0, INFINITY, false, &a) &&
             run_json_get_num(o, "high", true, a, INFINITY, false, &b);
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
    return ok;
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

static bool parse_provider(const node *e, const run_config *cfg, const sim_environment *env,
                           sim_provider_spec *ps) {
    node f;
    double rl_latency = 0.05, timeout = 30;
    if (!run_json_as_object(e, PROVIDER_KEYS) ||
        !run_config_read_model_domain(e, cfg, &ps->model, &ps->domain))
        return false;
    for (uint32_t j = 0; j < env->provider_count; j++)
        if (env->providers[j].domain == ps->domain &&
            run_config_same_endpoint(cfg, env->providers[j].model, ps->model))
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
    return true;
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
static bool parse_count(const node *c, sim_step *st) {
    node f;
    st->count_kind = SIM_COUNT_FIXED;
    st->count = 1;
    if (!run_json_field(c, "count", false, &f) || !f.v) return true;
    if (json_is_integer(f.v)) return run_json_get_u32(c, "count", 0, &st->count);
    if (!json_is_object(f.v))
        return run_json_expect(&f,
                               "an integer >= 0 or an object with \"branch\" or \"until_valid\"");
    if (json_object_get(f.v, "branch")) {
        st->count_kind = SIM_COUNT_BRANCH;
        return run_json_check_keys(&f, BRANCH_KEYS) &&
               run_json_get_num(&f, "branch", true, 0, 1, false, &st->probability) &&
               run_json_get_u32_req(&f, "then", 0, &st->count) &&
               run_json_get_u32_req(&f, "else", 0, &st->count_else);
    }
    if (json_object_get(f.v, "until_valid")) {
        st->count_kind = SIM_COUNT_UNTIL_VALID;
        return run_json_check_keys(&f, UNTIL_KEYS) &&
               run_json_get_num(&f, "until_valid", true, 0, 1, true, &st->probability) &&
               run_json_get_u32_req(&f, "max", 1, &st->count);
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
            run_config_same_endpoint(cfg, env->providers[i].model, m))
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

static sim_scenario *from_json(json_t *json, const char *name, const char *base_dir,
                               run_error *rerr) {
    if (!json) return NULL;
    sim_scenario *s = calloc(1, sizeof *s);
    if (!s) {
        run_error_set(rerr, RUN_ENOMEM, "%.400s: out of memory", name);
        json_decref(json);
        return NULL;
    }
    run_config_init(&s->config, name);
    s->env.cancel_at_ns = -1;
    run_json_doc doc = {name, base_dir, rerr};
    node root;
    run_json_root(&doc, json, &root);
    bool ok = run_config_read(&root, &s->config) && parse_environment(&root, &s->config, &s->env);
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
    run_error rerr = {0};
    char dir[4096];
    run_json_dir_of(path, dir, sizeof dir); /* relative trace files resolve there */
    sim_scenario *s = from_json(run_json_load_file(path, &rerr), path, dir, &rerr);
    if (!s) copy_error(err, &rerr);
    return s;
}

sim_scenario *sim_scenario_parse(const char *text, const char *name, sim_error *err) {
    sim_error scratch;
    if (!err) err = &scratch;
    run_error rerr = {0};
    sim_scenario *s = from_json(run_json_load_text(text, name, &rerr), name, "", &rerr);
    if (!s) copy_error(err, &rerr);
    return s;
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
