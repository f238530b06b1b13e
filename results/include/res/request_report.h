/*
** The request stage in run output: per request resource figures (keyed
** "provider/model/domain"), per provider busy fractions, the final request
** snapshot and the provider script.  Percentiles use res_quantile_index().
*/
#ifndef RES_REQUEST_REPORT_H
#define RES_REQUEST_REPORT_H

#include <jansson.h>

#include "sim/engine.h"

/* {"provider/model/domain": {...}} in resource id order.  New reference. */
json_t *res_request_resources_json(const sim_run *run);
/* {"provider": {"busy_fraction": x}}.  New reference. */
json_t *res_providers_json(const sim_run *run);
/* Leases, waiters and per resource ledger at the end.  New reference. */
json_t *res_final_request_snapshot_json(const sim_run *run);
/* The scenario's simulated providers and their scripted windows. */
json_t *res_provider_script_json(const sim_scenario *sc);

typedef struct res_wait_quantiles {
    double p50, p95, max, mean; /* seconds; 0 when there are no waits */
} res_wait_quantiles;
/* Sorts a copy of the run's waits for resource r. */
res_wait_quantiles res_request_waits(const sim_request_stats *rs);

#endif
