/*
** RequestResourceResolver (SPEC §4): aliases become canonical provider/model
** ids; aliases of one endpoint merge their caps by minimum while every alias
** and its raw cap stay visible; request resource keys are interned as
** "provider/model/domain".  Expected values are written out by hand.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit/request_resource.h"

/* The live resolver, so the teardown frees it when an assertion failed. */
static admit_request_resolver *live_r;

static int teardown_resolver(void **state) {
    (void)state;
    admit_request_resolver_destroy(live_r);
    live_r = NULL;
    return 0;
}

static admit_request_resolver *new_resolver(void) {
    admit_error err = {0};
    live_r = admit_request_resolver_create(&err);
    assert_non_null(live_r);
    return live_r;
}

static uint32_t add_ok(admit_request_resolver *r, const char *alias, const char *provider,
                       const char *model, uint32_t cap) {
    admit_error err = {0};
    uint32_t pm = UINT32_MAX;
    assert_int_equal(admit_request_resolver_add_alias(r, alias, provider, model, cap, &pm, &err),
                     ADMIT_OK);
    assert_int_not_equal(pm, UINT32_MAX);
    return pm;
}

static void test_alias_min_merge(void **state) {
    (void)state;
    admit_request_resolver *r = new_resolver();
    uint32_t fast = add_ok(r, "gpt-fast", "openai", "gpt-4o", 8);
    uint32_t cheap = add_ok(r, "gpt-cheap", "openai", "gpt-4o", 5);
    assert_int_equal(fast, 0);
    assert_int_equal(cheap, 0);
    assert_int_equal(admit_request_resolver_pm_count(r), 1);
    assert_int_equal(admit_request_resolver_pm_cap(r, 0), 5);
    /* A third, looser alias does not raise the merged cap. */
    assert_int_equal(add_ok(r, "gpt-loose", "openai", "gpt-4o", 7), 0);
    assert_int_equal(admit_request_resolver_pm_cap(r, 0), 5);

    /* Every alias and its raw cap are kept, in declaration order. */
    assert_int_equal(admit_request_resolver_alias_count(r, 0), 3);
    assert_string_equal(admit_request_resolver_alias_name(r, 0, 0), "gpt-fast");
    assert_int_equal(admit_request_resolver_alias_raw_cap(r, 0, 0), 8);
    assert_string_equal(admit_request_resolver_alias_name(r, 0, 1), "gpt-cheap");
    assert_int_equal(admit_request_resolver_alias_raw_cap(r, 0, 1), 5);
    assert_string_equal(admit_request_resolver_alias_name(r, 0, 2), "gpt-loose");
    assert_int_equal(admit_request_resolver_alias_raw_cap(r, 0, 2), 7);
    assert_string_equal(admit_request_resolver_alias_name(r, 0, 3), "");
    assert_int_equal(admit_request_resolver_alias_raw_cap(r, 0, 3), 0);

    assert_string_equal(admit_request_resolver_pm_provider(r, 0), "openai");
    assert_string_equal(admit_request_resolver_pm_model(r, 0), "gpt-4o");
    assert_string_equal(admit_request_resolver_pm_key(r, 0), "openai/gpt-4o");

    /* Lookup by alias and by canonical "provider/model". */
    assert_int_equal(admit_request_resolver_lookup(r, "gpt-fast"), 0);
    assert_int_equal(admit_request_resolver_lookup(r, "gpt-cheap"), 0);
    assert_int_equal(admit_request_resolver_lookup(r, "openai/gpt-4o"), 0);
    assert_int_equal(admit_request_resolver_lookup(r, "gpt-4o"), -1);
    assert_int_equal(admit_request_resolver_lookup(r, "openai"), -1);
    assert_int_equal(admit_request_resolver_lookup(r, "openai/gpt-4o/chat"), -1);
    assert_int_equal(admit_request_resolver_lookup(r, ""), -1);
    assert_int_equal(admit_request_resolver_lookup(r, NULL), -1);
}

/* The merge is per endpoint: a second endpoint of the same provider, or the
** same model id at another provider, is a separate provider/model. */
static void test_endpoints_are_distinct(void **state) {
    (void)state;
    admit_request_resolver *r = new_resolver();
    assert_int_equal(add_ok(r, "a", "openai", "gpt-4o", 8), 0);
    assert_int_equal(add_ok(r, "b", "openai", "gpt-4o-mini", 3), 1);
    assert_int_equal(add_ok(r, "c", "azure", "gpt-4o", 2), 2);
    assert_int_equal(add_ok(r, "d", "openai", "gpt-4o-mini", 9), 1);
    assert_int_equal(admit_request_resolver_pm_count(r), 3);
    assert_int_equal(admit_request_resolver_pm_cap(r, 0), 8);
    assert_int_equal(admit_request_resolver_pm_cap(r, 1), 3);
    assert_int_equal(admit_request_resolver_pm_cap(r, 2), 2);
    assert_int_equal(admit_request_resolver_alias_count(r, 0), 1);
    assert_int_equal(admit_request_resolver_alias_count(r, 1), 2);
    assert_int_equal(admit_request_resolver_alias_count(r, 2), 1);
    assert_string_equal(admit_request_resolver_alias_name(r, 1, 1), "d");
    assert_int_equal(admit_request_resolver_alias_raw_cap(r, 1, 1), 9);
    assert_string_equal(admit_request_resolver_pm_key(r, 2), "azure/gpt-4o");
    assert_int_equal(admit_request_resolver_lookup(r, "azure/gpt-4o"), 2);
    assert_int_equal(admit_request_resolver_lookup(r, "openai/gpt-4o-mini"), 1);
    assert_int_equal(admit_request_resolver_lookup(r, "d"), 1);
}

static void test_alias_redeclared_for_other_endpoint_is_error(void **state) {
    (void)state;
    admit_request_resolver *r = new_resolver();
    add_ok(r, "fast", "openai", "gpt-4o", 8);
    add_ok(r, "other", "openai", "gpt-4o-mini", 4);
    admit_error err = {0};
    uint32_t pm = 77;
    /* ... to an endpoint that exists ... */
    assert_int_equal(
        admit_request_resolver_add_alias(r, "fast", "openai", "gpt-4o-mini", 2, &pm, &err),
        ADMIT_EINVAL);
    assert_int_equal(err.code, ADMIT_EINVAL);
    assert_non_null(strstr(err.message, "fast"));
    assert_int_equal(pm, 77); /* untouched */
    /* ... and to one that does not: nothing is created. */
    err = (admit_error){0};
    assert_int_equal(
        admit_request_resolver_add_alias(r, "fast", "anthropic", "claude", 2, &pm, &err),
        ADMIT_EINVAL);
    assert_int_equal(err.code, ADMIT_EINVAL);
    assert_int_equal(admit_request_resolver_pm_count(r), 2);
    assert_int_equal(admit_request_resolver_lookup(r, "anthropic/claude"), -1);
    /* Neither endpoint's cap nor alias list changed. */
    assert_int_equal(admit_request_resolver_pm_cap(r, 0), 8);
    assert_int_equal(admit_request_resolver_pm_cap(r, 1), 4);
    assert_int_equal(admit_request_resolver_alias_count(r, 0), 1);
    assert_int_equal(admit_request_resolver_alias_count(r, 1), 1);
    assert_int_equal(admit_request_resolver_lookup(r, "fast"), 0);
}

/* The same alias declared again for the same endpoint merges by minimum and
** stays one alias. */
static void test_alias_redeclared_for_same_endpoint_merges(void **state) {
    (void)state;
    admit_request_resolver *r = new_resolver();
    add_ok(r, "fast", "openai", "gpt-4o", 8);
    assert_int_equal(add_ok(r, "fast", "openai", "gpt-4o", 3), 0);
    assert_int_equal(admit_request_resolver_alias_count(r, 0), 1);
    assert_int_equal(admit_request_resolver_pm_cap(r, 0), 3);
    assert_int_equal(admit_request_resolver_alias_raw_cap(r, 0, 0), 3);
    assert_int_equal(add_ok(r, "fast", "openai", "gpt-4o", 10), 0);
    assert_int_equal(admit_request_resolver_pm_cap(r, 0), 3);
    assert_int_equal(admit_request_resolver_alias_raw_cap(r, 0, 0), 3);
    assert_int_equal(admit_request_resolver_alias_count(r, 0), 1);
}

static void test_alias_validation(void **state) {
    (void)state;
    admit_request_resolver *r = new_resolver();
    char longest[ADMIT_NAME_MAX], too_long[ADMIT_NAME_MAX + 1];
    memset(longest, 'x', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    memset(too_long, 'y', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    struct {
        const char *alias, *provider, *model;
        uint32_t cap;
    } bad[] = {
        {NULL, "p", "m", 1},     {"", "p", "m", 1},       {too_long, "p", "m", 1},
        {"a", NULL, "m", 1},     {"a", "", "m", 1},       {"a", "p/q", "m", 1},
        {"a", "p", NULL, 1},     {"a", "p", "", 1},       {"a", "p", "m/v1", 1},
        {"a", too_long, "m", 1}, {"a", "p", too_long, 1}, {"a", "p", "m", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        admit_error err = {0};
        assert_int_equal(admit_request_resolver_add_alias(r, bad[i].alias, bad[i].provider,
                                                          bad[i].model, bad[i].cap, NULL, &err),
                         ADMIT_EINVAL);
        assert_int_equal(err.code, ADMIT_EINVAL);
        assert_true(err.message[0] != '\0');
    }
    assert_int_equal(admit_request_resolver_pm_count(r), 0);
    /* Exactly ADMIT_NAME_MAX - 1 characters fit; err may be NULL. */
    assert_int_equal(admit_request_resolver_add_alias(r, longest, longest, longest, 1, NULL, NULL),
                     ADMIT_OK);
    assert_int_equal(admit_request_resolver_pm_count(r), 1);
    assert_string_equal(admit_request_resolver_pm_model(r, 0), longest);
    assert_int_equal(admit_request_resolver_lookup(r, longest), 0);
    int res = admit_request_resolver_resource(r, 0, ADMIT_DOMAIN_HEALTHCHECK);
    assert_int_equal(res, 0);
    char want[ADMIT_REQUEST_KEY_MAX];
    snprintf(want, sizeof want, "%s/%s/healthcheck", longest, longest);
    assert_string_equal(admit_request_resolver_resource_key(r, 0), want);
}

static void test_resource_keys(void **state) {
    (void)state;
    admit_request_resolver *r = new_resolver();
    uint32_t a = add_ok(r, "fast", "openai", "gpt-4o", 8);
    uint32_t b = add_ok(r, "embed", "voyage", "voyage-3", 2);
    assert_int_equal(admit_request_resolver_resource_count(r), 0);
    assert_int_equal(admit_request_resolver_resource(r, a, ADMIT_DOMAIN_CHAT), 0);
    assert_int_equal(admit_request_resolver_resource(r, b, ADMIT_DOMAIN_EMBEDDING), 1);
    assert_int_equal(admit_request_resolver_resource(r, a, ADMIT_DOMAIN_EMBEDDING), 2);
    /* Interned: the same key again is the same id. */
    assert_int_equal(admit_request_resolver_resource(r, a, ADMIT_DOMAIN_CHAT), 0);
    assert_int_equal(admit_request_resolver_resource(r, b, ADMIT_DOMAIN_EMBEDDING), 1);
    assert_int_equal(admit_request_resolver_resource_count(r), 3);
    assert_string_equal(admit_request_resolver_resource_key(r, 0), "openai/gpt-4o/chat");
    assert_string_equal(admit_request_resolver_resource_key(r, 1), "voyage/voyage-3/embedding");
    assert_string_equal(admit_request_resolver_resource_key(r, 2), "openai/gpt-4o/embedding");
    assert_int_equal(admit_request_resolver_resource_pm(r, 0), a);
    assert_int_equal(admit_request_resolver_resource_pm(r, 1), b);
    assert_int_equal(admit_request_resolver_resource_pm(r, 2), a);
    assert_int_equal(admit_request_resolver_resource_domain(r, 0), ADMIT_DOMAIN_CHAT);
    assert_int_equal(admit_request_resolver_resource_domain(r, 1), ADMIT_DOMAIN_EMBEDDING);
    assert_int_equal(admit_request_resolver_resource_domain(r, 2), ADMIT_DOMAIN_EMBEDDING);
    /* A resource through an alias is the canonical one. */
    int via_alias = admit_request_resolver_lookup(r, "fast");
    assert_int_equal(admit_request_resolver_resource(r, (uint32_t)via_alias, ADMIT_DOMAIN_CHAT), 0);
    /* Bad pm or domain. */
    assert_int_equal(admit_request_resolver_resource(r, 2, ADMIT_DOMAIN_CHAT), -1);
    assert_int_equal(admit_request_resolver_resource(r, a, ADMIT_DOMAIN_COUNT), -1);
    assert_int_equal(admit_request_resolver_resource(r, a, (admit_request_domain)-1), -1);
    assert_int_equal(admit_request_resolver_resource_count(r), 3);
    /* Out-of-range accessors are harmless. */
    assert_string_equal(admit_request_resolver_resource_key(r, 3), "");
    assert_string_equal(admit_request_resolver_pm_key(r, 2), "");
    assert_string_equal(admit_request_resolver_pm_provider(r, 2), "");
    assert_string_equal(admit_request_resolver_pm_model(r, 2), "");
    assert_int_equal(admit_request_resolver_pm_cap(r, 2), 0);
    assert_int_equal(admit_request_resolver_alias_count(r, 2), 0);
}

/* Many endpoints and resources: the arrays grow and every id stays right. */
static void test_many_endpoints(void **state) {
    (void)state;
    admit_request_resolver *r = new_resolver();
    char alias[32], model[32];
    for (uint32_t i = 0; i < 100; i++) {
        snprintf(alias, sizeof alias, "alias-%u", i);
        snprintf(model, sizeof model, "m%u", i % 40);
        uint32_t pm = add_ok(r, alias, "prov", model, 100 - i);
        assert_int_equal(pm, i % 40);
    }
    assert_int_equal(admit_request_resolver_pm_count(r), 40);
    for (uint32_t m = 0; m < 40; m++) {
        /* aliases m, m+40, m+80 (if < 100): caps 100-m, 60-m, 20-m. */
        uint32_t want_cap = m + 80 < 100 ? 20 - m : 60 - m;
        assert_int_equal(admit_request_resolver_pm_cap(r, m), want_cap);
        assert_int_equal(admit_request_resolver_alias_count(r, m), m + 80 < 100 ? 3 : 2);
        assert_int_equal(admit_request_resolver_alias_raw_cap(r, m, 0), 100 - m);
        for (int d = 0; d < ADMIT_DOMAIN_COUNT; d++)
            assert_int_equal(admit_request_resolver_resource(r, m, (admit_request_domain)d),
                             (int)(m * ADMIT_DOMAIN_COUNT + (uint32_t)d));
    }
    assert_int_equal(admit_request_resolver_resource_count(r), 160);
    assert_string_equal(admit_request_resolver_resource_key(r, 159), "prov/m39/healthcheck");
    assert_int_equal(admit_request_resolver_lookup(r, "alias-99"), 19);
    assert_int_equal(admit_request_resolver_lookup(r, "prov/m39"), 39);
}

static void test_domain_parse_and_name(void **state) {
    (void)state;
    static const char *const names[] = {"chat", "embedding", "image", "healthcheck"};
    for (int d = 0; d < ADMIT_DOMAIN_COUNT; d++) {
        assert_string_equal(admit_request_domain_name((admit_request_domain)d), names[d]);
        admit_request_domain out = ADMIT_DOMAIN_COUNT;
        assert_true(admit_request_domain_parse(names[d], &out));
        assert_int_equal(out, d);
    }
    assert_string_equal(admit_request_domain_name(ADMIT_DOMAIN_COUNT), "unknown");
    assert_string_equal(admit_request_domain_name((admit_request_domain)-1), "unknown");
    admit_request_domain out = ADMIT_DOMAIN_IMAGE;
    assert_false(admit_request_domain_parse("Chat", &out));
    assert_false(admit_request_domain_parse("chat ", &out));
    assert_false(admit_request_domain_parse("", &out));
    assert_false(admit_request_domain_parse("embeddings", &out));
    assert_false(admit_request_domain_parse(NULL, &out));
    assert_int_equal(out, ADMIT_DOMAIN_IMAGE); /* untouched on failure */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_alias_min_merge, teardown_resolver),
        cmocka_unit_test_teardown(test_endpoints_are_distinct, teardown_resolver),
        cmocka_unit_test_teardown(test_alias_redeclared_for_other_endpoint_is_error,
                                  teardown_resolver),
        cmocka_unit_test_teardown(test_alias_redeclared_for_same_endpoint_merges,
                                  teardown_resolver),
        cmocka_unit_test_teardown(test_alias_validation, teardown_resolver),
        cmocka_unit_test_teardown(test_resource_keys, teardown_resolver),
        cmocka_unit_test_teardown(test_many_endpoints, teardown_resolver),
        cmocka_unit_test(test_domain_parse_and_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
