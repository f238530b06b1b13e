/*
** Loading the run configuration part of a scenario file (run/config.h).
**
** The key lists are the whole file format's: keys an environment owns
** (durations, failure probabilities, call counts, providers, cancel_at) are
** accepted here and read by the environment's loader, so an unknown key is
** reported the same way whoever loads the file.
*/
#include "run/config.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef run_json_node node;

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
                                        "arms",
                                        "check",
                                        NULL};
static const char *const CHECK_KEYS[] = {"tags", "claims", "thresholds", NULL};
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
static const char *const SCHEDULING_KEYS[] = {"kind",   "identity",       "model",     "domain",
                                              "weight", "admitted_limit", "resources", NULL};
static const char *const MODEL_KEYS[] = {"alias",
                                         "provider",
                                         "model",
                                         "max_parallel_requests",
                                         "base_url",
                                         "api_key_env",
                                         "timeout_seconds",
                                         "connect_timeout_seconds",
                                         "max_response_bytes",
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
static const char *const STEP_KEYS[] = {"local", "call", NULL};
static const char *const CALL_KEYS[] = {"model", "domain", "count", NULL};
static const char *const RETRY_KEYS[] = {"max_attempts", "backoff_seconds", NULL};
static const char *const ROUNDING_NAMES[] = {"ceil", "floor", NULL};
static const char *const STRATEGY_NAMES[] = {"cell_by_cell", "full_column", NULL};
static const char *const KIND_NAMES[] = {"local", "model", "custom_model", NULL};

static int capacity_index(const run_config *s, const char *name) {
    for (uint32_t i = 0; i < s->capacity_count; i++)
        if (strcmp(s->capacity[i].name, name) == 0) return (int)i;
    return -1;
}

/* ---- capacity, models, request admission ------------------------------------ */

static bool parse_capacity(const node *root, run_config *s) {
    node c;
    if (!run_json_get_obj(root, "capacity", true, NULL, &c)) return false;
    if (json_object_size(c.v) > RUN_MAX_RESOURCES)
        return run_json_fail(&c, "expected at most %d resources, got %zu", RUN_MAX_RESOURCES,
                             json_object_size(c.v));
    const char *key;
    json_t *v;
    json_object_foreach(c.v, key, v) {
        run_resource_amount *ra = &s->capacity[s->capacity_count];
        node e;
        int64_t amount = 0;
        char q[128];
        run_json_child(&c, key, v, &e);
        if (!key[0] || strlen(key) >= sizeof ra->name)
            return run_json_fail(&e, "expected a resource name of 1 to %zu characters, got %s",
                                 sizeof ra->name - 1, run_json_quoted(q, sizeof q, key));
        if (!run_json_as_int(&e, 1, UINT32_MAX, &amount)) return false;
        snprintf(ra->name, sizeof ra->name, "%s", key);
        ra->amount = (uint32_t)amount;
        s->capacity_count++;
    }
    if (capacity_index(s, "submission") < 0)
        return run_json_fail(&c, "missing required key \"submission\"");
    return true;
}

static bool as_model(const node *n, const run_config *s, uint32_t *out) {
    const char *name = json_string_value(n->v);
    int m = name ? run_config_model_index(s, name) : -1;
    if (m < 0) return run_json_expect(n, "a model alias named in $.models");
    *out = (uint32_t)m;
    return true;
}

static bool as_domain(const node *n, admit_request_domain *out) {
    if (!n->v) return true;
    if (admit_request_domain_parse(json_string_value(n->v), out)) return true;
    char list[200];
    size_t len = 0;
    list[0] = '\0';
    for (int i = 0; i < ADMIT_DOMAIN_COUNT && len < sizeof list; i++) {
        const char *sep = i == 0 ? "" : i + 1 < ADMIT_DOMAIN_COUNT ? ", " : " or ";
        int k = snprintf(list + len, sizeof list - len, "%s\"%s\"", sep,
                         admit_request_domain_name((admit_request_domain)i));
        if (k > 0) len += (size_t)k;
    }
    return run_json_expect(n, "%s", list);
}

bool run_config_read_model_domain(const node *o, const run_config *s, uint32_t *model,
                                  admit_request_domain *domain) {
    node f;
    *domain = ADMIT_DOMAIN_CHAT;
    return run_json_field(o, "model", true, &f) && as_model(&f, s, model) &&
           run_json_field(o, "domain", false, &f) && as_domain(&f, domain);
}

bool run_config_endpoint_repeated(const node *e, const run_config *s, uint32_t model,
                                  admit_request_domain domain) {
    const run_model_alias *m = &s->models[model];
    return run_json_fail(e,
                         "expected a model endpoint and domain pair not listed before, got "
                         "\"%s/%s\" and \"%s\" again",
                         m->provider, m->model_id, admit_request_domain_name(domain));
}

/* Provider and model ids become parts of "provider/model/domain" keys. */
static bool as_endpoint_name(const node *n, char *out, size_t size) {
    const char *v = json_string_value(n->v);
    if (!v || !v[0] || strlen(v) >= size || strchr(v, '/'))
        return run_json_expect(n, "a non-empty string of at most %zu characters without \"/\"",
                               size - 1);
    memcpy(out, v, strlen(v) + 1);
    return true;
}

/* The keys only live runs read: where the endpoint is and how to reach it. */
static bool parse_model_live(const node *e, run_model_alias *m) {
    node f;
    if (!run_json_field(e, "base_url", false, &f) ||
        !run_json_as_str(&f, m->base_url, sizeof m->base_url, true))
        return false;
    if (f.v && strncmp(m->base_url, "http://", 7) != 0 && strncmp(m->base_url, "https://", 8) != 0)
        return run_json_expect(&f, "an http:// or https:// URL");
    if (!run_json_field(e, "api_key_env", false, &f) ||
        !run_json_as_str(&f, m->api_key_env, sizeof m->api_key_env, true))
        return false;
    for (const char *p = m->api_key_env; *p; p++)
        if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (p > m->api_key_env && *p >= '0' && *p <= '9')))
            return run_json_expect(&f, "an environment variable name (letters, digits, _)");
    int64_t bytes = 0;
    if (!run_json_get_num(e, "timeout_seconds", false, 0, RUN_MAX_SECONDS, true,
                          &m->timeout_seconds) ||
        !run_json_get_num(e, "connect_timeout_seconds", false, 0, RUN_MAX_SECONDS, true,
                          &m->connect_timeout_seconds) ||
        !run_json_get_int(e, "max_response_bytes", false, 1, 1 << 30, &bytes))
        return false;
    m->max_response_bytes = bytes;
    return true;
}

static bool parse_models(const node *root, run_config *s) {
    node a;
    if (!run_json_field(root, "models", false, &a) || !a.v) return true;
    if (!json_is_array(a.v) || json_array_size(a.v) > RUN_MAX_MODELS)
        return run_json_expect(&a, "an array of at most %d models", RUN_MAX_MODELS);
    for (size_t i = 0; i < json_array_size(a.v); i++) {
        node e, f;
        run_model_alias *m = &s->models[s->model_count];
        int64_t cap = 0;
        run_json_item(&a, i, &e);
        if (!run_json_as_object(&e, MODEL_KEYS) || !run_json_field(&e, "alias", true, &f) ||
            !run_json_as_str(&f, m->alias, sizeof m->alias, true))
            return false;
        if (run_config_model_index(s, m->alias) >= 0)
            return run_json_expect(&f, "an alias not used by an earlier model");
        if (!run_json_field(&e, "provider", true, &f) ||
            !as_endpoint_name(&f, m->provider, sizeof m->provider) ||
            !run_json_field(&e, "model", true, &f) ||
            !as_endpoint_name(&f, m->model_id, sizeof m->model_id) ||
            !run_json_get_int(&e, "max_parallel_requests", true, 1, ADMIT_REQUEST_MAX_LIMIT,
                              &cap) ||
            !parse_model_live(&e, m))
            return false;
        m->max_parallel_requests = (uint32_t)cap;
        s->model_count++;
    }
    return true;
}

static bool parse_request_limits(const node *o, run_config *s) {
    node a;
    if (!run_json_field(o, "resources", false, &a) || !a.v) return true;
    if (!json_is_array(a.v) || json_array_size(a.v) > RUN_MAX_REQUEST_LIMITS)
        return run_json_expect(&a, "an array of at most %d request resources",
                               RUN_MAX_REQUEST_LIMITS);
    for (size_t i = 0; i < json_array_size(a.v); i++) {
        node e;
        run_request_limit *l = &s->request_limits[s->request_limit_count];
        run_json_item(&a, i, &e);
        if (!run_json_as_object(&e, LIMIT_KEYS) ||
            !run_config_read_model_domain(&e, s, &l->model, &l->domain))
            return false;
        for (uint32_t j = 0; j < s->request_limit_count; j++)
            if (s->request_limits[j].domain == l->domain &&
                run_config_is_same_endpoint(s, s->request_limits[j].model, l->model))
                return run_config_endpoint_repeated(&e, s, l->model, l->domain);
        /* request admission refuses limits above ADMIT_REQUEST_MAX_LIMIT */
        int64_t initial = 0, clamp = 0;
        if (!run_json_get_int(&e, "initial_limit", false, 1, ADMIT_REQUEST_MAX_LIMIT, &initial) ||
            !run_json_get_int(&e, "max_limit_clamp", false, 1, ADMIT_REQUEST_MAX_LIMIT, &clamp))
            return false;
        l->initial_limit = (uint32_t)initial;
        l->max_limit_clamp = (uint32_t)clamp;
        s->request_limit_count++;
    }
    return true;
}

static bool parse_request_admission(const node *root, run_config *s) {
    node o, f;
    if (!run_json_get_obj(root, "request_admission", false, AIMD_KEYS, &o)) return false;
    if (!o.v) return true;
    s->request_admission_set = true;
    admit_aimd_config *c = &s->aimd; /* holds admit_aimd_config_init()'s defaults */
    double cooldown = -1, ramp = -1; /* -1: absent, keep the default */
    if (!run_json_field(&o, "md_factor", false, &f)) return false;
    if (f.v) {
        double x = json_number_value(f.v);
        if (!json_is_number(f.v) || !(x > 0 && x < 1))
            return run_json_expect(&f, "a number > 0 and < 1");
        c->md_factor = x;
    }
    if (!run_json_get_u32(&o, "ai_step", 1, &c->ai_step) ||
        !run_json_get_u32(&o, "successes_until_increase", 1, &c->successes_until_increase) ||
        !run_json_get_num(&o, "cooldown_seconds", false, 0, RUN_MAX_SECONDS, true, &cooldown) ||
        !run_json_get_num(&o, "startup_ramp_seconds", false, 0, RUN_MAX_RAMP, false, &ramp) ||
        !run_json_field(&o, "queue_wait_timeout_seconds", false, &f))
        return false;
    if (f.v && !json_is_null(f.v)) {
        double x = json_number_value(f.v);
        if (!json_is_number(f.v) || !(x > 0 && x <= RUN_MAX_SECONDS))
            return run_json_expect(&f, "null or a number > 0 and <= %.0f", RUN_MAX_SECONDS);
        s->queue_wait_timeout_ns = run_seconds_to_ns(x);
    }
    if (cooldown >= 0) c->cooldown_ns = run_seconds_to_ns(cooldown);
    if (ramp >= 0) c->startup_ramp_ns = run_seconds_to_ns(ramp);
    return parse_request_limits(&o, s);
}

/* ---- columns ------------------------------------------------------------------ */

/* A step's shape: exactly one of "local" (its duration is the
** environment's) or "call" with a model and domain (its count is the
** environment's). */
static bool parse_step(const node *e, const run_config *s, run_step *st) {
    node local, call;
    if (!run_json_as_object(e, STEP_KEYS) || !run_json_field(e, "local", false, &local) ||
        !run_json_field(e, "call", false, &call))
        return false;
    if (local.v && call.v)
        return run_json_fail(e, "expected exactly one of \"local\" or \"call\", got both");
    if (!local.v && !call.v) return run_json_fail(e, "missing required key \"local\" or \"call\"");
    if (local.v) {
        st->kind = RUN_STEP_LOCAL;
        return true;
    }
    st->kind = RUN_STEP_CALL;
    return run_json_as_object(&call, CALL_KEYS) &&
           run_config_read_model_domain(&call, s, &st->model, &st->domain);
}

static bool parse_program(const node *a, const run_config *s, run_column *col) {
    size_t n = json_array_size(a->v);
    if (!json_is_array(a->v) || n < 1 || n > RUN_MAX_STEPS)
        return run_json_expect(a, "an array of 1 to %d steps", RUN_MAX_STEPS);
    for (size_t i = 0; i < n; i++) {
        node e;
        run_json_item(a, i, &e);
        if (!parse_step(&e, s, &col->program[col->step_count])) return false;
        col->step_count++;
    }
    return true;
}

static bool parse_retry(const node *c, run_column *col) {
    node o;
    double backoff = (double)col->retry_backoff_ns / 1e9;
    if (!run_json_get_obj(c, "retry", false, RETRY_KEYS, &o)) return false;
    if (!o.v) return true;
    int64_t attempts = col->retry_max_attempts;
    if (!run_json_get_int(&o, "max_attempts", false, 1, RUN_MAX_ATTEMPTS, &attempts) ||
        !run_json_get_num(&o, "backoff_seconds", false, 0, RUN_MAX_SECONDS, false, &backoff))
        return false;
    col->retry_max_attempts = (uint32_t)attempts;
    col->retry_backoff_ns = run_seconds_to_ns(backoff);
    return true;
}

static bool parse_deps(const node *c, const run_config *s, run_column *col) {
    node a;
    if (!run_json_field(c, "depends_on", false, &a) || !a.v) return true;
    if (!json_is_array(a.v) || json_array_size(a.v) > RUN_MAX_DEPS)
        return run_json_expect(&a, "an array of at most %d column names", RUN_MAX_DEPS);
    for (size_t i = 0; i < json_array_size(a.v); i++) {
        node d;
        run_json_item(&a, i, &d);
        const char *name = json_string_value(d.v);
        int idx = name ? run_config_column_index(s, name) : -1; /* only earlier ones so far */
        if (idx < 0) return run_json_expect(&d, "the name of an earlier column");
        for (uint32_t j = 0; j < col->dep_count; j++)
            if (col->deps[j] == (uint32_t)idx)
                return run_json_expect(&d, "a column not listed before");
        col->deps[col->dep_count++] = (uint32_t)idx;
    }
    return true;
}

static bool parse_rows(const node *c, const run_config *s, run_column *col) {
    node f;
    int64_t rows = 0;
    if (!run_json_field(c, "rows", false, &f) || !run_json_as_int(&f, 1, s->records, &rows))
        return false;
    col->rows = rows;
    int64_t eff = rows ? rows : s->records;
    for (uint32_t d = 0; d < col->dep_count; d++) {
        const run_column *dep = &s->columns[col->deps[d]];
        int64_t dep_rows = dep->rows ? dep->rows : s->records;
        if (eff <= dep_rows) continue;
        char got[64];
        if (rows)
            snprintf(got, sizeof got, "%lld", (long long)rows);
        else
            snprintf(got, sizeof got, "none (all %lld records)", (long long)s->records);
        return run_json_fail(
            &f, "expected an integer <= %lld (the rows of \"%s\", which it depends on), got %s",
            (long long)dep_rows, dep->name, got);
    }
    return true;
}

static bool parse_task_resources(const node *r, const run_config *s, run_column *col) {
    size_t n = json_object_size(r->v);
    if (n < 1 || n > ADMIT_MAX_TASK_RESOURCES)
        return run_json_expect(r, "an object of 1 to %d resource amounts",
                               ADMIT_MAX_TASK_RESOURCES);
    const char *key;
    json_t *v;
    json_object_foreach(r->v, key, v) {
        node e;
        char q[128];
        int64_t amount = 0;
        run_json_child(r, key, v, &e);
        int ci = capacity_index(s, key);
        if (ci < 0)
            return run_json_fail(&e, "expected a resource named in $.capacity, got %s",
                                 run_json_quoted(q, sizeof q, key));
        if (!run_json_as_int(&e, 1, s->capacity[ci].amount, &amount)) return false;
        run_resource_amount *ra = &col->resources[col->resource_count++];
        snprintf(ra->name, sizeof ra->name, "%s", key);
        ra->amount = (uint32_t)amount;
    }
    return true;
}

/* The static cap of an alias's endpoint, merged over its aliases by the
** RequestResourceResolver (the one place that rule lives). */
static uint32_t endpoint_cap(const run_config *s, uint32_t alias) {
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

/* "scheduling" with "model": identity [provider, model_id, domain] and, by
** default, the endpoint's static cap as the weight. */
static bool model_identity(const node *mf, const node *df, const run_config *s, admit_metadata *m,
                           int64_t *weight) {
    uint32_t alias = 0;
    admit_request_domain domain = ADMIT_DOMAIN_CHAT;
    if (!as_model(mf, s, &alias) || !as_domain(df, &domain)) return false;
    const run_model_alias *ma = &s->models[alias];
    snprintf(m->identity[0], sizeof m->identity[0], "%s", ma->provider);
    snprintf(m->identity[1], sizeof m->identity[1], "%s", ma->model_id);
    snprintf(m->identity[2], sizeof m->identity[2], "%s", admit_request_domain_name(domain));
    *weight = endpoint_cap(s, alias);
    return true;
}

static bool listed_identity(const node *f, admit_metadata *m) {
    size_t parts = json_array_size(f->v);
    if (!json_is_array(f->v) || parts < 1 || parts > ADMIT_IDENTITY_PARTS)
        return run_json_expect(f, "an array of 1 to %d strings", ADMIT_IDENTITY_PARTS);
    for (size_t i = 0; i < parts; i++) {
        node e;
        run_json_item(f, i, &e);
        if (!run_json_as_str(&e, m->identity[i], sizeof m->identity[i], false)) return false;
    }
    return true;
}

static bool parse_scheduling(const node *c, const run_config *s, run_column *col) {
    node o, f;
    if (!run_json_get_obj(c, "scheduling", false, SCHEDULING_KEYS, &o)) return false;
    if (!o.v) return true;
    admit_metadata *m = &col->metadata;
    int kind = 0;
    if (!run_json_field(&o, "kind", true, &f) || !run_json_as_enum(&f, KIND_NAMES, &kind))
        return false;
    m->kind = (admit_metadata_kind)kind;
    node mf, df;
    if (!run_json_field(&o, "identity", false, &f) || !run_json_field(&o, "model", false, &mf) ||
        !run_json_field(&o, "domain", false, &df))
        return false;
    if (f.v && mf.v)
        return run_json_fail(&o, "expected either \"identity\" or \"model\", got both");
    if (mf.v && m->kind != ADMIT_KIND_MODEL)
        return run_json_expect(&mf, "kind \"model\" for a model alias");
    if (df.v && !mf.v) return run_json_expect(&df, "\"domain\" only together with \"model\"");
    if (!f.v && !mf.v)
        return run_json_fail(&o, m->kind == ADMIT_KIND_MODEL
                                     ? "missing required key \"identity\" or \"model\""
                                     : "missing required key \"identity\"");
    int64_t weight = 1, limit = 0;
    if (mf.v ? !model_identity(&mf, &df, s, m, &weight) : !listed_identity(&f, m)) return false;
    /* weight <= 0 and empty identities are the resolver's to judge (SPEC §3) */
    if (!run_json_get_int(&o, "weight", false, INT_MIN, INT_MAX, &weight) ||
        !run_json_get_int(&o, "admitted_limit", false, 1, INT_MAX, &limit))
        return false;
    m->weight = (int)weight;
    col->admitted_limit = (int)limit;
    col->has_metadata = true;
    node r;
    if (!run_json_get_obj(&o, "resources", false, NULL, &r)) return false;
    if (r.v) return parse_task_resources(&r, s, col);
    if (m->kind != ADMIT_KIND_LOCAL && capacity_index(s, "llm_wait") < 0)
        return run_json_fail(&o, "expected \"llm_wait\" in $.capacity for model work (or "
                                 "explicit \"resources\"), got none");
    return true;
}

static bool parse_column(const node *c, run_config *s, run_column *col) {
    node f, program;
    int strategy = ADMIT_CELL_BY_CELL;
    double ready = 0;
    col->retry_max_attempts = 3;
    col->retry_backoff_ns = 500000000;
    if (!run_json_as_object(c, COLUMN_KEYS) || !run_json_field(c, "name", true, &f) ||
        !run_json_as_str(&f, col->name, sizeof col->name, true))
        return false;
    if (run_config_column_index(s, col->name) >= 0)
        return run_json_expect(&f, "a name not used by an earlier column");
    if (!run_json_get_enum(c, "strategy", STRATEGY_NAMES, &strategy) || !parse_deps(c, s, col) ||
        !parse_rows(c, s, col) ||
        !run_json_get_num(c, "ready_at_seconds", false, 0, RUN_MAX_SECONDS, false, &ready) ||
        !run_json_field(c, "program", false, &program))
        return false;
    if (program.v && json_object_get(c->v, "duration"))
        return run_json_fail(c, "expected either \"duration\" or \"program\", got both");
    if ((program.v && !parse_program(&program, s, col)) || !parse_retry(c, col) ||
        !parse_scheduling(c, s, col))
        return false;
    col->strategy = (admit_column_strategy)strategy;
    col->ready_at_ns = run_seconds_to_ns(ready);
    return true;
}

static bool parse_columns(const node *root, run_config *s) {
    node a;
    if (!run_json_field(root, "columns", true, &a)) return false;
    size_t n = json_array_size(a.v);
    if (!json_is_array(a.v) || n == 0 || n > RUN_MAX_COLUMNS)
        return run_json_expect(&a, "a non-empty array of at most %d columns", RUN_MAX_COLUMNS);
    for (size_t i = 0; i < n; i++) {
        node c;
        run_json_item(&a, i, &c);
        if (!parse_column(&c, s, &s->columns[i])) return false;
        s->column_count++;
    }
    return true;
}

/* ---- policy and failures ------------------------------------------------------ */

static bool parse_ceiling(const node *e, run_config *s, run_borrow_ceiling *bc) {
    node f;
    if (!run_json_as_object(e, CEILING_KEYS) || !run_json_field(e, "column", true, &f))
        return false;
    const char *name = json_string_value(f.v);
    int col = name ? run_config_column_index(s, name) : -1;
    if (col < 0) return run_json_expect(&f, "the name of a column");
    if (!run_json_field(e, "resource", true, &f)) return false;
    name = json_string_value(f.v);
    if (!name || capacity_index(s, name) < 0)
        return run_json_expect(&f, "a resource named in $.capacity");
    int64_t ceiling = 0;
    if (!run_json_get_int(e, "ceiling", true, 0, UINT32_MAX, &ceiling)) return false;
    for (uint32_t j = 0; j < s->ceiling_count; j++)
        if (s->ceilings[j].column == (uint32_t)col && strcmp(s->ceilings[j].resource, name) == 0)
            return run_json_fail(e,
                                 "expected a column and resource pair not listed before, got "
                                 "\"%s\" and \"%s\" again",
                                 s->columns[col].name, name);
    bc->column = (uint32_t)col;
    snprintf(bc->resource, sizeof bc->resource, "%s", name);
    bc->ceiling = (uint32_t)ceiling;
    return true;
}

static bool parse_ceilings(const node *p, run_config *s) {
    node a;
    if (!run_json_field(p, "borrow_ceilings", false, &a) || !a.v) return true;
    if (!json_is_array(a.v) || json_array_size(a.v) > RUN_MAX_COLUMNS)
        return run_json_expect(&a, "an array of at most %d borrow ceilings", RUN_MAX_COLUMNS);
    for (size_t i = 0; i < json_array_size(a.v); i++) {
        node e;
        run_json_item(&a, i, &e);
        if (!parse_ceiling(&e, s, &s->ceilings[s->ceiling_count])) return false;
        s->ceiling_count++;
    }
    return true;
}

static bool parse_policy(const node *root, run_config *s) {
    node p, f;
    if (!run_json_get_obj(root, "policy", false, POLICY_KEYS, &p)) return false;
    if (!p.v) return true;
    int policy = (int)s->default_policy, rounding = (int)s->rounding;
    if (!run_json_get_enum(&p, "default", run_policy_names, &policy) ||
        !run_json_get_enum(&p, "strict_share_rounding", ROUNDING_NAMES, &rounding) ||
        !run_json_get_num(&p, "reserve_fraction", false, 0, 1, false, &s->reserve_fraction) ||
        !run_json_get_u32(&p, "max_reserved_slots", 1, &s->max_reserved_slots) ||
        !run_json_field(&p, "default_borrow_ceiling", false, &f))
        return false;
    s->default_policy = (run_policy_kind)policy;
    s->rounding = (admit_share_rounding)rounding;
    if (f.v && !json_is_null(f.v)) {
        if (!json_is_integer(f.v) || json_integer_value(f.v) < 0)
            return run_json_expect(&f, "null or an integer >= 0");
        s->default_ceiling = json_integer_value(f.v);
    }
    return parse_ceilings(&p, s);
}

static bool parse_failures(const node *root, run_config *s) {
    node o;
    int64_t rounds = s->salvage_max_rounds;
    if (!run_json_get_obj(root, "failures", false, FAILURES_KEYS, &o)) return false;
    if (!o.v) return true;
    if (!run_json_get_int(&o, "salvage_max_rounds", false, 0, RUN_MAX_SALVAGE_ROUNDS, &rounds) ||
        !run_json_get_num(&o, "shutdown_error_rate", false, 0, 1, false, &s->shutdown_error_rate) ||
        !run_json_get_u32(&o, "shutdown_error_window", 1, &s->shutdown_error_window))
        return false;
    s->salvage_max_rounds = (uint32_t)rounds;
    return true;
}

/* ---- check ----------------------------------------------------------------------- */

/* An array of at most RUN_MAX_CHECK_ITEMS short strings into out. */
static bool read_names(const node *o, const char *key, size_t size, char (*out)[64],
                       char (*wide)[256], uint32_t *count) {
    node a;
    if (!run_json_field(o, key, false, &a) || !a.v) return true;
    if (!json_is_array(a.v) || json_array_size(a.v) > RUN_MAX_CHECK_ITEMS)
        return run_json_expect(&a, "an array of at most %d strings", RUN_MAX_CHECK_ITEMS);
    for (size_t i = 0; i < json_array_size(a.v); i++) {
        node e;
        run_json_item(&a, i, &e);
        if (!run_json_as_str(&e, out ? out[i] : wide[i], size, true)) return false;
        (*count)++;
    }
    return true;
}

static bool parse_check(const node *root, run_config *s) {
    node o, t;
    run_check *c = &s->check;
    if (!run_json_get_obj(root, "check", false, CHECK_KEYS, &o)) return false;
    if (!o.v) return true;
    if (!read_names(&o, "tags", sizeof c->tags[0], c->tags, NULL, &c->tag_count) ||
        !read_names(&o, "claims", sizeof c->claims[0], NULL, c->claims, &c->claim_count) ||
        !run_json_get_obj(&o, "thresholds", false, NULL, &t))
        return false;
    if (t.v && json_object_size(t.v) > RUN_MAX_CHECK_ITEMS)
        return run_json_expect(&t, "an object of at most %d thresholds", RUN_MAX_CHECK_ITEMS);
    const char *key;
    json_t *v;
    json_object_foreach(t.v, key, v) {
        node e;
        run_json_child(&t, key, v, &e);
        uint32_t k = c->threshold_count;
        if (strlen(key) >= sizeof c->threshold_gates[k])
            return run_json_fail(&e, "expected a gate name of at most %zu characters",
                                 sizeof c->threshold_gates[k] - 1);
        if (!run_json_as_num(&e, 0, 1e9, false, &c->thresholds[k])) return false;
        snprintf(c->threshold_gates[k], sizeof c->threshold_gates[k], "%s", key);
        c->threshold_count++;
    }
    return true;
}

/* ---- the document ------------------------------------------------------------- */

static bool parse_identity(const node *root, run_config *s) {
    node f;
    if (!run_json_field(root, "scenario_id", true, &f)) return false;
    const char *id = json_string_value(f.v);
    size_t id_len = id ? strlen(id) : 0;
    bool id_ok = id_len > 0 && id_len < sizeof s->scenario_id;
    for (size_t i = 0; id_ok && i < id_len; i++)
        id_ok = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", id[i]);
    if (!id_ok)
        return run_json_expect(&f,
                               "a non-empty string of at most %zu characters from [A-Za-z0-9_.-]",
                               sizeof s->scenario_id - 1);
    /* it names files and directories (suite: OUT/<id>): ".", ".." and
    ** hidden names are refused */
    if (id[0] == '.')
        return run_json_expect(&f, "a scenario id not starting with a dot (it names files "
                                   "and directories)");
    memcpy(s->scenario_id, id, id_len + 1);
    return run_json_get_int(root, "scenario_version", true, 1, INT64_MAX, &s->scenario_version) &&
           run_json_field(root, "description", false, &f) &&
           run_json_as_str(&f, s->description, sizeof s->description, false);
}

void run_config_init(run_config *s, const char *path) {
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->model_group_limit_cap = 64;
    s->default_policy = RUN_POLICY_BOUNDED;
    s->rounding = ADMIT_SHARE_CEIL;
    s->max_reserved_slots = 8;
    s->default_ceiling = -1;
    s->salvage_max_rounds = 2;
    s->shutdown_error_rate = 0.5;
    s->shutdown_error_window = 10;
    admit_aimd_config_init(&s->aimd);
}

bool run_config_read(const node *root, run_config *s) {
    node f;
    /* the schema first: a newer file's keys are unknown to this reader */
    if (!run_json_as_object(root, NULL) || !run_json_field(root, "schema", true, &f)) return false;
    if (!json_is_integer(f.v) || json_integer_value(f.v) != RUN_CONFIG_SCHEMA_VERSION)
        return run_json_expect(&f, "%d", RUN_CONFIG_SCHEMA_VERSION);
    if (!run_json_check_keys(root, ROOT_KEYS) || !parse_identity(root, s)) return false;
    int64_t buffer_size = 0, cap = s->model_group_limit_cap;
    if (!run_json_get_int(root, "records", true, 1, RUN_MAX_RECORDS, &s->records) ||
        !run_json_get_int(root, "buffer_size", false, 1, INT64_MAX, &buffer_size) ||
        !run_json_get_u32(root, "max_concurrent_row_groups", 0, &s->max_concurrent_row_groups) ||
        !run_json_get_int(root, "model_group_limit_cap", false, 1, INT_MAX, &cap) ||
        !parse_capacity(root, s) || !parse_models(root, s) || !parse_request_admission(root, s) ||
        !parse_columns(root, s) || !parse_policy(root, s) || !parse_failures(root, s) ||
        !parse_check(root, s))
        return false;
    s->buffer_size_set = buffer_size != 0;
    s->buffer_size = buffer_size == 0 || buffer_size > s->records ? s->records : buffer_size;
    s->model_group_limit_cap = (int)cap;
    uint64_t tasks = run_config_task_count(s);
    if (tasks > RUN_MAX_TASKS) {
        node f;
        run_json_field(root, "records", true, &f);
        return run_json_fail(&f,
                             "expected at most %d tasks in all (a task per row of each "
                             "cell_by_cell column, per row group of each full_column one), got "
                             "%llu",
                             RUN_MAX_TASKS, (unsigned long long)tasks);
    }
    return true;
}

typedef struct load_ctx {
    const char *name, *base_dir;
} load_ctx;

/* One document (an arm's or the plain one) into a configuration. */
static void *parse_doc(void *ctx, json_t *json, const char *arm, run_error *err) {
    const load_ctx *l = ctx;
    run_config *s = malloc(sizeof *s);
    if (!s) {
        run_error_set(err, RUN_ENOMEM, "%.400s: out of memory", l->name);
        return NULL;
    }
    run_config_init(s, l->name);
    snprintf(s->arm, sizeof s->arm, "%s", arm ? arm : "");
    run_json_doc doc = {l->name, l->base_dir, err};
    node root;
    run_json_root(&doc, json, &root);
    if (run_config_read(&root, s)) return s;
    free(s);
    return NULL;
}

static void drop_doc(void *obj) {
    free(obj);
}

static run_config *from_json(json_t *json, const char *name, const char *base_dir, const char *arm,
                             run_error *err) {
    load_ctx l = {name, base_dir};
    run_arm_list arms;
    run_config *c = run_arms_load(json, name, arm, parse_doc, drop_doc, &l, &arms, err);
    if (c) c->arms = arms;
    return c;
}

run_config *run_config_load_arm(const char *path, const char *arm, run_error *err) {
    run_error scratch;
    if (!err) err = &scratch;
    char dir[4096];
    run_json_dir_of(path, dir, sizeof dir);
    return from_json(run_json_load_file(path, RUN_MAX_FILE_BYTES, err), path, dir, arm, err);
}

run_config *run_config_load(const char *path, run_error *err) {
    return run_config_load_arm(path, NULL, err);
}

run_config *run_config_parse(const char *text, const char *name, run_error *err) {
    run_error scratch;
    if (!err) err = &scratch;
    return from_json(run_json_load_text(text, name, err), name, "", NULL, err);
}

void run_config_free(run_config *c) {
    free(c);
}

/* ---- queries -------------------------------------------------------------------- */

int run_config_column_index(const run_config *s, const char *name) {
    for (uint32_t i = 0; i < s->column_count; i++)
        if (strcmp(s->columns[i].name, name) == 0) return (int)i;
    return -1;
}

int run_config_model_index(const run_config *s, const char *alias) {
    for (uint32_t i = 0; i < s->model_count; i++)
        if (strcmp(s->models[i].alias, alias) == 0) return (int)i;
    return -1;
}

bool run_config_is_same_endpoint(const run_config *s, uint32_t a, uint32_t b) {
    return strcmp(s->models[a].provider, s->models[b].provider) == 0 &&
           strcmp(s->models[a].model_id, s->models[b].model_id) == 0;
}

uint64_t run_config_task_count(const run_config *s) {
    int64_t bs = s->buffer_size > 0 ? s->buffer_size : s->records;
    uint64_t total = 0;
    for (uint32_t c = 0; c < s->column_count; c++) {
        const run_column *col = &s->columns[c];
        int64_t rows = col->rows > 0 ? col->rows : s->records;
        total += (uint64_t)(col->strategy == ADMIT_FULL_COLUMN ? (rows + bs - 1) / bs : rows);
    }
    return total;
}
