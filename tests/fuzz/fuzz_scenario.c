/*
** libFuzzer target: a scenario file through the loader, then one run.
**
** The input is written to scenario.json in the scratch directory (beside
** trace.csv, a small latency trace that relative "file" keys of empirical
** distributions can name) and loaded with sim_scenario_load(), the loader
** `admitsim run` uses.  Then:
**   - a file that fails to load fails with a message starting with its
**     name (scenarios/README.md, Errors);
**   - a file that loads also loads as a run configuration alone
**     (run_config_load: the simulator's keys are a superset), with the
**     same task count, and describes its environment as JSON;
**   - a small one runs once and is summarised (fuzz_common.h says what
**     must hold).
*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"

static char scenario_path[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    static const char trace[] = "seconds\n0.25\n0.5\n# a comment\n\n1.5,extra\n0\n";
    char trace_path[4200];
    fuzz_scratch_path("trace.csv", trace_path, sizeof trace_path);
    fuzz_write_file(trace_path, (const uint8_t *)trace, sizeof trace - 1);
    fuzz_scratch_path("scenario.json", scenario_path, sizeof scenario_path);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_write_file(scenario_path, data, size);
    sim_error err = {0};
    sim_scenario *sc = sim_scenario_load(scenario_path, &err);
    if (!sc) {
        FUZZ_CHECK(err.code != SIM_OK, "no scenario and no error code");
        FUZZ_CHECK(fuzz_error_names(err.message, scenario_path), "error without the file: %s",
                   err.message);
        if (fuzz_is_verbose()) fprintf(stderr, "fuzz: not loaded: %s\n", err.message);
        return 0;
    }
    run_error rerr = {0};
    run_config *cfg = run_config_load(scenario_path, &rerr);
    FUZZ_CHECK(cfg != NULL, "the scenario loads but its run configuration does not: %s",
               rerr.message);
    FUZZ_CHECK(run_config_task_count(cfg) == run_config_task_count(&sc->config),
               "task counts differ: %llu and %llu", (unsigned long long)run_config_task_count(cfg),
               (unsigned long long)run_config_task_count(&sc->config));
    run_config_free(cfg);
    json_t *env = sim_scenario_environment_json(sc);
    FUZZ_CHECK(env != NULL, "sim_scenario_environment_json returned NULL");
    json_decref(env);
    fuzz_run_checked(sc);
    sim_scenario_free(sc);
    return 0;
}
