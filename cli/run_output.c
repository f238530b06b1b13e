/* What `run` and `live` print of a run (run_output.h). */
#define _GNU_SOURCE /* open_memstream */
#include "run_output.h"

#include <jansson.h>
#include <stdio.h>

#include "res/request_report.h"

void cli_print_run_table(FILE *f, const res_summary *s, const res_run_record *run,
                         uint64_t iterations) {
    fprintf(f, "scenario %s  policy %s  seed %llu  iterations %llu  status %s\n",
            run->config->scenario_id, run_policy_name(run->policy), (unsigned long long)run->seed,
            (unsigned long long)iterations, admit_job_status_name(run->status));
    fprintf(
        f,
        "wall time %.3f s  slot utilization %.3f  final task leases %llu  tasks %llu done, %llu "
        "dropped\n",
        s->wall_time_seconds, s->slot_utilization, (unsigned long long)s->final_task_leases,
        (unsigned long long)run->stats.tasks_completed,
        (unsigned long long)run->stats.tasks_dropped);
    fprintf(f, "%-20s %8s %10s %10s %10s %10s %10s %10s\n", "column", "tasks", "first_wait",
            "wait_mean", "wait_p50", "wait_p95", "wait_max", "idle");
    for (uint32_t c = 0; c < s->column_count; c++) {
        const res_column_summary *cs = &s->columns[c];
        fprintf(f, "%-20.20s %8llu %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f\n", cs->column,
                (unsigned long long)cs->tasks, cs->first_wait_seconds, cs->wait_mean_seconds,
                cs->wait_p50_seconds, cs->wait_p95_seconds, cs->wait_max_seconds, cs->idle_seconds);
    }
    if (run->request_resource_count) {
        fprintf(f, "%-28s %8s %8s %6s %9s %9s %9s %7s %5s %5s %5s %8s %8s\n", "request resource",
                "attempts", "leases", "429s", "wait_p50", "wait_p95", "wait_max", "flight", "max",
                "limit", "min", "cooldown", "util_oc");
        const res_request_report *rep = s->request;
        for (uint32_t r = 0; r < run->request_resource_count; r++) {
            const res_request_stats *rs = &rep->resources[r];
            const res_request_resource *rr = &run->request[r];
            res_wait_quantiles q = res_request_waits(rs);
            fprintf(f, "%-28.28s %8llu %8llu %6llu %9.3f %9.3f %9.3f %7.2f %5u %5u %5u %8.2f ",
                    rr->key, (unsigned long long)rs->attempts, (unsigned long long)rs->leases,
                    (unsigned long long)rs->outcomes[ADMIT_REQ_RATE_LIMITED], q.p50, q.p95, q.max,
                    rs->in_flight_mean, rs->in_flight_max, rr->final.current_limit,
                    rr->final.min_limit, (double)rs->cooldown_ns / 1e9);
            if (rs->utilization_while_others_cooling >= 0)
                fprintf(f, "%8.3f\n", rs->utilization_while_others_cooling);
            else
                fprintf(f, "%8s\n", "-");
        }
        for (uint32_t i = 0; i < rep->provider_count; i++)
            fprintf(f, "provider %s busy %.3f\n", rep->provider_names[i],
                    rep->provider_busy_fraction[i]);
    }
    for (uint32_t i = 0; i < run->diagnostic_count; i++)
        fprintf(f, "diagnostic: %s\n", run->diagnostics[i]);
}

void cli_run_output_render(void *ctx, const res_run_record *r, const res_summary *s) {
    cli_run_output *o = ctx;
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
