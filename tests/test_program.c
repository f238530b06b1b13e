/* Walking a task's request program (run/program.h), on a scripted
** environment: the test holds the clock, fires the walker's timers itself
** and answers each provider call by hand, so every step's timing, every
** retry's delay and where an execution ends are checked against values
** worked out from the program and the column's retry settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admit/model_executor.h"
#include "run/assembly.h"
#include "run/program.h"

#define S 1000000000LL

/* Column 0 "gen": a local step, then calls to w (3 attempts per call,
** 0.5 s backoff).  Column 1 "quick": one call step only. */
static const char CONFIG[] =
    "{\"schema\": 1, \"scenario_id\": \"walk\", \"scenario_version\": 1, \"records\": 1, "
    "\"capacity\": {\"submission\": 4, \"llm_wait\": 4}, "
    "\"models\": [{\"alias\": \"w\", \"provider\": \"acme\", \"model\": \"w1\", "
    "\"max_parallel_requests\": 4}], "
    "\"columns\": [{\"name\": \"gen\", \"scheduling\": {\"kind\": \"model\", \"model\": \"w\"}, "
    "\"program\": [{\"local\": {\"dist\": \"constant\", \"seconds\": 1}}, {\"call\": {\"model\": "
    "\"w\"}}], \"retry\": {\"max_attempts\": 3, \"backoff_seconds\": 0.5}}, "
    "{\"name\": \"quick\", \"scheduling\": {\"kind\": \"model\", \"model\": \"w\"}, "
    "\"program\": [{\"call\": {\"model\": \"w\"}}]}]}";

typedef struct timer {
    int64_t at;
    uint32_t slot, token;
} timer;

typedef struct env {
    int64_t now;
    run_walkers *ws;
    admit_model_executor *exec;
    timer timers[32];
    int ntimers;
    admit_model_attempt *calls[8]; /* in flight, oldest first */
    int ncalls, cancels;
    bool in_core; /* inside a call into the executor */
    admit_worker *finished;
    uint64_t finished_id;
    admit_worker_outcome outcome;
    int nfinished;
} env;

static int64_t env_now(void *ctx) {
    return ((env *)ctx)->now;
}
static void env_wake(void *ctx, int64_t at) {
    (void)ctx, (void)at;
}
static int env_spawn(void *ctx, admit_worker *w) {
    (void)ctx, (void)w;
    return -1;
}
static void env_cancel(void *ctx, admit_worker *w) {
    (void)ctx, (void)w;
}
static int provider_call(void *ctx, admit_model_attempt *a) {
    env *e = ctx;
    assert_true(e->ncalls < 8);
    e->calls[e->ncalls++] = a;
    return 0;
}
static void provider_cancel(void *ctx, admit_model_attempt *a) {
    (void)a;
    ((env *)ctx)->cancels++;
}

static void walk_timer(void *ctx, int64_t delay, uint32_t slot, uint32_t token) {
    env *e = ctx;
    assert_true(e->ntimers < 32);
    e->timers[e->ntimers++] = (timer){.at = e->now + delay, .slot = slot, .token = token};
}
static void walk_finish(void *ctx, admit_worker *w, uint64_t id, admit_worker_outcome o) {
    env *e = ctx;
    assert_false(e->in_core); /* never from inside the executor */
    e->finished = w;
    e->finished_id = id;
    e->outcome = o;
    e->nfinished++;
}
static void walk_refused(void *ctx, const admit_error *why) {
    (void)ctx;
    fail_msg("refused: %s", why->message);
}

/* The one pending timer: it must be due `delay` from now; the clock moves
** there and it fires. */
static void fire_only_timer(env *e, int64_t delay) {
    assert_int_equal(e->ntimers, 1);
    timer t = e->timers[0];
    e->ntimers = 0;
    assert_int_equal(t.at - e->now, delay);
    e->now = t.at;
    run_walkers_fire(e->ws, t.slot, t.token);
}

/* The oldest call in flight ends with `kind`. */
static void answer(env *e, admit_request_outcome_kind kind, int64_t retry_after) {
    assert_true(e->ncalls > 0);
    admit_model_attempt *a = e->calls[0];
    memmove(e->calls, e->calls + 1, (size_t)--e->ncalls * sizeof *e->calls);
    e->in_core = true;
    admit_model_executor_call_finished(
        e->exec, a, (admit_request_outcome){.kind = kind, .retry_after_ns = retry_after});
    e->in_core = false;
}

typedef struct fixture {
    run_config *cfg;
    run_assembly *a;
    env e;
    admit_task task[2];
    admit_worker w[2];
} fixture;

static int setup(void **state) {
    fixture *f = test_calloc(1, sizeof *f);
    run_error err = {0};
    f->cfg = run_config_parse(CONFIG, "walk.json", &err);
    if (!f->cfg) fail_msg("%s", err.message);
    run_hooks h = {.clock = {.ctx = &f->e, .now = env_now},
                   .ctx = &f->e,
                   .wake_at = env_wake,
                   .spawn = env_spawn,
                   .cancel = env_cancel,
                   .request_wake_at = env_wake,
                   .provider = {.ctx = &f->e, .call = provider_call, .cancel = provider_cancel}};
    f->a = run_assembly_create(f->cfg, RUN_POLICY_STRICT, 9, &h, &err);
    if (!f->a) fail_msg("%s", err.message);
    f->e.exec = run_assembly_executor(f->a);
    run_walkers_hooks wh = {
        .ctx = &f->e, .timer = walk_timer, .finish = walk_finish, .refused = walk_refused};
    f->e.ws = run_walkers_create(f->a, 9, &wh);
    assert_non_null(f->e.ws);
    for (uint32_t c = 0; c < 2; c++) {
        f->task[c] = (admit_task){.task_id = 100 + c,
                                  .group = run_assembly_column_group(f->a, c),
                                  .column = c,
                                  .type = ADMIT_TASK_CELL};
        f->w[c] = (admit_worker){.task = &f->task[c], .execution_id = 40 + c, .attempt = 1};
    }
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    run_walkers_stop(f->e.ws);
    run_assembly_destroy(f->a);
    run_walkers_destroy(f->e.ws);
    run_config_free(f->cfg);
    test_free(f);
    return 0;
}

static run_walk *start(fixture *f, uint32_t column, int64_t s0, int64_t s1, bool inside_spawn) {
    run_walk *k = run_walkers_add(f->e.ws, &f->w[column]);
    assert_non_null(k);
    k->own_plan[0] = s0;
    k->own_plan[1] = s1;
    k->plan = k->own_plan;
    k->outcome = ADMIT_WORKER_SUCCESS;
    run_walkers_begin(f->e.ws, k, inside_spawn);
    return k;
}

/* Local 1.5 s, then two calls: the first call starts when the local step
** has run its time, the second at the instant the first succeeds, and the
** execution ends at the instant the second does, with the drawn outcome. */
static void test_local_step_then_calls(void **state) {
    fixture *f = *state;
    env *e = &f->e;
    start(f, 0, 3 * S / 2, 2, false);
    assert_int_equal(e->ncalls, 0);
    fire_only_timer(e, 3 * S / 2);
    assert_int_equal(e->ncalls, 1);
    e->now += S;
    answer(e, ADMIT_REQ_SUCCESS, 0);
    assert_int_equal(e->ncalls, 0); /* the next call waits for the walk's timer */
    fire_only_timer(e, 0);
    assert_int_equal(e->ncalls, 1);
    e->now += S;
    answer(e, ADMIT_REQ_SUCCESS, 0);
    assert_int_equal(e->nfinished, 0);
    fire_only_timer(e, 0);
    assert_int_equal(e->nfinished, 1);
    assert_ptr_equal(e->finished, &f->w[0]);
    assert_int_equal(e->finished_id, 40);
    assert_int_equal(e->outcome, ADMIT_WORKER_SUCCESS);
    assert_int_equal(e->now, 7 * S / 2);
}

/* A failed call is tried again after max(backoff 0.5 s, Retry-After); the
** third failure of one call ends the execution retryably, at that instant
** (on a timer, not inside the executor's callback). */
static void test_retry_then_retryable_failure(void **state) {
    fixture *f = *state;
    env *e = &f->e;
    start(f, 0, 0, 1, false);
    fire_only_timer(e, 0);
    answer(e, ADMIT_REQ_RATE_LIMITED, 2 * S); /* Retry-After beats the backoff */
    fire_only_timer(e, 2 * S);
    assert_int_equal(e->ncalls, 1);
    answer(e, ADMIT_REQ_PROVIDER_FAILURE, 0);
    fire_only_timer(e, S / 2);
    answer(e, ADMIT_REQ_RATE_LIMITED, S / 10); /* shorter than the backoff: no retry left */
    assert_int_equal(e->nfinished, 0);
    fire_only_timer(e, 0);
    assert_int_equal(e->nfinished, 1);
    assert_int_equal(e->outcome, ADMIT_WORKER_RETRYABLE_FAILURE);
    assert_int_equal(e->ntimers, 0);
}

/* A success between failures starts the count again: each call has its
** own three attempts. */
static void test_attempts_count_per_call(void **state) {
    fixture *f = *state;
    env *e = &f->e;
    start(f, 0, 0, 2, false);
    fire_only_timer(e, 0);
    answer(e, ADMIT_REQ_PROVIDER_FAILURE, 0);
    fire_only_timer(e, S / 2);
    answer(e, ADMIT_REQ_PROVIDER_TIMEOUT, 0);
    fire_only_timer(e, S / 2);
    answer(e, ADMIT_REQ_SUCCESS, 0); /* third attempt of call 1 */
    fire_only_timer(e, 0);
    answer(e, ADMIT_REQ_PROVIDER_FAILURE, 0);
    fire_only_timer(e, S / 2);
    answer(e, ADMIT_REQ_PROVIDER_FAILURE, 0);
    fire_only_timer(e, S / 2);
    answer(e, ADMIT_REQ_SUCCESS, 0);
    fire_only_timer(e, 0);
    assert_int_equal(e->nfinished, 1);
    assert_int_equal(e->outcome, ADMIT_WORKER_SUCCESS);
}

/* Cancelled during its local step: the step's timer goes stale and the
** execution ends cancelled at that instant; a second cancel is ignored. */
static void test_cancel_local_step(void **state) {
    fixture *f = *state;
    env *e = &f->e;
    start(f, 0, 5 * S, 1, false);
    timer step = e->timers[0];
    e->ntimers = 0;
    e->now = 2 * S;
    run_walkers_cancel(e->ws, &f->w[0]);
    run_walkers_cancel(e->ws, &f->w[0]);
    fire_only_timer(e, 0);
    assert_int_equal(e->nfinished, 1);
    assert_int_equal(e->outcome, ADMIT_WORKER_CANCELLED);
    e->now = step.at;
    run_walkers_fire(e->ws, step.slot, step.token); /* stale */
    assert_int_equal(e->ncalls, 0);
    assert_int_equal(e->nfinished, 1);
}

/* Cancelled during a call: the call is cancelled through the executor and
** the execution ends once it has come back, not before. */
static void test_cancel_during_call(void **state) {
    fixture *f = *state;
    env *e = &f->e;
    start(f, 1, 3, 0, false);
    assert_int_equal(e->ncalls, 1);
    e->in_core = true; /* as if the scheduler cancelled from inside its call */
    run_walkers_cancel(e->ws, &f->w[1]);
    e->in_core = false;
    assert_int_equal(e->cancels, 1);
    assert_int_equal(e->ntimers, 0);
    assert_int_equal(e->nfinished, 0);
    e->now += S;
    answer(e, ADMIT_REQ_SUCCESS, 0); /* the executor records local_cancelled */
    fire_only_timer(e, 0);
    assert_int_equal(e->nfinished, 1);
    assert_int_equal(e->outcome, ADMIT_WORKER_CANCELLED);
    assert_int_equal(e->ncalls, 0); /* no second call of the three */
}

/* An execution that takes no time ends at once, except inside spawn, where
** it ends on a timer at the same instant; its slot is then reused with a
** new token, so the old execution's timers stay stale. */
static void test_no_time_inside_spawn(void **state) {
    fixture *f = *state;
    env *e = &f->e;
    start(f, 1, 0, 0, false);
    assert_int_equal(e->nfinished, 1);
    assert_int_equal(e->ntimers, 0);
    run_walk *k = start(f, 1, 0, 0, true);
    assert_int_equal(e->nfinished, 1);
    timer end = e->timers[0];
    fire_only_timer(e, 0);
    assert_int_equal(e->nfinished, 2);
    run_walk *again = start(f, 0, S, 1, false); /* the same slot, a new token */
    assert_ptr_equal(again, k);
    run_walkers_fire(e->ws, end.slot, end.token);
    assert_int_equal(e->nfinished, 2);
    fire_only_timer(e, S);
    assert_int_equal(e->ncalls, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_local_step_then_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_then_retryable_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attempts_count_per_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_local_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_during_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_time_inside_spawn, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
