#include "admit/metadata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIAGNOSTICS 64

typedef struct resolved_entry {
    char column[ADMIT_NAME_MAX];
    admit_resolved_column value;
} resolved_entry;

struct admit_resolver {
    int model_group_limit_cap;
    admit_group_spec *groups;
    uint32_t group_count, group_cap;
    char (*resource_names)[2 * ADMIT_NAME_MAX];
    uint32_t *derived_limits;
    uint32_t resource_count, resource_cap;
    resolved_entry *cache;
    uint32_t cache_count, cache_cap;
    char diagnostics[MAX_DIAGNOSTICS][256];
    uint32_t diagnostic_count;
};

void admit_metadata_default(admit_metadata *out) {
    memset(out, 0, sizeof *out);
    out->kind = ADMIT_KIND_LOCAL;
    snprintf(out->identity[0], sizeof out->identity[0], "default");
    out->weight = 1;
}

static bool identity_complete(const admit_metadata *m) {
    if (m->kind == ADMIT_KIND_LOCAL) return m->identity[0][0] != '\0';
    return m->identity[0][0] != '\0' && m->identity[1][0] != '\0';
}

bool admit_metadata_validate(const admit_metadata *m, admit_metadata_error *err) {
    admit_metadata_error local;
    if (!err) err = &local;
    memset(err, 0, sizeof *err);
    if ((unsigned)m->kind > ADMIT_KIND_CUSTOM_MODEL) {
        err->reason = ADMIT_META_INVALID_KIND;
        admit_error_set(&err->error, ADMIT_EMETADATA,
                        "scheduling kind %d is not local, model or custom_model", (int)m->kind);
        return false;
    }
    if (!identity_complete(m)) {
        err->reason = ADMIT_META_EMPTY_IDENTITY;
        admit_error_set(&err->error, ADMIT_EMETADATA, "%s scheduling identity is empty",
                        admit_metadata_kind_name(m->kind));
        err->has_fallback = true;
        admit_metadata_default(&err->fallback);
        return false;
    }
    if (m->weight <= 0) {
        err->reason = ADMIT_META_INVALID_WEIGHT;
        admit_error_set(&err->error, ADMIT_EMETADATA,
                        "scheduling weight %d is not a positive integer", m->weight);
        err->has_fallback = true;
        err->fallback = *m;
        err->fallback.weight = 1;
        return false;
    }
    return true;
}

admit_resolver *admit_resolver_create(int model_group_limit_cap, admit_error *err) {
    if (model_group_limit_cap <= 0) {
        admit_error_set(err, ADMIT_EINVAL, "model_group_limit_cap must be positive");
        return NULL;
    }
    admit_resolver *r = calloc(1, sizeof *r);
    if (!r) {
        admit_error_set(err, ADMIT_ENOMEM, "out of memory");
        return NULL;
    }
    r->model_group_limit_cap = model_group_limit_cap;
    if (admit_resolver_resource_id(r, "submission") != ADMIT_RESOURCE_SUBMISSION) {
        admit_resolver_destroy(r);
        admit_error_set(err, ADMIT_ENOMEM, "out of memory");
        return NULL;
    }
    return r;
}

void admit_resolver_destroy(admit_resolver *r) {
    if (!r) return;
    free(r->groups);
    free(r->resource_names);
    free(r->derived_limits);
    free(r->cache);
    free(r);
}

int admit_resolver_resource_id(admit_resolver *r, const char *name) {
    for (uint32_t i = 0; i < r->resource_count; i++)
        if (strcmp(r->resource_names[i], name) == 0) return (int)i;
    if (strlen(name) >= sizeof r->resource_names[0] || r->resource_count >= UINT16_MAX) return -1;
    if (r->resource_count == r->resource_cap) {
        uint32_t cap = r->resource_cap ? r->resource_cap * 2 : 8;
        char(*names)[2 * ADMIT_NAME_MAX] = realloc(r->resource_names, cap * sizeof *names);
        if (!names) return -1;
        r->resource_names = names;
        uint32_t *limits = realloc(r->derived_limits, cap * sizeof *limits);
        if (!limits) return -1;
        r->derived_limits = limits;
        r->resource_cap = cap;
    }
    snprintf(r->resource_names[r->resource_count], sizeof r->resource_names[0], "%s", name);
    r->derived_limits[r->resource_count] = 0;
    return (int)r->resource_count++;
}

static uint64_t fnv1a(uint64_t h, const char *s) {
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL; /* separator keeps ("ab","c") != ("a","bc") */
}

static void diagnostic(admit_resolver *r, const char *column, const char *msg) {
    if (r->diagnostic_count < MAX_DIAGNOSTICS)
        snprintf(r->diagnostics[r->diagnostic_count++], sizeof r->diagnostics[0],
                 "column '%.60s': %.160s; using fallback", column, msg);
}

static admit_status add_resource(admit_resolver *r, admit_resource_request *req, const char *name,
                                 uint32_t amount, admit_error *err) {
    int id = admit_resolver_resource_id(r, name);
    if (id < 0) return admit_error_set(err, ADMIT_ENOMEM, "cannot intern resource '%s'", name);
    if (req->count == ADMIT_MAX_TASK_RESOURCES)
        return admit_error_set(err, ADMIT_EINVAL, "a task may request at most %d resources",
                               ADMIT_MAX_TASK_RESOURCES);
    req->resource[req->count] = (uint16_t)id;
    req->amount[req->count] = amount;
    req->count++;
    return ADMIT_OK;
}

admit_status admit_resolver_resolve(admit_resolver *r, const admit_resolver_input *in,
                                    admit_resolved_column *out, admit_error *err) {
    for (uint32_t i = 0; i < r->cache_count; i++)
        if (strcmp(r->cache[i].column, in->column) == 0) {
            *out = r->cache[i].value;
            return ADMIT_OK;
        }
    admit_metadata m = in->metadata;
    admit_metadata_error merr;
    if (!admit_metadata_validate(&m, &merr)) {
        if (!merr.has_fallback)
            return admit_error_set(err, ADMIT_EMETADATA, "column '%s': %s (%s)", in->column,
                                   merr.error.message, admit_metadata_error_code_name(merr.reason));
        diagnostic(r, in->column, merr.error.message);
        m = merr.fallback;
    }
    if (r->group_count == r->group_cap) {
        uint32_t cap = r->group_cap ? r->group_cap * 2 : 8;
        admit_group_spec *g = realloc(r->groups, cap * sizeof *g);
        if (!g) return admit_error_set(err, ADMIT_ENOMEM, "out of memory");
        r->groups = g;
        r->group_cap = cap;
    }
    if (r->cache_count == r->cache_cap) {
        uint32_t cap = r->cache_cap ? r->cache_cap * 2 : 8;
        resolved_entry *c = realloc(r->cache, cap * sizeof *c);
        if (!c) return admit_error_set(err, ADMIT_ENOMEM, "out of memory");
        r->cache = c;
        r->cache_cap = cap;
    }
    admit_group_spec *g = &r->groups[r->group_count];
    memset(g, 0, sizeof *g);
    g->kind = m.kind;
    g->weight = m.weight;
    uint64_t h = fnv1a(0xcbf29ce484222325ULL, admit_metadata_kind_name(m.kind));
    int parts = m.kind == ADMIT_KIND_LOCAL ? 1 : ADMIT_IDENTITY_PARTS;
    int len = snprintf(g->key, sizeof g->key, "%s", admit_metadata_kind_name(m.kind));
    for (int i = 0; i < parts; i++) {
        h = fnv1a(h, m.identity[i]);
        if (len > 0 && (size_t)len < sizeof g->key)
            len += snprintf(g->key + len, sizeof g->key - (size_t)len, "%s%s", i ? "/" : ":",
                            m.identity[i]);
    }
    if (len > 0 && (size_t)len < sizeof g->key)
        snprintf(g->key + len, sizeof g->key - (size_t)len, "|%s", in->column);
    g->identity_hash = fnv1a(h, in->column);
    if (m.kind == ADMIT_KIND_LOCAL) {
        g->admitted_limit = 0;
    } else {
        int64_t derived = 2 * (int64_t)m.weight; /* no int overflow for huge weights */
        if (derived > r->model_group_limit_cap) derived = r->model_group_limit_cap;
        g->admitted_limit = derived < 1 ? 1 : (int)derived;
    }
    if (in->admitted_limit > 0) g->admitted_limit = in->admitted_limit;

    admit_resource_request req = {0};
    admit_status st = ADMIT_OK;
    if (in->resources_override) {
        for (uint8_t i = 0; i < in->resources_override->count && st == ADMIT_OK; i++)
            st = add_resource(r, &req, in->override_names[in->resources_override->resource[i]],
                              in->resources_override->amount[i], err);
    } else {
        st = add_resource(r, &req, "submission", 1, err);
        if (st == ADMIT_OK && m.kind != ADMIT_KIND_LOCAL)
            st = add_resource(r, &req, "llm_wait", 1, err);
        if (st == ADMIT_OK && m.kind == ADMIT_KIND_MODEL) {
            char name[2 * ADMIT_NAME_MAX];
            snprintf(name, sizeof name, "request:%.90s/%.90s", m.identity[0], m.identity[1]);
            st = add_resource(r, &req, name, 1, err);
            int id = admit_resolver_resource_id(r, name);
            if (st == ADMIT_OK && id >= 0 &&
                (r->derived_limits[id] == 0 || (uint32_t)m.weight < r->derived_limits[id]))
                r->derived_limits[id] = (uint32_t)m.weight;
        }
    }
    if (st != ADMIT_OK) return st;
    out->group = r->group_count++;
    out->resources = req;
    resolved_entry *e = &r->cache[r->cache_count++];
    snprintf(e->column, sizeof e->column, "%s", in->column);
    e->value = *out;
    return ADMIT_OK;
}

uint32_t admit_resolver_group_count(const admit_resolver *r) {
    return r->group_count;
}
const admit_group_spec *admit_resolver_groups(const admit_resolver *r) {
    return r->groups;
}
uint32_t admit_resolver_resource_count(const admit_resolver *r) {
    return r->resource_count;
}
const char *admit_resolver_resource_name(const admit_resolver *r, uint32_t id) {
    return id < r->resource_count ? r->resource_names[id] : NULL;
}
uint32_t admit_resolver_derived_limit(const admit_resolver *r, uint32_t id) {
    return id < r->resource_count ? r->derived_limits[id] : 0;
}
uint32_t admit_resolver_diagnostic_count(const admit_resolver *r) {
    return r->diagnostic_count;
}
const char *admit_resolver_diagnostic(const admit_resolver *r, uint32_t i) {
    return i < r->diagnostic_count ? r->diagnostics[i] : NULL;
}
