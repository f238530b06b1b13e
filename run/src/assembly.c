/*
** Building one run's core objects from its configuration (run/assembly.h).
*/
#include "run/assembly.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/metadata.h"
#include "admit/provider_aware.h"
#include "admit/task_admission.h"

struct run_assembly {
    const run_config *cfg;
    admit_resolver *res;
    admit_column_spec *cols;
    uint32_t *column_group;
    admit_resource_request *column_resources;
    uint32_t *limits;
    admit_request_resolver *rr;
    int32_t *call_resource; /* [column * RUN_MAX_STEPS + step]: request resource or -1 */
    int32_t *call_group;    /* same shape: request group */
    admit_request_admission *adm;
    admit_model_executor *exec;
    admit_scheduler *sched;
    run_clock clock;  /* the scheduler's runtime seam (seam_*): the clock, */
    admit_runtime rt; /* and the wake, spawn and cancel hooks with their ctx */
};

static bool core_error(run_error *err, const run_config *cfg, const admit_error *aerr,
                       const char *otherwise) {
    if (aerr->message[0])
        return run_error_set(err, aerr->code == ADMIT_ENOMEM ? RUN_ENOMEM : RUN_ECORE,
                             "%.400s: %.500s", cfg->path, aerr->message);
    return run_error_set(err, RUN_ENOMEM, "%.400s: %s", cfg->path, otherwise);
}

static bool oom(run_error *err, const run_config *cfg, const char *what) {
    return run_error_set(err, RUN_ENOMEM, "%s: out of memory %s", cfg->path, what);
}

/* ---- task stage: groups, resources, limits ---------------------------------- */

static bool resolve_column(run_assembly *a, uint32_t c, run_error *err) {
    const run_column *col = &a->cfg->columns[c];
    admit_error aerr = {0};
    admit_resolver_input in = {.column = col->name, .admitted_limit = col->admitted_limit};
    if (col->has_metadata)
        in.metadata = col->metadata;
    else
        admit_metadata_default(&in.metadata);
    admit_resource_request over = {0};
    const char *names[ADMIT_MAX_TASK_RESOURCES];
    if (col->resource_count) {
        for (uint32_t i = 0; i < col->resource_count; i++) {
            names[i] = col->resources[i].name;
            over.resource[i] = (uint16_t)i;
            over.amount[i] = col->resources[i].amount;
        }
        over.count = (uint8_t)col->resource_count;
        in.resources_override = &over;
        in.override_names = names;
    }
    admit_resolved_column out;
    if (admit_resolver_resolve(a->res, &in, &out, &aerr) != ADMIT_OK)
        return run_error_set(err, aerr.code == ADMIT_ENOMEM ? RUN_ENOMEM : RUN_EINVAL,
                             "%.400s: $.columns[%u].scheduling: %.500s", a->cfg->path, c,
                             aerr.message);
    a->cols[c] = (admit_column_spec){.name = col->name,
                                     .strategy = col->strategy,
                                     .deps = col->deps,
                                     .dep_count = col->dep_count,
                                     .rows = col->rows,
                                     .available_at_ns = col->ready_at_ns,
                                     .group = out.group,
                                     .resources = out.resources};
    a->column_group[c] = out.group;
    a->column_resources[c] = out.resources;
    return true;
}

/* Every scheduler resource gets the configuration's capacity, else the
** resolver's derived limit; one with neither is an error. */
static bool resource_limits(run_assembly *a, run_error *err) {
    const run_config *cfg = a->cfg;
    uint32_t nres = admit_resolver_resource_count(a->res);
    a->limits = calloc(nres ? nres : 1, sizeof *a->limits);
    if (!a->limits) return oom(err, cfg, "resolving scheduling metadata");
    for (uint32_t r = 0; r < nres; r++) {
        const char *name = admit_resolver_resource_name(a->res, r);
        a->limits[r] = admit_resolver_derived_limit(a->res, r);
        for (uint32_t i = 0; i < cfg->capacity_count; i++)
            if (strcmp(cfg->capacity[i].name, name) == 0) a->limits[r] = cfg->capacity[i].amount;
        if (a->limits[r] == 0)
            return run_error_set(
                err, RUN_EINVAL,
                "%s: $.capacity: expected a capacity for scheduler resource \"%s\", got none",
                cfg->path, name);
    }
    return true;
}

static bool resolve_tasks(run_assembly *a, run_error *err) {
    const run_config *cfg = a->cfg;
    admit_error aerr = {0};
    uint32_t n = cfg->column_count ? cfg->column_count : 1;
    a->cols = calloc(n, sizeof *a->cols);
    a->column_group = calloc(n, sizeof *a->column_group);
    a->column_resources = calloc(n, sizeof *a->column_resources);
    a->res = admit_resolver_create(cfg->model_group_limit_cap, &aerr);
    if (!a->cols || !a->column_group || !a->column_resources || !a->res)
        return core_error(err, cfg, &aerr, "out of memory resolving scheduling metadata");
    for (uint32_t i = 0; i < cfg->capacity_count; i++)
        if (admit_resolver_resource_id(a->res, cfg->capacity[i].name) < 0)
            return oom(err, cfg, "resolving scheduling metadata");
    for (uint32_t c = 0; c < cfg->column_count; c++)
        if (!resolve_column(a, c, err)) return false;
    return resource_limits(a, err);
}

/* ---- request stage ------------------------------------------------------------ */

static int intern(run_assembly *a, uint32_t model, admit_request_domain domain) {
    int pm = admit_request_resolver_lookup(a->rr, a->cfg->models[model].alias);
    return pm < 0 ? -1 : admit_request_resolver_resource(a->rr, (uint32_t)pm, domain);
}

/* Canonicalizes every model alias and interns the request resources: the
** environment's endpoints first, then limits, then program calls. */
static bool build_request_resolver(run_assembly *a, const run_hooks *h, run_error *err) {
    const run_config *cfg = a->cfg;
    admit_error aerr = {0};
    a->rr = admit_request_resolver_create(&aerr);
    if (!a->rr) return core_error(err, cfg, &aerr, "out of memory resolving model aliases");
    for (uint32_t i = 0; i < cfg->model_count; i++) {
        const run_model_alias *m = &cfg->models[i];
        if (admit_request_resolver_add_alias(a->rr, m->alias, m->provider, m->model_id,
                                             m->max_parallel_requests, NULL, &aerr) != ADMIT_OK)
            return run_error_set(err, aerr.code == ADMIT_ENOMEM ? RUN_ENOMEM : RUN_EINVAL,
                                 "%.400s: $.models[%u]: %.500s", cfg->path, i, aerr.message);
    }
    for (uint32_t i = 0; i < h->endpoint_count; i++)
        if (intern(a, h->endpoint_models[i], h->endpoint_domains[i]) < 0)
            return oom(err, cfg, "resolving model aliases");
    for (uint32_t i = 0; i < cfg->request_limit_count; i++)
        if (intern(a, cfg->request_limits[i].model, cfg->request_limits[i].domain) < 0)
            return oom(err, cfg, "resolving model aliases");
    size_t cells = (size_t)(cfg->column_count ? cfg->column_count : 1) * RUN_MAX_STEPS;
    a->call_resource = malloc(cells * sizeof *a->call_resource);
    a->call_group = malloc(cells * sizeof *a->call_group);
    if (!a->call_resource || !a->call_group) return oom(err, cfg, "resolving model aliases");
    for (size_t i = 0; i < cells; i++)
        a->call_resource[i] = a->call_group[i] = -1;
    for (uint32_t c = 0; c < cfg->column_count; c++)
        for (uint32_t j = 0; j < cfg->columns[c].step_count; j++) {
            const run_step *st = &cfg->columns[c].program[j];
            if (st->kind != RUN_STEP_CALL) continue;
            int r = intern(a, st->model, st->domain);
            if (r < 0) return oom(err, cfg, "resolving model aliases");
            a->call_resource[(size_t)c * RUN_MAX_STEPS + j] = r;
        }
    return true;
}

static admit_request_admission *create_request_admission(run_assembly *a, const run_hooks *h,
                                                         uint64_t run_id, admit_error *aerr) {
    const run_config *cfg = a->cfg;
    uint32_t n = admit_request_resolver_resource_count(a->rr);
    admit_request_resource_limits *limits = calloc(n ? n : 1, sizeof *limits);
    if (!limits) {
        admit_error_set(aerr, ADMIT_ENOMEM, "out of memory building the request stage");
        return NULL;
    }
    for (uint32_t i = 0; i < cfg->request_limit_count; i++) {
        const run_request_limit *l = &cfg->request_limits[i];
        int r = intern(a, l->model, l->domain);
        limits[r].initial_limit = l->initial_limit;
        limits[r].max_limit_clamp = l->max_limit_clamp;
    }
    admit_request_admission_config rc;
    admit_request_admission_config_init(&rc);
    rc.resolver = a->rr;
    rc.limits = limits;
    rc.aimd = cfg->aimd;
    rc.queue_wait_timeout_ns = cfg->queue_wait_timeout_ns;
    rc.now = h->clock.now;
    rc.clock_ctx = h->clock.ctx;
    rc.wake_at = h->request_wake_at;
    rc.wake_ctx = h->ctx;
    rc.sink = h->request_sink;
    rc.run_id = run_id;
    admit_request_admission *adm = admit_request_admission_create(&rc, aerr);
    free(limits);
    return adm;
}

/* One request group per (column, resource), weighted like the column's task group. */
static bool add_request_groups(run_assembly *a, admit_error *aerr) {
    const run_config *cfg = a->cfg;
    const admit_group_spec *groups = admit_resolver_groups(a->res);
    for (uint32_t c = 0; c < cfg->column_count; c++) {
        int weight = admit_group_weight(&groups[a->column_group[c]]);
        int32_t *res = &a->call_resource[(size_t)c * RUN_MAX_STEPS];
        int32_t *grp = &a->call_group[(size_t)c * RUN_MAX_STEPS];
        for (uint32_t j = 0; j < cfg->columns[c].step_count; j++) {
            if (res[j] < 0) continue;
            for (uint32_t k = 0; k < j; k++)
                if (res[k] == res[j]) grp[j] = grp[k];
            if (grp[j] >= 0) continue;
            grp[j] = admit_request_admission_add_group(a->adm, (uint32_t)res[j], weight, aerr);
            if (grp[j] < 0) return false;
        }
    }
    return true;
}

static bool build_request_stage(run_assembly *a, const run_hooks *h, uint64_t run_id,
                                run_error *err) {
    admit_error aerr = {0};
    a->adm = create_request_admission(a, h, run_id, &aerr);
    if (!a->adm || !add_request_groups(a, &aerr))
        return core_error(err, a->cfg, &aerr, "out of memory building the request stage");
    a->exec = admit_model_executor_create(a->adm, &h->provider, &aerr);
    if (!a->exec) return core_error(err, a->cfg, &aerr, "out of memory building the request stage");
    return true;
}

/* ---- policy and scheduler ------------------------------------------------------ */

/* The request resource a group's tasks call first, for ProviderAware. */
static int32_t *group_request_resources(const run_assembly *a) {
    uint32_t ngroups = admit_resolver_group_count(a->res);
    int32_t *out = malloc((ngroups ? ngroups : 1) * sizeof *out);
    if (!out) return NULL;
    for (uint32_t g = 0; g < ngroups; g++)
        out[g] = -1;
    for (uint32_t c = 0; c < a->cfg->column_count; c++) {
        uint32_t g = a->column_group[c];
        for (uint32_t j = 0; j < a->cfg->columns[c].step_count && out[g] < 0; j++)
            out[g] = a->call_resource[(size_t)c * RUN_MAX_STEPS + j];
    }
    return out;
}

static admit_status make_policy(const run_assembly *a, run_policy_kind kind, const run_hooks *h,
                                admit_task_policy *out, admit_error *err) {
    const run_config *cfg = a->cfg;
    if (kind == RUN_POLICY_STRICT) {
        admit_policy_strict_fair(out);
        return ADMIT_OK;
    }
    if (kind == RUN_POLICY_PROVIDER_AWARE) {
        int32_t *gr = group_request_resources(a);
        if (!gr) return admit_error_set(err, ADMIT_ENOMEM, "out of memory building the policy");
        admit_provider_aware_config pcfg = {.pressure = admit_request_admission_pressure(a->adm),
                                            .group_request_resource = gr,
                                            .group_count = admit_resolver_group_count(a->res),
                                            .now = h->clock.now,
                                            .clock_ctx = h->clock.ctx};
        admit_status st = admit_policy_provider_aware(&pcfg, out, err);
        free(gr);
        return st;
    }
    admit_bounded_borrow_config bcfg;
    admit_bounded_borrow_config_init(&bcfg);
    bcfg.rounding = cfg->rounding;
    bcfg.reserve_fraction = cfg->reserve_fraction;
    bcfg.max_reserved_slots = cfg->max_reserved_slots;
    bcfg.default_ceiling = cfg->default_ceiling;
    admit_borrow_ceiling ceilings[RUN_MAX_COLUMNS];
    for (uint32_t i = 0; i < cfg->ceiling_count; i++) {
        ceilings[i].group = a->column_group[cfg->ceilings[i].column];
        ceilings[i].resource =
            (uint16_t)admit_resolver_resource_id(a->res, cfg->ceilings[i].resource);
        ceilings[i].ceiling = cfg->ceilings[i].ceiling;
    }
    bcfg.ceilings = ceilings;
    bcfg.ceiling_count = cfg->ceiling_count;
    return admit_policy_bounded_borrow(&bcfg, out, err);
}

/* The scheduler's runtime seam has one context for its four callbacks; the
** hooks give the clock its own, so the seam goes through the assembly. */
static int64_t seam_now(void *ctx) {
    const run_assembly *a = ctx;
    return a->clock.now(a->clock.ctx);
}

static void seam_wake_at(void *ctx, int64_t at_ns) {
    const run_assembly *a = ctx;
    a->rt.wake_at(a->rt.ctx, at_ns);
}

static int seam_spawn(void *ctx, admit_worker *w) {
    const run_assembly *a = ctx;
    return a->rt.spawn(a->rt.ctx, w);
}

static void seam_cancel(void *ctx, admit_worker *w) {
    const run_assembly *a = ctx;
    a->rt.cancel(a->rt.ctx, w);
}

static bool build_scheduler(run_assembly *a, run_policy_kind policy, uint64_t run_id,
                            const run_hooks *h, run_error *err) {
    const run_config *cfg = a->cfg;
    admit_error aerr = {0};
    admit_scheduler_config sc;
    admit_scheduler_config_init(&sc);
    sc.columns = a->cols;
    sc.column_count = cfg->column_count;
    sc.records = cfg->records;
    sc.buffer_size = cfg->buffer_size;
    sc.max_concurrent_row_groups = cfg->max_concurrent_row_groups;
    sc.groups = admit_resolver_groups(a->res);
    sc.group_count = admit_resolver_group_count(a->res);
    sc.resource_count = admit_resolver_resource_count(a->res);
    sc.resource_limits = a->limits;
    sc.salvage_max_rounds = cfg->salvage_max_rounds;
    sc.shutdown_error_rate = cfg->shutdown_error_rate;
    sc.shutdown_error_window = cfg->shutdown_error_window;
    sc.run_id = run_id;
    a->clock = h->clock;
    a->rt = (admit_runtime){
        .ctx = h->ctx, .wake_at = h->wake_at, .spawn = h->spawn, .cancel = h->cancel};
    /* a missing hook stays missing, for the scheduler to refuse */
    sc.runtime = (admit_runtime){.ctx = a,
                                 .now = h->clock.now ? seam_now : NULL,
                                 .wake_at = h->wake_at ? seam_wake_at : NULL,
                                 .spawn = h->spawn ? seam_spawn : NULL,
                                 .cancel = h->cancel ? seam_cancel : NULL};
    sc.sink = h->scheduler_sink;
    if (make_policy(a, policy, h, &sc.policy, &aerr) != ADMIT_OK)
        return core_error(err, cfg, &aerr, "out of memory building the policy");
    a->sched = admit_scheduler_create(&sc, &aerr);
    if (!a->sched) return core_error(err, cfg, &aerr, "out of memory creating the scheduler");
    return true;
}

/* ---- public --------------------------------------------------------------------- */

run_assembly *run_assembly_create(const run_config *cfg, run_policy_kind policy, uint64_t run_id,
                                  const run_hooks *hooks, run_error *err) {
    run_assembly *a = calloc(1, sizeof *a);
    if (!a) {
        oom(err, cfg, "assembling the run");
        return NULL;
    }
    a->cfg = cfg;
    if (!resolve_tasks(a, err) || !build_request_resolver(a, hooks, err) ||
        !build_request_stage(a, hooks, run_id, err) ||
        !build_scheduler(a, policy, run_id, hooks, err)) {
        run_assembly_destroy(a);
        return NULL;
    }
    return a;
}

void run_assembly_destroy(run_assembly *a) {
    if (!a) return;
    admit_scheduler_destroy(a->sched);
    admit_request_admission_destroy(a->adm); /* denies waiters left by a failed run */
    admit_model_executor_destroy(a->exec);
    admit_request_resolver_destroy(a->rr);
    admit_resolver_destroy(a->res);
    free(a->cols);
    free(a->column_group);
    free(a->column_resources);
    free(a->limits);
    free(a->call_resource);
    free(a->call_group);
    free(a);
}

const run_config *run_assembly_config(const run_assembly *a) {
    return a->cfg;
}

admit_scheduler *run_assembly_scheduler(const run_assembly *a) {
    return a->sched;
}

admit_request_admission *run_assembly_request_admission(const run_assembly *a) {
    return a->adm;
}

admit_model_executor *run_assembly_executor(const run_assembly *a) {
    return a->exec;
}

const admit_request_resolver *run_assembly_request_resolver(const run_assembly *a) {
    return a->rr;
}

uint32_t run_assembly_group_count(const run_assembly *a) {
    return admit_resolver_group_count(a->res);
}

const admit_group_spec *run_assembly_groups(const run_assembly *a) {
    return admit_resolver_groups(a->res);
}

uint32_t run_assembly_column_group(const run_assembly *a, uint32_t column) {
    return a->column_group[column];
}

const admit_resource_request *run_assembly_column_resources(const run_assembly *a,
                                                            uint32_t column) {
    return &a->column_resources[column];
}

uint32_t run_assembly_resource_count(const run_assembly *a) {
    return admit_resolver_resource_count(a->res);
}

const char *run_assembly_resource_name(const run_assembly *a, uint32_t resource) {
    return admit_resolver_resource_name(a->res, resource);
}

const uint32_t *run_assembly_resource_limits(const run_assembly *a) {
    return a->limits;
}

int32_t run_assembly_call_resource(const run_assembly *a, uint32_t column, uint32_t step) {
    return a->call_resource[(size_t)column * RUN_MAX_STEPS + step];
}

int32_t run_assembly_call_group(const run_assembly *a, uint32_t column, uint32_t step) {
    return a->call_group[(size_t)column * RUN_MAX_STEPS + step];
}

uint32_t run_assembly_diagnostic_count(const run_assembly *a) {
    return admit_resolver_diagnostic_count(a->res);
}

const char *run_assembly_diagnostic(const run_assembly *a, uint32_t i) {
    return admit_resolver_diagnostic(a->res, i);
}
