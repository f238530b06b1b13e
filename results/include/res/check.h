/*
** The regression check (SPEC §9 gates): a candidate set of runs judged
** against a baseline set, from the figures recorded in their artifacts (no
** re-simulation).
**
** Inputs (res_check_side_load): an artifact file, or a directory of them
** (every *.json with an artifact_schema_version; experiment reports and
** other files are skipped).  Artifacts are read without their event
** timelines (the check needs none), so a large artifact costs little
** memory.  Runs are matched by (scenario, arm or policy, seed); a run on one
** side only makes the inputs mismatched (RES_EINVAL).
**
** Gates come from a versioned gates file (gates/gates.json): each has a name,
** a kind, optionally a metric and a threshold, and optionally `when_tag`: it
** applies only to scenarios whose "check" lists that tag.  A scenario may
** replace a threshold ("check": {"thresholds": {GATE: VALUE}}).  Kinds:
**   final_snapshots_clean    every candidate iteration ends with zero task
**                            and request leases, zero waiters, none held per
**                            resource, no hidden scheduler resource waiter
**   output_hashes_equal      both sides' output hashes equal, per seed and
**                            iteration
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

#ifdef __cplusplus
extern "C" {
#endif

typedef struct res_check_side res_check_side;

/* NULL with err set (RES_EIO unreadable, RES_EINVAL not an artifact). */
res_check_side *res_check_side_load(const char *spec, res_error *err);
void res_check_side_free(res_check_side *s);

/* The gates file, checked (kinds known, fields typed); new reference. */
json_t *res_check_gates_load(const char *path, res_error *err);

/* The verdict: {"passed", "gates_version", "results": [{"gate", "scenario",
** "arm", "status", "reason", "candidate", "baseline", "threshold"}]}.  NULL
** with err set when the sides do not match (RES_EINVAL). */
json_t *res_check_run(const res_check_side *candidate, const res_check_side *baseline,
                      const json_t *gates, res_error *err);

void res_check_print(const json_t *verdict, FILE *f);

#ifdef __cplusplus
}
#endif

#endif
