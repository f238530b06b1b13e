/*
** A mock OpenAI-compatible provider: a scenario's simulated providers
** (sim/provider.h, the same answering rules and random streams) served over
** HTTP in real time by libmicrohttpd, bound to 127.0.0.1 only.
**
** Each scenario "providers" entry is an endpoint: POST
** [/<provider>]/v1/chat/completions, /v1/embeddings or
** /v1/images/generations with a JSON body naming the model (its id, or an
** alias), or GET [/<provider>]/v1/models for healthcheck.  A call is
** decided by sim_providers_begin() at the mock's clock and answered after
** the decided duration, on the mock's own loop (live/loop.h):
**   success          200 with a chat completion (or embedding, image) and usage;
**   provider_failure 500 with a JSON error;
**   rate_limited     429 with `Retry-After` (whole seconds, rounded up) and
**                    `retry-after-ms` (exact), when the provider has one;
**   provider_timeout no answer for the timeout, then 504 after as long again
**                    (a client whose deadline is the timeout gives up first).
** The mock's clock starts at its first request and runs at the time scale:
** with --time-scale F every duration, window and Retry-After is F times its
** scenario value in real time.  Unknown paths or models get 404.
**
** Faults for tests (live_mock_set_fault) replace the simulated answer of
** every request while set.
**
** The mock runs on a thread of its own: live_mock_start() returns once it
** listens, live_mock_stop() stops and joins it.
*/
#ifndef LIVE_MOCK_H
#define LIVE_MOCK_H

#include <stdint.h>

#include "admit/error.h"
#include "sim/scenario.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum live_mock_fault {
    LIVE_MOCK_FAULT_NONE = 0,
    LIVE_MOCK_FAULT_RETRY_AFTER_MS,      /* 429, retry-after-ms: 250 (and Retry-After: 1) */
    LIVE_MOCK_FAULT_RETRY_AFTER_SECONDS, /* 429, Retry-After: 2 */
    LIVE_MOCK_FAULT_RETRY_AFTER_DATE,    /* 429, Retry-After: an HTTP-date 3 s ahead */
    LIVE_MOCK_FAULT_RATE_LIMIT_BARE,     /* 429 without Retry-After */
    LIVE_MOCK_FAULT_SERVER_ERROR,        /* 503 */
    LIVE_MOCK_FAULT_GARBAGE,             /* 200, a body that is not JSON */
    LIVE_MOCK_FAULT_OVERSIZED,           /* 200, a 2 MiB body */
    LIVE_MOCK_FAULT_SLOW_BODY,           /* 200, headers and a first byte, then 5 s of nothing */
    LIVE_MOCK_FAULT_DROP                 /* the connection closed without an answer */
} live_mock_fault;

typedef struct live_mock_options {
    uint16_t port;     /* 0: any free port */
    double time_scale; /* 0: 1 */
    uint64_t seed;     /* the providers' streams, as the simulator's (seed, iteration) */
    uint32_t iteration;
} live_mock_options;

typedef struct live_mock live_mock;

/* The scenario must outlive the mock.  NULL with err set (the port is
** taken, out of memory, ...). */
live_mock *live_mock_start(const sim_scenario *sc, const live_mock_options *opt, admit_error *err);
void live_mock_stop(live_mock *m);
uint16_t live_mock_port(const live_mock *m);
void live_mock_set_fault(live_mock *m, live_mock_fault fault);
/* Requests answered so far, and how many as 429. */
uint64_t live_mock_requests(const live_mock *m);
uint64_t live_mock_rate_limited(const live_mock *m);
/* Requests that carried "Authorization: Bearer <something>" (the value is
** never kept). */
uint64_t live_mock_authorized(const live_mock *m);
/* Requests received whose answer is not due yet. */
int live_mock_waiting(const live_mock *m);

#ifdef __cplusplus
}
#endif

#endif
