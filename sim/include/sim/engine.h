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
#include "admit/scheduler.h"
#include "sim/scenario.h"

typedef struct sim_run_options {
    sim_policy_kind policy;
    bool policy_set; /* false: the scenario's default policy */
    uint64_t seed;
    uint32_t iteration;
    bool capture_events; /* keep every event in sim_run.events */
} sim_run_options;

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
    uint32_t *column_group; /* [column] */
    uint64_t *column_tasks; /* [column] */
    uint64_t *output_hash;  /* [column]: completed values in task order */
    uint64_t output_hash_all;
    char diagnostics[8][256];
    uint32_t diagnostic_count;
    double cpu_seconds; /* host-dependent */
} sim_run;

sim_run *sim_run_execute(const sim_scenario *sc, const sim_run_options *opt, sim_error *err);
void sim_run_free(sim_run *r);

#endif
