/* SchedulingMetadata validation and TaskSchedulingResolver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit/metadata.h"

static admit_metadata model(const char *provider, const char *model_id, int weight) {
    admit_metadata m = {.kind = ADMIT_KIND_MODEL, .weight = weight};
    snprintf(m.identity[0], sizeof m.identity[0], "%s", provider);
    snprintf(m.identity[1], sizeof m.identity[1], "%s", model_id);
    snprintf(m.identity[2], sizeof m.identity[2], "chat");
    return m;
}

static void test_default_is_local_default_weight_one(void **state) {
    (void)state;
    admit_metadata m;
    admit_metadata_default(&m);
    assert_int_equal(m.kind, ADMIT_KIND_LOCAL);
    assert_string_equal(m.identity[0], "default");
    assert_int_equal(m.weight, 1);
    assert_true(admit_metadata_validate(&m, NULL));
}

static void test_validation_errors_and_fallbacks(void **state) {
    (void)state;
    admit_metadata_error e;
    admit_metadata m = model("openai", "gpt", 0);
    assert_false(admit_metadata_validate(&m, &e));
    assert_int_equal(e.reason, ADMIT_META_INVALID_WEIGHT);
    assert_int_equal(e.error.code, ADMIT_EMETADATA);
    assert_string_equal(e.error.message, "scheduling weight 0 is not a positive integer");
    assert_true(e.has_fallback);
    assert_int_equal(e.fallback.weight, 1);
    assert_string_equal(e.fallback.identity[0], "openai");

    m = model("", "gpt", 2);
    assert_false(admit_metadata_validate(&m, &e));
    assert_int_equal(e.reason, ADMIT_META_EMPTY_IDENTITY);
    assert_string_equal(e.error.message, "model scheduling identity is empty");
    assert_true(e.has_fallback);
    assert_int_equal(e.fallback.kind, ADMIT_KIND_LOCAL);

    m.kind = (admit_metadata_kind)7;
    assert_false(admit_metadata_validate(&m, &e));
    assert_int_equal(e.reason, ADMIT_META_INVALID_KIND);
    assert_int_equal(e.error.code, ADMIT_EMETADATA);
    assert_false(e.has_fallback);
}

static void test_resolver_model_column(void **state) {
    (void)state;
    admit_error err;
    admit_resolver *r = admit_resolver_create(8, &err);
    assert_non_null(r);
    admit_resolver_input in = {.column = "answer", .metadata = model("nv", "llama", 3)};
    admit_resolved_column out;
    assert_int_equal(admit_resolver_resolve(r, &in, &out, &err), ADMIT_OK);
    const admit_group_spec *g = &admit_resolver_groups(r)[out.group];
    assert_string_equal(g->key, "model:nv/llama/chat|answer");
    assert_int_equal(g->weight, 3);
    assert_int_equal(g->admitted_limit, 6); /* min(cap 8, 2 * 3) */
    assert_int_equal(out.resources.count, 3);
    assert_string_equal(admit_resolver_resource_name(r, out.resources.resource[0]), "submission");
    assert_string_equal(admit_resolver_resource_name(r, out.resources.resource[1]), "llm_wait");
    assert_string_equal(admit_resolver_resource_name(r, out.resources.resource[2]),
                        "request:nv/llama");
    assert_int_equal(admit_resolver_derived_limit(r, out.resources.resource[2]), 3);

    /* A second column on the same model with a lower weight lowers the
    ** request resource limit (minimum across columns); a heavy one is capped. */
    admit_resolver_input in2 = {.column = "judge", .metadata = model("nv", "llama", 1)};
    admit_resolved_column out2;
    assert_int_equal(admit_resolver_resolve(r, &in2, &out2, &err), ADMIT_OK);
    assert_int_equal(admit_resolver_derived_limit(r, out.resources.resource[2]), 1);
    assert_int_equal(admit_resolver_groups(r)[out2.group].admitted_limit, 2);
    admit_resolver_input in3 = {.column = "big", .metadata = model("nv", "llama", 50)};
    admit_resolved_column out3;
    assert_int_equal(admit_resolver_resolve(r, &in3, &out3, &err), ADMIT_OK);
    assert_int_equal(admit_resolver_groups(r)[out3.group].admitted_limit, 8);
    assert_int_equal(admit_resolver_group_count(r), 3);

    /* Cached per column. */
    admit_resolved_column again;
    assert_int_equal(admit_resolver_resolve(r, &in, &again, &err), ADMIT_OK);
    assert_int_equal(again.group, out.group);
    assert_int_equal(admit_resolver_group_count(r), 3);
    admit_resolver_destroy(r);
}

static void test_huge_weight_does_not_overflow(void **state) {
    (void)state;
    admit_error err;
    admit_resolver *r = admit_resolver_create(64, &err);
    admit_resolver_input in = {.column = "big", .metadata = model("p", "m", 2000000000)};
    admit_resolved_column out;
    assert_int_equal(admit_resolver_resolve(r, &in, &out, &err), ADMIT_OK);
    assert_int_equal(admit_resolver_groups(r)[out.group].admitted_limit, 64);
    admit_resolver_destroy(r);
}

static void test_resolver_local_and_override(void **state) {
    (void)state;
    admit_error err;
    admit_resolver *r = admit_resolver_create(64, &err);
    admit_resolver_input in = {.column = "feat"};
    admit_metadata_default(&in.metadata);
    admit_resolved_column out;
    assert_int_equal(admit_resolver_resolve(r, &in, &out, &err), ADMIT_OK);
    assert_int_equal(admit_resolver_groups(r)[out.group].admitted_limit,
                     0); /* no limit for local */
    assert_int_equal(out.resources.count, 1);
    assert_int_equal(out.resources.resource[0], 0);

    const char *names[2] = {"gpu", "submission"};
    admit_resource_request over = {.count = 2, .resource = {0, 1}, .amount = {2, 1}};
    admit_resolver_input in2 = {
        .column = "img", .admitted_limit = 5, .resources_override = &over, .override_names = names};
    in2.metadata = (admit_metadata){.kind = ADMIT_KIND_CUSTOM_MODEL, .weight = 1};
    snprintf(in2.metadata.identity[0], ADMIT_NAME_MAX, "ns");
    snprintf(in2.metadata.identity[1], ADMIT_NAME_MAX, "sdxl");
    assert_int_equal(admit_resolver_resolve(r, &in2, &out, &err), ADMIT_OK);
    assert_int_equal(admit_resolver_groups(r)[out.group].admitted_limit, 5);
    assert_string_equal(admit_resolver_resource_name(r, out.resources.resource[0]), "gpu");
    assert_int_equal(out.resources.amount[0], 2);
    assert_int_equal(out.resources.resource[1], 0);
    admit_resolver_destroy(r);
}

static void test_resolver_fallback_diagnostic_and_fatal(void **state) {
    (void)state;
    admit_error err;
    admit_resolver *r = admit_resolver_create(64, &err);
    admit_resolver_input in = {.column = "c1", .metadata = model("p", "m", -3)};
    admit_resolved_column out;
    assert_int_equal(admit_resolver_resolve(r, &in, &out, &err), ADMIT_OK);
    assert_int_equal(admit_resolver_groups(r)[out.group].weight, 1);
    assert_int_equal(admit_resolver_diagnostic_count(r), 1);
    assert_non_null(strstr(admit_resolver_diagnostic(r, 0), "column 'c1': scheduling weight -3"));

    admit_resolver_input bad = {.column = "c2", .metadata = model("p", "m", 1)};
    bad.metadata.kind = (admit_metadata_kind)9;
    assert_int_equal(admit_resolver_resolve(r, &bad, &out, &err), ADMIT_EMETADATA);
    assert_non_null(strstr(err.message, "column 'c2'"));
    assert_non_null(strstr(err.message, "invalid_kind"));
    admit_resolver_destroy(r);
}

static void test_identity_hash_differs_by_flow(void **state) {
    (void)state;
    admit_error err;
    admit_resolver *r = admit_resolver_create(64, &err);
    admit_resolver_input a = {.column = "x", .metadata = model("p", "m", 1)};
    admit_resolver_input b = {.column = "y", .metadata = model("p", "m", 1)};
    admit_resolved_column oa, ob;
    admit_resolver_resolve(r, &a, &oa, &err);
    admit_resolver_resolve(r, &b, &ob, &err);
    assert_true(admit_resolver_groups(r)[oa.group].identity_hash !=
                admit_resolver_groups(r)[ob.group].identity_hash);
    admit_resolver_destroy(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_is_local_default_weight_one),
        cmocka_unit_test(test_validation_errors_and_fallbacks),
        cmocka_unit_test(test_resolver_model_column),
        cmocka_unit_test(test_huge_weight_does_not_overflow),
        cmocka_unit_test(test_resolver_local_and_override),
        cmocka_unit_test(test_resolver_fallback_diagnostic_and_fatal),
        cmocka_unit_test(test_identity_hash_differs_by_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
