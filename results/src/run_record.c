/*
** Run records (res/run_record.h): allocation and the end-of-run check.
*/
#include "res/run_record.h"

#include "res/event_names.h"
#include "res/spill.h"
#include "res/summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

res_run_record *res_run_record_create(const run_config *config) {
    res_run_record *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    size_t n = config->column_count ? config->column_count : 1;
    r->config = config;
    r->mode = "simulated";
    r->column_group = calloc(n, sizeof *r->column_group);
    r->column_resources = calloc(n, sizeof *r->column_resources);
    r->column_tasks = calloc(n, sizeof *r->column_tasks);
    r->output_hash = calloc(n, sizeof *r->output_hash);
    if (!r->column_group || !r->column_resources || !r->column_tasks || !r->output_hash) {
        res_run_record_free(r);
        return NULL;
    }
    return r;
}

bool res_run_record_shape(res_run_record *r, uint32_t resource_count, uint32_t group_count,
                          uint32_t request_resource_count) {
    size_t nr = resource_count ? resource_count : 1, ng = group_count ? group_count : 1;
    size_t nq = request_resource_count ? request_resource_count : 1;
    r->resource_count = resource_count;
    r->group_count = group_count;
    r->request_resource_count = request_resource_count;
    r->resource_names = calloc(nr, sizeof *r->resource_names);
    r->resource_limits = calloc(nr, sizeof *r->resource_limits);
    r->final_leased = calloc(nr, sizeof *r->final_leased);
    r->max_leased = calloc(nr, sizeof *r->max_leased);
    r->groups = calloc(ng, sizeof *r->groups);
    r->max_queued_by_group = calloc(ng, sizeof *r->max_queued_by_group);
    r->request = calloc(nq, sizeof *r->request);
    return r->resource_names && r->resource_limits && r->final_leased && r->max_leased &&
           r->groups && r->max_queued_by_group && r->request;
}

void res_run_record_free(res_run_record *r) {
    if (!r) return;
    json_decref(r->environment);
    free(r->groups);
    free(r->column_group);
    free(r->column_resources);
    free(r->resource_names);
    free(r->resource_limits);
    free(r->request);
    res_event_log_free(r->events);
    res_event_log_free(r->request_events);
    res_spill_free(r->spilled[0]);
    res_spill_free(r->spilled[1]);
    res_summary_free(r->summary);
    free(r->final_leased);
    free(r->max_leased);
    free(r->max_queued_by_group);
    free(r->column_tasks);
    free(r->output_hash);
    free(r);
}

struct res_summary *res_run_record_take_summary(res_run_record *r) {
    struct res_summary *s = r->summary;
    r->summary = NULL;
    return s;
}

uint64_t res_run_record_events_made(const res_run_record *r) {
    return r->events_made ? r->events_made
                          : res_event_log_count(r->events) + res_event_log_count(r->request_events);
}

bool res_run_record_add_event(res_run_record *r, const admit_event *ev) {
    res_event_log **log = ev->stream == ADMIT_STREAM_REQUEST ? &r->request_events : &r->events;
    if (!*log && !(*log = res_event_log_create())) return false;
    return res_event_log_append(*log, ev);
}

static uint64_t spilled_count(const res_run_record *r) {
    uint64_t n = 0;
    for (int k = 0; k < 2; k++)
        n += r->spilled[k] ? res_spill_count(r->spilled[k]) : 0;
    return n;
}

uint64_t res_run_record_kept_count(const res_run_record *r) {
    return res_event_log_count(r->events) + res_event_log_count(r->request_events) +
           spilled_count(r);
}

uint64_t res_run_record_notable_count(const res_run_record *r) {
    uint64_t n = spilled_count(r);
    const res_event_log *logs[2] = {r->events, r->request_events};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < res_event_log_count(logs[k]); i++) {
            admit_event ev = res_event_log_at(logs[k], i);
            n += !res_event_is_lifecycle(&ev);
        }
    return n;
}

/* The source's next event into src->ev (has false at its end or on a read
** error, then k->error says which). */
static void kept_advance(res_kept_reader *k, res_kept_source *src) {
    src->has = false;
    if (src->next < res_event_log_count(src->log)) {
        src->ev = res_event_log_at(src->log, src->next++);
        src->has = true;
    } else if (src->spill) {
        src->has = res_spill_next(src->spill, &src->ev);
        if (!src->has && res_spill_error(src->spill)) k->error = res_spill_error(src->spill);
    }
}

bool res_kept_begin(res_kept_reader *k, const res_run_record *r) {
    memset(k, 0, sizeof *k);
    k->src[ADMIT_STREAM_SCHEDULER].log = r->events;
    k->src[ADMIT_STREAM_REQUEST].log = r->request_events;
    for (int s = 0; s < 2; s++) {
        k->src[s].spill = r->spilled[s];
        if (k->src[s].spill && !res_spill_rewind(k->src[s].spill)) {
            k->error = res_spill_error(k->src[s].spill);
            return false;
        }
        kept_advance(k, &k->src[s]);
    }
    return !k->error;
}

bool res_kept_next(res_kept_reader *k, admit_event *ev) {
    res_kept_source *a = &k->src[ADMIT_STREAM_SCHEDULER], *b = &k->src[ADMIT_STREAM_REQUEST];
    if (k->error || (!a->has && !b->has)) return false;
    res_kept_source *take =
        !b->has || (a->has && a->ev.captured_at_ns <= b->ev.captured_at_ns) ? a : b;
    *ev = take->ev;
    kept_advance(k, take);
    return true;
}

const char *res_kept_error(const res_kept_reader *k) {
    return k->error;
}

bool res_run_record_is_clean(const res_run_record *r) {
    return r->final_task_leases == 0 && r->final_request_leases == 0 &&
           r->final_request_waiters == 0;
}

/* ---- filling a record from the core objects of a run ----------------------- */

bool res_run_record_shape_from_assembly(res_run_record *run, const run_assembly *a) {
    const admit_request_resolver *rr = run_assembly_request_resolver(a);
    admit_request_admission *adm = run_assembly_request_admission(a);
    if (!res_run_record_shape(run, run_assembly_resource_count(a), run_assembly_group_count(a),
                              admit_request_resolver_resource_count(rr)))
        return false;
    memcpy(run->groups, run_assembly_groups(a), run->group_count * sizeof *run->groups);
    for (uint32_t c = 0; c < run->config->column_count; c++) {
        run->column_group[c] = run_assembly_column_group(a, c);
        run->column_resources[c] = *run_assembly_column_resources(a, c);
    }
    for (uint32_t r = 0; r < run->resource_count; r++) {
        snprintf(run->resource_names[r], sizeof run->resource_names[r], "%s",
                 run_assembly_resource_name(a, r));
        run->resource_limits[r] = run_assembly_resource_limits(a)[r];
    }
    for (uint32_t r = 0; r < run->request_resource_count; r++) {
        res_request_resource *q = &run->request[r];
        uint32_t pm = admit_request_resolver_resource_pm(rr, r);
        snprintf(q->key, sizeof q->key, "%s", admit_request_resolver_resource_key(rr, r));
        snprintf(q->provider, sizeof q->provider, "%s", admit_request_resolver_pm_provider(rr, pm));
        admit_request_admission_snapshot(adm, r, &q->initial);
    }
    for (uint32_t i = 0; i < run_assembly_diagnostic_count(a) && i < RES_RECORD_DIAGNOSTICS; i++)
        snprintf(run->diagnostics[run->diagnostic_count++], sizeof run->diagnostics[0], "%s",
                 run_assembly_diagnostic(a, i));
    return true;
}

void res_run_record_read_end(res_run_record *run, const run_assembly *a) {
    admit_scheduler *sched = run_assembly_scheduler(a);
    admit_request_admission *adm = run_assembly_request_admission(a);
    run->status = admit_scheduler_status(sched);
    admit_scheduler_stats_get(sched, &run->stats);
    const admit_task_admission *ta = admit_scheduler_admission(sched);
    admit_task_admission_stats_get(ta, &run->admission_stats);
    const admit_admission_view *av = admit_task_admission_view(ta);
    run->final_task_leases = av->leases_active;
    memcpy(run->final_leased, av->leased, run->resource_count * sizeof *run->final_leased);
    memcpy(run->max_leased, av->max_leased, run->resource_count * sizeof *run->max_leased);
    run->final_queued = admit_fair_queue_view(admit_scheduler_queue(sched))->queued_total;
    memcpy(run->max_queued_by_group, admit_scheduler_max_queued_by_group(sched),
           run->group_count * sizeof *run->max_queued_by_group);
    for (uint32_t r = 0; r < run->request_resource_count; r++)
        admit_request_admission_snapshot(adm, r, &run->request[r].final);
    admit_request_admission_stats_get(adm, &run->request_admission_stats);
    admit_model_executor_stats_get(run_assembly_executor(a), &run->executor_stats);
    run->final_request_leases = run->request_admission_stats.leases_active;
    run->final_request_waiters = run->request_admission_stats.waiters_queued;
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0x7fb5d329728ea185ULL;
    return h ^ (h >> 27);
}

void res_run_record_hash_outputs(res_run_record *run, admit_tracker *tracker,
                                 const uint64_t *column_seed) {
    run->output_hash_all = 0;
    for (uint32_t c = 0; c < run->config->column_count; c++)
        run->output_hash[c] = 0xcbf29ce484222325ULL;
    size_t n = admit_tracker_task_count(tracker);
    for (size_t i = 0; i < n; i++) {
        const admit_task *t = admit_tracker_task(tracker, i);
        run->column_tasks[t->column]++;
        if (admit_tracker_state(tracker, t) != ADMIT_TASK_DONE) continue;
        uint64_t value = mix(column_seed[t->column], t->task_id);
        run->output_hash[t->column] = mix(run->output_hash[t->column], mix(t->task_id, value));
    }
    for (uint32_t c = 0; c < run->config->column_count; c++)
        run->output_hash_all = mix(run->output_hash_all, run->output_hash[c]);
}
