/* Arms (run/arms.h): named overrides of a scenario, applied by the loaders;
** every arm checked at load time with its JSON path; policy names as
** implicit arms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/scenario.h"

/* Single quotes in the texts below stand for double quotes. */
static char *dq(const char *text) {
    char *s = strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'') *p = '"';
    return s;
}

#define BASE                                                                                       \
    "{'schema': 1, 'scenario_id': 'arms', 'scenario_version': 1, 'records': 10, "                  \
    "'capacity': {'submission': 4, 'llm_wait': 4}, "                                               \
    "'models': [{'alias': 'a', 'provider': 'pa', 'model': 'ma', 'max_parallel_requests': 6}, "     \
    "{'alias': 'b', 'provider': 'pb', 'model': 'mb', 'max_parallel_requests': 6}], "               \
    "'providers': [{'model': 'a', 'latency': {'dist': 'constant', 'seconds': 0.5}}, "              \
    "{'model': 'b', 'latency': {'dist': 'constant', 'seconds': 0.5}, 'max_concurrent': 3}], "      \
    "'columns': [{'name': 'x', 'program': [{'call': {'model': 'a'}}, {'call': {'model': 'b'}}], "  \
    "'scheduling': {'kind': 'model', 'model': 'a'}}]"

static const char ARMS[] =
    BASE ", 'arms': {"
         "'tight': {'description': 'half the slots', 'capacity': {'submission': 2}, "
         "  'policy': {'default': 'bounded', 'reserve_fraction': 0.25}}, "
         "'slow_b': {'providers': {'b': {'latency': {'dist': 'constant', 'seconds': 2}}}}, "
         "'small_a': {'models': {'a': {'max_parallel_requests': 2}}, "
         "  'request_admission': {'md_factor': 0.5, 'cooldown_seconds': 4}}}}";

static sim_scenario *load_arm(const char *text, const char *arm, sim_error *err) {
    char *json = dq(text);
    sim_scenario *s = sim_scenario_parse_arm(json, "t.json", arm, err);
    free(json);
    return s;
}

static void test_arms_applied(void **state) {
    (void)state;
    sim_error err = {0};
    sim_scenario *base = load_arm(ARMS, NULL, &err);
    if (!base) fail_msg("%s", err.message);
    assert_int_equal(base->config.arms.count, 3);
    assert_string_equal(base->config.arms.names[0], "tight");
    assert_string_equal(base->config.arms.descriptions[0], "half the slots");
    assert_string_equal(base->config.arm, "");
    assert_int_equal(base->config.capacity[0].amount, 4);

    sim_scenario *tight = load_arm(ARMS, "tight", &err);
    if (!tight) fail_msg("%s", err.message);
    assert_string_equal(tight->config.arm, "tight");
    assert_int_equal(tight->config.capacity[0].amount, 2);
    assert_int_equal(tight->config.capacity[1].amount, 4); /* the rest kept */
    assert_true(tight->config.reserve_fraction == 0.25);
    assert_int_equal(tight->config.arms.count, 3);

    sim_scenario *slow = load_arm(ARMS, "slow_b", &err);
    if (!slow) fail_msg("%s", err.message);
    assert_true(slow->env.providers[1].latency.a == 2.0);
    assert_int_equal(slow->env.providers[1].max_concurrent, 3); /* merged, not replaced */
    assert_true(slow->env.providers[0].latency.a == 0.5);

    sim_scenario *small = load_arm(ARMS, "small_a", &err);
    if (!small) fail_msg("%s", err.message);
    assert_int_equal(small->config.models[0].max_parallel_requests, 2);
    assert_true(small->config.aimd.md_factor == 0.5);
    assert_int_equal(small->config.aimd.cooldown_ns, 4000000000LL);
    assert_int_equal(small->config.columns[0].metadata.weight, 2); /* the merged cap */

    sim_scenario *strict = load_arm(ARMS, "strict", &err); /* implicit */
    if (!strict) fail_msg("%s", err.message);
    assert_int_equal(strict->config.default_policy, RUN_POLICY_STRICT);
    assert_string_equal(strict->config.arm, "strict");

    assert_null(load_arm(ARMS, "loose", &err));
    assert_string_equal(err.message, "t.json: no arm \"loose\" (expected one of: strict, bounded, "
                                     "provider_aware, tight, slow_b, small_a)");
    sim_scenario *list[] = {base, tight, slow, small, strict};
    for (size_t i = 0; i < sizeof list / sizeof *list; i++)
        sim_scenario_free(list[i]);
}

/* Every arm is checked whichever is asked for, with its path. */
static void test_arm_errors(void **state) {
    (void)state;
    static const struct {
        const char *arms, *message;
    } bad[] = {
        {"'x': {'polcy': {}}",
         "t.json: $.arms.x.polcy: unknown key (expected one of: description, policy, capacity, "
         "request_admission, models, providers, max_concurrent_row_groups, "
         "model_group_limit_cap)"},
        {"'x': {'policy': {'reserve_fraction': 2}}",
         "t.json: $.arms.x: $.policy.reserve_fraction: expected a number between 0 and 1, got 2"},
        {"'x': {'policy': {'reserv': 1}}",
         "t.json: $.arms.x: $.policy.reserv: unknown key (expected one of: default, "
         "strict_share_rounding, reserve_fraction, max_reserved_slots, default_borrow_ceiling, "
         "borrow_ceilings)"},
        {"'x': {'capacity': {'submission': 0}}",
         "t.json: $.arms.x: $.capacity.submission: expected an integer between 1 and 4294967295, "
         "got 0"},
        {"'x': {'capacity': {'submision': 2}}",
         "t.json: $.arms.x.capacity: expected a resource $.capacity declares (submission, "
         "llm_wait), got \"submision\""},
        {"'x': {'providers': {'zz': {'max_concurrent': 1}}}",
         "t.json: $.arms.x.providers: expected a model alias (with an optional /domain) that a "
         "$.providers entry serves, got \"zz\""},
        {"'x': {'providers': {'a': {'latenc': 1}}}",
         "t.json: $.arms.x: $.providers[0].latenc: unknown key (expected one of: model, domain, "
         "latency, max_concurrent, requests_per_minute, retry_after_seconds, "
         "rate_limited_latency_seconds, failure_probability, timeout_probability, "
         "timeout_seconds, windows)"},
        {"'x': {'models': {'a': {'alias': 'c'}}}",
         "t.json: $.arms.x.models.a.alias: unknown key (expected one of: max_parallel_requests)"},
        {"'strict': {}",
         "t.json: $.arms.strict: expected an arm name that is not a policy name (each policy is "
         "already an arm), got \"strict\""},
        {"'a b': {}", "t.json: $.arms[\"a b\"]: expected an arm name of 1 to 63 characters from "
                      "[A-Za-z0-9_.-], got \"a b\""},
        {"'ok': {}, 'x': 3", "t.json: $.arms.x: expected an object, got 3"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[4096];
        snprintf(text, sizeof text, "%s, 'arms': {%s}}", BASE, bad[i].arms);
        for (int want = 0; want < 2; want++) { /* the plain scenario or an implicit arm */
            sim_error err = {0};
            sim_scenario *s = load_arm(text, want ? "strict" : NULL, &err);
            if (s) fail_msg("case %zu loaded", i);
            char *msg = dq(bad[i].message);
            if (strcmp(err.message, msg) != 0)
                fail_msg("case %zu:\n  want %s\n  got  %s", i, msg, err.message);
            free(msg);
        }
    }
}

/* The configuration part alone (no simulator) applies arms too. */
static void test_config_only(void **state) {
    (void)state;
    char *json = dq(ARMS);
    run_error err = {0};
    run_config *c = run_config_parse(json, "t.json", &err);
    if (!c) fail_msg("%s", err.message);
    assert_int_equal(c->arms.count, 3);
    run_config_free(c);
    free(json);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arms_applied),
        cmocka_unit_test(test_arm_errors),
        cmocka_unit_test(test_config_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
