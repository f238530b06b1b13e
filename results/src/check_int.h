/*
** The regression check's internals (res/check.h): loaded runs and gate kinds.
*/
#ifndef RES_CHECK_INT_H
#define RES_CHECK_INT_H

#include <stdint.h>

#include "res/atomic_file.h"
#include "res/check.h"
#include "res/metrics.h"

/* One run of (scenario, arm or policy, seed): an artifact, or a stored run
** made into the document an artifact's skim gives. */
typedef struct res_check_run_in {
    char key[512];   /* "scenario / arm / seed N": matches the two sides */
    char group[400]; /* "scenario / arm": gates are judged per group */
    char path[4096]; /* the artifact, or "run:N in FILE" */
    uint64_t seed;
    /* scenario_id, inputs.{scenario_file, policy, arm, seed, check},
    ** iterations[].{final_task_snapshot, final_request_snapshot,
    ** output_hashes, stats}; an artifact's also derived_metrics (without
    ** its timelines), a stored run's iterations[].recorded_final (the
    ** iterations row's final leases and waiters) */
    json_t *doc;
    res_metric_set *metrics; /* one per iteration, in the flat namespace */
    size_t iterations;
    /* Read from a results store: the figures res_metric_is_stored() denies
    ** are missing, and output hashes are the all-columns one only. */
    bool stored;
    /* Why the scenario's check section (tags, claims, thresholds) is
    ** unknown; "" when inputs.check is it (absent: none). */
    char check_unknown[600];
} res_check_run_in;

struct res_check_side {
    res_check_run_in *runs;
    size_t count, cap;
    json_t *bench;         /* `bench --cycle --format json` results, or NULL (check_bench.c) */
    char bench_path[4096]; /* their file */
};

enum {
    RES_GATE_FINAL_CLEAN = 0,
    RES_GATE_HASHES_EQUAL,
    RES_GATE_MEAN_NOT_WORSE,
    RES_GATE_CLAIMS_BETTER,
    RES_GATE_CLAIMS_TRIM,
    RES_GATE_BENCH_NOT_WORSE,
    RES_GATE_REQUEST_ACCOUNTING
};

/* The gate kind's number, or -1. */
int res_check_kind(const char *kind);
/* The JSON document at path with every "timeline" value emptied. */
json_t *res_check_skim_file(const char *path, res_error *err);

/* Adds doc (a reference of its own is taken) as a run of s, named path in
** messages, after checking what the gates read; its metrics are one empty
** set per iteration, for the caller to fill.  NULL with err set.  The
** pointer is valid until the next run is added. */
res_check_run_in *res_check_side_add(res_check_side *s, json_t *doc, const char *path,
                                     res_error *err);
/* Every iteration of r records its hidden scheduler resource waiters (an
** integer >= 0 at stats.hidden_scheduler_resource_waiters); else RES_EINVAL:
** a missing count must not read as zero. */
bool res_check_run_hidden_ok(const res_check_run_in *r, res_error *err);
/* False with err set when two runs of s have one key. */
bool res_check_side_is_unique(const res_check_side *s, res_error *err);
/* check_thresholds.c: every threshold the check sections of s's runs set ("thresholds": {GATE:
** VALUE}) names a gate of gates (read from gates_path) that reads one from
** the scenario, by a number 0 to 1e9; else RES_EINVAL naming the run, the
** JSON path, the gates that do (and the nearest name, for a typo). */
bool res_check_side_thresholds_ok(const res_check_side *s, const json_t *gates,
                                  const char *gates_path, res_error *err);
/* Adds the stored runs spec names (run:ID, experiment:ID) from the results
** database at db_path. */
bool res_check_store_load(res_check_side *s, const char *spec, const char *db_path, res_error *err);

/* check_bench.c: a document of `admitsim bench --cycle --format json`. */
bool res_check_is_bench(const json_t *doc);
/* Adds doc (checked; a reference of its own is taken) as s's microbench
** results; one per side. */
bool res_check_bench_add(res_check_side *s, json_t *doc, const char *path, res_error *err);
/* Both sides hold results of one matrix with the same cases, or neither
** holds any; else RES_EINVAL. */
bool res_check_bench_matched(const res_check_side *cand, const res_check_side *base,
                             res_error *err);
/* Judges gate (kind bench_not_worse) on every case, appending one result
** per case to results; false when one fails. */
bool res_check_bench_judge(const json_t *gate, const res_check_side *cand,
                           const res_check_side *base, json_t *results);

#endif
