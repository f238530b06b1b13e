#include "fuzz_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "res/request_report.h"
#include "res/summary.h"
#include "sim/engine.h"

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...) {
    /* to fd 2, whatever stderr points at (fuzz_store silences it) */
    dprintf(STDERR_FILENO, "\n%s:%d: check failed: %s: ", file, line, cond);
    va_list ap;
    va_start(ap, fmt);
    vdprintf(STDERR_FILENO, fmt, ap);
    va_end(ap);
    dprintf(STDERR_FILENO, "\n");
    abort();
}

static char scratch[4096];

static void scratch_remove(void) {
    DIR *d = opendir(scratch);
    if (!d) return;
    struct dirent *e;
    char path[8192];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(scratch);
}

void fuzz_scratch_path(const char *name, char *out, size_t len) {
    if (!scratch[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/admit-fuzz-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        FUZZ_CHECK(mkdtemp(scratch) != NULL, "mkdtemp %s: %s", scratch, strerror(errno));
        atexit(scratch_remove);
    }
    int n = snprintf(out, len, "%s/%s", scratch, name);
    FUZZ_CHECK(n > 0 && (size_t)n < len, "scratch path too long");
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        FUZZ_CHECK(n > 0, "write %s: %s", path, strerror(errno));
        data += n;
        size -= (size_t)n;
    }
    FUZZ_CHECK(close(fd) == 0, "close %s: %s", path, strerror(errno));
}

int fuzz_is_verbose(void) {
    static int verbose = -1;
    if (verbose < 0) verbose = getenv("FUZZ_VERBOSE") != NULL;
    return verbose;
}

int fuzz_error_names(const char *message, const char *path) {
    return message[0] && !strncmp(message, path, strlen(path));
}

/* ---- checks on a run's figures --------------------------------------- */

static void finite(double v, const char *what) {
    FUZZ_CHECK(isfinite(v), "%s is %g", what, v);
}

static void nonnegative(double v, const char *what) {
    FUZZ_CHECK(isfinite(v) && v >= 0, "%s is %g", what, v);
}

/* A figure that exists exactly when `defined` (a share of a wall time that
** is not 0, a figure over a set that is not empty): >= 0 then, else NaN
** (absent), never a made-up 0. */
static void nonnegative_if(double v, bool defined, const char *what) {
    if (defined)
        nonnegative(v, what);
    else
        FUZZ_CHECK(isnan(v), "%s is %g where there is no figure", what, v);
}

/* mean, p50, p95, max of one set of waits, all >= 0 and in order. */
static void ordered(double mean, double p50, double p95, double max, const char *what) {
    nonnegative(mean, what);
    nonnegative(p50, what);
    nonnegative(p95, what);
    nonnegative(max, what);
    FUZZ_CHECK(p50 <= p95 && p95 <= max && mean <= max * (1 + 1e-12) + 1e-12,
               "%s out of order: mean %g p50 %g p95 %g max %g", what, mean, p50, p95, max);
}

static void check_layers(const res_layers *l) {
    nonnegative(l->ready_queue, "layer ready_queue");
    nonnegative(l->task_admission, "layer task_admission");
    nonnegative(l->request_admission, "layer request_admission");
    nonnegative(l->cooldown, "layer cooldown");
    nonnegative(l->provider, "layer provider");
    nonnegative(l->local_other, "layer local_other");
}

static void check_waits(const res_wait_stats *w, const char *what) {
    if (w->n) ordered(w->mean, w->p50, w->p95, w->max, what);
}

static void check_view(const res_correlated_view *v) {
    const res_view_metrics *m = &v->m;
    check_waits(&m->ready_queue_wait, "ready_queue_wait");
    check_waits(&m->task_admission_wait, "task_admission_wait");
    check_waits(&m->ready_to_lease_gap, "ready_to_lease_gap");
    nonnegative(m->ready_idle_gap_max, "ready_idle_gap_max");
    nonnegative(m->ready_idle_gap_total, "ready_idle_gap_total");
    nonnegative(m->wall_seconds, "view wall_seconds");
    nonnegative(m->active_capacity_integral, "active_capacity_integral");
    nonnegative_if(m->active_capacity_fraction, m->wall_seconds > 0, "active_capacity_fraction");
    finite(m->jain_fairness_index, "jain_fairness_index");
    nonnegative(m->all_backlogged_seconds, "all_backlogged_seconds");
    finite(m->first_downstream_ready, "first_downstream_ready");
    finite(m->first_downstream_dispatch, "first_downstream_dispatch");
    nonnegative(m->root_over_admission_debt, "root_over_admission_debt");
    finite(m->time_to_first_record, "time_to_first_record");
    finite(m->time_to_50pct_records, "time_to_50pct_records");
    finite(m->row_completion_p95, "row_completion_p95");
    FUZZ_CHECK(m->records_done <= m->records, "%llu of %llu records done",
               (unsigned long long)m->records_done, (unsigned long long)m->records);
    check_layers(&m->layers);
    for (uint32_t g = 0; g < m->group_count; g++) {
        const res_group_metrics *gm = &m->groups[g];
        check_waits(&gm->ready_queue_wait, "group ready_queue_wait");
        check_waits(&gm->task_admission_wait, "group task_admission_wait");
        check_waits(&gm->ready_to_lease_gap, "group ready_to_lease_gap");
        nonnegative(gm->ready_idle_gap_max, "group ready_idle_gap_max");
        nonnegative(gm->ready_idle_gap_total, "group ready_idle_gap_total");
        nonnegative(gm->lease_seconds, "group lease_seconds");
        finite(gm->backlogged_service, "group backlogged_service");
        check_layers(&gm->layers);
    }
    for (uint32_t r = 0; r < m->resource_count; r++) {
        const res_resource_metrics *rm = &m->resources[r];
        nonnegative(rm->ready_idle_gap_max, "resource ready_idle_gap_max");
        nonnegative(rm->ready_idle_gap_total, "resource ready_idle_gap_total");
        finite(rm->jain_fairness_index, "resource jain_fairness_index");
        nonnegative(rm->all_backlogged_seconds, "resource all_backlogged_seconds");
    }
}

static void check_request(const res_request_report *rep, bool timed) {
    FUZZ_CHECK(rep->attempt_order_violations == 0, "%llu attempts out of order",
               (unsigned long long)rep->attempt_order_violations);
    for (uint32_t r = 0; r < rep->resource_count; r++) {
        const res_request_stats *rs = &rep->resources[r];
        nonnegative_if(rs->in_flight_mean, timed, "in_flight_mean");
        res_wait_quantiles q = res_request_waits(rs);
        if (rs->wait_count)
            ordered(q.mean, q.p50, q.p95, q.max, "request waits");
        else
            FUZZ_CHECK(isnan(q.mean) && isnan(q.p50) && isnan(q.p95) && isnan(q.max),
                       "request waits without a wait: %g %g %g %g", q.mean, q.p50, q.p95, q.max);
        finite(rs->utilization_while_others_cooling, "utilization_while_others_cooling");
        FUZZ_CHECK(rs->leases <= rs->attempts, "%llu leases of %llu attempts",
                   (unsigned long long)rs->leases, (unsigned long long)rs->attempts);
        FUZZ_CHECK(rs->cooldown_ns >= 0 && rs->others_cooling_ns >= 0, "negative cooling time");
        for (size_t i = 0; i < rs->wait_count; i++)
            FUZZ_CHECK(rs->waits[i] >= 0, "request wait %lld ns", (long long)rs->waits[i]);
    }
    for (uint32_t p = 0; p < rep->provider_count; p++)
        FUZZ_CHECK(
            timed ? rep->provider_busy_fraction[p] >= 0 && rep->provider_busy_fraction[p] <= 1
                  : isnan(rep->provider_busy_fraction[p]),
            "busy_fraction of %s is %g", rep->provider_names[p], rep->provider_busy_fraction[p]);
}

static void check_summary(const res_summary *s, const res_run_record *run) {
    nonnegative(s->wall_time_seconds, "wall_time_seconds");
    nonnegative_if(s->slot_utilization, run->wall_ns > 0, "slot_utilization");
    nonnegative(s->task_seconds, "task_seconds");
    FUZZ_CHECK(s->final_task_leases == 0, "summary: %llu task leases",
               (unsigned long long)s->final_task_leases);
    for (uint32_t c = 0; c < s->column_count; c++) {
        const res_column_summary *cs = &s->columns[c];
        nonnegative_if(cs->first_wait_seconds, cs->dispatches > 0, "first_wait_seconds");
        if (cs->dispatches)
            ordered(cs->wait_mean_seconds, cs->wait_p50_seconds, cs->wait_p95_seconds,
                    cs->wait_max_seconds, cs->column);
        else
            FUZZ_CHECK(isnan(cs->wait_mean_seconds) && isnan(cs->wait_p50_seconds) &&
                           isnan(cs->wait_p95_seconds) && isnan(cs->wait_p99_seconds) &&
                           isnan(cs->wait_max_seconds),
                       "%s: waits of a column that never dispatched", cs->column);
        nonnegative(cs->idle_seconds, "idle_seconds");
        nonnegative(cs->busy_task_seconds, "busy_task_seconds");
    }
    if (s->request) check_request(s->request, run->wall_ns > 0);
    if (s->view) check_view(s->view);
    /* The `run --format json` object: a figure jansson refused (NaN,
    ** infinity) would leave its key out or the object NULL. */
    json_t *j = res_summary_to_json(s, run);
    FUZZ_CHECK(j != NULL, "res_summary_to_json returned NULL");
    json_t *groups = json_object_get(j, "groups");
    /* res_summary_to_json's keys: 13, and "arm" when the run has one */
    size_t keys = 13 + (run->config->arm[0] != '\0');
    FUZZ_CHECK(json_object_size(j) == keys, "summary JSON has %zu keys, not %zu",
               json_object_size(j), keys);
    FUZZ_CHECK(json_object_size(groups) == s->column_count, "%zu of %u groups",
               json_object_size(groups), s->column_count);
    const char *key;
    json_t *value;
    json_object_foreach(groups, key, value) {
        FUZZ_CHECK(json_object_size(value) == 8, "group %s has %zu keys", key,
                   json_object_size(value));
    }
    json_t *req = json_object_get(j, "request_resources");
    FUZZ_CHECK(json_object_size(req) == run->request_resource_count, "%zu of %u request resources",
               json_object_size(req), run->request_resource_count);
    json_object_foreach(req, key, value) {
        FUZZ_CHECK(json_object_size(value) == 22, "request resource %s has %zu keys", key,
                   json_object_size(value));
    }
    char *text = json_dumps(j, JSON_COMPACT);
    FUZZ_CHECK(text != NULL, "json_dumps failed");
    free(text);
    json_decref(j);
}

int fuzz_run_checked(const sim_scenario *sc) {
    if (run_config_task_count(&sc->config) > FUZZ_MAX_TASKS ||
        sim_scenario_planned_work(sc) > FUZZ_MAX_WORK) {
        if (fuzz_is_verbose())
            fprintf(stderr, "fuzz: loaded, not run: %llu tasks, %llu units of planned work\n",
                    (unsigned long long)run_config_task_count(&sc->config),
                    (unsigned long long)sim_scenario_planned_work(sc));
        return 0;
    }
    sim_run_options opt = {.seed = 1, .iteration = 0, .capture_events = true};
    sim_error err = {0};
    res_run_record *run = sim_run_execute(sc, &opt, &err);
    if (!run) {
        /* A clear error: the clock's range, or memory.  Never the core's
        ** refusal (SIM_ECORE): a scenario that loads is consistent. */
        FUZZ_CHECK(err.code == SIM_ELIMIT || err.code == SIM_ENOMEM, "run failed with code %d: %s",
                   (int)err.code, err.message);
        FUZZ_CHECK(err.message[0] != '\0', "run failed without a message");
        if (fuzz_is_verbose()) fprintf(stderr, "fuzz: the run failed: %s\n", err.message);
        return 1;
    }
    FUZZ_CHECK(res_run_record_is_clean(run),
               "status %d: %llu task leases, %llu request leases, %llu waiters left",
               (int)run->status, (unsigned long long)run->final_task_leases,
               (unsigned long long)run->final_request_leases,
               (unsigned long long)run->final_request_waiters);
    FUZZ_CHECK(run->status == ADMIT_JOB_COMPLETED || run->status == ADMIT_JOB_EARLY_SHUTDOWN ||
                   run->status == ADMIT_JOB_CANCELLED || run->status == ADMIT_JOB_FAILED,
               "the run ended with job status %d", (int)run->status);
    FUZZ_CHECK(run->wall_ns >= 0 && run->wall_ns <= SIM_MAX_TIME_NS, "wall time %lld ns",
               (long long)run->wall_ns);
    res_summary *s = res_summary_compute(run);
    FUZZ_CHECK(s != NULL, "res_summary_compute returned NULL");
    check_summary(s, run);
    if (fuzz_is_verbose())
        fprintf(stderr, "fuzz: ran: status %d, %.9f s, %zu + %zu events\n", (int)run->status,
                s->wall_time_seconds, res_event_log_count(run->events),
                res_event_log_count(run->request_events));
    res_summary_free(s);
    res_run_record_free(run);
    return 1;
}
