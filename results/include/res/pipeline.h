/*
** The run pipeline: N iterations of one run, each streamed as it finishes.
**
** SPEC §10: (run configuration, environment, seed, iteration) -> run record
** -> summary (correlated view, request figures) -> store, artifact,
** Markdown and CSVs.  res_pipeline_run() asks the environment (the
** simulator, a live runtime, a fake in a test) for iteration 0, 1, ...;
** summarises each record, writes it to every output that is open, hands it
** to the caller's on_iteration callback, and frees it before the next one,
** so memory does not grow with the iteration count.  Every iteration's
** final snapshots are checked: an iteration that ends holding task leases,
** request leases or request waiters makes the run fail (RES_ELEAK, naming
** the iterations) after everything is written, so the evidence is kept.
**
** Outputs: with a store, the run is inserted before iteration 0 and each
** iteration is committed as it finishes; the run is marked failed when the
** pipeline fails.  The environment is asked to keep only the events the
** outputs need (keep_events): every event for an artifact (its timeline)
** or a store keeping every event, the notable ones for a store keeping
** those, none otherwise; then memory does not grow with the run's events.  With an output
*directory, the artifact
** (<base>.json), the Markdown summary (<base>.md) and the CSVs
** (<base>-metrics.csv, <base>-tasks.csv) are streamed to temporary files
** and renamed into place as one set only when every iteration is in: a
** failed run leaves no file of its own and the earlier files at those
** names as they were (res_atomic_files_publish).  <base> is
** "<scenario>-<policy>-seed<N>", or "<scenario>-<arm>-seed<N>" for an
** explicit arm of the scenario.
*/
#ifndef RES_PIPELINE_H
#define RES_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "res/artifact.h"
#include "res/error.h"
#include "res/run_record.h"
#include "res/store.h"
#include "res/summary.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where runs happen.  run_iteration returns iteration `iteration`'s record
** (its events captured), or NULL with err set (code RES_ERUN). */
/* is_interrupted (may be NULL): asked after each iteration; true stops the
** run there: the iterations so far are stored, the run is marked
** 'cancelled' and no file is written (RES_EINTERRUPTED). */
/* keep_events (may be NULL): called once before iteration 0 with the
** events the outputs need (res_pipeline_run says which); an environment
** that keeps fewer than all builds each iteration's summary while it runs
** (res_run_record.summary).  Without it every event is kept and the
** summary is computed from them. */
typedef struct res_environment {
    void *ctx;
    res_run_record *(*run_iteration)(void *ctx, uint32_t iteration, res_error *err);
    bool (*is_interrupted)(void *ctx);
    void (*keep_events)(void *ctx, res_event_keep keep);
} res_environment;

typedef struct res_pipeline_result res_pipeline_result;

typedef struct res_pipeline_options {
    const run_config *config;
    run_policy_kind policy;
    uint64_t seed;
    uint32_t iterations; /* >= 1 */
    const char *db_path; /* NULL: no store */
    /* The store keeps the notable events only (false, the default:
    ** res_store_keep_events; the lifecycle events' times are the columns
    ** of task_timelines and request_attempts), or every event. */
    bool store_all_events;
    /* What the store records of the run (res/store.h): the experiment it
    ** belongs to (0: none), the arm it runs (NULL: none; a run of an arm
    ** outside an experiment names it too) and the arm's parameters (a JSON
    ** object, or NULL). */
    int64_t experiment_id;
    const char *arm;
    const char *parameters;
    const char *out_dir; /* NULL: no artifact, Markdown or CSV */
    const char *command_line;
    /* Called for every finished iteration, before its record is freed. */
    void (*on_iteration)(void *ctx, const res_run_record *r, const res_summary *s);
    /* Called before each iteration starts (progress). */
    void (*on_start)(void *ctx, uint32_t iteration, uint32_t iterations);
    /* Called about every ten seconds while a write waits for the store's
    ** lock (another writer holds it), with the seconds waited so far. */
    void (*on_lock_wait)(void *ctx, double waited_seconds);
    /* Called (may be NULL) once every output is complete (the files in
    ** place), before the store's run is final: false, with err set, fails
    ** the run, which the store then marks failed (`run --out -` copies the
    ** artifact to standard output here). */
    bool (*on_done)(void *ctx, const res_pipeline_result *out, res_error *err);
    void *ctx;
} res_pipeline_options;

struct res_pipeline_result {
    int64_t run_id; /* the stored run; 0 without a store */
    uint32_t iterations_done;
    uint32_t leaky_iterations; /* iterations that ended with leases or waiters */
    /* The files written (empty strings when none): artifact, Markdown,
    ** metrics CSV, task timelines CSV. */
    char files[4][4096];
    res_store_lock_waits lock_waits; /* how long writes waited for the store's lock */
};

/* RES_OK, or the first error (with its message in err).  *out is filled
** either way as far as the run got (run_id is set once the run is stored,
** even when it then fails). */
res_status res_pipeline_run(const res_pipeline_options *opt, const res_environment *env,
                            res_pipeline_result *out, res_error *err);

/* The events opt's outputs need from the environment (what keep_events
** is told): every one for an artifact's timeline or a store keeping every
** event, the notable ones for a store keeping those, else none. */
res_event_keep res_pipeline_events_needed(const res_pipeline_options *opt);

/* The base name of the output files into buf. */
void res_pipeline_base_name(const res_pipeline_options *opt, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
