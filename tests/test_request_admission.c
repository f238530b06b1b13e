/*
** AdaptiveRequestAdmissionController (SPEC §4, §5).
**
** Most tests drive a single-threaded controller the way the simulator does:
** a fake clock (an int64_t the test advances), a fake wake_at that records
** the instants the controller asks to be ticked at, an event sink that keeps
** every event, and completion callbacks that record what they were given.
** The threaded tests use a thread_safe controller on CLOCK_MONOTONIC.
**
** Expected values are worked out by hand from the SPEC / header rules:
**   effective_max = min(static cap, clamp); initial clamped to [1, emax];
**   ramp: limit = 1 + floor((initial - 1) * elapsed / ramp);
**   rate_limited: current = max(1, floor(current * md)) when admitted_limit
**   <= current; blocked_until = now + (retry_after > 0 ? retry_after : cooldown);
**   success outside cooldown and ramp: every k successes current += ai_step;
**   fair order: tag on activation = max(last_finish, V); commit: V = max(V,
**   tag), last_finish = V + 1/weight; ties: the older head waiter.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "admit/request_admission.h"

#define MS  1000000LL
#define SEC 1000000000LL

#define EV(x) ADMIT_REV_REQUEST_##x

/* ---- fixture ------------------------------------------------------------ */

#define MAX_EVENTS 16384
#define MAX_WAKES  256
#define MAX_DONE   64

static admit_event EVS[MAX_EVENTS];

typedef struct fixture {
    admit_request_resolver *rr;
    admit_request_admission *c;
    int64_t now;
    int64_t wakes[MAX_WAKES];
    int nwakes;
    size_t nevents;
    size_t dropped;
} fixture;

/* Global so the teardown frees everything when an assertion longjmp'ed out
** of a test, and so completions that run at destroy time write to memory
** that is still alive. */
static fixture F;

typedef struct done_rec done_rec;
struct done_rec {
    int calls;
    int order; /* 1-based position among all completions of the test */
    int tag;
    admit_request_result res;
    void (*then)(done_rec *d); /* re-entrant action run inside the completion */
    admit_request_wait wait;   /* this waiter's handle */
    done_rec *other;           /* for the re-entrant actions */
    admit_release_reason rel;
    bool cancel_result;
    admit_request_acquire_status status;
};

static done_rec D[MAX_DONE];
static int done_order;
static int admit_log[256];
static int admit_log_n;

static void on_done(void *ctx, const admit_request_result *r) {
    done_rec *d = ctx;
    d->calls++;
    d->res = *r;
    d->order = ++done_order;
    if (r->admitted && admit_log_n < (int)(sizeof admit_log / sizeof *admit_log))
        admit_log[admit_log_n++] = d->tag;
    if (d->then) d->then(d);
}

static int64_t fake_now(void *ctx) {
    return *(const int64_t *)ctx;
}

static void fake_wake(void *ctx, int64_t at) {
    fixture *f = ctx;
    if (f->nwakes < MAX_WAKES) f->wakes[f->nwakes++] = at;
}

static void capture(void *ctx, const admit_event *e) {
    fixture *f = ctx;
    if (f->nevents < MAX_EVENTS)
        EVS[f->nevents++] = *e;
    else
        f->dropped++;
}

static int setup(void **state) {
    (void)state;
    memset(&F, 0, sizeof F);
    memset(D, 0, sizeof D);
    for (int i = 0; i < MAX_DONE; i++)
        D[i].tag = i;
    done_order = 0;
    admit_log_n = 0;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    admit_request_admission_destroy(F.c);
    admit_request_resolver_destroy(F.rr);
    F.c = NULL;
    F.rr = NULL;
    return 0;
}

static uint32_t fx_pm(const char *alias, const char *provider, const char *model, uint32_t cap) {
    admit_error err = {0};
    if (!F.rr) F.rr = admit_request_resolver_create(&err);
    assert_non_null(F.rr);
    uint32_t pm = 0;
    assert_int_equal(admit_request_resolver_add_alias(F.rr, alias, provider, model, cap, &pm, &err),
                     ADMIT_OK);
    return pm;
}

static uint32_t fx_res(uint32_t pm, admit_request_domain d) {
    int r = admit_request_resolver_resource(F.rr, pm, d);
    assert_true(r >= 0);
    return (uint32_t)r;
}

/* One provider/model "p/m" with the given cap and one chat resource (id 0). */
static uint32_t fx_chat(uint32_t cap) {
    return fx_res(fx_pm("m", "p", "m", cap), ADMIT_DOMAIN_CHAT);
}

static void fx_config(admit_request_admission_config *cfg) {
    admit_request_admission_config_init(cfg);
    cfg->resolver = F.rr;
    cfg->now = fake_now;
    cfg->clock_ctx = &F.now;
    cfg->wake_at = fake_wake;
    cfg->wake_ctx = &F;
    cfg->sink = (admit_event_sink){.fn = capture, .ctx = &F};
    cfg->run_id = 5;
}

static void fx_start(const admit_request_admission_config *cfg) {
    admit_error err = {0};
    F.c = admit_request_admission_create(cfg, &err);
    if (!F.c) fail_msg("create failed: %s", err.message);
}

/* Default config, fake clock at 0. */
static void fx_start_default(void) {
    admit_request_admission_config cfg;
    fx_config(&cfg);
    fx_start(&cfg);
}

static admit_request_item item_of(uint32_t r) {
    admit_request_item it;
    memset(&it, 0, sizeof it);
    it.resource = r;
    it.group = ADMIT_REQ_GROUP_DEFAULT;
    it.queue_wait_timeout_ns = ADMIT_REQ_TIMEOUT_DEFAULT;
    it.ctx.corr = (admit_correlation){
        .row_group = -1, .column = -1, .task_type = -1, .group = -1, .group_kind = -1};
    return it;
}

static admit_request_lease take(uint32_t r) {
    admit_request_item it = item_of(r);
    admit_request_lease l;
    admit_request_denied d;
    if (!admit_request_admission_try_acquire(F.c, &it, &l, &d))
        fail_msg("try_acquire on %u denied: %s", r, admit_request_deny_reason_name(d.reason));
    assert_int_not_equal(l.lease_id, 0);
    return l;
}

static admit_request_denied try_deny(uint32_t r) {
    admit_request_item it = item_of(r);
    admit_request_lease l = {.lease_id = 99};
    admit_request_denied d = {.reason = ADMIT_REQ_DENY_NONE};
    assert_false(admit_request_admission_try_acquire(F.c, &it, &l, &d));
    assert_int_equal(l.lease_id, 0);
    return d;
}

static admit_release_reason rel(admit_request_lease l, admit_request_outcome_kind k) {
    return admit_request_admission_release(F.c, l,
                                           (admit_request_outcome){.kind = k, .retry_after_ns = 0});
}

static void rel_ok(admit_request_lease l) {
    assert_int_equal(rel(l, ADMIT_REQ_SUCCESS), ADMIT_RELEASE_RELEASED);
}

static void rel_rl(admit_request_lease l, int64_t retry_after) {
    assert_int_equal(
        admit_request_admission_release(
            F.c, l,
            (admit_request_outcome){.kind = ADMIT_REQ_RATE_LIMITED, .retry_after_ns = retry_after}),
        ADMIT_RELEASE_RELEASED);
}

/* acquire_async of item that must queue; d records the completion. */
static void queue_item(const admit_request_item *it, done_rec *d) {
    admit_request_result res;
    memset(&res, 0xab, sizeof res);
    admit_request_acquire_status st =
        admit_request_admission_acquire_async(F.c, it, on_done, d, &res, &d->wait);
    if (st != ADMIT_REQ_QUEUED)
        fail_msg("acquire_async did not queue (status %d, reason %s)", (int)st,
                 admit_request_deny_reason_name(res.denied.reason));
}

static void queue_on(uint32_t r, done_rec *d) {
    admit_request_item it = item_of(r);
    queue_item(&it, d);
}

static admit_request_resource_snapshot snap(uint32_t r) {
    admit_request_resource_snapshot s;
    admit_request_admission_snapshot(F.c, r, &s);
    return s;
}

static admit_request_admission_stats stats(void) {
    admit_request_admission_stats s;
    admit_request_admission_stats_get(F.c, &s);
    return s;
}

static void tick_at(int64_t t) {
    F.now = t;
    admit_request_admission_tick(F.c);
}

/* ---- event assertions --------------------------------------------------- */

static const char *kind_name(int k) {
    return admit_request_event_kind_name((admit_request_event_kind)k);
}

static void dump_events(size_t from) {
    for (size_t i = from; i < F.nevents; i++)
        print_message("    [%zu] seq=%llu t=%lld %s res=%d reason=%d lease=%llu value=%lld\n", i,
                      (unsigned long long)EVS[i].sequence, (long long)EVS[i].captured_at_ns,
                      kind_name(EVS[i].kind), EVS[i].resource, EVS[i].reason,
                      (unsigned long long)EVS[i].lease_id, (long long)EVS[i].value);
}

static void expect_kinds_(size_t from, const int *kinds, size_t n, int line) {
    bool ok = F.nevents - from == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = EVS[from + i].kind == kinds[i];
    if (ok) return;
    print_message("  expected (line %d):", line);
    for (size_t i = 0; i < n; i++)
        print_message(" %s", kind_name(kinds[i]));
    print_message("\n  actual:\n");
    dump_events(from);
    fail_msg("event sequence differs (line %d)", line);
}

#define EXPECT_KINDS(from, ...)                                                                    \
    expect_kinds_((from), (const int[]){__VA_ARGS__},                                              \
                  sizeof((const int[]){__VA_ARGS__}) / sizeof(int), __LINE__)
#define EXPECT_NO_EVENTS(from) expect_kinds_((from), NULL, 0, __LINE__)

/* Index of the first event of kind at or after from (and with lease_id when
** lease_id != 0); fails when there is none. */
static size_t ev_index(size_t from, int kind, uint64_t lease_id) {
    for (size_t i = from; i < F.nevents; i++)
        if (EVS[i].kind == kind && (lease_id == 0 || EVS[i].lease_id == lease_id)) return i;
    dump_events(from);
    fail_msg("no %s event (lease %llu) after index %zu", kind_name(kind),
             (unsigned long long)lease_id, from);
    return 0;
}

static size_t ev_count(size_t from, int kind) {
    size_t n = 0;
    for (size_t i = from; i < F.nevents; i++)
        n += EVS[i].kind == kind;
    return n;
}

/* Every delivered event is in the request stream and sequences are
** consecutive in delivery order. */
static void assert_sequences_consecutive(void) {
    assert_int_equal(F.dropped, 0);
    for (size_t i = 0; i < F.nevents; i++) {
        assert_int_equal(EVS[i].stream, ADMIT_STREAM_REQUEST);
        if (i > 0 && EVS[i].sequence != EVS[i - 1].sequence + 1) {
            dump_events(i > 3 ? i - 3 : 0);
            fail_msg("sequence %llu follows %llu at index %zu", (unsigned long long)EVS[i].sequence,
                     (unsigned long long)EVS[i - 1].sequence, i);
        }
    }
}

/* ---- configuration ------------------------------------------------------ */

static void test_config_defaults(void **state) {
    (void)state;
    admit_aimd_config a;
    memset(&a, 0x5a, sizeof a);
    admit_aimd_config_init(&a);
    assert_true(a.md_factor == 0.75);
    assert_int_equal(a.ai_step, 1);
    assert_int_equal(a.successes_until_increase, 25);
    assert_int_equal(a.cooldown_ns, 2 * SEC);
    assert_int_equal(a.startup_ramp_ns, 0);

    admit_request_admission_config cfg;
    memset(&cfg, 0x5a, sizeof cfg);
    admit_request_admission_config_init(&cfg);
    assert_null(cfg.resolver);
    assert_null(cfg.limits);
    assert_true(cfg.queue_wait_timeout_ns <= 0); /* none */
    assert_false(cfg.thread_safe);
    assert_null(cfg.now);
    assert_null(cfg.wake_at);
    assert_null(cfg.sink.fn);
    assert_true(cfg.aimd.md_factor == 0.75);
    assert_int_equal(cfg.aimd.ai_step, 1);
    assert_int_equal(cfg.aimd.successes_until_increase, 25);
    assert_int_equal(cfg.aimd.cooldown_ns, 2 * SEC);
    assert_int_equal(cfg.aimd.startup_ramp_ns, 0);
}

static void expect_bad_config(const admit_request_admission_config *cfg) {
    admit_error err = {0};
    admit_request_admission *c = admit_request_admission_create(cfg, &err);
    if (c) {
        admit_request_admission_destroy(c);
        fail_msg("bad config accepted");
    }
    assert_int_equal(err.code, ADMIT_EINVAL);
    assert_true(err.message[0] != '\0');
}

static void test_config_validation(void **state) {
    (void)state;
    fx_chat(4);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.resolver = NULL;
    expect_bad_config(&cfg);
    const double bad_md[] = {0.0, 1.0, 1.5, -0.5};
    for (size_t i = 0; i < sizeof bad_md / sizeof *bad_md; i++) {
        fx_config(&cfg);
        cfg.aimd.md_factor = bad_md[i];
        expect_bad_config(&cfg);
    }
    fx_config(&cfg);
    cfg.aimd.ai_step = 0;
    expect_bad_config(&cfg);
    fx_config(&cfg);
    cfg.aimd.successes_until_increase = 0;
    expect_bad_config(&cfg);
    fx_config(&cfg);
    cfg.aimd.cooldown_ns = 0;
    expect_bad_config(&cfg);
    fx_config(&cfg);
    cfg.aimd.cooldown_ns = -1;
    expect_bad_config(&cfg);
    fx_config(&cfg);
    cfg.aimd.startup_ramp_ns = -1;
    expect_bad_config(&cfg);
    fx_config(&cfg);
    cfg.aimd.startup_ramp_ns = 3600 * SEC + 1;
    expect_bad_config(&cfg);
    /* The bounds themselves are fine. */
    fx_config(&cfg);
    cfg.aimd.startup_ramp_ns = 3600 * SEC;
    cfg.aimd.md_factor = 0.01;
    fx_start(&cfg);
    assert_true(snap(0).ramping);
}

/* effective_max = min(static cap, clamp); initial_limit clamped to it;
** registration events carry the effective max; runtime clamp changes. */
static void test_effective_max_and_initial_clamp(void **state) {
    (void)state;
    uint32_t pm = fx_pm("m", "p", "m", 8);
    uint32_t chat = fx_res(pm, ADMIT_DOMAIN_CHAT);
    uint32_t emb = fx_res(pm, ADMIT_DOMAIN_EMBEDDING);
    uint32_t img = fx_res(pm, ADMIT_DOMAIN_IMAGE);
    uint32_t hc = fx_res(pm, ADMIT_DOMAIN_HEALTHCHECK);
    const admit_request_resource_limits limits[4] = {
        {.initial_limit = 0, .max_limit_clamp = 5},  /* chat: emax 5, start 5 */
        {.initial_limit = 20, .max_limit_clamp = 0}, /* emb: emax 8, start 8 */
        {.initial_limit = 3, .max_limit_clamp = 12}, /* image: emax 8, start 3 */
        {.initial_limit = 0, .max_limit_clamp = 0},  /* healthcheck: 8, 8 */
    };
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.limits = limits;
    fx_start(&cfg);

    const uint32_t want_emax[4] = {5, 8, 8, 8}, want_cur[4] = {5, 8, 3, 8};
    const uint32_t ids[4] = {chat, emb, img, hc};
    EXPECT_KINDS(0, EV(RESOURCE_REGISTERED), EV(RESOURCE_REGISTERED), EV(RESOURCE_REGISTERED),
                 EV(RESOURCE_REGISTERED));
    for (int i = 0; i < 4; i++) {
        admit_request_resource_snapshot s = snap(ids[i]);
        assert_int_equal(s.effective_max, want_emax[i]);
        assert_int_equal(s.current_limit, want_cur[i]);
        assert_int_equal(s.initial_limit, want_cur[i]);
        assert_int_equal(s.min_limit, want_cur[i]);
        assert_int_equal(s.pm_cap, 8);
        assert_int_equal(s.blocked_until_ns, -1);
        assert_int_equal(s.rate_limit_ceiling, 0);
        assert_false(s.ramping);
        assert_int_equal(EVS[i].resource, (int)ids[i]);
        assert_int_equal(EVS[i].value, want_emax[i]);
        assert_int_equal(EVS[i].corr.run_id, 5);
    }
    const admit_request_pressure *p = admit_request_admission_pressure(F.c);
    assert_int_equal(p->resource_count, 4);
    assert_int_equal(p->pm_count, 1);
    assert_int_equal(p->pm_cap[0], 8);
    assert_int_equal(p->effective_max[chat], 5);
    assert_int_equal(p->current_limit[img], 3);
    assert_int_equal(p->resource_pm[hc], 0);

    /* The limit really applies: chat admits 5, then no_capacity. */
    admit_request_lease l[5];
    for (int i = 0; i < 5; i++)
        l[i] = take(chat);
    assert_int_equal(try_deny(chat).reason, ADMIT_REQ_DENY_NO_CAPACITY);
    for (int i = 0; i < 5; i++)
        assert_int_equal(rel(l[i], ADMIT_REQ_LOCAL_CANCELLED), ADMIT_RELEASE_RELEASED);

    /* Runtime clamp below the current limit lowers both. */
    size_t mark = F.nevents;
    admit_request_admission_set_max_limit_clamp(F.c, chat, 2);
    EXPECT_KINDS(mark, EV(EFFECTIVE_CAP_CHANGED), EV(LIMIT_DECREASED));
    assert_int_equal(EVS[mark].value, 2);
    assert_int_equal(EVS[mark + 1].value, 2);
    assert_int_equal(snap(chat).effective_max, 2);
    assert_int_equal(snap(chat).current_limit, 2);
    /* Same clamp again: nothing moves. */
    mark = F.nevents;
    admit_request_admission_set_max_limit_clamp(F.c, chat, 2);
    EXPECT_NO_EVENTS(mark);
    /* A clamp above the current limit only moves the effective max. */
    admit_request_admission_set_max_limit_clamp(F.c, img, 4);
    EXPECT_KINDS(mark, EV(EFFECTIVE_CAP_CHANGED));
    assert_int_equal(EVS[mark].value, 4);
    assert_int_equal(snap(img).current_limit, 3);
    assert_int_equal(snap(img).effective_max, 4);
    /* Clamp above the static cap: effective max is the cap. */
    mark = F.nevents;
    admit_request_admission_set_max_limit_clamp(F.c, img, 50);
    EXPECT_KINDS(mark, EV(EFFECTIVE_CAP_CHANGED));
    assert_int_equal(EVS[mark].value, 8);
    /* Unknown resource: ignored. */
    mark = F.nevents;
    admit_request_admission_set_max_limit_clamp(F.c, 99, 1);
    EXPECT_NO_EVENTS(mark);
    assert_sequences_consecutive();
}

/* ---- AIMD ----------------------------------------------------------------- */

/* Takes one lease at the current limit and rate-limits it, once per step,
** waiting out each cooldown; expected[i] is the limit after step i. */
static void run_decrease_sequence(double md, const uint32_t *expected, size_t n) {
    uint32_t r = fx_chat(10);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.aimd.md_factor = md;
    fx_start(&cfg);
    uint32_t before = 10;
    for (size_t i = 0; i < n; i++) {
        admit_request_lease l = take(r);
        size_t mark = F.nevents;
        rel_rl(l, 0);
        admit_request_resource_snapshot s = snap(r);
        assert_int_equal(s.current_limit, expected[i]);
        if (expected[i] != before) {
            EXPECT_KINDS(mark, EV(RATE_LIMITED), EV(LIMIT_DECREASED), EV(LEASE_RELEASED));
            assert_int_equal(EVS[mark + 1].value, expected[i]);
            assert_int_equal(EVS[mark + 1].resource, (int)r);
        } else {
            EXPECT_KINDS(mark, EV(RATE_LIMITED), EV(LEASE_RELEASED));
        }
        assert_int_equal(EVS[mark].reason, ADMIT_REQ_RATE_LIMITED);
        assert_int_equal(EVS[mark].lease_id, l.lease_id);
        assert_int_equal(s.blocked_until_ns, F.now + 2 * SEC);
        assert_int_equal(s.consecutive_rate_limits, i + 1);
        before = expected[i];
        F.now += 2 * SEC; /* exactly the cooldown end: admissions open again */
    }
    admit_request_resource_snapshot s = snap(r);
    assert_int_equal(s.min_limit, expected[n - 1]);
    assert_int_equal(s.rate_limit_ceiling, 10);
    assert_int_equal(s.outcomes[ADMIT_REQ_RATE_LIMITED], n);
    assert_int_equal(s.cooldown_total_ns, (int64_t)n * 2 * SEC);
    assert_int_equal(s.limit_increases, 0);
    assert_sequences_consecutive();
}

static void test_aimd_decrease_md_075(void **state) {
    (void)state;
    const uint32_t want[] = {7, 5, 3, 2, 1, 1};
    run_decrease_sequence(0.75, want, sizeof want / sizeof *want);
    assert_int_equal(snap(0).limit_decreases, 5);
}

static void test_aimd_decrease_md_09(void **state) {
    (void)state;
    const uint32_t want[] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 1, 1};
    run_decrease_sequence(0.9, want, sizeof want / sizeof *want);
    assert_int_equal(snap(0).limit_decreases, 9);
}

/* Every successes_until_increase successes add ai_step, up to the effective
** max; reaching it is "fully recovered". */
static void test_aimd_additive_increase(void **state) {
    (void)state;
    uint32_t r = fx_chat(5);
    const admit_request_resource_limits limits[1] = {{.initial_limit = 2}};
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.limits = limits;
    cfg.aimd.successes_until_increase = 3;
    cfg.aimd.ai_step = 2;
    fx_start(&cfg);
    assert_int_equal(snap(r).current_limit, 2);
    size_t mark = F.nevents;
    rel_ok(take(r));
    rel_ok(take(r));
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(LEASE_RELEASED), EV(LEASE_ACQUIRED),
                 EV(LEASE_RELEASED));
    mark = F.nevents;
    rel_ok(take(r));
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(LIMIT_INCREASED), EV(LEASE_RELEASED));
    assert_int_equal(EVS[mark + 1].value, 4);
    assert_int_equal(snap(r).current_limit, 4);
    /* Concurrent leases count too: hold 3, release them all. */
    admit_request_lease a = take(r), b = take(r), c = take(r);
    mark = F.nevents;
    rel_ok(a);
    rel_ok(b);
    rel_ok(c);
    /* 4 + 2 = 6 is above the effective max 5. */
    EXPECT_KINDS(mark, EV(LEASE_RELEASED), EV(LEASE_RELEASED), EV(LIMIT_INCREASED),
                 EV(FULLY_RECOVERED), EV(LEASE_RELEASED));
    assert_int_equal(EVS[mark + 2].value, 5);
    assert_int_equal(EVS[mark + 3].value, 5);
    assert_int_equal(snap(r).current_limit, 5);
    /* At the effective max more successes change nothing. */
    mark = F.nevents;
    for (int i = 0; i < 6; i++)
        rel_ok(take(r));
    assert_int_equal(ev_count(mark, EV(LIMIT_INCREASED)), 0);
    assert_int_equal(ev_count(mark, EV(FULLY_RECOVERED)), 0);
    admit_request_resource_snapshot s = snap(r);
    assert_int_equal(s.current_limit, 5);
    assert_int_equal(s.limit_increases, 2);
    assert_int_equal(s.outcomes[ADMIT_REQ_SUCCESS], 12);
    assert_sequences_consecutive();
}

/* Soft ceiling: the limit before the first decrease; recovering above it is
** an event of its own, reaching the effective max is another. */
static void test_aimd_soft_ceiling_and_full_recovery(void **state) {
    (void)state;
    uint32_t r = fx_chat(10);
    const admit_request_resource_limits limits[1] = {{.initial_limit = 4}};
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.limits = limits;
    cfg.aimd.successes_until_increase = 1;
    fx_start(&cfg);
    size_t mark = F.nevents;
    rel_rl(take(r), 0);
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(RATE_LIMITED), EV(LIMIT_DECREASED),
                 EV(LEASE_RELEASED));
    assert_int_equal(EVS[mark + 2].value, 3);
    assert_int_equal(snap(r).rate_limit_ceiling, 4);
    F.now = 2 * SEC;

    mark = F.nevents;
    rel_ok(take(r)); /* 3 -> 4: back at the ceiling, not above it */
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(LIMIT_INCREASED), EV(LEASE_RELEASED));
    assert_int_equal(EVS[mark + 1].value, 4);
    mark = F.nevents;
    rel_ok(take(r)); /* 4 -> 5: above the ceiling */
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(LIMIT_INCREASED), EV(SOFT_CEILING_RECOVERED),
                 EV(LEASE_RELEASED));
    assert_int_equal(EVS[mark + 1].value, 5);
    assert_int_equal(EVS[mark + 2].value, 5);
    for (uint32_t want = 6; want <= 9; want++) {
        mark = F.nevents;
        rel_ok(take(r));
        EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(LIMIT_INCREASED), EV(LEASE_RELEASED));
        assert_int_equal(EVS[mark + 1].value, want);
    }
    mark = F.nevents;
    rel_ok(take(r)); /* 9 -> 10 = effective max */
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(LIMIT_INCREASED), EV(FULLY_RECOVERED),
                 EV(LEASE_RELEASED));
    assert_int_equal(EVS[mark + 1].value, 10);
    assert_int_equal(EVS[mark + 2].value, 10);
    mark = F.nevents;
    rel_ok(take(r));
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(LEASE_RELEASED));

    /* A second episode from the effective max: the ceiling is 10, which the
    ** limit can never exceed, so only full recovery is reported. */
    mark = F.nevents;
    rel_rl(take(r), 0); /* 10 -> 7 */
    assert_int_equal(snap(r).current_limit, 7);
    assert_int_equal(snap(r).rate_limit_ceiling, 10);
    F.now = 4 * SEC;
    for (int i = 0; i < 3; i++)
        rel_ok(take(r));
    assert_int_equal(ev_count(mark, EV(SOFT_CEILING_RECOVERED)), 0);
    assert_int_equal(ev_count(mark, EV(FULLY_RECOVERED)), 1);
    assert_int_equal(ev_count(mark, EV(LIMIT_INCREASED)), 3);
    admit_request_resource_snapshot s = snap(r);
    assert_int_equal(s.current_limit, 10);
    assert_int_equal(s.limit_increases, 10);
    assert_int_equal(s.limit_decreases, 2);
    assert_int_equal(s.min_limit, 3);
    assert_sequences_consecutive();
}

/* A lease admitted at a higher limit than the current one (admitted before an
** earlier decrease) does not decrease again, but still cools down. */
static void test_aimd_decrease_guard(void **state) {
    (void)state;
    uint32_t r = fx_chat(10);
    fx_start_default();
    admit_request_lease l1 = take(r), l2 = take(r), l3 = take(r);
    rel_rl(l1, 0); /* 10 -> 7, blocked until 2 s */
    assert_int_equal(snap(r).current_limit, 7);
    assert_int_equal(snap(r).blocked_until_ns, 2 * SEC);

    F.now = 1 * SEC;
    size_t mark = F.nevents;
    rel_rl(l2, 0); /* admitted at 10 > 7: no decrease */
    EXPECT_KINDS(mark, EV(RATE_LIMITED), EV(LEASE_RELEASED));
    admit_request_resource_snapshot s = snap(r);
    assert_int_equal(s.current_limit, 7);
    assert_int_equal(s.blocked_until_ns, 3 * SEC);
    assert_int_equal(s.limit_decreases, 1);
    assert_int_equal(s.consecutive_rate_limits, 2);
    assert_int_equal(try_deny(r).reason, ADMIT_REQ_DENY_COOLDOWN);

    /* Admitted at the current limit (7 == 7): decreases. */
    F.now = 3 * SEC;
    admit_request_lease l4 = take(r);
    mark = F.nevents;
    rel_rl(l4, 0);
    EXPECT_KINDS(mark, EV(RATE_LIMITED), EV(LIMIT_DECREASED), EV(LEASE_RELEASED));
    assert_int_equal(EVS[mark + 1].value, 5);
    assert_int_equal(snap(r).blocked_until_ns, 5 * SEC);

    /* l3 came from limit 10, two decreases ago. */
    F.now = 4 * SEC;
    mark = F.nevents;
    rel_rl(l3, 0);
    EXPECT_KINDS(mark, EV(RATE_LIMITED), EV(LEASE_RELEASED));
    s = snap(r);
    assert_int_equal(s.current_limit, 5);
    assert_int_equal(s.blocked_until_ns, 6 * SEC);
    assert_int_equal(s.limit_decreases, 2);
    assert_int_equal(s.consecutive_rate_limits, 4);
    assert_int_equal(s.cooldown_total_ns, 6 * SEC); /* [0,2] [2,3] [3,5] [5,6] merged */
    assert_int_equal(s.in_flight, 0);
    assert_sequences_consecutive();
}

/* Successes inside a cooldown window do not count towards an increase. */
static void test_aimd_cooldown_successes_do_not_count(void **state) {
    (void)state;
    uint32_t r = fx_chat(4);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.aimd.successes_until_increase = 2;
    fx_start(&cfg);
    admit_request_lease l1 = take(r), l2 = take(r), l3 = take(r);
    rel_rl(l1, 0); /* 4 -> 3, blocked until 2 s */
    F.now = 500 * MS;
    size_t mark = F.nevents;
    rel_ok(l2);
    rel_ok(l3);
    EXPECT_KINDS(mark, EV(LEASE_RELEASED), EV(LEASE_RELEASED));
    assert_int_equal(snap(r).current_limit, 3);

    F.now = 1 * SEC;
    mark = F.nevents;
    admit_request_denied d = try_deny(r);
    assert_int_equal(d.reason, ADMIT_REQ_DENY_COOLDOWN);
    assert_int_equal(d.available_after_ns, 2 * SEC);
    assert_int_equal(d.retry_after_ns, 1 * SEC); /* what is left of the cooldown */
    EXPECT_KINDS(mark, EV(ACQUIRE_DENIED));
    assert_int_equal(EVS[mark].reason, ADMIT_REQ_DENY_COOLDOWN);
    assert_int_equal(snap(r).denied[ADMIT_REQ_DENY_COOLDOWN], 1);

    F.now = 2 * SEC;
    mark = F.nevents;
    rel_ok(take(r)); /* streak 1 */
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(LEASE_RELEASED));
    mark = F.nevents;
    rel_ok(take(r)); /* streak 2: 3 -> 4 */
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(LIMIT_INCREASED), EV(FULLY_RECOVERED),
                 EV(LEASE_RELEASED));
    assert_int_equal(EVS[mark + 1].value, 4);
    /* A rate limit resets the streak. */
    F.now = 3 * SEC;
    rel_ok(take(r));           /* streak 1 */
    rel_rl(take(r), 100 * MS); /* 4 -> 3, streak 0 */
    F.now = 3 * SEC + 100 * MS;
    mark = F.nevents;
    rel_ok(take(r)); /* streak 1 */
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(LEASE_RELEASED));
    assert_int_equal(snap(r).current_limit, 3);
    assert_int_equal(snap(r).consecutive_rate_limits, 0);
    assert_sequences_consecutive();
}

/* retry_after > 0 sets the cooldown end; otherwise the configured cooldown. */
static void test_aimd_retry_after(void **state) {
    (void)state;
    uint32_t r = fx_chat(2);
    fx_start_default();
    size_t mark = F.nevents;
    rel_rl(take(r), 500 * MS);
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(RATE_LIMITED), EV(LIMIT_DECREASED),
                 EV(LEASE_RELEASED));
    assert_int_equal(EVS[mark + 1].value, 500 * MS);
    assert_int_equal(snap(r).blocked_until_ns, 500 * MS);
    F.now = 499 * MS;
    admit_request_denied d = try_deny(r);
    assert_int_equal(d.reason, ADMIT_REQ_DENY_COOLDOWN);
    assert_int_equal(d.available_after_ns, 500 * MS);
    F.now = 500 * MS;
    mark = F.nevents;
    rel_rl(take(r), 0); /* no retry_after: the 2 s cooldown */
    assert_int_equal(EVS[mark + 1].kind, EV(RATE_LIMITED));
    assert_int_equal(EVS[mark + 1].value, 2000 * MS); /* the cooldown now in force */
    assert_int_equal(snap(r).blocked_until_ns, 2500 * MS);
    F.now = 2500 * MS;
    rel_rl(take(r), -5); /* negative: the cooldown */
    admit_request_resource_snapshot s = snap(r);
    assert_int_equal(s.blocked_until_ns, 4500 * MS);
    assert_int_equal(s.cooldown_total_ns, 4500 * MS);
    assert_int_equal(s.current_limit, 1);
    assert_int_equal(s.limit_decreases, 1); /* 2 -> 1, then 1 stays 1 */
    assert_int_equal(s.consecutive_rate_limits, 3);
    assert_sequences_consecutive();
}

/* Failures, timeouts and cancellations return capacity but never count as
** pressure: no decrease, no cooldown. */
static void test_other_outcomes_are_not_pressure(void **state) {
    (void)state;
    uint32_t r = fx_chat(3);
    fx_start_default();
    const admit_request_outcome_kind kinds[] = {
        ADMIT_REQ_PROVIDER_FAILURE, ADMIT_REQ_PROVIDER_TIMEOUT, ADMIT_REQ_LOCAL_CANCELLED,
        ADMIT_REQ_LOCAL_TIMEOUT, ADMIT_REQ_UNEXPECTED_EXCEPTION};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        admit_request_lease l = take(r);
        size_t mark = F.nevents;
        assert_int_equal(rel(l, kinds[i]), ADMIT_RELEASE_RELEASED);
        EXPECT_KINDS(mark, EV(LEASE_RELEASED));
        assert_int_equal(EVS[mark].reason, kinds[i]);
        assert_int_equal(EVS[mark].value, 0);
    }
    /* An out-of-range outcome is treated as unexpected_exception. */
    assert_int_equal(
        admit_request_admission_release(
            F.c, take(r), (admit_request_outcome){.kind = (admit_request_outcome_kind)99}),
        ADMIT_RELEASE_RELEASED);
    admit_request_resource_snapshot s = snap(r);
    assert_int_equal(s.current_limit, 3);
    assert_int_equal(s.blocked_until_ns, -1);
    assert_int_equal(s.limit_decreases, 0);
    assert_int_equal(s.consecutive_rate_limits, 0);
    assert_int_equal(s.in_flight, 0);
    assert_int_equal(s.outcomes[ADMIT_REQ_PROVIDER_FAILURE], 1);
    assert_int_equal(s.outcomes[ADMIT_REQ_UNEXPECTED_EXCEPTION], 2);
    admit_request_admission_stats st = stats();
    assert_int_equal(st.outcomes[ADMIT_REQ_LOCAL_TIMEOUT], 1);
    assert_int_equal(st.outcomes[ADMIT_REQ_UNEXPECTED_EXCEPTION], 2);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_RELEASED], 6);

    /* They do wake waiters. */
    admit_request_lease a = take(r), b = take(r), c = take(r);
    queue_on(r, &D[1]);
    assert_int_equal(rel(b, ADMIT_REQ_PROVIDER_TIMEOUT), ADMIT_RELEASE_RELEASED);
    assert_int_equal(D[1].calls, 1);
    assert_true(D[1].res.admitted);
    rel_ok(a);
    rel_ok(c);
    rel_ok(D[1].res.lease);
    assert_sequences_consecutive();
}

/* ---- startup ramp --------------------------------------------------------- */

/* limit = 1 + floor((initial - 1) * elapsed / ramp); here 1 + floor(2 * s). */
static void test_ramp_formula(void **state) {
    (void)state;
    uint32_t r = fx_chat(7);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.aimd.startup_ramp_ns = 3 * SEC;
    fx_start(&cfg);
    admit_request_resource_snapshot s = snap(r);
    assert_int_equal(s.current_limit, 1);
    assert_int_equal(s.initial_limit, 7);
    assert_int_equal(s.effective_max, 7);
    assert_true(s.ramping);
    admit_request_lease l = take(r);
    assert_int_equal(try_deny(r).reason, ADMIT_REQ_DENY_NO_CAPACITY);
    assert_int_equal(rel(l, ADMIT_REQ_LOCAL_CANCELLED), ADMIT_RELEASE_RELEASED);

    const struct {
        int64_t at;
        uint32_t limit;
        bool ramping;
    } steps[] = {
        {0, 1, true},           {499 * MS, 1, true},  {500 * MS, 2, true},
        {1 * SEC, 3, true},     {1200 * MS, 3, true}, {1500 * MS, 4, true},
        {3 * SEC - 1, 6, true}, {3 * SEC, 7, false},  {10 * SEC, 7, false},
    };
    size_t mark = F.nevents;
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        F.now = steps[i].at;
        s = snap(r);
        assert_int_equal(s.current_limit, steps[i].limit);
        assert_int_equal(s.ramping, steps[i].ramping);
    }
    EXPECT_KINDS(mark, EV(LIMIT_INCREASED), EV(LIMIT_INCREASED), EV(LIMIT_INCREASED),
                 EV(LIMIT_INCREASED), EV(LIMIT_INCREASED));
    const int64_t want[] = {2, 3, 4, 6, 7};
    for (int i = 0; i < 5; i++)
        assert_int_equal(EVS[mark + (size_t)i].value, want[i]);
    /* The limit really is 7 now. */
    admit_request_lease ls[7];
    for (int i = 0; i < 7; i++)
        ls[i] = take(r);
    assert_int_equal(try_deny(r).reason, ADMIT_REQ_DENY_NO_CAPACITY);
    for (int i = 0; i < 7; i++)
        rel_ok(ls[i]);
    assert_sequences_consecutive();
}

/* No ramp when there is nothing to ramp to. */
static void test_ramp_initial_one(void **state) {
    (void)state;
    uint32_t r = fx_chat(4);
    const admit_request_resource_limits limits[1] = {{.initial_limit = 1}};
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.limits = limits;
    cfg.aimd.startup_ramp_ns = 3 * SEC;
    fx_start(&cfg);
    assert_false(snap(r).ramping);
    assert_int_equal(snap(r).current_limit, 1);
}

static void test_ramp_successes_do_not_count(void **state) {
    (void)state;
    uint32_t r = fx_chat(10);
    const admit_request_resource_limits limits[1] = {{.initial_limit = 5}};
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.limits = limits;
    cfg.aimd.startup_ramp_ns = 4 * SEC;
    cfg.aimd.successes_until_increase = 1;
    fx_start(&cfg);
    size_t mark = F.nevents;
    for (int i = 0; i < 3; i++)
        rel_ok(take(r));
    assert_int_equal(ev_count(mark, EV(LIMIT_INCREASED)), 0);
    assert_int_equal(snap(r).current_limit, 1);

    F.now = 2 * SEC; /* 1 + floor(4 * 2 / 4) = 3 */
    mark = F.nevents;
    assert_int_equal(snap(r).current_limit, 3);
    EXPECT_KINDS(mark, EV(LIMIT_INCREASED));
    assert_int_equal(EVS[mark].value, 3);
    mark = F.nevents;
    rel_ok(take(r));
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(LEASE_RELEASED));
    assert_int_equal(snap(r).current_limit, 3);

    F.now = 4 * SEC; /* the ramp is over: the limit is the initial one */
    admit_request_resource_snapshot s = snap(r);
    assert_int_equal(s.current_limit, 5);
    assert_false(s.ramping);
    mark = F.nevents;
    rel_ok(take(r)); /* now successes count */
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED), EV(LIMIT_INCREASED), EV(LEASE_RELEASED));
    assert_int_equal(EVS[mark + 1].value, 6);
    assert_int_equal(snap(r).current_limit, 6);
    assert_sequences_consecutive();
}

static void test_ramp_aborted_by_rate_limit(void **state) {
    (void)state;
    uint32_t r = fx_chat(9);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.aimd.startup_ramp_ns = 8 * SEC; /* 1 + floor(elapsed seconds) */
    fx_start(&cfg);
    F.now = 2 * SEC;
    size_t mark = F.nevents;
    admit_request_lease l = take(r);
    EXPECT_KINDS(mark, EV(LIMIT_INCREASED), EV(LEASE_ACQUIRED));
    assert_int_equal(EVS[mark].value, 3);
    mark = F.nevents;
    rel_rl(l, 0);
    EXPECT_KINDS(mark, EV(RATE_LIMITED), EV(LIMIT_DECREASED), EV(LEASE_RELEASED));
    assert_int_equal(EVS[mark + 1].value, 2);
    assert_false(snap(r).ramping);
    mark = F.nevents;
    F.now = 9 * SEC;
    admit_request_resource_snapshot s = snap(r);
    assert_int_equal(s.current_limit, 2);
    assert_false(s.ramping);
    assert_int_equal(s.rate_limit_ceiling, 3);
    EXPECT_NO_EVENTS(mark);
    assert_sequences_consecutive();
}

/* Queued waiters are admitted as the ramp raises the limit, on the ticks the
** controller asked for. */
static void test_ramp_admits_queued_waiters_on_wake(void **state) {
    (void)state;
    uint32_t r = fx_chat(3);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.aimd.startup_ramp_ns = 2 * SEC; /* limit 1, 2 at 1 s, 3 at 2 s */
    fx_start(&cfg);
    admit_request_item it = item_of(r);
    admit_request_result res;
    assert_int_equal(admit_request_admission_acquire_async(F.c, &it, on_done, &D[0], &res, NULL),
                     ADMIT_REQ_ADMITTED);
    assert_true(res.admitted);
    queue_on(r, &D[1]);
    queue_on(r, &D[2]);
    assert_int_equal(F.nwakes, 1);
    assert_int_equal(F.wakes[0], 1 * SEC);

    tick_at(1 * SEC);
    assert_int_equal(D[1].calls, 1);
    assert_true(D[1].res.admitted);
    assert_int_equal(D[1].res.wait_started_ns, 0);
    assert_int_equal(D[1].res.wait_completed_ns, 1 * SEC);
    assert_int_equal(D[2].calls, 0);
    assert_int_equal(F.nwakes, 2);
    assert_int_equal(F.wakes[1], 2 * SEC);

    tick_at(1500 * MS); /* early tick: nothing changes, nothing new asked */
    assert_int_equal(D[2].calls, 0);
    assert_int_equal(F.nwakes, 2);

    tick_at(2 * SEC);
    assert_int_equal(D[2].calls, 1);
    assert_true(D[2].res.admitted);
    assert_int_equal(D[2].res.wait_completed_ns, 2 * SEC);
    assert_int_equal(F.nwakes, 2);
    admit_request_resource_snapshot s = snap(r);
    assert_int_equal(s.in_flight, 3);
    assert_int_equal(s.current_limit, 3);
    assert_false(s.ramping);
    assert_int_equal(s.waiters, 0);
    rel_ok(res.lease);
    rel_ok(D[1].res.lease);
    rel_ok(D[2].res.lease);
    assert_sequences_consecutive();
}

/* Steps that do not fall on whole nanoseconds: the controller asks for the
** first instant at which the limit has risen (rounded up), never earlier.
** initial 4 over 1 s: 1 + floor(3 * t / 1 s) rises at 1/3 s, 2/3 s and 1 s. */
static void test_ramp_wake_rounds_up(void **state) {
    (void)state;
    uint32_t r = fx_chat(4);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.aimd.startup_ramp_ns = 1 * SEC;
    fx_start(&cfg);
    admit_request_lease l = take(r);
    for (int i = 1; i <= 3; i++)
        queue_on(r, &D[i]);
    const int64_t steps[3] = {333333334, 666666667, 1000000000};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(F.nwakes, i + 1);
        assert_int_equal(F.wakes[i], steps[i]);
        tick_at(steps[i] - 1);
        assert_int_equal(admit_log_n, i);
        assert_int_equal(snap(r).current_limit, (uint32_t)i + 1);
        tick_at(steps[i]);
        assert_int_equal(admit_log_n, i + 1);
        assert_int_equal(admit_log[i], i + 1);
        assert_int_equal(snap(r).current_limit, (uint32_t)i + 2);
    }
    assert_int_equal(F.nwakes, 3);
    rel_ok(l);
    for (int i = 1; i <= 3; i++)
        rel_ok(D[i].res.lease);
}

/* ---- cooldown wakeups ---------------------------------------------------- */

/* Cooldown expiry admits a waiter although nothing is in flight (no release
** will ever come). */
static void test_cooldown_expiry_wakes_waiter_with_nothing_in_flight(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_default();
    rel_rl(take(r), 0); /* blocked until 2 s, nothing in flight */
    assert_int_equal(snap(r).in_flight, 0);
    F.now = 500 * MS;
    queue_on(r, &D[1]);
    assert_int_equal(F.nwakes, 1);
    assert_int_equal(F.wakes[0], 2 * SEC);
    tick_at(2 * SEC - 1);
    assert_int_equal(D[1].calls, 0);
    size_t mark = F.nevents;
    tick_at(2 * SEC);
    assert_int_equal(D[1].calls, 1);
    assert_true(D[1].res.admitted);
    assert_int_equal(D[1].res.wait_started_ns, 500 * MS);
    assert_int_equal(D[1].res.wait_completed_ns, 2 * SEC);
    size_t wc = ev_index(mark, EV(WAIT_COMPLETED), 0);
    assert_int_equal(EVS[wc].value, 1500 * MS);
    assert_int_equal(EVS[wc].captured_at_ns, 2 * SEC);
    size_t la = ev_index(mark, EV(LEASE_ACQUIRED), D[1].res.lease.lease_id);
    assert_int_equal(EVS[la].captured_at_ns, 2 * SEC);
    assert_int_equal(snap(r).in_flight, 1);
    rel_ok(D[1].res.lease);
    assert_sequences_consecutive();
}

/* A rate-limited release with a waiter already queued asks for a tick at the
** cooldown end (retry_after here). */
static void test_rate_limited_release_schedules_wake(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_default();
    admit_request_lease l = take(r);
    queue_on(r, &D[1]);
    assert_int_equal(F.nwakes, 0); /* only a release can help: no tick needed */
    F.now = 1 * SEC;
    rel_rl(l, 300 * MS);
    assert_int_equal(D[1].calls, 0);
    assert_int_equal(F.nwakes, 1);
    assert_int_equal(F.wakes[0], 1300 * MS);
    tick_at(1300 * MS);
    assert_int_equal(D[1].calls, 1);
    assert_true(D[1].res.admitted);
    rel_ok(D[1].res.lease);
    assert_int_equal(stats().leases_active, 0);
}

/* ---- aggregate cap ------------------------------------------------------- */

static void test_aggregate_cap_across_domains(void **state) {
    (void)state;
    uint32_t pm = fx_pm("m", "p", "m", 3);
    uint32_t chat = fx_res(pm, ADMIT_DOMAIN_CHAT);
    uint32_t emb = fx_res(pm, ADMIT_DOMAIN_EMBEDDING);
    uint32_t other = fx_res(fx_pm("o", "q", "o", 1), ADMIT_DOMAIN_CHAT);
    fx_start_default();
    assert_int_equal(snap(chat).effective_max, 3);
    assert_int_equal(snap(emb).effective_max, 3);
    admit_request_lease c1 = take(chat), c2 = take(chat), e1 = take(emb);
    assert_int_equal(snap(chat).pm_in_flight, 3);
    assert_int_equal(try_deny(chat).reason, ADMIT_REQ_DENY_NO_CAPACITY);
    assert_int_equal(try_deny(emb).reason, ADMIT_REQ_DENY_NO_CAPACITY);
    const admit_request_pressure *p = admit_request_admission_pressure(F.c);
    assert_int_equal(p->pm_in_flight[pm], 3);
    assert_true(admit_request_pressure_is_pressured(p, emb, F.now)); /* pm full */
    /* Another provider/model is unaffected. */
    admit_request_lease o = take(other);

    queue_on(emb, &D[1]);
    rel_ok(c1); /* a chat release admits the embedding waiter */
    assert_int_equal(D[1].calls, 1);
    assert_true(D[1].res.admitted);
    assert_int_equal(snap(chat).in_flight, 1);
    assert_int_equal(snap(emb).in_flight, 2);
    assert_int_equal(snap(emb).pm_in_flight, 3);

    queue_on(chat, &D[2]);
    rel_ok(e1); /* and the other way round */
    assert_int_equal(D[2].calls, 1);
    assert_true(D[2].res.admitted);
    assert_int_equal(snap(chat).in_flight, 2);
    assert_int_equal(snap(emb).in_flight, 1);
    assert_int_equal(snap(chat).max_in_flight, 2);
    assert_int_equal(snap(emb).max_in_flight, 2);
    assert_int_equal(snap(chat).pm_in_flight, 3);
    /* Waiters in both domains, one slot freed: exactly one is admitted (the
    ** older), although each domain alone would have room. */
    queue_on(emb, &D[3]);
    queue_on(chat, &D[4]);
    rel_ok(c2);
    assert_int_equal(D[3].calls, 1);
    assert_true(D[3].res.admitted);
    assert_int_equal(D[4].calls, 0);
    assert_int_equal(snap(chat).pm_in_flight, 3);
    assert_int_equal(snap(chat).in_flight, 1);
    assert_int_equal(snap(emb).in_flight, 2);
    rel_ok(D[1].res.lease);
    assert_int_equal(D[4].calls, 1);
    assert_int_equal(snap(chat).pm_in_flight, 3);
    rel_ok(D[2].res.lease);
    rel_ok(D[3].res.lease);
    rel_ok(D[4].res.lease);
    rel_ok(o);
    assert_int_equal(snap(chat).pm_in_flight, 0);
    assert_int_equal(snap(other).pm_in_flight, 0);
    assert_int_equal(stats().leases_active, 0);
}

/* ---- weighted fairness ----------------------------------------------------- */

/* order: 'A' / 'B' per waiter in enqueue order (A_i is tag i, B_j tag 20 + j)
** on one chat resource with groups of weights wa and wb and a cap of 1; the
** cap is held by a lease on another domain of the same provider/model so the
** groups' tags start equal.  Releases one lease at a time. */
static void run_fairness(const char *order, int wa, int wb, const int *expected, int n) {
    uint32_t pm = fx_pm("m", "p", "m", 1);
    uint32_t chat = fx_res(pm, ADMIT_DOMAIN_CHAT);
    uint32_t emb = fx_res(pm, ADMIT_DOMAIN_EMBEDDING);
    fx_start_default();
    admit_error err = {0};
    int ga = admit_request_admission_add_group(F.c, chat, wa, &err);
    int gb = admit_request_admission_add_group(F.c, chat, wb, &err);
    assert_int_equal(ga, 2); /* after the two resources' own groups */
    assert_int_equal(gb, 3);
    admit_request_lease holder = take(emb);
    int na = 0, nb = 0;
    for (const char *o = order; *o; o++) {
        admit_request_item it = item_of(chat);
        it.group = *o == 'A' ? ga : gb;
        done_rec *d = *o == 'A' ? &D[++na] : &D[20 + ++nb];
        queue_item(&it, d);
    }
    assert_int_equal(snap(chat).waiters, na + nb);
    for (int i = 0; i < n; i++) {
        rel_ok(holder);
        assert_int_equal(admit_log_n, i + 1);
        holder = D[admit_log[i]].res.lease;
    }
    rel_ok(holder);
    bool same = true;
    for (int i = 0; i < n; i++)
        same = same && admit_log[i] == expected[i];
    if (!same) {
        print_message("  expected:");
        for (int i = 0; i < n; i++)
            print_message(" %c%d", expected[i] > 20 ? 'B' : 'A', expected[i] % 20);
        print_message("\n  actual:  ");
        for (int i = 0; i < admit_log_n; i++)
            print_message(" %c%d", admit_log[i] > 20 ? 'B' : 'A', admit_log[i] % 20);
        print_message("\n");
        fail_msg("admission order differs");
    }
    assert_int_equal(stats().leases_active, 0);
    assert_int_equal(stats().waiters_queued, 0);
}

/* Weights 3:1, all A waiters older.  Tags (A steps 1/3, B steps 1):
**   A1(0) B1(0) A2(1/3) A3(2/3) A4(1)~B2(1): tie, A4 older; B2(1); A5(4/3)
**   A6(5/3) A7(2) tie with B3(2), A7 older; B3; ...  3:1 after the start. */
static void test_weighted_fairness_3_to_1(void **state) {
    (void)state;
    const int want[] = {1, 21, 2, 3, 4, 22, 5, 6, 7, 23, 8, 9, 10, 24, 11, 12};
    run_fairness("AAAAAAAAAAAABBBB", 3, 1, want, 16);
}

/* The same weights with every B waiter older: on an exact tie (A4 and B2 both
** at tag 1.0 in double arithmetic) the older head, B2, goes first.  A's tag
** after six admissions is 5/3 + 1/3 computed in doubles, just below 2.0, so
** A7 precedes B3 — the sequence the rule gives with double tags. */
static void test_weighted_fairness_tie_goes_to_older_head(void **state) {
    (void)state;
    const int want[] = {21, 1, 2, 3, 22, 4, 5, 6, 7, 23, 8, 9, 24, 10, 11, 12};
    run_fairness("BBBBAAAAAAAAAAAA", 3, 1, want, 16);
}

/* Equal weights: the oldest head waiter first.  X1 Y1 Y2 X2 enqueued in that
** order leave in that order (an activation-order tie-break would give
** X1 Y1 X2 Y2). */
static void test_equal_weights_oldest_first(void **state) {
    (void)state;
    const int want[] = {1, 21, 22, 2};
    run_fairness("ABBA", 1, 1, want, 4);
}

/* A head waiter that leaves unserved takes its age with it: equal weights,
** A1 B1 A2 queued in that order (all tags 0); cancelling A1 leaves A's head
** A2, younger than B1, so B1 goes first, then A2. */
static void test_cancelled_head_gives_up_its_age(void **state) {
    (void)state;
    uint32_t pm = fx_pm("m", "p", "m", 1);
    uint32_t chat = fx_res(pm, ADMIT_DOMAIN_CHAT);
    uint32_t emb = fx_res(pm, ADMIT_DOMAIN_EMBEDDING);
    fx_start_default();
    admit_error err = {0};
    int ga = admit_request_admission_add_group(F.c, chat, 1, &err);
    int gb = admit_request_admission_add_group(F.c, chat, 1, &err);
    admit_request_lease holder = take(emb);
    admit_request_item a = item_of(chat), b = item_of(chat);
    a.group = ga;
    b.group = gb;
    queue_item(&a, &D[1]);
    queue_item(&b, &D[21]);
    queue_item(&a, &D[2]);
    assert_true(admit_request_admission_cancel(F.c, D[1].wait));
    rel_ok(holder);
    assert_int_equal(admit_log_n, 1);
    assert_int_equal(admit_log[0], 21);
    rel_ok(D[21].res.lease);
    assert_int_equal(admit_log_n, 2);
    assert_int_equal(admit_log[1], 2);
    rel_ok(D[2].res.lease);
    assert_int_equal(stats().leases_active, 0);
    assert_int_equal(stats().waiters_queued, 0);
}

/* A refused group says which argument was wrong. */
static void test_add_group_error_messages(void **state) {
    (void)state;
    uint32_t pm = fx_pm("m", "p", "m", 2);
    uint32_t chat = fx_res(pm, ADMIT_DOMAIN_CHAT);
    fx_res(pm, ADMIT_DOMAIN_EMBEDDING);
    fx_start_default();
    admit_error err = {0};
    assert_int_equal(admit_request_admission_add_group(F.c, 2, 1, &err), -1);
    assert_int_equal(err.code, ADMIT_EINVAL);
    assert_string_equal(err.message, "request group on resource 2: there are 2 resources");
    assert_int_equal(admit_request_admission_add_group(F.c, chat, 0, &err), -1);
    assert_int_equal(err.code, ADMIT_EINVAL);
    assert_string_equal(err.message, "request group weight 0: must be >= 1");
}

static void test_add_group_errors(void **state) {
    (void)state;
    uint32_t pm = fx_pm("m", "p", "m", 2);
    uint32_t chat = fx_res(pm, ADMIT_DOMAIN_CHAT);
    uint32_t emb = fx_res(pm, ADMIT_DOMAIN_EMBEDDING);
    fx_start_default();
    admit_error err = {0};
    assert_int_equal(admit_request_admission_add_group(F.c, 2, 1, &err), -1);
    assert_int_equal(err.code, ADMIT_EINVAL);
    err = (admit_error){0};
    assert_int_equal(admit_request_admission_add_group(F.c, chat, 0, &err), -1);
    assert_int_equal(err.code, ADMIT_EINVAL);
    int g = admit_request_admission_add_group(F.c, emb, 2, &err);
    assert_int_equal(g, 2);
    /* An item whose group belongs to another resource, or an unknown group
    ** or resource: hard policy denial. */
    const struct {
        uint32_t resource;
        int32_t group;
    } bad[] = {{chat, 2}, {chat, 3}, {chat, -7}, {5, ADMIT_REQ_GROUP_DEFAULT}, {emb, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        admit_request_item it = item_of(bad[i].resource);
        it.group = bad[i].group;
        admit_request_lease l;
        admit_request_denied d;
        assert_false(admit_request_admission_try_acquire(F.c, &it, &l, &d));
        assert_int_equal(d.reason, ADMIT_REQ_DENY_HARD_POLICY);
        admit_request_result res;
        assert_int_equal(
            admit_request_admission_acquire_async(F.c, &it, on_done, &D[0], &res, NULL),
            ADMIT_REQ_DENIED);
        assert_false(res.admitted);
        assert_int_equal(res.denied.reason, ADMIT_REQ_DENY_HARD_POLICY);
    }
    assert_int_equal(D[0].calls, 0);
    assert_int_equal(stats().denied[ADMIT_REQ_DENY_HARD_POLICY], 10);
    /* The good combination works. */
    admit_request_item it = item_of(emb);
    it.group = g;
    admit_request_lease l;
    admit_request_denied d;
    assert_true(admit_request_admission_try_acquire(F.c, &it, &l, &d));
    rel_ok(l);
}

/* ---- try_acquire never jumps queued waiters -------------------------------- */

static void test_try_acquire_never_jumps_waiters(void **state) {
    (void)state;
    uint32_t r = fx_res(fx_pm("m", "p", "m", 1), ADMIT_DOMAIN_CHAT);
    uint32_t other = fx_res(fx_pm("o", "q", "o", 1), ADMIT_DOMAIN_CHAT);
    fx_start_default();
    admit_request_lease l = take(r);
    queue_on(r, &D[1]);
    size_t mark = F.nevents;
    assert_int_equal(try_deny(r).reason, ADMIT_REQ_DENY_QUEUED_WAITERS_AHEAD);
    EXPECT_KINDS(mark, EV(ACQUIRE_DENIED));
    assert_int_equal(EVS[mark].reason, ADMIT_REQ_DENY_QUEUED_WAITERS_AHEAD);
    rel_ok(l); /* the freed slot goes to the waiter ... */
    assert_int_equal(D[1].calls, 1);
    assert_true(D[1].res.admitted);
    assert_int_equal(try_deny(r).reason, ADMIT_REQ_DENY_NO_CAPACITY); /* ... not to us */
    rel_ok(take(other)); /* another provider is unaffected */

    /* Capacity and cooldown both free, but the tick of the cooldown end
    ** has not run: the call admits the waiter first, as that tick would,
    ** so the slot is not ours, and a new async acquire queues. */
    rel_rl(D[1].res.lease, 0); /* blocked until 2 s */
    queue_on(r, &D[2]);
    F.now = 2 * SEC;
    assert_int_equal(try_deny(r).reason, ADMIT_REQ_DENY_NO_CAPACITY);
    assert_int_equal(D[2].calls, 1);
    assert_true(D[2].res.admitted);
    assert_int_equal(D[2].res.wait_completed_ns, 2 * SEC);
    queue_on(r, &D[3]);
    tick_at(2 * SEC); /* nothing left for the tick to do */
    assert_int_equal(D[3].calls, 0);
    rel_ok(D[2].res.lease);
    assert_int_equal(D[3].calls, 1);
    assert_true(D[3].res.admitted);
    rel_ok(D[3].res.lease);
    admit_request_admission_stats st = stats();
    assert_int_equal(st.denied[ADMIT_REQ_DENY_QUEUED_WAITERS_AHEAD], 1);
    assert_int_equal(st.denied[ADMIT_REQ_DENY_NO_CAPACITY], 2);
    assert_int_equal(st.leases_active, 0);
}

/* Aggregate cap 1 on p/m.  An embedding waiter queues while embedding cools
** down (10 ms) and asks to be ticked at the cooldown end T.  A chat
** try_acquire at T + 1, before that tick, finds the waiter admitted first
** (as the tick would have) and is denied no_capacity: it never jumps an
** older waiter of another domain that is no longer held back. */
static void test_acquire_before_cooldown_tick_admits_waiter_first(void **state) {
    (void)state;
    uint32_t pm = fx_pm("m", "p", "m", 1);
    uint32_t chat = fx_res(pm, ADMIT_DOMAIN_CHAT);
    uint32_t emb = fx_res(pm, ADMIT_DOMAIN_EMBEDDING);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.aimd.cooldown_ns = 10 * MS;
    fx_start(&cfg);
    rel_rl(take(emb), 0); /* embedding cools until 10 ms */
    queue_on(emb, &D[1]);
    assert_int_equal(F.nwakes, 1);
    assert_int_equal(F.wakes[0], 10 * MS);
    /* Before the cooldown end the chat request is not held up by it. */
    F.now = 10 * MS - 1;
    rel_ok(take(chat));
    assert_int_equal(D[1].calls, 0);

    F.now = 10 * MS + 1;
    size_t mark = F.nevents;
    admit_request_denied d = try_deny(chat);
    assert_int_equal(d.reason, ADMIT_REQ_DENY_NO_CAPACITY);
    assert_int_equal(D[1].calls, 1);
    assert_true(D[1].res.admitted);
    assert_int_equal(D[1].res.wait_completed_ns, 10 * MS + 1);
    EXPECT_KINDS(mark, EV(WAIT_COMPLETED), EV(LEASE_ACQUIRED), EV(QUEUE_DRAINED),
                 EV(ACQUIRE_DENIED));
    assert_int_equal(EVS[mark].resource, (int32_t)emb);
    assert_int_equal(EVS[mark + 3].resource, (int32_t)chat);
    mark = F.nevents;
    tick_at(10 * MS + 1); /* the late tick finds nothing left to do */
    EXPECT_NO_EVENTS(mark);
    assert_int_equal(snap(emb).waiters, 0);
    assert_int_equal(snap(emb).in_flight, 1);

    /* acquire_async queues behind it instead of being admitted. */
    admit_request_item it = item_of(chat);
    admit_request_result res;
    assert_int_equal(admit_request_admission_acquire_async(F.c, &it, on_done, &D[2], &res, NULL),
                     ADMIT_REQ_QUEUED);
    rel_ok(D[1].res.lease);
    assert_true(D[2].res.admitted);
    rel_ok(D[2].res.lease);
    assert_int_equal(stats().leases_active, 0);
    assert_sequences_consecutive();
}

/* A release that comes after a cooldown end but before its tick: the
** waiter that time let in is admitted before the release is applied, so
** the new cooldown of a rate limit in that release does not keep it out. */
static void test_release_before_cooldown_tick_admits_waiter_first(void **state) {
    (void)state;
    uint32_t r = fx_chat(3);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.aimd.cooldown_ns = 10 * MS;
    fx_start(&cfg);
    /* Three leases admitted at limit 3; a rate limit: limit 2, cooling until
    ** 10 ms; a success: one in flight, room for one more at 10 ms. */
    admit_request_lease l1 = take(r), l2 = take(r), l3 = take(r);
    rel_rl(l3, 0);
    rel_ok(l2);
    queue_on(r, &D[1]);
    assert_int_equal(F.wakes[F.nwakes - 1], 10 * MS);
    F.now = 10 * MS; /* the cooldown ends; its tick has not run */
    size_t mark = F.nevents;
    rel_rl(l1, 0); /* admitted at 3 > 2: no decrease, but cooling until 20 ms */
    assert_int_equal(D[1].calls, 1);
    assert_true(D[1].res.admitted);
    assert_int_equal(D[1].res.wait_completed_ns, 10 * MS);
    EXPECT_KINDS(mark, EV(WAIT_COMPLETED), EV(LEASE_ACQUIRED), EV(QUEUE_DRAINED), EV(RATE_LIMITED),
                 EV(LEASE_RELEASED));
    admit_request_resource_snapshot s = snap(r);
    assert_int_equal(s.current_limit, 2);
    assert_int_equal(s.blocked_until_ns, 20 * MS);
    assert_int_equal(s.in_flight, 1);
    rel_ok(D[1].res.lease);
    assert_int_equal(stats().leases_active, 0);
    assert_sequences_consecutive();
}

/* A startup ramp step raises chat's limit at 1 s; the chat waiter asked to
** be ticked then.  An embedding try_acquire after the step but before the
** tick finds the aggregate cap taken by the waiter, admitted first. */
static void test_acquire_before_ramp_tick_admits_waiter_first(void **state) {
    (void)state;
    uint32_t pm = fx_pm("m", "p", "m", 2);
    uint32_t chat = fx_res(pm, ADMIT_DOMAIN_CHAT);
    uint32_t emb = fx_res(pm, ADMIT_DOMAIN_EMBEDDING);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.aimd.startup_ramp_ns = 1 * SEC; /* limits 1, then 2 at 1 s */
    fx_start(&cfg);
    admit_request_lease l = take(chat);
    queue_on(chat, &D[1]);
    assert_int_equal(F.wakes[F.nwakes - 1], 1 * SEC);
    F.now = 1 * SEC + 1;
    assert_int_equal(try_deny(emb).reason, ADMIT_REQ_DENY_NO_CAPACITY);
    assert_true(D[1].res.admitted);
    assert_int_equal(D[1].res.wait_completed_ns, 1 * SEC + 1);
    assert_int_equal(snap(chat).in_flight, 2);
    rel_ok(l);
    rel_ok(D[1].res.lease);
    assert_int_equal(stats().leases_active, 0);
}

/* ---- queue-wait timeouts --------------------------------------------------- */

static void test_queue_timeout_item(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_default();
    admit_request_lease l = take(r);
    admit_request_item it = item_of(r);
    it.queue_wait_timeout_ns = 1 * SEC;
    it.ctx.task_id = 42;
    queue_item(&it, &D[1]);
    assert_int_equal(F.nwakes, 1);
    assert_int_equal(F.wakes[0], 1 * SEC);
    tick_at(1 * SEC - 1);
    assert_int_equal(D[1].calls, 0);
    size_t mark = F.nevents;
    tick_at(1 * SEC);
    assert_int_equal(D[1].calls, 1);
    assert_false(D[1].res.admitted);
    assert_int_equal(D[1].res.denied.reason, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
    assert_int_equal(D[1].res.wait_started_ns, 0);
    assert_int_equal(D[1].res.wait_completed_ns, 1 * SEC);
    assert_int_equal(D[1].res.lease.lease_id, 0);
    EXPECT_KINDS(mark, EV(WAIT_TIMEOUT), EV(QUEUE_DRAINED));
    assert_int_equal(EVS[mark].reason, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
    assert_int_equal(EVS[mark].value, 1 * SEC);
    assert_int_equal(EVS[mark].task_id, 42);
    admit_request_admission_stats st = stats();
    assert_int_equal(st.leases_active, 1); /* only l */
    assert_int_equal(st.waiters_queued, 0);
    assert_int_equal(st.denied[ADMIT_REQ_DENY_QUEUE_TIMEOUT], 1);
    assert_int_equal(snap(r).denied[ADMIT_REQ_DENY_QUEUE_TIMEOUT], 1);
    assert_false(admit_request_admission_cancel(F.c, D[1].wait));
    rel_ok(l);
    assert_int_equal(D[1].calls, 1);
    assert_int_equal(stats().leases_active, 0);
    assert_int_equal(snap(r).in_flight, 0);
}

/* The controller's default applies to ADMIT_REQ_TIMEOUT_DEFAULT items; 0 on
** an item means no timeout at all. */
static void test_queue_timeout_controller_default(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.queue_wait_timeout_ns = 5 * SEC;
    fx_start(&cfg);
    admit_request_lease l = take(r);
    queue_on(r, &D[1]); /* default: deadline 5 s */
    admit_request_item none = item_of(r);
    none.queue_wait_timeout_ns = 0;
    queue_item(&none, &D[2]); /* never times out */
    F.now = 1 * SEC;
    admit_request_item own = item_of(r);
    own.queue_wait_timeout_ns = 2 * SEC;
    queue_item(&own, &D[3]); /* deadline 3 s */
    assert_int_equal(F.nwakes, 2);
    assert_int_equal(F.wakes[0], 5 * SEC);
    assert_int_equal(F.wakes[1], 3 * SEC);
    tick_at(3 * SEC);
    assert_int_equal(D[3].calls, 1);
    assert_int_equal(D[3].res.denied.reason, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
    assert_int_equal(D[3].res.wait_completed_ns, 3 * SEC);
    assert_int_equal(D[1].calls, 0);
    assert_int_equal(F.nwakes, 3);
    assert_int_equal(F.wakes[2], 5 * SEC);
    tick_at(5 * SEC);
    assert_int_equal(D[1].calls, 1);
    assert_int_equal(D[1].res.denied.reason, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
    assert_int_equal(D[1].res.wait_completed_ns, 5 * SEC);
    assert_int_equal(D[2].calls, 0);
    assert_int_equal(F.nwakes, 3); /* nothing left with a deadline */
    tick_at(1000 * SEC);
    assert_int_equal(D[2].calls, 0);
    rel_ok(l);
    assert_int_equal(D[2].calls, 1);
    assert_true(D[2].res.admitted);
    rel_ok(D[2].res.lease);
    assert_int_equal(stats().denied[ADMIT_REQ_DENY_QUEUE_TIMEOUT], 2);
}

/* A release that runs before the tick of a waiter's deadline (a busy event
** loop) must not admit that waiter: at now >= deadline it has timed out.
** The waiter behind it, which has no deadline, gets the lease instead; one
** nanosecond before the deadline a release still admits. */
static void test_release_at_deadline_times_out_waiter(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_default();
    admit_request_lease l = take(r);
    admit_request_item it = item_of(r);
    it.queue_wait_timeout_ns = 1 * SEC;
    queue_item(&it, &D[1]); /* deadline 1 s */
    queue_on(r, &D[2]);     /* no deadline */
    F.now = 1 * SEC;        /* the tick asked for at 1 s has not run */
    size_t mark = F.nevents;
    rel_ok(l);
    assert_int_equal(D[1].calls, 1);
    assert_false(D[1].res.admitted);
    assert_int_equal(D[1].res.denied.reason, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
    assert_int_equal(D[1].res.wait_completed_ns, 1 * SEC);
    assert_int_equal(D[2].calls, 1);
    assert_true(D[2].res.admitted);
    assert_true(D[1].order < D[2].order);
    EXPECT_KINDS(mark, EV(WAIT_TIMEOUT), EV(LEASE_RELEASED), EV(WAIT_COMPLETED), EV(LEASE_ACQUIRED),
                 EV(QUEUE_DRAINED));
    assert_int_equal(EVS[mark].value, 1 * SEC);

    /* Past the deadline, with no other waiter: the lease goes back unused. */
    queue_item(&it, &D[3]); /* deadline 2 s */
    F.now = 2 * SEC + 5 * MS;
    mark = F.nevents;
    rel_ok(D[2].res.lease);
    assert_int_equal(D[3].calls, 1);
    assert_int_equal(D[3].res.denied.reason, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
    EXPECT_KINDS(mark, EV(WAIT_TIMEOUT), EV(QUEUE_DRAINED), EV(LEASE_RELEASED));
    assert_int_equal(snap(r).in_flight, 0);

    /* One nanosecond before the deadline the release admits. */
    l = take(r);
    queue_item(&it, &D[4]); /* deadline 3.005 s */
    F.now = 3 * SEC + 5 * MS - 1;
    rel_ok(l);
    assert_int_equal(D[4].calls, 1);
    assert_true(D[4].res.admitted);
    rel_ok(D[4].res.lease);

    tick_at(10 * SEC); /* the late ticks deliver nothing twice */
    assert_int_equal(D[1].calls + D[2].calls + D[3].calls + D[4].calls, 4);
    admit_request_admission_stats st = stats();
    assert_int_equal(st.denied[ADMIT_REQ_DENY_QUEUE_TIMEOUT], 2);
    assert_int_equal(st.leases_active, 0);
    assert_int_equal(st.waiters_queued, 0);
    assert_sequences_consecutive();
}

/* Raising the effective max admits waiters, but never one past its
** deadline. */
static void test_clamp_raise_at_deadline_times_out_waiter(void **state) {
    (void)state;
    uint32_t r = fx_chat(2);
    const admit_request_resource_limits limits[1] = {{.max_limit_clamp = 1}};
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.limits = limits;
    fx_start(&cfg);
    admit_request_lease l = take(r);
    admit_request_item it = item_of(r);
    it.queue_wait_timeout_ns = 1 * SEC;
    queue_item(&it, &D[1]);
    F.now = 1 * SEC;
    admit_request_admission_set_max_limit_clamp(F.c, r, 0); /* effective max 1 -> 2 */
    assert_int_equal(D[1].calls, 1);
    assert_false(D[1].res.admitted);
    assert_int_equal(D[1].res.denied.reason, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
    assert_int_equal(snap(r).in_flight, 1);
    assert_int_equal(snap(r).effective_max, 2);
    rel_ok(l);
    assert_int_equal(stats().leases_active, 0);
}

/* Acquires that come before the tick of a passed deadline see the waiter
** gone: try_acquire is not denied queued_waiters_ahead for it, and
** acquire_async does not queue behind it.  A denial during a cooldown says
** how much of it is left (retry_after) and when it ends (available_after),
** for try_acquire and for a waiter that timed out in it alike. */
static void test_acquire_after_deadline_sees_waiter_gone(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_default();
    rel_rl(take(r), 0); /* cooling until 2 s */
    admit_request_item it = item_of(r);
    it.queue_wait_timeout_ns = 1 * SEC;
    queue_item(&it, &D[1]); /* deadline 1 s */
    F.now = 1500 * MS;
    size_t mark = F.nevents;
    admit_request_denied d = try_deny(r);
    assert_int_equal(d.reason, ADMIT_REQ_DENY_COOLDOWN);
    assert_int_equal(d.retry_after_ns, 500 * MS);
    assert_int_equal(d.available_after_ns, 2 * SEC);
    EXPECT_KINDS(mark, EV(WAIT_TIMEOUT), EV(QUEUE_DRAINED), EV(ACQUIRE_DENIED));
    assert_int_equal(D[1].calls, 1);
    assert_int_equal(D[1].res.denied.reason, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
    assert_int_equal(D[1].res.denied.retry_after_ns, 500 * MS);
    assert_int_equal(D[1].res.denied.available_after_ns, 2 * SEC);

    queue_item(&it, &D[2]); /* deadline 2.5 s; the 2 s tick never runs */
    F.now = 2500 * MS;
    admit_request_result res;
    admit_request_item now_it = item_of(r);
    assert_int_equal(
        admit_request_admission_acquire_async(F.c, &now_it, on_done, &D[3], &res, NULL),
        ADMIT_REQ_ADMITTED);
    assert_int_equal(D[2].calls, 1);
    assert_int_equal(D[2].res.denied.reason, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
    assert_int_equal(D[2].res.denied.retry_after_ns, -1); /* no cooldown any more */
    assert_int_equal(D[2].res.denied.available_after_ns, -1);
    rel_ok(res.lease);
    admit_request_admission_stats st = stats();
    assert_int_equal(st.denied[ADMIT_REQ_DENY_QUEUED_WAITERS_AHEAD], 0);
    assert_int_equal(st.denied[ADMIT_REQ_DENY_QUEUE_TIMEOUT], 2);
    assert_int_equal(st.leases_active, 0);
    assert_int_equal(st.waiters_queued, 0);
}

/* ---- cancellation ---------------------------------------------------------- */

static void test_cancel_before_admission(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_default();
    admit_request_lease l = take(r);
    admit_request_item it = item_of(r);
    it.ctx.task_id = 7;
    it.ctx.attempt_id = 3;
    queue_item(&it, &D[1]);
    F.now = 250 * MS;
    size_t mark = F.nevents;
    assert_true(admit_request_admission_cancel(F.c, D[1].wait));
    assert_int_equal(D[1].calls, 1);
    assert_false(D[1].res.admitted);
    assert_int_equal(D[1].res.denied.reason, ADMIT_REQ_DENY_CANCELLATION);
    assert_int_equal(D[1].res.wait_completed_ns, 250 * MS);
    EXPECT_KINDS(mark, EV(WAIT_CANCELLED), EV(QUEUE_DRAINED));
    assert_int_equal(EVS[mark].reason, ADMIT_REQ_DENY_CANCELLATION);
    assert_int_equal(EVS[mark].task_id, 7);
    assert_int_equal(EVS[mark].attempt_id, 3);
    assert_int_equal(EVS[mark].value, 250 * MS);
    /* Twice, or a bogus handle: false and nothing else happens. */
    assert_false(admit_request_admission_cancel(F.c, D[1].wait));
    assert_false(admit_request_admission_cancel(F.c, (admit_request_wait){.slot = 9999}));
    assert_false(admit_request_admission_cancel(
        F.c, (admit_request_wait){.slot = D[1].wait.slot, .generation = D[1].wait.generation + 7}));
    assert_int_equal(D[1].calls, 1);
    /* The slot is reused by the next waiter: the old handle must not cancel
    ** the new one. */
    queue_on(r, &D[2]);
    assert_int_equal(D[2].wait.slot, D[1].wait.slot);
    assert_int_not_equal(D[2].wait.generation, D[1].wait.generation);
    assert_false(admit_request_admission_cancel(F.c, D[1].wait));
    assert_int_equal(D[2].calls, 0);
    assert_int_equal(snap(r).waiters, 1);
    assert_true(admit_request_admission_cancel(F.c, D[2].wait));
    rel_ok(l); /* nobody is admitted */
    assert_int_equal(D[1].calls, 1);
    assert_int_equal(D[2].calls, 1);
    admit_request_admission_stats st = stats();
    assert_int_equal(st.leases_active, 0);
    assert_int_equal(st.leases_acquired, 1);
    assert_int_equal(st.waiters_queued, 0);
    assert_int_equal(st.denied[ADMIT_REQ_DENY_CANCELLATION], 2);
    assert_int_equal(snap(r).in_flight, 0);
    assert_sequences_consecutive();
}

/* A zero-filled handle (what a caller holds before any acquire_async, or
** after one that did not queue) names no waiter, not the one in slot 0,
** whatever that slot's history: generations start at 1. */
static void test_cancel_zero_handle_names_no_waiter(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.waiter_capacity = 1; /* one slot: every waiter takes slot 0 */
    fx_start(&cfg);
    admit_request_lease l = take(r);
    for (int i = 1; i <= 3; i++) {
        queue_on(r, &D[i]);
        assert_int_equal(D[i].wait.slot, 0);
        assert_int_not_equal(D[i].wait.generation, 0);
        size_t mark = F.nevents;
        assert_false(admit_request_admission_cancel(F.c, (admit_request_wait){0}));
        EXPECT_NO_EVENTS(mark);
        assert_int_equal(D[i].calls, 0);
        assert_int_equal(snap(r).waiters, 1);
        assert_true(admit_request_admission_cancel(F.c, D[i].wait)); /* frees slot 0 again */
    }
    /* The handle acquire_async leaves when it admits at once names no waiter either. */
    rel_ok(l);
    admit_request_item it = item_of(r);
    admit_request_result res;
    admit_request_wait w = {.slot = 7, .generation = 7};
    assert_int_equal(admit_request_admission_acquire_async(F.c, &it, on_done, &D[4], &res, &w),
                     ADMIT_REQ_ADMITTED);
    queue_on(r, &D[5]);
    assert_false(admit_request_admission_cancel(F.c, w));
    assert_int_equal(snap(r).waiters, 1);
    rel_ok(res.lease);
    assert_true(D[5].res.admitted);
    rel_ok(D[5].res.lease);
    assert_int_equal(stats().denied[ADMIT_REQ_DENY_CANCELLATION], 3);
}

static void test_cancel_after_admission(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_default();
    admit_request_lease l = take(r);
    queue_on(r, &D[1]);
    rel_ok(l);
    assert_int_equal(D[1].calls, 1);
    assert_true(D[1].res.admitted);
    assert_false(admit_request_admission_cancel(F.c, D[1].wait));
    assert_int_equal(D[1].calls, 1);
    assert_int_equal(snap(r).in_flight, 1);
    assert_int_equal(rel(D[1].res.lease, ADMIT_REQ_LOCAL_CANCELLED), ADMIT_RELEASE_RELEASED);
    assert_int_equal(snap(r).in_flight, 0);
    assert_int_equal(stats().leases_active, 0);
    assert_int_equal(stats().outcomes[ADMIT_REQ_LOCAL_CANCELLED], 1);
}

static void then_cancel_other(done_rec *d) {
    d->cancel_result = admit_request_admission_cancel(F.c, d->other->wait);
}

/* Cancelling a waiter that was admitted but whose completion has not run yet
** returns false; its completion still delivers the lease. */
static void test_cancel_admitted_before_delivery(void **state) {
    (void)state;
    uint32_t r = fx_chat(3);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.aimd.startup_ramp_ns = 2 * SEC;
    fx_start(&cfg);
    admit_request_lease l = take(r);
    queue_on(r, &D[1]);
    queue_on(r, &D[2]);
    D[1].then = then_cancel_other;
    D[1].other = &D[2];
    D[1].cancel_result = true;
    tick_at(2 * SEC); /* limit 1 -> 3: both admitted in one go */
    assert_int_equal(D[1].calls, 1);
    assert_int_equal(D[2].calls, 1);
    assert_int_equal(D[1].order, 1);
    assert_int_equal(D[2].order, 2);
    assert_false(D[1].cancel_result);
    assert_true(D[2].res.admitted);
    assert_int_equal(snap(r).in_flight, 3);
    rel_ok(l);
    rel_ok(D[1].res.lease);
    rel_ok(D[2].res.lease);
    assert_int_equal(stats().leases_active, 0);
}

/* Cancelling a waiter in the middle of its group's FIFO, then the head. */
static void test_cancel_middle_and_head_waiters(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_default();
    admit_request_lease l = take(r);
    for (int i = 1; i <= 4; i++)
        queue_on(r, &D[i]);
    size_t mark = F.nevents;
    assert_true(admit_request_admission_cancel(F.c, D[2].wait));
    assert_true(admit_request_admission_cancel(F.c, D[1].wait));
    EXPECT_KINDS(mark, EV(WAIT_CANCELLED), EV(WAIT_CANCELLED));
    assert_int_equal(snap(r).waiters, 2);
    rel_ok(l);
    assert_int_equal(admit_log_n, 1);
    assert_int_equal(admit_log[0], 3);
    rel_ok(D[3].res.lease);
    assert_int_equal(admit_log_n, 2);
    assert_int_equal(admit_log[1], 4);
    assert_false(admit_request_admission_cancel(F.c, D[4].wait));
    rel_ok(D[4].res.lease);
    for (int i = 1; i <= 4; i++)
        assert_int_equal(D[i].calls, 1);
    admit_request_admission_stats st = stats();
    assert_int_equal(st.leases_active, 0);
    assert_int_equal(st.waiters_queued, 0);
    assert_int_equal(st.denied[ADMIT_REQ_DENY_CANCELLATION], 2);
}

/* More completions than one delivery batch, all due from one tick: every one
** runs exactly once, in admission (FIFO) order. */
static void test_many_completions_in_one_pump(void **state) {
    (void)state;
    uint32_t r = fx_chat(100);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.aimd.startup_ramp_ns = 1 * SEC;
    fx_start(&cfg);
    admit_request_lease l = take(r);
    for (int i = 1; i <= 45; i++)
        queue_on(r, &D[i]);
    size_t mark = F.nevents;
    tick_at(1 * SEC); /* limit 1 -> 100 */
    for (int i = 1; i <= 45; i++) {
        assert_int_equal(D[i].calls, 1);
        assert_true(D[i].res.admitted);
        assert_int_equal(D[i].order, i);
    }
    assert_int_equal(ev_count(mark, EV(WAIT_COMPLETED)), 45);
    assert_int_equal(ev_count(mark, EV(LEASE_ACQUIRED)), 45);
    assert_int_equal(ev_count(mark, EV(QUEUE_DRAINED)), 1);
    assert_int_equal(snap(r).in_flight, 46);
    rel_ok(l);
    for (int i = 1; i <= 45; i++)
        rel_ok(D[i].res.lease);
    assert_int_equal(stats().leases_active, 0);
    assert_sequences_consecutive();
}

/* Twenty waiters with scrambled deadlines: each times out at its own
** deadline, on the tick the controller asked for. */
static void test_many_deadlines(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_default();
    admit_request_lease l = take(r);
    for (int i = 1; i <= 20; i++) {
        admit_request_item it = item_of(r);
        it.queue_wait_timeout_ns = (int64_t)((i * 7) % 20 + 1) * 100 * MS;
        it.ctx.task_id = (uint64_t)i;
        queue_item(&it, &D[i]);
    }
    assert_int_equal(F.wakes[F.nwakes - 1], 100 * MS);
    for (int k = 1; k <= 20; k++) {
        assert_int_equal(F.wakes[F.nwakes - 1], k * 100 * MS);
        tick_at(k * 100 * MS);
        int timed_out = 0;
        for (int i = 1; i <= 20; i++) {
            bool due = (i * 7) % 20 + 1 <= k;
            assert_int_equal(D[i].calls, due ? 1 : 0);
            timed_out += D[i].calls;
            if (due) {
                assert_int_equal(D[i].res.denied.reason, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
                assert_int_equal(D[i].res.wait_completed_ns, ((i * 7) % 20 + 1) * 100 * MS);
            }
        }
        assert_int_equal(timed_out, k);
    }
    int n = F.nwakes;
    tick_at(100 * SEC);
    assert_int_equal(F.nwakes, n);
    assert_int_equal(stats().waiters_queued, 0);
    rel_ok(l);
    assert_int_equal(stats().leases_active, 0);
}

/* A tiny preallocated waiter slab grows on demand; FIFO order survives. */
static void test_waiter_slab_growth(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.waiter_capacity = 1;
    fx_start(&cfg);
    admit_request_lease l = take(r);
    for (int i = 1; i <= 40; i++)
        queue_on(r, &D[i]);
    assert_int_equal(snap(r).waiters, 40);
    assert_int_equal(snap(r).max_waiters, 40);
    for (int i = 1; i <= 40; i++) {
        rel_ok(l);
        assert_int_equal(admit_log_n, i);
        assert_int_equal(admit_log[i - 1], i);
        l = D[i].res.lease;
    }
    rel_ok(l);
    assert_int_equal(stats().leases_active, 0);
    assert_int_equal(stats().waiters_queued, 0);
}

/* ---- release reasons ------------------------------------------------------- */

static void test_release_reasons(void **state) {
    (void)state;
    uint32_t r = fx_chat(4);
    fx_start_default();
    admit_request_lease a = take(r);
    rel_ok(a);
    assert_int_equal(snap(r).in_flight, 0);
    size_t mark = F.nevents;
    assert_int_equal(rel(a, ADMIT_REQ_SUCCESS), ADMIT_RELEASE_DUPLICATE);
    EXPECT_KINDS(mark, EV(RELEASE_DIAGNOSTIC));
    assert_int_equal(EVS[mark].reason, ADMIT_RELEASE_DUPLICATE);
    assert_int_equal(EVS[mark].lease_id, a.lease_id);
    assert_int_equal(snap(r).in_flight, 0);

    admit_request_lease b = take(r), c = take(r);
    assert_int_equal(b.slot, a.slot); /* the freed slot is reused */
    assert_true(b.lease_id > a.lease_id);
    mark = F.nevents;
    assert_int_equal(rel(a, ADMIT_REQ_RATE_LIMITED), ADMIT_RELEASE_STALE_LEASE);
    EXPECT_KINDS(mark, EV(RELEASE_DIAGNOSTIC));
    assert_int_equal(EVS[mark].reason, ADMIT_RELEASE_STALE_LEASE);
    admit_request_resource_snapshot s = snap(r);
    assert_int_equal(s.in_flight, 2); /* b is untouched, no AIMD either */
    assert_int_equal(s.current_limit, 4);
    assert_int_equal(s.blocked_until_ns, -1);

    mark = F.nevents;
    assert_int_equal(rel((admit_request_lease){0}, ADMIT_REQ_SUCCESS), ADMIT_RELEASE_UNKNOWN_LEASE);
    assert_int_equal(
        rel((admit_request_lease){.lease_id = 999, .slot = 0, .generation = b.generation},
            ADMIT_REQ_SUCCESS),
        ADMIT_RELEASE_UNKNOWN_LEASE);
    assert_int_equal(rel((admit_request_lease){.lease_id = b.lease_id,
                                               .slot = 100000,
                                               .generation = b.generation},
                         ADMIT_REQ_SUCCESS),
                     ADMIT_RELEASE_UNKNOWN_LEASE);
    EXPECT_KINDS(mark, EV(RELEASE_DIAGNOSTIC), EV(RELEASE_DIAGNOSTIC), EV(RELEASE_DIAGNOSTIC));
    for (int i = 0; i < 3; i++)
        assert_int_equal(EVS[mark + (size_t)i].reason, ADMIT_RELEASE_UNKNOWN_LEASE);
    assert_int_equal(snap(r).in_flight, 2);

    /* reset: a new generation; old leases are wrong_generation. */
    admit_request_lease d2 = take(r), e = take(r);
    assert_int_equal(snap(r).in_flight, 4);
    queue_on(r, &D[1]);
    admit_request_admission_reset(F.c);
    assert_int_equal(D[1].calls, 1); /* queued waiters are denied first */
    assert_false(D[1].res.admitted);
    assert_int_equal(D[1].res.denied.reason, ADMIT_REQ_DENY_SHUTDOWN);
    s = snap(r);
    assert_int_equal(s.in_flight, 0);
    assert_int_equal(s.pm_in_flight, 0);
    assert_int_equal(stats().leases_active, 0);
    mark = F.nevents;
    assert_int_equal(rel(b, ADMIT_REQ_SUCCESS), ADMIT_RELEASE_WRONG_GENERATION);
    assert_int_equal(rel(c, ADMIT_REQ_SUCCESS), ADMIT_RELEASE_WRONG_GENERATION);
    assert_int_equal(rel(d2, ADMIT_REQ_SUCCESS), ADMIT_RELEASE_WRONG_GENERATION);
    assert_int_equal(rel(e, ADMIT_REQ_RATE_LIMITED), ADMIT_RELEASE_WRONG_GENERATION);
    EXPECT_KINDS(mark, EV(RELEASE_DIAGNOSTIC), EV(RELEASE_DIAGNOSTIC), EV(RELEASE_DIAGNOSTIC),
                 EV(RELEASE_DIAGNOSTIC));
    assert_int_equal(EVS[mark].reason, ADMIT_RELEASE_WRONG_GENERATION);
    assert_int_equal(snap(r).in_flight, 0);
    assert_int_equal(snap(r).blocked_until_ns, -1); /* e's rate limit was not applied */
    /* New leases work and carry the new generation. */
    admit_request_lease f = take(r);
    assert_int_equal(f.generation, b.generation + 1);
    rel_ok(f);
    assert_int_equal(rel(f, ADMIT_REQ_SUCCESS), ADMIT_RELEASE_DUPLICATE);
    admit_request_admission_stats st = stats();
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_RELEASED], 2);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_DUPLICATE], 2);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_STALE_LEASE], 1);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_UNKNOWN_LEASE], 3);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_WRONG_GENERATION], 4);
    assert_int_equal(st.leases_active, 0);
    assert_sequences_consecutive();
}

/* ---- events and correlation ------------------------------------------------ */

static admit_request_context sample_ctx(uint64_t run_id) {
    return (admit_request_context){.corr = {.run_id = run_id,
                                            .row_group = 3,
                                            .column = 2,
                                            .task_type = 1,
                                            .group = 4,
                                            .group_kind = 1,
                                            .group_identity_hash = 0xABCDEF12345ULL,
                                            .task_execution_id = 55},
                                   .task_id = 9,
                                   .attempt_id = 2};
}

static void assert_ctx(const admit_event *e, const admit_request_context *x, uint64_t run_id) {
    assert_int_equal(e->task_id, x->task_id);
    assert_int_equal(e->attempt_id, x->attempt_id);
    assert_int_equal(e->corr.run_id, run_id);
    assert_int_equal(e->corr.row_group, x->corr.row_group);
    assert_int_equal(e->corr.column, x->corr.column);
    assert_int_equal(e->corr.task_type, x->corr.task_type);
    assert_int_equal(e->corr.group, x->corr.group);
    assert_int_equal(e->corr.group_kind, x->corr.group_kind);
    assert_int_equal(e->corr.group_identity_hash, x->corr.group_identity_hash);
    assert_int_equal(e->corr.task_execution_id, x->corr.task_execution_id);
}

/* An immediate acquisition still reports a (zero) wait: wait_started and
** wait_completed at the same instant, then lease_acquired; each event of the
** attempt carries the item's correlation. */
static void test_immediate_acquire_events_and_correlation(void **state) {
    (void)state;
    uint32_t r = fx_chat(2);
    fx_start_default();
    F.now = 10 * SEC;
    admit_request_item it = item_of(r);
    it.ctx = sample_ctx(77);
    admit_request_result res;
    size_t mark = F.nevents;
    assert_int_equal(admit_request_admission_acquire_async(F.c, &it, on_done, &D[0], &res, NULL),
                     ADMIT_REQ_ADMITTED);
    assert_true(res.admitted);
    assert_int_equal(res.wait_started_ns, 10 * SEC);
    assert_int_equal(res.wait_completed_ns, 10 * SEC);
    assert_int_equal(D[0].calls, 0); /* no completion for an immediate admission */
    EXPECT_KINDS(mark, EV(WAIT_STARTED), EV(WAIT_COMPLETED), EV(LEASE_ACQUIRED));
    for (size_t i = mark; i < mark + 3; i++) {
        assert_int_equal(EVS[i].captured_at_ns, 10 * SEC);
        assert_int_equal(EVS[i].resource, (int)r);
        assert_ctx(&EVS[i], &it.ctx, 77);
    }
    assert_int_equal(EVS[mark + 1].value, 0); /* waited 0 ns */
    assert_int_equal(EVS[mark + 2].lease_id, res.lease.lease_id);
    assert_int_equal(EVS[mark + 2].value, 1); /* in flight */

    F.now = 11 * SEC;
    mark = F.nevents;
    rel_rl(res.lease, 0);
    EXPECT_KINDS(mark, EV(RATE_LIMITED), EV(LIMIT_DECREASED), EV(LEASE_RELEASED));
    assert_ctx(&EVS[mark], &it.ctx, 77);
    assert_ctx(&EVS[mark + 2], &it.ctx, 77);
    assert_int_equal(EVS[mark + 2].lease_id, res.lease.lease_id);
    assert_int_equal(EVS[mark + 2].captured_at_ns, 11 * SEC);
    /* The limit change belongs to the resource, not to the attempt. */
    assert_int_equal(EVS[mark + 1].task_id, 0);
    assert_int_equal(EVS[mark + 1].attempt_id, 0);
    assert_int_equal(EVS[mark + 1].corr.run_id, 5);
    assert_int_equal(EVS[mark + 1].corr.row_group, -1);

    /* acquire_sync that need not wait: the same three events; a context
    ** without a run id gets the controller's. */
    F.now = 20 * SEC;
    it.ctx = sample_ctx(0);
    it.ctx.attempt_id = 3;
    admit_request_lease l;
    admit_request_denied d;
    mark = F.nevents;
    assert_true(admit_request_admission_acquire_sync(F.c, &it, NULL, &l, &d));
    EXPECT_KINDS(mark, EV(WAIT_STARTED), EV(WAIT_COMPLETED), EV(LEASE_ACQUIRED));
    for (size_t i = mark; i < mark + 3; i++) {
        assert_int_equal(EVS[i].captured_at_ns, 20 * SEC);
        assert_ctx(&EVS[i], &it.ctx, 5);
    }
    assert_int_equal(EVS[mark + 2].lease_id, l.lease_id);

    /* The executor's own events go through the same stream. */
    F.now = 21 * SEC;
    mark = F.nevents;
    admit_request_admission_emit(F.c, ADMIT_REV_MODEL_REQUEST_STARTED, r, &it.ctx, l.lease_id, -1,
                                 123);
    EXPECT_KINDS(mark, ADMIT_REV_MODEL_REQUEST_STARTED);
    assert_int_equal(EVS[mark].captured_at_ns, 21 * SEC);
    assert_int_equal(EVS[mark].value, 123);
    assert_int_equal(EVS[mark].lease_id, l.lease_id);
    assert_ctx(&EVS[mark], &it.ctx, 5);
    rel_ok(l);
    assert_sequences_consecutive();
    assert_int_equal(stats().events_emitted, F.nevents);
}

static void test_queued_acquire_events(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_default();
    size_t mark = F.nevents;
    admit_request_lease l = take(r); /* try_acquire never waits: no wait events */
    EXPECT_KINDS(mark, EV(LEASE_ACQUIRED));
    F.now = 1 * SEC;
    admit_request_item a = item_of(r), b = item_of(r);
    a.ctx.task_id = 1;
    b.ctx.task_id = 2;
    mark = F.nevents;
    queue_item(&a, &D[1]);
    EXPECT_KINDS(mark, EV(WAIT_STARTED), EV(QUEUE_FORMED));
    assert_int_equal(EVS[mark].value, 1);
    assert_int_equal(EVS[mark].task_id, 1);
    assert_int_equal(EVS[mark + 1].value, 1);
    mark = F.nevents;
    queue_item(&b, &D[2]);
    EXPECT_KINDS(mark, EV(WAIT_STARTED));
    assert_int_equal(EVS[mark].value, 2);

    F.now = 3 * SEC;
    mark = F.nevents;
    rel_ok(l);
    EXPECT_KINDS(mark, EV(LEASE_RELEASED), EV(WAIT_COMPLETED), EV(LEASE_ACQUIRED));
    assert_int_equal(EVS[mark + 1].task_id, 1);
    assert_int_equal(EVS[mark + 1].value, 2 * SEC);
    assert_int_equal(EVS[mark + 2].task_id, 1);
    assert_int_equal(EVS[mark + 2].lease_id, D[1].res.lease.lease_id);
    assert_int_equal(D[1].res.wait_started_ns, 1 * SEC);
    assert_int_equal(D[1].res.wait_completed_ns, 3 * SEC);

    F.now = 4 * SEC;
    mark = F.nevents;
    rel_ok(D[1].res.lease);
    EXPECT_KINDS(mark, EV(LEASE_RELEASED), EV(WAIT_COMPLETED), EV(LEASE_ACQUIRED),
                 EV(QUEUE_DRAINED));
    assert_int_equal(EVS[mark].task_id, 1);
    assert_int_equal(EVS[mark + 1].task_id, 2);
    assert_int_equal(EVS[mark + 1].value, 3 * SEC);
    assert_int_equal(EVS[mark + 2].task_id, 2);
    assert_int_equal(EVS[mark + 3].resource, (int)r);
    rel_ok(D[2].res.lease);
    assert_sequences_consecutive();
}

/* ---- shutdown and destroy -------------------------------------------------- */

static void test_shutdown(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_default();
    admit_request_lease l = take(r);
    queue_on(r, &D[1]);
    queue_on(r, &D[2]);
    F.now = 1 * SEC;
    size_t mark = F.nevents;
    admit_request_admission_shutdown(F.c);
    for (int i = 1; i <= 2; i++) {
        assert_int_equal(D[i].calls, 1);
        assert_false(D[i].res.admitted);
        assert_int_equal(D[i].res.denied.reason, ADMIT_REQ_DENY_SHUTDOWN);
        assert_int_equal(D[i].res.wait_completed_ns, 1 * SEC);
    }
    assert_int_equal(D[1].order, 1);
    EXPECT_KINDS(mark, EV(WAIT_CANCELLED), EV(WAIT_CANCELLED), EV(QUEUE_DRAINED));
    assert_int_equal(EVS[mark].reason, ADMIT_REQ_DENY_SHUTDOWN);
    assert_int_equal(EVS[mark + 1].reason, ADMIT_REQ_DENY_SHUTDOWN);
    assert_int_equal(stats().waiters_queued, 0);

    /* Later acquires of every kind are denied shutdown. */
    assert_int_equal(try_deny(r).reason, ADMIT_REQ_DENY_SHUTDOWN);
    admit_request_item it = item_of(r);
    admit_request_result res;
    assert_int_equal(admit_request_admission_acquire_async(F.c, &it, on_done, &D[3], &res, NULL),
                     ADMIT_REQ_DENIED);
    assert_int_equal(res.denied.reason, ADMIT_REQ_DENY_SHUTDOWN);
    assert_int_equal(D[3].calls, 0);
    admit_request_lease sl;
    admit_request_denied sd;
    assert_false(admit_request_admission_acquire_sync(F.c, &it, NULL, &sl, &sd));
    assert_int_equal(sd.reason, ADMIT_REQ_DENY_SHUTDOWN);
    /* Releases still work. */
    rel_ok(l);
    assert_int_equal(snap(r).in_flight, 0);
    assert_int_equal(try_deny(r).reason, ADMIT_REQ_DENY_SHUTDOWN);
    admit_request_admission_shutdown(F.c); /* idempotent */
    tick_at(10 * SEC);
    admit_request_admission_stats st = stats();
    assert_int_equal(st.denied[ADMIT_REQ_DENY_SHUTDOWN], 6);
    assert_int_equal(st.leases_active, 0);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_RELEASED], 1);
    assert_sequences_consecutive();
}

static void test_destroy_denies_queued_waiters(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_default();
    take(r);
    queue_on(r, &D[1]);
    size_t mark = F.nevents;
    admit_request_admission_destroy(F.c);
    F.c = NULL;
    assert_int_equal(D[1].calls, 1);
    assert_false(D[1].res.admitted);
    assert_int_equal(D[1].res.denied.reason, ADMIT_REQ_DENY_SHUTDOWN);
    assert_int_equal(ev_count(mark, EV(WAIT_CANCELLED)), 1);
}

/* ---- re-entrant completions ------------------------------------------------ */

static void then_release_own(done_rec *d) {
    if (d->res.admitted) d->rel = rel(d->res.lease, ADMIT_REQ_SUCCESS);
}

static void then_acquire_then_release(done_rec *d) {
    admit_request_item it = item_of(0);
    admit_request_result res;
    d->status =
        admit_request_admission_acquire_async(F.c, &it, on_done, d->other, &res, &d->other->wait);
    if (d->res.admitted) d->rel = rel(d->res.lease, ADMIT_REQ_SUCCESS);
}

static void start_reentrant(bool thread_safe) {
    fx_chat(1);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.thread_safe = thread_safe; /* with the mutex a locked re-entry would deadlock */
    fx_start(&cfg);
}

/* W1's completion releases W1's lease, which admits W2 from inside the
** delivery of W1's completion. */
static void run_reenter_release(bool thread_safe) {
    start_reentrant(thread_safe);
    admit_request_lease l = take(0);
    D[1].then = then_release_own;
    D[1].rel = ADMIT_RELEASE_REASON_COUNT;
    queue_on(0, &D[1]);
    queue_on(0, &D[2]);
    size_t mark = F.nevents;
    rel_ok(l);
    assert_int_equal(D[1].calls, 1);
    assert_true(D[1].res.admitted);
    assert_int_equal(D[1].rel, ADMIT_RELEASE_RELEASED);
    assert_int_equal(D[2].calls, 1);
    assert_true(D[2].res.admitted);
    assert_int_equal(D[1].order, 1);
    assert_int_equal(D[2].order, 2);
    size_t a1 = ev_index(mark, EV(LEASE_ACQUIRED), D[1].res.lease.lease_id);
    size_t r1 = ev_index(mark, EV(LEASE_RELEASED), D[1].res.lease.lease_id);
    size_t a2 = ev_index(mark, EV(LEASE_ACQUIRED), D[2].res.lease.lease_id);
    assert_true(a1 < r1);
    assert_true(r1 < a2);
    assert_int_equal(snap(0).in_flight, 1);
    admit_request_admission_stats st = stats();
    assert_int_equal(st.leases_acquired, 3);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_RELEASED], 2);
    rel_ok(D[2].res.lease);
    assert_int_equal(stats().leases_active, 0);
    assert_sequences_consecutive();
    assert_int_equal(stats().events_emitted, F.nevents);
}

static void test_reenter_release_single_threaded(void **state) {
    (void)state;
    run_reenter_release(false);
}

static void test_reenter_release_thread_safe(void **state) {
    (void)state;
    run_reenter_release(true);
}

/* W1's completion acquires again (X queues behind the older W2) and then
** releases its own lease: W2 is admitted, then X after W2's release. */
static void run_reenter_acquire(bool thread_safe) {
    start_reentrant(thread_safe);
    admit_request_lease l = take(0);
    D[1].then = then_acquire_then_release;
    D[1].other = &D[3];
    D[1].status = ADMIT_REQ_ADMITTED;
    queue_on(0, &D[1]);
    queue_on(0, &D[2]);
    rel_ok(l);
    assert_int_equal(D[1].status, ADMIT_REQ_QUEUED);
    assert_int_equal(D[1].rel, ADMIT_RELEASE_RELEASED);
    assert_int_equal(admit_log_n, 2);
    assert_int_equal(admit_log[0], 1);
    assert_int_equal(admit_log[1], 2);
    assert_int_equal(D[3].calls, 0);
    assert_int_equal(snap(0).waiters, 1);
    rel_ok(D[2].res.lease);
    assert_int_equal(D[3].calls, 1);
    assert_true(D[3].res.admitted);
    assert_int_equal(admit_log_n, 3);
    assert_int_equal(admit_log[2], 3);
    rel_ok(D[3].res.lease);
    admit_request_admission_stats st = stats();
    assert_int_equal(st.leases_active, 0);
    assert_int_equal(st.waiters_queued, 0);
    assert_int_equal(st.leases_acquired, 4);
    assert_sequences_consecutive();
    assert_int_equal(stats().events_emitted, F.nevents);
}

static void test_reenter_acquire_single_threaded(void **state) {
    (void)state;
    run_reenter_acquire(false);
}

static void test_reenter_acquire_thread_safe(void **state) {
    (void)state;
    run_reenter_acquire(true);
}

/* ---- the read-only pressure view ------------------------------------------- */

static void test_pressure_view(void **state) {
    (void)state;
    uint32_t pm = fx_pm("m", "p", "m", 2);
    uint32_t chat = fx_res(pm, ADMIT_DOMAIN_CHAT);
    uint32_t emb = fx_res(pm, ADMIT_DOMAIN_EMBEDDING);
    fx_start_default();
    const admit_request_pressure *p = admit_request_admission_pressure(F.c);
    assert_false(admit_request_pressure_is_pressured(p, chat, F.now));
    admit_request_lease e1 = take(emb), e2 = take(emb);
    assert_int_equal(p->in_flight[chat], 0);
    assert_int_equal(p->pm_in_flight[pm], 2);
    assert_true(admit_request_pressure_is_pressured(p, chat, F.now)); /* aggregate full */
    rel_ok(e1);
    rel_ok(e2);
    assert_false(admit_request_pressure_is_pressured(p, chat, F.now));
    admit_request_lease c1 = take(chat);
    assert_false(admit_request_pressure_is_pressured(p, chat, F.now)); /* 1 < 2 */
    rel_rl(c1, 0);                                                     /* limit 1, until 2 s */
    assert_int_equal(p->in_flight[chat], 0);
    assert_int_equal(p->current_limit[chat], 1);
    assert_int_equal(p->blocked_until_ns[chat], 2 * SEC);
    assert_true(admit_request_pressure_is_pressured(p, chat, F.now)); /* cooling down */
    assert_false(admit_request_pressure_is_pressured(p, chat, 2 * SEC));
    assert_false(admit_request_pressure_is_pressured(p, emb, F.now));
    F.now = 2 * SEC;
    admit_request_lease c2 = take(chat);
    assert_true(admit_request_pressure_is_pressured(p, chat, F.now)); /* at the limit */
    queue_on(chat, &D[1]);
    assert_int_equal(p->waiters[chat], 1);
    assert_int_equal(p->pm_waiters[pm], 1);
    rel_ok(c2);
    assert_int_equal(p->waiters[chat], 0);
    assert_int_equal(p->pm_waiters[pm], 0);
    assert_int_equal(p->in_flight[chat], 1);
    rel_ok(D[1].res.lease);
    assert_false(admit_request_pressure_is_pressured(p, 7, F.now));
}

/* During a startup ramp with nobody waiting no call applies the ramp's
** steps, yet the view reports the limit in force now: ProviderAware must
** not see a resource at its limit once the ramp has raised it.  Reading
** changes nothing (no event, the stored limit stays). */
static void test_pressure_view_counts_due_ramp_steps(void **state) {
    (void)state;
    uint32_t pm = fx_pm("m", "p", "m", 3);
    uint32_t chat = fx_res(pm, ADMIT_DOMAIN_CHAT);
    uint32_t emb = fx_res(pm, ADMIT_DOMAIN_EMBEDDING);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.aimd.startup_ramp_ns = 2 * SEC; /* limits 1, 2 at 1 s, 3 at 2 s */
    fx_start(&cfg);
    const admit_request_pressure *p = admit_request_admission_pressure(F.c);
    admit_request_lease l = take(chat);
    assert_int_equal(admit_request_pressure_limit(p, chat, F.now), 1);
    assert_true(admit_request_pressure_is_pressured(p, chat, F.now)); /* 1 of 1 */
    size_t mark = F.nevents;
    assert_int_equal(admit_request_pressure_limit(p, chat, 1 * SEC - 1), 1);
    assert_true(admit_request_pressure_is_pressured(p, chat, 1 * SEC - 1));
    assert_int_equal(admit_request_pressure_limit(p, chat, 1 * SEC), 2);
    assert_false(admit_request_pressure_is_pressured(p, chat, 1 * SEC)); /* 1 of 2 */
    assert_int_equal(admit_request_pressure_limit(p, chat, 5 * SEC), 3);
    assert_int_equal(admit_request_pressure_limit(p, emb, 1500 * MS), 2);
    assert_int_equal(admit_request_pressure_limit(p, 9, 5 * SEC), 0);
    EXPECT_NO_EVENTS(mark);
    assert_int_equal(p->current_limit[chat], 1); /* not applied by reading */
    assert_true(p->ramping[chat]);
    /* A call that touches chat applies the step: the view agrees with itself. */
    F.now = 1 * SEC;
    admit_request_lease l2 = take(chat);
    assert_int_equal(p->current_limit[chat], 2);
    assert_int_equal(admit_request_pressure_limit(p, chat, F.now), 2);
    assert_true(admit_request_pressure_is_pressured(p, chat, F.now)); /* 2 of 2 */
    /* A rate limit ends the ramp: no later step is counted. */
    rel_rl(l2, 0); /* limit 1, cooling until 3 s */
    assert_false(p->ramping[chat]);
    assert_int_equal(admit_request_pressure_limit(p, chat, 5 * SEC), 1);
    assert_true(admit_request_pressure_is_pressured(p, chat, 5 * SEC)); /* 1 of 1 */
    /* The clamp bounds the ramp's limit too. */
    admit_request_admission_set_max_limit_clamp(F.c, emb, 1);
    assert_int_equal(admit_request_pressure_limit(p, emb, 5 * SEC), 1);
    rel_ok(l);
}

/* ---- acquire_sync: threaded controller on CLOCK_MONOTONIC ------------------ */

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static void sleep_ns(int64_t ns) {
    struct timespec ts = {.tv_sec = (time_t)(ns / SEC), .tv_nsec = (long)(ns % SEC)};
    nanosleep(&ts, NULL);
}

static void fx_start_threaded(int64_t cooldown_ns) {
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.thread_safe = true;
    cfg.now = NULL; /* CLOCK_MONOTONIC */
    cfg.clock_ctx = NULL;
    cfg.wake_at = NULL;
    cfg.aimd.cooldown_ns = cooldown_ns;
    fx_start(&cfg);
}

typedef struct sync_call {
    admit_request_item item;
    admit_request_cancel_token *token;
    bool ok;
    admit_request_lease lease;
    admit_request_denied denied;
    int64_t returned_ns;
    atomic_int done;
} sync_call;

static void *sync_thread(void *arg) {
    sync_call *sc = arg;
    sc->ok =
        admit_request_admission_acquire_sync(F.c, &sc->item, sc->token, &sc->lease, &sc->denied);
    sc->returned_ns = mono_ns();
    atomic_store(&sc->done, 1);
    return NULL;
}

static void start_sync(pthread_t *th, sync_call *sc, uint32_t r,
                       admit_request_cancel_token *token) {
    memset(sc, 0, sizeof *sc);
    sc->item = item_of(r);
    sc->token = token;
    atomic_init(&sc->done, 0);
    assert_int_equal(pthread_create(th, NULL, sync_thread, sc), 0);
}

static bool wait_waiters(uint32_t r, uint32_t n) {
    int64_t end = mono_ns() + 5 * SEC;
    while (snap(r).waiters != n)
        if (mono_ns() > end)
            return false;
        else
            sleep_ns(200000);
    return true;
}

/* Joins th; if acquire_sync has not returned within timeout, shuts the
** controller down (which wakes it), joins, and fails. */
static void join_sync(pthread_t th, sync_call *sc, int64_t timeout, const char *what) {
    int64_t end = mono_ns() + timeout;
    while (!atomic_load(&sc->done) && mono_ns() < end)
        sleep_ns(200000);
    if (!atomic_load(&sc->done)) {
        admit_request_admission_shutdown(F.c);
        pthread_join(th, NULL);
        fail_msg("%s: acquire_sync still blocked after %lld ms", what, (long long)(timeout / MS));
    }
    pthread_join(th, NULL);
}

static void test_sync_acquire_handoff(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_threaded(2 * SEC);
    admit_request_lease l = take(r);
    pthread_t th;
    sync_call sc;
    start_sync(&th, &sc, r, NULL);
    assert_true(wait_waiters(r, 1));
    rel_ok(l);
    join_sync(th, &sc, 5 * SEC, "release handoff");
    assert_true(sc.ok);
    assert_int_not_equal(sc.lease.lease_id, 0);
    assert_int_equal(snap(r).in_flight, 1);
    assert_int_equal(snap(r).waiters, 0);
    rel_ok(sc.lease);
    assert_int_equal(snap(r).in_flight, 0);
    size_t wc = ev_index(0, EV(WAIT_COMPLETED), sc.lease.lease_id);
    assert_true(EVS[wc].value >= 0);
    assert_sequences_consecutive();
}

/* The only lease comes back rate limited while a thread waits for capacity
** in acquire_sync: nothing is in flight, no release will come, and the
** waiter must still be admitted when the cooldown ends. */
static void test_sync_waiter_wakes_at_cooldown_end(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_threaded(20 * MS);
    admit_request_lease l = take(r);
    pthread_t th;
    sync_call sc;
    start_sync(&th, &sc, r, NULL);
    assert_true(wait_waiters(r, 1));
    int64_t released = mono_ns();
    rel_rl(l, 0);
    join_sync(th, &sc, 2 * SEC, "cooldown end with nothing in flight");
    assert_true(sc.ok);
    assert_true(sc.returned_ns - released >= 20 * MS);
    rel_ok(sc.lease);
    assert_int_equal(stats().leases_active, 0);
}

/* A thread blocked in cooldown (its timed wait already armed) is admitted at
** the cooldown end as well. */
static void test_sync_waiter_queued_during_cooldown(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_threaded(30 * MS);
    int64_t released = mono_ns();
    rel_rl(take(r), 0);
    pthread_t th;
    sync_call sc;
    start_sync(&th, &sc, r, NULL);
    join_sync(th, &sc, 2 * SEC, "queued during cooldown");
    assert_true(sc.ok);
    assert_true(sc.returned_ns - released >= 30 * MS);
    rel_ok(sc.lease);
}

static void test_sync_cancel_token_from_other_thread(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_threaded(2 * SEC);
    admit_request_lease l = take(r);
    admit_request_cancel_token token = {0};
    pthread_t th;
    sync_call sc;
    start_sync(&th, &sc, r, &token);
    assert_true(wait_waiters(r, 1));
    admit_request_admission_cancel_token(F.c, &token);
    join_sync(th, &sc, 5 * SEC, "cancel token");
    assert_false(sc.ok);
    assert_int_equal(sc.denied.reason, ADMIT_REQ_DENY_CANCELLATION);
    assert_int_equal(sc.lease.lease_id, 0);
    assert_int_equal(snap(r).waiters, 0);
    assert_int_equal(snap(r).in_flight, 1);
    size_t wc = ev_index(0, EV(WAIT_CANCELLED), 0);
    assert_int_equal(EVS[wc].reason, ADMIT_REQ_DENY_CANCELLATION);
    rel_ok(l);
    assert_int_equal(snap(r).in_flight, 0);
    /* An already cancelled token is denied without waiting, even with
    ** capacity free. */
    admit_request_item it = item_of(r);
    admit_request_lease l2;
    admit_request_denied d;
    assert_false(admit_request_admission_acquire_sync(F.c, &it, &token, &l2, &d));
    assert_int_equal(d.reason, ADMIT_REQ_DENY_CANCELLATION);
    admit_request_admission_stats st = stats();
    assert_int_equal(st.denied[ADMIT_REQ_DENY_CANCELLATION], 2);
    assert_int_equal(st.leases_active, 0);
    assert_int_equal(st.waiters_queued, 0);
    assert_sequences_consecutive();
}

static void test_sync_queue_timeout(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_threaded(2 * SEC);
    admit_request_lease l = take(r);
    admit_request_item it = item_of(r);
    it.queue_wait_timeout_ns = 30 * MS;
    admit_request_lease l2;
    admit_request_denied d;
    int64_t t0 = mono_ns();
    assert_false(admit_request_admission_acquire_sync(F.c, &it, NULL, &l2, &d));
    int64_t waited = mono_ns() - t0;
    assert_int_equal(d.reason, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
    assert_int_equal(l2.lease_id, 0);
    assert_true(waited >= 30 * MS);
    assert_true(waited < 2 * SEC);
    size_t wt = ev_index(0, EV(WAIT_TIMEOUT), 0);
    assert_true(EVS[wt].value >= 30 * MS);
    assert_int_equal(snap(r).waiters, 0);
    rel_ok(l);
    assert_int_equal(stats().leases_active, 0);
}

/* A clock the test can move ahead of CLOCK_MONOTONIC: a blocked acquire_sync
** sleeps on the real clock, so it stays asleep while the controller's clock
** passes its deadline. */
static _Atomic int64_t clock_offset;

static int64_t offset_now(void *ctx) {
    (void)ctx;
    return mono_ns() + atomic_load(&clock_offset);
}

/* A release from another thread after a sync waiter's deadline, before that
** waiter's own timed wait has woken it, must time it out, not admit it. */
static void test_sync_waiter_times_out_on_release_after_deadline(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    atomic_store(&clock_offset, 0);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.thread_safe = true;
    cfg.now = offset_now;
    cfg.clock_ctx = NULL;
    cfg.wake_at = NULL;
    fx_start(&cfg);
    admit_request_lease l = take(r);
    pthread_t th;
    sync_call sc;
    memset(&sc, 0, sizeof sc);
    sc.item = item_of(r);
    sc.item.queue_wait_timeout_ns = 3600 * SEC; /* its timed wait sleeps an hour */
    atomic_init(&sc.done, 0);
    assert_int_equal(pthread_create(&th, NULL, sync_thread, &sc), 0);
    assert_true(wait_waiters(r, 1));
    atomic_store(&clock_offset, 3600 * SEC);
    rel_ok(l);
    join_sync(th, &sc, 5 * SEC, "release after the deadline");
    assert_false(sc.ok);
    assert_int_equal(sc.denied.reason, ADMIT_REQ_DENY_QUEUE_TIMEOUT);
    assert_int_equal(sc.lease.lease_id, 0);
    assert_int_equal(snap(r).in_flight, 0);
    assert_int_equal(stats().leases_active, 0);
}

static void test_sync_shutdown_wakes_waiter(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_threaded(2 * SEC);
    admit_request_lease l = take(r);
    pthread_t th;
    sync_call sc;
    start_sync(&th, &sc, r, NULL);
    assert_true(wait_waiters(r, 1));
    admit_request_admission_shutdown(F.c);
    join_sync(th, &sc, 5 * SEC, "shutdown");
    assert_false(sc.ok);
    assert_int_equal(sc.denied.reason, ADMIT_REQ_DENY_SHUTDOWN);
    rel_ok(l);
    assert_int_equal(stats().leases_active, 0);
}

/* Without thread_safe, acquire_sync cannot block: it admits when it can and
** is otherwise denied at once, leaving nothing queued. */
static void test_sync_without_thread_safe(void **state) {
    (void)state;
    uint32_t r = fx_chat(1);
    fx_start_default();
    admit_request_item it = item_of(r);
    admit_request_lease l, l2;
    admit_request_denied d;
    assert_true(admit_request_admission_acquire_sync(F.c, &it, NULL, &l, &d));
    assert_false(admit_request_admission_acquire_sync(F.c, &it, NULL, &l2, &d));
    assert_int_equal(d.reason, ADMIT_REQ_DENY_HARD_POLICY);
    assert_int_equal(l2.lease_id, 0);
    assert_int_equal(snap(r).waiters, 0);
    assert_int_equal(stats().waiters_queued, 0);
    rel_ok(l);
}

/* ---- attribution of events that belong to no resource ---------------------- */

/* A denial for an unknown resource, or a diagnostic for a lease that never
** existed, has no resource (-1), rather than being charged to resource 0; a
** duplicate release is charged to its lease's resource. */
static void test_unattributable_events_have_no_resource(void **state) {
    (void)state;
    uint32_t pm = fx_pm("m", "p", "m", 2);
    fx_res(pm, ADMIT_DOMAIN_CHAT);
    uint32_t emb = fx_res(pm, ADMIT_DOMAIN_EMBEDDING);
    fx_start_default();
    admit_request_lease l = take(emb);
    rel_ok(l);
    size_t mark = F.nevents;
    assert_int_equal(rel(l, ADMIT_REQ_SUCCESS), ADMIT_RELEASE_DUPLICATE);
    EXPECT_KINDS(mark, EV(RELEASE_DIAGNOSTIC));
    assert_int_equal(EVS[mark].resource, (int)emb);
    mark = F.nevents;
    assert_int_equal(try_deny(9).reason, ADMIT_REQ_DENY_HARD_POLICY);
    EXPECT_KINDS(mark, EV(ACQUIRE_DENIED));
    assert_int_equal(EVS[mark].resource, -1);
    mark = F.nevents;
    assert_int_equal(rel((admit_request_lease){0}, ADMIT_REQ_SUCCESS), ADMIT_RELEASE_UNKNOWN_LEASE);
    EXPECT_KINDS(mark, EV(RELEASE_DIAGNOSTIC));
    assert_int_equal(EVS[mark].resource, -1);
}

/* ---- arithmetic at the extremes --------------------------------------------- */

/* A huge retry_after (a provider's "come back much later") or cooldown must
** block for a long time, not wrap around into "not blocked"; a huge queue
** timeout is "practically never".  Runs last: signed overflow here aborts a
** UBSan build. */
static void test_huge_durations_saturate(void **state) {
    (void)state;
    uint32_t pm = fx_pm("m", "p", "m", 1);
    uint32_t chat = fx_res(pm, ADMIT_DOMAIN_CHAT);
    uint32_t emb = fx_res(pm, ADMIT_DOMAIN_EMBEDDING);
    admit_request_admission_config cfg;
    fx_config(&cfg);
    cfg.aimd.cooldown_ns = INT64_MAX;
    fx_start(&cfg);
    F.now = 1 * SEC;
    rel_rl(take(chat), INT64_MAX);
    F.now = 3600 * SEC;
    assert_int_equal(try_deny(chat).reason, ADMIT_REQ_DENY_COOLDOWN);
    assert_true(snap(chat).blocked_until_ns > F.now);
    assert_true(snap(chat).cooldown_total_ns > 0);
    rel_rl(take(emb), 0); /* the configured (huge) cooldown */
    F.now = 7200 * SEC;
    assert_int_equal(try_deny(emb).reason, ADMIT_REQ_DENY_COOLDOWN);
    admit_request_item it = item_of(emb);
    it.queue_wait_timeout_ns = INT64_MAX;
    queue_item(&it, &D[1]);
    for (int i = 0; i < F.nwakes; i++)
        assert_true(F.wakes[i] >= 1 * SEC);
    tick_at(100000 * SEC);
    assert_int_equal(D[1].calls, 0);
    assert_true(admit_request_admission_cancel(F.c, D[1].wait));
}

/* ---- pthread stress ---------------------------------------------------------- */

#define STRESS_THREADS 8
#define STRESS_RES     4

typedef struct stress_sink {
    pthread_mutex_t mu;
    uint64_t count;
    uint64_t seq_errors;
    uint64_t last;
} stress_sink;

typedef struct stress_ctx {
    admit_request_admission *c;
    uint32_t res[STRESS_RES];
    long attempts;
    pthread_mutex_t tok_mu[STRESS_THREADS];
    admit_request_cancel_token *tok_cur[STRESS_THREADS];
    atomic_ulong progress;
    atomic_int finished;
    atomic_int stop;
    uint64_t cancels_sent;
} stress_ctx;

typedef struct stress_worker {
    stress_ctx *sx;
    int id;
    uint64_t rng;
    uint64_t acquired;
    uint64_t denied[ADMIT_REQ_DENY_REASON_COUNT];
    uint64_t outcomes[ADMIT_REQ_OUTCOME_COUNT];
    uint64_t bad_releases;
    uint64_t cap_violations;
    uint64_t checks;
} stress_worker;

static void stress_sink_fn(void *ctx, const admit_event *e) {
    stress_sink *s = ctx;
    pthread_mutex_lock(&s->mu);
    if (s->count > 0 && e->sequence != s->last + 1) s->seq_errors++;
    s->last = e->sequence;
    s->count++;
    pthread_mutex_unlock(&s->mu);
}

static uint64_t xorshift(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void *stress_worker_fn(void *arg) {
    stress_worker *w = arg;
    stress_ctx *sx = w->sx;
    for (long i = 0; i < sx->attempts; i++) {
        uint64_t x = xorshift(&w->rng);
        uint32_t r = sx->res[x % STRESS_RES];
        admit_request_item it = item_of(r);
        it.ctx.task_id = (uint64_t)w->id + 1;
        it.ctx.attempt_id = (uint64_t)i + 1;
        unsigned mode = (unsigned)((x >> 8) % 8);
        if (mode < 2) it.queue_wait_timeout_ns = 2 * MS + (int64_t)((x >> 16) % (2 * MS));
        admit_request_cancel_token token = {0};
        bool use_token = mode >= 2 && mode < 4;
        if (use_token) {
            pthread_mutex_lock(&sx->tok_mu[w->id]);
            sx->tok_cur[w->id] = &token;
            pthread_mutex_unlock(&sx->tok_mu[w->id]);
        }
        admit_request_lease l;
        admit_request_denied d;
        bool ok =
            admit_request_admission_acquire_sync(sx->c, &it, use_token ? &token : NULL, &l, &d);
        if (use_token) {
            pthread_mutex_lock(&sx->tok_mu[w->id]);
            sx->tok_cur[w->id] = NULL;
            pthread_mutex_unlock(&sx->tok_mu[w->id]);
        }
        if (!ok) {
            w->denied[d.reason < ADMIT_REQ_DENY_REASON_COUNT ? d.reason : 0]++;
            atomic_fetch_add(&sx->progress, 1);
            continue;
        }
        w->acquired++;
        if ((x >> 24) % 4 == 0) {
            admit_request_resource_snapshot s;
            admit_request_admission_snapshot(sx->c, r, &s);
            w->checks++;
            if (s.in_flight > s.effective_max || s.pm_in_flight > s.pm_cap || s.in_flight == 0 ||
                s.max_in_flight > s.effective_max)
                w->cap_violations++;
        }
        unsigned hold = (unsigned)((x >> 32) % 16);
        if (hold >= 8 && hold < 14) {
            volatile unsigned spin = 0;
            for (unsigned k = (unsigned)((x >> 40) % 256); k > 0; k--)
                spin += k;
            (void)spin; /* read once: clang calls a volatile only written unused */
        } else if (hold >= 14) {
            sched_yield();
        }
        unsigned p = (unsigned)((x >> 44) % 1000);
        admit_request_outcome o = {.kind = ADMIT_REQ_SUCCESS, .retry_after_ns = 0};
        if (p >= 930 && p < 935) {
            o.kind = ADMIT_REQ_RATE_LIMITED;
        } else if (p >= 935 && p < 940) {
            o.kind = ADMIT_REQ_RATE_LIMITED;
            o.retry_after_ns = 500000; /* 0.5 ms */
        } else if (p >= 940 && p < 970) {
            o.kind = ADMIT_REQ_PROVIDER_FAILURE;
        } else if (p >= 970) {
            o.kind = ADMIT_REQ_LOCAL_CANCELLED;
        }
        if (admit_request_admission_release(sx->c, l, o) != ADMIT_RELEASE_RELEASED)
            w->bad_releases++;
        w->outcomes[o.kind]++;
        atomic_fetch_add(&sx->progress, 1);
    }
    atomic_fetch_add(&sx->finished, 1);
    return NULL;
}

static void *stress_canceller_fn(void *arg) {
    stress_ctx *sx = arg;
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    while (!atomic_load(&sx->stop)) {
        sleep_ns(200000);
        int t = (int)(xorshift(&rng) % STRESS_THREADS);
        pthread_mutex_lock(&sx->tok_mu[t]);
        if (sx->tok_cur[t]) {
            admit_request_admission_cancel_token(sx->c, sx->tok_cur[t]);
            sx->cancels_sent++;
        }
        pthread_mutex_unlock(&sx->tok_mu[t]);
    }
    return NULL;
}

static stress_ctx SX;
static stress_worker SW[STRESS_THREADS];
static stress_sink SS;

/* 8 threads x 100,000 attempts (times ADMIT_STRESS_SCALE) of acquire_sync /
** hold / release over 2 providers x 2 domains with small caps, timeouts,
** cancel tokens, rate limits with short cooldowns.  A watchdog shuts the
** controller down if no attempt finishes for 5 s (a lost wakeup) so the test
** fails instead of hanging. */
static void test_stress_threads(void **state) {
    (void)state;
    double scale = 1.0;
    const char *env = getenv("ADMIT_STRESS_SCALE");
    if (env && strtod(env, NULL) > 0) scale = strtod(env, NULL);
    long attempts = (long)(100000 * scale);
    if (attempts < 1) attempts = 1;

    uint32_t p1 = fx_pm("a", "prov1", "m", 3);
    uint32_t p2 = fx_pm("b", "prov2", "m", 4);
    memset(&SX, 0, sizeof SX);
    memset(SW, 0, sizeof SW);
    memset(&SS, 0, sizeof SS);
    SX.res[0] = fx_res(p1, ADMIT_DOMAIN_CHAT);
    SX.res[1] = fx_res(p1, ADMIT_DOMAIN_EMBEDDING);
    SX.res[2] = fx_res(p2, ADMIT_DOMAIN_CHAT);
    SX.res[3] = fx_res(p2, ADMIT_DOMAIN_EMBEDDING);
    const admit_request_resource_limits limits[STRESS_RES] = {
        {0, 0}, {0, 2}, {0, 0}, {3, 0}}; /* emax 3, 2, 4, 4 (initial 3) */
    pthread_mutex_init(&SS.mu, NULL);
    admit_request_admission_config cfg;
    admit_request_admission_config_init(&cfg);
    cfg.resolver = F.rr;
    cfg.limits = limits;
    cfg.thread_safe = true;
    cfg.aimd.cooldown_ns = 1 * MS;
    cfg.waiter_capacity = 2; /* grows under load */
    cfg.sink = (admit_event_sink){.fn = stress_sink_fn, .ctx = &SS};
    admit_error err = {0};
    F.c = admit_request_admission_create(&cfg, &err);
    if (!F.c) fail_msg("create: %s", err.message);
    SX.c = F.c;
    SX.attempts = attempts;
    for (int t = 0; t < STRESS_THREADS; t++)
        pthread_mutex_init(&SX.tok_mu[t], NULL);
    atomic_init(&SX.progress, 0);
    atomic_init(&SX.finished, 0);
    atomic_init(&SX.stop, 0);

    int64_t t0 = mono_ns();
    pthread_t th[STRESS_THREADS], canceller;
    for (int t = 0; t < STRESS_THREADS; t++) {
        SW[t] = (stress_worker){.sx = &SX, .id = t, .rng = 0x1234567ULL * (uint64_t)(t + 1)};
        assert_int_equal(pthread_create(&th[t], NULL, stress_worker_fn, &SW[t]), 0);
    }
    assert_int_equal(pthread_create(&canceller, NULL, stress_canceller_fn, &SX), 0);
    bool stalled = false;
    unsigned long last = 0;
    int64_t last_change = mono_ns();
    while (atomic_load(&SX.finished) < STRESS_THREADS) {
        sleep_ns(20 * MS);
        unsigned long now_p = atomic_load(&SX.progress);
        if (now_p != last) {
            last = now_p;
            last_change = mono_ns();
        } else if (!stalled && mono_ns() - last_change > 5 * SEC) {
            stalled = true;
            print_message("  stress: no progress for 5 s after %lu attempts; shutting down\n",
                          now_p);
            admit_request_admission_shutdown(F.c);
        }
    }
    for (int t = 0; t < STRESS_THREADS; t++)
        pthread_join(th[t], NULL);
    atomic_store(&SX.stop, 1);
    pthread_join(canceller, NULL);
    int64_t elapsed = mono_ns() - t0;

    uint64_t acquired = 0, bad = 0, viol = 0, checks = 0;
    uint64_t denied[ADMIT_REQ_DENY_REASON_COUNT] = {0}, outcomes[ADMIT_REQ_OUTCOME_COUNT] = {0};
    for (int t = 0; t < STRESS_THREADS; t++) {
        acquired += SW[t].acquired;
        bad += SW[t].bad_releases;
        viol += SW[t].cap_violations;
        checks += SW[t].checks;
        for (int k = 0; k < ADMIT_REQ_DENY_REASON_COUNT; k++)
            denied[k] += SW[t].denied[k];
        for (int k = 0; k < ADMIT_REQ_OUTCOME_COUNT; k++)
            outcomes[k] += SW[t].outcomes[k];
    }
    admit_request_admission_stats st = stats();
    print_message("  stress: %ld attempts x %d threads in %.2f s: %llu leases, denied "
                  "timeout %llu cancel %llu shutdown %llu, %llu rate limits, %llu cancels sent, "
                  "%llu events\n",
                  attempts, STRESS_THREADS, (double)elapsed / SEC, (unsigned long long)acquired,
                  (unsigned long long)denied[ADMIT_REQ_DENY_QUEUE_TIMEOUT],
                  (unsigned long long)denied[ADMIT_REQ_DENY_CANCELLATION],
                  (unsigned long long)denied[ADMIT_REQ_DENY_SHUTDOWN],
                  (unsigned long long)outcomes[ADMIT_REQ_RATE_LIMITED],
                  (unsigned long long)SX.cancels_sent, (unsigned long long)SS.count);
    assert_false(stalled);
    /* Every attempt is a lease or a denial. */
    uint64_t total_denied = 0;
    for (int k = 0; k < ADMIT_REQ_DENY_REASON_COUNT; k++)
        total_denied += denied[k];
    assert_int_equal(acquired + total_denied, (uint64_t)attempts * STRESS_THREADS);
    assert_int_equal(bad, 0);
    assert_int_equal(viol, 0);
    assert_int_equal(st.leases_active, 0);
    assert_int_equal(st.waiters_queued, 0);
    assert_int_equal(st.leases_acquired, acquired);
    assert_int_equal(st.release_reasons[ADMIT_RELEASE_RELEASED], acquired);
    for (int k = 1; k < ADMIT_RELEASE_REASON_COUNT; k++)
        assert_int_equal(st.release_reasons[k], 0);
    for (int k = 0; k < ADMIT_REQ_OUTCOME_COUNT; k++)
        assert_int_equal(st.outcomes[k], outcomes[k]);
    for (int k = 0; k < ADMIT_REQ_DENY_REASON_COUNT; k++)
        assert_int_equal(st.denied[k], denied[k]);
    uint64_t leases = 0, released = 0;
    for (int i = 0; i < STRESS_RES; i++) {
        admit_request_resource_snapshot s = snap(SX.res[i]);
        assert_int_equal(s.in_flight, 0);
        assert_int_equal(s.waiters, 0);
        assert_int_equal(s.pm_in_flight, 0);
        assert_true(s.max_in_flight <= s.effective_max);
        assert_true(s.max_in_flight >= 1);
        leases += s.leases;
        released += s.released;
    }
    assert_int_equal(snap(SX.res[0]).effective_max, 3);
    assert_int_equal(snap(SX.res[1]).effective_max, 2);
    assert_int_equal(snap(SX.res[3]).effective_max, 4);
    assert_int_equal(leases, acquired);
    assert_int_equal(released, acquired);
    assert_int_equal(SS.seq_errors, 0);
    assert_int_equal(SS.count, st.events_emitted);
    (void)checks;
    admit_request_admission_destroy(F.c);
    F.c = NULL;
    pthread_mutex_destroy(&SS.mu);
    for (int t = 0; t < STRESS_THREADS; t++)
        pthread_mutex_destroy(&SX.tok_mu[t]);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_config_defaults),
        T(test_config_validation),
        T(test_effective_max_and_initial_clamp),
        T(test_aimd_decrease_md_075),
        T(test_aimd_decrease_md_09),
        T(test_aimd_additive_increase),
        T(test_aimd_soft_ceiling_and_full_recovery),
        T(test_aimd_decrease_guard),
        T(test_aimd_cooldown_successes_do_not_count),
        T(test_aimd_retry_after),
        T(test_other_outcomes_are_not_pressure),
        T(test_ramp_formula),
        T(test_ramp_initial_one),
        T(test_ramp_successes_do_not_count),
        T(test_ramp_aborted_by_rate_limit),
        T(test_ramp_admits_queued_waiters_on_wake),
        T(test_ramp_wake_rounds_up),
        T(test_cooldown_expiry_wakes_waiter_with_nothing_in_flight),
        T(test_rate_limited_release_schedules_wake),
        T(test_aggregate_cap_across_domains),
        T(test_weighted_fairness_3_to_1),
        T(test_weighted_fairness_tie_goes_to_older_head),
        T(test_equal_weights_oldest_first),
        T(test_cancelled_head_gives_up_its_age),
        T(test_add_group_errors),
        T(test_add_group_error_messages),
        T(test_try_acquire_never_jumps_waiters),
        T(test_acquire_before_cooldown_tick_admits_waiter_first),
        T(test_release_before_cooldown_tick_admits_waiter_first),
        T(test_acquire_before_ramp_tick_admits_waiter_first),
        T(test_queue_timeout_item),
        T(test_queue_timeout_controller_default),
        T(test_release_at_deadline_times_out_waiter),
        T(test_clamp_raise_at_deadline_times_out_waiter),
        T(test_acquire_after_deadline_sees_waiter_gone),
        T(test_cancel_before_admission),
        T(test_cancel_zero_handle_names_no_waiter),
        T(test_cancel_after_admission),
        T(test_cancel_admitted_before_delivery),
        T(test_cancel_middle_and_head_waiters),
        T(test_many_completions_in_one_pump),
        T(test_many_deadlines),
        T(test_waiter_slab_growth),
        T(test_release_reasons),
        T(test_immediate_acquire_events_and_correlation),
        T(test_queued_acquire_events),
        T(test_shutdown),
        T(test_destroy_denies_queued_waiters),
        T(test_reenter_release_single_threaded),
        T(test_reenter_release_thread_safe),
        T(test_reenter_acquire_single_threaded),
        T(test_reenter_acquire_thread_safe),
        T(test_pressure_view),
        T(test_pressure_view_counts_due_ramp_steps),
        T(test_sync_acquire_handoff),
        T(test_sync_waiter_wakes_at_cooldown_end),
        T(test_sync_waiter_queued_during_cooldown),
        T(test_sync_cancel_token_from_other_thread),
        T(test_sync_queue_timeout),
        T(test_sync_waiter_times_out_on_release_after_deadline),
        T(test_sync_shutdown_wakes_waiter),
        T(test_sync_without_thread_safe),
        T(test_unattributable_events_have_no_resource),
        T(test_stress_threads),
        T(test_huge_durations_saturate), /* last: aborts a UBSan build */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
