/*
** An OpenAI-compatible model provider over HTTP: the model executor's
** provider boundary (admit/model_executor.h) on libcurl's multi interface,
** driven by a live loop (curl_multi_socket_action from libuv poll and timer
** handles; no thread of its own).
**
** Each request resource that the run calls is bound to an endpoint: a base
** URL (".../v1"), the model id sent in the body, the domain's path
** (chat -> /chat/completions, embedding -> /embeddings, image ->
** /images/generations, healthcheck -> /models), an optional API key, a
** connect deadline and a total deadline (clock durations), and a bound on
** the response size.  One call is one POST (GET for healthcheck) with a
** small fixed body; connections are reused (one multi handle, keep-alive).
**
** Outcomes (SPEC §10, and README "Semantics beyond the specification"):
**   2xx with a JSON object body of the domain's shape   -> success
**     (usage.prompt_tokens / completion_tokens / total_tokens recorded
**     when present);
**   429 -> rate_limited, with the cooldown from `retry-after-ms`
**     (milliseconds) or else `Retry-After` (delay-seconds, possibly
**     fractional, or an HTTP-date), converted to the clock; none or
**     unparsable: 0 (request admission's cooldown applies);
**   5xx, any other status, a body that is not the JSON expected, a body
**     over the size bound, a refused or dropped connection -> provider_failure;
**   the connect or total deadline passing -> provider_timeout;
**   cancel() -> the transfer is removed, local_cancelled.
**
** Secrets: the API key is copied into the Authorization header of the
** endpoint's requests and nowhere else: never printed, logged or returned
** (the attempt reports below hold no header).  live_http_api_key_from_env()
** reads it from the environment variable a configuration names.
**
** Single-threaded: the loop's thread makes every call.
*/
#ifndef LIVE_HTTP_PROVIDER_H
#define LIVE_HTTP_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admit/model_executor.h"
#include "admit/request_resource.h"
#include "live/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LIVE_URL_MAX                 1024
#define LIVE_KEY_MAX                 512
#define LIVE_DEFAULT_TIMEOUT_NS      (INT64_C(60) * 1000000000)
#define LIVE_DEFAULT_CONNECT_NS      (INT64_C(10) * 1000000000)
#define LIVE_DEFAULT_MAX_RESPONSE    (1u << 20)
#define LIVE_MAX_RETRY_AFTER_SECONDS 86400.0

typedef struct live_http_endpoint {
    char base_url[LIVE_URL_MAX]; /* e.g. http://127.0.0.1:8080/v1 (no trailing /) */
    char model[128];             /* the "model" of the body */
    admit_request_domain domain;
    char api_key[LIVE_KEY_MAX]; /* "": no Authorization header */
    int64_t timeout_ns;         /* total deadline (clock); <= 0: LIVE_DEFAULT_TIMEOUT_NS */
    int64_t connect_timeout_ns; /* <= 0: LIVE_DEFAULT_CONNECT_NS */
    size_t max_response_bytes;  /* 0: LIVE_DEFAULT_MAX_RESPONSE */
} live_http_endpoint;

/* What one attempt's HTTP exchange came to (no body, no header). */
typedef struct live_http_attempt_report {
    uint64_t attempt_id;
    uint32_t resource;
    long http_status;              /* 0: no response */
    int curl_code;                 /* CURLE_OK = 0 */
    admit_request_outcome outcome; /* as reported to the executor */
    const char *detail;            /* "ok", "http_status", "malformed_body", "response_too_large",
                                      "timeout", "connection", "cancelled" */
    int64_t started_ns, ended_ns;  /* clock */
    int64_t prompt_tokens, completion_tokens, total_tokens; /* -1: not in the response */
} live_http_attempt_report;

typedef struct live_http live_http;

/* NULL with err set (curl could not be initialised, out of memory). */
live_http *live_http_create(live_loop *loop, admit_error *err);
/* Aborts transfers still running (without reporting them) and frees. */
void live_http_destroy(live_http *h);

/* Binds request resource `resource` to an endpoint (copied).  ADMIT_EINVAL
** for a URL that is not http(s)://. */
admit_status live_http_set_endpoint(live_http *h, uint32_t resource, const live_http_endpoint *ep,
                                    admit_error *err);
/* The executor to report to (set before the first call). */
void live_http_bind(live_http *h, admit_model_executor *exec);
/* Called for every finished attempt, before the executor hears of it. */
void live_http_on_report(live_http *h, void (*fn)(void *ctx, const live_http_attempt_report *r),
                         void *ctx);
/* The provider for admit_model_executor_create / run hooks (ctx: h). */
admit_model_provider live_http_provider(live_http *h);
/* Transfers in flight. */
uint32_t live_http_in_flight(const live_http *h);

/* Copies the value of environment variable `name` into key (size bytes).
** False when it is unset, empty or too long; err then says which (naming
** the variable, never a value). */
bool live_http_api_key_from_env(const char *name, char *key, size_t size, admit_error *err);

/* Retry-After parsing, exposed for tests: the delay in seconds that a
** `retry-after-ms` value (ms, may be NULL) or `Retry-After` value (may be
** NULL) asks for, relative to now_unix (for an HTTP-date); -1: none. */
double live_http_retry_after_seconds(const char *retry_after_ms, const char *retry_after,
                                     double now_unix);

#ifdef __cplusplus
}
#endif

#endif
