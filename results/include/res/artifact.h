/*
** The run artifact (SPEC §9 shape).  res_artifact_writer streams it to
** "<name>.tmp.<pid>" in the target directory one iteration at a time, and
** each iteration's timeline one event at a time (only each iteration's
** derived metrics stay in memory, and one event's JSON) and seals it when
** the last one is in, for the caller to rename into place with the files
** that go with it (res/atomic_file.h); res_artifact_build makes the same document
** in memory.  Everything except the top-level "host" key is a pure function
** of the scenario, policy, seeds and iterations, so two runs with the same
** inputs are byte-identical once "host" is removed.
*/
#ifndef RES_ARTIFACT_H
#define RES_ARTIFACT_H

#include <jansson.h>
#include <stddef.h>

#include "res/atomic_file.h"
#include "res/error.h"
#include "res/json_real.h"
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

typedef struct res_artifact_writer res_artifact_writer;
/* Opens DIR/NAME for `iterations` iterations.  NULL with err set. */
res_artifact_writer *res_artifact_writer_open(const char *dir, const char *name, size_t iterations,
                                              res_error *err);
/* Iterations in order; the first also gives the inputs and capacity plan. */
bool res_artifact_writer_add(res_artifact_writer *w, const res_run_record *r, const res_summary *s,
                             res_error *err);
/* Writes the derived metrics and host and seals the temporary file (not
** yet renamed: res_atomic_files_publish of res_artifact_writer_file(w),
** with the files that go with it).  False with err set. */
bool res_artifact_writer_seal(res_artifact_writer *w, const res_host_info *host, res_error *err);
res_atomic_file *res_artifact_writer_file(res_artifact_writer *w);
/* Frees w, removing its temporary file unless it was published. */
void res_artifact_writer_abort(res_artifact_writer *w);
const char *res_artifact_writer_path(const res_artifact_writer *w);

/* Writes json to dir/name atomically; creates dir if missing.  Returns 0, or
** -1 with a message in err (size errlen). */
int res_write_json_atomic(const json_t *json, const char *dir, const char *name, char *err,
                          size_t errlen);

/* A JSON string of s; bytes that are not UTF-8 (a file name in another
** encoding) become U+FFFD.  New reference; NULL on out of memory. */
json_t *res_json_string_lossy(const char *s);

json_t *res_event_to_json(const admit_event *ev, const res_run_record *run);

/* The scenario's check section as an artifact records it (inputs.check:
** {"tags", "claims", "thresholds"}); NULL when it is empty.  New reference. */
json_t *res_artifact_check_json(const run_check *c);

#endif
