/*
** Run records (res/run_record.h): allocation and the end-of-run check.
*/
#include "res/run_record.h"

#include <stdlib.h>

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
    free(r->events);
    free(r->request_events);
    free(r->final_leased);
    free(r->max_leased);
    free(r->max_queued_by_group);
    free(r->column_tasks);
    free(r->output_hash);
    free(r);
}

bool res_run_record_is_clean(const res_run_record *r) {
    return r->final_task_leases == 0 && r->final_request_leases == 0 &&
           r->final_request_waiters == 0;
}
