/*
** An A/B experiment's figures and verdicts (SPEC §10): two arms of one
** scenario, paired by seed, every metric of res/metrics.h compared.
**
** Fill it with each (arm, seed)'s metric set, then read its JSON or its
** table.  A metric is compared when every seed of both arms has it; host
** metrics (names starting "host.") are compared but left out of the
** deterministic test.  The experiment is deterministic when every other
** metric gives the same figure for every seed within each arm.
**
** JSON: {"scenario_id", "baseline": {"arm", "description" when there is
** one}, "candidate": {...}, "seeds": [...], "outputs_equal": true, false or
** null (unknown: another build's runs), "deterministic", "metrics": {NAME: {"direction",
*"baseline": {mean,
** stddev, p50, p95, min, max}, "candidate": {...}, "diff": {"mean",
** "ci95_low", "ci95_high", "relative"}, "verdict", "survives_trimming"}},
** "headline": [NAME, ...], "not_compared": {NAME: {"baseline_seeds",
** "candidate_seeds"}}} with null for what is undefined (an interval of a
** deterministic experiment, a relative change to a zero baseline);
** not_compared holds every metric some run lacks, with how many runs of
** each arm have it (the table and Markdown list them too, a headline one
** among the headlines).
*/
#ifndef RES_EXPERIMENT_H
#define RES_EXPERIMENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "res/compare.h"
#include "res/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct res_experiment res_experiment;

/* seeds[i] is the seed of pair i.  NULL on out of memory. */
res_experiment *res_experiment_create(const char *scenario_id, const char *baseline,
                                      const char *candidate, const uint64_t *seeds, size_t n);
void res_experiment_free(res_experiment *e);
/* Text for reports about arm 0 (baseline) or 1 (candidate); NULL: none. */
void res_experiment_describe(res_experiment *e, int arm, const char *description);
const char *res_experiment_arm(const res_experiment *e, int arm);
const char *res_experiment_scenario(const res_experiment *e);
size_t res_experiment_pairs(const res_experiment *e);
/* The hash of the outputs of arm's run of pair (the run record's
** output_hash_all), when known. */
void res_experiment_set_outputs(res_experiment *e, int arm, size_t pair, uint64_t hash);
/* The first pair whose arms' outputs differ; the number of pairs when every
** pair's are equal; -1 when a hash is missing (another build's run). */
int res_experiment_outputs_differ_at(const res_experiment *e);
/* arm 0: baseline, 1: candidate; takes the set's contents (it is emptied). */
void res_experiment_set(res_experiment *e, int arm, size_t pair, res_metric_set *m);

/* One compared metric. */
typedef struct res_experiment_metric {
    const char *name;
    res_direction direction;
    res_spread baseline, candidate;
    res_paired diff;
} res_experiment_metric;

/* Computes the comparison (after every set is in); false on out of memory. */
bool res_experiment_compare(res_experiment *e);
bool res_experiment_is_deterministic(const res_experiment *e);
size_t res_experiment_metric_count(const res_experiment *e);
/* Headline metrics first, then the rest by name. */
const res_experiment_metric *res_experiment_metric_at(const res_experiment *e, size_t i);

/* A metric that some run has and another lacks (a figure with nothing to
** measure in that run: no record done, no downstream column ready, an arm's
** own model): not compared, and said so. */
typedef struct res_experiment_missing {
    const char *name;
    size_t seeds[2]; /* how many of the baseline's and of the candidate's runs have it */
} res_experiment_missing;
size_t res_experiment_missing_count(const res_experiment *e);
/* In the order the metrics first appear, the baseline's runs first. */
const res_experiment_missing *res_experiment_missing_at(const res_experiment *e, size_t i);

json_t *res_experiment_json(const res_experiment *e);
typedef enum res_experiment_style {
    RES_EXPERIMENT_TABLE,        /* for a terminal */
    RES_EXPERIMENT_MARKDOWN,     /* a document: title, arms, headlines, table */
    RES_EXPERIMENT_MARKDOWN_BODY /* a section of a report: no title, table folded */
} res_experiment_style;

/* Arms, headlines ("candidate is 2.67x better on ... (95% CI ...)") and
** every metric. */
void res_experiment_print(const res_experiment *e, FILE *f, res_experiment_style style);

#ifdef __cplusplus
}
#endif

#endif
