/*
** Request-stage figures of one run, computed from its run record: per
** request resource (provider/model/domain) and per provider name.
**
** One pass over the request stream (each stream in its own sequence order):
**   attempts        executor attempts that ended: admitted ones at their
**                   request_lease_released, the others at their
**                   request_wait_timeout, request_wait_cancelled or
**                   request_acquire_denied (attempt id != 0)
**   leases          request_lease_acquired events
**   not_admitted    attempts that ended without a lease
**   outcomes        admitted attempts by the outcome their release carries
**   waits           request_wait_completed - request_wait_started of each
**                   admitted attempt, sorted ascending
**   in_flight       the step function the lease events' values give;
**                   in_flight_mean is its time-weighted mean over [0, wall]
**   limit_points    (0, the limit at the start), then every
**                   request_limit_decreased / _increased (time, new limit)
**   cooldown        the union of [t, t + value) over request_rate_limited
**                   (value: how long the resource then cools), within the run
**   utilization_while_others_cooling
**                   this resource's in-flight / effective max, averaged over
**                   the time before its last lease during which a resource
**                   of another provider cools; < 0 when there is none
**   busy_fraction   per provider name: the share of [0, wall] with at least
**                   one model call in flight (model_request_started ..
**                   model_request_completed) on any of its resources
** A share of the wall time (in_flight_mean, busy_fraction) is NaN, absent,
** when the run took no time: 0/0 is no figure.
**   attempt_order_violations
**                   attempts whose own timestamps go backwards: wait start,
**                   wait end, call start, call end, release (must be 0)
** Provider names are listed in order of first appearance among the request
** resources.
*/
#ifndef RES_REQUEST_STATS_H
#define RES_REQUEST_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "res/run_record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct res_request_stats {
    uint64_t attempts;
    uint64_t leases;
    uint64_t not_admitted;
    uint64_t outcomes[ADMIT_REQ_OUTCOME_COUNT];
    int64_t *waits; /* ns, one per admitted attempt, ascending */
    size_t wait_count;
    double in_flight_mean; /* NaN (absent) when the wall time is 0 */
    uint32_t in_flight_max;
    int64_t cooldown_ns;
    double utilization_while_others_cooling; /* < 0: no other provider cooled */
    int64_t others_cooling_ns;
    int64_t (*limit_points)[2]; /* (time ns, limit) */
    size_t limit_point_count;
} res_request_stats;

typedef struct res_request_report {
    uint32_t resource_count; /* the record's request resources */
    res_request_stats *resources;
    uint32_t provider_count;
    char (*provider_names)[ADMIT_NAME_MAX];
    double *provider_busy_fraction; /* NaN (absent) when the wall time is 0 */
    uint64_t attempt_order_violations;
} res_request_report;

/* NULL on out of memory. */
res_request_report *res_request_report_compute(const res_run_record *r);

/* The same report built while the run goes: create once the record's
** shape is known (its request resources and their starting snapshots),
** one _event per request event in sequence order (none is kept; false
** once memory ran out), and finish once the record holds the end (wall
** time, final snapshots); r must live until then.  finish (NULL on out of
** memory) and free consume the sweep.  res_request_report_compute is this
** sweep fed from the record's request stream. */
typedef struct res_request_sweep res_request_sweep;
res_request_sweep *res_request_sweep_create(const res_run_record *r);
bool res_request_sweep_event(res_request_sweep *rs, const admit_event *ev);
res_request_report *res_request_sweep_finish(res_request_sweep *rs);
void res_request_sweep_free(res_request_sweep *rs);
void res_request_report_free(res_request_report *rep);

#ifdef __cplusplus
}
#endif

#endif
