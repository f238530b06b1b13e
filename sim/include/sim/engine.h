/*
** One simulated run: the real core scheduler driven on the virtual clock.
**
** The engine implements the core runtime seam (now / wake_at / spawn /
** cancel) on sim_clock, draws every task's duration and outcome from its
** column's GSL stream (first attempts are drawn up front in task order, so
** A/B arms see identical draws per task), captures the scheduler event
** stream, and reports the final ledger so callers can prove zero leases.
*/
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admit/events.h"
#include "admit/model_executor.h"
#include "admit/request_admission.h"
#include "admit/scheduler.h"
#include "sim/scenario.h"

typedef struct sim_run_options {
    sim_policy_kind policy;
    bool policy_set; /* false: the scenario's default policy */
    uint64_t seed;
    uint32_t iteration;
    bool capture_events; /* keep every event in sim_run.events */
} sim_run_options;

/* Figures for one request resource (provider/model/domain). */
typedef struct sim_request_stats {
    char key[ADMIT_REQUEST_KEY_MAX];
    char provider[ADMIT_NAME_MAX];
    uint64_t attempts;     /* executor attempts */
    uint64_t leases;       /* request leases acquired */
    uint64_t not_admitted; /* attempts that never held a lease */
    uint64_t outcomes[ADMIT_REQ_OUTCOME_COUNT];
    int64_t *waits; /* wait of every admitted attempt, ns, in admission order */
    size_t wait_count;
    double in_flight_mean; /* time-weighted over the run */
    uint32_t in_flight_max;
    uint32_t initial_limit;
    int64_t cooldown_ns; /* time cooling down within the run */
    /* In-flight / effective max while another provider cools down, up to
    ** this resource's last lease; < 0 when no other provider cooled then. */
    double utilization_while_others_cooling;
    int64_t others_cooling_ns;
    int64_t (*limit_points)[2]; /* (time ns, limit): the start and every change */
    size_t limit_point_count;
    admit_request_resource_snapshot final;
} sim_request_stats;

typedef struct sim_run {
    const sim_scenario *scenario;
    sim_policy_kind policy;
    uint64_t seed;
    uint32_t iteration;
    admit_job_status status;
    int64_t wall_ns;
    admit_event *events;
    size_t event_count;
    admit_scheduler_stats stats;
    admit_task_admission_stats admission_stats;
    uint64_t final_task_leases;
    uint64_t final_queued;
    uint32_t resource_count;
    char (*resource_names)[2 * ADMIT_NAME_MAX];
    uint32_t *resource_limits;
    uint32_t *final_leased;
    uint32_t group_count;
    admit_group_spec *groups;
    uint32_t *column_group;                   /* [column] */
    admit_resource_request *column_resources; /* [column]: the resolved task resource request */
    uint64_t *column_tasks;                   /* [column] */
    uint64_t *output_hash;                    /* [column]: completed values in task order */
    uint64_t output_hash_all;
    char diagnostics[8][256];
    uint32_t diagnostic_count;
    double cpu_seconds; /* host-dependent */
    /* request stage; request_events holds the request stream when captured */
    admit_event *request_events;
    size_t request_event_count;
    uint32_t request_resource_count;
    sim_request_stats *request;
    uint32_t provider_count;
    char (*provider_names)[ADMIT_NAME_MAX];
    double *provider_busy_fraction;
    admit_request_admission_stats request_admission_stats;
    admit_model_executor_stats executor_stats;
    uint64_t final_request_leases;
    uint64_t final_request_waiters;
    uint64_t attempt_order_violations; /* attempts whose timestamps go backwards: must be 0 */
    /* observed maxima for the capacity plan */
    uint32_t *max_leased;          /* [scheduler resource] */
    uint32_t *max_queued_by_group; /* [group] */
} sim_run;

sim_run *sim_run_execute(const sim_scenario *sc, const sim_run_options *opt, sim_error *err);
void sim_run_free(sim_run *r);

#endif
