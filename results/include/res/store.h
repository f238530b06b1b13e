/*
** The SQLite results store: runs, their iterations, every event of both
** streams, metrics and final snapshots, and the experiments (A/B, sweeps)
** whose arms the runs are, in one database file (WAL mode); another store's
** runs merge into it.
**
** The schema carries a version (PRAGMA user_version, with a history in
** schema_migrations); opening a database applies the missing forward
** migrations in order, one transaction each, and refuses a database newer
** than this binary.  Each iteration is written in one transaction, so a
** crashed writer leaves earlier iterations intact and never half of one; a
** run's status goes 'running' -> 'complete' in the transaction that writes
** its last iteration.  A run or an experiment records its writer process,
** so that one whose writer died reads (and is then stored) 'abandoned'.
** Functions return RES_OK or the error's code and fill
** err (when not NULL) with the code and a message naming the database file;
** they never exit.  res/store_reader.h reads what this writes.
*/
#ifndef RES_STORE_H
#define RES_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "res/error.h"
#include "res/store_common.h"
#include "res/summary.h"
#include "res/run_record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct res_store res_store;

typedef enum res_store_open_flags {
    RES_STORE_OPEN_EXISTING = 0, /* the file must exist */
    RES_STORE_OPEN_CREATE = 1    /* create the file (and its directory) if missing */
} res_store_open_flags;

/* Opens path for writing and migrates it to RES_STORE_SCHEMA_VERSION.
** Fails with RES_ENOTFOUND (no file, without RES_STORE_OPEN_CREATE),
** RES_EFOREIGN (a database another program owns: one with tables but no
** schema version, or a version but no admitsim tables; an empty file or
** database gets the schema), RES_ETOONEW, RES_ENOMEM or RES_ESTORE (SQLite,
** a read-only file or directory); then *out is NULL. */
res_status res_store_open(const char *path, int flags, res_store **out, res_error *err);
/* Like res_store_open but migrates only up to target_version (tests use it
** to build an old database).  A store below the latest version is read-only
** for the write functions. */
res_status res_store_open_version(const char *path, int flags, int target_version, res_store **out,
                                  res_error *err);
void res_store_close(res_store *s);

int res_store_schema_version(const res_store *s);
/* The schema version the database had when opened, before migrating (0 for
** a new one). */
int res_store_found_version(const res_store *s);

typedef struct res_store_run_info {
    const char *scenario_id;
    int64_t scenario_version;
    const char *scenario_file;
    const char *policy;
    uint64_t seed; /* stored as a 64-bit signed integer (two's complement) */
    uint64_t iterations;
    const char *command_line; /* may be NULL */
    /* A run of an experiment (schema 6): its id (0: none), the arm it runs
    ** (NULL: none) and its parameters, a JSON object of the arm's overrides
    ** or of the sweep point's values (NULL: none). */
    int64_t experiment_id;
    const char *arm;
    const char *parameters;
} res_store_run_info;

/* Inserts the runs row (status 'running', created_at now, UTC).  Fails
** with RES_ENOTFOUND for an experiment that is not stored, RES_EINVAL for
** parameters that are not a JSON object. */
res_status res_store_begin_run(res_store *s, const res_store_run_info *info, int64_t *run_id,
                               res_error *err);

/* Writes iteration run->iteration of run_id in one transaction: the
** iterations row (event_count: the events the run made, stored or not),
** the events res_store_keep_events asks for, the metrics, the two final
** snapshots, the task timelines and the capacity plan; the run becomes
** 'complete' once all its iterations are stored.  The run must keep the
** events asked for (res_run_record.kept).  On error nothing is written. */
res_status res_store_write_iteration(res_store *s, int64_t run_id, const res_run_record *run,
                                     const res_summary *summary, res_error *err);

/* Which events res_store_write_iteration stores: every event of both
** streams (RES_KEEP_ALL_EVENTS, what a store does unless told), only the
** notable ones (RES_KEEP_NOTABLE_EVENTS: those not of the thirteen
** lifecycle kinds, whose times are the task_timelines columns; what
** `admitsim run` stores by default) or none. */
void res_store_keep_events(res_store *s, res_event_keep keep);

/* Sets a run's status (e.g. 'failed'), retrying a transaction that meets a
** busy database; RES_ENOTFOUND when there is no such run. */
res_status res_store_set_run_status(res_store *s, int64_t run_id, const char *status,
                                    res_error *err);

/* ---- experiments (SPEC §10) ----------------------------------------------- */

typedef enum res_experiment_kind {
    RES_EXPERIMENT_AB,    /* a baseline and a candidate arm, paired by seed */
    RES_EXPERIMENT_SWEEP, /* points of a parameter space, each over the seeds */
    RES_EXPERIMENT_SEARCH /* a capacity search: probes of one parameter (schema 7) */
} res_experiment_kind;
/* Its name in the experiments table ("ab", "sweep", "search"). */
const char *res_experiment_kind_name(res_experiment_kind kind);

typedef struct res_store_experiment_info {
    res_experiment_kind kind;
    const char *scenario_id;
    const char *scenario_file; /* may be NULL */
    const char *name;          /* free text, e.g. "strict vs bounded"; may be NULL */
    const char *baseline_arm;  /* may be NULL */
    const char *candidate_arm; /* NULL for a sweep */
    uint64_t seeds;            /* seeds per arm or point */
    const char *command_line;  /* may be NULL */
} res_store_experiment_info;

/* Inserts the experiments row (status 'running', created_at now, this
** process as its writer); its runs then name it in res_store_run_info. */
res_status res_store_begin_experiment(res_store *s, const res_store_experiment_info *info,
                                      int64_t *experiment_id, res_error *err);

/* Ends an experiment: its status ('complete' or 'failed'), finished_at now
** and its verdict (result_json: JSON text, or NULL), in one transaction.
** RES_ENOTFOUND when there is no such experiment, RES_EINVAL for a
** result that is not JSON. */
res_status res_store_finish_experiment(res_store *s, int64_t experiment_id, const char *status,
                                       const char *result_json, res_error *err);

/* What res_store_merge copied. */
typedef struct res_store_merge_result {
    uint64_t runs;                     /* runs copied */
    uint64_t skipped;                  /* runs dst already held (merged before) */
    int64_t first_run_id, last_run_id; /* the new ids in dst of the runs copied (0 when none) */
} res_store_merge_result;

/* Copies every run of the results database at src_path (a sweep's shard,
** say) into dst under new run ids, with its iterations, events, metrics,
** snapshots, task timelines and capacity plans, each run in one
** transaction; runs keep their arm and parameters and belong to dst's
** experiment experiment_id (0: to none).  Idempotent: a run is known by
** where it was first written (its source: that store's identity and its
** run id there, kept through any number of merges), and a run dst already
** holds (merged before, or first written in dst) is skipped, counted in
** out->skipped.  src is only read and must be at this build's schema
** version (RES_ETOOOLD otherwise: `admitsim migrate`) and have no run
** still running (RES_EINVAL: merge a shard once it is finished); its runs'
** status is kept ('abandoned' for one whose writer died).  RES_ENOTFOUND
** when src or the experiment does not exist.  On failure the runs copied
** before stay, and out says how many. */
res_status res_store_merge(res_store *dst, const char *src_path, int64_t experiment_id,
                           res_store_merge_result *out, res_error *err);

/* Concurrent writers.  Every write (a run, an iteration, a status) is a
** transaction that first takes the database's write lock; while another
** writer holds it, the write waits as long as it takes (it never fails with
** "database is locked"), and fn, when set, is called about every ten
** seconds of a wait with the seconds waited so far. */
typedef void (*res_store_wait_fn)(void *ctx, double waited_seconds);
void res_store_on_lock_wait(res_store *s, res_store_wait_fn fn, void *ctx);

/* The waits for the write lock so far: how many transactions waited, for
** how long in all and at most. */
typedef struct res_store_lock_waits {
    uint64_t count;
    double total_seconds, longest_seconds;
} res_store_lock_waits;
res_store_lock_waits res_store_lock_wait_stats(const res_store *s);

#ifdef __cplusplus
}
#endif

#endif
