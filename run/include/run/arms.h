/*
** Arms: named overrides of one scenario (SPEC §10), compared by `ab` and
** swept by `sweep`.
**
** A scenario file may declare
**   "arms": {"NAME": {OVERRIDES}, ...}
** where OVERRIDES may hold:
**   "description"                 text for reports
**   "policy"                      keys of the top-level "policy" (default,
**                                 strict_share_rounding, reserve_fraction,
**                                 max_reserved_slots, default_borrow_ceiling,
**                                 borrow_ceilings), merged over it
**   "capacity"                    {resource: amount}, merged over "capacity"
**   "request_admission"           keys of the top-level one (AIMD settings,
**                                 queue-wait timeout, "resources"), merged
**   "models"                      {alias: {"max_parallel_requests": N}}
**   "providers"                   {"ALIAS" or "ALIAS/DOMAIN": {keys of a
**                                 "providers" entry but model and domain}},
**                                 merged over the entry serving that alias
**                                 and domain (default chat)
**   "max_concurrent_row_groups", "model_group_limit_cap"
** Merging replaces a key's value (arrays whole) and keeps the others.  Every
** policy name (strict, bounded, provider_aware) is also an implicit arm that
** sets policy.default; an explicit arm may not take a policy's name.
**
** run_arms_apply() makes the document an arm describes; the loaders parse
** the plain document and then every arm's, so an arm with an unknown key or
** a bad value is reported at load time, whichever arm is asked for, as
** "FILE: $.arms.NAME: PATH: expected ..." (PATH in the merged document) or,
** for the arm's own shape, "FILE: $.arms.NAME.KEY: ...".
*/
#ifndef RUN_ARMS_H
#define RUN_ARMS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "run/error.h"
#include "run/json_reader.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RUN_MAX_ARMS     32
#define RUN_ARM_NAME_MAX 64

typedef struct run_arm_list {
    uint32_t count;
    char names[RUN_MAX_ARMS][RUN_ARM_NAME_MAX];
    char descriptions[RUN_MAX_ARMS][256];
} run_arm_list;

/* The document's explicit arms (root: the whole document), their names
** checked ([A-Za-z0-9_.-], not a policy name, at most RUN_MAX_ARMS).  False
** with the document's error set. */
bool run_arms_read(const run_json_node *root, run_arm_list *out);

/* A new document: doc without "arms", with arm applied (NULL or "": none;
** a policy name not declared explicitly: the implicit arm).  NULL with err
** set (RUN_EINVAL) when the arm is unknown or names a model or provider the
** document does not have.  file names the document in messages. */
json_t *run_arms_apply(json_t *doc, const char *arm, const run_arm_list *arms, const char *file,
                       run_error *err);

/* True when name is an arm of arms or a policy name. */
bool run_arms_is_known(const run_arm_list *arms, const char *name);

/* Rewrites err, a message about the document arm `arm` made, as
** "FILE: $.arms.ARM: PATH: ..." (file names the document). */
void run_arms_blame(run_error *err, const char *file, const char *arm);

/* Loading with arms, for a loader whose parse() turns one document (without
** "arms") into its object (NULL with err set): parses the plain document,
** reads the arms, parses every explicit arm's document (an arm's error is
** blamed on it), and returns the object of arm `want` (NULL or "": the
** plain document; a policy name: its implicit arm), freeing the others
** with drop().  Takes json (NULL: err is already set).  *arms gets the
** list.  NULL with err set. */
typedef void *(*run_doc_parse_fn)(void *ctx, json_t *doc, const char *arm, run_error *err);
void *run_arms_load(json_t *json, const char *file, const char *want, run_doc_parse_fn parse,
                    void (*drop)(void *obj), void *ctx, run_arm_list *arms, run_error *err);

#ifdef __cplusplus
}
#endif

#endif
