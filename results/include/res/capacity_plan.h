/*
** AsyncCapacityPlan of a run (SPEC §6), as JSON: the configured
** capacity values, each {value, source, fallback_from, missing_reason}; the
** request stage's runtime snapshot at the end; and the observed maxima.
** Sources: values written in the scenario are run_config, values the
** simulator fills in are default, model caps are model_metadata (merged by
** the request resolver, minimum over an endpoint's aliases), derived limits
** are engine_internal_config.
*/
#ifndef RES_CAPACITY_PLAN_H
#define RES_CAPACITY_PLAN_H

#include <jansson.h>

#include "admit/capacity_plan.h"
#include "res/request_stats.h"
#include "res/run_record.h"

json_t *res_capacity_value_json(const admit_capacity_value *v);
/* The configuration's request admission settings (AIMD knobs, queue timeout). */
json_t *res_request_admission_config_json(const run_config *sc);
/* New reference; NULL on out of memory. */
json_t *res_capacity_plan_json(const res_run_record *run, const res_request_report *rep);

#endif
