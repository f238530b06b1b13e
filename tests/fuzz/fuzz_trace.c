/*
** libFuzzer target: the latency trace reader, through the public loader.
**
** The input is written to trace.csv in the scratch directory; a fixed
** scenario beside it (written once) draws a column's task durations and a
** simulated provider's latencies from that file ({"dist": "empirical",
** "file": "trace.csv"}), and is loaded with sim_scenario_load().  Then:
**   - a trace that fails fails with a message starting with the scenario's
**     name and naming the trace file (scenarios/README.md: "Errors name
**     the CSV file and line");
**   - a trace that loads holds 1 to 10,000,000 samples, each finite and
**     >= 0, the same for both uses (draws are clamped at 1e9 s);
**   - the scenario (20 tasks, 10 model calls) runs once and is summarised
**     (fuzz_common.h says what must hold).
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"

static char scenario_path[4200], trace_path[4200];

static const char scenario[] =
    "{\"schema\": 1, \"scenario_id\": \"fuzz_trace\", \"scenario_version\": 1,\n"
    " \"records\": 10, \"capacity\": {\"submission\": 3, \"llm_wait\": 2},\n"
    " \"models\": [{\"alias\": \"m\", \"provider\": \"p\", \"model\": \"x\",\n"
    "             \"max_parallel_requests\": 2}],\n"
    " \"providers\": [{\"model\": \"m\", \"max_concurrent\": 1, \"retry_after_seconds\": 0.5,\n"
    "                \"latency\": {\"dist\": \"empirical\", \"file\": \"trace.csv\"}}],\n"
    " \"columns\": [\n"
    "  {\"name\": \"local\", \"duration\": {\"dist\": \"empirical\", \"file\": \"trace.csv\"}},\n"
    "  {\"name\": \"call\", \"depends_on\": [\"local\"],\n"
    "   \"program\": [{\"call\": {\"model\": \"m\"}}],\n"
    "   \"scheduling\": {\"kind\": \"model\", \"model\": \"m\"}}]}\n";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_scratch_path("trace.csv", trace_path, sizeof trace_path);
    fuzz_scratch_path("trace_scenario.json", scenario_path, sizeof scenario_path);
    fuzz_write_file(scenario_path, (const uint8_t *)scenario, sizeof scenario - 1);
    return 0;
}

static void check_samples(const sim_dist *d, const sim_dist *same) {
    FUZZ_CHECK(d->kind == SIM_DIST_EMPIRICAL, "not empirical: %d", (int)d->kind);
    FUZZ_CHECK(d->sample_count >= 1 && d->sample_count <= 10000000, "%u samples", d->sample_count);
    FUZZ_CHECK(same->sample_count == d->sample_count, "%u and %u samples", d->sample_count,
               same->sample_count);
    for (uint32_t i = 0; i < d->sample_count; i++) {
        double v = d->samples[i];
        FUZZ_CHECK(isfinite(v) && v >= 0, "sample %u is %g", i, v);
        FUZZ_CHECK(!memcmp(&v, &same->samples[i], sizeof v), "sample %u: %g and %g", i, v,
                   same->samples[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_write_file(trace_path, data, size);
    sim_error err = {0};
    sim_scenario *sc = sim_scenario_load(scenario_path, &err);
    if (!sc) {
        FUZZ_CHECK(err.code == SIM_EINVAL || err.code == SIM_EIO, "error code %d: %s",
                   (int)err.code, err.message);
        FUZZ_CHECK(fuzz_error_names(err.message, scenario_path), "error without the file: %s",
                   err.message);
        FUZZ_CHECK(strstr(err.message, trace_path) != NULL, "error without the trace: %s",
                   err.message);
        if (fuzz_is_verbose()) fprintf(stderr, "fuzz: not loaded: %s\n", err.message);
        return 0;
    }
    check_samples(&sc->env.columns[0].duration, &sc->env.providers[0].latency);
    FUZZ_CHECK(fuzz_run_checked(sc), "the trace scenario did not run");
    sim_scenario_free(sc);
    return 0;
}
