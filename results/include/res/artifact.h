/*
** The run artifact (SPEC §9 shape), written atomically: built in memory,
** dumped to "<name>.tmp.<pid>" in the target directory, then renamed.
** Everything except the top-level "host" key is a pure function of the
** scenario, policy, seeds and iterations, so two runs with the same inputs
** are byte-identical once "host" is removed.
*/
#ifndef RES_ARTIFACT_H
#define RES_ARTIFACT_H

#include <jansson.h>
#include <stddef.h>

#include "res/summary.h"
#include "res/run_record.h"

#define RES_ARTIFACT_SCHEMA_VERSION 1
#define RES_HARNESS_VERSION         "admitsim 0.1.0"

typedef struct res_host_info {
    const char *command_line;
    double cpu_seconds;
    double elapsed_seconds;
} res_host_info;

/* runs[i] and summaries[i] belong to iteration i.  New reference. */
json_t *res_artifact_build(res_run_record *const *runs, res_summary *const *summaries, size_t count,
                           const res_host_info *host);

/* Writes json to dir/name atomically; creates dir if missing.  Returns 0, or
** -1 with a message in err (size errlen). */
int res_write_json_atomic(const json_t *json, const char *dir, const char *name, char *err,
                          size_t errlen);

json_t *res_event_to_json(const admit_event *ev, const res_run_record *run);

#endif
