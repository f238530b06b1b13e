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
#include "admit/task_admission.h"
#include "admit/tracker.h"
#include "sim/rng.h"

#define SIM_SCENARIO_SCHEMA_VERSION 1
#define SIM_MAX_COLUMNS             256
#define SIM_MAX_DEPS                16
#define SIM_MAX_RESOURCES           32

typedef enum sim_policy_kind { SIM_POLICY_STRICT = 0, SIM_POLICY_BOUNDED } sim_policy_kind;

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
