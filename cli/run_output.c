/* What `run` and `live` print of a run (run_output.h). */
#define _GNU_SOURCE /* open_memstream */
#include "run_output.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "res/request_report.h"

/* x into s; an absent figure (NaN) is left out, so s->n counts the
** iterations that have it. */
static void spread_add(cli_spread *s, double x) {
    if (isnan(x)) return;
    s->n++;
    double d = x - s->mean;
    s->mean += d / (double)s->n;
    s->m2 += d * (x - s->mean);
}

/* The sample standard deviation (0 for one value). */
static double spread_sd(const cli_spread *s) {
    return s->n > 1 ? sqrt(s->m2 / (double)(s->n - 1)) : 0.0;
}

/* x right-aligned in width with digits decimals, after a space; "-" for an
** absent figure (NaN: over an empty set, a share of no time). */
static void num(FILE *f, int width, int digits, double x) {
    if (isnan(x))
        fprintf(f, " %*s", width, "-");
    else
        fprintf(f, " %*.*f", width, digits, x);
}

static void print_columns(FILE *f, const res_summary *s) {
    fprintf(f, "%-20s %8s %12s %11s %10s %10s %10s %10s\n", "column", "tasks", "first_wait_s",
            "wait_mean_s", "wait_p50_s", "wait_p95_s", "wait_max_s", "idle_s");
    for (uint32_t c = 0; c < s->column_count; c++) {
        const res_column_summary *cs = &s->columns[c];
        fprintf(f, "%-20.20s %8llu", cs->column, (unsigned long long)cs->tasks);
        num(f, 12, 3, cs->first_wait_seconds);
        num(f, 11, 3, cs->wait_mean_seconds);
        num(f, 10, 3, cs->wait_p50_seconds);
        num(f, 10, 3, cs->wait_p95_seconds);
        num(f, 10, 3, cs->wait_max_seconds);
        num(f, 10, 3, cs->idle_seconds);
        fputc('\n', f);
    }
}

static void print_requests(FILE *f, const res_summary *s, const res_run_record *run) {
    fprintf(f, "%-28s %8s %8s %12s %10s %10s %10s %10s %9s %9s %9s %10s %15s\n", "request resource",
            "attempts", "leases", "rate_limited", "wait_p50_s", "wait_p95_s", "wait_max_s",
            "in_flight", "peak", "limit_end", "limit_min", "cooldown_s", "util_others_cool");
    const res_request_report *rep = s->request;
    for (uint32_t r = 0; r < run->request_resource_count; r++) {
        const res_request_stats *rs = &rep->resources[r];
        const res_request_resource *rr = &run->request[r];
        res_wait_quantiles q = res_request_waits(rs);
        fprintf(f, "%-28.28s %8llu %8llu %12llu", rr->key, (unsigned long long)rs->attempts,
                (unsigned long long)rs->leases,
                (unsigned long long)rs->outcomes[ADMIT_REQ_RATE_LIMITED]);
        num(f, 10, 3, q.p50);
        num(f, 10, 3, q.p95);
        num(f, 10, 3, q.max);
        num(f, 10, 2, rs->in_flight_mean);
        fprintf(f, " %9u %9u %9u %10.2f ", rs->in_flight_max, rr->final.current_limit,
                rr->final.min_limit, (double)rs->cooldown_ns / 1e9);
        if (rs->utilization_while_others_cooling >= 0)
            fprintf(f, "%15.3f\n", rs->utilization_while_others_cooling);
        else
            fprintf(f, "%15s\n", "-");
    }
    for (uint32_t i = 0; i < rep->provider_count; i++) {
        fprintf(f, "provider %s busy", rep->provider_names[i]);
        num(f, 0, 3, rep->provider_busy_fraction[i]);
        fputc('\n', f);
    }
}

void cli_print_run_table(FILE *f, const res_summary *s, const res_run_record *run,
                         uint64_t iterations) {
    fprintf(f, "scenario %s  policy %s  seed %llu  ", run->config->scenario_id,
            run_policy_name(run->policy), (unsigned long long)run->seed);
    if (iterations > 1)
        fprintf(f, "iteration 0 of %llu (mean +- stddev over all %llu at the end)",
                (unsigned long long)iterations, (unsigned long long)iterations);
    else
        fprintf(f, "iterations 1");
    fprintf(f, "  status %s\n", admit_job_status_name(run->status));
    fprintf(f, "wall time %.3f s  slot utilization", s->wall_time_seconds);
    num(f, 0, 3, s->slot_utilization);
    fprintf(f, "  final task leases %llu  tasks %llu done, %llu dropped\n",
            (unsigned long long)s->final_task_leases,
            (unsigned long long)run->stats.tasks_completed,
            (unsigned long long)run->stats.tasks_dropped);
    print_columns(f, s);
    if (run->request_resource_count) print_requests(f, s, run);
    fprintf(f, "legend: seconds are virtual.  wait: ready to task lease; first_wait: the "
               "column's first task's;\n"
               "  idle: time no task of the column ran\n");
    if (run->request_resource_count)
        fprintf(f, "  request wait: request admission, attempt to lease; rate_limited: "
                   "answers (429s);\n"
                   "  in_flight: mean model calls in flight, peak: their most; limit_end, "
                   "limit_min: the adaptive\n"
                   "  limit at the end and at its lowest; cooldown_s: time cooling down; "
                   "util_others_cool: in flight /\n"
                   "  effective max while another provider cooled (- when none did)\n");
    for (uint32_t i = 0; i < run->diagnostic_count; i++)
        fprintf(f, "diagnostic: %s\n", run->diagnostics[i]);
}

/* Adds one iteration's headline figures. */
static void add_iteration(cli_run_output *o, const res_summary *s) {
    spread_add(&o->wall, s->wall_time_seconds);
    spread_add(&o->utilization, s->slot_utilization);
    if (!o->columns && s->column_count) {
        o->columns = calloc(s->column_count, sizeof *o->columns);
        if (!o->columns) {
            o->oom = true;
            return;
        }
        o->column_count = s->column_count;
        for (uint32_t c = 0; c < s->column_count; c++)
            snprintf(o->columns[c].name, sizeof o->columns[c].name, "%s", s->columns[c].column);
    }
    for (uint32_t c = 0; c < o->column_count && c < s->column_count; c++) {
        spread_add(&o->columns[c].wait_mean, s->columns[c].wait_mean_seconds);
        spread_add(&o->columns[c].wait_p95, s->columns[c].wait_p95_seconds);
    }
}

void cli_run_output_render(void *ctx, const res_run_record *r, const res_summary *s) {
    cli_run_output *o = ctx;
    add_iteration(o, s);
    if (r->iteration != 0) return;
    FILE *f = open_memstream(&o->text, &o->len);
    if (!f) {
        o->oom = true;
        return;
    }
    if (o->json) {
        json_t *j = res_summary_to_json(s, r);
        if (!j || json_dumpf(j, f, JSON_COMPACT | JSON_REAL_PRECISION(15)) != 0) o->oom = true;
        fputc('\n', f);
        json_decref(j);
    } else {
        cli_print_run_table(f, s, r, o->iterations);
    }
    if (fclose(f) != 0) o->oom = true;
}

/* "12.345 +- 0.678" over the iterations that have the figure, " (k of n)"
** added when some of the n lack it; "-" when none has it. */
static const char *pm(char *buf, size_t len, const cli_spread *s, int digits, uint64_t n) {
    if (!s->n)
        snprintf(buf, len, "-");
    else if (s->n < n)
        snprintf(buf, len, "%.*f +- %.*f (%llu of %llu)", digits, s->mean, digits, spread_sd(s),
                 (unsigned long long)s->n, (unsigned long long)n);
    else
        snprintf(buf, len, "%.*f +- %.*f", digits, s->mean, digits, spread_sd(s));
    return buf;
}

void cli_run_output_print(FILE *f, const cli_run_output *o) {
    if (o->text) fputs(o->text, f);
    if (o->json || o->wall.n < 2) return;
    char a[64], b[64];
    fprintf(f, "over all %llu iterations (mean +- sample stddev):\n",
            (unsigned long long)o->wall.n);
    uint64_t n = o->wall.n; /* every iteration has a wall time */
    fprintf(f, "wall time %s s  slot utilization %s\n", pm(a, sizeof a, &o->wall, 3, n),
            pm(b, sizeof b, &o->utilization, 3, n));
    fprintf(f, "%-20s %22s %22s\n", "column", "wait_mean_s", "wait_p95_s");
    for (uint32_t c = 0; c < o->column_count; c++)
        fprintf(f, "%-20.20s %22s %22s\n", o->columns[c].name,
                pm(a, sizeof a, &o->columns[c].wait_mean, 3, n),
                pm(b, sizeof b, &o->columns[c].wait_p95, 3, n));
}

void cli_run_output_free(cli_run_output *o) {
    free(o->text);
    free(o->columns);
    o->text = NULL;
    o->columns = NULL;
}
