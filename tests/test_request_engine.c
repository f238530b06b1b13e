/* The request stage end to end in the simulator: the acceptance
** figures for dynamic_request_count, cross_provider_cooldown and
** aimd_recovery, per-attempt timelines from the request stream, and zero
** request leases and waiters on cancellation, timeout and failure paths. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "res/capacity_plan.h"
#include "res/report_files.h"
#include "sim_test.h"

static res_run_record *run(const sim_scenario *sc, run_policy_kind policy, uint64_t seed) {
    return run_iteration(sc, policy, seed, 0);
}

/* The request report of each live record (computed once, freed by done()). */
static struct {
    const res_run_record *r;
    res_request_report *rep;
} reports[4];

static const res_request_report *report_of(const res_run_record *r) {
    for (size_t i = 0; i < sizeof reports / sizeof *reports; i++)
        if (reports[i].r == r) return reports[i].rep;
    for (size_t i = 0; i < sizeof reports / sizeof *reports; i++)
        if (!reports[i].r) {
            reports[i].r = r;
            reports[i].rep = res_request_report_compute(r);
            assert_non_null(reports[i].rep);
            return reports[i].rep;
        }
    fail_msg("too many records alive");
    return NULL;
}

static void done(res_run_record *r) {
    for (size_t i = 0; i < sizeof reports / sizeof *reports; i++)
        if (reports[i].r == r) {
            res_request_report_free(reports[i].rep);
            reports[i].r = NULL;
        }
    res_run_record_free(r);
}

/* One request resource: the record's names and snapshots, the report's figures. */
typedef struct request_figures {
    const res_request_resource *res;
    const res_request_stats *st;
} request_figures;

static request_figures resource(const res_run_record *r, const char *key) {
    for (uint32_t i = 0; i < r->request_resource_count; i++)
        if (strcmp(r->request[i].key, key) == 0)
            return (request_figures){&r->request[i], &report_of(r)->resources[i]};
    fail_msg("no request resource %s", key);
    return (request_figures){0};
}

/* Both ledgers empty, every lease released exactly once. */
static void assert_request_clean(const res_run_record *r) {
    assert_int_equal(r->final_task_leases, 0);
    assert_int_equal(r->final_request_leases, 0);
    assert_int_equal(r->final_request_waiters, 0);
    const res_request_report *rep = report_of(r);
    assert_int_equal(rep->attempt_order_violations, 0);
    const admit_request_admission_stats *st = &r->request_admission_stats;
    assert_int_equal(st->leases_acquired, st->release_reasons[ADMIT_RELEASE_RELEASED]);
    assert_int_equal(st->release_reasons[ADMIT_RELEASE_DUPLICATE], 0);
    assert_int_equal(st->release_reasons[ADMIT_RELEASE_STALE_LEASE], 0);
    assert_int_equal(st->release_reasons[ADMIT_RELEASE_UNKNOWN_LEASE], 0);
    assert_int_equal(r->executor_stats.in_progress, 0);
    uint64_t leases = 0, attempts = 0;
    for (uint32_t i = 0; i < r->request_resource_count; i++) {
        request_figures rs = {&r->request[i], &rep->resources[i]};
        assert_int_equal(rs.res->final.in_flight, 0);
        assert_int_equal(rs.res->final.waiters, 0);
        assert_int_equal(rs.st->leases, rs.st->attempts - rs.st->not_admitted);
        assert_true(rs.res->final.max_in_flight <= rs.res->final.effective_max);
        leases += rs.st->leases;
        attempts += rs.st->attempts;
    }
    assert_int_equal(leases, st->leases_acquired);
    assert_int_equal(attempts, r->executor_stats.attempts);
    assert_int_equal(r->stats.hidden_waiters, 0);
}

typedef struct attempt_times {
    int64_t at[5]; /* wait started, lease acquired, call started, call completed, released */
    int seen[5];
} attempt_times;

/* Every attempt's request events, in stream order, have one of each stage,
** with non-decreasing times; stream sequence numbers increase by one. */
static void check_attempt_timelines(const res_run_record *r, uint64_t *attempts_out) {
    uint64_t max_id = 0;
    for (size_t i = 0; i < res_event_log_count(r->request_events); i++)
        if (res_event_log_at(r->request_events, i).attempt_id > max_id)
            max_id = res_event_log_at(r->request_events, i).attempt_id;
    attempt_times *t = calloc(max_id + 1, sizeof *t);
    assert_non_null(t);
    for (size_t i = 0; i < res_event_log_count(r->request_events); i++) {
        admit_event event = res_event_log_at(r->request_events, i);
        const admit_event *ev = &event;
        assert_int_equal(ev->stream, ADMIT_STREAM_REQUEST);
        if (i)
            assert_int_equal(ev->sequence, res_event_log_at(r->request_events, i - 1).sequence + 1);
        if (!ev->attempt_id) continue;
        int stage = -1;
        switch (ev->kind) {
        case ADMIT_REV_REQUEST_WAIT_STARTED: stage = 0; break;
        case ADMIT_REV_REQUEST_LEASE_ACQUIRED: stage = 1; break;
        case ADMIT_REV_MODEL_REQUEST_STARTED: stage = 2; break;
        case ADMIT_REV_MODEL_REQUEST_COMPLETED: stage = 3; break;
        case ADMIT_REV_REQUEST_LEASE_RELEASED: stage = 4; break;
        default: break;
        }
        if (stage < 0) continue;
        attempt_times *a = &t[ev->attempt_id];
        assert_int_equal(a->seen[stage], 0);
        for (int s = stage + 1; s < 5; s++)
            assert_int_equal(a->seen[s], 0); /* stages arrive in order */
        a->seen[stage] = 1;
        a->at[stage] = ev->captured_at_ns;
        if (stage) assert_true(a->seen[stage - 1] && a->at[stage - 1] <= a->at[stage]);
        assert_true(ev->task_id != 0);
        assert_true(ev->corr.task_execution_id != 0);
    }
    uint64_t n = 0;
    for (uint64_t id = 1; id <= max_id; id++) {
        if (!t[id].seen[0]) continue;
        n++;
        if (t[id].seen[1]) assert_true(t[id].seen[4]); /* every lease is released */
    }
    *attempts_out = n;
    free(t);
}

static void test_dynamic_request_count(void **state) {
    (void)state;
    sim_scenario *sc = load("dynamic_request_count.json");
    run_policy_kind arms[3] = {RUN_POLICY_STRICT, RUN_POLICY_PROVIDER_AWARE, RUN_POLICY_BOUNDED};
    uint64_t hash = 0, leases = 0;
    for (int a = 0; a < 3; a++) {
        res_run_record *r = run(sc, arms[a], 7);
        assert_int_equal(r->status, ADMIT_JOB_COMPLETED);
        assert_request_clean(r);
        uint64_t attempts;
        check_attempt_timelines(r, &attempts);
        assert_int_equal(attempts, r->executor_stats.attempts);
        /* no failures here: every attempt is admitted and succeeds */
        assert_int_equal(r->request_admission_stats.leases_acquired, r->executor_stats.attempts);
        assert_int_equal(r->executor_stats.outcomes[ADMIT_REQ_SUCCESS], r->executor_stats.attempts);
        /* calls per column: draft 1, expand 3, review's judge calls come in pairs */
        uint64_t per_column[4] = {0};
        for (size_t i = 0; i < res_event_log_count(r->request_events); i++)
            if (res_event_log_at(r->request_events, i).kind == ADMIT_REV_MODEL_REQUEST_STARTED)
                per_column[res_event_log_at(r->request_events, i).corr.column]++;
        assert_int_equal(per_column[0], 0);
        assert_int_equal(per_column[1], 400);
        request_figures judge = resource(r, "northwind/judge-8b/chat");
        assert_int_equal(judge.st->attempts % 2, 0);
        assert_true(judge.st->attempts > 0 && judge.st->attempts < 800);
        request_figures writer = resource(r, "acme/writer-70b/chat");
        /* writer: 400 drafts + 1200 expansions + 400..1600 validation calls */
        assert_true(writer.st->attempts >= 2000 && writer.st->attempts <= 3200);
        assert_int_equal(per_column[2], 1200);
        assert_int_equal(per_column[3], judge.st->attempts + (writer.st->attempts - 1600));
        assert_int_equal(writer.res->final.effective_max, 8); /* aliases merged by minimum */
        if (a == 0) {
            hash = r->output_hash_all;
            leases = r->request_admission_stats.leases_acquired;
        } else {
            assert_int_equal(r->output_hash_all, hash); /* common random numbers */
            assert_int_equal(r->request_admission_stats.leases_acquired, leases);
        }
        done(r);
    }
    sim_scenario_free(sc);
}

static void test_cross_provider_cooldown(void **state) {
    (void)state;
    sim_scenario *sc = load("cross_provider_cooldown.json");
    res_run_record *strict = run(sc, RUN_POLICY_STRICT, 1),
                   *aware = run(sc, RUN_POLICY_PROVIDER_AWARE, 1);
    assert_request_clean(strict);
    assert_request_clean(aware);
    request_figures bs = resource(strict, "provider-b/gen-b-large/chat");
    request_figures ba = resource(aware, "provider-b/gen-b-large/chat");
    request_figures aa = resource(aware, "provider-a/gen-a-large/chat");
    assert_true(aa.st->cooldown_ns >= 29000000000LL); /* A cools for most of its outage */
    assert_true(ba.st->others_cooling_ns > 20000000000LL);
    assert_true(ba.st->utilization_while_others_cooling >= 0.9);
    assert_true(bs.st->utilization_while_others_cooling < 0.75);
    uint64_t skips[2] = {0, 0};
    const res_run_record *runs[2] = {strict, aware};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < res_event_log_count(runs[k]->events); i++)
            skips[k] += res_event_log_at(runs[k]->events, i).kind ==
                        ADMIT_EV_REQUEST_PRESSURE_ADVISORY_SKIPPED;
    assert_int_equal(skips[0], 0);
    assert_true(skips[1] > 0);
    done(strict);
    done(aware);
    sim_scenario_free(sc);
}

static void test_aimd_recovery(void **state) {
    (void)state;
    sim_scenario *sc = load("aimd_recovery.json");
    res_run_record *r = run(sc, RUN_POLICY_STRICT, 1);
    assert_request_clean(r);
    request_figures rs = resource(r, "acme/gen-13b/chat");
    assert_int_equal(rs.st->limit_points[0][1], 16);
    /* the first change is a decrease, within one cooldown (2 s) of the drop at 30 s */
    assert_true(rs.st->limit_point_count > 2);
    assert_true(rs.st->limit_points[1][1] < 16);
    assert_true(rs.st->limit_points[1][0] >= 30000000000LL);
    assert_true(rs.st->limit_points[1][0] <= 32000000000LL);
    /* held low during the window, back at the effective max after it */
    int64_t recovered_at = -1;
    for (size_t i = 1; i < rs.st->limit_point_count; i++) {
        int64_t t = rs.st->limit_points[i][0], v = rs.st->limit_points[i][1];
        if (t > 40000000000LL && t < 90000000000LL) assert_true(v <= 6);
        if (t >= 90000000000LL && v == 16 && recovered_at < 0) recovered_at = t;
    }
    assert_true(recovered_at > 0 && recovered_at < 130000000000LL);
    assert_int_equal(rs.res->final.current_limit, 16);
    assert_true(rs.res->final.min_limit <= 4);
    int fully = 0;
    for (size_t i = 0; i < res_event_log_count(r->request_events); i++)
        fully += res_event_log_at(r->request_events, i).kind == ADMIT_REV_REQUEST_FULLY_RECOVERED &&
                 res_event_log_at(r->request_events, i).captured_at_ns == recovered_at;
    assert_int_equal(fully, 1);
    done(r);
    sim_scenario_free(sc);
}

static void test_same_seed_identical_request_artifacts(void **state) {
    (void)state;
    sim_scenario *sc = load("dual_model_generate_to_judge.json");
    res_run_record *a = run(sc, RUN_POLICY_PROVIDER_AWARE, 11),
                   *b = run(sc, RUN_POLICY_PROVIDER_AWARE, 11);
    char *ta = artifact_without_host(a), *tb = artifact_without_host(b);
    assert_string_equal(ta, tb);
    assert_non_null(strstr(ta, "\"stream\":\"request\""));
    assert_non_null(strstr(ta, "\"request_resources\""));
    free(ta);
    free(tb);
    done(a);
    done(b);
    sim_scenario_free(sc);
}

/* A slow provider and a cancel while calls are in flight and queued: 12
** tasks, 3 calls at a time.  At 1.0 s the first 3 calls succeed and the
** next 3 queued first calls start; at 1.5 s those 3 are cancelled in flight
** and 9 waiters (6 first calls, 3 second calls) are cancelled in the queue. */
static const char *cancel_text =
    "{\"schema\":1,\"scenario_id\":\"cancel_calls\",\"scenario_version\":1,\"records\":60,"
    "\"capacity\":{\"submission\":12,\"llm_wait\":12},\"cancel_at_seconds\":1.5,"
    "\"models\":[{\"alias\":\"m\",\"provider\":\"p\",\"model\":\"x\","
    "\"max_parallel_requests\":3}],"
    "\"providers\":[{\"model\":\"m\",\"latency\":{\"dist\":\"constant\",\"seconds\":1.0}}],"
    "\"columns\":[{\"name\":\"c\",\"scheduling\":{\"kind\":\"custom_model\","
    "\"identity\":[\"t\",\"c\",\"v1\"],\"weight\":1,\"admitted_limit\":12,"
    "\"resources\":{\"submission\":1,\"llm_wait\":1}},"
    "\"program\":[{\"call\":{\"model\":\"m\",\"count\":2}}]}]}";

static void test_cancel_with_calls_in_flight(void **state) {
    (void)state;
    sim_scenario *sc = parse(cancel_text);
    res_run_record *r = run(sc, RUN_POLICY_STRICT, 1);
    assert_int_equal(r->status, ADMIT_JOB_CANCELLED);
    assert_int_equal(r->wall_ns, 1500000000LL);
    assert_request_clean(r);
    request_figures rs = resource(r, "p/x/chat");
    assert_int_equal(rs.st->outcomes[ADMIT_REQ_SUCCESS], 3);
    assert_int_equal(rs.st->outcomes[ADMIT_REQ_LOCAL_CANCELLED], 3);
    assert_int_equal(rs.st->not_admitted, 9);
    assert_int_equal(r->executor_stats.cancelled, 12);
    uint64_t cancelled_waits = 0;
    for (size_t i = 0; i < res_event_log_count(r->request_events); i++)
        cancelled_waits +=
            res_event_log_at(r->request_events, i).kind == ADMIT_REV_REQUEST_WAIT_CANCELLED;
    assert_int_equal(cancelled_waits, rs.st->not_admitted);
    done(r);
    sim_scenario_free(sc);
}

/* Queue timeouts, provider failures and timeouts, exhausted call retries:
** tasks fail, are salvaged or dropped, and every lease still comes back. */
static const char *failure_text =
    "{\"schema\":1,\"scenario_id\":\"request_failures\",\"scenario_version\":1,\"records\":200,"
    "\"capacity\":{\"submission\":16,\"llm_wait\":16},"
    "\"request_admission\":{\"queue_wait_timeout_seconds\":0.3,\"cooldown_seconds\":0.5},"
    "\"models\":[{\"alias\":\"m\",\"provider\":\"p\",\"model\":\"x\","
    "\"max_parallel_requests\":4}],"
    "\"providers\":[{\"model\":\"m\",\"latency\":{\"dist\":\"exponential\",\"mean\":0.2},"
    "\"max_concurrent\":3,\"retry_after_seconds\":0.25,\"failure_probability\":0.1,"
    "\"timeout_probability\":0.05,\"timeout_seconds\":1.0}],"
    "\"columns\":[{\"name\":\"c\",\"scheduling\":{\"kind\":\"model\",\"model\":\"m\"},"
    "\"program\":[{\"call\":{\"model\":\"m\",\"count\":{\"until_valid\":0.5,\"max\":3}}}],"
    "\"retry\":{\"max_attempts\":2,\"backoff_seconds\":0.05}}]}";

static void test_request_failure_paths(void **state) {
    (void)state;
    sim_scenario *sc = parse(failure_text);
    for (int p = 0; p < 3; p++)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            res_run_record *r = run(sc, (run_policy_kind)p, seed);
            assert_int_equal(r->status, ADMIT_JOB_COMPLETED);
            assert_request_clean(r);
            request_figures rs = resource(r, "p/x/chat");
            assert_true(rs.st->not_admitted > 0); /* queue timeouts */
            assert_true(rs.st->outcomes[ADMIT_REQ_RATE_LIMITED] > 0);
            assert_true(rs.st->outcomes[ADMIT_REQ_PROVIDER_FAILURE] > 0);
            assert_true(rs.st->outcomes[ADMIT_REQ_PROVIDER_TIMEOUT] > 0);
            assert_true(r->stats.retries_deferred > 0);
            assert_int_equal(r->request_admission_stats.denied[ADMIT_REQ_DENY_QUEUE_TIMEOUT],
                             rs.st->not_admitted);
            done(r);
        }
    sim_scenario_free(sc);
}

/* Regression: a program with no time-taking step (zero calls, no local
** step) still finishes after the scheduler has recorded its spawn. */
static void test_zero_call_task_event_order(void **state) {
    (void)state;
    sim_scenario *sc =
        parse("{\"schema\":1,\"scenario_id\":\"zero\",\"scenario_version\":1,\"records\":3,"
              "\"capacity\":{\"submission\":1},\"models\":[{\"alias\":\"m\",\"provider\":\"p\","
              "\"model\":\"m\",\"max_parallel_requests\":1}],\"providers\":[{\"model\":\"m\","
              "\"latency\":{\"dist\":\"constant\",\"seconds\":0.1}}],\"columns\":[{\"name\":\"c\","
              "\"program\":[{\"call\":{\"model\":\"m\",\"count\":0}}]}]}");
    res_run_record *r = run(sc, RUN_POLICY_STRICT, 1);
    assert_int_equal(r->status, ADMIT_JOB_COMPLETED);
    assert_int_equal(r->stats.tasks_completed, 3);
    assert_request_clean(r);
    int spawned = 0, completed = 0;
    for (size_t i = 0; i < res_event_log_count(r->events); i++) {
        if (res_event_log_at(r->events, i).kind == ADMIT_EV_WORKER_SPAWNED) spawned++;
        if (res_event_log_at(r->events, i).kind == ADMIT_EV_TASK_COMPLETED) {
            completed++;
            assert_true(completed <= spawned);
        }
    }
    assert_int_equal(completed, 3);
    done(r);
    sim_scenario_free(sc);
}

static void test_capacity_values(void **state) {
    (void)state;
    admit_error err;
    admit_capacity_value v = admit_capacity_of(8, ADMIT_SRC_RUN_CONFIG);
    assert_int_equal(admit_capacity_require(&v, "x", &err), ADMIT_OK);
    v = admit_capacity_fallback(4, ADMIT_SRC_DEFAULT, ADMIT_SRC_RUN_CONFIG);
    assert_int_equal(admit_capacity_require(&v, "x", &err), ADMIT_OK);
    assert_int_equal(v.fallback_from, ADMIT_SRC_RUN_CONFIG);
    v = admit_capacity_missing("not applicable");
    assert_int_equal(admit_capacity_require(&v, "x", &err), ADMIT_OK);
    v = admit_capacity_missing(NULL); /* no value, no source, no reason */
    assert_int_equal(admit_capacity_require(&v, "transport", &err), ADMIT_ECONFIG);
    assert_non_null(strstr(err.message, "transport"));
    v = (admit_capacity_value){.present = true, .value = 3, .source = 99};
    assert_int_equal(admit_capacity_require(&v, "x", &err), ADMIT_ECONFIG);
    assert_string_equal(admit_capacity_source_name(ADMIT_SRC_MODEL_METADATA), "model_metadata");
}

/* The plan names the merged cap with every alias and raw cap, where each
** value came from, and maxima consistent with the caps. */
static void test_capacity_plan(void **state) {
    (void)state;
    sim_scenario *sc = load("dynamic_request_count.json");
    res_run_record *r = run(sc, RUN_POLICY_STRICT, 1);
    json_t *plan = res_capacity_plan_json(r, report_of(r));
    assert_non_null(plan);
    json_t *cap = json_object_get(
        json_object_get(json_object_get(plan, "configured"), "provider_model_static_caps"),
        "acme/writer-70b");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(cap, "cap"), "value")), 8);
    assert_string_equal(json_string_value(json_object_get(json_object_get(cap, "cap"), "source")),
                        "model_metadata");
    assert_int_equal(json_array_size(json_object_get(cap, "aliases")), 2);
    json_t *raw = json_object_get(cap, "raw_caps");
    assert_int_equal(json_integer_value(json_object_get(raw, "writer")), 8);
    assert_int_equal(json_integer_value(json_object_get(raw, "writer-fast")), 12);
    json_t *conf = json_object_get(plan, "configured");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(conf, "buffer_size"), "source")),
        "run_config");
    assert_true(
        json_is_null(json_object_get(json_object_get(conf, "transport_pool_limits"), "value")));
    json_t *max = json_object_get(plan, "observed_maxima");
    json_int_t agg = json_integer_value(json_object_get(
        json_object_get(max, "aggregate_in_flight_by_provider_model"), "acme/writer-70b"));
    assert_true(agg >= 1 && agg <= 8);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(max, "task_leases_by_resource"), "submission")),
                     r->max_leased[ADMIT_RESOURCE_SUBMISSION]);
    assert_true(r->max_leased[ADMIT_RESOURCE_SUBMISSION] <= 24);
    assert_int_equal(json_integer_value(json_object_get(max, "row_groups_in_flight")), 2);
    json_decref(plan);
    done(r);
    sim_scenario_free(sc);
}

/* A plan of half a million calls (10,000 per task, the most a step may make),
** cancelled after 1 s: the event logs are sized from the plan only up to a
** bound (the calls never happen), so the run neither fails for memory nor
** overflows a size; it ends cancelled and clean with every captured event
** kept. */
static void test_huge_call_plan_cancelled(void **state) {
    (void)state;
    sim_scenario *sc =
        parse("{\"schema\":1,\"scenario_id\":\"bigcalls\",\"scenario_version\":1,\"records\":50,"
              "\"capacity\":{\"submission\":4,\"llm_wait\":4},\"cancel_at_seconds\":1.0,"
              "\"models\":[{\"alias\":\"w\",\"provider\":\"acme\",\"model\":\"w-1\","
              "\"max_parallel_requests\":4}],"
              "\"providers\":[{\"model\":\"w\",\"domain\":\"chat\",\"latency\":{\"dist\":"
              "\"constant\",\"seconds\":0.01},\"max_concurrent\":4}],"
              "\"columns\":[{\"name\":\"c\",\"scheduling\":{\"kind\":\"model\",\"model\":\"w\"},"
              "\"program\":[{\"call\":{\"model\":\"w\",\"count\":10000}}]}]}");
    res_run_record *r = run(sc, RUN_POLICY_STRICT, 1);
    assert_int_equal(r->status, ADMIT_JOB_CANCELLED);
    assert_request_clean(r);
    assert_int_equal(res_event_log_count(r->request_events),
                     r->request_admission_stats.events_emitted);
    assert_true(res_event_log_count(r->request_events) >
                400); /* ~100 calls a second on each of 4 */
    done(r);
    sim_scenario_free(sc);
}

/* The Markdown summary and the long-form metrics CSV of a run. */
static void test_report_files(void **state) {
    (void)state;
    sim_scenario *sc = load("cross_provider_cooldown.json");
    res_run_record *r = run(sc, RUN_POLICY_PROVIDER_AWARE, 1);
    res_summary *s = res_summary_compute(r);
    char *md = res_markdown_summary(&r, &s, 1);
    char *csv = res_metrics_csv(&r, &s, 1);
    assert_non_null(md);
    assert_non_null(csv);
    assert_non_null(strstr(md, "# cross_provider_cooldown (version 2), policy provider_aware"));
    assert_non_null(strstr(md, "| provider-b/gen-b-large/chat | 1200 | 1200 | 0 |"));
    assert_non_null(strstr(md, "| provider-a | "));
    /* the correlated view: no hidden waiters, a row per scheduler resource,
    ** group keys escaped for the table */
    assert_non_null(strstr(md, "| hidden scheduler resource waiters | 0 |"));
    assert_non_null(strstr(md, "| submission | "));
    assert_non_null(strstr(md, "| model:provider-a/gen-a-large/chat\\|answer_a | "));
    /* header + 6 run rows + 7 per column + 11 or 12 per request resource + 1 per provider */
    size_t lines = 0;
    for (const char *p = csv; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 1 + 6 + 7 * 2 + 11 + 12 + 2);
    assert_non_null(strstr(csv, "0,request:provider-b/gen-b-large/chat,leases,1200\n"));
    assert_non_null(strstr(csv, "0,run,final_request_leases,0\n"));
    char dir[] = "/tmp/admitsim-report-XXXXXX", err[256], path[512];
    assert_non_null(mkdtemp(dir));
    assert_int_equal(res_write_text_atomic(csv, dir, "m.csv", err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/m.csv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char head[64] = "";
    assert_non_null(fgets(head, sizeof head, f));
    fclose(f);
    assert_string_equal(head, "iteration,scope,name,value\n");
    /* a directory that cannot exist (a file is in the way): an error, no file */
    char below_file[600];
    snprintf(below_file, sizeof below_file, "%s/sub", path);
    assert_int_equal(res_write_text_atomic(csv, below_file, "m.csv", err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create directory"));
    assert_int_equal(remove(path), 0);
    assert_int_equal(rmdir(dir), 0); /* nothing else (no temp file) was left behind */
    /* task timelines: a header and one row per spawned worker */
    char *tasks = res_task_timelines_csv(&r, &s, 1);
    assert_non_null(tasks);
    size_t rows = 0;
    for (const char *p = tasks; *p; p++)
        rows += *p == '\n';
    assert_int_equal(rows, 1 + r->stats.workers_spawned);
    assert_non_null(strstr(tasks, ",model_request_started_at_ns,"));
    free(tasks);
    free(md);
    free(csv);
    res_summary_free(s);
    done(r);
    sim_scenario_free(sc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dynamic_request_count),
        cmocka_unit_test(test_cross_provider_cooldown),
        cmocka_unit_test(test_aimd_recovery),
        cmocka_unit_test(test_same_seed_identical_request_artifacts),
        cmocka_unit_test(test_cancel_with_calls_in_flight),
        cmocka_unit_test(test_request_failure_paths),
        cmocka_unit_test(test_zero_call_task_event_order),
        cmocka_unit_test(test_capacity_values),
        cmocka_unit_test(test_capacity_plan),
        cmocka_unit_test(test_report_files),
        cmocka_unit_test(test_huge_call_plan_cancelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
