/* The regression check's stored runs (res/check.h): one run written by the
** pipeline both as an artifact and into a results store reads back, as
** run:ID, with the same flat metrics as its artifact for every iteration —
** every run-level, group, request, provider and resource figure — but the
** ones the store does not keep (res_metric_is_stored), which are absent;
** the mapping of stored names to flat ones by hand; every gate judges a
** run alike from its artifact and from the store; bad ids and unfinished
** runs are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "res/check.h"
#include "res/pipeline.h"
#include "res/store.h"
#include "sim_test.h"
#include "store_test.h"

enum { ITERATIONS = 2 };

/* How many flat names of each kind a run's metrics hold. */
typedef struct kinds {
    size_t run, group, request, provider, resource, lacking;
} kinds;

static void count_kind(kinds *k, const char *name) {
    if (!res_metric_is_stored(name))
        k->lacking++;
    else if (!strncmp(name, "group.", 6))
        k->group++;
    else if (!strncmp(name, "request.", 8))
        k->request++;
    else if (!strncmp(name, "provider.", 9))
        k->provider++;
    else if (!strncmp(name, "resource.", 9))
        k->resource++;
    else
        k->run++;
}

/* a (from the artifact) and s (from the store) hold the same figures, but
** those the store does not keep, which s lacks. */
static void same_figures(const res_metric_set *a, const res_metric_set *s, kinds *k) {
    for (size_t i = 0; i < a->count; i++) {
        const res_metric *x = res_metric_find(s, a->m[i].name);
        count_kind(k, a->m[i].name);
        if (!res_metric_is_stored(a->m[i].name)) {
            if (x) fail_msg("%s: stored, though the store is said not to keep it", x->name);
            continue;
        }
        if (!x) fail_msg("%s: in the artifact, not read from the store", a->m[i].name);
        if (x->value != a->m[i].value)
            fail_msg("%s: artifact %.17g, store %.17g", x->name, a->m[i].value, x->value);
    }
    for (size_t i = 0; i < s->count; i++)
        if (!res_metric_find(a, s->m[i].name))
            fail_msg("%s: read from the store, not in the artifact", s->m[i].name);
}

/* Runs scenario (seed 2, two iterations) with --out and --db; compares.
** Every name of expect is among the figures read from the store. */
static kinds run_both_ways(const char *scenario, const char *const *expect) {
    char dir[256], db[300];
    assert_int_equal(scratch_dir(dir, sizeof dir, "check-store"), 0);
    snprintf(db, sizeof db, "%s/results.db", dir);
    sim_scenario *sc = load(scenario);
    sim_runner runner = {.scenario = sc, .options = {.seed = 2}};
    res_environment env = sim_runner_environment(&runner);
    res_pipeline_options po = {.config = &sc->config,
                               .policy = sc->config.default_policy,
                               .seed = 2,
                               .iterations = ITERATIONS,
                               .db_path = db,
                               .out_dir = dir,
                               .command_line = "test"};
    res_pipeline_result result;
    res_error err;
    if (res_pipeline_run(&po, &env, &result, &err) != RES_OK) fail_msg("%s", err.message);
    res_check_side *art = res_check_side_load(result.files[0], NULL, &err);
    if (!art) fail_msg("%s", err.message);
    res_check_side *st = res_check_side_load("run:1", db, &err);
    if (!st) fail_msg("%s", err.message);
    assert_int_equal(res_check_side_count(st), 1);
    assert_string_equal(res_check_side_key(st, 0), res_check_side_key(art, 0));
    kinds k = {0};
    for (size_t i = 0; i < ITERATIONS; i++)
        same_figures(res_check_side_metrics(art, 0, i), res_check_side_metrics(st, 0, i), &k);
    assert_null(res_check_side_metrics(st, 0, ITERATIONS));
    for (size_t i = 0; expect[i]; i++)
        if (!res_metric_find(res_check_side_metrics(st, 0, 1), expect[i]))
            fail_msg("%s: %s not read from the store", scenario, expect[i]);
    /* judged from the store or from the artifact, on either side: every
    ** gate comes out the same */
    json_t *gates = res_check_gates_load(ADMIT_GATES_FILE, &err);
    if (!gates) fail_msg("%s", err.message);
    json_t *by_artifacts = res_check_run(art, art, gates, ADMIT_GATES_FILE, &err);
    const res_check_side *pairs[3][2] = {{st, art}, {art, st}, {st, st}};
    for (int p = 0; p < 3; p++) {
        json_t *v = res_check_run(pairs[p][0], pairs[p][1], gates, ADMIT_GATES_FILE, &err);
        if (!v || !by_artifacts) fail_msg("%s", err.message);
        json_t *a = json_object_get(by_artifacts, "results"), *b = json_object_get(v, "results");
        assert_int_equal(json_array_size(a), json_array_size(b));
        for (size_t g = 0; g < json_array_size(a); g++) {
            const char *x = json_string_value(json_object_get(json_array_get(a, g), "status"));
            const char *y = json_string_value(json_object_get(json_array_get(b, g), "status"));
            if (strcmp(x, y) != 0)
                fail_msg("%s: %s from artifacts, %s with the store (%s)",
                         json_string_value(json_object_get(json_array_get(b, g), "gate")), x, y,
                         json_string_value(json_object_get(json_array_get(b, g), "reason")));
        }
        json_decref(v);
    }
    json_decref(by_artifacts);
    json_decref(gates);
    res_check_side_free(art);
    res_check_side_free(st);
    sim_scenario_free(sc);
    char path[600];
    for (int f = 0; f < 4; f++)
        if (result.files[f][0]) unlink(result.files[f]);
    remove_db(db);
    snprintf(path, sizeof path, "%s", dir);
    rmdir(path);
    return k;
}

/* Groups, every correlated run-level figure and per-resource fairness. */
static void test_heavy_root_peer_arrival(void **state) {
    (void)state;
    static const char *const expect[] = {"wall_time_seconds",
                                         "slot_utilization",
                                         "final_task_leases",
                                         "final_request_leases",
                                         "final_request_waiters",
                                         "hidden_scheduler_resource_waiters",
                                         "jain_fairness_index",
                                         "ready_idle_gap_max_seconds",
                                         "ready_idle_gap_total_seconds",
                                         "active_capacity_fraction",
                                         "root_over_admission_debt_lease_seconds",
                                         "time_to_first_record_seconds",
                                         "time_to_50pct_records_seconds",
                                         "row_completion_p95_seconds",
                                         "group.peer.wait_p95_seconds",
                                         "group.peer.first_wait_seconds",
                                         NULL};
    kinds k = run_both_ways("heavy_root_peer_arrival.json", expect);
    assert_true(k.group > 0);
    assert_true(k.resource > 0);
    assert_true(k.lacking > 0); /* throughput and wait p99 are in the artifact only */
}

/* Request resources and providers, utilisation while others cool. */
static void test_cross_provider_cooldown(void **state) {
    (void)state;
    static const char *const expect[] = {
        "request.provider-b/gen-b-large/chat.utilization_while_others_cooling",
        "request.provider-b/gen-b-large/chat.request_wait_p95_seconds",
        "request.provider-b/gen-b-large/chat.rate_limited", NULL};
    kinds k = run_both_ways("cross_provider_cooldown.json", expect);
    assert_true(k.request > 0);
    assert_true(k.provider > 0);
}

/* A slow root feeding fast downstream work: the downstream figures. */
static void test_heavy_root_seed(void **state) {
    (void)state;
    static const char *const expect[] = {"first_downstream_ready_seconds",
                                         "first_downstream_dispatch_seconds", NULL};
    kinds k = run_both_ways("heavy_root_seed.json", expect);
    assert_true(k.run > 0 && k.group > 0);
}

/* The mapping of stored (scope, name) to flat names, by hand. */
static void test_names(void **state) {
    (void)state;
    char out[RES_METRIC_NAME_MAX];
    assert_true(res_metric_name_of_stored("run", "wall_time_seconds", out, sizeof out));
    assert_string_equal(out, "wall_time_seconds");
    assert_true(res_metric_name_of_stored("run", "correlated_hidden_waiters", out, sizeof out));
    assert_string_equal(out, "hidden_scheduler_resource_waiters");
    /* the scheduler's own count is an iteration stat, not the flat metric */
    assert_false(
        res_metric_name_of_stored("run", "hidden_scheduler_resource_waiters", out, sizeof out));
    assert_false(res_metric_name_of_stored("run", "task_seconds", out, sizeof out));
    assert_true(res_metric_name_of_stored("group:peer", "wait_p95_seconds", out, sizeof out));
    assert_string_equal(out, "group.peer.wait_p95_seconds");
    assert_false(res_metric_name_of_stored("group:peer", "dispatches", out, sizeof out));
    assert_false(res_metric_name_of_stored("group:", "tasks", out, sizeof out));
    assert_true(res_metric_name_of_stored("request:a/m-1.5/chat", "rate_limited", out, sizeof out));
    assert_string_equal(out, "request.a/m-1.5/chat.rate_limited");
    assert_false(res_metric_name_of_stored("request:a/m/chat", "in_flight_max", out, sizeof out));
    assert_true(res_metric_name_of_stored("provider:a", "busy_fraction", out, sizeof out));
    assert_string_equal(out, "provider.a.busy_fraction");
    assert_false(res_metric_name_of_stored("provider:a", "cooldown_seconds", out, sizeof out));
    assert_true(
        res_metric_name_of_stored("resource:slots", "jain_fairness_index", out, sizeof out));
    assert_string_equal(out, "resource.slots.jain_fairness_index");
    assert_false(res_metric_name_of_stored("resource:slots", "ready_idle_gap_total_seconds", out,
                                           sizeof out));
    assert_false(
        res_metric_name_of_stored("layers:g", "layer_request_admission_seconds", out, sizeof out));
    assert_false(res_metric_name_of_stored("run", "wall_time_seconds", out, 4)); /* too long */
    assert_false(res_metric_is_stored("throughput_records_per_second"));
    assert_false(res_metric_is_stored("downstream_ready_to_dispatch_p95_seconds"));
    assert_false(res_metric_is_stored("group.peer.wait_p99_seconds"));
    assert_true(res_metric_is_stored("group.peer.wait_p95_seconds"));
    assert_true(res_metric_is_stored("request.a/m/chat.request_wait_p95_seconds"));
}

/* Bad ids, a missing database, an unknown run, a run never finished. */
static void test_refused(void **state) {
    (void)state;
    char dir[256], db[300];
    assert_int_equal(scratch_dir(dir, sizeof dir, "check-refused"), 0);
    snprintf(db, sizeof db, "%s/results.db", dir);
    res_error err;
    static const char *const bad[] = {"run:",   "run:x",       "run:0",          "run:-1",
                                      "run:1x", "experiment:", "experiment:1.5", NULL};
    for (int i = 0; bad[i]; i++) {
        assert_null(res_check_side_load(bad[i], db, &err));
        assert_int_equal(err.code, RES_EINVAL);
        assert_non_null(strstr(err.message, "expected"));
    }
    assert_null(res_check_side_load("run:1", db, &err));
    assert_int_equal(err.code, RES_ENOTFOUND);
    res_store *s = NULL;
    assert_int_equal(res_store_open(db, RES_STORE_OPEN_CREATE, &s, &err), RES_OK);
    res_store_run_info info = {.scenario_id = "x",
                               .scenario_file = "x.json",
                               .policy = "strict",
                               .seed = 1,
                               .iterations = 1};
    int64_t id = 0;
    assert_int_equal(res_store_begin_run(s, &info, &id, &err), RES_OK);
    res_store_close(s);
    assert_null(res_check_side_load("run:2", db, &err));
    assert_int_equal(err.code, RES_ENOTFOUND);
    assert_null(res_check_side_load("run:1", db, &err));
    assert_int_equal(err.code, RES_EINVAL);
    assert_non_null(strstr(err.message, "only a complete run"));
    assert_null(res_check_side_load("experiment:1", db, &err));
    assert_int_equal(err.code, RES_ENOTFOUND);
    res_check_side *c = NULL, *b = NULL;
    assert_false(res_check_sides_of_experiment("run:1", db, &c, &b, &err));
    assert_null(c);
    assert_null(b);
    remove_db(db);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heavy_root_peer_arrival),
        cmocka_unit_test(test_cross_provider_cooldown),
        cmocka_unit_test(test_heavy_root_seed),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
