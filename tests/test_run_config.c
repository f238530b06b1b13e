/* The run configuration loads without the simulator (this test links the
** run layer and core only): every shipped scenario's configuration part,
** the simulator's keys accepted but not read, the simulator's own checks
** left to it. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "run/config.h"

#define HEAD                                                                                       \
    "{\"schema\": 1, \"scenario_id\": \"t\", \"scenario_version\": 1, \"records\": 4, "            \
    "\"capacity\": {\"submission\": 2, \"llm_wait\": 2}, "

static run_config *parse_ok(const char *text) {
    run_error err = {0};
    run_config *c = run_config_parse(text, "t.json", &err);
    if (!c) fail_msg("%s", err.message);
    return c;
}

static void test_shipped_scenarios(void **state) {
    (void)state;
    DIR *d = opendir(ADMIT_SCENARIO_DIR);
    assert_non_null(d);
    int loaded = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json")) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", ADMIT_SCENARIO_DIR, e->d_name);
        run_error err = {0};
        run_config *c = run_config_load(path, &err);
        if (!c) fail_msg("%s", err.message);
        assert_true(c->column_count > 0);
        assert_true(run_config_task_count(c) > 0);
        run_config_free(c);
        loaded++;
    }
    closedir(d);
    assert_true(loaded >= 11);
}

/* Model calls and limits need no simulated provider to load as configuration;
** the simulator's keys may hold anything the configuration does not read. */
static void test_environment_keys_left_alone(void **state) {
    (void)state;
    run_config *c = parse_ok(
        HEAD "\"models\": [{\"alias\": \"m\", \"provider\": \"p\", \"model\": \"x\", "
             "\"max_parallel_requests\": 3}], \"providers\": \"not read here\", "
             "\"cancel_at_seconds\": \"nor this\", "
             "\"request_admission\": {\"resources\": [{\"model\": \"m\", \"initial_limit\": 2}]}, "
             "\"failures\": {\"salvage_max_rounds\": 1, \"spawn_failure_probability\": 7}, "
             "\"columns\": [{\"name\": \"a\", \"duration\": {\"dist\": \"nonsense\"}, "
             "\"failure\": 3}, {\"name\": \"b\", \"depends_on\": [\"a\"], \"program\": ["
             "{\"local\": {\"dist\": \"constant\"}}, {\"call\": {\"model\": \"m\", "
             "\"domain\": \"embedding\", \"count\": \"many\"}}], "
             "\"retry\": {\"max_attempts\": 4, \"backoff_seconds\": 0.25}}]}");
    assert_int_equal(c->model_count, 1);
    assert_int_equal(c->request_limit_count, 1);
    assert_int_equal(c->request_limits[0].initial_limit, 2);
    assert_int_equal(c->salvage_max_rounds, 1);
    const run_column *b = &c->columns[1];
    assert_int_equal(b->step_count, 2);
    assert_int_equal(b->program[0].kind, RUN_STEP_LOCAL);
    assert_int_equal(b->program[1].kind, RUN_STEP_CALL);
    assert_int_equal(b->program[1].model, 0);
    assert_int_equal(b->program[1].domain, ADMIT_DOMAIN_EMBEDDING);
    assert_int_equal(b->retry_max_attempts, 4);
    assert_int_equal(b->retry_backoff_ns, 250000000);
    assert_int_equal(c->columns[0].step_count, 0);
    run_config_free(c);
}

/* Unknown keys, bad values and bad references are the configuration's to
** report, with the file, JSON path and what was expected. */
static void test_errors(void **state) {
    (void)state;
    static const struct {
        const char *json, *message;
    } bad[] = {
        {HEAD "\"colums\": []}", "t.json: $.colums: unknown key (expected one of: schema, "
                                 "scenario_id, scenario_version, description, records, "
                                 "buffer_size, max_concurrent_row_groups, model_group_limit_cap, "
                                 "capacity, policy, failures, cancel_at_seconds, models, "
                                 "request_admission, providers, columns, arms, check)"},
        {HEAD "\"columns\": [{\"name\": \"a\", \"program\": [{\"call\": {\"model\": \"m\"}}]}]}",
         "t.json: $.columns[0].program[0].call.model: expected a model alias named in $.models, "
         "got \"m\""},
        {HEAD "\"columns\": [{\"name\": \"a\", \"retry\": {\"max_attempts\": 0}}]}",
         "t.json: $.columns[0].retry.max_attempts: expected an integer between 1 and 100, got 0"},
        {"{\"schema\": 2}", "t.json: $.schema: expected 1, got 2"},
        {"{", "t.json:1:1: invalid JSON: string or '}' expected near end of file"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        run_error err = {0};
        assert_null(run_config_parse(bad[i].json, "t.json", &err));
        assert_string_equal(err.message, bad[i].message);
        assert_int_equal(err.code, RUN_EINVAL);
    }
    run_error err = {0};
    assert_null(run_config_load("/nonexistent/x.json", &err));
    assert_int_equal(err.code, RUN_EIO);
    assert_non_null(strstr(err.message, "/nonexistent/x.json: cannot read"));
}

#define MODEL(extra)                                                                               \
    HEAD "\"models\": [{\"alias\": \"m\", \"provider\": \"p\", \"model\": \"x\", "                 \
         "\"max_parallel_requests\": 2" extra "}], \"columns\": [{\"name\": \"a\"}]}"

/* The keys only live runs read: where a model's endpoint is, which variable
** holds its key (the name only), its deadlines and response bound. */
static void test_model_live_keys(void **state) {
    (void)state;
    run_config *c =
        parse_ok(MODEL(", \"base_url\": \"https://api.example.com/v1\", "
                       "\"api_key_env\": \"EXAMPLE_KEY_2\", \"timeout_seconds\": 30, "
                       "\"connect_timeout_seconds\": 2.5, \"max_response_bytes\": 4096"));
    assert_string_equal(c->models[0].base_url, "https://api.example.com/v1");
    assert_string_equal(c->models[0].api_key_env, "EXAMPLE_KEY_2");
    assert_true(c->models[0].timeout_seconds == 30 && c->models[0].connect_timeout_seconds == 2.5);
    assert_int_equal(c->models[0].max_response_bytes, 4096);
    run_config_free(c);
    c = parse_ok(MODEL(""));
    assert_string_equal(c->models[0].base_url, "");
    assert_true(c->models[0].timeout_seconds == 0 && c->models[0].max_response_bytes == 0);
    run_config_free(c);
    static const struct {
        const char *json, *message;
    } bad[] = {
        {MODEL(", \"base_url\": \"ftp://x\""),
         "t.json: $.models[0].base_url: expected an http:// or https:// URL, got \"ftp://x\""},
        {MODEL(", \"api_key_env\": \"1KEY\""),
         "t.json: $.models[0].api_key_env: expected an environment variable name (letters, "
         "digits, _), got \"1KEY\""},
        {MODEL(", \"timeout_seconds\": 0"),
         "t.json: $.models[0].timeout_seconds: expected a number > 0 and <= 1000000000, got 0"},
        {MODEL(", \"max_response_bytes\": 0"),
         "t.json: $.models[0].max_response_bytes: expected an integer between 1 and 1073741824, "
         "got 0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        run_error err = {0};
        assert_null(run_config_parse(bad[i].json, "t.json", &err));
        assert_string_equal(err.message, bad[i].message);
    }
}

static void test_policy_names(void **state) {
    (void)state;
    run_policy_kind p;
    assert_true(run_policy_parse("provider_aware", &p));
    assert_int_equal(p, RUN_POLICY_PROVIDER_AWARE);
    assert_false(run_policy_parse("fair", &p));
    assert_string_equal(run_policy_name(RUN_POLICY_STRICT), "strict");
    assert_string_equal(run_policy_name((run_policy_kind)9), "unknown");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_scenarios),
        cmocka_unit_test(test_environment_keys_left_alone),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_policy_names),
        cmocka_unit_test(test_model_live_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
