/*
** Live runs of a run configuration: the run pipeline's environment
** (res/pipeline.h) on a real clock.
**
** Each iteration gets a fresh libuv loop, a live loop at the run's time
** scale (live/loop.h), the runtime seam (live/runtime.h), an HTTP provider
** (live/http_provider.h), and the core objects assembled from the
** configuration on them (run/assembly.h).  Workers walk their column's
** request program with the simulator's walker (run/program.h): local steps
** are loop timers of the workload's duration, calls go through the model
** executor, and a failed call is retried after max(backoff, Retry-After)
** up to the column's retry.max_attempts, then the task fails retryably.  Both event streams
** are captured into a res_run_record with mode "live", its times on the
** run's clock (real time divided by the time scale).
**
** What the tasks do (local durations, call counts, outcomes) comes from a
** workload, and where each request resource's calls go from the caller's
** endpoint hook; the runner knows no scenario file and no simulator.
** With catch_signals, SIGINT and SIGTERM cancel the running iteration
** (every lease released through the scheduler's cancel path); the pipeline
** then stops and stores the run as cancelled (is_interrupted).
*/
#ifndef LIVE_RUNNER_H
#define LIVE_RUNNER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "admit/runtime.h"
#include "admit/tracker.h"
#include "live/http_provider.h"
#include "res/error.h"
#include "res/pipeline.h"
#include "run/config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct live_workload {
    void *ctx;
    /* Before iteration `iteration` runs; its tasks exist.  False: out of memory. */
    bool (*begin)(void *ctx, admit_tracker *tracker, uint64_t seed, uint32_t iteration);
    /* One execution of task t (index task_index, attempt 1 first): per step
    ** of its column's program, a local step's duration in clock ns or a
    ** call step's call count, into plan[RUN_MAX_STEPS]; returns its outcome. */
    admit_worker_outcome (*plan)(void *ctx, const admit_task *t, size_t task_index,
                                 uint32_t attempt, int64_t *plan);
    /* [column] seeds of the output hashes (res_run_record_hash_outputs). */
    const uint64_t *(*column_seeds)(void *ctx);
    void (*end)(void *ctx);
} live_workload;

typedef struct live_runner_config {
    const run_config *config;
    run_policy_kind policy;
    uint64_t seed;
    double time_scale; /* real seconds per clock second; 0: 1 */
    live_workload workload;
    /* The interning order of request resources (run_hooks' endpoints). */
    const uint32_t *endpoint_models;
    const admit_request_domain *endpoint_domains;
    uint32_t endpoint_count;
    void *ctx; /* for the hooks below */
    /* Where calls of request resource `resource` (provider, model id,
    ** domain) go in this iteration. */
    bool (*endpoint)(void *ctx, uint32_t iteration, uint32_t resource, const char *provider,
                     const char *model, admit_request_domain domain, live_http_endpoint *out,
                     res_error *err);
    /* Optional: around each iteration (start and stop a mock, say). */
    bool (*before_iteration)(void *ctx, uint32_t iteration, res_error *err);
    void (*after_iteration)(void *ctx, uint32_t iteration);
    /* Optional: every attempt's HTTP report. */
    void (*on_report)(void *ctx, uint32_t iteration, const live_http_attempt_report *r);
    /* Optional: the record's environment JSON (new reference). */
    json_t *(*environment_json)(void *ctx);
    bool catch_signals;
} live_runner_config;

typedef struct live_runner {
    live_runner_config cfg;
    bool interrupted; /* a signal cancelled an iteration */
    /* Which events an iteration's record keeps, and whether it builds its
    ** summary as it runs (res/event_capture.h); zero: every event, no
    ** summary (res_summary_compute).  The environment's keep_events sets
    ** them to what the pipeline's outputs need. */
    res_event_keep keep;
    bool summarize;
} live_runner;

res_environment live_runner_environment(live_runner *r);
/* One iteration's record, or NULL with err set (RES_ERUN). */
res_run_record *live_runner_iteration(live_runner *r, uint32_t iteration, res_error *err);

#ifdef __cplusplus
}
#endif

#endif
