/*
** Simulated providers: server capacity (concurrency, requests per minute),
** scripted windows, outcome probabilities, per-endpoint determinism,
** empirical latency and busy time per provider name.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/request_resource.h"
#include "sim/provider.h"
#include "sim/rng.h"
#include "sim/scenario.h"

#ifndef ADMIT_TEST_DATA_DIR
#error "ADMIT_TEST_DATA_DIR must name the tests/data/ directory"
#endif

#define SEED 42

static int64_t sec(double s) {
    return (int64_t)llround(s * 1e9);
}

/* Three endpoints: p/m1 (alias m), p/m2 (alias m2), q/q1 (alias q). */
#define HEAD                                                                                       \
    "{'schema': 1, 'scenario_id': 'prov', 'scenario_version': 1, 'records': 1,"                    \
    " 'capacity': {'submission': 1},"                                                              \
    " 'columns': [{'name': 'a', 'duration': {'dist': 'constant', 'seconds': 1}}],"                 \
    " 'models': [{'alias': 'm', 'provider': 'p', 'model': 'm1', 'max_parallel_requests': 4},"      \
    "  {'alias': 'm2', 'provider': 'p', 'model': 'm2', 'max_parallel_requests': 4},"               \
    "  {'alias': 'q', 'provider': 'q', 'model': 'q1', 'max_parallel_requests': 4}],"
#define LAT(s) "'latency': {'dist': 'constant', 'seconds': " #s "}"

typedef struct fixture {
    sim_scenario *sc;
    admit_request_resolver *rr;
    sim_providers *p;
} fixture;

/* Test JSON is written with ' for " to stay readable. */
static sim_scenario *parse_q(const char *text) {
    char *json = strdup(text);
    assert_non_null(json);
    for (char *c = json; *c; c++)
        if (*c == '\'') *c = '"';
    sim_error err = {0};
    sim_scenario *sc = sim_scenario_parse(json, "t.json", &err);
    if (!sc) print_error("%s\n", err.message);
    assert_non_null(sc);
    free(json);
    return sc;
}

/* The resolver the engine would build: every alias, then one request
** resource per providers entry (so resource i is providers[i]). */
static admit_request_resolver *resolver_for(const sim_scenario *sc) {
    admit_error aerr;
    admit_request_resolver *rr = admit_request_resolver_create(&aerr);
    assert_non_null(rr);
    for (uint32_t i = 0; i < sc->config.model_count; i++)
        assert_int_equal(admit_request_resolver_add_alias(
                             rr, sc->config.models[i].alias, sc->config.models[i].provider,
                             sc->config.models[i].model_id,
                             sc->config.models[i].max_parallel_requests, NULL, &aerr),
                         ADMIT_OK);
    for (uint32_t i = 0; i < sc->env.provider_count; i++) {
        int pm =
            admit_request_resolver_lookup(rr, sc->config.models[sc->env.providers[i].model].alias);
        assert_true(pm >= 0);
        assert_int_equal(
            admit_request_resolver_resource(rr, (uint32_t)pm, sc->env.providers[i].domain), (int)i);
    }
    return rr;
}

static void setup_seeded(fixture *f, sim_scenario *sc, uint64_t seed, uint32_t iteration) {
    f->sc = sc;
    f->rr = resolver_for(sc);
    sim_error err = {0};
    f->p = sim_providers_create(sc, f->rr, seed, iteration, &err);
    if (!f->p) print_error("%s\n", err.message);
    assert_non_null(f->p);
}

static void setup(fixture *f, const char *providers) {
    char json[4096];
    snprintf(json, sizeof json, "%s 'providers': [%s]}", HEAD, providers);
    setup_seeded(f, parse_q(json), SEED, 0);
}

static void teardown(fixture *f) {
    sim_providers_free(f->p);
    admit_request_resolver_destroy(f->rr);
    sim_scenario_free(f->sc);
}

static sim_call_plan begin(fixture *f, uint32_t r, double at) {
    sim_call_plan plan;
    sim_providers_begin(f->p, r, sec(at), &plan);
    return plan;
}

static void end(fixture *f, uint32_t r, double at, const sim_call_plan *plan) {
    sim_providers_end(f->p, r, sec(at), plan);
}

/* A call that is accepted and ended at once. */
static sim_call_plan call(fixture *f, uint32_t r, double at) {
    sim_call_plan plan = begin(f, r, at);
    end(f, r, at, &plan);
    return plan;
}

static bool is_limited(const sim_call_plan *plan) {
    return plan->outcome.kind == ADMIT_REQ_RATE_LIMITED;
}

/* A call at `at` that the server refuses (answers rate_limited). */
static bool refused(fixture *f, uint32_t r, double at) {
    sim_call_plan plan = call(f, r, at);
    return is_limited(&plan);
}

static void test_concurrency_cap(void **state) {
    (void)state;
    fixture f;
    setup(&f, "{'model': 'm', " LAT(1) ", 'max_concurrent': 2, 'retry_after_seconds': 1.5,"
                                       " 'rate_limited_latency_seconds': 0.25}");
    sim_call_plan a = begin(&f, 0, 0), b = begin(&f, 0, 0);
    assert_int_equal(a.outcome.kind, ADMIT_REQ_SUCCESS);
    assert_int_equal(a.duration_ns, sec(1));
    assert_true(a.occupies && b.occupies);
    assert_int_equal(sim_providers_in_flight(f.p, 0), 2);

    sim_call_plan c = begin(&f, 0, 0.5);
    assert_true(is_limited(&c));
    assert_int_equal(c.outcome.retry_after_ns, sec(1.5));
    assert_int_equal(c.duration_ns, sec(0.25));
    assert_false(c.occupies);
    assert_int_equal(sim_providers_in_flight(f.p, 0), 2);
    end(&f, 0, 0.75, &c); /* a rate-limited answer never held capacity */
    assert_int_equal(sim_providers_in_flight(f.p, 0), 2);
    sim_call_plan c2 = begin(&f, 0, 0.9);
    assert_true(is_limited(&c2));
    end(&f, 0, 1.15, &c2);

    end(&f, 0, 1, &a);
    assert_int_equal(sim_providers_in_flight(f.p, 0), 1);
    sim_call_plan d = begin(&f, 0, 1);
    assert_int_equal(d.outcome.kind, ADMIT_REQ_SUCCESS);
    assert_int_equal(sim_providers_in_flight(f.p, 0), 2);
    assert_int_equal(sim_providers_calls(f.p, 0), 5);
    assert_int_equal(sim_providers_rate_limited(f.p, 0), 2);
    teardown(&f);
}

static void test_retry_after_none(void **state) {
    (void)state;
    fixture f;
    setup(&f, "{'model': 'm', " LAT(
                  1) ", 'max_concurrent': 1},"
                     " {'model': 'm2', " LAT(
                         1) ", 'max_concurrent': 1, 'retry_after_seconds': null},"
                            " {'model': 'q', " LAT(
                                1) ", 'max_concurrent': 1, 'retry_after_seconds': 0}");
    for (uint32_t r = 0; r < 3; r++) {
        sim_call_plan a = begin(&f, r, 0), b = begin(&f, r, 0);
        assert_int_equal(a.outcome.kind, ADMIT_REQ_SUCCESS);
        assert_true(is_limited(&b));
        assert_true(b.outcome.retry_after_ns <= 0); /* none: the controller's cooldown applies */
        assert_int_equal(b.duration_ns, sec(0.05)); /* the default rate-limited latency */
    }
    teardown(&f);
}

/* rpm 60: a sliding 60 s window over accepted starts. */
static void test_rpm_window(void **state) {
    (void)state;
    fixture f;
    setup(&f, "{'model': 'm', " LAT(0.1) ", 'requests_per_minute': 60},"
                                         " {'model': 'm2', " LAT(
                                             0.1) ", 'requests_per_minute': 0.5},"
                                                  " {'model': 'q', " LAT(
                                                      0.1) ", 'requests_per_minute': 2.9}");
    for (int i = 0; i < 60; i++) {
        sim_call_plan plan = call(&f, 0, i * 0.5);
        assert_int_equal(plan.outcome.kind, ADMIT_REQ_SUCCESS);
    }
    assert_true(refused(&f, 0, 30));
    assert_true(refused(&f, 0, 59.999999999));
    /* the oldest start (t = 0) is now 60 s old */
    assert_int_equal(call(&f, 0, 60).outcome.kind, ADMIT_REQ_SUCCESS);
    /* refused calls were not counted: 0.5 .. 29.5 and 60 fill the window again */
    assert_true(refused(&f, 0, 60));
    assert_int_equal(call(&f, 0, 60.5).outcome.kind, ADMIT_REQ_SUCCESS);
    assert_int_equal(sim_providers_calls(f.p, 0), 65);
    assert_int_equal(sim_providers_rate_limited(f.p, 0), 3);

    /* below 1 per minute: one start per 60/rpm = 120 s */
    assert_int_equal(call(&f, 1, 0).outcome.kind, ADMIT_REQ_SUCCESS);
    assert_true(refused(&f, 1, 119.9));
    assert_int_equal(call(&f, 1, 120).outcome.kind, ADMIT_REQ_SUCCESS);

    /* fractional rates round down: 2 per minute */
    assert_int_equal(call(&f, 2, 0).outcome.kind, ADMIT_REQ_SUCCESS);
    assert_int_equal(call(&f, 2, 1).outcome.kind, ADMIT_REQ_SUCCESS);
    assert_true(refused(&f, 2, 2));
    assert_int_equal(call(&f, 2, 60).outcome.kind, ADMIT_REQ_SUCCESS);
    teardown(&f);
}

static void test_outage_window(void **state) {
    (void)state;
    fixture f;
    setup(&f, "{'model': 'm', " LAT(
                  0.1) ", 'retry_after_seconds': 3,"
                       " 'windows': [{'kind': 'outage', 'start_seconds': 10, 'end_seconds': 20}]}");
    assert_int_equal(call(&f, 0, 9.999999999).outcome.kind, ADMIT_REQ_SUCCESS);
    sim_call_plan a = begin(&f, 0, 10);
    assert_true(is_limited(&a));
    assert_int_equal(a.outcome.retry_after_ns, sec(3));
    assert_false(a.occupies);
    assert_int_equal(sim_providers_in_flight(f.p, 0), 0);
    end(&f, 0, 10.05, &a);
    assert_true(refused(&f, 0, 19.999999999));
    assert_int_equal(call(&f, 0, 20).outcome.kind, ADMIT_REQ_SUCCESS);
    assert_int_equal(sim_providers_rate_limited(f.p, 0), 2);
    teardown(&f);
}

/* A capacity window replaces the server's limits while it lasts; keys it
** leaves out keep the base values. */
static void test_capacity_window(void **state) {
    (void)state;
    fixture f;
    setup(
        &f,
        "{'model': 'm', " LAT(
            1) ", 'max_concurrent': 1, 'windows': ["
               " {'kind': 'capacity', 'start_seconds': 5, 'end_seconds': 10, 'max_concurrent': 3},"
               " {'kind': 'capacity', 'start_seconds': 100, 'end_seconds': 200,"
               "  'requests_per_minute': 2}]}");
    sim_call_plan a = begin(&f, 0, 1);
    assert_int_equal(a.outcome.kind, ADMIT_REQ_SUCCESS);
    assert_true(refused(&f, 0, 1));
    end(&f, 0, 2, &a);

    sim_call_plan w[3];
    for (int i = 0; i < 3; i++) {
        w[i] = begin(&f, 0, 5);
        assert_int_equal(w[i].outcome.kind, ADMIT_REQ_SUCCESS);
    }
    assert_true(refused(&f, 0, 5));
    assert_int_equal(sim_providers_in_flight(f.p, 0), 3);
    /* the window ends: back to 1, and 3 are still in flight */
    assert_true(refused(&f, 0, 10));
    for (int i = 0; i < 3; i++)
        end(&f, 0, 10, &w[i]);
    assert_int_equal(call(&f, 0, 10).outcome.kind, ADMIT_REQ_SUCCESS);

    /* rpm 2 from 100 s; concurrency stays 1 */
    a = begin(&f, 0, 100);
    assert_int_equal(a.outcome.kind, ADMIT_REQ_SUCCESS);
    assert_true(refused(&f, 0, 100)); /* concurrency */
    end(&f, 0, 100.2, &a);
    assert_int_equal(call(&f, 0, 100.5).outcome.kind, ADMIT_REQ_SUCCESS);
    assert_true(refused(&f, 0, 101)); /* 2 starts this minute */
    assert_int_equal(call(&f, 0, 160.5).outcome.kind, ADMIT_REQ_SUCCESS);
    /* after the window: no rpm limit at all */
    assert_int_equal(call(&f, 0, 200).outcome.kind, ADMIT_REQ_SUCCESS);
    assert_int_equal(call(&f, 0, 200).outcome.kind, ADMIT_REQ_SUCCESS);
    assert_int_equal(call(&f, 0, 200).outcome.kind, ADMIT_REQ_SUCCESS);
    teardown(&f);
}

/* Latency windows multiply (overlaps multiply together); rate-limited and
** timed-out answers keep their own durations. */
static void test_latency_window(void **state) {
    (void)state;
    fixture f;
    setup(
        &f,
        "{'model': 'm', " LAT(
            0.1) ", 'windows': ["
                 " {'kind': 'latency', 'start_seconds': 1, 'end_seconds': 2, 'multiplier': 3},"
                 " {'kind': 'latency', 'start_seconds': 1.5, 'end_seconds': 2, 'multiplier': 2}]},"
                 " {'model': 'm2', " LAT(
                     0.1) ", 'timeout_probability': 1, 'timeout_seconds': 4,"
                          "  'windows': [{'kind': 'latency', 'start_seconds': 0, 'end_seconds': 9,"
                          "   'multiplier': 10}]}");
    assert_int_equal(call(&f, 0, 0.999999999).duration_ns, sec(0.1));
    assert_int_equal(call(&f, 0, 1).duration_ns, sec(0.3));
    assert_int_equal(call(&f, 0, 1.5).duration_ns, sec(0.6));
    assert_int_equal(call(&f, 0, 2).duration_ns, sec(0.1));
    sim_call_plan t = call(&f, 1, 1);
    assert_int_equal(t.outcome.kind, ADMIT_REQ_PROVIDER_TIMEOUT);
    assert_int_equal(t.duration_ns, sec(4));
    teardown(&f);
}

static void test_probabilities(void **state) {
    (void)state;
    fixture f;
    setup(&f, "{'model': 'm', " LAT(0.1) ", 'failure_probability': 0.2,"
                                         " 'timeout_probability': 0.1, 'timeout_seconds': 7}");
    int n = 10000, counts[ADMIT_REQ_OUTCOME_COUNT] = {0};
    for (int i = 0; i < n; i++) {
        sim_call_plan plan = call(&f, 0, i * 0.001);
        counts[plan.outcome.kind]++;
        assert_true(plan.occupies);
        assert_int_equal(plan.duration_ns,
                         plan.outcome.kind == ADMIT_REQ_PROVIDER_TIMEOUT ? sec(7) : sec(0.1));
    }
    /* binomial sd at n = 10000: 0.003 and 0.004; allow 5 sd */
    assert_true(fabs(counts[ADMIT_REQ_PROVIDER_TIMEOUT] / (double)n - 0.1) < 0.015);
    assert_true(fabs(counts[ADMIT_REQ_PROVIDER_FAILURE] / (double)n - 0.2) < 0.02);
    assert_int_equal(counts[ADMIT_REQ_SUCCESS] + counts[ADMIT_REQ_PROVIDER_FAILURE] +
                         counts[ADMIT_REQ_PROVIDER_TIMEOUT],
                     n);
    assert_int_equal(sim_providers_in_flight(f.p, 0), 0);
    teardown(&f);
}

#define DET_PROVIDERS                                                                              \
    "{'model': 'm', 'latency': {'dist': 'exponential', 'mean': 0.5}, 'max_concurrent': 3,"         \
    " 'failure_probability': 0.2, 'timeout_probability': 0.1, 'timeout_seconds': 1},"              \
    " {'model': 'm2', 'latency': {'dist': 'lognormal', 'mu': 0, 'sigma': 1},"                      \
    "  'failure_probability': 0.5}"

static bool same_plan(const sim_call_plan *a, const sim_call_plan *b) {
    return a->outcome.kind == b->outcome.kind &&
           a->outcome.retry_after_ns == b->outcome.retry_after_ns &&
           a->duration_ns == b->duration_ns && a->occupies == b->occupies;
}

/* n calls on resource 0, one every 0.2 s, each ending after its duration
** (so the concurrency cap is hit); with `interleave` a call on resource 1
** goes before each. */
static void run_plans(fixture *f, int n, bool interleave, sim_call_plan *out) {
    sim_call_plan open[64];
    int64_t ends[64];
    int open_count = 0;
    for (int i = 0; i < n; i++) {
        int64_t now = sec(i * 0.2);
        for (int k = 0; k < open_count;)
            if (ends[k] <= now) {
                sim_providers_end(f->p, 0, ends[k], &open[k]);
                open[k] = open[--open_count];
                ends[k] = ends[open_count];
            } else {
                k++;
            }
        if (interleave) call(f, 1, i * 0.2);
        sim_providers_begin(f->p, 0, now, &out[i]);
        if (open_count < 64) {
            open[open_count] = out[i];
            ends[open_count++] = now + out[i].duration_ns;
        }
    }
}

static void test_determinism(void **state) {
    (void)state;
    enum { N = 1000 };
    static sim_call_plan a[N], b[N], c[N], d[N];
    char json[4096];
    snprintf(json, sizeof json, "%s 'providers': [%s]}", HEAD, DET_PROVIDERS);
    fixture fa, fb, fc, fd;
    setup_seeded(&fa, parse_q(json), SEED, 0);
    setup_seeded(&fb, parse_q(json), SEED, 0);
    setup_seeded(&fc, parse_q(json), SEED + 1, 0);
    setup_seeded(&fd, parse_q(json), SEED, 0);
    run_plans(&fa, N, false, a);
    run_plans(&fb, N, false, b);
    run_plans(&fc, N, false, c);
    run_plans(&fd, N, true, d); /* another endpoint's calls never shift this one's draws */
    int both = 0, differ = 0, limited = 0;
    for (int i = 0; i < N; i++) {
        assert_true(same_plan(&a[i], &b[i]));
        assert_true(same_plan(&a[i], &d[i]));
        limited += is_limited(&a[i]);
        if (a[i].outcome.kind == ADMIT_REQ_RATE_LIMITED ||
            a[i].outcome.kind == ADMIT_REQ_PROVIDER_TIMEOUT ||
            c[i].outcome.kind == ADMIT_REQ_RATE_LIMITED ||
            c[i].outcome.kind == ADMIT_REQ_PROVIDER_TIMEOUT)
            continue;
        both++;
        differ += a[i].duration_ns != c[i].duration_ns;
    }
    /* another seed draws other latencies */
    assert_true(both > N / 4);
    assert_int_equal(differ, both);
    assert_true(limited > 0 && limited < N / 2); /* the cap played a part */
    assert_int_equal(sim_providers_calls(fd.p, 1), N);
    teardown(&fa);
    teardown(&fb);
    teardown(&fc);
    teardown(&fd);
}

/* The endpoint's stream is "provider/<provider>/<model>/<domain>": u first on
** every call, then the latency only when the outcome needs one. */
static void test_stream_and_draw_order(void **state) {
    (void)state;
    fixture f;
    char json[4096];
    snprintf(json, sizeof json,
             "%s 'providers': [{'model': 'm2', 'domain': 'embedding',"
             " 'latency': {'dist': 'exponential', 'mean': 0.5}, 'max_concurrent': 2,"
             " 'timeout_probability': 0.3, 'failure_probability': 0.2}]}",
             HEAD);
    setup_seeded(&f, parse_q(json), 7, 3);
    gsl_rng *r = sim_rng_stream(7, 3, "provider/p/m2/embedding");
    const sim_provider_spec *ps = &f.sc->env.providers[0];
    sim_call_plan held[2];
    for (int i = 0; i < 500; i++) {
        /* every third call finds both slots taken: rate limited, u still drawn */
        sim_call_plan plan = begin(&f, 0, i);
        double u = gsl_rng_uniform(r);
        if (i % 3 == 2) {
            assert_true(is_limited(&plan));
            end(&f, 0, i, &plan);
            end(&f, 0, i, &held[0]);
            end(&f, 0, i, &held[1]);
            continue;
        }
        held[i % 3] = plan;
        if (u < 0.3) {
            assert_int_equal(plan.outcome.kind, ADMIT_REQ_PROVIDER_TIMEOUT);
            continue;
        }
        assert_int_equal(plan.outcome.kind,
                         u < 0.5 ? ADMIT_REQ_PROVIDER_FAILURE : ADMIT_REQ_SUCCESS);
        assert_int_equal(plan.duration_ns, sim_dist_sample_ns(&ps->latency, r));
    }
    gsl_rng_free(r);
    teardown(&f);
}

static void test_empirical_latency(void **state) {
    (void)state;
    sim_error err = {0};
    sim_scenario *sc = sim_scenario_load(ADMIT_TEST_DATA_DIR "/provider_trace.json", &err);
    if (!sc) print_error("%s\n", err.message);
    assert_non_null(sc);
    fixture f;
    setup_seeded(&f, sc, SEED, 0);
    static const double trace[] = {0.125, 0.25, 0.5, 1.5, 0.0625};
    int seen[5] = {0};
    for (int i = 0; i < 2000; i++) {
        sim_call_plan plan = call(&f, 0, i);
        assert_int_equal(plan.outcome.kind, ADMIT_REQ_SUCCESS);
        int k = 0;
        while (k < 5 && plan.duration_ns != sec(trace[k]))
            k++;
        assert_true(k < 5);
        seen[k]++;
    }
    for (int k = 0; k < 5; k++)
        assert_true(seen[k] > 300); /* uniform over the samples: ~400 each */
    teardown(&f);
}

static void test_missing_provider(void **state) {
    (void)state;
    char json[4096];
    snprintf(json, sizeof json, "%s 'providers': [{'model': 'm', %s}]}", HEAD, LAT(1));
    sim_scenario *sc = parse_q(json);
    admit_request_resolver *rr = resolver_for(sc);
    int pm = admit_request_resolver_lookup(rr, "m");
    assert_int_equal(admit_request_resolver_resource(rr, (uint32_t)pm, ADMIT_DOMAIN_EMBEDDING), 1);
    sim_error err = {0};
    assert_null(sim_providers_create(sc, rr, SEED, 0, &err));
    assert_string_equal(err.message,
                        "t.json: request resource \"p/m1/embedding\" has no \"providers\" entry");
    admit_request_resolver_destroy(rr);

    /* no request resources at all: nothing to simulate, and that is fine */
    rr = admit_request_resolver_create(NULL);
    sim_providers *p = sim_providers_create(sc, rr, SEED, 0, &err);
    assert_non_null(p);
    sim_providers_free(p);
    admit_request_resolver_destroy(rr);
    sim_scenario_free(sc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrency_cap),
        cmocka_unit_test(test_retry_after_none),
        cmocka_unit_test(test_rpm_window),
        cmocka_unit_test(test_outage_window),
        cmocka_unit_test(test_capacity_window),
        cmocka_unit_test(test_latency_window),
        cmocka_unit_test(test_probabilities),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_stream_and_draw_order),
        cmocka_unit_test(test_empirical_latency),
        cmocka_unit_test(test_missing_provider),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
