#include "res/report_files.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "res/atomic_file.h"
#include "res/correlated_view.h"
#include "res/request_report.h"

/* A growing string; on allocation failure it stays failed and returns NULL. */
typedef struct buf {
    char *s;
    size_t len, cap;
    bool failed;
} buf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
bprintf(buf *b, const char *fmt, ...) {
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
}

static char *bdone(buf *b) {
    if (b->failed) {
        free(b->s);
        return NULL;
    }
    return b->s ? b->s : calloc(1, 1);
}

/* A Markdown table cell: group keys contain '|', and a column's name may
** hold a line break, which would end the table's row: "\n", "\r". */
static void md_cell(buf *b, const char *text) {
    for (const char *p = text; *p; p++) {
        if (*p == '|')
            bprintf(b, "\\|");
        else if (*p == '\n' || *p == '\r')
            bprintf(b, "\\%c", *p == '\n' ? 'n' : 'r');
        else
            bprintf(b, "%c", *p);
    }
}

/* " x |" with digits decimals, or " - |" for an absent figure (NaN). */
static void md_num(buf *b, double x, int digits) {
    if (isnan(x))
        bprintf(b, " - |");
    else
        bprintf(b, " %.*f |", digits, x);
}

static void opt_seconds(buf *b, json_t *x) {
    if (json_is_integer(x))
        bprintf(b, "%lld", (long long)json_integer_value(x));
    else if (json_is_number(x))
        bprintf(b, "%.3f", json_number_value(x));
    else
        bprintf(b, "-");
}

/* The correlated view of iteration 0: headline figures, idle gaps and
** fairness per scheduler resource, and where each group's time went. */
static void correlated_markdown(buf *b, const res_summary *sum) {
    json_t *cv = sum->view ? res_correlated_view_json(sum->view, sum->facts) : NULL;
    if (!json_is_object(cv)) {
        json_decref(cv);
        return;
    }
    json_t *gap = json_object_get(cv, "ready_idle_gap"), *fair = json_object_get(cv, "fairness");
    bprintf(b, "\n## Correlated view (iteration 0)\n\n| figure | value |\n|---|---|\n");
    for (size_t i = 0; i < res_correlated_headline_count; i++) {
        const res_headline *h = &res_correlated_headlines[i];
        bprintf(b, "| %s | ", h->label);
        opt_seconds(b, res_correlated_headline_get(cv, h));
        bprintf(b, " |\n");
    }
    bprintf(b, "\n| scheduler resource | longest ready-idle gap (s) | total (s) | Jain index "
               "| groups sharing it |\n|---|---|---|---|---|\n");
    const char *name;
    json_t *r;
    json_object_foreach(json_object_get(gap, "resources"), name, r) {
        json_t *f = json_object_get(json_object_get(fair, "resources"), name);
        bprintf(b, "| ");
        md_cell(b, name);
        bprintf(b, " | ");
        opt_seconds(b, json_object_get(r, "max_seconds"));
        bprintf(b, " | ");
        opt_seconds(b, json_object_get(r, "total_seconds"));
        bprintf(b, " | ");
        opt_seconds(b, json_object_get(f, "jain_index"));
        bprintf(b, " | %zu |\n", json_array_size(json_object_get(f, "groups")));
    }
    static const char *const layers[] = {"ready_queue", "task_admission",     "request_admission",
                                         "cooldown",    "provider_execution", "local_other"};
    bprintf(b, "\nWhere task time went, from ready to lease release (fractions; cooldown is "
               "the part of request admission spent in provider cooldown):\n\n| group "
               "| ready queue | task admission | request admission | cooldown | provider "
               "| local/other |\n|---|---|---|---|---|---|---|\n");
    json_t *ll = json_object_get(cv, "limiting_layers"), *g;
    const char *group;
    json_object_foreach(json_object_get(ll, "groups"), group, g) {
        bprintf(b, "| ");
        md_cell(b, group);
        bprintf(b, " |");
        for (size_t i = 0; i < sizeof layers / sizeof *layers; i++) {
            bprintf(b, " ");
            opt_seconds(b, json_object_get(json_object_get(g, "fractions"), layers[i]));
            bprintf(b, " |");
        }
        bprintf(b, "\n");
    }
    json_decref(cv);
}

/* The title, the description and the head of the iterations table. */
static void md_head(buf *b, const res_run_record *first) {
    const run_config *sc = first->config;
    bprintf(b, "# %s (version %lld), policy %s\n\n", sc->scenario_id,
            (long long)sc->scenario_version, run_policy_name(first->policy));
    if (sc->description[0]) bprintf(b, "%s\n\n", sc->description);
    bprintf(b, "| iteration | seed | status | wall time (s) | slot utilization | task leases "
               "left | request leases left | request waiters left |\n|---|---|---|---|---|---|---|"
               "---|\n");
}

static void md_row(buf *b, const res_run_record *r, const res_summary *s) {
    bprintf(b, "| %u | %llu | %s | %.3f |", r->iteration, (unsigned long long)r->seed,
            admit_job_status_name(r->status), s->wall_time_seconds);
    md_num(b, s->slot_utilization, 3);
    bprintf(b, " %llu | %llu | %llu |\n", (unsigned long long)r->final_task_leases,
            (unsigned long long)r->final_request_leases,
            (unsigned long long)r->final_request_waiters);
}

static void md_request_resources(buf *b, const res_run_record *first, const res_summary *s) {
    bprintf(b, "\n## Request resources (iteration 0)\n\n| resource | attempts | leases | "
               "rate limited | wait p50 (s) | wait p95 (s) | wait max (s) | in flight "
               "mean/max | limit end/min/max | cooldown (s) | utilization while others "
               "cool |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    const res_request_report *rep = s->request;
    for (uint32_t r = 0; r < first->request_resource_count; r++) {
        const res_request_stats *rs = &rep->resources[r];
        const res_request_resource *rr = &first->request[r];
        res_wait_quantiles q = res_request_waits(rs);
        bprintf(b, "| %s | %llu | %llu | %llu |", rr->key, (unsigned long long)rs->attempts,
                (unsigned long long)rs->leases,
                (unsigned long long)rs->outcomes[ADMIT_REQ_RATE_LIMITED]);
        md_num(b, q.p50, 3);
        md_num(b, q.p95, 3);
        md_num(b, q.max, 3);
        if (isnan(rs->in_flight_mean))
            bprintf(b, " - / %u |", rs->in_flight_max);
        else
            bprintf(b, " %.2f / %u |", rs->in_flight_mean, rs->in_flight_max);
        bprintf(b, " %u / %u / %u | %.2f | ", rr->final.current_limit, rr->final.min_limit,
                rr->final.effective_max, (double)rs->cooldown_ns / 1e9);
        if (rs->utilization_while_others_cooling >= 0)
            bprintf(b, "%.3f |\n", rs->utilization_while_others_cooling);
        else
            bprintf(b, "- |\n");
    }
    bprintf(b, "\n| provider | busy fraction |\n|---|---|\n");
    for (uint32_t i = 0; i < rep->provider_count; i++) {
        bprintf(b, "| %s |", rep->provider_names[i]);
        md_num(b, rep->provider_busy_fraction[i], 3);
        bprintf(b, "\n");
    }
}

/* Iteration 0 in detail: groups, request resources, the correlated view. */
static void md_details(buf *b, const res_run_record *first, const res_summary *s) {
    bprintf(b, "\n## Groups (iteration 0)\n\nWait = dispatch time - ready time.\n\n"
               "| column | tasks | first wait (s) | mean (s) | p50 (s) | p95 (s) | max (s) | "
               "idle (s) |\n|---|---|---|---|---|---|---|---|\n");
    for (uint32_t c = 0; c < s->column_count; c++) {
        const res_column_summary *cs = &s->columns[c];
        bprintf(b, "| ");
        md_cell(b, cs->column);
        bprintf(b, " | %llu |", (unsigned long long)cs->tasks);
        const double figures[] = {cs->first_wait_seconds, cs->wait_mean_seconds,
                                  cs->wait_p50_seconds,   cs->wait_p95_seconds,
                                  cs->wait_max_seconds,   cs->idle_seconds};
        for (size_t k = 0; k < sizeof figures / sizeof *figures; k++)
            md_num(b, figures[k], 3);
        bprintf(b, "\n");
    }
    if (first->request_resource_count) md_request_resources(b, first, s);
    correlated_markdown(b, s);
}

char *res_markdown_summary(res_run_record *const *runs, res_summary *const *summaries,
                           size_t count) {
    buf b = {0};
    md_head(&b, runs[0]);
    for (size_t i = 0; i < count; i++)
        md_row(&b, runs[i], summaries[i]);
    md_details(&b, runs[0], summaries[0]);
    return bdone(&b);
}

/* CSV fields here are identifiers without quotes or commas except resource
** keys and column names, which are quoted when needed. */
bool res_csv_needs_quotes(const char *s) {
    return strpbrk(s, ",\"\r\n") != NULL;
}

/* Where a CSV field's bytes go: len bytes of text, in order. */
typedef void csv_put(void *to, const char *text, size_t len);

/* The one CSV quoting (RFC 4180): s as it is, or in quotes with each quote
** doubled when res_csv_needs_quotes(s); through put, to to. */
static void csv_quote(const char *s, csv_put *put, void *to) {
    if (!res_csv_needs_quotes(s)) {
        put(to, s, strlen(s));
        return;
    }
    put(to, "\"", 1);
    for (const char *q; (q = strchr(s, '"')) != NULL; s = q + 1) {
        put(to, s, (size_t)(q - s) + 1); /* up to and with the quote, */
        put(to, "\"", 1);                /* doubled */
    }
    put(to, s, strlen(s));
    put(to, "\"", 1);
}

static void put_buf(void *to, const char *text, size_t len) {
    bprintf(to, "%.*s", (int)len, text);
}

static void put_file(void *to, const char *text, size_t len) {
    fwrite(text, 1, len, to);
}

static void csv_field(buf *b, const char *s) {
    csv_quote(s, put_buf, b);
}

void res_csv_write_field(FILE *out, const char *s) {
    if (s) csv_quote(s, put_file, out);
}

/* One figure's row; none for an absent one (NaN: a figure over an empty
** set, a share of no time). */
static void csv_row(buf *b, uint32_t iteration, const char *scope_kind, const char *scope,
                    const char *name, double value) {
    if (isnan(value)) return;
    bprintf(b, "%u,", iteration);
    char full[512];
    snprintf(full, sizeof full, "%s%s%s", scope_kind, scope[0] ? ":" : "", scope);
    csv_field(b, full);
    bprintf(b, ",%s,%.9g\n", name, value);
}

static const char METRICS_CSV_HEAD[] = "iteration,scope,name,value\n";

static void metrics_rows(buf *b, const res_run_record *r, const res_summary *s) {
    uint32_t it = r->iteration;
    csv_row(b, it, "run", "", "wall_time_seconds", s->wall_time_seconds);
    csv_row(b, it, "run", "", "slot_utilization", s->slot_utilization);
    csv_row(b, it, "run", "", "final_task_leases", (double)r->final_task_leases);
    csv_row(b, it, "run", "", "final_request_leases", (double)r->final_request_leases);
    csv_row(b, it, "run", "", "final_request_waiters", (double)r->final_request_waiters);
    csv_row(b, it, "run", "", "hidden_scheduler_resource_waiters", (double)r->stats.hidden_waiters);
    for (uint32_t c = 0; c < s->column_count; c++) {
        const res_column_summary *cs = &s->columns[c];
        csv_row(b, it, "group", cs->column, "tasks", (double)cs->tasks);
        csv_row(b, it, "group", cs->column, "first_wait_seconds", cs->first_wait_seconds);
        csv_row(b, it, "group", cs->column, "wait_mean_seconds", cs->wait_mean_seconds);
        csv_row(b, it, "group", cs->column, "wait_p50_seconds", cs->wait_p50_seconds);
        csv_row(b, it, "group", cs->column, "wait_p95_seconds", cs->wait_p95_seconds);
        csv_row(b, it, "group", cs->column, "wait_max_seconds", cs->wait_max_seconds);
        csv_row(b, it, "group", cs->column, "idle_seconds", cs->idle_seconds);
    }
    const res_request_report *rep = s->request;
    for (uint32_t q = 0; q < r->request_resource_count; q++) {
        const res_request_stats *rs = &rep->resources[q];
        const res_request_resource *rr = &r->request[q];
        res_wait_quantiles w = res_request_waits(rs);
        csv_row(b, it, "request", rr->key, "attempts", (double)rs->attempts);
        csv_row(b, it, "request", rr->key, "leases", (double)rs->leases);
        csv_row(b, it, "request", rr->key, "rate_limited",
                (double)rs->outcomes[ADMIT_REQ_RATE_LIMITED]);
        csv_row(b, it, "request", rr->key, "request_wait_p50_seconds", w.p50);
        csv_row(b, it, "request", rr->key, "request_wait_p95_seconds", w.p95);
        csv_row(b, it, "request", rr->key, "request_wait_max_seconds", w.max);
        csv_row(b, it, "request", rr->key, "in_flight_mean", rs->in_flight_mean);
        csv_row(b, it, "request", rr->key, "in_flight_max", rs->in_flight_max);
        csv_row(b, it, "request", rr->key, "current_limit_end", rr->final.current_limit);
        csv_row(b, it, "request", rr->key, "current_limit_min", rr->final.min_limit);
        csv_row(b, it, "request", rr->key, "cooldown_seconds", (double)rs->cooldown_ns / 1e9);
        if (rs->utilization_while_others_cooling >= 0)
            csv_row(b, it, "request", rr->key, "utilization_while_others_cooling",
                    rs->utilization_while_others_cooling);
    }
    for (uint32_t p = 0; p < rep->provider_count; p++)
        csv_row(b, it, "provider", rep->provider_names[p], "busy_fraction",
                rep->provider_busy_fraction[p]);
}

char *res_metrics_csv(res_run_record *const *runs, res_summary *const *summaries, size_t count) {
    buf b = {0};
    bprintf(&b, "%s", METRICS_CSV_HEAD);
    for (size_t i = 0; i < count; i++)
        metrics_rows(&b, runs[i], summaries[i]);
    return bdone(&b);
}

static void tasks_head(buf *b) {
    bprintf(b, "iteration,task_execution_id,task_id,column,row_group,worker_attempt,end_state,"
               "attempts,rate_limited_attempts");
    for (int t = 0; t < RES_TS_COUNT; t++)
        bprintf(b, ",%s_ns", res_ts_name((res_ts)t));
    bprintf(b, ",request_wait_ns,cooldown_wait_ns,provider_ns\n");
}

static void tasks_row(buf *b, const res_run_record *run, const res_view_row *r) {
    static const char *const ends[] = {"running", "completed", "cancelled", "dropped", "deferred"};
    bprintf(b, "%u,%llu,%llu,", run->iteration, (unsigned long long)r->task_execution_id,
            (unsigned long long)r->task_id);
    if (r->column >= 0 && (uint32_t)r->column < run->config->column_count)
        csv_field(b, run->config->columns[r->column].name);
    bprintf(b, ",%lld,%lld,%s,%u,%u", (long long)r->row_group, (long long)r->worker_attempt,
            ends[r->end], r->attempts, r->rate_limited_attempts);
    for (int t = 0; t < RES_TS_COUNT; t++) {
        if (r->at[t] >= 0)
            bprintf(b, ",%lld", (long long)r->at[t]);
        else
            bprintf(b, ",");
    }
    bprintf(b, ",%lld,%lld,%lld\n", (long long)r->request_wait_ns, (long long)r->cooldown_wait_ns,
            (long long)r->provider_ns);
}

char *res_task_timelines_csv(res_run_record *const *runs, res_summary *const *summaries,
                             size_t count) {
    buf b = {0};
    tasks_head(&b);
    for (size_t k = 0; k < count; k++) {
        const res_correlated_view *v = summaries[k]->view;
        for (size_t i = 0; v && i < v->row_count; i++)
            tasks_row(&b, runs[k], &v->rows[i]);
    }
    return bdone(&b);
}

/* ---- writing ------------------------------------------------------------ */

int res_write_atomic(const char *dir, const char *name, bool (*write)(FILE *f, const void *ctx),
                     const void *ctx, char *err, size_t errlen) {
    res_atomic_file a;
    res_error e = {0};
    if (res_atomic_file_open(&a, dir, name, &e)) {
        if (write(a.f, ctx)) {
            if (res_atomic_file_commit(&a, &e)) return 0;
        } else {
            res_error_set(&e, RES_EIO, "%s: cannot write: %s", a.tmp,
                          strerror(errno ? errno : EIO));
            res_atomic_file_abort(&a);
        }
    }
    snprintf(err, errlen, "%s", e.message);
    return -1;
}

static bool write_text(FILE *f, const void *text) {
    size_t len = strlen(text);
    return fwrite(text, 1, len, f) == len;
}

int res_write_text_atomic(const char *text, const char *dir, const char *name, char *err,
                          size_t errlen) {
    return res_write_atomic(dir, name, write_text, text, err, errlen);
}

/* ---- the streaming writer -------------------------------------------------- */

struct res_report_writer {
    res_atomic_file md, metrics, tasks;
    buf head, rows, details; /* the Markdown file, in its three parts */
    uint32_t count;
};

/* Appends b's text to f and empties b. */
static bool flush_to(buf *b, res_atomic_file *f, res_error *err) {
    if (b->failed) return res_error_set(err, RES_ENOMEM, "out of memory writing %s", f->path);
    if (b->len && fwrite(b->s, 1, b->len, f->f) != b->len)
        return res_error_set(err, RES_EIO, "%s: cannot write: %s", f->tmp, strerror(errno));
    b->len = 0;
    return true;
}

res_report_writer *res_report_writer_open(const char *dir, const char *base, res_error *err) {
    res_report_writer *w = calloc(1, sizeof *w);
    if (!w) {
        res_error_set(err, RES_ENOMEM, "out of memory opening the reports");
        return NULL;
    }
    char name[NAME_MAX + 1];
    bool ok = true;
    snprintf(name, sizeof name, "%.*s.md", NAME_MAX - 3, base);
    ok = ok && res_atomic_file_open(&w->md, dir, name, err);
    snprintf(name, sizeof name, "%.*s-metrics.csv", NAME_MAX - 12, base);
    ok = ok && res_atomic_file_open(&w->metrics, dir, name, err);
    snprintf(name, sizeof name, "%.*s-tasks.csv", NAME_MAX - 10, base);
    ok = ok && res_atomic_file_open(&w->tasks, dir, name, err);
    if (!ok) {
        res_report_writer_abort(w);
        return NULL;
    }
    return w;
}

bool res_report_writer_add(res_report_writer *w, const res_run_record *r, const res_summary *s,
                           res_error *err) {
    buf b = {0};
    if (w->count == 0) {
        md_head(&w->head, r);
        md_details(&w->details, r, s);
        bprintf(&b, "%s", METRICS_CSV_HEAD);
    }
    md_row(&w->rows, r, s);
    metrics_rows(&b, r, s);
    bool ok = flush_to(&b, &w->metrics, err);
    if (ok && w->count == 0) tasks_head(&b);
    for (size_t i = 0; ok && s->view && i < s->view->row_count; i++) {
        tasks_row(&b, r, &s->view->rows[i]);
        if (b.len >= 1 << 16) ok = flush_to(&b, &w->tasks, err);
    }
    ok = ok && flush_to(&b, &w->tasks, err);
    free(b.s);
    if (ok && (w->head.failed || w->rows.failed || w->details.failed))
        ok = res_error_set(err, RES_ENOMEM, "out of memory writing %s", w->md.path);
    w->count++;
    return ok;
}

bool res_report_writer_seal(res_report_writer *w, res_error *err) {
    return flush_to(&w->head, &w->md, err) && flush_to(&w->rows, &w->md, err) &&
           flush_to(&w->details, &w->md, err) && res_atomic_file_seal(&w->md, err) &&
           res_atomic_file_seal(&w->metrics, err) && res_atomic_file_seal(&w->tasks, err);
}

void res_report_writer_abort(res_report_writer *w) {
    if (!w) return;
    res_atomic_file_abort(&w->md);
    res_atomic_file_abort(&w->metrics);
    res_atomic_file_abort(&w->tasks);
    free(w->head.s);
    free(w->rows.s);
    free(w->details.s);
    free(w);
}

res_atomic_file *res_report_writer_file(res_report_writer *w, int which) {
    return which == 0 ? &w->md : which == 1 ? &w->metrics : &w->tasks;
}

const char *res_report_writer_path(const res_report_writer *w, int which) {
    return which == 0 ? w->md.path : which == 1 ? w->metrics.path : w->tasks.path;
}
