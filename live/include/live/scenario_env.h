/*
** Live runs of a scenario file: what `admitsim live` and `admitsim
** fidelity` run (live/runner.h over a sim_scenario).
**
** The workload (local durations, call counts, outcomes) is the scenario's,
** drawn exactly as the simulator draws it (sim/workload.h), so a live run
** and a simulated run of one seed do the same work.  Calls go, in this
** order of preference, to
**   --endpoint URL: every request resource's calls to that base URL;
**   the models' own base_url, when every model the run calls has one
**     (API key from each model's api_key_env);
**   otherwise a mock provider (live/mock.h) serving the scenario's
**     simulated providers, started for each iteration with that
**     iteration's streams and stopped after it, at the run's time scale;
**     its base URL names the provider: http://127.0.0.1:PORT/<provider>/v1.
** A call's total deadline is the model's timeout_seconds, else (against the
** mock) its simulated provider's timeout_seconds, else 60 s; its connect
** deadline the model's connect_timeout_seconds, else 10 s (all clock
** seconds: scaled with the run).
**
** Every attempt's HTTP report is kept (attempt id, resource, HTTP status,
** outcome, detail, tokens) for the attempts CSV and the token totals.
*/
#ifndef LIVE_SCENARIO_ENV_H
#define LIVE_SCENARIO_ENV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "live/mock.h"
#include "live/runner.h"
#include "sim/scenario.h"
#include "sim/workload.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct live_attempt_row {
    uint32_t iteration;
    live_http_attempt_report r;
} live_attempt_row;

typedef struct live_scenario_options {
    const sim_scenario *scenario;
    run_policy_kind policy;
    uint64_t seed;
    double time_scale;    /* 0: 1 */
    const char *endpoint; /* NULL: models' base_url, else the mock */
    bool catch_signals;
    uint16_t mock_port; /* 0: any */
} live_scenario_options;

typedef struct live_scenario_run {
    live_scenario_options opt;
    live_runner runner;
    sim_workload *workload;
    live_mock *mock;
    bool use_mock;
    uint32_t models[SIM_MAX_PROVIDERS];
    admit_request_domain domains[SIM_MAX_PROVIDERS];
    char keys[RUN_MAX_MODELS * 4][ADMIT_REQUEST_KEY_MAX]; /* [request resource] */
    uint32_t key_count;
    live_attempt_row *attempts;
    size_t attempt_count, attempt_cap;
    bool attempts_oom;
} live_scenario_run;

/* Checks the options (every called model reachable, API keys present);
** false with err set. */
bool live_scenario_init(live_scenario_run *s, const live_scenario_options *opt, res_error *err);
void live_scenario_free(live_scenario_run *s);
res_environment live_scenario_environment(live_scenario_run *s);

/* The attempts as CSV (header line first). */
bool live_scenario_write_attempts_csv(const live_scenario_run *s, FILE *f);

#ifdef __cplusplus
}
#endif

#endif
