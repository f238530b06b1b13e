/*
** The run record: everything results/ knows about one iteration of a run.
**
** An environment (the simulator, a live runtime) fills one record per
** iteration; summaries, the correlated view, request statistics, the store,
** the artifact and the reports are computed from it and from nothing else,
** so they work alike whatever produced the run.  It holds the inputs (the
** run configuration, the policy, seed and iteration, and the environment's
** own description as JSON), the resolved shape of the run (task groups,
** each column's group and resource request, the scheduler resources and
** their limits, the request resources and their provider names), both event
** streams as captured, and the snapshots and counters read at the end.
**
** Ownership: a record owns every array it points to and its reference to
** `environment` (freed by res_run_record_free), but not `config`, which is
** borrowed and must outlive it.  Times are nanoseconds on the run's clock
** (virtual for the simulator), starting at 0.
*/
#ifndef RES_RUN_RECORD_H
#define RES_RUN_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admit/events.h"
#include "admit/model_executor.h"
#include "admit/request_admission.h"
#include "admit/request_resource.h"
#include "admit/scheduler.h"
#include "admit/task_admission.h"
#include "admit/tracker.h"
#include "res/event_log.h"
#include "run/assembly.h"
#include "run/config.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RES_RECORD_DIAGNOSTICS 8

struct res_spill;

/* Which events a run keeps in its record.  Every event is made and seen
** either way (the run's summary and correlated view can be built from them
** as they come, res/summary.h); only the kept ones are in the record. */
typedef enum res_event_keep {
    RES_KEEP_ALL_EVENTS = 0, /* both streams whole (an artifact's timeline, a full store) */
    RES_KEEP_NOTABLE_EVENTS, /* those not of the thirteen lifecycle kinds (res/event_names.h) */
    RES_KEEP_NO_EVENTS
} res_event_keep;

struct res_summary;

/* One request resource (provider/model/domain, in request resource id order). */
typedef struct res_request_resource {
    char key[ADMIT_REQUEST_KEY_MAX];
    char provider[ADMIT_NAME_MAX];
    admit_request_resource_snapshot initial; /* when the run started */
    admit_request_resource_snapshot final;   /* when it ended */
} res_request_resource;

typedef struct res_run_record {
    /* inputs */
    const run_config *config;
    json_t *environment; /* the environment's part of the inputs (its artifact keys); may be NULL */
    const char *mode;    /* "simulated" or "live" */
    run_policy_kind policy;
    uint64_t seed;
    uint32_t iteration;
    /* outcome */
    admit_job_status status;
    int64_t wall_ns;
    double cpu_seconds; /* host-dependent */
    char diagnostics[RES_RECORD_DIAGNOSTICS][256];
    uint32_t diagnostic_count;
    /* resolved shape */
    uint32_t group_count;
    admit_group_spec *groups;
    uint32_t *column_group;                   /* [column] */
    admit_resource_request *column_resources; /* [column] */
    uint32_t resource_count;
    char (*resource_names)[2 * ADMIT_NAME_MAX];
    uint32_t *resource_limits;
    uint32_t request_resource_count;
    res_request_resource *request;
    /* event streams, each in its own sequence order: every event, or those
    ** `kept` says */
    res_event_keep kept;
    res_event_log *events;         /* scheduler stream; NULL: none kept */
    res_event_log *request_events; /* request stream; NULL: none kept */
    /* Kept events out of memory: a run that built its summary as it went
    ** and keeps only the notable events writes them here (admit_event
    ** records, res/spill.h), [admit_event_stream], each in sequence order
    ** after its log's; NULL: none.  Read both with res_kept_reader. */
    struct res_spill *spilled[2];
    uint64_t events_made; /* events of both streams the run made, kept or not */
    /* The summary, when the environment built it while the run went (then
    ** the events need not be kept); NULL: res_summary_compute builds it from
    ** the events.  Owned (res_run_record_take_summary hands it over). */
    struct res_summary *summary;
    /* task stage at the end */
    admit_scheduler_stats stats;
    admit_task_admission_stats admission_stats;
    uint64_t final_task_leases;
    uint64_t final_queued;
    uint32_t *final_leased;        /* [scheduler resource] */
    uint32_t *max_leased;          /* [scheduler resource] */
    uint32_t *max_queued_by_group; /* [group] */
    uint64_t *column_tasks;        /* [column] */
    uint64_t *output_hash;         /* [column]: completed values in task order */
    uint64_t output_hash_all;
    /* request stage at the end */
    admit_request_admission_stats request_admission_stats;
    admit_model_executor_stats executor_stats;
    uint64_t final_request_leases;
    uint64_t final_request_waiters;
} res_run_record;

/* A zeroed record with the per-column arrays (column_group,
** column_resources, column_tasks, output_hash) allocated for
** config->column_count columns.  NULL on out of memory. */
res_run_record *res_run_record_create(const run_config *config);
/* Allocates the per-resource and per-group arrays (resource_names,
** resource_limits, final_leased, max_leased; groups, max_queued_by_group;
** request) zeroed, and sets the counts.  False on out of memory. */
bool res_run_record_shape(res_run_record *r, uint32_t resource_count, uint32_t group_count,
                          uint32_t request_resource_count);
void res_run_record_free(res_run_record *r);

/* Filling a record from the core objects of a run (run/assembly.h), alike
** for every environment.  _shape_from_assembly: res_run_record_shape() and
** the resolved shape (task groups, each column's group and resources, the
** scheduler resources and limits, the request resources' keys, providers
** and starting snapshots, the resolver's diagnostics); false on out of
** memory.  _read_end: the job status, counters, ledgers, queues and request
** snapshots at the end (wall time and event logs are the caller's).
** _hash_outputs: the output hashes of the completed tasks (and each
** column's task count), one value per task from (column_seed[column],
** task id): timings and ids never enter them. */
bool res_run_record_shape_from_assembly(res_run_record *r, const run_assembly *a);
void res_run_record_read_end(res_run_record *r, const run_assembly *a);
void res_run_record_hash_outputs(res_run_record *r, admit_tracker *tracker,
                                 const uint64_t *column_seed);

/* ev kept in the log of its stream (created when it is the first);
** false when out of memory. */
bool res_run_record_add_event(res_run_record *r, const admit_event *ev);

/* The summary built during the run, handed to the caller (NULL: none). */
struct res_summary *res_run_record_take_summary(res_run_record *r);
/* The events both streams made: events_made, or the kept ones' count. */
uint64_t res_run_record_events_made(const res_run_record *r);

/* The kept events of both streams (logs, then spill files), merged by
** capture time, the scheduler stream's first at one instant (as
** res_event_merge): begin, then next until it gives false; a false begin,
** or a false next with res_kept_error not NULL, is a spill file that could
** not be read.  res_run_record_kept_count counts them without reading. */
typedef struct res_kept_source {
    const res_event_log *log;
    size_t next; /* in log */
    struct res_spill *spill;
    admit_event ev; /* the source's next event, when has */
    bool has;
} res_kept_source;
typedef struct res_kept_reader {
    res_kept_source src[2]; /* [admit_event_stream] */
    const char *error;
} res_kept_reader;
bool res_kept_begin(res_kept_reader *k, const res_run_record *r);
bool res_kept_next(res_kept_reader *k, admit_event *ev);
const char *res_kept_error(const res_kept_reader *k);
uint64_t res_run_record_kept_count(const res_run_record *r);
/* The notable events the record keeps (not of the thirteen lifecycle
** kinds: res_event_is_lifecycle), those in spill files included (they hold
** notable ones only); one pass over the logs. */
uint64_t res_run_record_notable_count(const res_run_record *r);

/* True when the run ended holding no task lease, request lease or request waiter. */
bool res_run_record_is_clean(const res_run_record *r);

#ifdef __cplusplus
}
#endif

#endif
