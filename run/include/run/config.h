/*
** The run configuration: everything a real run reads from a scenario file,
** and nothing only a simulator needs.
**
** A scenario file (schema in scenarios/README.md) describes both the run
** configuration (records and row groups, scheduler capacities, the task
** admission policy and its knobs, columns with their dependencies,
** scheduling metadata, task resources, retry settings and which model and
** domain each call of their request program uses, model aliases and their
** caps, request admission's AIMD settings and per-resource limits) and an
** environment to run it in (for the simulator: durations, failure
** probabilities, how many calls each step makes, simulated providers and
** their scripted windows).  run_config_load() reads the configuration part
** without any simulator code; an environment's loader reads the same file
** through run_config_read() and then its own keys.
**
** A configuration that loads is consistent: dependencies name earlier
** columns, every task resource has a capacity, every number is in range,
** every model alias a call or a limit names exists.  Errors name the file,
** the JSON path and what was expected (run/json_reader.h).
*/
#ifndef RUN_CONFIG_H
#define RUN_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/metadata.h"
#include "admit/request_admission.h"
#include "admit/request_resource.h"
#include "admit/task_admission.h"
#include "admit/tracker.h"
#include "run/arms.h"
#include "run/error.h"
#include "run/json_reader.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RUN_CONFIG_SCHEMA_VERSION 1
#define RUN_MAX_COLUMNS           256
#define RUN_MAX_DEPS              16
#define RUN_MAX_RESOURCES         32
#define RUN_MAX_MODELS            32
#define RUN_MAX_REQUEST_LIMITS    64
#define RUN_MAX_STEPS             16
/* Limits of values, so any accepted file runs in bounded time and memory
** (documented in scenarios/README.md). */
#define RUN_MAX_FILE_BYTES     (16 << 20) /* a scenario file: regular files only */
#define RUN_MAX_RECORDS        100000000
#define RUN_MAX_TASKS          2000000 /* cells and row-group batches of all columns */
#define RUN_MAX_SECONDS        1e9     /* one duration; the clock holds about 146 years */
#define RUN_MAX_RAMP           3600.0
#define RUN_MAX_ATTEMPTS       100 /* retry.max_attempts per call */
#define RUN_MAX_SALVAGE_ROUNDS 100

typedef enum run_policy_kind {
    RUN_POLICY_STRICT = 0,
    RUN_POLICY_BOUNDED,
    RUN_POLICY_PROVIDER_AWARE
} run_policy_kind;
#define RUN_POLICY_COUNT 3

/* "models": an alias naming a provider endpoint with the alias's own
** max_parallel_requests (aliases of one endpoint merge caps by minimum). */
typedef struct run_model_alias {
    char alias[ADMIT_NAME_MAX];
    char provider[ADMIT_NAME_MAX];
    char model_id[ADMIT_NAME_MAX];
    uint32_t max_parallel_requests;
    /* Live runs only (optional; empty or 0: not given): the OpenAI-compatible
    ** base URL ("https://host/v1"), the environment variable holding the API
    ** key (its name, never the key), the total and connect deadlines and the
    ** response size bound of each call. */
    char base_url[512];
    char api_key_env[128];
    double timeout_seconds;
    double connect_timeout_seconds;
    int64_t max_response_bytes;
} run_model_alias;

/* "request_admission.resources": per request resource limits. */
typedef struct run_request_limit {
    uint32_t model; /* index into models[] */
    admit_request_domain domain;
    uint32_t initial_limit;   /* 0: effective max */
    uint32_t max_limit_clamp; /* 0: none */
} run_request_limit;

typedef enum run_step_kind { RUN_STEP_LOCAL = 0, RUN_STEP_CALL } run_step_kind;

/* One step of a column's request program: local work, or calls to one
** model and domain (how long local work takes and how many calls a step
** makes belong to the environment). */
typedef struct run_step {
    run_step_kind kind;
    uint32_t model; /* call: index into models[] */
    admit_request_domain domain;
} run_step;

typedef struct run_resource_amount {
    char name[2 * ADMIT_NAME_MAX];
    uint32_t amount;
} run_resource_amount;

typedef struct run_column {
    char name[ADMIT_NAME_MAX];
    admit_column_strategy strategy;
    uint32_t deps[RUN_MAX_DEPS];
    uint32_t dep_count;
    int64_t rows; /* 0: all records */
    int64_t ready_at_ns;
    bool has_metadata; /* false: local default */
    admit_metadata metadata;
    int admitted_limit; /* 0: derived */
    run_resource_amount resources[ADMIT_MAX_TASK_RESOURCES];
    uint32_t resource_count; /* 0: derived from metadata */
    /* Request program; step_count 0: one local step. */
    run_step program[RUN_MAX_STEPS];
    uint32_t step_count;
    uint32_t retry_max_attempts; /* per call, >= 1 (default 3) */
    int64_t retry_backoff_ns;    /* wait before a retry; Retry-After wins if longer */
} run_column;

typedef struct run_borrow_ceiling {
    uint32_t column;
    char resource[2 * ADMIT_NAME_MAX];
    uint32_t ceiling;
} run_borrow_ceiling;

/* "check": what `admitsim check` should hold this scenario to (its gates
** are in gates/gates.json): tags that select gates ("neutral",
** "outputs_equal", ...), metrics the candidate arm claims to improve, and
** per-gate thresholds that replace the gates file's. */
#define RUN_MAX_CHECK_ITEMS 16
typedef struct run_check {
    uint32_t tag_count, claim_count, threshold_count;
    char tags[RUN_MAX_CHECK_ITEMS][64];
    char claims[RUN_MAX_CHECK_ITEMS][256];
    char threshold_gates[RUN_MAX_CHECK_ITEMS][64];
    double thresholds[RUN_MAX_CHECK_ITEMS];
} run_check;

typedef struct run_config {
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
    run_resource_amount capacity[RUN_MAX_RESOURCES];
    uint32_t capacity_count;
    run_policy_kind default_policy;
    admit_share_rounding rounding;
    double reserve_fraction;
    uint32_t max_reserved_slots;
    int64_t default_ceiling; /* < 0: dynamic */
    run_borrow_ceiling ceilings[RUN_MAX_COLUMNS];
    uint32_t ceiling_count;
    uint32_t salvage_max_rounds;
    double shutdown_error_rate;
    uint32_t shutdown_error_window;
    run_column columns[RUN_MAX_COLUMNS];
    uint32_t column_count;
    run_model_alias models[RUN_MAX_MODELS];
    uint32_t model_count;
    admit_aimd_config aimd;
    int64_t queue_wait_timeout_ns; /* <= 0: none */
    run_request_limit request_limits[RUN_MAX_REQUEST_LIMITS];
    uint32_t request_limit_count;
    run_check check;
    run_arm_list arms;          /* the file's explicit arms (run/arms.h) */
    char arm[RUN_ARM_NAME_MAX]; /* the arm this configuration is; "": none */
} run_config;

/* The configuration part of a scenario file or text.  Heap-allocated; free
** with run_config_free.  NULL with err filled on failure.  _arm: as arm
** `arm` makes it (NULL or "": none; every arm of the file is checked either
** way, run/arms.h). */
run_config *run_config_load(const char *path, run_error *err);
run_config *run_config_load_arm(const char *path, const char *arm, run_error *err);
run_config *run_config_parse(const char *text, const char *name, run_error *err);
void run_config_free(run_config *c);

/* For an environment's loader: sets *c to the defaults, names it `path`,
** and reads the configuration keys of a parsed scenario document (root:
** run_json_root of it).  Keys the environment owns are accepted and left
** alone; any other key is an error.  False with the document's error set. */
void run_config_init(run_config *c, const char *path);
bool run_config_read(const run_json_node *root, run_config *c);

/* Also for environment loaders: o.model (a required alias of models[]) and
** o.domain (default chat); and the error for an endpoint and domain pair
** listed twice (both false with the document's error set). */
bool run_config_read_model_domain(const run_json_node *o, const run_config *c, uint32_t *model,
                                  admit_request_domain *domain);
bool run_config_endpoint_repeated(const run_json_node *e, const run_config *c, uint32_t model,
                                  admit_request_domain domain);

int run_config_column_index(const run_config *c, const char *name);
int run_config_model_index(const run_config *c, const char *alias);
/* Model aliases a and b (indexes into models[]) name the same endpoint. */
bool run_config_is_same_endpoint(const run_config *c, uint32_t model_a, uint32_t model_b);
/* "strict", "bounded", "provider_aware" (run_policy_kind order), NULL-ended. */
extern const char *const run_policy_names[];
bool run_policy_parse(const char *text, run_policy_kind *out);
const char *run_policy_name(run_policy_kind p);
/* Tasks the configuration makes (cells and row-group batches). */
uint64_t run_config_task_count(const run_config *c);

#ifdef __cplusplus
}
#endif

#endif
