#include "res/summary.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "admit/resources.h"
#include "res/correlated_view.h"
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
    free(s);
}

/* Room for execution id exec in *v (new entries -1). */
static bool exec_start_grow(int64_t **v, size_t *cap, uint64_t exec) {
    if (exec < *cap) return true;
    size_t n = *cap ? *cap : 1024;
    while (n <= exec) {
        if (n > SIZE_MAX / 2 / sizeof **v) return false;
        n *= 2;
    }
    int64_t *p = realloc(*v, n * sizeof *p);
    if (!p) return false;
    for (size_t i = *cap; i < n; i++)
        p[i] = -1;
    *v = p;
    *cap = n;
    return true;
}

/* The p95 of ready-to-lease gaps of non-root columns' executions. */
static bool downstream_gap(res_summary *s) {
    const res_correlated_view *v = s->view;
    int64_t *gaps = malloc((v->row_count ? v->row_count : 1) * sizeof *gaps);
    if (!gaps) return false;
    size_t n = 0;
    for (size_t i = 0; i < v->row_count; i++) {
        const res_view_row *r = &v->rows[i];
        if (r->column < 0 || (uint32_t)r->column >= s->facts->column_count ||
            s->facts->columns[r->column].root)
            continue;
        int64_t from = r->at[RES_TS_READY_ENQUEUED], to = r->at[RES_TS_TASK_LEASE_ACQUIRED];
        if (from >= 0 && to >= from) gaps[n++] = to - from;
    }
    if (n) {
        size_t k = res_quantile_index(n, 0.95);
        int64_t p95;
        res_select_i64(gaps, n, &k, 1, &p95); /* the element a sort puts there */
        s->downstream_ready_to_dispatch_p95 = ns_to_s(p95);
    }
    free(gaps);
    return true;
}

res_summary *res_summary_compute(const res_run_record *run) {
    const run_config *sc = run->config;
    uint32_t ncol = sc->column_count;
    res_summary *s = calloc(1, sizeof *s);
    column_acc *acc = calloc(ncol, sizeof *acc);
    size_t *base = calloc(ncol + 1, sizeof *base);
    /* [execution id]: when its worker started, -1: not running; grown as
    ** executions start (ids are handed out in order) */
    int64_t *exec_start = NULL;
    size_t exec_cap = 0;
    int64_t *ready = NULL;
    bool ok = false;
    if (!s || !acc || !base) goto done;
    s->column_count = ncol;
    s->columns = calloc(ncol, sizeof *s->columns);
    for (uint32_t c = 0; c < ncol; c++)
        base[c + 1] = base[c] + run->column_tasks[c];
    ready = calloc(base[ncol] ? base[ncol] : 1, sizeof *ready);
    if (!s->columns || !ready) goto done;
    for (uint32_t c = 0; c < ncol; c++) {
        acc[c].cap = run->column_tasks[c] * 2 + 8;
        acc[c].waits = malloc(acc[c].cap * sizeof *acc[c].waits);
        if (!acc[c].waits) goto done;
    }

    size_t waits_cap_ok = 1;
    for (size_t i = 0; i < run->event_count; i++) {
        const admit_event *ev = &run->events[i];
        if (ev->corr.column < 0) continue;
        uint32_t c = (uint32_t)ev->corr.column;
        size_t dense = base[c] + (size_t)(ev->task_id & ((1ULL << 40) - 1));
        uint64_t exec = ev->corr.task_execution_id;
        switch (ev->kind) {
        case ADMIT_EV_DEPENDENCY_READY: ready[dense] = ev->captured_at_ns; break;
        case ADMIT_EV_WORKER_SPAWNED: {
            column_acc *a = &acc[c];
            if (a->count == a->cap) { /* retries and salvage: more dispatches than tasks */
                int64_t *w = realloc(a->waits, a->cap * 2 * sizeof *w);
                if (!w) {
                    waits_cap_ok = 0;
                    break;
                }
                a->waits = w;
                a->cap *= 2;
            }
            a->waits[a->count++] = ev->captured_at_ns - ready[dense];
            if (a->in_flight++ == 0) a->busy_since = ev->captured_at_ns;
            if (!exec_start_grow(&exec_start, &exec_cap, exec)) {
                waits_cap_ok = 0;
                break;
            }
            exec_start[exec] = ev->captured_at_ns;
            break;
        }
        case ADMIT_EV_TASK_LEASE_RELEASED:
            if (exec && exec < exec_cap && exec_start[exec] >= 0) {
                column_acc *a = &acc[c];
                a->task_ns += ev->captured_at_ns - exec_start[exec];
                exec_start[exec] = -1;
                if (--a->in_flight == 0) a->busy_total += ev->captured_at_ns - a->busy_since;
            }
            break;
        default: break;
        }
    }
    if (!waits_cap_ok) goto done;

    res_sum_ns task_ns = 0;
    for (uint32_t c = 0; c < ncol; c++) {
        column_acc *a = &acc[c];
        res_column_summary *cs = &s->columns[c];
        cs->column = sc->columns[c].name;
        cs->tasks = run->column_tasks[c];
        cs->dispatches = a->count;
        cs->busy_task_seconds = (double)a->task_ns / 1e9;
        cs->idle_seconds = ns_to_s(run->wall_ns - a->busy_total);
        task_ns += a->task_ns;
        if (a->count == 0) {
            cs->first_wait_seconds = -1;
            continue;
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
    s->wall_time_seconds = ns_to_s(run->wall_ns);
    s->task_seconds = (double)task_ns / 1e9;
    uint32_t capacity = run->resource_limits[ADMIT_RESOURCE_SUBMISSION];
    s->slot_utilization =
        run->wall_ns > 0 ? (double)task_ns / ((double)run->wall_ns * capacity) : 0.0;
    s->final_task_leases = run->final_task_leases;
    s->request = res_request_report_compute(run);
    if (!s->request) goto done;
    if (run->events && run->event_count) {
        s->facts = res_view_facts_from_run(run);
        s->view =
            s->facts ? res_correlated_view_build(run->events, run->event_count, run->request_events,
                                                 run->request_event_count, s->facts)
                     : NULL;
        if (!s->view) goto done;
    }
    s->downstream_ready_to_dispatch_p95 = -1;
    if (s->view && !downstream_gap(s)) goto done;
    ok = true;
done:
    if (acc)
        for (uint32_t c = 0; c < ncol; c++)
            free(acc[c].waits);
    free(acc);
    free(base);
    free(exec_start);
    free(ready);
    if (ok) return s;
    res_summary_free(s);
    return NULL;
}

json_t *res_summary_to_json(const res_summary *s, const res_run_record *run) {
    json_t *groups = json_object();
    for (uint32_t c = 0; c < s->column_count; c++) {
        const res_column_summary *cs = &s->columns[c];
        json_t *first =
            cs->first_wait_seconds < 0 ? json_null() : json_real(cs->first_wait_seconds);
        json_object_set_new(
            groups, cs->column,
            json_pack("{s:I, s:o, s:f, s:f, s:f, s:f, s:f, s:f}", "tasks", (json_int_t)cs->tasks,
                      "first_wait_seconds", first, "wait_mean_seconds", cs->wait_mean_seconds,
                      "wait_p50_seconds", cs->wait_p50_seconds, "wait_p95_seconds",
                      cs->wait_p95_seconds, "wait_p99_seconds", cs->wait_p99_seconds,
                      "wait_max_seconds", cs->wait_max_seconds, "idle_seconds", cs->idle_seconds));
    }
    json_t *out = json_pack(
        "{s:s, s:s, s:I, s:f, s:f, s:I, s:I, s:I, s:o, s:o, s:o}", "scenario_id",
        run->config->scenario_id, "policy", run_policy_name(run->policy), "seed",
        (json_int_t)run->seed, "wall_time_seconds", s->wall_time_seconds, "slot_utilization",
        s->slot_utilization, "final_task_leases", (json_int_t)s->final_task_leases,
        "final_request_leases", (json_int_t)run->final_request_leases, "final_request_waiters",
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
