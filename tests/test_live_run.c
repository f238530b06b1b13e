/*
** Whole live runs on loopback (live/runner.h, live/scenario_env.h): a small
** scenario against its own mock ends clean and does the simulator's work; a
** storm of 429s from a mock that is restarted mid-run loses and doubles no
** lease; SIGINT cancels a run with every lease released.  Time-scaled so
** each run takes a second or two; every wait is bounded.
*/
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "live/mock.h"
#include "live/scenario_env.h"
#include "res/event_names.h"
#include "res/run_record.h"
#include "res/summary.h"
#include "sim/engine.h"

/* Two model columns and a local one; 40 records. */
static const char *SMALL =
    "{\"schema\": 1, \"scenario_id\": \"live_small\", \"scenario_version\": 1,"
    " \"records\": 40, \"buffer_size\": 20, \"capacity\": {\"submission\": 6, \"llm_wait\": 6},"
    " \"models\": [{\"alias\": \"a\", \"provider\": \"pa\", \"model\": \"ma\","
    "               \"max_parallel_requests\": 4},"
    "              {\"alias\": \"b\", \"provider\": \"pb\", \"model\": \"mb\","
    "               \"max_parallel_requests\": 2}],"
    " \"providers\": [{\"model\": \"a\", \"latency\": {\"dist\": \"exponential\", \"mean\": 0.2}},"
    "                 {\"model\": \"b\", \"latency\": {\"dist\": \"constant\", \"seconds\": 0.1},"
    "                  \"failure_probability\": 0.1}],"
    " \"columns\": ["
    "  {\"name\": \"draft\", \"scheduling\": {\"kind\": \"model\", \"model\": \"a\"},"
    "   \"program\": [{\"call\": {\"model\": \"a\", \"count\": 1}}]},"
    "  {\"name\": \"check\", \"depends_on\": [\"draft\"],"
    "   \"scheduling\": {\"kind\": \"model\", \"model\": \"b\"},"
    "   \"program\": [{\"local\": {\"dist\": \"constant\", \"seconds\": 0.05}},"
    "                 {\"call\": {\"model\": \"b\", \"count\": 2}}]},"
    "  {\"name\": \"post\", \"depends_on\": [\"check\"],"
    "   \"duration\": {\"dist\": \"constant\", \"seconds\": 0.02}}]}";

/* A server that takes 2 calls at once against a client allowed 8: a storm
** of 429s (Retry-After 0.2 s); retries and salvage carry every task. */
static const char *STORM =
    "{\"schema\": 1, \"scenario_id\": \"live_storm\", \"scenario_version\": 1,"
    " \"records\": 40, \"capacity\": {\"submission\": 12, \"llm_wait\": 12},"
    " \"failures\": {\"salvage_max_rounds\": 20, \"shutdown_error_rate\": 1},"
    " \"models\": [{\"alias\": \"g\", \"provider\": \"p\", \"model\": \"g1\","
    "               \"max_parallel_requests\": 8}],"
    " \"request_admission\": {\"cooldown_seconds\": 0.3, \"successes_until_increase\": 3},"
    " \"providers\": [{\"model\": \"g\", \"latency\": {\"dist\": \"constant\", \"seconds\": 0.4},"
    "                  \"max_concurrent\": 2, \"retry_after_seconds\": 0.2}],"
    " \"columns\": [{\"name\": \"gen\", \"scheduling\": {\"kind\": \"model\", \"model\": \"g\"},"
    "   \"program\": [{\"call\": {\"model\": \"g\", \"count\": 1}}],"
    "   \"retry\": {\"max_attempts\": 20, \"backoff_seconds\": 0.05}}]}";

static sim_scenario *parse(const char *text, const char *name) {
    sim_error err;
    sim_scenario *sc = sim_scenario_parse(text, name, &err);
    if (!sc) fail_msg("%s", err.message);
    return sc;
}

static int by_lease(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Every lease acquired in a stream is released exactly once, and nothing
** is released that was not acquired. */
static void assert_matched(const res_event_log *log, const char *acq, const char *rel) {
    size_t n = res_event_log_count(log);
    uint64_t *a = calloc(n + 1, sizeof *a), *r = calloc(n + 1, sizeof *r);
    size_t na = 0, nr = 0;
    for (size_t i = 0; i < n; i++) {
        admit_event ev = res_event_log_at(log, i);
        const char *k = admit_event_name(&ev);
        if (!strcmp(k, acq)) a[na++] = ev.lease_id;
        if (!strcmp(k, rel)) r[nr++] = ev.lease_id;
    }
    assert_true(na > 0);
    assert_int_equal(na, nr);
    qsort(a, na, sizeof *a, by_lease);
    qsort(r, nr, sizeof *r, by_lease);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(a[i], r[i]);
        if (i) assert_true(a[i] != a[i - 1]); /* no lease twice */
    }
    free(a);
    free(r);
}

static void assert_clean(const res_run_record *r) {
    assert_int_equal(r->final_task_leases, 0);
    assert_int_equal(r->final_request_leases, 0);
    assert_int_equal(r->final_request_waiters, 0);
    assert_int_equal(r->stats.hidden_waiters, 0);
    assert_matched(r->events, "task_lease_acquired", "task_lease_released");
    assert_matched(r->request_events, "request_lease_acquired", "request_lease_released");
}

static void test_small_run_is_clean_and_does_the_simulated_work(void **state) {
    (void)state;
    sim_scenario *sc = parse(SMALL, "live_small.json");
    live_scenario_options lo = {
        .scenario = sc, .policy = RUN_POLICY_STRICT, .seed = 3, .time_scale = 0.25};
    live_scenario_run s;
    res_error err = {0};
    assert_true(live_scenario_init(&s, &lo, &err));
    assert_true(s.use_mock);
    res_run_record *live = live_runner_iteration(&s.runner, 0, &err);
    if (!live) fail_msg("%s", err.message);
    assert_string_equal(live->mode, "live");
    assert_int_equal(live->status, ADMIT_JOB_COMPLETED);
    assert_clean(live);
    assert_true(s.attempt_count > 0);
    sim_run_options so = {
        .policy = RUN_POLICY_STRICT, .policy_set = true, .seed = 3, .capture_events = true};
    sim_error serr;
    res_run_record *sim = sim_run_execute(sc, &so, &serr);
    assert_non_null(sim);
    /* the same workload and provider draws: the same tasks done */
    assert_int_equal(live->stats.tasks_completed, sim->stats.tasks_completed);
    assert_int_equal(live->output_hash_all, sim->output_hash_all);
    /* Clock seconds, not real ones (real ones would be a quarter): at least
    ** the simulated time; a loaded machine may make it longer, which the
    ** fidelity tests measure, alone on the machine. */
    assert_true((double)live->wall_ns > 0.8 * (double)sim->wall_ns);
    res_run_record_free(sim);
    res_run_record_free(live);
    live_scenario_free(&s);
    sim_scenario_free(sc);
}

static char *summary_text(const res_summary *sum, const res_run_record *r) {
    json_t *j = res_summary_to_json(sum, r);
    assert_non_null(j);
    char *text = json_dumps(j, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(j);
    assert_non_null(text);
    return text;
}

/* One live iteration of SMALL (strict, seed 3), keeping `keep` and building
** its summary as it runs, as the pipeline asks of a live environment. */
static res_run_record *summarized_run(sim_scenario *sc, res_event_keep keep) {
    live_scenario_options lo = {
        .scenario = sc, .policy = RUN_POLICY_STRICT, .seed = 3, .time_scale = 0.25};
    live_scenario_run s;
    res_error err = {0};
    assert_true(live_scenario_init(&s, &lo, &err));
    res_environment env = live_scenario_environment(&s);
    env.keep_events(env.ctx, keep);
    res_run_record *r = live_runner_iteration(&s.runner, 0, &err);
    if (!r) fail_msg("%s", err.message);
    live_scenario_free(&s);
    assert_non_null(r->summary);
    assert_int_equal(r->kept, keep);
    assert_int_equal(r->final_task_leases + r->final_request_leases + r->final_request_waiters, 0);
    return r;
}

/* The summary built while a live run goes is the one computed from all its
** events afterwards; keeping the notable events only, the record holds no
** lifecycle event but counts every event made. */
static void test_summary_built_as_it_runs(void **state) {
    (void)state;
    sim_scenario *sc = parse(SMALL, "live_small.json");
    res_run_record *all = summarized_run(sc, RES_KEEP_ALL_EVENTS);
    res_summary *after = res_summary_compute(all);
    assert_non_null(after);
    char *a = summary_text(all->summary, all), *b = summary_text(after, all);
    assert_string_equal(a, b);
    free(a);
    free(b);
    res_summary_free(after);
    assert_int_equal(res_run_record_events_made(all),
                     res_event_log_count(all->events) + res_event_log_count(all->request_events));

    setenv("ADMITSIM_SPILL_AFTER", "0", 1); /* spilled from the first */
    res_run_record *notable = summarized_run(sc, RES_KEEP_NOTABLE_EVENTS);
    unsetenv("ADMITSIM_SPILL_AFTER");
    res_kept_reader reader;
    assert_true(res_kept_begin(&reader, notable));
    size_t kept = 0;
    for (admit_event ev; res_kept_next(&reader, &ev); kept++)
        assert_false(res_event_is_lifecycle(&ev));
    assert_null(res_kept_error(&reader));
    assert_true(kept > 0 && kept < notable->events_made);
    assert_int_equal(kept, res_run_record_kept_count(notable));
    /* none in memory: spilled to a file as they came */
    assert_int_equal(
        res_event_log_count(notable->events) + res_event_log_count(notable->request_events), 0);
    assert_int_equal(notable->stats.tasks_completed, all->stats.tasks_completed);
    assert_int_equal(notable->output_hash_all, all->output_hash_all);
    assert_true(notable->wall_ns > 0);
    res_run_record_free(notable);
    res_run_record_free(all);
    sim_scenario_free(sc);
}

typedef struct restarter {
    live_mock **mock;
    const sim_scenario *sc;
    uint16_t port;
    int restarts;
    int cut; /* requests the stopped mock held unanswered when it was asked to stop */
} restarter;

/* Restarts the mock once it has had 20 requests and holds one unanswered
** (mid-storm, a call in flight), on the same port. */
static void *restart_mock(void *arg) {
    restarter *r = arg;
    for (int i = 0; i < 3000 && (live_mock_requests(*r->mock) < 20 || !live_mock_waiting(*r->mock));
         i++)
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    r->cut = live_mock_waiting(*r->mock);
    live_mock_stop(*r->mock);
    live_mock_options mo = {.port = r->port, .time_scale = 0.5, .seed = 1};
    admit_error err = {0};
    for (int i = 0; i < 50 && !(*r->mock = live_mock_start(r->sc, &mo, &err)); i++)
        nanosleep(&(struct timespec){0, 20000000}, NULL); /* the port may linger briefly */
    if (*r->mock) r->restarts++;
    return NULL;
}

static void test_storm_and_restart_lose_no_lease(void **state) {
    (void)state;
    sim_scenario *sc = parse(STORM, "live_storm.json");
    live_mock_options mo = {.time_scale = 0.5, .seed = 1};
    admit_error aerr = {0};
    live_mock *mock = live_mock_start(sc, &mo, &aerr);
    assert_non_null(mock);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/p/v1", (unsigned)live_mock_port(mock));
    live_scenario_options lo = {
        .scenario = sc, .policy = RUN_POLICY_STRICT, .seed = 1, .time_scale = 0.5, .endpoint = url};
    live_scenario_run s;
    res_error err = {0};
    assert_true(live_scenario_init(&s, &lo, &err));
    restarter rs = {.mock = &mock, .sc = sc, .port = live_mock_port(mock)};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, restart_mock, &rs), 0);
    res_run_record *live = live_runner_iteration(&s.runner, 0, &err);
    pthread_join(th, NULL);
    if (!live) fail_msg("%s", err.message);
    assert_int_equal(rs.restarts, 1);
    assert_int_equal(live->status, ADMIT_JOB_COMPLETED);
    assert_int_equal(live->stats.tasks_completed, 40);
    assert_clean(live);
    uint64_t limited = 0, failed = 0;
    for (size_t i = 0; i < s.attempt_count; i++) {
        limited += s.attempts[i].r.outcome.kind == ADMIT_REQ_RATE_LIMITED;
        failed += !strcmp(s.attempts[i].r.detail, "connection");
    }
    assert_true(limited >= 10); /* a storm */
    /* The restart cut calls in flight: each ended as a provider_failure
    ** ("connection"; the provider refuses libcurl's resend on a fresh
    ** connection, test_live_provider checks) and was retried as an attempt
    ** of its own.  The leases' accounting must hold either way. */
    assert_true(rs.cut >= 1);
    print_message("restart cut %d calls; %llu attempts ended on a lost connection\n", rs.cut,
                  (unsigned long long)failed);
    assert_int_equal(live->executor_stats.outcomes[ADMIT_REQ_RATE_LIMITED], limited);
    res_run_record_free(live);
    live_scenario_free(&s);
    live_mock_stop(mock);
    sim_scenario_free(sc);
}

static void *interrupt_soon(void *arg) {
    (void)arg;
    struct timespec ts = {0, 300000000};
    nanosleep(&ts, NULL);
    kill(getpid(), SIGINT);
    return NULL;
}

static void test_sigint_cancels_with_every_lease_released(void **state) {
    (void)state;
    sim_scenario *sc = parse(STORM, "live_storm.json");
    live_scenario_options lo = {.scenario = sc,
                                .policy = RUN_POLICY_STRICT,
                                .seed = 1,
                                .time_scale = 1,
                                .catch_signals = true};
    live_scenario_run s;
    res_error err = {0};
    assert_true(live_scenario_init(&s, &lo, &err));
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old); /* the helper thread must not take it */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, interrupt_soon, NULL), 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    res_run_record *live = live_runner_iteration(&s.runner, 0, &err);
    pthread_join(th, NULL);
    if (!live) fail_msg("%s", err.message);
    assert_true(s.runner.interrupted);
    assert_int_equal(live->status, ADMIT_JOB_CANCELLED);
    assert_true(live->stats.tasks_completed < 40);
    assert_clean(live);
    res_run_record_free(live);
    live_scenario_free(&s);
    sim_scenario_free(sc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_run_is_clean_and_does_the_simulated_work),
        cmocka_unit_test(test_summary_built_as_it_runs),
        cmocka_unit_test(test_storm_and_restart_lose_no_lease),
        cmocka_unit_test(test_sigint_cancels_with_every_lease_released),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
