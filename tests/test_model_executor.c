/*
** ModelRequestExecutor (one acquire/call/release per attempt) and the
** ProviderAware task policy, driven directly: a fake clock, a provider the
** test answers by hand, and a request controller with one provider/model
** capped at 2.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admit/fair_queue.h"
#include "admit/model_executor.h"
#include "admit/provider_aware.h"
#include "admit/task_admission.h"

#define SEC 1000000000LL

typedef struct fixture {
    int64_t now;
    admit_request_resolver *rr;
    admit_request_admission *adm;
    admit_model_executor *exec;
    admit_model_attempt *calling[16]; /* attempts the provider was asked to call */
    int ncalling;
    bool refuse_call;
    int cancel_calls;
    admit_model_attempt_result done[16];
    int ndone;
    admit_event events[256];
    int nevents;
} fixture;

static fixture F;

static int64_t fake_now(void *ctx) {
    return *(int64_t *)ctx;
}

static int provider_call(void *ctx, admit_model_attempt *a) {
    fixture *f = ctx;
    if (f->refuse_call) return -1;
    f->calling[f->ncalling++] = a;
    return 0;
}

static void provider_cancel(void *ctx, admit_model_attempt *a) {
    fixture *f = ctx;
    f->cancel_calls++;
    (void)a;
}

static void on_done(void *ctx, const admit_model_attempt_result *r) {
    fixture *f = ctx;
    f->done[f->ndone++] = *r;
}

static void sink(void *ctx, const admit_event *ev) {
    fixture *f = ctx;
    if (f->nevents < 256) f->events[f->nevents++] = *ev;
}

static int setup(void **state) {
    (void)state;
    memset(&F, 0, sizeof F);
    F.now = 10 * SEC;
    admit_error err;
    F.rr = admit_request_resolver_create(&err);
    uint32_t pm;
    assert_int_equal(admit_request_resolver_add_alias(F.rr, "m", "p", "x", 2, &pm, &err), ADMIT_OK);
    assert_int_equal(admit_request_resolver_resource(F.rr, pm, ADMIT_DOMAIN_CHAT), 0);
    admit_request_admission_config cfg;
    admit_request_admission_config_init(&cfg);
    cfg.resolver = F.rr;
    cfg.now = fake_now;
    cfg.clock_ctx = &F.now;
    cfg.sink = (admit_event_sink){.fn = sink, .ctx = &F};
    F.adm = admit_request_admission_create(&cfg, &err);
    assert_non_null(F.adm);
    admit_model_provider p = {.ctx = &F, .call = provider_call, .cancel = provider_cancel};
    F.exec = admit_model_executor_create(F.adm, &p, &err);
    assert_non_null(F.exec);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    admit_model_executor_destroy(F.exec);
    admit_request_admission_destroy(F.adm);
    admit_request_resolver_destroy(F.rr);
    return 0;
}

static admit_model_attempt *start(uint64_t task_id) {
    admit_model_request req = {
        .resource = 0,
        .group = ADMIT_REQ_GROUP_DEFAULT,
        .queue_wait_timeout_ns = ADMIT_REQ_TIMEOUT_DEFAULT,
        .corr = {.run_id = 77, .row_group = 3, .column = 1, .task_execution_id = task_id * 10},
        .task_id = task_id,
        .user = (void *)(uintptr_t)task_id};
    admit_model_attempt *a = NULL;
    admit_error err;
    assert_int_equal(admit_model_executor_execute_attempt(F.exec, &req, on_done, &F, &a, &err),
                     ADMIT_OK);
    return a;
}

static void assert_no_leases(void) {
    admit_request_admission_stats st;
    admit_request_admission_stats_get(F.adm, &st);
    assert_int_equal(st.leases_active, 0);
    assert_int_equal(st.waiters_queued, 0);
    admit_model_executor_stats es;
    admit_model_executor_stats_get(F.exec, &es);
    assert_int_equal(es.in_progress, 0);
}

/* acquire -> call -> release, with the attempt's times and correlation. */
static void test_attempt_lifecycle(void **state) {
    (void)state;
    admit_model_attempt *a = start(5);
    assert_int_equal(F.ncalling, 1);
    assert_ptr_equal(F.calling[0], a);
    assert_int_equal(admit_model_attempt_id(a), 1);
    F.now += 2 * SEC;
    admit_model_executor_call_finished(F.exec, a,
                                       (admit_request_outcome){.kind = ADMIT_REQ_SUCCESS});
    assert_int_equal(F.ndone, 1);
    const admit_model_attempt_result *r = &F.done[0];
    assert_true(r->admitted);
    assert_int_equal(r->outcome.kind, ADMIT_REQ_SUCCESS);
    assert_int_equal(r->wait_started_ns, 10 * SEC);
    assert_int_equal(r->wait_completed_ns, 10 * SEC);
    assert_int_equal(r->call_started_ns, 10 * SEC);
    assert_int_equal(r->call_completed_ns, 12 * SEC);
    assert_int_equal(r->released_ns, 12 * SEC);
    assert_int_equal((uintptr_t)r->user, 5);
    /* every event of the attempt carries its id and the task's correlation */
    const admit_request_event_kind want[] = {
        ADMIT_REV_REQUEST_WAIT_STARTED,    ADMIT_REV_REQUEST_WAIT_COMPLETED,
        ADMIT_REV_REQUEST_LEASE_ACQUIRED,  ADMIT_REV_MODEL_REQUEST_STARTED,
        ADMIT_REV_MODEL_REQUEST_COMPLETED, ADMIT_REV_REQUEST_LEASE_RELEASED};
    int k = 0;
    for (int i = 0; i < F.nevents; i++) {
        const admit_event *ev = &F.events[i];
        if (ev->kind == ADMIT_REV_REQUEST_RESOURCE_REGISTERED) continue;
        assert_true(k < 6);
        assert_int_equal(ev->kind, want[k++]);
        assert_int_equal(ev->attempt_id, 1);
        assert_int_equal(ev->task_id, 5);
        assert_int_equal(ev->corr.run_id, 77);
        assert_int_equal(ev->corr.row_group, 3);
        assert_int_equal(ev->corr.task_execution_id, 50);
    }
    assert_int_equal(k, 6);
    assert_no_leases();
}

/* Each retry is its own attempt: new id, its own lease, its own release. */
static void test_retries_are_separate_attempts(void **state) {
    (void)state;
    admit_model_attempt *a = start(1);
    admit_model_executor_call_finished(
        F.exec, a, (admit_request_outcome){.kind = ADMIT_REQ_RATE_LIMITED, .retry_after_ns = SEC});
    F.now += SEC;
    admit_request_admission_tick(F.adm);
    admit_model_attempt *b = start(1);
    assert_int_equal(admit_model_attempt_id(b), 2);
    admit_model_executor_call_finished(F.exec, b,
                                       (admit_request_outcome){.kind = ADMIT_REQ_SUCCESS});
    assert_int_equal(F.ndone, 2);
    assert_true(F.done[0].lease_id != F.done[1].lease_id);
    assert_int_equal(F.done[0].outcome.kind, ADMIT_REQ_RATE_LIMITED);
    admit_model_executor_stats es;
    admit_model_executor_stats_get(F.exec, &es);
    assert_int_equal(es.attempts, 2);
    assert_int_equal(es.admitted, 2);
    assert_int_equal(es.outcomes[ADMIT_REQ_RATE_LIMITED], 1);
    assert_no_leases();
}

/* Cancelled while queued: no lease ever existed. */
static void test_cancel_before_admission(void **state) {
    (void)state;
    admit_model_attempt *a = start(1), *b = start(2), *c = start(3);
    (void)a;
    (void)b;
    assert_int_equal(F.ncalling, 2); /* cap 2: the third waits */
    admit_model_executor_cancel(F.exec, c);
    assert_int_equal(F.ndone, 1);
    assert_false(F.done[0].admitted);
    assert_int_equal(F.done[0].denied.reason, ADMIT_REQ_DENY_CANCELLATION);
    assert_int_equal(F.done[0].released_ns, -1);
    assert_int_equal(F.done[0].call_started_ns, -1);
    for (int i = 0; i < 2; i++)
        admit_model_executor_call_finished(F.exec, F.calling[i],
                                           (admit_request_outcome){.kind = ADMIT_REQ_SUCCESS});
    assert_int_equal(F.ncalling, 2); /* the cancelled one never called */
    assert_no_leases();
}

/* Cancelled while calling: the provider is asked to stop, and whatever it
** answers, the lease is released as local_cancelled. */
static void test_cancel_while_calling(void **state) {
    (void)state;
    admit_model_attempt *a = start(1);
    admit_model_executor_cancel(F.exec, a);
    assert_int_equal(F.cancel_calls, 1);
    assert_int_equal(F.ndone, 0); /* still in flight until the provider answers */
    admit_model_executor_call_finished(F.exec, a,
                                       (admit_request_outcome){.kind = ADMIT_REQ_SUCCESS});
    assert_int_equal(F.ndone, 1);
    assert_true(F.done[0].admitted);
    assert_int_equal(F.done[0].outcome.kind, ADMIT_REQ_LOCAL_CANCELLED);
    admit_request_resource_snapshot snap;
    admit_request_admission_snapshot(F.adm, 0, &snap);
    assert_int_equal(snap.outcomes[ADMIT_REQ_LOCAL_CANCELLED], 1);
    assert_int_equal(snap.outcomes[ADMIT_REQ_SUCCESS], 0);
    assert_no_leases();
}

static void test_provider_refuses_call(void **state) {
    (void)state;
    F.refuse_call = true;
    start(1);
    assert_int_equal(F.ndone, 1);
    assert_true(F.done[0].admitted);
    assert_int_equal(F.done[0].outcome.kind, ADMIT_REQ_UNEXPECTED_EXCEPTION);
    assert_int_equal(F.done[0].call_started_ns, F.now);
    assert_no_leases();
}

static void test_queue_timeout_reports_not_admitted(void **state) {
    (void)state;
    start(1);
    start(2);
    admit_model_request req = {.resource = 0,
                               .group = ADMIT_REQ_GROUP_DEFAULT,
                               .queue_wait_timeout_ns = SEC / 2,
                               .task_id = 3};
    admit_error err;
    assert_int_equal(admit_model_executor_execute_attempt(F.exec, &req, on_done, &F, NULL, &err),
                     ADMIT_OK);
    F.now += SEC / 2;
    admit_request_admission_tick(F.adm);
    assert_int_equal(F.ndone, 1);
    assert_false(F.done[0].admitted);
    assert_int_equal(F.done[0].denied.reason, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
    assert_int_equal(F.done[0].wait_completed_ns - F.done[0].wait_started_ns, SEC / 2);
    for (int i = 0; i < 2; i++)
        admit_model_executor_call_finished(F.exec, F.calling[i],
                                           (admit_request_outcome){.kind = ADMIT_REQ_SUCCESS});
    assert_no_leases();
}

/* Regression: cap 1, A calling, B queued.  A's release admits B, whose
** call cannot start, and B's done callback cancels A, whose done has not
** run yet.  A's call is over: the cancel must not reach the provider, and
** A must still report its success. */
static void cancel_a_from_b(void *ctx, const admit_model_attempt_result *r) {
    fixture *f = ctx;
    f->done[f->ndone++] = *r;
    if (r->attempt_id == 2) admit_model_executor_cancel(f->exec, f->calling[0]);
}

static void test_cancel_after_call_finished_is_a_no_op(void **state) {
    (void)state;
    admit_request_admission_set_max_limit_clamp(F.adm, 0, 1);
    admit_model_request req = {.resource = 0,
                               .group = ADMIT_REQ_GROUP_DEFAULT,
                               .queue_wait_timeout_ns = ADMIT_REQ_TIMEOUT_DEFAULT};
    admit_error err;
    admit_model_attempt *a = NULL;
    assert_int_equal(
        admit_model_executor_execute_attempt(F.exec, &req, cancel_a_from_b, &F, &a, &err),
        ADMIT_OK);
    assert_int_equal(
        admit_model_executor_execute_attempt(F.exec, &req, cancel_a_from_b, &F, NULL, &err),
        ADMIT_OK);
    F.refuse_call = true; /* B will not start */
    admit_model_executor_call_finished(F.exec, a,
                                       (admit_request_outcome){.kind = ADMIT_REQ_SUCCESS});
    assert_int_equal(F.cancel_calls, 0);
    assert_int_equal(F.ndone, 2);
    assert_int_equal(F.done[0].attempt_id, 2);
    assert_int_equal(F.done[0].outcome.kind, ADMIT_REQ_UNEXPECTED_EXCEPTION);
    assert_int_equal(F.done[1].attempt_id, 1);
    assert_int_equal(F.done[1].outcome.kind, ADMIT_REQ_SUCCESS);
    admit_model_executor_stats es;
    admit_model_executor_stats_get(F.exec, &es);
    assert_int_equal(es.cancelled, 0);
    assert_no_leases();
}

/* Regression: clamping a ramping resource down to 1 ends the ramp (there is
** nothing left to ramp to) instead of dividing by zero later. */
static void test_clamp_to_one_while_ramping(void **state) {
    (void)state;
    admit_error err;
    admit_request_admission_config cfg;
    admit_request_admission_config_init(&cfg);
    cfg.resolver = F.rr;
    cfg.now = fake_now;
    cfg.clock_ctx = &F.now;
    cfg.aimd.startup_ramp_ns = SEC;
    admit_request_admission *adm = admit_request_admission_create(&cfg, &err);
    assert_non_null(adm);
    admit_request_admission_set_max_limit_clamp(adm, 0, 1);
    admit_request_item item = {.resource = 0, .group = ADMIT_REQ_GROUP_DEFAULT};
    admit_request_lease l;
    admit_request_denied d;
    assert_true(admit_request_admission_try_acquire(adm, &item, &l, &d));
    admit_request_result r;
    admit_request_wait w;
    assert_int_equal(admit_request_admission_acquire_async(adm, &item, NULL, NULL, &r, &w),
                     ADMIT_REQ_DENIED); /* no completion given: cannot queue */
    admit_request_resource_snapshot snap;
    admit_request_admission_snapshot(adm, 0, &snap);
    assert_false(snap.ramping);
    assert_int_equal(snap.effective_max, 1);
    admit_request_admission_tick(adm);
    admit_request_admission_release(adm, l, (admit_request_outcome){.kind = ADMIT_REQ_SUCCESS});
    admit_request_admission_destroy(adm);
}

/* ---- ProviderAware ------------------------------------------------------- */

/* Two groups (0 calls request resource 0, 1 calls nothing or resource 1)
** with one queued head each, submission capacity 4. */
typedef struct policy_world {
    admit_group_spec groups[2];
    admit_task tasks[2];
    const admit_task *heads[2];
    uint32_t active[2];
    uint32_t queued_by_group[2];
    admit_queue_view qv;
    uint32_t limits[1], leased[1], leased_by_group[2], running[2], debt[2];
    admit_admission_view av;
} policy_world;

static void world_init(policy_world *w) {
    memset(w, 0, sizeof *w);
    for (int g = 0; g < 2; g++) {
        w->groups[g] = (admit_group_spec){.weight = 1, .admitted_limit = 4};
        w->tasks[g] = (admit_task){.task_id = (uint64_t)g + 1,
                                   .group = (uint32_t)g,
                                   .resources = {.count = 1, .resource = {0}, .amount = {1}}};
        w->heads[g] = &w->tasks[g];
        w->active[g] = (uint32_t)g;
        w->queued_by_group[g] = 1;
    }
    w->qv.queued_total = 2;
    w->qv.active_count = 2;
    w->qv.active_groups = w->active;
    w->qv.first_candidate = w->heads;
    w->qv.groups = w->groups;
    w->limits[0] = 4;
    w->av = (admit_admission_view){.resource_count = 1,
                                   .group_count = 2,
                                   .limits = w->limits,
                                   .leased = w->leased,
                                   .leased_by_group = w->leased_by_group,
                                   .running_by_group = w->running,
                                   .debt = w->debt,
                                   .groups = w->groups};
}

/* A second controller with two endpoints, resource 0 = p/x and 1 = q/y
** (caps 2), startup ramp ramp_ns, and ProviderAware over its pressure view
** with group 0 calling p/x and group 1 q/y. */
static admit_request_admission *aware_setup(int64_t ramp_ns, admit_task_policy *pol) {
    admit_error err;
    uint32_t pm2;
    admit_request_resolver_add_alias(F.rr, "n", "q", "y", 2, &pm2, &err);
    admit_request_resolver_resource(F.rr, pm2, ADMIT_DOMAIN_CHAT);
    admit_request_admission_config cfg;
    admit_request_admission_config_init(&cfg);
    cfg.resolver = F.rr;
    cfg.now = fake_now;
    cfg.clock_ctx = &F.now;
    cfg.aimd.startup_ramp_ns = ramp_ns;
    admit_request_admission *adm = admit_request_admission_create(&cfg, &err);
    assert_non_null(adm);
    static const int32_t group_res[2] = {0, 1};
    admit_provider_aware_config pc = {.pressure = admit_request_admission_pressure(adm),
                                      .group_request_resource = group_res,
                                      .group_count = 2,
                                      .now = fake_now,
                                      .clock_ctx = &F.now};
    assert_int_equal(admit_policy_provider_aware(&pc, pol, &err), ADMIT_OK);
    assert_string_equal(pol->name, "provider_aware");
    return adm;
}

static void test_provider_aware_skips_pressured_with_peer(void **state) {
    (void)state;
    admit_task_policy pol;
    admit_request_admission *adm = aware_setup(0, &pol);
    policy_world w;
    world_init(&w);
    admit_policy_decision d;

    /* no pressure anywhere: both allowed */
    memset(&d, 0, sizeof d);
    pol.evaluate(pol.ctx, &w.tasks[0], &w.qv, &w.av, &d);
    assert_true(d.allowed);

    /* p/x cools down after a rate limit: group 0 is skipped, group 1 is not */
    admit_request_item item = {.resource = 0, .group = ADMIT_REQ_GROUP_DEFAULT};
    admit_request_lease l;
    admit_request_denied den;
    assert_true(admit_request_admission_try_acquire(adm, &item, &l, &den));
    admit_request_admission_release(adm, l,
                                    (admit_request_outcome){.kind = ADMIT_REQ_RATE_LIMITED});
    memset(&d, 0, sizeof d);
    pol.evaluate(pol.ctx, &w.tasks[0], &w.qv, &w.av, &d);
    assert_false(d.allowed);
    assert_true(d.advisory);
    assert_int_equal(d.reason, ADMIT_DENY_POLICY);
    memset(&d, 0, sizeof d);
    pol.evaluate(pol.ctx, &w.tasks[1], &w.qv, &w.av, &d);
    assert_true(d.allowed);

    /* the peer is not hard-eligible (no submission left): the skip stops,
    ** so task capacity is never left idle by the advice */
    w.leased[0] = 3;
    w.tasks[1].resources.amount[0] = 2;
    memset(&d, 0, sizeof d);
    pol.evaluate(pol.ctx, &w.tasks[0], &w.qv, &w.av, &d);
    assert_true(d.allowed);

    /* the peer is pressured too: no unpressured peer, allowed */
    w.leased[0] = 0;
    w.tasks[1].resources.amount[0] = 1;
    item.resource = 1;
    assert_true(admit_request_admission_try_acquire(adm, &item, &l, &den));
    assert_true(admit_request_admission_try_acquire(adm, &item, &l, &den)); /* q/y at cap 2 */
    memset(&d, 0, sizeof d);
    pol.evaluate(pol.ctx, &w.tasks[0], &w.qv, &w.av, &d);
    assert_true(d.allowed);

    /* cooldown over: p/x is no longer pressured */
    F.now += 3 * SEC;
    w.qv.active_count = 1; /* and group 1 has nothing queued */
    memset(&d, 0, sizeof d);
    pol.evaluate(pol.ctx, &w.tasks[0], &w.qv, &w.av, &d);
    assert_true(d.allowed);
    assert_false(
        admit_request_pressure_is_pressured(admit_request_admission_pressure(adm), 0, F.now));
    assert_true(
        admit_request_pressure_is_pressured(admit_request_admission_pressure(adm), 1, F.now));
    pol.destroy(pol.ctx);
    admit_request_admission_shutdown(adm);
    admit_request_admission_destroy(adm);
}

/* A startup ramp with nobody waiting: no call applies its steps, but the
** policy reads the limit in force now.  p/x ramps 1 -> 2 at 1 s; with one
** call in flight it is at its limit before 1 s (group 0 skipped for the
** unpressured group 1) and not from 1 s on, with no call in between. */
static void test_provider_aware_sees_due_ramp_steps(void **state) {
    (void)state;
    int64_t start = F.now;
    admit_task_policy pol;
    admit_request_admission *adm = aware_setup(1 * SEC, &pol);
    policy_world w;
    world_init(&w);
    admit_request_item item = {.resource = 0, .group = ADMIT_REQ_GROUP_DEFAULT};
    admit_request_lease l;
    admit_request_denied den;
    assert_true(admit_request_admission_try_acquire(adm, &item, &l, &den)); /* 1 of 1 */
    admit_policy_decision d = {0};
    F.now = start + 1 * SEC - 1;
    pol.evaluate(pol.ctx, &w.tasks[0], &w.qv, &w.av, &d);
    assert_false(d.allowed);
    assert_true(d.advisory);
    F.now = start + 1 * SEC; /* the ramp allows 2: 1 of 2 */
    memset(&d, 0, sizeof d);
    pol.evaluate(pol.ctx, &w.tasks[0], &w.qv, &w.av, &d);
    assert_true(d.allowed);
    admit_request_admission_release(adm, l, (admit_request_outcome){.kind = ADMIT_REQ_SUCCESS});
    pol.destroy(pol.ctx);
    admit_request_admission_destroy(adm);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_attempt_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retries_are_separate_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_before_admission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_while_calling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_refuses_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_timeout_reports_not_admitted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_after_call_finished_is_a_no_op, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_clamp_to_one_while_ramping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_aware_sees_due_ramp_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_aware_skips_pressured_with_peer, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
