/* Assembly: a run's core objects built from its configuration alone (this
** test links the run layer and core only, as a live runtime would), on a
** scripted runtime: what was resolved, which policy was chosen, how request
** resources and groups were interned, and a job driven to completion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admit/model_executor.h"
#include "run/assembly.h"

/* Two model aliases of one endpoint (caps 6 and 4: merged to 4), a second
** provider, an explicit limit on the embedding domain, and three columns:
** a local root, a model column calling chat twice then embedding, and a
** model column calling the other provider. */
static const char CONFIG[] =
    "{\"schema\": 1, \"scenario_id\": \"asm\", \"scenario_version\": 1, \"records\": 3, "
    "\"capacity\": {\"submission\": 4, \"llm_wait\": 4}, "
    "\"models\": [{\"alias\": \"w\", \"provider\": \"acme\", \"model\": \"w1\", "
    "\"max_parallel_requests\": 6}, {\"alias\": \"w-eu\", \"provider\": \"acme\", "
    "\"model\": \"w1\", \"max_parallel_requests\": 4}, {\"alias\": \"j\", \"provider\": "
    "\"north\", \"model\": \"j1\", \"max_parallel_requests\": 2}], "
    "\"request_admission\": {\"resources\": [{\"model\": \"w\", \"domain\": \"embedding\", "
    "\"initial_limit\": 1}]}, "
    "\"columns\": [{\"name\": \"seed\", \"duration\": {\"dist\": \"constant\", \"seconds\": 1}}, "
    "{\"name\": \"draft\", \"depends_on\": [\"seed\"], \"scheduling\": {\"kind\": \"model\", "
    "\"model\": \"w-eu\"}, \"program\": [{\"call\": {\"model\": \"w\"}}, {\"local\": {\"dist\": "
    "\"constant\", \"seconds\": 1}}, {\"call\": {\"model\": \"w-eu\"}}, {\"call\": {\"model\": "
    "\"w\", \"domain\": \"embedding\"}}]}, "
    "{\"name\": \"judge\", \"depends_on\": [\"draft\"], \"scheduling\": {\"kind\": \"model\", "
    "\"model\": \"j\"}, \"program\": [{\"call\": {\"model\": \"j\"}}]}]}";

typedef struct runtime {
    int64_t now;
    admit_worker *spawned[16];
    int nspawned, wakes, request_wakes, calls;
    int events[2];
} runtime;

static int64_t rt_now(void *ctx) {
    return ((runtime *)ctx)->now;
}
static void rt_wake(void *ctx, int64_t at) {
    (void)at;
    ((runtime *)ctx)->wakes++;
}
static void rt_request_wake(void *ctx, int64_t at) {
    (void)at;
    ((runtime *)ctx)->request_wakes++;
}
static int rt_spawn(void *ctx, admit_worker *w) {
    runtime *rt = ctx;
    if (rt->nspawned == 16) return -1;
    rt->spawned[rt->nspawned++] = w;
    return 0;
}
static void rt_cancel(void *ctx, admit_worker *w) {
    (void)ctx;
    (void)w;
}
static int rt_call(void *ctx, admit_model_attempt *a) {
    (void)a;
    ((runtime *)ctx)->calls++;
    return 0;
}
static void count_scheduler(void *ctx, const admit_event *ev) {
    (void)ev;
    ((runtime *)ctx)->events[0]++;
}
static void count_request(void *ctx, const admit_event *ev) {
    (void)ev;
    ((runtime *)ctx)->events[1]++;
}

static run_hooks hooks_for(runtime *rt, const uint32_t *models, const admit_request_domain *domains,
                           uint32_t endpoints) {
    return (run_hooks){.clock = {.ctx = rt, .now = rt_now},
                       .ctx = rt,
                       .wake_at = rt_wake,
                       .spawn = rt_spawn,
                       .cancel = rt_cancel,
                       .request_wake_at = rt_request_wake,
                       .provider = {.ctx = rt, .call = rt_call},
                       .scheduler_sink = {.fn = count_scheduler, .ctx = rt},
                       .request_sink = {.fn = count_request, .ctx = rt},
                       .endpoint_models = models,
                       .endpoint_domains = domains,
                       .endpoint_count = endpoints};
}

static run_config *config(void) {
    run_error err = {0};
    run_config *c = run_config_parse(CONFIG, "asm.json", &err);
    if (!c) fail_msg("%s", err.message);
    return c;
}

static void test_resolved_shape(void **state) {
    (void)state;
    run_config *c = config();
    runtime rt = {0};
    /* the environment serves north/j1 first: it gets request resource 0 */
    uint32_t models[] = {2};
    admit_request_domain domains[] = {ADMIT_DOMAIN_CHAT};
    run_hooks h = hooks_for(&rt, models, domains, 1);
    run_error err = {0};
    run_assembly *a = run_assembly_create(c, RUN_POLICY_PROVIDER_AWARE, 42, &h, &err);
    if (!a) fail_msg("%s", err.message);
    /* groups: the local root and one per model endpoint */
    assert_int_equal(run_assembly_group_count(a), 3);
    assert_int_not_equal(run_assembly_column_group(a, 1), run_assembly_column_group(a, 2));
    const admit_group_spec *draft = &run_assembly_groups(a)[run_assembly_column_group(a, 1)];
    assert_int_equal(draft->weight, 4); /* the endpoint's merged cap */
    /* scheduler resources: submission, llm_wait, then one per model endpoint */
    assert_int_equal(run_assembly_resource_count(a), 4);
    assert_string_equal(run_assembly_resource_name(a, 0), "submission");
    assert_int_equal(run_assembly_resource_limits(a)[0], 4);
    assert_int_equal(run_assembly_column_resources(a, 0)->count, 1); /* local: submission */
    assert_int_equal(run_assembly_column_resources(a, 1)->count, 3);
    /* request resources: the environment's endpoint, the limit, then calls */
    const admit_request_resolver *rr = run_assembly_request_resolver(a);
    assert_int_equal(admit_request_resolver_resource_count(rr), 3);
    assert_string_equal(admit_request_resolver_resource_key(rr, 0), "north/j1/chat");
    assert_string_equal(admit_request_resolver_resource_key(rr, 1), "acme/w1/embedding");
    assert_string_equal(admit_request_resolver_resource_key(rr, 2), "acme/w1/chat");
    assert_int_equal(run_assembly_call_resource(a, 1, 0), 2);
    assert_int_equal(run_assembly_call_resource(a, 1, 1), -1); /* local step */
    assert_int_equal(run_assembly_call_resource(a, 1, 2), 2);  /* another alias, same endpoint */
    assert_int_equal(run_assembly_call_resource(a, 1, 3), 1);
    assert_int_equal(run_assembly_call_resource(a, 2, 0), 0);
    /* one request group per (column, resource) */
    assert_int_equal(run_assembly_call_group(a, 1, 0), run_assembly_call_group(a, 1, 2));
    assert_int_not_equal(run_assembly_call_group(a, 1, 0), run_assembly_call_group(a, 1, 3));
    assert_true(run_assembly_call_group(a, 2, 0) >= 0);
    /* request admission got the limit and the merged cap */
    admit_request_resource_snapshot snap;
    admit_request_admission_snapshot(run_assembly_request_admission(a), 1, &snap);
    assert_int_equal(snap.current_limit, 1);
    admit_request_admission_snapshot(run_assembly_request_admission(a), 2, &snap);
    assert_int_equal(snap.effective_max, 4);
    assert_true(rt.events[1] > 0); /* resource registrations went to the request sink */
    run_assembly_destroy(a);
    run_config_free(c);
}

/* A job driven to completion on the scripted runtime, under each policy. */
static void test_runs_under_each_policy(void **state) {
    (void)state;
    run_config *c = config();
    for (int p = 0; p < RUN_POLICY_COUNT; p++) {
        runtime rt = {0};
        run_hooks h = hooks_for(&rt, NULL, NULL, 0);
        run_error err = {0};
        run_assembly *a = run_assembly_create(c, (run_policy_kind)p, 7, &h, &err);
        if (!a) fail_msg("%s", err.message);
        admit_scheduler *s = run_assembly_scheduler(a);
        admit_error aerr;
        assert_int_equal(admit_scheduler_start(s, &aerr), ADMIT_OK);
        int finished = 0;
        for (int round = 0; round < 20 && !admit_scheduler_is_finished(s); round++) {
            admit_scheduler_dispatch(s);
            int n = rt.nspawned;
            rt.nspawned = 0;
            rt.now += 1000000000;
            for (int i = 0; i < n; i++, finished++)
                admit_scheduler_worker_finished(s, rt.spawned[i], rt.spawned[i]->execution_id,
                                                ADMIT_WORKER_SUCCESS);
        }
        assert_true(admit_scheduler_is_finished(s));
        assert_int_equal(admit_scheduler_status(s), ADMIT_JOB_COMPLETED);
        assert_int_equal(finished, 9); /* 3 records x 3 columns */
        assert_true(rt.events[0] > 0);
        run_assembly_destroy(a);
    }
    run_config_free(c);
}

/* Metadata the resolver repairs (SPEC §3: a fallback with a diagnostic),
** and a column the scheduler refuses: an error naming the file. */
static void test_fallback_and_refusal(void **state) {
    (void)state;
    run_error err = {0};
    run_config *c = run_config_parse(
        "{\"schema\": 1, \"scenario_id\": \"x\", \"scenario_version\": 1, \"records\": 1, "
        "\"capacity\": {\"submission\": 2}, \"columns\": [{\"name\": \"a\", \"scheduling\": "
        "{\"kind\": \"local\", \"identity\": [\"cpu\"], \"weight\": 0, \"resources\": "
        "{\"submission\": 2}}}]}",
        "x.json", &err);
    if (!c) fail_msg("%s", err.message);
    runtime rt = {0};
    run_hooks h = hooks_for(&rt, NULL, NULL, 0);
    run_assembly *a = run_assembly_create(c, RUN_POLICY_STRICT, 1, &h, &err);
    if (!a) fail_msg("%s", err.message);
    assert_int_equal(run_assembly_diagnostic_count(a), 1);
    assert_non_null(strstr(run_assembly_diagnostic(a, 0), "using fallback"));
    run_assembly_destroy(a);
    /* an amount above the resource's limit can never be admitted (a
    ** configuration built in code rather than loaded, which checks it) */
    c->columns[0].resources[0].amount = 3;
    assert_null(run_assembly_create(c, RUN_POLICY_STRICT, 1, &h, &err));
    assert_int_equal(err.code, RUN_ECORE);
    assert_true(strncmp(err.message, "x.json: ", 8) == 0);
    run_config_free(c);
}

/* Each callback gets the context beside it in run_hooks: the clock its own
** (a live runtime's clock can be its loop, the worker hooks the runtime).
** The scheduler's clock reads go to clock.ctx, its wake/spawn to ctx. */
typedef struct clock_only {
    int64_t now;
    int reads;
} clock_only;

static clock_only *the_clock;
static runtime *the_runtime;

static int64_t clock_now(void *ctx) {
    assert_ptr_equal(ctx, the_clock);
    the_clock->reads++;
    return the_clock->now;
}
static void ctx_wake(void *ctx, int64_t at) {
    assert_ptr_equal(ctx, the_runtime);
    rt_wake(ctx, at);
}
static int ctx_spawn(void *ctx, admit_worker *w) {
    assert_ptr_equal(ctx, the_runtime);
    return rt_spawn(ctx, w);
}
static void last_time(void *ctx, const admit_event *ev) {
    *(int64_t *)ctx = ev->captured_at_ns;
}

static void test_each_callback_its_context(void **state) {
    (void)state;
    run_config *c = config();
    clock_only clk = {.now = 5000000000};
    runtime rt = {.now = -1}; /* never read: the clock is clk */
    the_clock = &clk;
    the_runtime = &rt;
    int64_t last_event_at = -1;
    run_hooks h = hooks_for(&rt, NULL, NULL, 0);
    h.clock = (run_clock){.ctx = &clk, .now = clock_now};
    h.wake_at = ctx_wake;
    h.spawn = ctx_spawn;
    h.scheduler_sink = (admit_event_sink){.fn = last_time, .ctx = &last_event_at};
    run_error err = {0};
    run_assembly *a = run_assembly_create(c, RUN_POLICY_PROVIDER_AWARE, 3, &h, &err);
    if (!a) fail_msg("%s", err.message);
    admit_scheduler *s = run_assembly_scheduler(a);
    admit_error aerr;
    assert_int_equal(admit_scheduler_start(s, &aerr), ADMIT_OK);
    admit_scheduler_dispatch(s);
    assert_true(rt.nspawned > 0); /* spawn saw the runtime's context */
    assert_true(clk.reads > 0);
    assert_int_equal(last_event_at, clk.now); /* the scheduler's events carry the clock's time */
    clk.now += 1000000000;
    for (int i = 0; i < rt.nspawned; i++)
        admit_scheduler_worker_finished(s, rt.spawned[i], rt.spawned[i]->execution_id,
                                        ADMIT_WORKER_SUCCESS);
    assert_int_equal(last_event_at, clk.now);
    run_assembly_destroy(a);
    run_config_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolved_shape),
        cmocka_unit_test(test_runs_under_each_policy),
        cmocka_unit_test(test_fallback_and_refusal),
        cmocka_unit_test(test_each_callback_its_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
