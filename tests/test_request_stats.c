/* The request stage's figures computed from a run record's request stream
** (res/request_stats.h), on a hand-built stream whose figures are derived
** below by hand.
**
** Three request resources over a 5 s run: p/m/chat and p/m2/chat of provider
** p, q/x/chat of provider q; effective max 4 each, limit 4 at the start.
**   attempt 1  p/m   waits 0, calls [0, 1), success
**   attempt 2  p/m2  queued [0, 0.5), calls [0.5, 2), success
**   attempt 4  q/x   calls [1, 1.5), rate limited: q/x cools [1.5, 2.5), its
**                    limit drops to 3
**   attempt 5  q/x   queued at 1.6, times out at 2.1 (never admitted)
**   attempt 7  p/m2  calls [2.2, 2.4), success
**   attempt 3  p/m   calls [3, 4), success
**   attempt 6  q/x   admitted at 4.5, still calling when the run ends
** Busy: p [0, 2) + [2.2, 2.4) + [3, 4) = 3.2 s of 5 = 0.64; q [1, 1.5) +
** [4.5, 5) = 1 s = 0.2.  In flight (time-weighted): p/m 2/5, p/m2 1.7/5, q/x
** 1/5.  While q cools ([1.5, 2.5)): p/m2's last lease is at 2.2, so the
** window counts up to 2.2 (0.7 s), with one call in flight for 0.5 s of it:
** 0.5 / (0.7 x 4); p/m's last lease is at 3, one in flight for none of the
** window: 0 / (1 x 4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "res/request_stats.h"

#define S(x) ((int64_t)((x)*1e9 + 0.5))

typedef struct stream {
    admit_event ev[64];
    size_t n;
} stream;

static void add(stream *s, admit_request_event_kind kind, double t, int32_t resource,
                uint64_t attempt, int32_t reason, int64_t value) {
    assert_true(s->n < 64);
    s->ev[s->n] = (admit_event){.sequence = s->n + 1,
                                .captured_at_ns = S(t),
                                .stream = ADMIT_STREAM_REQUEST,
                                .kind = (uint16_t)kind,
                                .reason = reason,
                                .resource = resource,
                                .attempt_id = attempt,
                                .value = value};
    s->n++;
}

/* An admitted attempt: waits from `queued`, leased and calling from `start`. */
static void begin(stream *s, int32_t r, uint64_t a, double queued, double start) {
    add(s, ADMIT_REV_REQUEST_WAIT_STARTED, queued, r, a, -1, 0);
    add(s, ADMIT_REV_REQUEST_WAIT_COMPLETED, start, r, a, -1, 0);
    add(s, ADMIT_REV_REQUEST_LEASE_ACQUIRED, start, r, a, -1, 1);
    add(s, ADMIT_REV_MODEL_REQUEST_STARTED, start, r, a, -1, 0);
}

/* Its call ends at `end` with outcome; a rate limit cools the resource for
** 1 s and drops its limit to 3. */
static void finish(stream *s, int32_t r, uint64_t a, double end,
                   admit_request_outcome_kind outcome) {
    add(s, ADMIT_REV_MODEL_REQUEST_COMPLETED, end, r, a, (int32_t)outcome, 0);
    if (outcome == ADMIT_REQ_RATE_LIMITED) {
        add(s, ADMIT_REV_REQUEST_RATE_LIMITED, end, r, a, (int32_t)outcome, S(1.0));
        add(s, ADMIT_REV_REQUEST_LIMIT_DECREASED, end, r, 0, -1, 3);
    }
    add(s, ADMIT_REV_REQUEST_LEASE_RELEASED, end, r, a, (int32_t)outcome, 0);
}

static const run_config no_columns;

static res_run_record *record(stream *s) {
    static const char *const keys[] = {"p/m/chat", "p/m2/chat", "q/x/chat"};
    static const char *const providers[] = {"p", "p", "q"};
    res_run_record *r = res_run_record_create(&no_columns);
    assert_non_null(r);
    assert_true(res_run_record_shape(r, 1, 1, 3));
    for (int i = 0; i < 3; i++) {
        strcpy(r->request[i].key, keys[i]);
        strcpy(r->request[i].provider, providers[i]);
        r->request[i].initial.current_limit = 4;
        r->request[i].final.effective_max = 4;
    }
    r->wall_ns = S(5);
    for (size_t i = 0; i < s->n; i++)
        assert_true(res_run_record_add_event(r, &s->ev[i]));
    return r;
}

/* The run of the header comment, in stream (time) order. */
static void script(stream *s) {
    s->n = 0;
    begin(s, 0, 1, 0, 0);
    begin(s, 1, 2, 0, 0.5);
    finish(s, 0, 1, 1, ADMIT_REQ_SUCCESS);
    begin(s, 2, 4, 1, 1);
    finish(s, 2, 4, 1.5, ADMIT_REQ_RATE_LIMITED);
    add(s, ADMIT_REV_REQUEST_WAIT_STARTED, 1.6, 2, 5, -1, 1);
    finish(s, 1, 2, 2, ADMIT_REQ_SUCCESS);
    add(s, ADMIT_REV_REQUEST_WAIT_TIMEOUT, 2.1, 2, 5, ADMIT_REQ_DENY_QUEUE_TIMEOUT, S(0.5));
    begin(s, 1, 7, 2.2, 2.2);
    finish(s, 1, 7, 2.4, ADMIT_REQ_SUCCESS);
    begin(s, 0, 3, 3, 3);
    finish(s, 0, 3, 4, ADMIT_REQ_SUCCESS);
    begin(s, 2, 6, 4.5, 4.5);
}

static void test_figures(void **state) {
    (void)state;
    stream s;
    script(&s);
    res_run_record *r = record(&s);
    res_request_report *rep = res_request_report_compute(r);
    assert_non_null(rep);
    assert_int_equal(rep->attempt_order_violations, 0);

    const res_request_stats *m = &rep->resources[0], *m2 = &rep->resources[1],
                            *x = &rep->resources[2];
    assert_int_equal(m->attempts, 2);
    assert_int_equal(m->leases, 2);
    assert_int_equal(m->not_admitted, 0);
    assert_int_equal(m->outcomes[ADMIT_REQ_SUCCESS], 2);
    assert_int_equal(m2->attempts, 2);
    assert_int_equal(m2->wait_count, 2);
    int64_t w = m2->waits[0] + m2->waits[1];
    assert_int_equal(w, S(0.5)); /* attempt 2 queued half a second, attempt 7 not at all */
    /* x: attempt 4 (rate limited) and 5 (timed out) ended; 6 is still calling */
    assert_int_equal(x->attempts, 2);
    assert_int_equal(x->not_admitted, 1);
    assert_int_equal(x->leases, 2);
    assert_int_equal(x->outcomes[ADMIT_REQ_RATE_LIMITED], 1);
    assert_int_equal(x->in_flight_max, 1);

    assert_true(m->in_flight_mean == 2.0 / 5);
    assert_true(m2->in_flight_mean == (double)(S(1.5) + S(0.2)) / (double)S(5));
    assert_true(x->in_flight_mean == 1.0 / 5);

    assert_int_equal(x->cooldown_ns, S(1.0));
    assert_int_equal(m->cooldown_ns, 0);
    assert_int_equal(x->limit_point_count, 2);
    assert_int_equal(x->limit_points[0][0], 0);
    assert_int_equal(x->limit_points[0][1], 4);
    assert_int_equal(x->limit_points[1][0], S(1.5));
    assert_int_equal(x->limit_points[1][1], 3);
    assert_int_equal(m->limit_point_count, 1);

    assert_int_equal(m->others_cooling_ns, S(1.0));
    assert_true(m->utilization_while_others_cooling == 0);
    assert_int_equal(m2->others_cooling_ns, S(0.7));
    assert_true(m2->utilization_while_others_cooling == (double)S(0.5) / ((double)S(0.7) * 4.0));
    assert_true(x->utilization_while_others_cooling < 0); /* nobody else cooled */

    assert_int_equal(rep->provider_count, 2);
    assert_string_equal(rep->provider_names[0], "p");
    assert_string_equal(rep->provider_names[1], "q");
    assert_true(rep->provider_busy_fraction[0] == (double)S(3.2) / (double)S(5));
    assert_true(rep->provider_busy_fraction[1] == (double)S(1.0) / (double)S(5));
    res_request_report_free(rep);
    res_run_record_free(r);
}

/* An attempt whose own times go backwards is counted, not hidden. */
static void test_order_violation(void **state) {
    (void)state;
    stream s = {.n = 0};
    begin(&s, 0, 1, 0, 0.5);
    s.ev[3].captured_at_ns = S(0.7); /* its call starts after its lease: fine */
    finish(&s, 0, 1, 1, ADMIT_REQ_SUCCESS);
    begin(&s, 0, 2, 2, 2);
    finish(&s, 0, 2, 3, ADMIT_REQ_SUCCESS);
    s.ev[s.n - 2].captured_at_ns = S(1.5); /* attempt 2's call completes before it starts */
    res_run_record *r = record(&s);
    res_request_report *rep = res_request_report_compute(r);
    assert_non_null(rep);
    assert_int_equal(rep->attempt_order_violations, 1);
    assert_int_equal(rep->resources[0].attempts, 2);
    res_request_report_free(rep);
    res_run_record_free(r);
}

/* No request stream: every figure is zero, no provider is busy, nothing is
** undefined but the utilization while others cool. */
static void test_empty(void **state) {
    (void)state;
    stream s = {.n = 0};
    res_run_record *r = record(&s);
    res_request_report *rep = res_request_report_compute(r);
    assert_non_null(rep);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rep->resources[i].attempts, 0);
        assert_true(rep->resources[i].in_flight_mean == 0);
        assert_true(rep->resources[i].utilization_while_others_cooling < 0);
        assert_int_equal(rep->resources[i].limit_point_count, 1);
    }
    assert_true(rep->provider_busy_fraction[0] == 0 && rep->provider_busy_fraction[1] == 0);
    res_request_report_free(rep);
    res_run_record_free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_order_violation),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
