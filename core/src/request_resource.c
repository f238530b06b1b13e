/* RequestResourceResolver: aliases -> canonical provider/model, interned
** request resource keys. */
#include "admit/request_resource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct alias_entry {
    char name[ADMIT_NAME_MAX];
    uint32_t pm;
    uint32_t raw_cap;
} alias_entry;

typedef struct pm_entry {
    char provider[ADMIT_NAME_MAX];
    char model[ADMIT_NAME_MAX];
    char key[2 * ADMIT_NAME_MAX + 2];
    uint32_t cap;
} pm_entry;

typedef struct resource_entry {
    uint32_t pm;
    admit_request_domain domain;
    char key[ADMIT_REQUEST_KEY_MAX];
} resource_entry;

struct admit_request_resolver {
    alias_entry *aliases;
    uint32_t alias_count, alias_cap;
    pm_entry *pms;
    uint32_t pm_count, pm_cap;
    resource_entry *resources;
    uint32_t resource_count, resource_cap;
};

static bool grow(void **arr, uint32_t *cap, uint32_t count, size_t elem) {
    if (count < *cap) return true;
    uint32_t n = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, (size_t)n * elem);
    if (!p) return false;
    *arr = p;
    *cap = n;
    return true;
}

admit_request_resolver *admit_request_resolver_create(admit_error *err) {
    admit_request_resolver *r = calloc(1, sizeof *r);
    if (!r) admit_error_set(err, ADMIT_ENOMEM, "out of memory creating the request resolver");
    return r;
}

void admit_request_resolver_destroy(admit_request_resolver *r) {
    if (!r) return;
    free(r->aliases);
    free(r->pms);
    free(r->resources);
    free(r);
}

static bool valid_name(const char *s) {
    return s && s[0] && strlen(s) < ADMIT_NAME_MAX && !strchr(s, '/');
}

static int find_pm(const admit_request_resolver *r, const char *provider, const char *model) {
    for (uint32_t i = 0; i < r->pm_count; i++)
        if (strcmp(r->pms[i].provider, provider) == 0 && strcmp(r->pms[i].model, model) == 0)
            return (int)i;
    return -1;
}

admit_status admit_request_resolver_add_alias(admit_request_resolver *r, const char *alias,
                                              const char *provider, const char *model_id,
                                              uint32_t max_parallel_requests, uint32_t *pm_out,
                                              admit_error *err) {
    if (!alias || !alias[0] || strlen(alias) >= ADMIT_NAME_MAX)
        return admit_error_set(err, ADMIT_EINVAL, "model alias must be 1 to %d characters",
                               ADMIT_NAME_MAX - 1);
    /* '/' separates the parts of request keys, so canonical names exclude it. */
    if (!valid_name(provider) || !valid_name(model_id))
        return admit_error_set(err, ADMIT_EINVAL,
                               "alias \"%s\": provider and model id must be 1 to %d characters "
                               "without '/'",
                               alias, ADMIT_NAME_MAX - 1);
    if (max_parallel_requests < 1)
        return admit_error_set(err, ADMIT_EINVAL,
                               "alias \"%s\": max_parallel_requests must be >= 1", alias);
    int pm = find_pm(r, provider, model_id);
    for (uint32_t i = 0; i < r->alias_count; i++) {
        if (strcmp(r->aliases[i].name, alias) != 0) continue;
        if ((int)r->aliases[i].pm != pm)
            return admit_error_set(err, ADMIT_EINVAL, "alias \"%s\" already names %s, not %s/%s",
                                   alias, r->pms[r->aliases[i].pm].key, provider, model_id);
        if (max_parallel_requests < r->aliases[i].raw_cap)
            r->aliases[i].raw_cap = max_parallel_requests;
        if (max_parallel_requests < r->pms[pm].cap) r->pms[pm].cap = max_parallel_requests;
        if (pm_out) *pm_out = (uint32_t)pm;
        return ADMIT_OK;
    }
    if (!grow((void **)&r->aliases, &r->alias_cap, r->alias_count, sizeof *r->aliases))
        return admit_error_set(err, ADMIT_ENOMEM, "out of memory adding alias \"%s\"", alias);
    if (pm < 0) {
        if (!grow((void **)&r->pms, &r->pm_cap, r->pm_count, sizeof *r->pms))
            return admit_error_set(err, ADMIT_ENOMEM, "out of memory adding alias \"%s\"", alias);
        pm_entry *p = &r->pms[r->pm_count];
        snprintf(p->provider, sizeof p->provider, "%s", provider);
        snprintf(p->model, sizeof p->model, "%s", model_id);
        snprintf(p->key, sizeof p->key, "%s/%s", provider, model_id);
        p->cap = max_parallel_requests;
        pm = (int)r->pm_count++;
    } else if (max_parallel_requests < r->pms[pm].cap) {
        r->pms[pm].cap = max_parallel_requests; /* aliases of one endpoint merge by minimum */
    }
    alias_entry *a = &r->aliases[r->alias_count++];
    snprintf(a->name, sizeof a->name, "%s", alias);
    a->pm = (uint32_t)pm;
    a->raw_cap = max_parallel_requests;
    if (pm_out) *pm_out = (uint32_t)pm;
    return ADMIT_OK;
}

int admit_request_resolver_lookup(const admit_request_resolver *r, const char *name) {
    if (!name) return -1;
    for (uint32_t i = 0; i < r->alias_count; i++)
        if (strcmp(r->aliases[i].name, name) == 0) return (int)r->aliases[i].pm;
    for (uint32_t i = 0; i < r->pm_count; i++)
        if (strcmp(r->pms[i].key, name) == 0) return (int)i;
    return -1;
}

int admit_request_resolver_resource(admit_request_resolver *r, uint32_t pm,
                                    admit_request_domain domain) {
    if (pm >= r->pm_count || (unsigned)domain >= ADMIT_DOMAIN_COUNT) return -1;
    for (uint32_t i = 0; i < r->resource_count; i++)
        if (r->resources[i].pm == pm && r->resources[i].domain == domain) return (int)i;
    if (!grow((void **)&r->resources, &r->resource_cap, r->resource_count, sizeof *r->resources))
        return -1;
    resource_entry *e = &r->resources[r->resource_count];
    e->pm = pm;
    e->domain = domain;
    snprintf(e->key, sizeof e->key, "%s/%s", r->pms[pm].key, admit_request_domain_name(domain));
    return (int)r->resource_count++;
}

uint32_t admit_request_resolver_pm_count(const admit_request_resolver *r) {
    return r->pm_count;
}

const char *admit_request_resolver_pm_provider(const admit_request_resolver *r, uint32_t pm) {
    return pm < r->pm_count ? r->pms[pm].provider : "";
}

const char *admit_request_resolver_pm_model(const admit_request_resolver *r, uint32_t pm) {
    return pm < r->pm_count ? r->pms[pm].model : "";
}

const char *admit_request_resolver_pm_key(const admit_request_resolver *r, uint32_t pm) {
    return pm < r->pm_count ? r->pms[pm].key : "";
}

uint32_t admit_request_resolver_pm_cap(const admit_request_resolver *r, uint32_t pm) {
    return pm < r->pm_count ? r->pms[pm].cap : 0;
}

/* The i-th alias of pm, in declaration order. */
static const alias_entry *nth_alias(const admit_request_resolver *r, uint32_t pm, uint32_t i) {
    for (uint32_t k = 0; k < r->alias_count; k++)
        if (r->aliases[k].pm == pm && i-- == 0) return &r->aliases[k];
    return NULL;
}

uint32_t admit_request_resolver_alias_count(const admit_request_resolver *r, uint32_t pm) {
    uint32_t n = 0;
    for (uint32_t k = 0; k < r->alias_count; k++)
        n += r->aliases[k].pm == pm;
    return n;
}

const char *admit_request_resolver_alias_name(const admit_request_resolver *r, uint32_t pm,
                                              uint32_t i) {
    const alias_entry *a = nth_alias(r, pm, i);
    return a ? a->name : "";
}

uint32_t admit_request_resolver_alias_raw_cap(const admit_request_resolver *r, uint32_t pm,
                                              uint32_t i) {
    const alias_entry *a = nth_alias(r, pm, i);
    return a ? a->raw_cap : 0;
}

uint32_t admit_request_resolver_resource_count(const admit_request_resolver *r) {
    return r->resource_count;
}

uint32_t admit_request_resolver_resource_pm(const admit_request_resolver *r, uint32_t resource) {
    return resource < r->resource_count ? r->resources[resource].pm : 0;
}

admit_request_domain admit_request_resolver_resource_domain(const admit_request_resolver *r,
                                                            uint32_t resource) {
    return resource < r->resource_count ? r->resources[resource].domain : ADMIT_DOMAIN_CHAT;
}

const char *admit_request_resolver_resource_key(const admit_request_resolver *r,
                                                uint32_t resource) {
    return resource < r->resource_count ? r->resources[resource].key : "";
}

static const char *const domain_names[ADMIT_DOMAIN_COUNT] = {"chat", "embedding", "image",
                                                             "healthcheck"};

const char *admit_request_domain_name(admit_request_domain d) {
    return (unsigned)d < ADMIT_DOMAIN_COUNT ? domain_names[d] : "unknown";
}

bool admit_request_domain_parse(const char *text, admit_request_domain *out) {
    for (int d = 0; d < ADMIT_DOMAIN_COUNT; d++)
        if (text && strcmp(text, domain_names[d]) == 0) {
            *out = (admit_request_domain)d;
            return true;
        }
    return false;
}
