/*
** The correlated view's spilling builder against its keeping one, over
** random streams: random executions (ready..lease, spawn or a failed
** spawn, an end, one or two releases, some duplicate or stale), each with
** up to three request attempts (some events without the execution id, some
** naming another execution, cooldown windows with and without a value or
** an attempt), execution ids reused, then sorted by time with random ties
** across the streams, as a run interleaves them.  Some streams put an
** event of an execution after its release; the spilling builder must then
** either give exactly the keeping builder's rows (in row order when they
** stayed in memory, as a set when spilled) and metrics JSON, or fail with
** RES_ERUN, never differ; every other seed's stream comes as a run makes
** it (nothing of an execution after its release, no execution id reused,
** no attempt naming another execution) and must never fail.  Each seed runs with
*ADMITSIM_SPILL_AFTER 0 (the
** rows spilled once final), 1000 bytes (some kept, then spilled) and the
** default (kept).  Fixed seeds 1 .. N, N = 6000 x ADMIT_MODEL_SCALE.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/resources.h"
#include "res/correlated_view.h"
#include "res/spill.h"

enum { MAX_EVENTS = 600 };

typedef struct gen {
    admit_event ev[MAX_EVENTS];
    int n;
    uint64_t rs;
    bool clean; /* as a run makes them: nothing of an execution after its release */
} gen;

static unsigned rnd(gen *g) {
    g->rs = g->rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(g->rs >> 33);
}
static int R(gen *g, int n) {
    return (int)(rnd(g) % (unsigned)n);
}

static res_view_column cols[2];
static res_view_group groups[2];
static res_view_resource resources[2];
static const uint32_t amounts[4] = {1, 1, 1, 0};

static res_view_facts facts(void) {
    cols[0] = (res_view_column){.group = 0, .root = true, .cell_by_cell = true, .rows = 0};
    cols[1] = (res_view_column){.group = 1, .root = false, .cell_by_cell = true, .rows = 0};
    groups[0] = (res_view_group){"root", 1};
    groups[1] = (res_view_group){"down", 2};
    resources[0] = (res_view_resource){"submission", 2};
    resources[1] = (res_view_resource){"x", 1};
    return (res_view_facts){.submission_capacity = 2,
                            .records = 4,
                            .buffer_size = 2,
                            .cooldown_ns = 3,
                            .column_count = 2,
                            .columns = cols,
                            .group_count = 2,
                            .groups = groups,
                            .resource_count = 2,
                            .resources = resources,
                            .group_amounts = amounts};
}

static uint64_t task(int col, int row) {
    return admit_task_id((uint32_t)col, col ? ADMIT_TASK_CELL : ADMIT_TASK_FROM_SCRATCH, 0, row);
}

static admit_event *add(gen *g, uint16_t stream, int64_t t, int kind, int col, int row,
                        uint64_t exec) {
    admit_event *e = &g->ev[g->n++];
    *e = (admit_event){.captured_at_ns = t,
                       .stream = stream,
                       .kind = (uint16_t)kind,
                       .reason = -1,
                       .resource = -1,
                       .task_id = task(col, row),
                       .corr = {.row_group = row / 2,
                                .column = col,
                                .task_type = -1,
                                .group = col,
                                .group_kind = -1,
                                .task_execution_id = exec}};
    return e;
}
static admit_event *S(gen *g, int64_t t, int kind, int col, int row, uint64_t exec, uint64_t lease,
                      int64_t value) {
    admit_event *e = add(g, ADMIT_STREAM_SCHEDULER, t, kind, col, row, exec);
    e->lease_id = lease;
    e->value = value;
    return e;
}
static void Q(gen *g, int64_t t, int kind, int col, int row, uint64_t exec, uint64_t att,
              int64_t value, int res) {
    admit_event *e = add(g, ADMIT_STREAM_REQUEST, t, kind, col, row, exec);
    e->lease_id = e->attempt_id = att;
    e->value = value;
    e->resource = res;
}

/* Up to three attempts of exec from its spawn; the latest event's time. */
static int64_t attempts(gen *g, int col, int row, uint64_t exec, int nexec, uint64_t *att,
                        int64_t spawn, int64_t rel) {
    for (int a = R(g, 4); a > 0; a--) {
        uint64_t id = (*att)++;
        int64_t u = spawn - (R(g, 4) == 0) + R(g, 6);
        u = u < 0 ? 0 : u;
        int res = R(g, 2);
        uint64_t ex = !g->clean && R(g, 8) == 0 ? (uint64_t)(1 + R(g, nexec)) : exec;
        if (R(g, 3))
            Q(g, u, ADMIT_REV_REQUEST_WAIT_STARTED, col, row, R(g, 6) ? ex : 0, id, 0, res);
        if (R(g, 4) == 0)
            Q(g, u += R(g, 2), ADMIT_REV_REQUEST_RATE_LIMITED, col, row, R(g, 2) ? ex : 0, id,
              R(g, 3) ? R(g, 5) : 0, res);
        if (R(g, 4) == 0)
            Q(g, u + R(g, 3), ADMIT_REV_REQUEST_RATE_LIMITED, 0, 0, 0, 0, R(g, 5), res);
        int w = R(g, 4);
        if (w == 0)
            Q(g, u += R(g, 3), ADMIT_REV_REQUEST_WAIT_COMPLETED, col, row, R(g, 6) ? ex : 0, id, 0,
              res);
        if (w == 1) Q(g, u += R(g, 3), ADMIT_REV_REQUEST_WAIT_TIMEOUT, col, row, ex, id, 0, res);
        if (w == 2) Q(g, u += R(g, 3), ADMIT_REV_REQUEST_WAIT_CANCELLED, col, row, ex, id, 0, res);
        if (R(g, 3))
            Q(g, u += R(g, 2), ADMIT_REV_REQUEST_LEASE_ACQUIRED, col, row, R(g, 5) ? ex : 0, id, 0,
              res);
        if (R(g, 3))
            Q(g, u += R(g, 2), ADMIT_REV_MODEL_REQUEST_STARTED, col, row, R(g, 5) ? ex : 0, id, 0,
              res);
        if (R(g, 3))
            Q(g, u += R(g, 3), ADMIT_REV_MODEL_REQUEST_COMPLETED, col, row, R(g, 5) ? ex : 0, id, 0,
              res);
        if (R(g, 3))
            Q(g, u += R(g, 2), ADMIT_REV_REQUEST_LEASE_RELEASED, col, row, R(g, 3) ? ex : 0, id, 0,
              res);
        if (u > rel && (g->clean || R(g, 2))) rel = u; /* else it outlives the release */
    }
    return rel;
}

/* One execution: ready..lease, a spawn (or a failed one), attempts, an
** end and its releases. */
static void execution(gen *g, int x, int nexec, uint64_t *att) {
    int col = R(g, 2), row = R(g, 4);
    uint64_t exec =
        !g->clean && R(g, 8) == 0 && x > 1 ? (uint64_t)(1 + R(g, x - 1)) : (uint64_t)x; /* reuse */
    int64_t t = R(g, 12);
    uint64_t lease = 100 + (uint64_t)x;
    if (R(g, 4)) S(g, t, ADMIT_EV_DEPENDENCY_READY, col, row, 0, 0, 0);
    if (R(g, 5)) S(g, t += R(g, 2), ADMIT_EV_READY_ENQUEUED, col, row, 0, 0, 1);
    if (R(g, 5)) S(g, t += R(g, 2), ADMIT_EV_SELECTED, col, row, 0, 0, 0);
    if (R(g, 6)) S(g, t += R(g, 2), ADMIT_EV_TASK_LEASE_ACQUIRED, col, row, 0, lease, 0);
    if (R(g, 9) == 0) {
        S(g, t + R(g, 2), ADMIT_EV_WORKER_SPAWN_FAILED, col, row, 0, lease, 0);
        return;
    }
    int64_t spawn = t + R(g, 2);
    S(g, spawn, ADMIT_EV_WORKER_SPAWNED, col, row, exec, lease, 1);
    int64_t rel = attempts(g, col, row, exec, nexec, att, spawn, spawn + R(g, 10));
    int64_t te = rel - (!g->clean && R(g, 3) == 0);
    te = te < spawn ? spawn : te;
    static const int ends[] = {ADMIT_EV_TASK_COMPLETED, ADMIT_EV_CANCELLED, ADMIT_EV_RETRY_DEFERRED,
                               ADMIT_EV_NON_RETRYABLE_DROPPED};
    int end = R(g, 6);
    if (end < 4) S(g, te, ends[end], col, row, exec, lease, 0);
    if (R(g, 7))
        S(g, rel, ADMIT_EV_TASK_LEASE_RELEASED, col, row, exec, lease, 0)->reason =
            R(g, 3) ? -1 : 0;
    if (R(g, 6) == 0) /* a duplicate (reason 2), or, not clean, a second release */
        S(g, rel + R(g, 3), ADMIT_EV_TASK_LEASE_RELEASED, col, row, exec, lease, 0)->reason =
            g->clean || R(g, 2) ? 2 : -1;
    if (R(g, 10) == 0) {
        admit_event *e = S(g, rel + R(g, 3), ADMIT_EV_QUEUE_EMPTY, -1, 0, 0, 0, 0);
        e->task_id = 0;
        e->corr.group = -1;
    }
}

/* A random stream: executions, then sorted by time with random ties. */
static void generate(gen *g, uint64_t seed) {
    g->n = 0;
    g->rs = seed * 1000003ULL;
    g->clean = seed % 2 == 0;
    int nexec = 1 + R(g, 6);
    uint64_t att = 1;
    for (int x = 1; x <= nexec; x++)
        execution(g, x, nexec, &att);
    int key[MAX_EVENTS];
    for (int i = 0; i < g->n; i++)
        key[i] = R(g, 1000);
    for (int i = 1; i < g->n; i++) { /* insertion sort: by time, then key */
        admit_event e = g->ev[i];
        int k = key[i], j = i - 1;
        for (; j >= 0 && (g->ev[j].captured_at_ns > e.captured_at_ns ||
                          (g->ev[j].captured_at_ns == e.captured_at_ns && key[j] > k));
             j--) {
            g->ev[j + 1] = g->ev[j];
            key[j + 1] = key[j];
        }
        g->ev[j + 1] = e;
        key[j + 1] = k;
    }
    uint64_t seq[2] = {0, 0};
    for (int i = 0; i < g->n; i++)
        g->ev[i].sequence = seq[g->ev[i].stream]++;
}

static res_correlated_view *feed(const gen *g, res_view_facts *f, res_view_rows mode,
                                 res_error *err) {
    res_view_builder *vb = res_view_builder_create(f, mode);
    assert_non_null(vb);
    for (int i = 0; i < g->n; i++)
        assert_true(g->ev[i].stream == ADMIT_STREAM_REQUEST
                        ? res_view_builder_request_event(vb, &g->ev[i])
                        : res_view_builder_scheduler_event(vb, &g->ev[i]));
    return res_view_builder_finish(vb, err);
}

static int row_cmp(const void *a, const void *b) {
    return memcmp(a, b, sizeof(res_view_row));
}

/* s's rows are k's: in order when kept, as a set when spilled. */
static void assert_same_rows(const res_correlated_view *k, const res_correlated_view *s,
                             uint64_t seed) {
    size_t n = k->row_count;
    if (s->row_count != n)
        fail_msg("seed %llu: %zu rows, not %zu", (unsigned long long)seed, s->row_count, n);
    if (s->rows) {
        if (n && memcmp(s->rows, k->rows, n * sizeof *k->rows))
            fail_msg("seed %llu: the kept rows differ", (unsigned long long)seed);
        return;
    }
    if (!n) return;
    assert_non_null(s->row_spill);
    res_view_row *got = calloc(n + 1, sizeof *got), *want = malloc(n * sizeof *want);
    assert_true(res_spill_rewind(s->row_spill));
    size_t m = 0;
    while (m <= n && res_spill_next(s->row_spill, &got[m]))
        m++;
    assert_int_equal(m, n);
    memcpy(want, k->rows, n * sizeof *want);
    qsort(got, n, sizeof *got, row_cmp);
    qsort(want, n, sizeof *want, row_cmp);
    if (memcmp(got, want, n * sizeof *got))
        fail_msg("seed %llu: the spilled rows differ", (unsigned long long)seed);
    free(got);
    free(want);
}

static void test_spill_equals_keep(void **state) {
    (void)state;
    const char *env = getenv("ADMIT_MODEL_SCALE");
    double scale = env && strtod(env, NULL) > 0 ? strtod(env, NULL) : 1.0;
    uint64_t seeds = (uint64_t)(6000 * scale) + 1;
    static const char *const budgets[] = {"0", "1000", NULL};
    res_view_facts f = facts();
    static gen g;
    uint64_t same = 0, late = 0;
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        generate(&g, seed);
        res_error err = {0};
        res_correlated_view *k = feed(&g, &f, RES_VIEW_ROWS_KEEP, &err);
        assert_non_null(k);
        json_t *kj = res_correlated_view_json(k, &f);
        char *kt = json_dumps(kj, JSON_COMPACT | JSON_REAL_PRECISION(17));
        for (int b = 0; b < 3; b++) {
            if (budgets[b])
                setenv("ADMITSIM_SPILL_AFTER", budgets[b], 1);
            else
                unsetenv("ADMITSIM_SPILL_AFTER");
            res_correlated_view *s = feed(&g, &f, RES_VIEW_ROWS_SPILL, &err);
            if (!s) {
                if (err.code != RES_ERUN || g.clean)
                    fail_msg("seed %llu%s: %d %s", (unsigned long long)seed,
                             g.clean ? " (in time order)" : "", err.code, err.message);
                late++;
                continue;
            }
            assert_same_rows(k, s, seed);
            json_t *sj = res_correlated_view_json(s, &f);
            char *st = json_dumps(sj, JSON_COMPACT | JSON_REAL_PRECISION(17));
            if (strcmp(kt, st)) fail_msg("seed %llu: metrics differ", (unsigned long long)seed);
            free(st);
            json_decref(sj);
            res_correlated_view_free(s);
            same++;
        }
        free(kt);
        json_decref(kj);
        res_correlated_view_free(k);
    }
    unsetenv("ADMITSIM_SPILL_AFTER");
    /* most streams come in time order: the comparison is not vacuous */
    assert_true(same > late);
    printf("view spill: %llu streams x 3 budgets: %llu the same, %llu refused (late events)\n",
           (unsigned long long)seeds, (unsigned long long)same, (unsigned long long)late);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_spill_equals_keep)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
