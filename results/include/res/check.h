/*
** The regression check (SPEC §9 gates): a candidate set of runs judged
** against a baseline set, from the figures recorded in their artifacts or
** in a results store (no re-simulation).
**
** Inputs (res_check_side_load): an artifact file, or a directory of them
** (every *.json with an artifact_schema_version; experiment reports and
** other files are skipped), or runs stored in a results database:
** "run:ID" (one run) or "experiment:ID" (every run of the experiment).
** Artifacts are read without their event timelines (the check needs none),
** so a large artifact costs little memory.  A stored run is read through
** the store's reader (res/store_reader.h) into the document an artifact
** gives: its final snapshots, the iterations row's final leases and
** waiters, the all-columns output hash, and its metrics mapped into the
** flat namespace (res_metric_name_of_stored; values at the artifact's 15
** significant digits, so a run and its own artifact compare identical);
** the figures the store does not keep (res_metric_is_stored) are missing,
** and a gate that needs one is not applicable, saying so.  The check
** section (tags, claims, thresholds) is not stored: it is read from the
** run's scenario file, as the run named it, for the run's arm; when that
** file is gone, no longer loads or holds another scenario or version, the
** gates that need it are not applicable, saying why.  Only complete runs
** (and complete experiments) are read.  Runs are matched by (scenario, arm
** or policy, seed); a run on one side only makes the inputs mismatched
** (RES_EINVAL).  res_check_sides_of_experiment makes the two sides of one
** stored A/B experiment: its candidate arm's runs against its baseline
** arm's, matched by (scenario, seed).
**
** Gates come from a versioned gates file (gates/gates.json): each has a name,
** a kind, optionally a metric and a threshold, and optionally `when_tag`: it
** applies only to scenarios whose "check" lists that tag.  A scenario may
** replace a mean_not_worse gate's threshold ("check": {"thresholds": {GATE:
** VALUE}}); naming another gate, or none, is an error (res_check_run).  Kinds:
**   final_snapshots_clean    every candidate iteration ends with zero task
**                            and request leases, zero waiters, none held per
**                            resource, no hidden scheduler resource waiter
**                            (a stored run: by its snapshots and by its
**                            iterations row)
**   output_hashes_equal      both sides' output hashes equal, per seed and
**                            iteration (the all-columns hash alone when a
**                            side knows only that: a stored run)
**   mean_not_worse           the candidate's mean of the metric over every
**                            seed and iteration is at most `threshold`
**                            (relative) worse than the baseline's, by the
**                            metric's direction
**   claims_better            each metric the scenario's "check" claims is
**                            better, paired by seed (res/compare.h verdict)
**   claims_survive_trimming  ... and keeps its sign after trimming
**   bench_not_worse          admission-cycle microbench results: no
**                            configuration's metric more than `threshold`
**                            worse (not applicable without bench results)
** Every gate ends pass, fail or not_applicable (with the reason), per
** scenario and arm.
*/
#ifndef RES_CHECK_H
#define RES_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "res/error.h"
#include "res/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct res_check_side res_check_side;

/* True for a spec naming stored runs: "run:..." or "experiment:...". */
bool res_check_spec_is_stored(const char *spec);

/* spec: an artifact file, a directory of artifacts, run:ID or
** experiment:ID; db_path: the results database of a stored spec (NULL:
** RES_STORE_DEFAULT_PATH).  NULL with err set: RES_EIO unreadable,
** RES_EINVAL not an artifact, a malformed ID or a run or experiment that is
** not complete, and the reader's codes (RES_ENOTFOUND: no such database,
** run or experiment; RES_ETOOOLD, RES_EFOREIGN, ...). */
res_check_side *res_check_side_load(const char *spec, const char *db_path, res_error *err);

/* The two sides of one stored A/B experiment (spec "experiment:ID" in
** db_path, NULL: the default): its candidate arm's runs and its baseline
** arm's, keyed by (scenario, seed) and judged as "CANDIDATE vs BASELINE".
** False with err set (RES_EINVAL for a sweep, an experiment whose arms
** share a name or one arm without stored runs: another build's). */
bool res_check_sides_of_experiment(const char *spec, const char *db_path,
                                   res_check_side **candidate, res_check_side **baseline,
                                   res_error *err);
void res_check_side_free(res_check_side *s);

/* What a side holds: its runs, each one's key ("scenario / arm / seed N";
** "scenario / seed N" for an experiment's arm) and the flat metrics of its
** iteration i (NULL past its iterations). */
size_t res_check_side_count(const res_check_side *s);
const char *res_check_side_key(const res_check_side *s, size_t run);
const res_metric_set *res_check_side_metrics(const res_check_side *s, size_t run, size_t i);

/* A microbench matrix's "check" section (NULL: none), as `bench --cycle`
** reads it from the matrix file and `check` from its results: only
** "thresholds", and in it only admission_cycle_p95, a number 0 to 10; else
** RES_EINVAL naming path and the JSON path. */
bool res_check_bench_thresholds_ok(const json_t *check, const char *path, res_error *err);

/* The gates file, checked (kinds known, fields typed); new reference. */
json_t *res_check_gates_load(const char *path, res_error *err);

/* The verdict: {"passed", "gates_version", "results": [{"gate", "scenario",
** "arm", "status", "reason", "candidate", "baseline", "threshold"}]}.  NULL
** with err set (RES_EINVAL) when the sides do not match, or when a
** threshold of the candidate's check sections names no gate of gates (the
** file gates_path, named in the message) that reads one from a scenario
** (kind mean_not_worse): a misspelt name would leave the gate at its own
** threshold.  The baseline's check sections are not read. */
json_t *res_check_run(const res_check_side *candidate, const res_check_side *baseline,
                      const json_t *gates, const char *gates_path, res_error *err);

void res_check_print(const json_t *verdict, FILE *f);

#ifdef __cplusplus
}
#endif

#endif
