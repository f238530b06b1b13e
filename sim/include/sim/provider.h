/*
** Simulated model providers: the servers behind request resources.
**
** One sim endpoint per scenario "providers" entry (provider/model + domain).
** A call that starts at time t on an endpoint is answered, in order:
**   outage window active                      -> rate_limited
**   server concurrency or requests-per-minute
**   (scripted capacity window wins) exceeded  -> rate_limited
**   u < timeout_probability                   -> provider_timeout after timeout
**   u < timeout + failure probability         -> provider_failure after latency
**   otherwise                                 -> success after latency
** Rate-limited answers take rate_limited_latency and carry the endpoint's
** Retry-After (or none); they do not occupy server capacity.  Latency is
** drawn from the endpoint's distribution, times any latency window's
** multiplier.  All draws come from the endpoint's own stream
** ("provider/<provider>/<model>/<domain>"), in call order.
**
** Requests per minute is a sliding 60 s window over accepted call starts.
*/
#ifndef SIM_PROVIDER_H
#define SIM_PROVIDER_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/request_admission.h"
#include "admit/request_resource.h"
#include "sim/scenario.h"

typedef struct sim_providers sim_providers;

typedef struct sim_call_plan {
    admit_request_outcome outcome;
    int64_t duration_ns; /* until the answer arrives */
    bool occupies;       /* counted against server capacity until sim_providers_end() */
} sim_call_plan;

/* rr maps request resource ids; every (model, domain) the scenario calls
** must have a providers entry (the loader checks).  NULL with err filled on
** failure. */
sim_providers *sim_providers_create(const sim_scenario *sc, const admit_request_resolver *rr,
                                    uint64_t seed, uint32_t iteration, sim_error *err);
void sim_providers_free(sim_providers *p);

/* Decides how the call on request resource `resource` starting at now ends. */
void sim_providers_begin(sim_providers *p, uint32_t resource, int64_t now_ns, sim_call_plan *out);
/* The call ended (or was cancelled) at now; plan is what begin returned. */
void sim_providers_end(sim_providers *p, uint32_t resource, int64_t now_ns,
                       const sim_call_plan *plan);

/* Server-side accounting, for tests and reports. */
/* Whether a call's latency so far (a draw times its latency windows'
** multiplier) passed SIM_DIST_MAX_SECONDS, the limit of one duration, and
** was cut to it: the first such call's endpoint and latency in seconds. */
bool sim_providers_over_limit(const sim_providers *p, uint32_t *resource, double *seconds);
uint32_t sim_providers_in_flight(const sim_providers *p, uint32_t resource);
uint64_t sim_providers_calls(const sim_providers *p, uint32_t resource);
uint64_t sim_providers_rate_limited(const sim_providers *p, uint32_t resource);

#endif
