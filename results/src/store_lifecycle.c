#include "store_lifecycle.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* One rebuilt scheduler kind: its task_timelines column, its class at an
** instant (0 completion, 1 readiness, 2 dispatch) and rank. */
static const struct {
    const char *kind, *at, *execution, *value, *reason;
    int klass;
} scheduler_kinds[] = {
    {"dependency_ready", "dependency_ready_at", "NULL", "NULL", "NULL", 1},
    {"ready_enqueued", "ready_enqueued_at", "NULL", "NULL", "NULL", 1},
    {"selected", "selected_at", "NULL", "NULL", "NULL", 2},
    {"task_lease_acquired", "task_lease_acquired_at", "NULL", "NULL", "NULL", 2},
    {"worker_spawned", "worker_spawned_at", "t.task_execution_id", "t.worker_attempt", "NULL", 2},
    {"task_completed", "task_completed_at", "t.task_execution_id", "NULL", "NULL", 0},
    {"task_lease_released", "task_lease_released_at", "t.task_execution_id", "NULL", "'released'",
     0},
};

/* One rebuilt request kind: its request_attempts columns (prefix of
** <prefix>_at and <prefix>_sequence). */
static const struct {
    const char *kind, *prefix, *lease, *value, *reason;
} request_kinds[] = {
    {"request_wait_started", "wait_started", "NULL", "NULL", "NULL"},
    {"request_wait_completed", "wait_completed", "a.request_lease_id", "NULL", "NULL"},
    {"request_lease_acquired", "lease_acquired", "a.request_lease_id", "a.in_flight_acquired",
     "NULL"},
    {"model_request_started", "model_request_started", "a.request_lease_id", "NULL", "NULL"},
    {"model_request_completed", "model_request_completed", "a.request_lease_id", "NULL",
     "a.outcome"},
    {"request_lease_released", "lease_released", "a.request_lease_id", "a.in_flight_released",
     "a.outcome"},
};

static bool wanted(const res_event_query *q, const char *stream, const char *kind) {
    if (q->stream && strcmp(q->stream, stream) != 0) return false;
    if (!q->kinds || !q->kinds[0]) return true;
    for (size_t k = 0; q->kinds[k]; k++)
        if (!strcmp(q->kinds[k], kind)) return true;
    return false;
}

void res_event_filters_sql(FILE *f, const res_event_query *q, const char *run, const char *event) {
    fprintf(f, " WHERE %srun_id = ?1", run);
    if (q->iteration >= 0) fprintf(f, " AND %siteration = ?2", run);
    if (q->stream) fprintf(f, " AND %sstream = ?3", run);
    if (q->resource) fprintf(f, " AND %sresource = ?4", event);
    for (size_t k = 0; q->kinds && q->kinds[k]; k++) {
        if (k == 0) fprintf(f, " AND %skind IN (", event);
        fprintf(f, "%s?%zu", k ? ", " : "", 5 + k);
    }
    if (q->kinds && q->kinds[0]) fputs(")", f);
}

/* Whether any scheduler kind is rebuilt for q. */
static bool any_scheduler_kind(const res_event_query *q) {
    for (size_t k = 0; !q->resource && k < sizeof scheduler_kinds / sizeof *scheduler_kinds; k++)
        if (wanted(q, "scheduler", scheduler_kinds[k].kind)) return true;
    return false;
}

/* The iteration's task_timelines rows, each with its rank among its
** task's executions (ordinal, from 0) and the latest release of the
** task's earlier executions (prev_released, NULL: none). */
static void timelines_cte(FILE *f, const char *iteration) {
    fprintf(f,
            "WITH tl AS MATERIALIZED (SELECT *, row_number() OVER w - 1 AS ordinal,"
            " max(task_lease_released_at) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1"
            " PRECEDING) AS prev_released FROM task_timelines WHERE run_id = ?1%s"
            " WINDOW w AS (PARTITION BY iteration, task_id ORDER BY task_execution_id)) ",
            iteration);
}

void res_lifecycle_sql(FILE *f, const res_event_query *q, const char *rows) {
    const char *iteration = q->iteration >= 0 ? " AND iteration = ?2" : "";
    bool scheduler = any_scheduler_kind(q);
    if (scheduler) timelines_cte(f, iteration);
    /* the notable events as stored */
    fprintf(f,
            "SELECT iteration, stream, sequence, kind, captured_at_ns, task_id, execution_id,"
            " task_lease_id, request_attempt_id, request_lease_id, resource, reason, value,"
            " row_group, column_name, CASE stream WHEN 'request' THEN sequence ELSE 3 END AS o1,"
            " CASE stream WHEN 'request' THEN 0 ELSE sequence END AS o2, 0 AS o3"
            " FROM %s",
            rows);
    res_event_filters_sql(f, q, "", "");
    fputs(" AND lifecycle = 0", f);
    for (size_t k = 0; !q->resource && k < sizeof scheduler_kinds / sizeof *scheduler_kinds; k++) {
        if (!wanted(q, "scheduler", scheduler_kinds[k].kind)) continue;
        /* an execution that ends at the instant its worker started ends
        ** right after that, among the dispatches; an execution that
        ** follows one of its task's that ended at the same instant comes
        ** after every first execution's event there (its task became
        ** ready again when that one ended), in its rank's own pass */
        char klass[320];
        const char *at = scheduler_kinds[k].at;
        int n = snprintf(klass, sizeof klass,
                         "CASE WHEN prev_released >= %s THEN 4 * ordinal ELSE 0 END + ", at);
        if (scheduler_kinds[k].klass == 0)
            snprintf(klass + n, sizeof klass - (size_t)n,
                     "CASE WHEN %s = worker_spawned_at THEN 2 ELSE 0 END", at);
        else
            snprintf(klass + n, sizeof klass - (size_t)n, "%d", scheduler_kinds[k].klass);
        fprintf(f,
                " UNION ALL SELECT iteration, 'scheduler', 0, '%s', %s, task_id, %s, NULL, NULL,"
                " NULL, NULL, %s, %s, row_group, column_name, %s, %s, %zu FROM tl t"
                " WHERE %s IS NOT NULL",
                scheduler_kinds[k].kind, at, scheduler_kinds[k].execution,
                scheduler_kinds[k].reason, scheduler_kinds[k].value, klass,
                scheduler_kinds[k].klass == 1 ? "task_id" : "task_execution_id", k, at);
    }
    for (size_t k = 0; k < sizeof request_kinds / sizeof *request_kinds; k++) {
        if (!wanted(q, "request", request_kinds[k].kind)) continue;
        fprintf(f,
                " UNION ALL SELECT a.iteration, 'request', a.%s_sequence, '%s', a.%s_at,"
                " a.task_id, a.task_execution_id, NULL, a.request_attempt_id, %s, a.resource, %s,"
                " %s, t.row_group, t.column_name, a.%s_sequence, 0, 0 FROM request_attempts a"
                " LEFT JOIN task_timelines t ON t.run_id = a.run_id AND t.iteration ="
                " a.iteration AND t.task_execution_id = a.task_execution_id"
                " WHERE a.run_id = ?1%s%s AND a.%s_at IS NOT NULL",
                request_kinds[k].prefix, request_kinds[k].kind, request_kinds[k].prefix,
                request_kinds[k].lease, request_kinds[k].reason, request_kinds[k].value,
                request_kinds[k].prefix, q->iteration >= 0 ? " AND a.iteration = ?2" : "",
                q->resource ? " AND a.resource = ?4" : "", request_kinds[k].prefix);
    }
    fputs(q->order == RES_EVENTS_STREAM_ORDER
              ? " ORDER BY iteration, stream, captured_at_ns, o1, o2, o3"
              : " ORDER BY iteration, captured_at_ns, stream DESC, o1, o2, o3",
          f);
}
