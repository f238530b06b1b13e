/*
** The request stage in run output: per request resource figures (keyed
** "provider/model/domain"), per provider busy fractions and the final
** request snapshot, from a run record and its request report
** (res/request_stats.h).  Percentiles follow res/stats.h.
*/
#ifndef RES_REQUEST_REPORT_H
#define RES_REQUEST_REPORT_H

#include <jansson.h>

#include "res/request_stats.h"
#include "res/run_record.h"

/* {"provider/model/domain": {...}} in resource id order.  New reference. */
json_t *res_request_resources_json(const res_run_record *run, const res_request_report *rep);
/* {"provider": {"busy_fraction": x}}.  New reference. */
json_t *res_providers_json(const res_request_report *rep);
/* Leases, waiters and per resource ledger at the end.  New reference. */
json_t *res_final_request_snapshot_json(const res_run_record *run, const res_request_report *rep);

typedef struct res_wait_quantiles {
    double p50, p95, max, mean; /* seconds; NaN (absent) when there is no wait */
} res_wait_quantiles;
/* The figures over rs's waits (sorted by the report): no wait, no figure --
** a resource without an admitted attempt has NaN for each, which the
** outputs write as null, "-" or no row, never 0.  Allocates nothing. */
res_wait_quantiles res_request_waits(const res_request_stats *rs);

#endif
