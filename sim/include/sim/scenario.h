/*
** Scenario files: JSON under scenarios/, schema in scenarios/README.md.
**
** sim_scenario_load() validates everything it reads and reports the first
** problem as "FILE: JSON-PATH: expected ..., got ..." (with line and column
** when the JSON parser gives them).  A scenario that loads is consistent:
** dependencies name earlier columns, every requested resource has a
** capacity, every number is in range.
*/
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/metadata.h"
#include "admit/request_admission.h"
#include "admit/request_resource.h"
#include "admit/task_admission.h"
#include "admit/tracker.h"
#include "sim/rng.h"

#define SIM_SCENARIO_SCHEMA_VERSION 1
#define SIM_MAX_COLUMNS             256
#define SIM_MAX_DEPS                16
#define SIM_MAX_RESOURCES           32
#define SIM_MAX_MODELS              32
#define SIM_MAX_PROVIDERS           64
#define SIM_MAX_WINDOWS             16
#define SIM_MAX_STEPS               16

typedef enum sim_policy_kind {
    SIM_POLICY_STRICT = 0,
    SIM_POLICY_BOUNDED,
    SIM_POLICY_PROVIDER_AWARE
} sim_policy_kind;

/* "models": an alias naming a provider endpoint with the alias's own
** max_parallel_requests (aliases of one endpoint merge caps by minimum). */
typedef struct sim_model_alias {
    char alias[ADMIT_NAME_MAX];
    char provider[ADMIT_NAME_MAX];
    char model_id[ADMIT_NAME_MAX];
    uint32_t max_parallel_requests;
} sim_model_alias;

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
    uint32_t model; /* index into models[]: the alias the entry names */
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

/* "request_admission.resources": per request resource limits. */
typedef struct sim_request_limit {
    uint32_t model;
    admit_request_domain domain;
    uint32_t initial_limit;   /* 0: effective max */
    uint32_t max_limit_clamp; /* 0: none */
} sim_request_limit;

typedef enum sim_step_kind { SIM_STEP_LOCAL = 0, SIM_STEP_CALL } sim_step_kind;

typedef enum sim_count_kind {
    SIM_COUNT_FIXED = 0,  /* count calls */
    SIM_COUNT_BRANCH,     /* probability -> count, else count_else */
    SIM_COUNT_UNTIL_VALID /* call until an output validates (probability each), at most count */
} sim_count_kind;

/* One step of a column's request program. */
typedef struct sim_step {
    sim_step_kind kind;
    sim_dist duration; /* local */
    uint32_t model;    /* call: index into models[] */
    admit_request_domain domain;
    sim_count_kind count_kind;
    uint32_t count;
    uint32_t count_else;
    double probability;
} sim_step;

typedef struct sim_resource_amount {
    char name[2 * ADMIT_NAME_MAX];
    uint32_t amount;
} sim_resource_amount;

typedef struct sim_column {
    char name[ADMIT_NAME_MAX];
    admit_column_strategy strategy;
    uint32_t deps[SIM_MAX_DEPS];
    uint32_t dep_count;
    int64_t rows; /* 0: all records */
    int64_t ready_at_ns;
    sim_dist duration;
    double retryable_probability;
    double non_retryable_probability;
    bool has_metadata; /* false: local default */
    admit_metadata metadata;
    int admitted_limit; /* 0: derived */
    sim_resource_amount resources[ADMIT_MAX_TASK_RESOURCES];
    uint32_t resource_count; /* 0: derived from metadata */
    /* Request program; step_count 0: one local step of `duration`. */
    sim_step program[SIM_MAX_STEPS];
    uint32_t step_count;
    uint32_t retry_max_attempts; /* per call, >= 1 (default 3) */
    int64_t retry_backoff_ns;    /* wait before a retry; Retry-After wins if longer */
} sim_column;

typedef struct sim_borrow_ceiling {
    uint32_t column;
    char resource[2 * ADMIT_NAME_MAX];
    uint32_t ceiling;
} sim_borrow_ceiling;

typedef struct sim_scenario {
    char path[512];
    char scenario_id[ADMIT_NAME_MAX];
    int64_t scenario_version;
    char description[512];
    int64_t records;
    int64_t buffer_size;
    bool buffer_size_set;       /* false: defaulted to records */
    bool request_admission_set; /* "request_admission" given: its values are run config */
    uint32_t max_concurrent_row_groups;
    int model_group_limit_cap;
    sim_resource_amount capacity[SIM_MAX_RESOURCES];
    uint32_t capacity_count;
    sim_policy_kind default_policy;
    admit_share_rounding rounding;
    double reserve_fraction;
    uint32_t max_reserved_slots;
    int64_t default_ceiling; /* < 0: dynamic */
    sim_borrow_ceiling ceilings[SIM_MAX_COLUMNS];
    uint32_t ceiling_count;
    uint32_t salvage_max_rounds;
    double shutdown_error_rate;
    uint32_t shutdown_error_window;
    double spawn_failure_probability; /* fault injection for tests */
    int64_t cancel_at_ns;             /* < 0: never */
    sim_column columns[SIM_MAX_COLUMNS];
    uint32_t column_count;
    sim_model_alias models[SIM_MAX_MODELS];
    uint32_t model_count;
    sim_provider_spec providers[SIM_MAX_PROVIDERS];
    uint32_t provider_count;
    admit_aimd_config aimd;
    int64_t queue_wait_timeout_ns; /* <= 0: none */
    sim_request_limit request_limits[SIM_MAX_PROVIDERS];
    uint32_t request_limit_count;
} sim_scenario;

typedef struct sim_error {
    char message[1024];
} sim_error;

/* Heap-allocates; free with sim_scenario_free.  NULL with err filled on failure. */
sim_scenario *sim_scenario_load(const char *path, sim_error *err);
sim_scenario *sim_scenario_parse(const char *text, const char *name, sim_error *err);
void sim_scenario_free(sim_scenario *s);
int sim_scenario_column_index(const sim_scenario *s, const char *name);
bool sim_policy_parse(const char *text, sim_policy_kind *out);
const char *sim_policy_name(sim_policy_kind p);
uint64_t sim_scenario_task_count(const sim_scenario *s);

#endif
