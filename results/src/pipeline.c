/*
** The run pipeline (res/pipeline.h).
*/
#include "res/pipeline.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "res/atomic_file.h"
#include "res/report_files.h"

/* The outputs open for one run. */
typedef struct outputs {
    res_store *store;
    res_artifact_writer *artifact;
    res_report_writer *reports;
    int64_t run_id;
} outputs;

void res_pipeline_base_name(const res_pipeline_options *opt, char *buf, size_t size) {
    run_policy_kind p;
    const char *arm = opt->config->arm;
    const char *name = arm[0] && !run_policy_parse(arm, &p) ? arm : run_policy_name(opt->policy);
    snprintf(buf, size, "%.200s-%s-seed%llu", opt->config->scenario_id, name,
             (unsigned long long)opt->seed);
}

static bool open_store(const res_pipeline_options *opt, outputs *o, res_error *err) {
    res_store_run_info info = {.scenario_id = opt->config->scenario_id,
                               .scenario_version = opt->config->scenario_version,
                               .scenario_file = opt->config->path,
                               .policy = run_policy_name(opt->policy),
                               .seed = opt->seed,
                               .iterations = opt->iterations,
                               .command_line = opt->command_line,
                               .experiment_id = opt->experiment_id,
                               .arm = opt->arm,
                               .parameters = opt->parameters};
    if (res_store_open(opt->db_path, RES_STORE_OPEN_CREATE, &o->store, err) != RES_OK) return false;
    res_store_keep_events(o->store,
                          opt->store_all_events ? RES_KEEP_ALL_EVENTS : RES_KEEP_NOTABLE_EVENTS);
    if (opt->on_lock_wait) res_store_on_lock_wait(o->store, opt->on_lock_wait, opt->ctx);
    return res_store_begin_run(o->store, &info, &o->run_id, err) == RES_OK;
}

static bool open_files(const res_pipeline_options *opt, outputs *o, res_error *err) {
    char base[400], name[420];
    res_pipeline_base_name(opt, base, sizeof base);
    snprintf(name, sizeof name, "%s.json", base);
    o->artifact = res_artifact_writer_open(opt->out_dir, name, opt->iterations, err);
    if (o->artifact) o->reports = res_report_writer_open(opt->out_dir, base, err);
    return o->artifact && o->reports;
}

/* One finished iteration into every open output. */
static bool write_iteration(const res_pipeline_options *opt, outputs *o, const res_run_record *r,
                            const res_summary *s, res_error *err) {
    if (o->store && res_store_write_iteration(o->store, o->run_id, r, s, err) != RES_OK)
        return false;
    if (o->artifact && !res_artifact_writer_add(o->artifact, r, s, err)) return false;
    if (o->reports && !res_report_writer_add(o->reports, r, s, err)) return false;
    if (opt->on_iteration) opt->on_iteration(opt->ctx, r, s);
    return true;
}

static bool run_iteration(const res_pipeline_options *opt, const res_environment *env, outputs *o,
                          uint32_t i, res_pipeline_result *out, res_error *err) {
    if (opt->on_start) opt->on_start(opt->ctx, i, opt->iterations);
    res_run_record *r = env->run_iteration(env->ctx, i, err);
    if (!r) return false;
    res_summary *s = r->summary ? res_run_record_take_summary(r) : res_summary_compute(r);
    bool ok = s ? write_iteration(opt, o, r, s, err)
                : res_error_set(err, RES_ENOMEM, "out of memory summarising iteration %u", i);
    if (ok) {
        out->iterations_done++;
        if (!res_run_record_is_clean(r) && out->leaky_iterations++ == 0)
            res_error_set(err, RES_ELEAK,
                          "iteration %u ended with %llu task leases, %llu request leases and "
                          "%llu request waiters outstanding",
                          i, (unsigned long long)r->final_task_leases,
                          (unsigned long long)r->final_request_leases,
                          (unsigned long long)r->final_request_waiters);
    }
    res_summary_free(s);
    res_run_record_free(r);
    return ok;
}

res_event_keep res_pipeline_events_needed(const res_pipeline_options *opt) {
    if (opt->out_dir || (opt->db_path && opt->store_all_events)) return RES_KEEP_ALL_EVENTS;
    return opt->db_path ? RES_KEEP_NOTABLE_EVENTS : RES_KEEP_NO_EVENTS;
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Seals the four files and renames them into place as one set: all, or
** none on failure (res_atomic_files_publish). */
static bool finish_files(const res_pipeline_options *opt, outputs *o, clock_t cpu0,
                         const struct timespec *t0, res_pipeline_result *out, res_error *err) {
    res_host_info host = {.command_line = opt->command_line,
                          .cpu_seconds = (double)(clock() - cpu0) / CLOCKS_PER_SEC,
                          .elapsed_seconds = seconds_since(t0)};
    res_atomic_file *set[4] = {res_artifact_writer_file(o->artifact)};
    for (int k = 0; k < 3; k++)
        set[k + 1] = res_report_writer_file(o->reports, k);
    if (!res_artifact_writer_seal(o->artifact, &host, err) ||
        !res_report_writer_seal(o->reports, err) || !res_atomic_files_publish(set, 4, err))
        return false;
    for (int k = 0; k < 4; k++)
        snprintf(out->files[k], sizeof out->files[k], "%s", set[k]->path);
    return true;
}

/* A run that failed is marked so (cancelled when interrupted) before the
** store closes. */
static void close_store(outputs *o, bool ok, res_pipeline_result *out, res_error *err) {
    const char *status = err->code == RES_EINTERRUPTED ? "cancelled" : "failed";
    res_error mark;
    if (!ok && o->run_id &&
        res_store_set_run_status(o->store, o->run_id, status, &mark) != RES_OK) {
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof err->message - n, "; and marking the run failed: %s",
                 mark.message);
    }
    out->lock_waits = res_store_lock_wait_stats(o->store);
    res_store_close(o->store);
}

res_status res_pipeline_run(const res_pipeline_options *opt, const res_environment *env,
                            res_pipeline_result *out, res_error *err) {
    res_error scratch;
    if (!err) err = &scratch;
    memset(out, 0, sizeof *out);
    err->code = RES_OK;
    err->message[0] = '\0';
    clock_t cpu0 = clock();
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    outputs o = {0};
    bool ok = true;
    if (opt->db_path) {
        ok = open_store(opt, &o, err);
        out->run_id = o.run_id;
    }
    if (ok && opt->out_dir) ok = open_files(opt, &o, err);
    if (ok && env->keep_events) env->keep_events(env->ctx, res_pipeline_events_needed(opt));
    res_error leak = {0};
    for (uint32_t i = 0; ok && i < opt->iterations; i++) {
        ok = run_iteration(opt, env, &o, i, out, err);
        if (ok && err->code == RES_ELEAK && leak.code == RES_OK) {
            leak = *err; /* kept for the end: the outputs are still written */
            err->code = RES_OK;
        }
        if (ok && env->is_interrupted && env->is_interrupted(env->ctx))
            ok = res_error_set(err, RES_EINTERRUPTED, "interrupted after %u of %u iterations",
                               out->iterations_done, opt->iterations);
    }
    if (ok && o.artifact) ok = finish_files(opt, &o, cpu0, &t0, out, err);
    res_artifact_writer_abort(o.artifact);
    res_report_writer_abort(o.reports);
    if (ok && leak.code != RES_OK) {
        *err = leak;
        if (out->leaky_iterations > 1) {
            size_t n = strlen(err->message);
            snprintf(err->message + n, sizeof err->message - n, " (and %u more iterations)",
                     out->leaky_iterations - 1);
        }
        ok = false;
    }
    if (ok && opt->on_done) ok = opt->on_done(opt->ctx, out, err);
    if (o.store) close_store(&o, ok, out, err);
    return ok ? RES_OK : err->code;
}
