/*
** SchedulingMetadata and TaskSchedulingResolver (SPEC §3).
**
** Metadata says what kind of resource a column's work uses and how heavy it
** is; the resolver turns it into a task group and a scheduler resource
** request.  Validation errors carry an optional fallback: with one the
** resolver goes on and records a diagnostic, without one resolution fails
** before any task exists.
*/
#ifndef ADMIT_METADATA_H
#define ADMIT_METADATA_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/error.h"
#include "admit/resources.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ADMIT_IDENTITY_PARTS 3

/* identity parts: local: {resource_name}; model: {provider, model_id,
** generation_kind}; custom_model: {namespace, resource, version}. */
typedef struct admit_metadata {
    admit_metadata_kind kind;
    char identity[ADMIT_IDENTITY_PARTS][ADMIT_NAME_MAX];
    int weight;
} admit_metadata;

typedef enum admit_metadata_error_code {
    ADMIT_META_OK = 0,
    ADMIT_META_INVALID_KIND,
    ADMIT_META_EMPTY_IDENTITY,
    ADMIT_META_INVALID_WEIGHT
} admit_metadata_error_code;

/* SchedulingMetadataError: core's one error type (error: code
** ADMIT_EMETADATA and the message) plus what SPEC §3 adds to it, the rule
** that failed and the fallback, when there is one. */
typedef struct admit_metadata_error {
    admit_error error;
    admit_metadata_error_code reason;
    bool has_fallback;
    admit_metadata fallback;
} admit_metadata_error;

/* local/("local","default")/1: what a column that declares nothing gets. */
void admit_metadata_default(admit_metadata *out);
/* Returns true when valid; otherwise fills *err (fallback included). */
bool admit_metadata_validate(const admit_metadata *m, admit_metadata_error *err);
const char *admit_metadata_error_code_name(admit_metadata_error_code code);

/* One column's input to the resolver. */
typedef struct admit_resolver_input {
    const char *column;      /* flow identity: the task's output column */
    admit_metadata metadata; /* kind INVALID values are caught by validate */
    int admitted_limit;      /* > 0 overrides the derived limit; 0 = derive */
    const admit_resource_request *resources_override; /* NULL = derive */
    const char *const *override_names;                /* names for resources_override ids */
} admit_resolver_input;

typedef struct admit_resolver admit_resolver;

typedef struct admit_resolved_column {
    uint32_t group;
    admit_resource_request resources;
} admit_resolved_column;

/* model_group_limit_cap bounds derived admitted limits (> 0). */
admit_resolver *admit_resolver_create(int model_group_limit_cap, admit_error *err);
void admit_resolver_destroy(admit_resolver *r);

/* Resolves one column; results are cached by column name for the run. */
admit_status admit_resolver_resolve(admit_resolver *r, const admit_resolver_input *in,
                                    admit_resolved_column *out, admit_error *err);

/* Interns a resource name; "submission" is id 0.  Returns the id or -1. */
int admit_resolver_resource_id(admit_resolver *r, const char *name);

uint32_t admit_resolver_group_count(const admit_resolver *r);
const admit_group_spec *admit_resolver_groups(const admit_resolver *r);
uint32_t admit_resolver_resource_count(const admit_resolver *r);
const char *admit_resolver_resource_name(const admit_resolver *r, uint32_t id);
/* Derived limit for "request:<provider>/<model>" resources (minimum weight
** across the columns using it); 0 for every other resource. */
uint32_t admit_resolver_derived_limit(const admit_resolver *r, uint32_t id);
uint32_t admit_resolver_diagnostic_count(const admit_resolver *r);
const char *admit_resolver_diagnostic(const admit_resolver *r, uint32_t i);

#ifdef __cplusplus
}
#endif

#endif
