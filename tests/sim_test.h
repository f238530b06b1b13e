/* Shared by the simulator-level tests: load or parse a scenario (failing
** the test with the loader's message), run it with every event captured,
** and render a run's artifact without the host-dependent part. */
#ifndef ADMIT_TESTS_SIM_TEST_H
#define ADMIT_TESTS_SIM_TEST_H

#include <stdio.h>

#include "res/artifact.h"
#include "res/summary.h"
#include "sim/engine.h"

static inline sim_scenario *load(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ADMIT_SCENARIO_DIR, name);
    sim_error err;
    sim_scenario *sc = sim_scenario_load(path, &err);
    if (!sc) fail_msg("%s", err.message);
    return sc;
}

static inline sim_scenario *parse(const char *text) {
    sim_error err;
    sim_scenario *sc = sim_scenario_parse(text, "inline.json", &err);
    if (!sc) fail_msg("%s", err.message);
    return sc;
}

static inline res_run_record *run_iteration(const sim_scenario *sc, run_policy_kind policy,
                                            uint64_t seed, uint32_t iteration) {
    sim_run_options o = {.policy = policy,
                         .policy_set = true,
                         .seed = seed,
                         .iteration = iteration,
                         .capture_events = true};
    sim_error err;
    res_run_record *r = sim_run_execute(sc, &o, &err);
    if (!r) fail_msg("%s", err.message);
    return r;
}

static inline char *artifact_without_host(res_run_record *r) {
    res_summary *s = res_summary_compute(r);
    json_t *art = res_artifact_build(&r, &s, 1, NULL);
    json_object_del(art, "host");
    char *text = json_dumps(art, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(art);
    res_summary_free(s);
    return text;
}

#endif
