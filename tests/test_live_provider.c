/*
** The HTTP provider (live/http_provider.h) against the mock (live/mock.h)
** on an ephemeral loopback port: every answer an OpenAI-compatible endpoint
** can give maps to its outcome, one attempt at a time through a real model
** executor and request admission on a live loop.  Bounded in time: every
** wait is a loop run with a 10 s guard.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "admit/model_executor.h"
#include "admit/request_admission.h"
#include "live/http_provider.h"
#include "live/loop.h"
#include "live/mock.h"

static const char *SCENARIO =
    "{\"schema\": 1, \"scenario_id\": \"provider_test\", \"scenario_version\": 1,"
    " \"records\": 1, \"capacity\": {\"submission\": 1},"
    " \"models\": [{\"alias\": \"m\", \"provider\": \"p\", \"model\": \"m1\","
    "              \"max_parallel_requests\": 8}],"
    " \"providers\": [{\"model\": \"m\", \"latency\": {\"dist\": \"constant\", \"seconds\": 0.3}}],"
    " \"columns\": [{\"name\": \"c\", \"program\": [{\"call\": {\"model\": \"m\"}}]}]}";

#define MAX_CALLS 8

typedef struct fx {
    sim_scenario *sc;
    live_mock *mock;
    uint16_t port;
    uv_loop_t uv;
    live_loop *loop;
    live_http *http;
    admit_request_admission *adm;
    admit_model_executor *exec;
    int done;
    admit_model_attempt_result results[MAX_CALLS];
    live_http_attempt_report reports[MAX_CALLS];
    int reports_seen;
} fx;

static void on_tick(void *ctx, uint64_t ref) {
    (void)ref;
    admit_request_admission_tick(((fx *)ctx)->adm);
}

static void wake(void *ctx, int64_t at) {
    fx *f = ctx;
    live_loop_at(f->loop, at, on_tick, f, 0);
}

static void on_report(void *ctx, const live_http_attempt_report *r) {
    fx *f = ctx;
    if (f->reports_seen < MAX_CALLS) f->reports[f->reports_seen++] = *r;
}

static void start_mock(fx *f, uint16_t port) {
    live_mock_options mo = {.port = port, .time_scale = 1, .seed = 1};
    admit_error err = {0};
    f->mock = live_mock_start(f->sc, &mo, &err);
    assert_non_null(f->mock);
    f->port = live_mock_port(f->mock);
    assert_true(f->port > 0);
}

/* Endpoint of request resource 0 at the mock, with a deadline and size bound. */
static void set_endpoint(fx *f, int64_t timeout_ns, size_t max_bytes, const char *key) {
    live_http_endpoint ep = {
        .domain = ADMIT_DOMAIN_CHAT, .timeout_ns = timeout_ns, .max_response_bytes = max_bytes};
    snprintf(ep.base_url, sizeof ep.base_url, "http://127.0.0.1:%u/p/v1", (unsigned)f->port);
    snprintf(ep.model, sizeof ep.model, "m1");
    if (key) snprintf(ep.api_key, sizeof ep.api_key, "%s", key);
    admit_error err = {0};
    assert_int_equal(live_http_set_endpoint(f->http, 0, &ep, &err), ADMIT_OK);
}

static int setup(void **state) {
    fx *f = calloc(1, sizeof *f);
    sim_error serr;
    f->sc = sim_scenario_parse(SCENARIO, "provider_test.json", &serr);
    assert_non_null(f->sc);
    start_mock(f, 0);
    admit_error err = {0};
    assert_int_equal(uv_loop_init(&f->uv), 0);
    f->loop = live_loop_create(&f->uv, 1.0, &err);
    f->http = live_http_create(f->loop, &err);
    assert_non_null(f->http);
    admit_request_resolver *rr = admit_request_resolver_create(&err);
    uint32_t pm;
    assert_int_equal(admit_request_resolver_add_alias(rr, "m", "p", "m1", 8, &pm, &err), ADMIT_OK);
    assert_int_equal(admit_request_resolver_resource(rr, pm, ADMIT_DOMAIN_CHAT), 0);
    admit_request_admission_config rc;
    admit_request_admission_config_init(&rc);
    rc.resolver = rr;
    rc.now = live_loop_now_fn;
    rc.clock_ctx = f->loop;
    rc.wake_at = wake;
    rc.wake_ctx = f;
    f->adm = admit_request_admission_create(&rc, &err);
    admit_request_resolver_destroy(rr);
    admit_model_provider p = live_http_provider(f->http);
    f->exec = admit_model_executor_create(f->adm, &p, &err);
    assert_non_null(f->exec);
    live_http_bind(f->http, f->exec);
    live_http_on_report(f->http, on_report, f);
    set_endpoint(f, 5000000000, 0, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    live_loop_halt(f->loop);
    admit_model_executor_destroy(f->exec);
    admit_request_admission_destroy(f->adm);
    live_http_destroy(f->http);
    live_loop_destroy(f->loop);
    uv_run(&f->uv, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->uv), 0);
    live_mock_stop(f->mock);
    sim_scenario_free(f->sc);
    free(f);
    return 0;
}

static void on_done(void *ctx, const admit_model_attempt_result *r) {
    fx *f = ctx;
    f->results[(uintptr_t)r->user] = *r;
    f->done++;
}

static void start_call(fx *f, int i) {
    admit_model_request req = {.resource = 0,
                               .group = ADMIT_REQ_GROUP_DEFAULT,
                               .queue_wait_timeout_ns = ADMIT_REQ_TIMEOUT_DEFAULT,
                               .user = (void *)(uintptr_t)i};
    admit_error err = {0};
    assert_int_equal(admit_model_executor_execute_attempt(f->exec, &req, on_done, f, NULL, &err),
                     ADMIT_OK);
}

/* Runs the loop until n attempts are done (10 s at most). */
static void wait_done(fx *f, int n) {
    int64_t give_up = live_loop_now(f->loop) + INT64_C(10000000000);
    while (f->done < n) {
        assert_true(live_loop_now(f->loop) < give_up);
        uv_run(&f->uv, UV_RUN_NOWAIT);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* One call under the mock's current fault; its report. */
static const live_http_attempt_report *call(fx *f, live_mock_fault fault) {
    live_mock_set_fault(f->mock, fault);
    f->done = f->reports_seen = 0;
    start_call(f, 0);
    wait_done(f, 1);
    assert_int_equal(f->reports_seen, 1);
    assert_true(f->results[0].admitted);
    assert_int_equal(f->results[0].outcome.kind, f->reports[0].outcome.kind);
    return &f->reports[0];
}

static void test_success_with_usage_and_key(void **state) {
    fx *f = *state;
    set_endpoint(f, 5000000000, 0, "sk-test-provider-0123");
    const live_http_attempt_report *r = call(f, LIVE_MOCK_FAULT_NONE);
    assert_int_equal(r->outcome.kind, ADMIT_REQ_SUCCESS);
    assert_int_equal(r->http_status, 200);
    assert_true(r->prompt_tokens > 0 && r->completion_tokens == 16);
    assert_int_equal(r->total_tokens, r->prompt_tokens + r->completion_tokens);
    int64_t took = r->ended_ns - r->started_ns; /* the simulated latency: 0.3 s */
    assert_true(took >= 290000000 && took < 2000000000);
    assert_int_equal(live_mock_authorized(f->mock), 1);
    /* a second call reuses the connection and carries the key again */
    call(f, LIVE_MOCK_FAULT_NONE);
    assert_int_equal(live_mock_authorized(f->mock), 2);
}

static void test_429_retry_after_forms(void **state) {
    fx *f = *state;
    const live_http_attempt_report *r = call(f, LIVE_MOCK_FAULT_RETRY_AFTER_MS);
    assert_int_equal(r->outcome.kind, ADMIT_REQ_RATE_LIMITED);
    assert_int_equal(r->outcome.retry_after_ns,
                     250000000); /* retry-after-ms wins over Retry-After */
    r = call(f, LIVE_MOCK_FAULT_RETRY_AFTER_SECONDS);
    assert_int_equal(r->outcome.kind, ADMIT_REQ_RATE_LIMITED);
    assert_int_equal(r->outcome.retry_after_ns, 2000000000);
    r = call(f, LIVE_MOCK_FAULT_RETRY_AFTER_DATE); /* 3 s ahead, to the second */
    assert_int_equal(r->outcome.kind, ADMIT_REQ_RATE_LIMITED);
    assert_true(r->outcome.retry_after_ns >= 1500000000 && r->outcome.retry_after_ns <= 3500000000);
    r = call(f, LIVE_MOCK_FAULT_RATE_LIMIT_BARE);
    assert_int_equal(r->outcome.kind, ADMIT_REQ_RATE_LIMITED);
    assert_int_equal(r->outcome.retry_after_ns, 0); /* none: the cooldown applies */
    assert_int_equal(r->http_status, 429);
}

static void test_failures(void **state) {
    fx *f = *state;
    const live_http_attempt_report *r = call(f, LIVE_MOCK_FAULT_SERVER_ERROR);
    assert_int_equal(r->outcome.kind, ADMIT_REQ_PROVIDER_FAILURE);
    assert_int_equal(r->http_status, 503);
    r = call(f, LIVE_MOCK_FAULT_GARBAGE);
    assert_int_equal(r->outcome.kind, ADMIT_REQ_PROVIDER_FAILURE);
    assert_string_equal(r->detail, "malformed_body");
    set_endpoint(f, 5000000000, 64 * 1024, NULL);
    r = call(f, LIVE_MOCK_FAULT_OVERSIZED);
    assert_int_equal(r->outcome.kind, ADMIT_REQ_PROVIDER_FAILURE);
    assert_string_equal(r->detail, "response_too_large");
    r = call(f, LIVE_MOCK_FAULT_DROP);
    assert_int_equal(r->outcome.kind, ADMIT_REQ_PROVIDER_FAILURE);
    assert_string_equal(r->detail, "connection");
    assert_int_equal(r->http_status, 0);
    r = call(f, LIVE_MOCK_FAULT_NONE); /* and the next call works again */
    assert_int_equal(r->outcome.kind, ADMIT_REQ_SUCCESS);
}

static void test_slow_body_times_out(void **state) {
    fx *f = *state;
    set_endpoint(f, 400000000, 0, NULL); /* 0.4 s; the body stalls for 5 s */
    const live_http_attempt_report *r = call(f, LIVE_MOCK_FAULT_SLOW_BODY);
    assert_int_equal(r->outcome.kind, ADMIT_REQ_PROVIDER_TIMEOUT);
    int64_t took = r->ended_ns - r->started_ns;
    assert_true(took >= 390000000 && took < 3000000000);
    r = call(f, LIVE_MOCK_FAULT_NONE); /* 0.3 s latency: within the deadline */
    assert_int_equal(r->outcome.kind, ADMIT_REQ_SUCCESS);
}

static void on_restart(void *ctx, uint64_t ref) {
    fx *f = ctx;
    (void)ref;
    uint16_t port = f->port;
    live_mock_stop(f->mock);
    start_mock(f, port);
}

static void test_server_restarted_mid_call(void **state) {
    fx *f = *state;
    f->done = f->reports_seen = 0;
    for (int i = 0; i < 3; i++) /* 0.3 s each; the server goes away after 0.1 s */
        start_call(f, i);
    live_loop_at(f->loop, live_loop_now(f->loop) + 100000000, on_restart, f, 0);
    wait_done(f, 3);
    for (int i = 0; i < 3; i++) {
        assert_true(f->results[i].admitted);
        assert_int_equal(f->results[i].outcome.kind, ADMIT_REQ_PROVIDER_FAILURE);
    }
    const live_http_attempt_report *r = call(f, LIVE_MOCK_FAULT_NONE); /* the new server answers */
    assert_int_equal(r->outcome.kind, ADMIT_REQ_SUCCESS);
    admit_request_admission_stats st;
    admit_request_admission_stats_get(f->adm, &st);
    assert_int_equal(st.leases_active, 0);
    assert_int_equal(st.leases_acquired, st.release_reasons[ADMIT_RELEASE_RELEASED]);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_DUPLICATE], 0);
}

/* A reused keep-alive connection that dies before any answer: libcurl
** would send the POST again on a fresh connection, unseen by the executor
** (a second, unaccounted request to the restarted server).  The provider
** refuses that retry: the attempt ends a provider failure ("connection"),
** and the new server has seen no request until the next attempt. */
static void test_reused_connection_lost_sends_once(void **state) {
    fx *f = *state;
    const live_http_attempt_report *r = call(f, LIVE_MOCK_FAULT_NONE); /* a kept connection */
    assert_int_equal(r->outcome.kind, ADMIT_REQ_SUCCESS);
    f->done = f->reports_seen = 0;
    start_call(f, 0); /* on that connection; answered after 0.3 s */
    live_loop_at(f->loop, live_loop_now(f->loop) + 100000000, on_restart, f, 0);
    wait_done(f, 1);
    assert_int_equal(f->reports[0].outcome.kind, ADMIT_REQ_PROVIDER_FAILURE);
    assert_string_equal(f->reports[0].detail, "connection");
    assert_int_equal(live_mock_requests(f->mock), 0);
    r = call(f, LIVE_MOCK_FAULT_NONE);
    assert_int_equal(r->outcome.kind, ADMIT_REQ_SUCCESS);
    assert_int_equal(live_mock_requests(f->mock), 1);
}

static void test_connection_refused(void **state) {
    fx *f = *state;
    uint16_t port = f->port;
    live_mock_stop(f->mock);
    f->mock = NULL;
    f->done = f->reports_seen = 0;
    start_call(f, 0);
    wait_done(f, 1);
    assert_int_equal(f->reports[0].outcome.kind, ADMIT_REQ_PROVIDER_FAILURE);
    assert_string_equal(f->reports[0].detail, "connection");
    start_mock(f, port);
}

static void test_retry_after_parsing(void **state) {
    (void)state;
    double now = 1700000000.0;
    assert_true(live_http_retry_after_seconds("1500", "9", now) == 1.5); /* ms first */
    assert_true(live_http_retry_after_seconds(NULL, " 7 ", now) == 7.0);
    assert_true(live_http_retry_after_seconds(NULL, "0.25", now) == 0.25);
    assert_true(live_http_retry_after_seconds("x", "3", now) == 3.0); /* bad ms: the other */
    assert_true(live_http_retry_after_seconds(NULL, "soon", now) < 0);
    assert_true(live_http_retry_after_seconds(NULL, "-3", now) < 0);
    assert_true(live_http_retry_after_seconds(NULL, "1e3", now) < 0);
    assert_true(live_http_retry_after_seconds(NULL, "", now) < 0);
    assert_true(live_http_retry_after_seconds(NULL, NULL, now) < 0);
    /* Tue, 14 Nov 2023 22:13:30 GMT is now + 10 s; a past date is 0 */
    assert_true(live_http_retry_after_seconds(NULL, "Tue, 14 Nov 2023 22:13:30 GMT", now) == 10.0);
    assert_true(live_http_retry_after_seconds(NULL, "Tue, 14 Nov 2023 22:00:00 GMT", now) == 0.0);
    assert_true(live_http_retry_after_seconds(NULL, "99999999999", now) ==
                LIVE_MAX_RETRY_AFTER_SECONDS);
}

static void test_api_key_from_env(void **state) {
    (void)state;
    char key[64];
    admit_error err = {0};
    setenv("ADMIT_TEST_KEY", "sk-abc", 1);
    assert_true(live_http_api_key_from_env("ADMIT_TEST_KEY", key, sizeof key, &err));
    assert_string_equal(key, "sk-abc");
    unsetenv("ADMIT_TEST_KEY");
    assert_false(live_http_api_key_from_env("ADMIT_TEST_KEY", key, sizeof key, &err));
    assert_non_null(strstr(err.message, "ADMIT_TEST_KEY"));
    setenv("ADMIT_TEST_KEY", "sk-0123456789-0123456789", 1);
    assert_false(live_http_api_key_from_env("ADMIT_TEST_KEY", key, 8, &err));
    assert_null(strstr(err.message, "sk-0123")); /* the message names the variable, not the value */
    unsetenv("ADMIT_TEST_KEY");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_success_with_usage_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_retry_after_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_body_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_restarted_mid_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reused_connection_lost_sends_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
        cmocka_unit_test(test_retry_after_parsing),
        cmocka_unit_test(test_api_key_from_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
