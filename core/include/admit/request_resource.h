/*
** RequestResourceResolver: the one place model aliases become canonical
** provider/model ids (SPEC §4).
**
** An alias names an endpoint (provider, model id) and carries that alias's
** max_parallel_requests.  Aliases of one endpoint are merged: the endpoint's
** static cap is the minimum over its aliases, and every alias with its raw
** cap is kept for diagnostics and the capacity plan.  A RequestResourceKey is
** (provider/model, domain); keys are interned to small dense ids that the
** request admission controller indexes arrays by.
**
** Canonical endpoints are also found by "provider/model", so callers that
** already hold canonical names resolve the same way.  Setup-time only: not
** thread-safe, lookups are linear in the number of aliases.
*/
#ifndef ADMIT_REQUEST_RESOURCE_H
#define ADMIT_REQUEST_RESOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/error.h"
#include "admit/resources.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum admit_request_domain {
    ADMIT_DOMAIN_CHAT = 0,
    ADMIT_DOMAIN_EMBEDDING,
    ADMIT_DOMAIN_IMAGE,
    ADMIT_DOMAIN_HEALTHCHECK,
    ADMIT_DOMAIN_COUNT
} admit_request_domain;

#define ADMIT_REQUEST_KEY_MAX (2 * ADMIT_NAME_MAX + 16)

typedef struct admit_request_resolver admit_request_resolver;

admit_request_resolver *admit_request_resolver_create(admit_error *err);
void admit_request_resolver_destroy(admit_request_resolver *r);

/* Declares alias -> (provider, model_id) with the alias's own
** max_parallel_requests (>= 1).  Re-declaring an alias for a different
** endpoint is ADMIT_EINVAL; for the same endpoint it merges by minimum.
** *pm_out (may be NULL) receives the endpoint's provider/model id. */
admit_status admit_request_resolver_add_alias(admit_request_resolver *r, const char *alias,
                                              const char *provider, const char *model_id,
                                              uint32_t max_parallel_requests, uint32_t *pm_out,
                                              admit_error *err);
/* Provider/model id for an alias or a canonical "provider/model"; -1 unknown. */
int admit_request_resolver_lookup(const admit_request_resolver *r, const char *name);
/* Interns the request resource (pm, domain); returns its id, -1 on a bad pm
** or out of memory. */
int admit_request_resolver_resource(admit_request_resolver *r, uint32_t pm,
                                    admit_request_domain domain);

uint32_t admit_request_resolver_pm_count(const admit_request_resolver *r);
const char *admit_request_resolver_pm_provider(const admit_request_resolver *r, uint32_t pm);
const char *admit_request_resolver_pm_model(const admit_request_resolver *r, uint32_t pm);
/* "provider/model" */
const char *admit_request_resolver_pm_key(const admit_request_resolver *r, uint32_t pm);
/* Static cap: the minimum max_parallel_requests over the endpoint's aliases. */
uint32_t admit_request_resolver_pm_cap(const admit_request_resolver *r, uint32_t pm);
uint32_t admit_request_resolver_alias_count(const admit_request_resolver *r, uint32_t pm);
const char *admit_request_resolver_alias_name(const admit_request_resolver *r, uint32_t pm,
                                              uint32_t i);
uint32_t admit_request_resolver_alias_raw_cap(const admit_request_resolver *r, uint32_t pm,
                                              uint32_t i);

uint32_t admit_request_resolver_resource_count(const admit_request_resolver *r);
uint32_t admit_request_resolver_resource_pm(const admit_request_resolver *r, uint32_t resource);
admit_request_domain admit_request_resolver_resource_domain(const admit_request_resolver *r,
                                                            uint32_t resource);
/* "provider/model/domain" */
const char *admit_request_resolver_resource_key(const admit_request_resolver *r, uint32_t resource);

const char *admit_request_domain_name(admit_request_domain d);
bool admit_request_domain_parse(const char *text, admit_request_domain *out);

#ifdef __cplusplus
}
#endif

#endif
