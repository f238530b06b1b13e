/*
** Scenario files for the simulator: the run configuration (run/config.h)
** plus the simulated environment it runs in.
**
** sim_scenario_load() reads one file (schema in scenarios/README.md) into
** both parts: run_config_read() takes the configuration keys, then this
** loader the keys only a simulator needs — how long local work takes, how
** many calls each step makes, how often a task fails, the simulated
** providers behind each model endpoint and their scripted windows, fault
** injection and a scripted cancel.  Every value is validated; the first
** problem is reported as "FILE: JSON-PATH: expected ..., got ..." (with
** line and column when the JSON parser gives them).  A scenario that loads
** is consistent: on top of the configuration's checks, every model endpoint
** and domain a call or a request limit names has a simulated provider.
*/
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "admit/request_admission.h"
#include "run/config.h"
#include "sim/rng.h"

#define SIM_SCENARIO_SCHEMA_VERSION RUN_CONFIG_SCHEMA_VERSION
#define SIM_MAX_PROVIDERS           64
#define SIM_MAX_WINDOWS             16
/* Limits that bound any accepted scenario's time and memory (documented in
** scenarios/README.md): calls one step makes (a count, branch or
** until_valid maximum), planned work (per task 1 + its most calls x
** retry.max_attempts, times salvage_max_rounds + 1, summed over tasks),
** latency trace files (regular files only) and their lines. */
#define SIM_MAX_CALLS_PER_STEP 10000
#define SIM_MAX_PLANNED_WORK   5000000
#define SIM_MAX_TRACE_BYTES    (256 << 20)
#define SIM_MAX_TRACE_LINE     4096

typedef enum sim_status {
    SIM_OK = 0,
    SIM_EINVAL = RUN_EINVAL, /* malformed scenario */
    SIM_EIO = RUN_EIO,       /* a file could not be read (or a spill file written) */
    SIM_ENOMEM = RUN_ENOMEM, /* out of memory */
    SIM_ECORE = RUN_ECORE,   /* the core library refused the configuration */
    SIM_ESTALL = 16,         /* the simulation stopped with the job unfinished (a bug) */
    SIM_ELIMIT = 17,         /* the run would pass a limit of the simulator (its clock's range) */
    SIM_EORDER =
        18 /* the events broke the order the results need (res_view_builder_finish; a bug) */
} sim_status;

/* The simulated clock's range: 2^62 ns, about 146 years of virtual time.
** Sums over times (waits, lease-seconds) are taken in 128 bits, so no figure
** of a run that stays in range can overflow. */
#define SIM_MAX_TIME_NS (INT64_C(1) << 62)

typedef struct sim_error {
    sim_status code;
    char message[1024];
} sim_error;

typedef enum sim_window_kind {
    SIM_WINDOW_OUTAGE = 0, /* every call answers rate_limited */
    SIM_WINDOW_CAPACITY,   /* server capacity replaced */
    SIM_WINDOW_LATENCY     /* latency multiplied */
} sim_window_kind;

/* A scripted window [start, end) of virtual time. */
typedef struct sim_window {
    sim_window_kind kind;
    int64_t start_ns, end_ns;
    uint32_t max_concurrent;    /* capacity: 0 = unlimited */
    double requests_per_minute; /* capacity: 0 = unlimited */
    double latency_multiplier;  /* latency: > 0 */
} sim_window;

/* "providers": how the simulated server behind one endpoint and domain
** answers. */
typedef struct sim_provider_spec {
    uint32_t model; /* index into the configuration's models[]: the alias the entry names */
    admit_request_domain domain;
    sim_dist latency;
    uint32_t max_concurrent;         /* 0: unlimited */
    double requests_per_minute;      /* 0: unlimited */
    int64_t retry_after_ns;          /* Retry-After on rate_limited; < 0: none */
    int64_t rate_limited_latency_ns; /* how long a rate-limited answer takes */
    double failure_probability;
    double timeout_probability;
    int64_t timeout_ns; /* how long a timed-out call takes */
    sim_window windows[SIM_MAX_WINDOWS];
    uint32_t window_count;
} sim_provider_spec;

typedef enum sim_count_kind {
    SIM_COUNT_FIXED = 0,  /* count calls */
    SIM_COUNT_BRANCH,     /* probability -> count, else count_else */
    SIM_COUNT_UNTIL_VALID /* call until an output validates (probability each), at most count */
} sim_count_kind;

/* How one step of a column's request program behaves (its shape, local or a
** call to which model and domain, is the configuration's run_step). */
typedef struct sim_step {
    sim_dist duration; /* local */
    sim_count_kind count_kind;
    uint32_t count;
    uint32_t count_else;
    double probability;
} sim_step;

/* How a column's tasks behave: the duration of a column without a program,
** its steps' behaviour, and how often a task fails. */
typedef struct sim_column {
    sim_dist duration;
    sim_step program[RUN_MAX_STEPS];
    double retryable_probability;
    double non_retryable_probability;
} sim_column;

/* Everything only the simulator reads. */
typedef struct sim_environment {
    sim_column columns[RUN_MAX_COLUMNS]; /* parallel to the configuration's columns */
    sim_provider_spec providers[SIM_MAX_PROVIDERS];
    uint32_t provider_count;
    double spawn_failure_probability; /* fault injection for tests */
    int64_t cancel_at_ns;             /* < 0: never */
} sim_environment;

typedef struct sim_scenario {
    run_config config;
    sim_environment env;
} sim_scenario;

/* Heap-allocates; free with sim_scenario_free.  NULL with err filled on
** failure.  _arm: the scenario as arm `arm` makes it (NULL or "": none);
** every arm of the file is checked either way (run/arms.h). */
sim_scenario *sim_scenario_load(const char *path, sim_error *err);
sim_scenario *sim_scenario_load_arm(const char *path, const char *arm, sim_error *err);
sim_scenario *sim_scenario_parse(const char *text, const char *name, sim_error *err);
sim_scenario *sim_scenario_parse_arm(const char *text, const char *name, const char *arm,
                                     sim_error *err);
/* A scenario from a document already parsed (a sweep's point, say): takes
** the reference to json; path names it in messages and in the run's
** inputs, and relative trace files resolve beside it. */
sim_scenario *sim_scenario_from_json(json_t *json, const char *path, const char *arm,
                                     sim_error *err);
void sim_scenario_free(sim_scenario *s);

/* Units of planned work (see SIM_MAX_PLANNED_WORK). */
uint64_t sim_scenario_planned_work(const sim_scenario *s);

/* The environment's part of the artifact's inputs, new reference:
** {"columns": [{duration, retryable_probability, non_retryable_probability}],
**  "failures": {spawn_failure_probability}, "provider_script": [...]}. */
json_t *sim_scenario_environment_json(const sim_scenario *s);

#endif
