/*
** Scenario loading: malformed files are rejected with exact messages, valid
** ones load with the documented defaults, and every file shipped under
** scenarios/ (and the README's worked example) loads.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/scenario.h"

#ifndef ADMIT_SCENARIO_DIR
#error "ADMIT_SCENARIO_DIR must name the scenarios/ directory"
#endif
#ifndef ADMIT_TEST_DATA_DIR
#error "ADMIT_TEST_DATA_DIR must name the tests/data/ directory"
#endif

/* Test JSON is written with ' for " to stay readable; this swaps them back. */
static char *dq(const char *text) {
    char *out = strdup(text);
    assert_non_null(out);
    for (char *p = out; *p; p++)
        if (*p == '\'') *p = '"';
    return out;
}

static sim_scenario *parse_q(const char *text, sim_error *err) {
    char *json = dq(text);
    sim_scenario *s = sim_scenario_parse(json, "t.json", err);
    free(json);
    return s;
}

#define HEAD                                                                                       \
    "{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, 'records': 10, "                     \
    "'capacity': {'submission': 4, 'llm_wait': 2}, "
#define COL_A "{'name': 'a', 'duration': {'dist': 'constant', 'seconds': 1}}"
#define DUR   "'duration': {'dist': 'constant', 'seconds': 1}"
/* Request stage: one model alias with a chat provider. */
#define MODELS                                                                                     \
    "'models': [{'alias': 'm', 'provider': 'p', 'model': 'm1', 'max_parallel_requests': 4}], "
#define LAT  "'latency': {'dist': 'constant', 'seconds': 0.1}"
#define PROV "'providers': [{'model': 'm', " LAT "}], "
/* A column running PROGRAM (a JSON array) and a one-step program. */
#define PCOL(program) "'columns': [{'name': 'a', 'program': " program "}]}"
#define CALL_M        "{'call': {'model': 'm'}}"
/* Providers entry and window with extra keys. */
#define PROVX(extra)                                                                               \
    HEAD MODELS "'providers': [{'model': 'm', " LAT ", " extra "}], 'columns': [" COL_A "]}"
#define WIN(w)     PROVX("'windows': [" w "]")
#define RA(extra)  HEAD MODELS PROV "'request_admission': {" extra "}, 'columns': [" COL_A "]}"
#define COUNT(c)   HEAD MODELS PROV PCOL("[{'call': {'model': 'm', 'count': " c "}}]")
#define SCHED(sch) HEAD MODELS "'columns': [{'name': 'a', " DUR ", 'scheduling': " sch "}]}"
#define DATA(file) ADMIT_TEST_DATA_DIR "/" file

typedef struct bad_case {
    const char *json;    /* ' for " */
    const char *message; /* ' for "; exact unless `partial` */
    bool partial;
} bad_case;

static const bad_case BAD[] = {
    {"{'schema': 1,", "t.json:1:13: invalid JSON: string or ", true},
    {"{'schema': 1, 'schema': 1}", "t.json:1:22: invalid JSON: duplicate object key", true},
    {"[1, 2]", "t.json: $: expected an object, got an array of 2 items", false},
    {"{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, 'records': 10, "
     "'capacity': {'submission': 4}}",
     "t.json: $: missing required key 'columns'", false},
    {"{'schema': 2, 'from_the_future': 1}", "t.json: $.schema: expected 1, got 2", false},
    {HEAD "'columns': [" COL_A ", {'name': 'b', 'duration': {'dist': 'constant', 'seconds': "
          "'fast'}}]}",
     "t.json: $.columns[1].duration.seconds: expected a number between 0 and 1000000000, got "
     "'fast'",
     false},
    /* ---- one duration is at most 1e9 s: certain (or, unbounded, more likely
    ** than not) to pass it is refused here, never cut to it at run time ---- */
    {HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'constant', 'seconds': 1e12}}]}",
     "t.json: $.columns[0].duration.seconds: expected a number between 0 and 1000000000, got "
     "1000000000000.0",
     false},
    {HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'uniform', 'low': 1, 'high': 2e9}}]}",
     "t.json: $.columns[0].duration.high: expected a number between 1 and 1000000000, got "
     "2000000000.0",
     false},
    {HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'lognormal', 'mu': 800, 'sigma': 1}}]}",
     "t.json: $.columns[0].duration: expected a distribution whose median is at most 1000000000 "
     "seconds (the limit of one duration), got lognormal with a median of inf s",
     false},
    {HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'lognormal', 'mu': 21, 'sigma': 0}}]}",
     "t.json: $.columns[0].duration: expected a distribution whose median is at most 1000000000 "
     "seconds (the limit of one duration), got lognormal with a median of 1318815734.4832146 s",
     false},
    {HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'exponential', 'mean': 2e9}}]}",
     "t.json: $.columns[0].duration: expected a distribution whose median is at most 1000000000 "
     "seconds (the limit of one duration), got exponential with a median of 1386294361.1198907 s",
     false},
    {HEAD "'columns': [{'name': 'a', 'program': [{'local': {'dist': 'gamma', 'shape': 2, 'scale': "
          "1e9}}]}]}",
     "t.json: $.columns[0].program[0].local: expected a distribution whose median is at most "
     "1000000000 seconds (the limit of one duration), got gamma with a median of above "
     "1666666666.6666667 s",
     false},
    {WIN("{'kind': 'latency', 'start_seconds': 0, 'end_seconds': 10, 'multiplier': 2e10}"),
     "t.json: $.providers[0].windows[0].multiplier: expected at most 10000000000 (the largest "
     "latency, 0.1 s, times the multipliers of the latency windows covering the start of a call "
     "must stay within 1000000000 seconds, the limit of one duration), got 20000000000.0",
     false},
    {WIN("{'kind': 'latency', 'start_seconds': 0, 'end_seconds': 10, 'multiplier': 1e5}, "
         "{'kind': 'latency', 'start_seconds': 5, 'end_seconds': 6, 'multiplier': 1e6}"),
     "t.json: $.providers[0].windows[1].multiplier: expected at most 100000 (the largest "
     "latency, 0.1 s, times the multipliers of the latency windows covering the start of a call "
     "must stay within 1000000000 seconds, the limit of one duration), got 1000000.0",
     false},
    {HEAD "'columns': [" COL_A ", {'name': 'b', " DUR "}, {'name': 'c', 'depends_on': ['zzz'], " DUR
          "}]}",
     "t.json: $.columns[2].depends_on[0]: expected the name of an earlier column, got 'zzz'",
     false},
    {HEAD "'columns': [{'name': 'a', 'depends_on': ['b'], " DUR "}, {'name': 'b', " DUR "}]}",
     "t.json: $.columns[0].depends_on[0]: expected the name of an earlier column, got 'b'", false},
    {HEAD "'columns': [{'name': 'a', 'depends_on': ['a'], " DUR "}]}",
     "t.json: $.columns[0].depends_on[0]: expected the name of an earlier column, got 'a'", false},
    {HEAD "'columns': [" COL_A ", {'name': 'b', 'depends_on': ['a', 'a'], " DUR "}]}",
     "t.json: $.columns[1].depends_on[1]: expected a column not listed before, got 'a'", false},
    {HEAD "'columns': [{'name': 'a', 'durration': {}}]}",
     "t.json: $.columns[0].durration: unknown key (expected one of: name, strategy, depends_on, "
     "rows, ready_at_seconds, duration, program, retry, failure, scheduling)",
     false},
    {HEAD "'columns': [" COL_A "], 'extra': 1}",
     "t.json: $.extra: unknown key (expected one of: schema, scenario_id, ", true},
    {HEAD "'columns': [" COL_A "], 'my key': 1}", "t.json: $['my key']: unknown key", true},
    {HEAD "'columns': [{'name': 'a'}]}", "t.json: $.columns[0]: missing required key 'duration'",
     false},
    {HEAD "'columns': [{" DUR "}]}", "t.json: $.columns[0]: missing required key 'name'", false},
    {"{'schema': 1, 'scenario_id': 'a b', 'scenario_version': 1}",
     "t.json: $.scenario_id: expected a non-empty string of at most 95 characters from "
     "[A-Za-z0-9_.-], got 'a b'",
     false},
    {"{'schema': 1, 'scenario_id': '..', 'scenario_version': 1}",
     "t.json: $.scenario_id: expected a scenario id not starting with a dot (it names files and "
     "directories), got '..'",
     false},
    {"{'schema': 1, 'scenario_id': '.', 'scenario_version': 1}",
     "t.json: $.scenario_id: expected a scenario id not starting with a dot (it names files and "
     "directories), got '.'",
     false},
    {"{'schema': 1, 'scenario_id': '.hidden', 'scenario_version': 1}",
     "t.json: $.scenario_id: expected a scenario id not starting with a dot (it names files and "
     "directories), got '.hidden'",
     false},
    /* a real number reads as one: never "expected 1, got 1" */
    {"{'schema': 1.0}", "t.json: $.schema: expected 1, got 1.0", false},
    {"{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, 'records': 10.0}",
     "t.json: $.records: expected an integer between 1 and 100000000, got 10.0", false},
    {"{'schema': 1, 'scenario_id': 't', 'scenario_version': 0}",
     "t.json: $.scenario_version: expected an integer >= 1, got 0", false},
    {"{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, 'records': 100000001}",
     "t.json: $.records: expected an integer between 1 and 100000000, got 100000001", false},
    {"{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, 'records': 2.5}",
     "t.json: $.records: expected an integer between 1 and 100000000, got 2.5", false},
    {"{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, 'records': 5, 'buffer_size': 0}",
     "t.json: $.buffer_size: expected an integer >= 1, got 0", false},
    {"{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, 'records': 5, "
     "'capacity': {'llm_wait': 1}}",
     "t.json: $.capacity: missing required key 'submission'", false},
    {"{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, 'records': 5, "
     "'capacity': {'submission': 0}}",
     "t.json: $.capacity.submission: expected an integer between 1 and 4294967295, got 0", false},
    {HEAD "'columns': []}",
     "t.json: $.columns: expected a non-empty array of at most 256 columns, got []", false},
    {HEAD "'columns': [" COL_A ", {'name': 'a', " DUR "}]}",
     "t.json: $.columns[1].name: expected a name not used by an earlier column, got 'a'", false},
    {HEAD "'columns': [{'name': "
          "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
          "aaaaaaaaa', " DUR "}]}",
     "t.json: $.columns[0].name: expected a non-empty string of at most 95 characters, got 'aaaa",
     true},
    {HEAD "'columns': [{'name': 'a', 'strategy': 'batch', " DUR "}]}",
     "t.json: $.columns[0].strategy: expected 'cell_by_cell' or 'full_column', got 'batch'", false},
    {HEAD "'columns': [{'name': 'a', 'rows': 11, " DUR "}]}",
     "t.json: $.columns[0].rows: expected an integer between 1 and 10, got 11", false},
    {HEAD "'columns': [{'name': 'a', 'rows': 5, " DUR "}, {'name': 'b', 'depends_on': ['a'], " DUR
          "}]}",
     "t.json: $.columns[1].rows: expected an integer <= 5 (the rows of 'a', which it depends on), "
     "got none (all 10 records)",
     false},
    {HEAD "'columns': [{'name': 'a', 'ready_at_seconds': -1, " DUR "}]}",
     "t.json: $.columns[0].ready_at_seconds: expected a number between 0 and 1000000000, got -1",
     false},
    {HEAD "'columns': [{'name': 'a', 'duration': 0.5}]}",
     "t.json: $.columns[0].duration: expected an object, got 0.5", false},
    {HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'normal'}}]}",
     "t.json: $.columns[0].duration.dist: expected 'constant', 'uniform', 'exponential', "
     "'lognormal', 'gamma' or 'empirical', got 'normal'",
     false},
    {HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'constant', 'mean': 1}}]}",
     "t.json: $.columns[0].duration.mean: unknown key (expected one of: dist, seconds)", false},
    {HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'uniform', 'low': 0.5, 'high': 0.2}}]}",
     "t.json: $.columns[0].duration.high: expected a number between 0.5 and 1000000000, "
     "got 0.2",
     false},
    {HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'exponential', 'mean': 0}}]}",
     "t.json: $.columns[0].duration.mean: expected a number > 0, got 0", false},
    {HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'lognormal', 'mu': 0}}]}",
     "t.json: $.columns[0].duration: missing required key 'sigma'", false},
    {HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'gamma', 'shape': 2, 'scale': null}}]}",
     "t.json: $.columns[0].duration.scale: expected a number > 0, got null", false},
    {HEAD "'columns': [{'name': 'a', " DUR ", 'failure': {'retryable_probability': 0.7, "
          "'non_retryable_probability': 0.6}}]}",
     "t.json: $.columns[0].failure: expected probabilities summing to at most 1, got 0.7 + 0.6",
     false},
    {HEAD "'columns': [{'name': 'a', " DUR ", 'failure': {'retryable_probability': 1.5}}]}",
     "t.json: $.columns[0].failure.retryable_probability: expected a number between 0 and 1, got "
     "1.5",
     false},
    {HEAD "'columns': [{'name': 'a', " DUR ", 'scheduling': {'kind': 'gpu', 'identity': ['x']}}]}",
     "t.json: $.columns[0].scheduling.kind: expected 'local', 'model' or 'custom_model', got 'gpu'",
     false},
    {HEAD "'columns': [{'name': 'a', " DUR ", 'scheduling': {'kind': 'local'}}]}",
     "t.json: $.columns[0].scheduling: missing required key 'identity'", false},
    {HEAD "'columns': [{'name': 'a', " DUR
          ", 'scheduling': {'kind': 'model', 'identity': ['p', 'm', 'chat', 'x']}}]}",
     "t.json: $.columns[0].scheduling.identity: expected an array of 1 to 3 strings, got an array "
     "of 4 items",
     false},
    {HEAD "'columns': [{'name': 'a', " DUR
          ", 'scheduling': {'kind': 'model', 'identity': ['p', 7]}}]}",
     "t.json: $.columns[0].scheduling.identity[1]: expected a string of at most 95 characters, got "
     "7",
     false},
    {HEAD "'columns': [{'name': 'a', " DUR
          ", 'scheduling': {'kind': 'local', 'identity': ['x'], 'weight': 1.5}}]}",
     "t.json: $.columns[0].scheduling.weight: expected an integer between -2147483648 and "
     "2147483647, got 1.5",
     false},
    {HEAD "'columns': [{'name': 'a', " DUR
          ", 'scheduling': {'kind': 'local', 'identity': ['x'], 'admitted_limit': 0}}]}",
     "t.json: $.columns[0].scheduling.admitted_limit: expected an integer between 1 and "
     "2147483647, got 0",
     false},
    {HEAD "'columns': [{'name': 'a', " DUR
          ", 'scheduling': {'kind': 'local', 'identity': ['x'], 'resources': {'gpu': 1}}}]}",
     "t.json: $.columns[0].scheduling.resources.gpu: expected a resource named in $.capacity, got "
     "'gpu'",
     false},
    {HEAD "'columns': [{'name': 'a', " DUR
          ", 'scheduling': {'kind': 'local', 'identity': ['x'], 'resources': {'llm_wait': 3}}}]}",
     "t.json: $.columns[0].scheduling.resources.llm_wait: expected an integer between 1 and 2, got "
     "3",
     false},
    {HEAD "'columns': [{'name': 'a', " DUR
          ", 'scheduling': {'kind': 'local', 'identity': ['x'], 'resources': {}}}]}",
     "t.json: $.columns[0].scheduling.resources: expected an object of 1 to 4 resource amounts, "
     "got "
     "{}",
     false},
    {"{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, 'records': 10, "
     "'capacity': {'submission': 4}, 'columns': [" COL_A ", {'name': 'b', " DUR
     ", 'scheduling': {'kind': 'model', 'identity': ['p', 'm', 'chat']}}]}",
     "t.json: $.columns[1].scheduling: expected 'llm_wait' in $.capacity for model work (or "
     "explicit 'resources'), got none",
     false},
    {HEAD "'columns': [" COL_A "], 'policy': {'default': 'greedy'}}",
     "t.json: $.policy.default: expected 'strict', 'bounded' or 'provider_aware', got 'greedy'",
     false},
    {HEAD "'columns': [" COL_A "], 'policy': {'strict_share_rounding': 'round'}}",
     "t.json: $.policy.strict_share_rounding: expected 'ceil' or 'floor', got 'round'", false},
    {HEAD "'columns': [" COL_A "], 'policy': {'default_borrow_ceiling': -1}}",
     "t.json: $.policy.default_borrow_ceiling: expected null or an integer >= 0, got -1", false},
    {HEAD "'columns': [" COL_A "], 'policy': {'borrow_ceilings': [{'column': 'zzz', "
          "'resource': 'llm_wait', 'ceiling': 1}]}}",
     "t.json: $.policy.borrow_ceilings[0].column: expected the name of a column, got 'zzz'", false},
    {HEAD "'columns': [" COL_A "], 'policy': {'borrow_ceilings': [{'column': 'a', "
          "'resource': 'gpu', 'ceiling': 1}]}}",
     "t.json: $.policy.borrow_ceilings[0].resource: expected a resource named in $.capacity, got "
     "'gpu'",
     false},
    {HEAD "'columns': [" COL_A "], 'policy': {'borrow_ceilings': [{'column': 'a', "
          "'resource': 'llm_wait', 'ceiling': 1}, {'column': 'a', 'resource': 'llm_wait', "
          "'ceiling': 2}]}}",
     "t.json: $.policy.borrow_ceilings[1]: expected a column and resource pair not listed before, "
     "got 'a' and 'llm_wait' again",
     false},
    {HEAD "'columns': [" COL_A "], 'failures': {'shutdown_error_rate': 1.5}}",
     "t.json: $.failures.shutdown_error_rate: expected a number between 0 and 1, got 1.5", false},
    {HEAD "'columns': [" COL_A "], 'failures': {'shutdown_error_window': 0}}",
     "t.json: $.failures.shutdown_error_window: expected an integer between 1 and 4294967295, got "
     "0",
     false},
    {HEAD "'columns': [" COL_A "], 'cancel_at_seconds': 'soon'}",
     "t.json: $.cancel_at_seconds: expected a number between 0 and 1000000000, got 'soon'", false},
    /* ---- models ---- */
    {HEAD "'models': {}, 'columns': [" COL_A "]}",
     "t.json: $.models: expected an array of at most 32 models, got {}", false},
    {HEAD "'models': [7], 'columns': [" COL_A "]}",
     "t.json: $.models[0]: expected an object, got 7", false},
    {HEAD "'models': [{'alias': 'm', 'provider': 'p', 'model': 'm1', 'max_parallel_requests': 4}, "
          "{'alias': 'm', 'provider': 'p', 'model': 'm2', 'max_parallel_requests': 4}], "
          "'columns': [" COL_A "]}",
     "t.json: $.models[1].alias: expected an alias not used by an earlier model, got 'm'", false},
    {HEAD "'models': [{'alias': '', 'provider': 'p', 'model': 'm1', 'max_parallel_requests': 4}], "
          "'columns': [" COL_A "]}",
     "t.json: $.models[0].alias: expected a non-empty string of at most 95 characters, got ''",
     false},
    {HEAD "'models': [{'alias': 'm', 'provider': 'a/b', 'model': 'm1', "
          "'max_parallel_requests': 4}], 'columns': [" COL_A "]}",
     "t.json: $.models[0].provider: expected a non-empty string of at most 95 characters without "
     "'/', got 'a/b'",
     false},
    {HEAD "'models': [{'alias': 'm', 'provider': 'p', 'max_parallel_requests': 4}], "
          "'columns': [" COL_A "]}",
     "t.json: $.models[0]: missing required key 'model'", false},
    {HEAD "'models': [{'alias': 'm', 'provider': 'p', 'model': 'm1'}], 'columns': [" COL_A "]}",
     "t.json: $.models[0]: missing required key 'max_parallel_requests'", false},
    {HEAD "'models': [{'alias': 'm', 'provider': 'p', 'model': 'm1', 'max_parallel_requests': 0}], "
          "'columns': [" COL_A "]}",
     "t.json: $.models[0].max_parallel_requests: expected an integer between 1 and 100000, got 0",
     false},
    /* above what request admission takes: refused here, not when the run starts */
    {HEAD "'models': [{'alias': 'm', 'provider': 'p', 'model': 'm1', "
          "'max_parallel_requests': 100001}], 'columns': [" COL_A "]}",
     "t.json: $.models[0].max_parallel_requests: expected an integer between 1 and 100000, got "
     "100001",
     false},
    {HEAD "'models': [{'alias': 'm', 'provider': 'p', 'model': 'm1', 'cap': 4}], "
          "'columns': [" COL_A "]}",
     "t.json: $.models[0].cap: unknown key (expected one of: alias, provider, model, "
     "max_parallel_requests, base_url, api_key_env, timeout_seconds, connect_timeout_seconds, "
     "max_response_bytes)",
     false},
    /* ---- request_admission ---- */
    {HEAD "'request_admission': [], 'columns': [" COL_A "]}",
     "t.json: $.request_admission: expected an object, got []", false},
    {RA("'md_factor': 1"),
     "t.json: $.request_admission.md_factor: expected a number > 0 and < 1, "
     "got 1",
     false},
    {RA("'md_factor': 0"),
     "t.json: $.request_admission.md_factor: expected a number > 0 and < 1, "
     "got 0",
     false},
    {RA("'ai_step': 0"),
     "t.json: $.request_admission.ai_step: expected an integer between 1 and 4294967295, got 0",
     false},
    {RA("'successes_until_increase': 2.5"),
     "t.json: $.request_admission.successes_until_increase: expected an integer between 1 and "
     "4294967295, got 2.5",
     false},
    {RA("'cooldown_seconds': 0"),
     "t.json: $.request_admission.cooldown_seconds: expected a number > 0 and <= 1000000000, got 0",
     false},
    {RA("'startup_ramp_seconds': 3601"),
     "t.json: $.request_admission.startup_ramp_seconds: expected a number between 0 and 3600, got "
     "3601",
     false},
    {RA("'queue_wait_timeout_seconds': 0"),
     "t.json: $.request_admission.queue_wait_timeout_seconds: expected null or a number > 0 and <= "
     "1000000000, got 0",
     false},
    {RA("'cooldown': 1"),
     "t.json: $.request_admission.cooldown: unknown key (expected one of: md_factor, ai_step, "
     "successes_until_increase, cooldown_seconds, startup_ramp_seconds, "
     "queue_wait_timeout_seconds, resources)",
     false},
    {RA("'resources': {}"),
     "t.json: $.request_admission.resources: expected an array of at most 64 request resources, "
     "got {}",
     false},
    {RA("'resources': [{'initial_limit': 2}]"),
     "t.json: $.request_admission.resources[0]: missing required key 'model'", false},
    {RA("'resources': [{'model': 'zzz'}]"),
     "t.json: $.request_admission.resources[0].model: expected a model alias named in $.models, "
     "got 'zzz'",
     false},
    {RA("'resources': [{'model': 'm', 'domain': 'audio'}]"),
     "t.json: $.request_admission.resources[0].domain: expected 'chat', 'embedding', 'image' or "
     "'healthcheck', got 'audio'",
     false},
    {RA("'resources': [{'model': 'm', 'initial_limit': 0}]"),
     "t.json: $.request_admission.resources[0].initial_limit: expected an integer between 1 and "
     "100000, got 0",
     false},
    {RA("'resources': [{'model': 'm', 'initial_limit': 100001}]"),
     "t.json: $.request_admission.resources[0].initial_limit: expected an integer between 1 and "
     "100000, got 100001",
     false},
    {RA("'resources': [{'model': 'm', 'max_limit_clamp': 0}]"),
     "t.json: $.request_admission.resources[0].max_limit_clamp: expected an integer between 1 and "
     "100000, got 0",
     false},
    {RA("'resources': [{'model': 'm', 'max_limit_clamp': 4294967296}]"),
     "t.json: $.request_admission.resources[0].max_limit_clamp: expected an integer between 1 and "
     "100000, got 4294967296",
     false},
    {HEAD "'models': [{'alias': 'm', 'provider': 'p', 'model': 'm1', 'max_parallel_requests': 4}, "
          "{'alias': 'm2', 'provider': 'p', 'model': 'm1', 'max_parallel_requests': 2}], "
          "'providers': [{'model': 'm2', 'domain': 'image', " LAT "}], "
          "'request_admission': {'resources': [{'model': 'm', 'domain': 'image'}, "
          "{'model': 'm2', 'domain': 'image'}]}, 'columns': [" COL_A "]}",
     "t.json: $.request_admission.resources[1]: expected a model endpoint and domain pair not "
     "listed before, got 'p/m1' and 'image' again",
     false},
    {RA("'resources': [{'model': 'm', 'domain': 'embedding'}]"),
     "t.json: $.request_admission.resources[0]: expected a $.providers entry for model 'm' and "
     "domain 'embedding', got none",
     false},
    /* ---- providers ---- */
    {HEAD MODELS "'providers': 1, 'columns': [" COL_A "]}",
     "t.json: $.providers: expected an array of at most 64 providers, got 1", false},
    {HEAD MODELS "'providers': [{'model': 'm'}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0]: missing required key 'latency'", false},
    {HEAD MODELS "'providers': [{" LAT "}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0]: missing required key 'model'", false},
    {HEAD MODELS "'providers': [{'model': 'q', " LAT "}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0].model: expected a model alias named in $.models, got 'q'", false},
    {HEAD MODELS "'providers': [{'model': 'm', " LAT "}, {'model': 'm', 'domain': 'chat', " LAT
                 "}], 'columns': [" COL_A "]}",
     "t.json: $.providers[1]: expected a model endpoint and domain pair not listed before, got "
     "'p/m1' and 'chat' again",
     false},
    {PROVX("'max_concurrent': -1"),
     "t.json: $.providers[0].max_concurrent: expected an integer between 0 and 4294967295, got -1",
     false},
    {PROVX("'requests_per_minute': 2000000"),
     "t.json: $.providers[0].requests_per_minute: expected a number between 0 and 1000000, got "
     "2000000",
     false},
    {PROVX("'retry_after_seconds': -1"),
     "t.json: $.providers[0].retry_after_seconds: expected null or a number between 0 and "
     "1000000000, got -1",
     false},
    {PROVX("'rate_limited_latency_seconds': -0.5"),
     "t.json: $.providers[0].rate_limited_latency_seconds: expected a number between 0 and "
     "1000000000, got -0.5",
     false},
    {PROVX("'failure_probability': 1.5"),
     "t.json: $.providers[0].failure_probability: expected a number between 0 and 1, got 1.5",
     false},
    {PROVX("'failure_probability': 0.6, 'timeout_probability': 0.5"),
     "t.json: $.providers[0]: expected probabilities summing to at most 1, got 0.6 + 0.5", false},
    {PROVX("'timeout_seconds': 0"),
     "t.json: $.providers[0].timeout_seconds: expected a number > 0 and <= 1000000000, got 0",
     false},
    {PROVX("'latency_seconds': 1"),
     "t.json: $.providers[0].latency_seconds: unknown key (expected one of: model, domain, "
     "latency, "
     "max_concurrent, requests_per_minute, retry_after_seconds, rate_limited_latency_seconds, "
     "failure_probability, timeout_probability, timeout_seconds, windows)",
     false},
    {PROVX("'windows': {}"),
     "t.json: $.providers[0].windows: expected an array of at most 16 windows, got {}", false},
    {WIN("{'kind': 'storm', 'start_seconds': 1, 'end_seconds': 2}"),
     "t.json: $.providers[0].windows[0].kind: expected 'outage', 'capacity' or 'latency', got "
     "'storm'",
     false},
    {WIN("{'kind': 'outage', 'end_seconds': 2}"),
     "t.json: $.providers[0].windows[0]: missing required key 'start_seconds'", false},
    {WIN("{'kind': 'outage', 'start_seconds': 5, 'end_seconds': 5}"),
     "t.json: $.providers[0].windows[0].end_seconds: expected a number > 5 and <= 1000000000, got "
     "5",
     false},
    {WIN("{'kind': 'outage', 'start_seconds': 1, 'end_seconds': 2, 'multiplier': 2}"),
     "t.json: $.providers[0].windows[0].multiplier: unknown key (expected one of: kind, "
     "start_seconds, end_seconds)",
     false},
    {WIN("{'kind': 'capacity', 'start_seconds': 1, 'end_seconds': 2}"),
     "t.json: $.providers[0].windows[0]: missing required key 'max_concurrent' or "
     "'requests_per_minute'",
     false},
    {WIN("{'kind': 'capacity', 'start_seconds': 1, 'end_seconds': 2, 'requests_per_minute': -1}"),
     "t.json: $.providers[0].windows[0].requests_per_minute: expected a number between 0 and "
     "1000000, got -1",
     false},
    {WIN("{'kind': 'latency', 'start_seconds': 1, 'end_seconds': 2}"),
     "t.json: $.providers[0].windows[0]: missing required key 'multiplier'", false},
    {WIN("{'kind': 'latency', 'start_seconds': 1, 'end_seconds': 2, 'multiplier': 0}"),
     "t.json: $.providers[0].windows[0].multiplier: expected a number > 0, got 0", false},
    /* ---- empirical distributions ---- */
    {HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical'}}], "
                 "'columns': [" COL_A "]}",
     "t.json: $.providers[0].latency: missing required key 'file'", false},
    {HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical', 'file': ''}}], "
                 "'columns': [" COL_A "]}",
     "t.json: $.providers[0].latency.file: expected a non-empty string (a CSV file path), got ''",
     false},
    {HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical', 'file': 'x.csv', "
                 "'mean': 1}}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0].latency.mean: unknown key (expected one of: dist, file)", false},
    {HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical', "
                 "'file': '/nonexistent/x.csv'}}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0].latency.file: /nonexistent/x.csv: cannot read: No such file or "
     "directory",
     false},
    {HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical', "
                 "'file': '" DATA("trace_negative.csv") "'}}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0].latency.file: " DATA(
         "trace_negative.csv") ":2: expected a number between 0 and "
                               "1000000000 (the limit of one duration), got '-0.5'",
     false},
    {HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical', "
                 "'file': '" DATA("trace_text.csv") "'}}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0].latency.file: " DATA(
         "trace_text.csv") ":3: expected a number between 0 and "
                           "1000000000 (the limit of one duration), got 'fast'",
     false},
    {HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical', "
                 "'file': '" DATA("trace_hex.csv") "'}}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0].latency.file: " DATA(
         "trace_hex.csv") ":3: expected a number between 0 and "
                          "1000000000 (the limit of one duration), got '0x10'",
     false},
    {HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical', "
                 "'file': '" DATA("trace_inf.csv") "'}}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0].latency.file: " DATA(
         "trace_inf.csv") ":2: expected a number between 0 and "
                          "1000000000 (the limit of one duration), got 'inf'",
     false},
    {HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical', "
                 "'file': '" DATA("trace_empty.csv") "'}}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0].latency.file: " DATA("trace_empty.csv") ": expected at least 1 "
                                                                     "sample, got none",
     false},
    {HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical', "
                 "'file': '" ADMIT_TEST_DATA_DIR "'}}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0].latency.file: " ADMIT_TEST_DATA_DIR ": expected a latency trace in a "
     "regular file, got a directory",
     false},
    /* budgets: devices and FIFOs are refused before they are opened; lines are bounded */
    {HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical', "
                 "'file': '/dev/zero'}}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0].latency.file: /dev/zero: expected a latency trace in a regular file, "
     "got a character device",
     false},
    {HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical', "
                 "'file': '" DATA("trace_nul.csv") "'}}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0].latency.file: " DATA("trace_nul.csv") ":3: expected a line of text, "
                                                                   "got a NUL byte",
     false},
    {HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical', "
                 "'file': '" DATA("trace_long.csv") "'}}], 'columns': [" COL_A "]}",
     "t.json: $.providers[0].latency.file: " DATA("trace_long.csv") ":3: expected a line of "
                                                                    "text, got a line longer "
                                                                    "than 4096 bytes",
     false},
    {HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'empirical', 'file': '" DATA(
         "trace_text.csv") "'}}]}",
     "t.json: $.columns[0].duration.file: " DATA(
         "trace_text.csv") ":3: expected a number between 0 and "
                           "1000000000 (the limit of one duration), got 'fast'",
     false},
    /* ---- programs and retry ---- */
    {HEAD MODELS PROV "'columns': [{'name': 'a', " DUR ", 'program': [" CALL_M "]}]}",
     "t.json: $.columns[0]: expected either 'duration' or 'program', got both", false},
    {HEAD MODELS PROV PCOL("[]"),
     "t.json: $.columns[0].program: expected an array of 1 to 16 "
     "steps, got []",
     false},
    {HEAD MODELS PROV PCOL("{}"),
     "t.json: $.columns[0].program: expected an array of 1 to 16 "
     "steps, got {}",
     false},
    {HEAD MODELS PROV PCOL("[" CALL_M ", 3]"),
     "t.json: $.columns[0].program[1]: expected an object, got 3", false},
    {HEAD MODELS PROV PCOL("[{}]"),
     "t.json: $.columns[0].program[0]: missing required key 'local' or 'call'", false},
    {HEAD MODELS PROV PCOL("[{'local': {'dist': 'constant', 'seconds': 1}, 'call': {'model': "
                           "'m'}}]"),
     "t.json: $.columns[0].program[0]: expected exactly one of 'local' or 'call', got both", false},
    {HEAD MODELS PROV PCOL("[{'sleep': 1}]"),
     "t.json: $.columns[0].program[0].sleep: unknown key (expected one of: local, call)", false},
    {HEAD MODELS PROV PCOL("[{'local': {'dist': 'constant', 'seconds': -1}}]"),
     "t.json: $.columns[0].program[0].local.seconds: expected a number between 0 and 1000000000, "
     "got -1",
     false},
    {HEAD MODELS PROV PCOL("[{'local': 0.5}]"),
     "t.json: $.columns[0].program[0].local: expected an object, got 0.5", false},
    {HEAD MODELS PROV PCOL("[{'call': {'count': 1}}]"),
     "t.json: $.columns[0].program[0].call: missing required key 'model'", false},
    {HEAD MODELS PROV PCOL("[{'call': {'model': 'zzz'}}]"),
     "t.json: $.columns[0].program[0].call.model: expected a model alias named in $.models, got "
     "'zzz'",
     false},
    {HEAD MODELS PROV PCOL("[{'call': {'model': 'm', 'tokens': 5}}]"),
     "t.json: $.columns[0].program[0].call.tokens: unknown key (expected one of: model, domain, "
     "count)",
     false},
    {HEAD MODELS PROV PCOL("[" CALL_M ", {'call': {'model': 'm', 'domain': 'embedding'}}]"),
     "t.json: $.columns[0].program[1].call: expected a $.providers entry for model 'm' and domain "
     "'embedding', got none",
     false},
    {HEAD MODELS PCOL("[" CALL_M "]"),
     "t.json: $.columns[0].program[0].call: expected a $.providers entry for model 'm' and domain "
     "'chat', got none",
     false},
    {COUNT("-1"),
     "t.json: $.columns[0].program[0].call.count: expected an integer between 0 and 10000, "
     "got -1",
     false},
    {COUNT("4294967295"),
     "t.json: $.columns[0].program[0].call.count: expected an integer between 0 and 10000, "
     "got 4294967295",
     false},
    {COUNT("'two'"),
     "t.json: $.columns[0].program[0].call.count: expected an integer >= 0 or an object with "
     "'branch' or 'until_valid', got 'two'",
     false},
    {COUNT("{}"),
     "t.json: $.columns[0].program[0].call.count: missing required key 'branch' or 'until_valid'",
     false},
    {COUNT("{'branch': 1.5, 'then': 1, 'else': 0}"),
     "t.json: $.columns[0].program[0].call.count.branch: expected a number between 0 and 1, got "
     "1.5",
     false},
    {COUNT("{'branch': 0.5, 'then': 1}"),
     "t.json: $.columns[0].program[0].call.count: missing required key 'else'", false},
    {COUNT("{'branch': 0.5, 'then': -1, 'else': 0}"),
     "t.json: $.columns[0].program[0].call.count.then: expected an integer between 0 and "
     "10000, got -1",
     false},
    {COUNT("{'branch': 0.5, 'then': 1, 'else': 0, 'until_valid': 0.5}"),
     "t.json: $.columns[0].program[0].call.count.until_valid: unknown key (expected one of: "
     "branch, then, else)",
     false},
    {COUNT("{'until_valid': 0, 'max': 3}"),
     "t.json: $.columns[0].program[0].call.count.until_valid: expected a number > 0 and <= 1, got "
     "0",
     false},
    {COUNT("{'until_valid': 0.5, 'max': 0}"),
     "t.json: $.columns[0].program[0].call.count.max: expected an integer between 1 and "
     "10000, got 0",
     false},
    {COUNT("{'until_valid': 0.5, 'max': 4294967295}"),
     "t.json: $.columns[0].program[0].call.count.max: expected an integer between 1 and "
     "10000, got 4294967295",
     false},
    {COUNT("{'until_valid': 0.5}"),
     "t.json: $.columns[0].program[0].call.count: missing required key 'max'", false},
    {HEAD "'columns': [{'name': 'a', " DUR ", 'retry': {'max_attempts': 0}}]}",
     "t.json: $.columns[0].retry.max_attempts: expected an integer between 1 and 100, got 0",
     false},
    {HEAD "'columns': [{'name': 'a', " DUR ", 'retry': {'max_attempts': 4294967295}}]}",
     "t.json: $.columns[0].retry.max_attempts: expected an integer between 1 and 100, got "
     "4294967295",
     false},
    {HEAD "'failures': {'salvage_max_rounds': 101}, 'columns': [" COL_A "]}",
     "t.json: $.failures.salvage_max_rounds: expected an integer between 0 and 100, got 101",
     false},
    {"{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, 'records': 100000000, "
     "'capacity': {'submission': 1}, 'columns': [" COL_A "]}",
     "t.json: $.records: expected at most 2000000 tasks in all (a task per row of each "
     "cell_by_cell column, per row group of each full_column one), got 100000000",
     false},
    {"{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, 'records': 2000, "
     "'capacity': {'submission': 1}, 'models': [{'alias': 'm', 'provider': 'p', 'model': 'm1', "
     "'max_parallel_requests': 1}], 'providers': [{'model': 'm', 'latency': {'dist': "
     "'constant', 'seconds': 1}}], 'columns': [{'name': 'a', 'program': [{'call': {'model': "
     "'m', 'count': 10000}}]}]}",
     "t.json: $.columns: expected at most 5000000 units of planned work (per task: 1 + its most "
     "calls x retry.max_attempts, x (salvage_max_rounds + 1)), got 180006000",
     false},
    {HEAD "'columns': [{'name': 'a', " DUR ", 'retry': {'backoff_seconds': -1}}]}",
     "t.json: $.columns[0].retry.backoff_seconds: expected a number between 0 and 1000000000, got "
     "-1",
     false},
    {HEAD "'columns': [{'name': 'a', " DUR ", 'retry': {'attempts': 2}}]}",
     "t.json: $.columns[0].retry.attempts: unknown key (expected one of: max_attempts, "
     "backoff_seconds)",
     false},
    /* ---- scheduling by model alias ---- */
    {SCHED("{'kind': 'model', 'model': 'm', 'identity': ['p', 'm1', 'chat']}"),
     "t.json: $.columns[0].scheduling: expected either 'identity' or 'model', got both", false},
    {SCHED("{'kind': 'model'}"),
     "t.json: $.columns[0].scheduling: missing required key 'identity' or 'model'", false},
    {SCHED("{'kind': 'custom_model', 'model': 'm'}"),
     "t.json: $.columns[0].scheduling.model: expected kind 'model' for a model alias, got 'm'",
     false},
    {SCHED("{'kind': 'model', 'identity': ['p', 'm1', 'chat'], 'domain': 'chat'}"),
     "t.json: $.columns[0].scheduling.domain: expected 'domain' only together with 'model', got "
     "'chat'",
     false},
    {SCHED("{'kind': 'model', 'model': 'zzz'}"),
     "t.json: $.columns[0].scheduling.model: expected a model alias named in $.models, got 'zzz'",
     false},
    {SCHED("{'kind': 'model', 'model': 'm', 'domain': 'video'}"),
     "t.json: $.columns[0].scheduling.domain: expected 'chat', 'embedding', 'image' or "
     "'healthcheck', got 'video'",
     false},
};

static void test_malformed(void **state) {
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        sim_error err = {0};
        sim_scenario *s = parse_q(BAD[i].json, &err);
        char *want = dq(BAD[i].message);
        if (s || (BAD[i].partial ? strstr(err.message, want) != err.message
                                 : strcmp(err.message, want) != 0)) {
            print_error("case %zu:\n  want %s%s\n  got  %s\n", i, want, BAD[i].partial ? "..." : "",
                        s ? "(parsed)" : err.message);
            failures++;
        }
        sim_scenario_free(s);
        free(want);
    }
    assert_int_equal(failures, 0);
}

/* Limits that need long documents: 257 columns, 17 dependencies. */
static void test_limits(void **state) {
    (void)state;
    size_t cap = 64 * 1024, len = 0;
    char *json = malloc(cap);
    assert_non_null(json);
    len += (size_t)snprintf(json + len, cap - len, "%s'columns': [", HEAD);
    for (int i = 0; i < RUN_MAX_COLUMNS + 1; i++)
        len +=
            (size_t)snprintf(json + len, cap - len, "%s{'name': 'c%d', %s}", i ? ", " : "", i, DUR);
    snprintf(json + len, cap - len, "]}");
    sim_error err = {0};
    assert_null(parse_q(json, &err));
    assert_string_equal(err.message, "t.json: $.columns: expected a non-empty array of at most 256 "
                                     "columns, got an array of 257 items");

    len = 0;
    len += (size_t)snprintf(json + len, cap - len, "%s'columns': [", HEAD);
    for (int i = 0; i < RUN_MAX_DEPS + 1; i++)
        len += (size_t)snprintf(json + len, cap - len, "{'name': 'c%d', %s}, ", i, DUR);
    len += (size_t)snprintf(json + len, cap - len, "{'name': 'last', %s, 'depends_on': [", DUR);
    for (int i = 0; i < RUN_MAX_DEPS + 1; i++)
        len += (size_t)snprintf(json + len, cap - len, "%s'c%d'", i ? ", " : "", i);
    snprintf(json + len, cap - len, "]}]}");
    assert_null(parse_q(json, &err));
    assert_string_equal(err.message, "t.json: $.columns[17].depends_on: expected an array of at "
                                     "most 16 column names, got an array of 17 items");
    free(json);
}

static void test_minimal_defaults(void **state) {
    (void)state;
    sim_error err = {0};
    sim_scenario *s = parse_q(HEAD "'columns': [" COL_A "]}", &err);
    assert_non_null(s);
    assert_string_equal(s->config.path, "t.json");
    assert_string_equal(s->config.scenario_id, "t");
    assert_int_equal(s->config.scenario_version, 1);
    assert_string_equal(s->config.description, "");
    assert_int_equal(s->config.records, 10);
    assert_int_equal(s->config.buffer_size, 10);
    assert_int_equal(s->config.max_concurrent_row_groups, 0);
    assert_int_equal(s->config.model_group_limit_cap, 64);
    assert_int_equal(s->config.capacity_count, 2);
    assert_int_equal(s->config.default_policy, RUN_POLICY_BOUNDED);
    assert_int_equal(s->config.rounding, ADMIT_SHARE_CEIL);
    assert_true(s->config.reserve_fraction == 0.0);
    assert_int_equal(s->config.max_reserved_slots, 8);
    assert_int_equal(s->config.default_ceiling, -1);
    assert_int_equal(s->config.ceiling_count, 0);
    assert_int_equal(s->config.salvage_max_rounds, 2);
    assert_true(s->config.shutdown_error_rate == 0.5);
    assert_int_equal(s->config.shutdown_error_window, 10);
    assert_true(s->env.spawn_failure_probability == 0.0);
    assert_int_equal(s->env.cancel_at_ns, -1);
    assert_int_equal(s->config.column_count, 1);
    const run_column *c = &s->config.columns[0];
    const sim_column *c_env = &s->env.columns[0];
    assert_string_equal(c->name, "a");
    assert_int_equal(c->strategy, ADMIT_CELL_BY_CELL);
    assert_int_equal(c->dep_count, 0);
    assert_int_equal(c->rows, 0);
    assert_int_equal(c->ready_at_ns, 0);
    assert_int_equal(c_env->duration.kind, SIM_DIST_CONSTANT);
    assert_true(c_env->duration.a == 1.0);
    assert_true(c_env->retryable_probability == 0.0 && c_env->non_retryable_probability == 0.0);
    assert_false(c->has_metadata);
    assert_int_equal(c->admitted_limit, 0);
    assert_int_equal(c->resource_count, 0);
    assert_int_equal(run_config_task_count(&s->config), 10);
    sim_scenario_free(s);
}

static const char FULL[] =
    "{'schema': 1, 'scenario_id': 'heavy_root-2.x', 'scenario_version': 3,"
    " 'description': 'every field', 'records': 10, 'buffer_size': 4,"
    " 'max_concurrent_row_groups': 2, 'model_group_limit_cap': 16,"
    " 'capacity': {'zeta': 3, 'submission': 8, 'request:p/m': 2, 'alpha': 5, 'llm_wait': 6},"
    " 'policy': {'default': 'strict', 'strict_share_rounding': 'floor', 'reserve_fraction': 0.25,"
    "   'max_reserved_slots': 3, 'default_borrow_ceiling': 7, 'borrow_ceilings': ["
    "     {'column': 'hot', 'resource': 'llm_wait', 'ceiling': 2},"
    "     {'column': 'seed', 'resource': 'request:p/m', 'ceiling': 0}]},"
    " 'failures': {'salvage_max_rounds': 0, 'shutdown_error_rate': 1, 'shutdown_error_window': 4,"
    "   'spawn_failure_probability': 0.125},"
    " 'cancel_at_seconds': 3.5,"
    " 'columns': ["
    "  {'name': 'seed', 'strategy': 'full_column', 'duration': {'dist': 'uniform', 'low': 0.1,"
    "   'high': 0.3}},"
    "  {'name': 'hot', 'depends_on': ['seed'], 'rows': 9, 'ready_at_seconds': 0.05,"
    "   'duration': {'dist': 'exponential', 'mean': 0.5},"
    "   'failure': {'retryable_probability': 0.25, 'non_retryable_probability': 0.75},"
    "   'scheduling': {'kind': 'model', 'identity': ['bench', 'hot', 'v1'], 'weight': 4,"
    "     'admitted_limit': 8}},"
    "  {'name': 'cool', 'strategy': 'full_column', 'depends_on': ['hot', 'seed'], 'rows': 5,"
    "   'duration': {'dist': 'lognormal', 'mu': -1.5, 'sigma': 0.5},"
    "   'scheduling': {'kind': 'custom_model', 'identity': ['ns', 'res', 'v2'],"
    "     'resources': {'alpha': 2, 'submission': 1, 'zeta': 3}}},"
    "  {'name': 'tail', 'depends_on': ['cool'], 'rows': 5,"
    "   'duration': {'dist': 'gamma', 'shape': 2, 'scale': 0.25},"
    "   'scheduling': {'kind': 'local', 'identity': ['cpu']}}]}";

static void test_full(void **state) {
    (void)state;
    sim_error err = {0};
    sim_scenario *s = parse_q(FULL, &err);
    if (!s) print_error("%s\n", err.message);
    assert_non_null(s);
    assert_string_equal(s->config.scenario_id, "heavy_root-2.x");
    assert_int_equal(s->config.scenario_version, 3);
    assert_string_equal(s->config.description, "every field");
    assert_int_equal(s->config.records, 10);
    assert_int_equal(s->config.buffer_size, 4);
    assert_int_equal(s->config.max_concurrent_row_groups, 2);
    assert_int_equal(s->config.model_group_limit_cap, 16);
    /* capacity keeps the file's key order */
    static const char *const order[] = {"zeta", "submission", "request:p/m", "alpha", "llm_wait"};
    static const uint32_t amounts[] = {3, 8, 2, 5, 6};
    assert_int_equal(s->config.capacity_count, 5);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(s->config.capacity[i].name, order[i]);
        assert_int_equal(s->config.capacity[i].amount, amounts[i]);
    }
    assert_int_equal(s->config.default_policy, RUN_POLICY_STRICT);
    assert_int_equal(s->config.rounding, ADMIT_SHARE_FLOOR);
    assert_true(s->config.reserve_fraction == 0.25);
    assert_int_equal(s->config.max_reserved_slots, 3);
    assert_int_equal(s->config.default_ceiling, 7);
    assert_int_equal(s->config.ceiling_count, 2);
    assert_int_equal(s->config.ceilings[0].column, 1);
    assert_string_equal(s->config.ceilings[0].resource, "llm_wait");
    assert_int_equal(s->config.ceilings[0].ceiling, 2);
    assert_int_equal(s->config.ceilings[1].column, 0);
    assert_string_equal(s->config.ceilings[1].resource, "request:p/m");
    assert_int_equal(s->config.ceilings[1].ceiling, 0);
    assert_int_equal(s->config.salvage_max_rounds, 0);
    assert_true(s->config.shutdown_error_rate == 1.0);
    assert_int_equal(s->config.shutdown_error_window, 4);
    assert_true(s->env.spawn_failure_probability == 0.125);
    assert_int_equal(s->env.cancel_at_ns, 3500000000LL);
    assert_int_equal(s->config.column_count, 4);

    const run_column *seed = &s->config.columns[0], *hot = &s->config.columns[1],
                     *cool = &s->config.columns[2], *tail = &s->config.columns[3];
    const sim_column *seed_env = &s->env.columns[0], *hot_env = &s->env.columns[1],
                     *cool_env = &s->env.columns[2], *tail_env = &s->env.columns[3];
    assert_int_equal(seed->strategy, ADMIT_FULL_COLUMN);
    assert_int_equal(seed_env->duration.kind, SIM_DIST_UNIFORM);
    assert_true(seed_env->duration.a == 0.1 && seed_env->duration.b == 0.3);
    assert_false(seed->has_metadata);

    assert_int_equal(hot->strategy, ADMIT_CELL_BY_CELL);
    assert_int_equal(hot->dep_count, 1);
    assert_int_equal(hot->deps[0], 0);
    assert_int_equal(hot->rows, 9);
    assert_int_equal(hot->ready_at_ns, 50000000);
    assert_int_equal(hot_env->duration.kind, SIM_DIST_EXPONENTIAL);
    assert_true(hot_env->duration.a == 0.5);
    assert_true(hot_env->retryable_probability == 0.25 &&
                hot_env->non_retryable_probability == 0.75);
    assert_true(hot->has_metadata);
    assert_int_equal(hot->metadata.kind, ADMIT_KIND_MODEL);
    assert_string_equal(hot->metadata.identity[0], "bench");
    assert_string_equal(hot->metadata.identity[1], "hot");
    assert_string_equal(hot->metadata.identity[2], "v1");
    assert_int_equal(hot->metadata.weight, 4);
    assert_int_equal(hot->admitted_limit, 8);
    assert_int_equal(hot->resource_count, 0);

    assert_int_equal(cool->dep_count, 2);
    assert_int_equal(cool->deps[0], 1);
    assert_int_equal(cool->deps[1], 0);
    assert_int_equal(cool_env->duration.kind, SIM_DIST_LOGNORMAL);
    assert_true(cool_env->duration.a == -1.5 && cool_env->duration.b == 0.5);
    assert_int_equal(cool->metadata.kind, ADMIT_KIND_CUSTOM_MODEL);
    assert_int_equal(cool->metadata.weight, 1);
    assert_int_equal(cool->admitted_limit, 0);
    assert_int_equal(cool->resource_count, 3); /* in the file's order */
    assert_string_equal(cool->resources[0].name, "alpha");
    assert_int_equal(cool->resources[0].amount, 2);
    assert_string_equal(cool->resources[1].name, "submission");
    assert_string_equal(cool->resources[2].name, "zeta");
    assert_int_equal(cool->resources[2].amount, 3);

    assert_int_equal(tail_env->duration.kind, SIM_DIST_GAMMA);
    assert_true(tail_env->duration.a == 2.0 && tail_env->duration.b == 0.25);
    assert_int_equal(tail->metadata.kind, ADMIT_KIND_LOCAL);
    assert_string_equal(tail->metadata.identity[0], "cpu");
    assert_string_equal(tail->metadata.identity[1], "");

    /* seed: 3 row groups; hot: 9 cells; cool: rows 0-4 in 2 groups; tail: 5 cells */
    assert_int_equal(run_config_task_count(&s->config), 3 + 9 + 2 + 5);
    assert_int_equal(run_config_column_index(&s->config, "cool"), 2);
    assert_int_equal(run_config_column_index(&s->config, "nope"), -1);
    sim_scenario_free(s);
}

/* Metadata the core resolver judges (SPEC §3) passes the loader untouched. */
static void test_resolver_judges_metadata(void **state) {
    (void)state;
    sim_error err = {0};
    sim_scenario *s = parse_q(HEAD "'buffer_size': 50, 'columns': [{'name': 'a', " DUR
                                   ", 'scheduling': {'kind': 'model', 'identity': ['', ''], "
                                   "'weight': -3}}]}",
                              &err);
    if (!s) print_error("%s\n", err.message);
    assert_non_null(s);
    assert_int_equal(s->config.buffer_size, 10); /* clamped to records */
    assert_int_equal(s->config.columns[0].metadata.weight, -3);
    assert_string_equal(s->config.columns[0].metadata.identity[0], "");
    sim_scenario_free(s);
}

/* Capacity order survives many keys (jansson iterates in insertion order). */
static void test_capacity_order(void **state) {
    (void)state;
    char json[4096];
    size_t len = (size_t)snprintf(json, sizeof json,
                                  "{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, "
                                  "'records': 1, 'capacity': {");
    for (int i = RUN_MAX_RESOURCES - 1; i >= 0; i--)
        len += (size_t)snprintf(json + len, sizeof json - len, "'r%02d': %d, ", i, i + 1);
    snprintf(json + len, sizeof json - len, "'submission': 1}, 'columns': [%s]}", COL_A);
    sim_error err = {0};
    assert_null(parse_q(json, &err)); /* 33 resources */
    assert_string_equal(err.message, "t.json: $.capacity: expected at most 32 resources, got 33");

    len = (size_t)snprintf(json, sizeof json,
                           "{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, "
                           "'records': 1, 'capacity': {");
    for (int i = RUN_MAX_RESOURCES - 2; i >= 0; i--)
        len +=
            (size_t)snprintf(json + len, sizeof json - len, "'r%02d': %d, ", (i * 7) % 31, i + 1);
    snprintf(json + len, sizeof json - len, "'submission': 1}, 'columns': [%s]}", COL_A);
    sim_scenario *s = parse_q(json, &err);
    if (!s) print_error("%s\n", err.message);
    assert_non_null(s);
    assert_int_equal(s->config.capacity_count, RUN_MAX_RESOURCES);
    for (int i = RUN_MAX_RESOURCES - 2, k = 0; i >= 0; i--, k++) {
        char name[8];
        snprintf(name, sizeof name, "r%02d", (i * 7) % 31);
        assert_string_equal(s->config.capacity[k].name, name);
        assert_int_equal(s->config.capacity[k].amount, i + 1);
    }
    assert_string_equal(s->config.capacity[RUN_MAX_RESOURCES - 1].name, "submission");
    sim_scenario_free(s);
}

static void test_task_count(void **state) {
    (void)state;
    sim_error err = {0};
    sim_scenario *s =
        parse_q("{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, 'records': 10, "
                "'buffer_size': 4, 'capacity': {'submission': 1}, 'columns': ["
                "{'name': 'a', " DUR "}, {'name': 'b', 'strategy': 'full_column', " DUR "}, "
                "{'name': 'c', 'strategy': 'full_column', 'rows': 5, " DUR "}, "
                "{'name': 'd', 'strategy': 'full_column', 'rows': 4, " DUR "}, "
                "{'name': 'e', 'rows': 5, " DUR "}]}",
                &err);
    assert_non_null(s);
    assert_int_equal(run_config_task_count(&s->config), 10 + 3 + 2 + 1 + 5);
    sim_scenario_free(s);
}

/* Every request-stage key at once. */
static const char REQUEST_FULL[] =
    "{'schema': 1, 'scenario_id': 'req', 'scenario_version': 1, 'records': 4,"
    " 'capacity': {'submission': 4, 'llm_wait': 4},"
    " 'models': ["
    "  {'alias': 'fast', 'provider': 'openai', 'model': 'gpt-4o-mini', 'max_parallel_requests': 8},"
    "  {'alias': 'fast-eu', 'provider': 'openai', 'model': 'gpt-4o-mini',"
    "   'max_parallel_requests': 6},"
    "  {'alias': 'judge', 'provider': 'anthropic', 'model': 'claude', 'max_parallel_requests': 3},"
    "  {'alias': 'embed', 'provider': 'openai', 'model': 'text-embedding-3',"
    "   'max_parallel_requests': 16}],"
    " 'request_admission': {'md_factor': 0.5, 'ai_step': 2, 'successes_until_increase': 10,"
    "  'cooldown_seconds': 1.5, 'startup_ramp_seconds': 4, 'queue_wait_timeout_seconds': 30,"
    "  'resources': [{'model': 'fast', 'initial_limit': 4, 'max_limit_clamp': 6},"
    "   {'model': 'embed', 'domain': 'embedding', 'initial_limit': 2}]},"
    " 'providers': ["
    "  {'model': 'fast', 'latency': {'dist': 'lognormal', 'mu': -1, 'sigma': 0.5},"
    "   'max_concurrent': 10, 'requests_per_minute': 600, 'retry_after_seconds': 2,"
    "   'rate_limited_latency_seconds': 0.01, 'failure_probability': 0.05,"
    "   'timeout_probability': 0.01, 'timeout_seconds': 20,"
    "   'windows': [{'kind': 'outage', 'start_seconds': 10, 'end_seconds': 12},"
    "    {'kind': 'capacity', 'start_seconds': 20, 'end_seconds': 30, 'max_concurrent': 2},"
    "    {'kind': 'capacity', 'start_seconds': 40, 'end_seconds': 50, 'requests_per_minute': 30},"
    "    {'kind': 'latency', 'start_seconds': 5, 'end_seconds': 6.5, 'multiplier': 2.5}]},"
    "  {'model': 'judge', 'latency': {'dist': 'empirical', 'file': '" DATA(
        "latency_trace.csv") "'},"
                             "   'retry_after_seconds': 0},"
                             "  {'model': 'embed', 'domain': 'embedding', 'latency': {'dist': "
                             "'constant', 'seconds': 0.02},"
                             "   'retry_after_seconds': null}],"
                             " 'policy': {'default': 'provider_aware'},"
                             " 'columns': ["
                             "  {'name': 'q', 'program': [{'local': {'dist': 'constant', "
                             "'seconds': 0.1}},"
                             "    {'call': {'model': 'fast', 'count': 2}},"
                             "    {'call': {'model': 'embed', 'domain': 'embedding', 'count': 0}}],"
                             "   'retry': {'max_attempts': 5, 'backoff_seconds': 0.25},"
                             "   'scheduling': {'kind': 'model', 'model': 'fast-eu'}},"
                             "  {'name': 'a', 'depends_on': ['q'],"
                             "   'program': [{'call': {'model': 'judge', 'count': {'branch': 0.3, "
                             "'then': 2, 'else': 1}}},"
                             "    {'call': {'model': 'fast-eu', 'count': {'until_valid': 0.8, "
                             "'max': 4}}},"
                             "    {'call': {'model': 'judge'}}],"
                             "   'scheduling': {'kind': 'model', 'model': 'judge', 'domain': "
                             "'chat', 'weight': 7}},"
                             "  {'name': 'e', 'duration': {'dist': 'empirical', 'file': '" DATA(
                                 "latency_trace.csv") "'},"
                                                      "   'scheduling': {'kind': 'model', 'model': "
                                                      "'embed', 'domain': 'embedding'}}]}";

/* latency_trace.csv: a header, comments, blank lines, extra fields, CRLF */
static const double TRACE[] = {0.125, 0.25, 0.5, 1.5, 0.0625};

static void assert_trace(const sim_dist *d) {
    assert_int_equal(d->kind, SIM_DIST_EMPIRICAL);
    assert_non_null(d->samples);
    assert_int_equal(d->sample_count, 5);
    for (int i = 0; i < 5; i++)
        assert_true(d->samples[i] == TRACE[i]);
}

/* A UTF-8 byte order mark is not a header: the first value counts. */
static void test_trace_with_bom(void **state) {
    (void)state;
    sim_error err = {0};
    sim_scenario *s = parse_q(
        "{'schema': 1, 'scenario_id': 't', 'scenario_version': 1, "
        "'records': 1, 'capacity': {'submission': 1}, 'columns': "
        "[{'name': 'a', 'duration': {'dist': 'empirical', 'file': '" DATA("trace_bom.csv") "'}}]}",
        &err);
    if (!s) print_error("%s\n", err.message);
    assert_non_null(s);
    assert_int_equal(s->env.columns[0].duration.sample_count, 2);
    assert_true(s->env.columns[0].duration.samples[0] == 0.5);
    sim_scenario_free(s);
}

static void test_request_full(void **state) {
    (void)state;
    sim_error err = {0};
    sim_scenario *s = parse_q(REQUEST_FULL, &err);
    if (!s) print_error("%s\n", err.message);
    assert_non_null(s);

    assert_int_equal(s->config.model_count, 4);
    assert_string_equal(s->config.models[1].alias, "fast-eu");
    assert_string_equal(s->config.models[1].provider, "openai");
    assert_string_equal(s->config.models[1].model_id, "gpt-4o-mini");
    assert_int_equal(s->config.models[1].max_parallel_requests, 6);
    assert_string_equal(s->config.models[3].model_id, "text-embedding-3");

    assert_true(s->config.aimd.md_factor == 0.5);
    assert_int_equal(s->config.aimd.ai_step, 2);
    assert_int_equal(s->config.aimd.successes_until_increase, 10);
    assert_int_equal(s->config.aimd.cooldown_ns, 1500000000LL);
    assert_int_equal(s->config.aimd.startup_ramp_ns, 4000000000LL);
    assert_int_equal(s->config.queue_wait_timeout_ns, 30000000000LL);
    assert_int_equal(s->config.request_limit_count, 2);
    assert_int_equal(s->config.request_limits[0].model, 0);
    assert_int_equal(s->config.request_limits[0].domain, ADMIT_DOMAIN_CHAT);
    assert_int_equal(s->config.request_limits[0].initial_limit, 4);
    assert_int_equal(s->config.request_limits[0].max_limit_clamp, 6);
    assert_int_equal(s->config.request_limits[1].model, 3);
    assert_int_equal(s->config.request_limits[1].domain, ADMIT_DOMAIN_EMBEDDING);
    assert_int_equal(s->config.request_limits[1].initial_limit, 2);
    assert_int_equal(s->config.request_limits[1].max_limit_clamp, 0);

    assert_int_equal(s->env.provider_count, 3);
    const sim_provider_spec *f = &s->env.providers[0], *j = &s->env.providers[1],
                            *e = &s->env.providers[2];
    assert_int_equal(f->model, 0);
    assert_int_equal(f->domain, ADMIT_DOMAIN_CHAT);
    assert_int_equal(f->latency.kind, SIM_DIST_LOGNORMAL);
    assert_true(f->latency.a == -1.0 && f->latency.b == 0.5);
    assert_int_equal(f->max_concurrent, 10);
    assert_true(f->requests_per_minute == 600);
    assert_int_equal(f->retry_after_ns, 2000000000LL);
    assert_int_equal(f->rate_limited_latency_ns, 10000000LL);
    assert_true(f->failure_probability == 0.05 && f->timeout_probability == 0.01);
    assert_int_equal(f->timeout_ns, 20000000000LL);
    assert_int_equal(f->window_count, 4);
    assert_int_equal(f->windows[0].kind, SIM_WINDOW_OUTAGE);
    assert_int_equal(f->windows[0].start_ns, 10000000000LL);
    assert_int_equal(f->windows[0].end_ns, 12000000000LL);
    /* a capacity window's missing keys keep the entry's base values */
    assert_int_equal(f->windows[1].kind, SIM_WINDOW_CAPACITY);
    assert_int_equal(f->windows[1].max_concurrent, 2);
    assert_true(f->windows[1].requests_per_minute == 600);
    assert_int_equal(f->windows[2].max_concurrent, 10);
    assert_true(f->windows[2].requests_per_minute == 30);
    assert_int_equal(f->windows[3].kind, SIM_WINDOW_LATENCY);
    assert_int_equal(f->windows[3].start_ns, 5000000000LL);
    assert_int_equal(f->windows[3].end_ns, 6500000000LL);
    assert_true(f->windows[3].latency_multiplier == 2.5);

    assert_int_equal(j->model, 2);
    assert_trace(&j->latency);
    assert_int_equal(j->retry_after_ns, 0); /* 0 is a Retry-After of 0, not "none" */
    assert_int_equal(j->max_concurrent, 0);
    assert_true(j->requests_per_minute == 0);
    assert_int_equal(j->rate_limited_latency_ns, 50000000LL);
    assert_true(j->failure_probability == 0 && j->timeout_probability == 0);
    assert_int_equal(j->timeout_ns, 30000000000LL);
    assert_int_equal(j->window_count, 0);

    assert_int_equal(e->model, 3);
    assert_int_equal(e->domain, ADMIT_DOMAIN_EMBEDDING);
    assert_int_equal(e->latency.kind, SIM_DIST_CONSTANT);
    assert_int_equal(e->retry_after_ns, -1);

    assert_int_equal(s->config.default_policy, RUN_POLICY_PROVIDER_AWARE);

    const run_column *q = &s->config.columns[0], *a = &s->config.columns[1],
                     *ec = &s->config.columns[2];
    const sim_column *q_env = &s->env.columns[0], *a_env = &s->env.columns[1],
                     *ec_env = &s->env.columns[2];
    assert_int_equal(q->step_count, 3);
    assert_int_equal(q->program[0].kind, RUN_STEP_LOCAL);
    assert_int_equal(q_env->program[0].duration.kind, SIM_DIST_CONSTANT);
    assert_true(q_env->program[0].duration.a == 0.1);
    assert_int_equal(q->program[1].kind, RUN_STEP_CALL);
    assert_int_equal(q->program[1].model, 0);
    assert_int_equal(q->program[1].domain, ADMIT_DOMAIN_CHAT);
    assert_int_equal(q_env->program[1].count_kind, SIM_COUNT_FIXED);
    assert_int_equal(q_env->program[1].count, 2);
    assert_int_equal(q->program[2].model, 3);
    assert_int_equal(q->program[2].domain, ADMIT_DOMAIN_EMBEDDING);
    assert_int_equal(q_env->program[2].count, 0);
    assert_int_equal(q->retry_max_attempts, 5);
    assert_int_equal(q->retry_backoff_ns, 250000000LL);
    /* by alias: identity of the endpoint, weight = its static cap min(8, 6) */
    assert_true(q->has_metadata);
    assert_int_equal(q->metadata.kind, ADMIT_KIND_MODEL);
    assert_string_equal(q->metadata.identity[0], "openai");
    assert_string_equal(q->metadata.identity[1], "gpt-4o-mini");
    assert_string_equal(q->metadata.identity[2], "chat");
    assert_int_equal(q->metadata.weight, 6);

    assert_int_equal(a->step_count, 3);
    assert_int_equal(a->program[0].model, 2);
    assert_int_equal(a_env->program[0].count_kind, SIM_COUNT_BRANCH);
    assert_true(a_env->program[0].probability == 0.3);
    assert_int_equal(a_env->program[0].count, 2);
    assert_int_equal(a_env->program[0].count_else, 1);
    assert_int_equal(a->program[1].model, 1);
    assert_int_equal(a_env->program[1].count_kind, SIM_COUNT_UNTIL_VALID);
    assert_true(a_env->program[1].probability == 0.8);
    assert_int_equal(a_env->program[1].count, 4);
    assert_int_equal(a_env->program[2].count_kind, SIM_COUNT_FIXED);
    assert_int_equal(a_env->program[2].count, 1); /* count defaults to one call */
    assert_int_equal(a->retry_max_attempts, 3);
    assert_int_equal(a->retry_backoff_ns, 500000000LL);
    assert_string_equal(a->metadata.identity[0], "anthropic");
    assert_string_equal(a->metadata.identity[1], "claude");
    assert_string_equal(a->metadata.identity[2], "chat");
    assert_int_equal(a->metadata.weight, 7); /* explicit weight wins */

    assert_int_equal(ec->step_count, 0);
    assert_trace(&ec_env->duration);
    assert_string_equal(ec->metadata.identity[2], "embedding");
    assert_int_equal(ec->metadata.weight, 16);

    assert_string_equal(sim_dist_kind_name(SIM_DIST_EMPIRICAL), "empirical");
    assert_true(sim_dist_mean_seconds(&ec_env->duration) ==
                (0.125 + 0.25 + 0.5 + 1.5 + 0.0625) / 5);
    sim_scenario_free(s);
}

/* Request-stage defaults when a file has none of the new keys. */
static void test_request_defaults(void **state) {
    (void)state;
    sim_error err = {0};
    sim_scenario *s = parse_q(HEAD "'columns': [" COL_A "]}", &err);
    assert_non_null(s);
    admit_aimd_config want;
    admit_aimd_config_init(&want);
    assert_true(s->config.aimd.md_factor == 0.75 && want.md_factor == 0.75);
    assert_int_equal(s->config.aimd.ai_step, 1);
    assert_int_equal(s->config.aimd.successes_until_increase, 25);
    assert_int_equal(s->config.aimd.cooldown_ns, 2000000000LL);
    assert_int_equal(s->config.aimd.startup_ramp_ns, 0);
    assert_int_equal(s->config.queue_wait_timeout_ns, 0);
    assert_int_equal(s->config.model_count, 0);
    assert_int_equal(s->env.provider_count, 0);
    assert_int_equal(s->config.request_limit_count, 0);
    assert_int_equal(s->config.columns[0].step_count, 0);
    assert_int_equal(s->config.columns[0].retry_max_attempts, 3);
    assert_int_equal(s->config.columns[0].retry_backoff_ns, 500000000LL);
    sim_scenario_free(s);

    /* an empty request_admission object keeps every default; null timeout = none */
    s = parse_q(HEAD "'request_admission': {'queue_wait_timeout_seconds': null}, "
                     "'columns': [" COL_A "]}",
                &err);
    assert_non_null(s);
    assert_true(s->config.aimd.md_factor == want.md_factor);
    assert_int_equal(s->config.aimd.cooldown_ns, want.cooldown_ns);
    assert_int_equal(s->config.queue_wait_timeout_ns, 0);
    sim_scenario_free(s);
}

/* Array limits of the new keys. */
static void test_request_limits(void **state) {
    (void)state;
    size_t cap = 64 * 1024, len = 0;
    char *json = malloc(cap);
    assert_non_null(json);
    sim_error err = {0};

    len = (size_t)snprintf(json, cap, "%s'models': [", HEAD);
    for (int i = 0; i < RUN_MAX_MODELS + 1; i++)
        len += (size_t)snprintf(json + len, cap - len,
                                "%s{'alias': 'a%d', 'provider': 'p', 'model': 'm%d', "
                                "'max_parallel_requests': 1}",
                                i ? ", " : "", i, i);
    snprintf(json + len, cap - len, "], 'columns': [%s]}", COL_A);
    assert_null(parse_q(json, &err));
    assert_string_equal(err.message,
                        "t.json: $.models: expected an array of at most 32 models, got an array "
                        "of 33 items");

    len = (size_t)snprintf(json, cap, "%s%s'providers': [{'model': 'm', %s, 'windows': [", HEAD,
                           MODELS, LAT);
    for (int i = 0; i < SIM_MAX_WINDOWS + 1; i++)
        len += (size_t)snprintf(json + len, cap - len,
                                "%s{'kind': 'outage', 'start_seconds': %d, 'end_seconds': %d}",
                                i ? ", " : "", i, i + 1);
    snprintf(json + len, cap - len, "]}], 'columns': [%s]}", COL_A);
    assert_null(parse_q(json, &err));
    assert_string_equal(err.message, "t.json: $.providers[0].windows: expected an array of at most "
                                     "16 windows, got an array of 17 items");

    len = (size_t)snprintf(json, cap, "%s%s%s'columns': [{'name': 'a', 'program': [", HEAD, MODELS,
                           PROV);
    for (int i = 0; i < RUN_MAX_STEPS + 1; i++)
        len += (size_t)snprintf(json + len, cap - len, "%s%s", i ? ", " : "", CALL_M);
    snprintf(json + len, cap - len, "]}]}");
    assert_null(parse_q(json, &err));
    assert_string_equal(err.message, "t.json: $.columns[0].program: expected an array of 1 to 16 "
                                     "steps, got an array of 17 items");

    /* exactly at the limits: fine */
    len = (size_t)snprintf(json, cap, "%s%s%s'columns': [{'name': 'a', 'program': [", HEAD, MODELS,
                           PROV);
    for (int i = 0; i < RUN_MAX_STEPS; i++)
        len += (size_t)snprintf(json + len, cap - len, "%s%s", i ? ", " : "", CALL_M);
    snprintf(json + len, cap - len, "]}]}");
    sim_scenario *s = parse_q(json, &err);
    if (!s) print_error("%s\n", err.message);
    assert_non_null(s);
    assert_int_equal(s->config.columns[0].step_count, RUN_MAX_STEPS);
    sim_scenario_free(s);
    free(json);
}

/* Trace files: relative to the scenario file's directory when loaded, to the
** current directory when parsed from text. */
static void test_empirical_paths(void **state) {
    (void)state;
    sim_error err = {0};
    sim_scenario *s = sim_scenario_load(DATA("provider_trace.json"), &err);
    if (!s) print_error("%s\n", err.message);
    assert_non_null(s);
    assert_trace(&s->env.providers[0].latency);
    sim_scenario_free(s);

    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    char *json = dq(HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': 'empirical', "
                                "'file': 'latency_trace.csv'}}], 'columns': [" COL_A "]}");
    s = sim_scenario_parse(json, "t.json", &err); /* not in the data directory */
    assert_null(s);
    assert_string_equal(err.message, "t.json: $.providers[0].latency.file: latency_trace.csv: "
                                     "cannot read: No such file or directory");
    assert_int_equal(chdir(ADMIT_TEST_DATA_DIR), 0);
    s = sim_scenario_parse(json, "t.json", &err);
    assert_int_equal(chdir(cwd), 0);
    if (!s) print_error("%s\n", err.message);
    assert_non_null(s);
    assert_trace(&s->env.providers[0].latency);
    sim_scenario_free(s);
    free(json);

    /* a failure after a trace was read frees it (valgrind checks) */
    assert_null(parse_q(HEAD MODELS "'providers': [{'model': 'm', 'latency': {'dist': "
                                    "'empirical', 'file': '" DATA(
                                        "latency_trace.csv") "'}, 'timeout_seconds': 0}], "
                                                             "'columns': [" COL_A "]}",
                        &err));
    assert_null(parse_q(HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'empirical', "
                             "'file': '" DATA("latency_trace.csv") "'}}, {'name': 'a', " DUR "}]}",
                        &err));
    assert_string_equal(err.message,
                        "t.json: $.columns[1].name: expected a name not used by an earlier column, "
                        "got \"a\"");

    /* a trace value past the limit of one duration (1e9 s) is refused */
    char trace[] = "/tmp/admitsim-trace-XXXXXX";
    int fd = mkstemp(trace);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "1\n2e9\n", 6), 6);
    close(fd);
    char doc[512], want[512];
    snprintf(doc, sizeof doc,
             HEAD "'columns': [{'name': 'a', 'duration': {'dist': 'empirical', 'file': '%s'}}]}",
             trace);
    assert_null(parse_q(doc, &err));
    unlink(trace);
    snprintf(want, sizeof want,
             "t.json: $.columns[0].duration.file: %s:2: expected a number between 0 and 1000000000 "
             "(the limit of one duration), got \"2e9\"",
             trace);
    assert_string_equal(err.message, want);
}

static void test_policy_names(void **state) {
    (void)state;
    run_policy_kind p = RUN_POLICY_BOUNDED;
    assert_true(run_policy_parse("strict", &p));
    assert_int_equal(p, RUN_POLICY_STRICT);
    assert_true(run_policy_parse("bounded", &p));
    assert_int_equal(p, RUN_POLICY_BOUNDED);
    assert_false(run_policy_parse("Strict", &p));
    assert_false(run_policy_parse(NULL, &p));
    assert_int_equal(p, RUN_POLICY_BOUNDED);
    assert_string_equal(run_policy_name(RUN_POLICY_STRICT), "strict");
    assert_string_equal(run_policy_name(RUN_POLICY_BOUNDED), "bounded");
    assert_true(run_policy_parse("provider_aware", &p));
    assert_int_equal(p, RUN_POLICY_PROVIDER_AWARE);
    assert_string_equal(run_policy_name(RUN_POLICY_PROVIDER_AWARE), "provider_aware");
    assert_string_equal(run_policy_name((run_policy_kind)99), "unknown");
}

static char *write_temp(const char *text) {
    char *path = strdup("/tmp/test_scenario_XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_load_files(void **state) {
    (void)state;
    sim_error err = {0};
    assert_null(sim_scenario_load("/nonexistent/x.json", &err));
    assert_string_equal(err.message, "/nonexistent/x.json: cannot read: No such file or directory");
    assert_null(sim_scenario_load("/tmp", &err));
    assert_string_equal(err.message, "/tmp: expected a JSON document in a regular file, got a "
                                     "directory");
    /* a FIFO is refused before it is opened (opening it would wait for a writer) */
    char fifo[] = "/tmp/admitsim-fifo-XXXXXX";
    assert_non_null(mkdtemp(fifo));
    char fifo_path[64];
    snprintf(fifo_path, sizeof fifo_path, "%s/f.json", fifo);
    assert_int_equal(mkfifo(fifo_path, 0600), 0);
    assert_null(sim_scenario_load(fifo_path, &err));
    assert_non_null(strstr(err.message, "expected a JSON document in a regular file, got a FIFO"));
    unlink(fifo_path);
    /* a file over the size limit is refused without being read */
    snprintf(fifo_path, sizeof fifo_path, "%s/big.json", fifo);
    FILE *big = fopen(fifo_path, "w");
    assert_non_null(big);
    assert_int_equal(ftruncate(fileno(big), (off_t)RUN_MAX_FILE_BYTES + 1), 0);
    fclose(big);
    assert_null(sim_scenario_load(fifo_path, &err));
    assert_non_null(strstr(err.message, "expected a JSON document of at most 16777216 bytes, got "
                                        "16777217 bytes"));
    unlink(fifo_path);
    rmdir(fifo);

    char *json = dq("{\n  'schema': 1,\n  'schema': 1\n}\n");
    char *path = write_temp(json);
    char want[256];
    assert_null(sim_scenario_load(path, &err));
    snprintf(want, sizeof want, "%s:3:10: invalid JSON: duplicate object key", path);
    assert_ptr_equal(strstr(err.message, want), err.message);
    unlink(path);
    free(path);
    free(json);

    json = dq(HEAD "'columns': [" COL_A "]}");
    path = write_temp(json);
    sim_scenario *s = sim_scenario_load(path, &err);
    assert_non_null(s);
    assert_string_equal(s->config.path, path);
    sim_scenario_free(s);
    unlink(path);
    free(path);
    free(json);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void test_scenario_dir(void **state) {
    (void)state;
    DIR *dir = opendir(ADMIT_SCENARIO_DIR);
    if (!dir) skip();
    int loaded = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        if (!ends_with(e->d_name, ".json") || strncmp(e->d_name, "bad_", 4) == 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", ADMIT_SCENARIO_DIR, e->d_name);
        sim_error err = {0};
        sim_scenario *s = sim_scenario_load(path, &err);
        if (!s) print_error("%s\n", err.message);
        assert_non_null(s);
        sim_scenario_free(s);
        loaded++;
    }
    closedir(dir);
    if (!loaded) skip();
}

/* The README's ```json blocks are valid scenarios: the first is the task-stage
** example, the second the request-stage one. */
static void test_readme_example(void **state) {
    (void)state;
    FILE *f = fopen(ADMIT_SCENARIO_DIR "/README.md", "r");
    if (!f) skip();
    static char text[1 << 17];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *blocks[2];
    char *at = text;
    for (int i = 0; i < 2; i++) {
        char *start = strstr(at, "```json\n");
        assert_non_null(start);
        start += strlen("```json\n");
        char *end = strstr(start, "```");
        assert_non_null(end);
        *end = '\0';
        blocks[i] = start;
        at = end + 1;
    }
    sim_error err = {0};
    sim_scenario *s = sim_scenario_parse(blocks[0], "README.md", &err);
    if (!s) print_error("%s\n", err.message);
    assert_non_null(s);
    assert_int_equal(run_config_task_count(&s->config), 353); /* the README says so */
    sim_scenario_free(s);

    s = sim_scenario_parse(blocks[1], "README.md", &err);
    if (!s) print_error("%s\n", err.message);
    assert_non_null(s);
    /* what the README says about it */
    assert_int_equal(s->config.model_count, 3);
    assert_int_equal(s->env.provider_count, 2);
    assert_int_equal(s->config.default_policy, RUN_POLICY_PROVIDER_AWARE);
    assert_int_equal(s->config.queue_wait_timeout_ns, 60000000000LL);
    assert_int_equal(s->config.columns[0].metadata.weight, 6);
    assert_int_equal(s->config.columns[1].metadata.weight, 4);
    assert_string_equal(s->config.columns[1].metadata.identity[1], "claude-3-5-haiku");
    assert_int_equal(s->config.columns[1].retry_max_attempts, 4);
    assert_int_equal(s->env.providers[1].retry_after_ns, -1);
    sim_scenario_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_resolver_judges_metadata),
        cmocka_unit_test(test_capacity_order),
        cmocka_unit_test(test_task_count),
        cmocka_unit_test(test_request_full),
        cmocka_unit_test(test_trace_with_bom),
        cmocka_unit_test(test_request_defaults),
        cmocka_unit_test(test_request_limits),
        cmocka_unit_test(test_empirical_paths),
        cmocka_unit_test(test_policy_names),
        cmocka_unit_test(test_load_files),
        cmocka_unit_test(test_scenario_dir),
        cmocka_unit_test(test_readme_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
