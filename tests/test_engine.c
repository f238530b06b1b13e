/* The simulator driving the real core: reference figures, determinism,
** common random numbers across arms, and zero leases on every shipped
** scenario (success, failure, salvage and cancellation paths). */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "res/stats.h"
#include "sim_test.h"

#define assert_close(a, b) assert_true(fabs((a) - (b)) < 1e-9)

typedef struct expected_column {
    double first, mean, p50, p95, max, idle;
} expected_column;

static void check_reference(run_policy_kind policy, double wall, double util, expected_column hot,
                            expected_column peer) {
    sim_scenario *sc = load("heavy_root_peer_arrival.json");
    res_run_record *r = run_iteration(sc, policy, 1, 0);
    res_summary *s = res_summary_compute(r);
    assert_non_null(s);
    assert_close(s->wall_time_seconds, wall);
    assert_close(s->slot_utilization, util);
    assert_int_equal(s->final_task_leases, 0);
    const expected_column *want[2] = {&hot, &peer};
    for (int c = 0; c < 2; c++) {
        const res_column_summary *cs = &s->columns[c];
        assert_close(cs->first_wait_seconds, want[c]->first);
        assert_close(cs->wait_mean_seconds, want[c]->mean);
        assert_close(cs->wait_p50_seconds, want[c]->p50);
        assert_close(cs->wait_p95_seconds, want[c]->p95);
        assert_close(cs->wait_max_seconds, want[c]->max);
        assert_close(cs->idle_seconds, want[c]->idle);
    }
    assert_int_equal(s->columns[0].tasks, 512);
    assert_int_equal(s->columns[1].tasks, 256);
    res_summary_free(s);
    res_run_record_free(r);
    sim_scenario_free(sc);
}

/* Figures from an independent implementation of SPEC §3 (written from the
** spec alone), and checked by hand where possible: strict keeps every slot
** busy, so wall = (512 x 0.5 + 256 x 0.05) / 8 = 33.6 s. */
static void test_heavy_root_peer_arrival_strict(void **state) {
    (void)state;
    check_reference(RUN_POLICY_STRICT, 33.6, 1.0,
                    (expected_column){0.0, 16.1458984375, 16.25, 30.75, 32.65, 0.45},
                    (expected_column){0.45, 24.80703125, 32.65, 33.45, 33.5, 26.4});
}

/* Bounded borrowing holds hot to 7 slots while peer has work, so peer
** finishes at ~13 s instead of ~33.5 s. */
static void test_heavy_root_peer_arrival_bounded(void **state) {
    (void)state;
    check_reference(RUN_POLICY_BOUNDED, 34.0, 268.8 / (34.0 * 8),
                    (expected_column){0.0, 17.04794921875, 17.5, 31.55, 33.5, 0.0},
                    (expected_column){0.45, 6.7751953125, 6.8, 12.5, 13.15, 21.25});
}

static void test_neutral_scenario_policies_agree(void **state) {
    (void)state;
    sim_scenario *sc = load("neutral_ready_at_start.json");
    res_run_record *a = run_iteration(sc, RUN_POLICY_STRICT, 1, 0),
                   *b = run_iteration(sc, RUN_POLICY_BOUNDED, 1, 0);
    res_summary *sa = res_summary_compute(a), *sb = res_summary_compute(b);
    assert_close(sa->wall_time_seconds, 6.4);
    assert_close(sb->wall_time_seconds, 6.4);
    for (int c = 0; c < 2; c++) {
        assert_close(sa->columns[c].wait_mean_seconds, 3.15); /* 0.1 x 63 / 2 */
        assert_close(sb->columns[c].wait_mean_seconds, 3.15);
        assert_close(sa->columns[c].wait_p50_seconds, 3.2); /* index round(127.5) = 128 */
    }
    res_summary_free(sa);
    res_summary_free(sb);
    res_run_record_free(a);
    res_run_record_free(b);
    sim_scenario_free(sc);
}

static void test_same_seed_identical_artifacts(void **state) {
    (void)state;
    sim_scenario *sc = load("failures_salvage.json");
    res_run_record *a = run_iteration(sc, RUN_POLICY_BOUNDED, 42, 0),
                   *b = run_iteration(sc, RUN_POLICY_BOUNDED, 42, 0);
    char *ta = artifact_without_host(a), *tb = artifact_without_host(b);
    assert_string_equal(ta, tb);
    res_run_record *c = run_iteration(sc, RUN_POLICY_BOUNDED, 43, 0);
    char *tc = artifact_without_host(c);
    assert_true(strcmp(ta, tc) != 0); /* the seed matters */
    free(ta);
    free(tb);
    free(tc);
    res_run_record_free(a);
    res_run_record_free(b);
    res_run_record_free(c);
    sim_scenario_free(sc);
}

/* Common random numbers: without failures every task completes under both
** arms, so output hashes must be equal even though timings differ. */
static void test_output_hashes_equal_across_arms(void **state) {
    (void)state;
    sim_scenario *sc = load("heavy_root.json");
    res_run_record *a = run_iteration(sc, RUN_POLICY_STRICT, 5, 0),
                   *b = run_iteration(sc, RUN_POLICY_BOUNDED, 5, 0);
    assert_int_equal(a->output_hash_all, b->output_hash_all);
    res_run_record *c = run_iteration(sc, RUN_POLICY_STRICT, 5, 1);
    assert_true(a->output_hash_all != c->output_hash_all); /* iterations draw anew */
    res_run_record_free(a);
    res_run_record_free(b);
    res_run_record_free(c);
    sim_scenario_free(sc);
}

static void assert_clean_end(const res_run_record *r) {
    assert_int_equal(r->final_task_leases, 0);
    for (uint32_t i = 0; i < r->resource_count; i++)
        assert_int_equal(r->final_leased[i], 0);
    assert_int_equal(r->admission_stats.acquired, r->admission_stats.released);
    assert_int_equal(r->admission_stats.release_reasons[ADMIT_RELEASE_DUPLICATE], 0);
    assert_int_equal(r->admission_stats.release_reasons[ADMIT_RELEASE_STALE_LEASE], 0);
    assert_int_equal(r->stats.hidden_waiters, 0);
    assert_int_equal(r->stats.running, 0);
    assert_int_equal(r->final_queued, 0);
    assert_int_equal(r->final_request_leases, 0);
    assert_int_equal(r->final_request_waiters, 0);
    assert_int_equal(r->request_admission_stats.leases_acquired,
                     r->request_admission_stats.release_reasons[ADMIT_RELEASE_RELEASED]);
    res_request_report *rep = res_request_report_compute(r);
    assert_non_null(rep);
    assert_int_equal(rep->attempt_order_violations, 0);
    res_request_report_free(rep);
}

static void test_every_scenario_ends_with_zero_leases(void **state) {
    (void)state;
    DIR *d = opendir(ADMIT_SCENARIO_DIR);
    assert_non_null(d);
    int checked = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0) continue;
        sim_scenario *sc = load(de->d_name);
        for (int p = 0; p < 3; p++) /* strict, bounded, provider_aware */
            for (uint64_t seed = 1; seed <= 3; seed++) {
                res_run_record *r = run_iteration(sc, (run_policy_kind)p, seed, 0);
                assert_clean_end(r);
                assert_true(r->status == ADMIT_JOB_COMPLETED || r->status == ADMIT_JOB_CANCELLED ||
                            r->status == ADMIT_JOB_EARLY_SHUTDOWN);
                res_run_record_free(r);
            }
        sim_scenario_free(sc);
        checked++;
    }
    closedir(d);
    assert_true(checked >= 5);
}

static void test_failure_paths_exercised(void **state) {
    (void)state;
    sim_scenario *sc = load("failures_salvage.json");
    res_run_record *r = run_iteration(sc, RUN_POLICY_BOUNDED, 1, 0);
    assert_int_equal(r->status, ADMIT_JOB_COMPLETED);
    assert_true(r->stats.retries_deferred > 0);
    assert_true(r->stats.salvage_redispatched > 0);
    assert_true(r->stats.rows_dropped > 0);
    assert_clean_end(r);
    res_run_record_free(r);
    sim_scenario_free(sc);

    sc = load("cancel_midrun.json");
    r = run_iteration(sc, RUN_POLICY_STRICT, 1, 0);
    assert_int_equal(r->status, ADMIT_JOB_CANCELLED);
    assert_true(r->stats.tasks_completed < r->stats.tasks_total);
    assert_int_equal(r->wall_ns, 3000000000LL); /* cancelled workers stop at once */
    assert_clean_end(r);
    res_run_record_free(r);
    sim_scenario_free(sc);
}

static void test_spawn_failures_release_leases(void **state) {
    (void)state;
    sim_scenario *sc = load("narrow_serial.json");
    sc->env.spawn_failure_probability = 0.2;
    res_run_record *r = run_iteration(sc, RUN_POLICY_BOUNDED, 3, 0);
    assert_true(r->stats.spawn_failures > 0);
    assert_clean_end(r);
    res_run_record_free(r);
    sim_scenario_free(sc);
}

static void test_early_shutdown_releases_leases(void **state) {
    (void)state;
    sim_scenario *sc = load("wide_independent_roots.json");
    sc->env.columns[0].non_retryable_probability = 1.0;
    sc->env.columns[1].non_retryable_probability = 1.0;
    sc->env.columns[2].non_retryable_probability = 1.0;
    res_run_record *r = run_iteration(sc, RUN_POLICY_STRICT, 1, 0);
    assert_int_equal(r->status, ADMIT_JOB_EARLY_SHUTDOWN);
    assert_clean_end(r);
    res_run_record_free(r);
    sim_scenario_free(sc);
}

/* Two groups each asking for the whole llm_wait capacity: every strict share
** is 1 < 2, yet bounded borrowing must still make progress (a group holding
** none of a resource is never denied on it). */
static void test_bounded_progress_with_amounts_above_share(void **state) {
    (void)state;
    sim_scenario *sc =
        parse("{\"schema\":1,\"scenario_id\":\"wide\",\"scenario_version\":1,\"records\":4,"
              "\"capacity\":{\"submission\":4,\"llm_wait\":2},\"columns\":["
              "{\"name\":\"a\",\"duration\":{\"dist\":\"constant\",\"seconds\":1},"
              "\"scheduling\":{\"kind\":\"custom_model\",\"identity\":[\"x\",\"a\"],"
              "\"resources\":{\"submission\":1,\"llm_wait\":2}}},"
              "{\"name\":\"b\",\"duration\":{\"dist\":\"constant\",\"seconds\":1},"
              "\"scheduling\":{\"kind\":\"custom_model\",\"identity\":[\"x\",\"b\"],"
              "\"resources\":{\"submission\":1,\"llm_wait\":2}}}]}");
    for (int p = 0; p < 2; p++) {
        res_run_record *r = run_iteration(sc, (run_policy_kind)p, 1, 0);
        assert_int_equal(r->status, ADMIT_JOB_COMPLETED);
        assert_int_equal(r->wall_ns, 8 * 1000000000LL); /* one task at a time */
        assert_clean_end(r);
        res_run_record_free(r);
    }
    sim_scenario_free(sc);
}

/* A default borrow ceiling beyond 32 bits saturates instead of wrapping to 0. */
static void test_huge_default_ceiling_saturates(void **state) {
    (void)state;
    const char *fmt = "{\"schema\":1,\"scenario_id\":\"solo\",\"scenario_version\":1,\"records\":8,"
                      "\"capacity\":{\"submission\":4,\"llm_wait\":4},"
                      "\"policy\":{\"default_borrow_ceiling\":%s},\"columns\":["
                      "{\"name\":\"a\",\"duration\":{\"dist\":\"constant\",\"seconds\":1},"
                      "\"scheduling\":{\"kind\":\"custom_model\",\"identity\":[\"x\",\"a\"]}}]}";
    char text[1024];
    int64_t wall[2];
    const char *ceilings[2] = {"4294967295", "4294967296"};
    for (int i = 0; i < 2; i++) {
        snprintf(text, sizeof text, fmt, ceilings[i]);
        sim_scenario *sc = parse(text);
        res_run_record *r = run_iteration(sc, RUN_POLICY_BOUNDED, 1, 0);
        wall[i] = r->wall_ns;
        res_run_record_free(r);
        sim_scenario_free(sc);
    }
    assert_int_equal(wall[0], 2 * 1000000000LL); /* borrows all 4 slots */
    assert_int_equal(wall[1], wall[0]);
}

static void test_quantile_index_rounds_half_even(void **state) {
    (void)state;
    assert_int_equal(res_quantile_index(256, 0.5), 128); /* 127.5 -> 128 */
    assert_int_equal(res_quantile_index(512, 0.5), 256); /* 255.5 -> 256 */
    assert_int_equal(res_quantile_index(4, 0.5), 2);     /* 1.5 -> 2 */
    assert_int_equal(res_quantile_index(6, 0.5), 2);     /* 2.5 -> 2 */
    assert_int_equal(res_quantile_index(256, 0.95), 242);
    assert_int_equal(res_quantile_index(1, 0.95), 0);
}

/* Ten tasks of 1e9 s each, one at a time, need 1e10 s of virtual time: past
** the clock's range.  The run fails saying so; it never reports a wall time
** that wrapped around. */
static void test_time_past_the_clock_fails(void **state) {
    (void)state;
    sim_scenario *sc = parse("{\"schema\": 1, \"scenario_id\": \"long\", \"scenario_version\": 1, "
                             "\"records\": 10, \"capacity\": {\"submission\": 1}, \"columns\": "
                             "[{\"name\": \"a\", \"duration\": {\"dist\": \"constant\", "
                             "\"seconds\": 1e9}}]}");
    sim_run_options o = {.policy = RUN_POLICY_STRICT, .policy_set = true, .seed = 1};
    sim_error err = {0};
    assert_null(sim_run_execute(sc, &o, &err));
    assert_int_equal(err.code, SIM_ELIMIT);
    assert_non_null(strstr(err.message, "virtual time would pass 4611686018 s"));
    assert_non_null(strstr(err.message, "with 4 of 10 tasks done"));
    sim_scenario_free(sc);
}

/* A draw past the limit of one duration (1e9 s) from an unbounded
** distribution's tail (the loader takes it: its median, e^20 s, is within
** the limit) fails the run naming the column and the value: it is never cut
** to 1e9 s silently. */
static void test_duration_past_the_limit_fails(void **state) {
    (void)state;
    sim_scenario *sc = parse("{\"schema\": 1, \"scenario_id\": \"tail\", \"scenario_version\": 1, "
                             "\"records\": 100, \"capacity\": {\"submission\": 4}, \"columns\": "
                             "[{\"name\": \"a\", \"duration\": {\"dist\": \"lognormal\", "
                             "\"mu\": 20, \"sigma\": 3}}]}");
    sim_run_options o = {.policy = RUN_POLICY_STRICT, .policy_set = true, .seed = 1};
    sim_error err = {0};
    assert_null(sim_run_execute(sc, &o, &err));
    assert_int_equal(err.code, SIM_ELIMIT);
    assert_non_null(strstr(err.message, "column \"a\" drew a duration of "));
    assert_non_null(strstr(err.message, "past the limit of one duration (1000000000 s)"));
    sim_scenario_free(sc);
}

/* The same for a provider's latency times a latency window's multiplier:
** the median, 6.9e6 s x 60, is within the limit, a tail draw is not. */
static void test_latency_past_the_limit_fails(void **state) {
    (void)state;
    sim_scenario *sc = parse(
        "{\"schema\": 1, \"scenario_id\": \"lat\", \"scenario_version\": 1, \"records\": 3, "
        "\"capacity\": {\"submission\": 2, \"llm_wait\": 2}, \"models\": [{\"alias\": \"a\", "
        "\"provider\": \"pa\", \"model\": \"ma\", \"max_parallel_requests\": 2}], "
        "\"providers\": [{\"model\": \"a\", \"latency\": {\"dist\": \"exponential\", \"mean\": "
        "1e7}, \"windows\": [{\"kind\": \"latency\", \"start_seconds\": 0, \"end_seconds\": 10, "
        "\"multiplier\": 60}]}], \"columns\": [{\"name\": \"x\", \"program\": [{\"call\": "
        "{\"model\": \"a\"}}], \"scheduling\": {\"kind\": \"model\", \"model\": \"a\"}}]}");
    sim_run_options o = {.policy = RUN_POLICY_STRICT, .policy_set = true, .seed = 1};
    sim_error err = {0};
    assert_null(sim_run_execute(sc, &o, &err));
    assert_int_equal(err.code, SIM_ELIMIT);
    assert_non_null(strstr(err.message, "provider endpoint \"pa/ma/chat\" drew a latency of "));
    assert_non_null(strstr(err.message, "past the limit of one duration (1000000000 s)"));
    sim_scenario_free(sc);
}

/* 4,000 tasks of 1e6 s one at a time: 4e9 s of virtual time, within range,
** but the waits sum to 8e21 ns, past int64.  The mean is exact:
** 1e6 s x (0 + 1 + ... + 3999) / 4000 = 1999.5e6 s. */
static void test_sums_past_int64_are_exact(void **state) {
    (void)state;
    sim_scenario *sc = parse("{\"schema\": 1, \"scenario_id\": \"sums\", \"scenario_version\": 1, "
                             "\"records\": 4000, \"capacity\": {\"submission\": 1}, \"columns\": "
                             "[{\"name\": \"a\", \"duration\": {\"dist\": \"constant\", "
                             "\"seconds\": 1e6}}]}");
    res_run_record *r = run_iteration(sc, RUN_POLICY_STRICT, 1, 0);
    res_summary *s = res_summary_compute(r);
    assert_non_null(s);
    assert_true(s->wall_time_seconds == 4e9);
    assert_true(fabs(s->columns[0].wait_mean_seconds - 1999.5e6) < 1e-6); /* 8e21 ns in a double */
    assert_true(s->columns[0].wait_max_seconds == 3999e6);
    assert_true(s->task_seconds == 4e9);
    assert_true(s->slot_utilization == 1.0);
    /* the correlated view's waits too (dispatch follows ready at once here) */
    assert_non_null(s->view);
    assert_true(fabs(s->view->m.ready_to_lease_gap.mean - 1999.5e6) < 1e-6);
    assert_true(s->view->m.active_capacity_integral == 4e9);
    res_summary_free(s);
    res_run_record_free(r);
    sim_scenario_free(sc);
}

/* Every task fails retryably and is salvaged 10 times: 11 dispatches per
** task, more than the summary's first guess of 2 per task + 8 and twice
** that, so its wait list must keep growing (it wrote past its end). */
static void test_summary_counts_every_dispatch(void **state) {
    (void)state;
    sim_scenario *sc = parse(
        "{\"schema\": 1, \"scenario_id\": \"salvage_many\", \"scenario_version\": 1, "
        "\"records\": 20, \"capacity\": {\"submission\": 4}, \"failures\": "
        "{\"salvage_max_rounds\": 10, \"shutdown_error_rate\": 1.0, \"shutdown_error_window\": "
        "50}, \"columns\": [{\"name\": \"a\", \"duration\": {\"dist\": \"constant\", "
        "\"seconds\": 0.1}, \"failure\": {\"retryable_probability\": 1.0}}]}");
    res_run_record *r = run_iteration(sc, RUN_POLICY_STRICT, 1, 0);
    res_summary *s = res_summary_compute(r);
    assert_non_null(s);
    assert_int_equal(r->stats.workers_spawned, 220);
    assert_int_equal(s->columns[0].dispatches, 220);
    res_summary_free(s);
    res_run_record_free(r);
    sim_scenario_free(sc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heavy_root_peer_arrival_strict),
        cmocka_unit_test(test_heavy_root_peer_arrival_bounded),
        cmocka_unit_test(test_neutral_scenario_policies_agree),
        cmocka_unit_test(test_same_seed_identical_artifacts),
        cmocka_unit_test(test_output_hashes_equal_across_arms),
        cmocka_unit_test(test_every_scenario_ends_with_zero_leases),
        cmocka_unit_test(test_failure_paths_exercised),
        cmocka_unit_test(test_spawn_failures_release_leases),
        cmocka_unit_test(test_early_shutdown_releases_leases),
        cmocka_unit_test(test_bounded_progress_with_amounts_above_share),
        cmocka_unit_test(test_huge_default_ceiling_saturates),
        cmocka_unit_test(test_quantile_index_rounds_half_even),
        cmocka_unit_test(test_time_past_the_clock_fails),
        cmocka_unit_test(test_duration_past_the_limit_fails),
        cmocka_unit_test(test_latency_past_the_limit_fails),
        cmocka_unit_test(test_sums_past_int64_are_exact),
        cmocka_unit_test(test_summary_counts_every_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
