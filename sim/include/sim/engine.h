/*
** One simulated run: the real core scheduler driven on the virtual clock.
**
** The engine assembles the run's core objects from the scenario's
** configuration (run/assembly.h) on hooks of its own: the core runtime seam
** (now / wake_at / spawn / cancel) and request admission's timer on
** sim_clock, and simulated providers behind the model executor; workers
** walk their column's request program with run/program.h, its timers
** events on sim_clock.  It draws
** every task's duration and outcome from its column's GSL stream (first
** attempts are drawn up front in task order, so A/B arms see identical
** draws per task), captures both event streams, and fills a run record
** with the final ledgers, so callers can prove zero leases.
*/
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "res/pipeline.h"
#include "res/run_record.h"
#include "sim/scenario.h"

typedef struct sim_run_options {
    run_policy_kind policy;
    bool policy_set; /* false: the scenario's default policy */
    uint64_t seed;
    uint32_t iteration;
    bool capture_events; /* keep both event streams in the record */
} sim_run_options;

/* Runs one iteration and returns its record (res/run_record.h), whose
** `config` points into sc.  NULL with err set on failure. */
res_run_record *sim_run_execute(const sim_scenario *sc, const sim_run_options *opt, sim_error *err);

/* The simulator as the run pipeline's environment (res/pipeline.h):
** iteration i is sim_run_execute(scenario, options with iteration i, events
** captured). */
typedef struct sim_runner {
    const sim_scenario *scenario;
    sim_run_options options;
} sim_runner;
res_environment sim_runner_environment(sim_runner *runner);

#endif
