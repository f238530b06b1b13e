#include "res/summary.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "admit/resources.h"
#include "res/json_real.h"
#include "res/correlated_view.h"
#include "res/id_hash.h"
#include "res/request_report.h"
#include "res/stats.h"

typedef struct column_acc {
    int64_t *waits;
    size_t count, cap;
    uint32_t in_flight;
    int64_t busy_since, busy_total;
    res_sum_ns task_ns;
} column_acc;

static double ns_to_s(int64_t ns) {
    return (double)ns / 1e9;
}

void res_summary_free(res_summary *s) {
    if (!s) return;
    free(s->columns);
    res_request_report_free(s->request);
    res_correlated_view_free(s->view);
    res_view_facts_free(s->facts);
    res_attempt_log_free(s->attempts);
    free(s);
}

/* The start times of the executions running now, by execution id: open
** addressing with linear probing, at most half full, removal by backward
** shift; id 0 marks a free slot.  Its size follows the executions in
** flight, not the run's length. */
typedef struct running_map {
    uint64_t *id;
    int64_t *start;
    size_t mask, count; /* mask + 1 slots (0: none yet) */
} running_map;

static void running_free(running_map *m) {
    free(m->id);
    free(m->start);
}

static size_t running_find(const running_map *m, uint64_t id) {
    size_t i = res_id_hash(id) & m->mask;
    while (m->id[i] && m->id[i] != id)
        i = (i + 1) & m->mask;
    return i;
}

static bool running_grow(running_map *m) {
    size_t cap = m->id ? (m->mask + 1) * 2 : 64;
    running_map n = {calloc(cap, sizeof *n.id), malloc(cap * sizeof *n.start), cap - 1, m->count};
    if (!n.id || !n.start) {
        running_free(&n);
        return false;
    }
    for (size_t i = 0; m->id && i <= m->mask; i++) {
        if (!m->id[i]) continue;
        size_t j = running_find(&n, m->id[i]);
        n.id[j] = m->id[i];
        n.start[j] = m->start[i];
    }
    running_free(m);
    *m = n;
    return true;
}

/* Execution id (not 0) started at t (a repeated start replaces the time). */
static bool running_put(running_map *m, uint64_t id, int64_t t) {
    if ((!m->id || (m->count + 1) * 2 > m->mask + 1) && !running_grow(m)) return false;
    size_t i = running_find(m, id);
    if (!m->id[i]) m->count++;
    m->id[i] = id;
    m->start[i] = t;
    return true;
}

/* Removes execution id; its start time in *t.  False when it is not running. */
static bool running_take(running_map *m, uint64_t id, int64_t *t) {
    if (!m->id || !id) return false;
    size_t i = running_find(m, id);
    if (!m->id[i]) return false;
    *t = m->start[i];
    m->count--;
    for (size_t j = (i + 1) & m->mask; m->id[j]; j = (j + 1) & m->mask) {
        size_t home = res_id_hash(m->id[j]) & m->mask;
        /* slot j's entry may move to the hole at i unless its home lies in (i, j] */
        if (((j - home) & m->mask) < ((j - i) & m->mask)) continue;
        m->id[i] = m->id[j];
        m->start[i] = m->start[j];
        i = j;
    }
    m->id[i] = 0;
    return true;
}

/* The summary's working state while the run goes.  A task's ready time is
** kept by column and task index (admit_task_id's low bits), sized for the
** column's tasks and grown if others are met; the start times of the
** executions running, by execution id. */
struct res_summary_builder {
    const res_run_record *run;
    uint32_t ncol;
    column_acc *acc;
    int64_t **ready; /* [column][task index] */
    size_t *ready_cap;
    running_map running;
    res_view_facts *facts;
    res_view_builder *view; /* NULL when the run keeps no view */
    res_request_sweep *request;
    res_attempt_log *attempts; /* NULL when the run keeps no view rows */
    bool ok;
};

void res_summary_builder_free(res_summary_builder *b) {
    if (!b) return;
    for (uint32_t c = 0; c < b->ncol; c++) {
        if (b->acc) free(b->acc[c].waits);
        if (b->ready) free(b->ready[c]);
    }
    free(b->acc);
    free(b->ready);
    free(b->ready_cap);
    running_free(&b->running);
    res_view_builder_free(b->view);
    res_view_facts_free(b->facts);
    res_attempt_log_free(b->attempts);
    res_request_sweep_free(b->request);
    free(b);
}

/* Column c's tasks as the tracker makes them: one per row (cell by cell) or
** per row group.  A sizing hint: the arrays grow past it if need be. */
static size_t column_task_count(const run_config *sc, uint32_t c) {
    const run_column *col = &sc->columns[c];
    int64_t records = sc->records;
    int64_t rows = col->rows <= 0 || col->rows > records ? records : col->rows;
    int64_t buffer = sc->buffer_size <= 0 || sc->buffer_size > records ? records : sc->buffer_size;
    if (rows <= 0) return 0;
    return (size_t)(col->strategy == ADMIT_CELL_BY_CELL ? rows : (rows + buffer - 1) / buffer);
}

/* Room for column c's tasks in its ready times and dispatch waits. */
static bool column_presize(res_summary_builder *b, uint32_t c) {
    size_t n = column_task_count(b->run->config, c);
    if (!n) return true;
    b->ready[c] = calloc(n, sizeof *b->ready[c]);
    b->acc[c].waits = malloc(n * sizeof *b->acc[c].waits);
    b->ready_cap[c] = n;
    b->acc[c].cap = n;
    return b->ready[c] && b->acc[c].waits;
}

res_summary_builder *res_summary_builder_create(const res_run_record *run, bool view,
                                                res_view_rows rows) {
    res_summary_builder *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    uint32_t ncol = run->config->column_count;
    b->run = run;
    b->ncol = ncol;
    b->acc = calloc(ncol ? ncol : 1, sizeof *b->acc);
    b->ready = calloc(ncol ? ncol : 1, sizeof *b->ready);
    b->ready_cap = calloc(ncol ? ncol : 1, sizeof *b->ready_cap);
    b->request = res_request_sweep_create(run);
    b->ok = b->acc && b->ready && b->ready_cap && b->request;
    for (uint32_t c = 0; b->ok && c < ncol; c++)
        b->ok = column_presize(b, c);
    if (b->ok && view) {
        b->facts = res_view_facts_from_run(run);
        b->view = b->facts ? res_view_builder_create(b->facts, rows) : NULL;
        b->ok = b->view != NULL;
    }
    if (b->ok && view && rows != RES_VIEW_ROWS_NONE)
        b->ok = (b->attempts = res_attempt_log_create()) != NULL;
    if (b->ok) return b;
    res_summary_builder_free(b);
    return NULL;
}

/* Room for index i in a growable int64 array (new entries `fill`). */
static bool i64_grow(int64_t **v, size_t *cap, uint64_t i, int64_t fill) {
    if (i < *cap) return true;
    size_t n = *cap ? *cap : 1024;
    while (n <= i) {
        if (n > SIZE_MAX / 2 / sizeof **v) return false;
        n *= 2;
    }
    int64_t *p = realloc(*v, n * sizeof *p);
    if (!p) return false;
    for (size_t k = *cap; k < n; k++)
        p[k] = fill;
    *v = p;
    *cap = n;
    return true;
}

/* A dispatch of column c: its wait from ready, and the column busy. */
static bool column_spawned(res_summary_builder *b, uint32_t c, int64_t ready, uint64_t exec,
                           int64_t t) {
    column_acc *a = &b->acc[c];
    if (a->count == a->cap) { /* retries and salvage: more dispatches than tasks */
        size_t cap = a->cap ? a->cap * 2 : 1024;
        int64_t *w = realloc(a->waits, cap * sizeof *w);
        if (!w) return false;
        a->waits = w;
        a->cap = cap;
    }
    a->waits[a->count++] = t - ready;
    if (a->in_flight++ == 0) a->busy_since = t;
    return !exec || running_put(&b->running, exec, t);
}

static bool summary_scheduler_event(res_summary_builder *b, const admit_event *ev) {
    if (ev->corr.column < 0 || (uint32_t)ev->corr.column >= b->ncol) return true;
    uint32_t c = (uint32_t)ev->corr.column;
    uint64_t task = ev->task_id & ((1ULL << 40) - 1);
    uint64_t exec = ev->corr.task_execution_id;
    int64_t t = ev->captured_at_ns;
    switch (ev->kind) {
    case ADMIT_EV_DEPENDENCY_READY:
        if (!i64_grow(&b->ready[c], &b->ready_cap[c], task, 0)) return false;
        b->ready[c][task] = t;
        break;
    case ADMIT_EV_WORKER_SPAWNED:
        if (!i64_grow(&b->ready[c], &b->ready_cap[c], task, 0)) return false;
        return column_spawned(b, c, b->ready[c][task], exec, t);
    case ADMIT_EV_TASK_LEASE_RELEASED: {
        int64_t start;
        if (running_take(&b->running, exec, &start)) {
            column_acc *a = &b->acc[c];
            a->task_ns += t - start;
            if (--a->in_flight == 0) a->busy_total += t - a->busy_since;
        }
        break;
    }
    default: break;
    }
    return true;
}

bool res_summary_builder_scheduler_event(res_summary_builder *b, const admit_event *ev) {
    if (b->ok) b->ok = summary_scheduler_event(b, ev);
    if (b->ok && b->view) b->ok = res_view_builder_scheduler_event(b->view, ev);
    return b->ok;
}

bool res_summary_builder_request_event(res_summary_builder *b, const admit_event *ev) {
    if (b->ok) b->ok = res_request_sweep_event(b->request, ev);
    if (b->ok && b->view) b->ok = res_view_builder_request_event(b->view, ev);
    if (b->ok && b->attempts) b->ok = res_attempt_log_request_event(b->attempts, ev);
    return b->ok;
}

/* Column c's figures from its dispatch waits (reordered). */
static void column_figures(res_column_summary *cs, column_acc *a, const res_run_record *run) {
    cs->dispatches = a->count;
    cs->busy_task_seconds = (double)a->task_ns / 1e9;
    cs->idle_seconds = ns_to_s(run->wall_ns - a->busy_total);
    if (a->count == 0) { /* no wait: none of the figures over the waits exists */
        cs->first_wait_seconds = cs->wait_mean_seconds = cs->wait_p50_seconds = NAN;
        cs->wait_p95_seconds = cs->wait_p99_seconds = cs->wait_max_seconds = NAN;
        return;
    }
    cs->first_wait_seconds = ns_to_s(a->waits[0]);
    res_sum_ns sum = 0;
    for (size_t k = 0; k < a->count; k++)
        sum += a->waits[k];
    cs->wait_mean_seconds = (double)sum / (double)a->count / 1e9;
    size_t k[4] = {res_quantile_index(a->count, 0.50), res_quantile_index(a->count, 0.95),
                   res_quantile_index(a->count, 0.99), a->count - 1};
    int64_t at[4];
    res_select_i64(a->waits, a->count, k, 4, at); /* the elements a sort puts there */
    cs->wait_p50_seconds = ns_to_s(at[0]);
    cs->wait_p95_seconds = ns_to_s(at[1]);
    cs->wait_p99_seconds = ns_to_s(at[2]);
    cs->wait_max_seconds = ns_to_s(at[3]);
}

/* false: out of memory, or *err says what failed. */
static bool summary_finish(res_summary_builder *b, res_summary *s, res_error *err) {
    const res_run_record *run = b->run;
    const run_config *sc = run->config;
    s->column_count = b->ncol;
    s->columns = calloc(b->ncol ? b->ncol : 1, sizeof *s->columns);
    if (!s->columns) return false;
    res_sum_ns task_ns = 0;
    for (uint32_t c = 0; c < b->ncol; c++) {
        res_column_summary *cs = &s->columns[c];
        cs->column = sc->columns[c].name;
        cs->tasks = run->column_tasks[c];
        column_figures(cs, &b->acc[c], run);
        task_ns += b->acc[c].task_ns;
    }
    s->wall_time_seconds = ns_to_s(run->wall_ns);
    s->task_seconds = (double)task_ns / 1e9;
    uint32_t capacity = run->resource_limits[ADMIT_RESOURCE_SUBMISSION];
    s->slot_utilization =
        run->wall_ns > 0 ? (double)task_ns / ((double)run->wall_ns * capacity) : NAN;
    s->final_task_leases = run->final_task_leases;
    s->request = res_request_sweep_finish(b->request);
    b->request = NULL;
    if (!s->request) return false;
    s->downstream_ready_to_dispatch_p95 = -1;
    s->attempts = b->attempts;
    b->attempts = NULL;
    if (!b->view) return true;
    b->facts->wall_ns = run->wall_ns;
    s->view = res_view_builder_finish(b->view, err);
    b->view = NULL;
    s->facts = b->facts;
    b->facts = NULL;
    if (!s->view) return false;
    s->downstream_ready_to_dispatch_p95 = s->view->m.downstream_ready_to_lease_p95;
    return true;
}

res_summary *res_summary_builder_finish(res_summary_builder *b, res_error *err) {
    res_summary *s = b->ok ? calloc(1, sizeof *s) : NULL;
    res_error why = {RES_ENOMEM, "out of memory summarising the run"};
    if (!s || !summary_finish(b, s, &why)) {
        res_summary_free(s);
        s = NULL;
        if (err) *err = why;
    }
    res_summary_builder_free(b);
    return s;
}

res_summary *res_summary_compute(const res_run_record *run) {
    res_summary_builder *b =
        res_summary_builder_create(run, res_event_log_count(run->events), RES_VIEW_ROWS_KEEP);
    bool ok = b != NULL;
    for (size_t i = 0; ok && i < res_event_log_count(run->events); i++) {
        admit_event ev = res_event_log_at(run->events, i);
        ok = res_summary_builder_scheduler_event(b, &ev);
    }
    for (size_t i = 0; ok && i < res_event_log_count(run->request_events); i++) {
        admit_event ev = res_event_log_at(run->request_events, i);
        ok = res_summary_builder_request_event(b, &ev);
    }
    return b ? res_summary_builder_finish(b, NULL) : NULL;
}

json_t *res_summary_to_json(const res_summary *s, const res_run_record *run) {
    json_t *groups = json_object();
    for (uint32_t c = 0; c < s->column_count; c++) {
        const res_column_summary *cs = &s->columns[c];
        json_object_set_new(
            groups, cs->column,
            json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:f}", "tasks", (json_int_t)cs->tasks,
                      "first_wait_seconds", res_json_real_or_null(cs->first_wait_seconds),
                      "wait_mean_seconds", res_json_real_or_null(cs->wait_mean_seconds),
                      "wait_p50_seconds", res_json_real_or_null(cs->wait_p50_seconds),
                      "wait_p95_seconds", res_json_real_or_null(cs->wait_p95_seconds),
                      "wait_p99_seconds", res_json_real_or_null(cs->wait_p99_seconds),
                      "wait_max_seconds", res_json_real_or_null(cs->wait_max_seconds),
                      "idle_seconds", cs->idle_seconds));
    }
    json_t *out = json_pack(
        "{s:s, s:s, s:I, s:f, s:o, s:I, s:I, s:I, s:o, s:o, s:o}", "scenario_id",
        run->config->scenario_id, "policy", run_policy_name(run->policy), "seed",
        (json_int_t)run->seed, "wall_time_seconds", s->wall_time_seconds, "slot_utilization",
        res_json_real_or_null(s->slot_utilization), "final_task_leases",
        (json_int_t)s->final_task_leases, "final_request_leases",
        (json_int_t)run->final_request_leases, "final_request_waiters",
        (json_int_t)run->final_request_waiters, "groups", groups, "request_resources",
        res_request_resources_json(run, s->request), "providers", res_providers_json(s->request));
    json_object_set_new(out, "correlated",
                        s->view ? res_correlated_view_json(s->view, s->facts) : json_null());
    if (run->config->arm[0]) json_object_set_new(out, "arm", json_string(run->config->arm));
    json_object_set_new(out, "downstream_ready_to_dispatch_p95_seconds",
                        s->downstream_ready_to_dispatch_p95 >= 0
                            ? json_real(s->downstream_ready_to_dispatch_p95)
                            : json_null());
    return out;
}
