#include "admit/scheduler.h"

#include <stdlib.h>
#include <string.h>

/* Workers live in fixed-size blocks so their addresses stay stable while the
** runtime holds them; finished workers go to a free list. */
#define WORKER_BLOCK 256

typedef struct worker_rec {
    admit_worker w;
    struct worker_rec *next_free;
    uint8_t live;
} worker_rec;

typedef struct worker_block {
    worker_rec recs[WORKER_BLOCK];
    struct worker_block *next;
} worker_block;

struct admit_scheduler {
    admit_scheduler_config cfg;
    admit_runtime rt;
    admit_tracker *tracker;
    admit_fair_queue *queue;
    admit_task_admission *admission;

    admit_job_status status;
    admit_job_status stop_status; /* status to finish with once stopping */
    bool stopping;
    int64_t next_row_group;
    bool rg_blocked_reported;
    uint64_t next_sequence;
    uint64_t next_execution_id;
    uint32_t *attempts;            /* per task index */
    uint32_t *salvages;            /* per task index: salvage rounds spent */
    uint64_t *last_skip;           /* per group: last task reported advisory-skipped */
    uint32_t *max_queued;          /* per group: the most tasks queued at once */
    const admit_task *skipped[16]; /* advisory skips seen during one selection */
    uint32_t skip_count;

    worker_block *blocks;
    worker_rec *free_workers;

    const admit_task **deferred; /* sized for every task: deferring never allocates */
    size_t deferred_count;
    const admit_task **discard; /* scratch for drops */
    size_t discard_cap;
    uint8_t *error_ring;
    uint32_t error_pos, error_filled, error_failures;

    admit_scheduler_stats stats;
    admit_error error; /* what failed the job (status ADMIT_JOB_FAILED); code ADMIT_OK: nothing */
};

void admit_scheduler_config_init(admit_scheduler_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->salvage_max_rounds = 2;
    cfg->shutdown_error_rate = 0.5;
    cfg->shutdown_error_window = 10;
}

/* Builds and delivers one event; correlation comes from the task when there
** is one, else only the row group (-1 for job-level events). */
static void emit_event(admit_scheduler *s, admit_event_kind kind, const admit_task *task,
                       int64_t row_group, uint64_t execution_id, uint64_t lease_id, int32_t reason,
                       int64_t value) {
    s->stats.events_emitted++;
    admit_event ev = {.sequence = s->next_sequence++,
                      .captured_at_ns = s->rt.now(s->rt.ctx),
                      .stream = ADMIT_STREAM_SCHEDULER,
                      .kind = (uint16_t)kind,
                      .reason = reason,
                      .resource = -1,
                      .lease_id = lease_id,
                      .value = value,
                      .corr = {.run_id = s->cfg.run_id,
                               .row_group = row_group,
                               .column = -1,
                               .task_type = -1,
                               .group = -1,
                               .group_kind = -1,
                               .task_execution_id = execution_id}};
    if (task) {
        const admit_group_spec *g = &s->cfg.groups[task->group];
        ev.task_id = task->task_id;
        ev.corr.row_group = task->row_group;
        ev.corr.column = (int32_t)task->column;
        ev.corr.task_type = (int32_t)task->type;
        ev.corr.group = (int32_t)task->group;
        ev.corr.group_kind = (int32_t)g->kind;
        ev.corr.group_identity_hash = g->identity_hash;
    }
    if (s->cfg.sink.fn) s->cfg.sink.fn(s->cfg.sink.ctx, &ev);
}

static void emit(admit_scheduler *s, admit_event_kind kind, const admit_task *task,
                 uint64_t execution_id, uint64_t lease_id, int32_t reason, int64_t value) {
    emit_event(s, kind, task, -1, execution_id, lease_id, reason, value);
}

static void emit_rg(admit_scheduler *s, admit_event_kind kind, int64_t rg, int64_t value) {
    emit_event(s, kind, NULL, rg, 0, 0, -1, value);
}

void admit_scheduler_destroy(admit_scheduler *s) {
    if (!s) return;
    admit_task_admission_destroy(s->admission);
    admit_fair_queue_destroy(s->queue);
    admit_tracker_destroy(s->tracker);
    while (s->blocks) {
        worker_block *b = s->blocks;
        s->blocks = b->next;
        free(b);
    }
    free(s->attempts);
    free(s->salvages);
    free(s->last_skip);
    free(s->max_queued);
    free(s->deferred);
    free(s->discard);
    free(s->error_ring);
    free(s);
}

/* Every request must be satisfiable on an empty ledger, or its task could
** never run and the job would never finish. */
static admit_status validate_columns(const admit_scheduler_config *cfg, admit_error *err) {
    for (uint32_t c = 0; c < cfg->column_count; c++) {
        const admit_column_spec *col = &cfg->columns[c];
        if (col->group >= cfg->group_count)
            return admit_error_set(err, ADMIT_EINVAL, "column %u names task group %u of %u", c,
                                   col->group, cfg->group_count);
        for (uint8_t i = 0; i < col->resources.count; i++) {
            uint16_t r = col->resources.resource[i];
            if (r >= cfg->resource_count)
                return admit_error_set(err, ADMIT_EINVAL, "column %u requests unknown resource %u",
                                       c, r);
            for (uint8_t j = 0; j < i; j++)
                if (col->resources.resource[j] == r)
                    return admit_error_set(err, ADMIT_EINVAL,
                                           "column %u requests resource %u twice", c, r);
            if (col->resources.amount[i] == 0 || col->resources.amount[i] > cfg->resource_limits[r])
                return admit_error_set(err, ADMIT_ECONFIG,
                                       "column %u requests %u of resource %u, whose limit is %u", c,
                                       col->resources.amount[i], r, cfg->resource_limits[r]);
        }
    }
    return ADMIT_OK;
}

static admit_status check_config(const admit_scheduler_config *cfg, admit_error *err) {
    if (!cfg->runtime.now || !cfg->runtime.wake_at || !cfg->runtime.spawn || !cfg->runtime.cancel)
        return admit_error_set(err, ADMIT_EINVAL,
                               "scheduler needs a runtime with now, wake_at, spawn and cancel");
    if (!cfg->resource_limits || cfg->resource_count == 0 ||
        cfg->resource_limits[ADMIT_RESOURCE_SUBMISSION] == 0)
        return admit_error_set(err, ADMIT_ECONFIG,
                               "submission capacity must be a positive integer");
    return validate_columns(cfg, err);
}

/* Tracker, queue and task admission.  The policy goes to the task
** admission controller, which owns it from that call on (even if it fails);
** before that call it is still ours: *policy_ours says which. */
static admit_status create_parts(admit_scheduler *s, const admit_scheduler_config *cfg,
                                 bool *policy_ours, admit_error *err) {
    s->tracker =
        admit_tracker_create(cfg->columns, cfg->column_count, cfg->records, cfg->buffer_size, err);
    if (!s->tracker) return err ? err->code : ADMIT_ENOMEM;
    s->queue = admit_fair_queue_create(cfg->groups, cfg->group_count, cfg->resource_count, err);
    if (!s->queue) return err ? err->code : ADMIT_ENOMEM;
    admit_task_admission_config ac = {.groups = cfg->groups,
                                      .group_count = cfg->group_count,
                                      .resource_count = cfg->resource_count,
                                      .limits = cfg->resource_limits,
                                      .policy = cfg->policy};
    *policy_ours = false;
    s->cfg.policy.destroy = NULL;
    s->admission = admit_task_admission_create(&ac, err);
    if (!s->admission) return err ? err->code : ADMIT_ENOMEM;
    return ADMIT_OK;
}

admit_scheduler *admit_scheduler_create(const admit_scheduler_config *cfg, admit_error *err) {
    if (!cfg) {
        admit_error_set(err, ADMIT_EINVAL, "scheduler needs a configuration");
        return NULL;
    }
    bool policy_ours = true; /* see "Policy ownership" in task_admission.h */
    admit_scheduler *s = NULL;
    if (check_config(cfg, err) != ADMIT_OK) goto fail;
    s = calloc(1, sizeof *s);
    if (!s) {
        admit_error_set(err, ADMIT_ENOMEM, "out of memory creating scheduler");
        goto fail;
    }
    s->cfg = *cfg;
    s->rt = cfg->runtime;
    if (s->cfg.shutdown_error_window == 0) s->cfg.shutdown_error_window = 10;
    if (create_parts(s, cfg, &policy_ours, err) != ADMIT_OK) goto fail;
    size_t ntasks = admit_tracker_task_count(s->tracker);
    int64_t first, last;
    admit_tracker_row_group_rows(s->tracker, 0, &first, &last);
    s->discard_cap = (size_t)(last - first) * cfg->column_count + cfg->column_count + 1;
    s->attempts = calloc(ntasks ? ntasks : 1, sizeof *s->attempts);
    s->salvages = calloc(ntasks ? ntasks : 1, sizeof *s->salvages);
    s->last_skip = calloc(cfg->group_count ? cfg->group_count : 1, sizeof *s->last_skip);
    s->max_queued = calloc(cfg->group_count ? cfg->group_count : 1, sizeof *s->max_queued);
    s->deferred = malloc((ntasks ? ntasks : 1) * sizeof *s->deferred);
    s->discard = malloc(s->discard_cap * sizeof *s->discard);
    s->error_ring = calloc(s->cfg.shutdown_error_window, 1);
    if (!s->attempts || !s->salvages || !s->last_skip || !s->max_queued || !s->deferred ||
        !s->discard || !s->error_ring) {
        admit_error_set(err, ADMIT_ENOMEM, "out of memory creating scheduler");
        goto fail;
    }
    s->stats.tasks_total = ntasks;
    s->next_sequence = 1;
    s->next_execution_id = 1;
    return s;
fail:
    if (policy_ours && cfg->policy.destroy) cfg->policy.destroy(cfg->policy.ctx);
    admit_scheduler_destroy(s);
    return NULL;
}

static worker_rec *worker_alloc(admit_scheduler *s) {
    if (!s->free_workers) {
        worker_block *b = calloc(1, sizeof *b);
        if (!b) return NULL;
        b->next = s->blocks;
        s->blocks = b;
        for (int i = WORKER_BLOCK - 1; i >= 0; i--) {
            b->recs[i].next_free = s->free_workers;
            s->free_workers = &b->recs[i];
        }
    }
    worker_rec *r = s->free_workers;
    s->free_workers = r->next_free;
    r->live = 1;
    return r;
}

static void worker_free(admit_scheduler *s, worker_rec *r) {
    r->live = 0;
    r->next_free = s->free_workers;
    s->free_workers = r;
}

static void release_lease(admit_scheduler *s, const admit_task *task, uint64_t exec_id,
                          admit_task_lease lease) {
    admit_release_reason why = admit_task_admission_release(s->admission, lease);
    emit(s, ADMIT_EV_TASK_LEASE_RELEASED, task, exec_id, lease.lease_id, (int32_t)why, 0);
    if (why != ADMIT_RELEASE_RELEASED)
        emit(s, ADMIT_EV_RELEASE_DIAGNOSTIC, task, exec_id, lease.lease_id, (int32_t)why, 0);
}

static void finish_job(admit_scheduler *s, admit_job_status status) {
    emit(s, ADMIT_EV_SCHEDULER_HEALTH_SNAPSHOT, NULL, 0, 0, -1,
         (int64_t)admit_fair_queue_view(s->queue)->queued_total);
    s->status = status;
    emit(s, ADMIT_EV_SCHEDULER_JOB_COMPLETED, NULL, 0, 0, (int32_t)status,
         (int64_t)s->stats.tasks_completed);
}

static void checkpoint(admit_scheduler *s, int64_t rg) {
    s->stats.row_groups_in_flight--;
    s->stats.row_groups_checkpointed++;
    emit_rg(s, ADMIT_EV_ROW_GROUP_CHECKPOINTED, rg, s->stats.row_groups_checkpointed);
}

static void defer_task(admit_scheduler *s, const admit_task *task, uint64_t exec_id) {
    admit_tracker_mark_deferred(s->tracker, task);
    s->deferred[s->deferred_count++] = task;
    s->stats.retries_deferred++;
    emit(s, ADMIT_EV_RETRY_DEFERRED, task, exec_id, 0, -1,
         s->attempts[admit_tracker_task_index(s->tracker, task)]);
}

static void drop_task_rows(admit_scheduler *s, const admit_task *task) {
    int64_t rg_done[1];
    size_t rg_count = 0;
    uint64_t before = admit_tracker_rows_dropped(s->tracker);
    size_t n = admit_tracker_drop_rows(s->tracker, task, s->discard, rg_done, &rg_count);
    for (size_t i = 0; i < n; i++)
        admit_fair_queue_discard(s->queue, s->discard[i]->task_id);
    s->stats.rows_dropped += admit_tracker_rows_dropped(s->tracker) - before;
    if (rg_count) checkpoint(s, rg_done[0]);
}

static void shutdown_begin(admit_scheduler *s, admit_job_status status) {
    if (s->stopping) return;
    s->stopping = true;
    s->stop_status = status;
    admit_task_admission_shutdown(s->admission);
    admit_queue_selection sel;
    while (admit_fair_queue_select_next(s->queue, NULL, NULL, &sel))
        admit_fair_queue_commit(s->queue, &sel);
    for (worker_block *b = s->blocks; b; b = b->next)
        for (int i = 0; i < WORKER_BLOCK; i++)
            if (b->recs[i].live) s->rt.cancel(s->rt.ctx, &b->recs[i].w);
    s->rt.wake_at(s->rt.ctx, s->rt.now(s->rt.ctx));
}

/* The job cannot go on (out of memory in the tracker or the queue): it
** stops like a cancellation, every lease still released exactly once, and
** ends ADMIT_JOB_FAILED with the first error kept for
** admit_scheduler_error(). */
static void fail_job(admit_scheduler *s, const admit_error *why) {
    if (s->error.code == ADMIT_OK) s->error = *why;
    if (!s->stopping) shutdown_begin(s, ADMIT_JOB_FAILED);
}

/* A tracker that lost a task to a failed allocation fails the job. */
static void check_tracker(admit_scheduler *s) {
    admit_error e;
    if (admit_tracker_error(s->tracker, &e) != ADMIT_OK) fail_job(s, &e);
}

static void record_outcome(admit_scheduler *s, bool failed) {
    uint32_t n = s->cfg.shutdown_error_window;
    if (s->error_filled == n)
        s->error_failures -= s->error_ring[s->error_pos];
    else
        s->error_filled++;
    s->error_ring[s->error_pos] = failed;
    s->error_failures += failed;
    s->error_pos = (s->error_pos + 1) % n;
    if (s->error_filled == n && (double)s->error_failures / n > s->cfg.shutdown_error_rate)
        shutdown_begin(s, ADMIT_JOB_EARLY_SHUTDOWN);
}

void admit_scheduler_worker_finished(admit_scheduler *s, admit_worker *w, uint64_t execution_id,
                                     admit_worker_outcome outcome) {
    worker_rec *rec = (worker_rec *)w; /* w is the first member of its record */
    if (!rec->live || w->execution_id != execution_id) {
        /* A second finish for one execution (maybe after its record was
        ** reused): never release anything twice. */
        s->stats.stale_finishes++;
        return;
    }
    const admit_task *task = w->task;
    int64_t rg_done;
    if (s->stopping && outcome != ADMIT_WORKER_SUCCESS) outcome = ADMIT_WORKER_CANCELLED;
    switch (outcome) {
    case ADMIT_WORKER_SUCCESS:
        s->stats.tasks_completed++;
        emit(s, ADMIT_EV_TASK_COMPLETED, task, w->execution_id, w->lease.lease_id, (int32_t)outcome,
             0);
        if (admit_tracker_mark_complete(s->tracker, task, &rg_done)) checkpoint(s, rg_done);
        break;
    case ADMIT_WORKER_NON_RETRYABLE_FAILURE:
        s->stats.tasks_dropped++;
        emit(s, ADMIT_EV_NON_RETRYABLE_DROPPED, task, w->execution_id, w->lease.lease_id,
             (int32_t)outcome, 0);
        drop_task_rows(s, task);
        break;
    case ADMIT_WORKER_CANCELLED:
        emit(s, ADMIT_EV_CANCELLED, task, w->execution_id, w->lease.lease_id, (int32_t)outcome, 0);
        if (s->stopping) break;
        /* Cancelled by the runtime on its own (a timeout, say): retry it. */
        /* fall through */
    default:
        if (admit_tracker_is_output_dropped(s->tracker, task)) {
            /* Its rows are gone already: nothing left to retry for. */
            s->stats.tasks_dropped++;
            emit(s, ADMIT_EV_NON_RETRYABLE_DROPPED, task, w->execution_id, w->lease.lease_id,
                 (int32_t)outcome, 0);
            drop_task_rows(s, task);
        } else {
            defer_task(s, task, w->execution_id);
        }
        break;
    }
    release_lease(s, task, w->execution_id, w->lease);
    s->stats.running--;
    worker_free(s, rec);
    if (!s->stopping &&
        (outcome == ADMIT_WORKER_SUCCESS || outcome == ADMIT_WORKER_NON_RETRYABLE_FAILURE))
        record_outcome(s, outcome == ADMIT_WORKER_NON_RETRYABLE_FAILURE);
    s->rt.wake_at(s->rt.ctx, s->rt.now(s->rt.ctx));
}

static void admit_row_groups(admit_scheduler *s, int64_t now) {
    int64_t total = admit_tracker_row_group_count(s->tracker);
    uint32_t max = s->cfg.max_concurrent_row_groups;
    while (s->next_row_group < total && (max == 0 || s->stats.row_groups_in_flight < max)) {
        int64_t rg = s->next_row_group++;
        s->stats.row_groups_in_flight++;
        if (s->stats.row_groups_in_flight > s->stats.max_row_groups_in_flight)
            s->stats.max_row_groups_in_flight = s->stats.row_groups_in_flight;
        s->rg_blocked_reported = false;
        emit_rg(s, ADMIT_EV_ROW_GROUP_ADMITTED, rg, s->stats.row_groups_in_flight);
        admit_tracker_admit_row_group(s->tracker, rg, now);
        if (admit_tracker_row_group_remaining(s->tracker, rg) == 0) checkpoint(s, rg);
    }
    if (s->next_row_group < total && !s->rg_blocked_reported) {
        s->rg_blocked_reported = true;
        emit_rg(s, ADMIT_EV_ROW_GROUP_ADMISSION_BLOCKED, s->next_row_group,
                s->stats.row_groups_in_flight);
    }
}

static void pull_frontier(admit_scheduler *s, int64_t now) {
    admit_task *const *ready;
    size_t n = admit_tracker_ready_frontier(s->tracker, now, &ready);
    check_tracker(s); /* a task lost to a failed allocation, here or before */
    if (!n) return;
    for (size_t i = 0; i < n; i++)
        emit(s, ADMIT_EV_DEPENDENCY_READY, ready[i], 0, 0, -1, 0);
    size_t accepted = admit_fair_queue_enqueue(s->queue, (const admit_task *const *)ready, n, NULL);
    if (accepted == n) admit_tracker_mark_enqueued(s->tracker, ready, n);
    const admit_queue_view *v = admit_fair_queue_view(s->queue);
    for (size_t i = 0; i < n; i++) {
        /* The tracker hands out a task once, and only while it is not queued,
        ** so the queue refuses one only when it ran out of memory. */
        if (accepted != n) {
            if (!admit_fair_queue_is_queued(s->queue, ready[i]->task_id)) continue;
            admit_tracker_mark_enqueued(s->tracker, &ready[i], 1);
        }
        uint32_t g = ready[i]->group;
        if (v->queued_by_group[g] > s->max_queued[g]) s->max_queued[g] = v->queued_by_group[g];
        emit(s, ADMIT_EV_READY_ENQUEUED, ready[i], 0, 0, -1, (int64_t)v->queued_total);
    }
    if (accepted != n) {
        admit_error e;
        admit_error_set(&e, ADMIT_ENOMEM, "out of memory queueing %zu of %zu ready tasks",
                        n - accepted, n);
        fail_job(s, &e);
    }
}

static bool eligible(void *ctx, const admit_task *task, const admit_queue_view *view) {
    admit_scheduler *s = ctx;
    admit_policy_decision d;
    bool ok = admit_task_admission_is_eligible(s->admission, task, view, &d);
    if (!ok && d.advisory && s->skip_count < sizeof s->skipped / sizeof *s->skipped)
        s->skipped[s->skip_count++] = task;
    return ok;
}

/* Reports request-pressure skips seen by the last selection, once per task
** and group in a row, so a task skipped pass after pass is reported once. */
static void report_skips(admit_scheduler *s) {
    for (uint32_t i = 0; i < s->skip_count; i++) {
        const admit_task *t = s->skipped[i];
        if (s->last_skip[t->group] == t->task_id) continue;
        s->last_skip[t->group] = t->task_id;
        emit(s, ADMIT_EV_REQUEST_PRESSURE_ADVISORY_SKIPPED, t, 0, 0, ADMIT_DENY_POLICY, 0);
    }
    s->skip_count = 0;
}

static void spawn_worker(admit_scheduler *s, const admit_task *task, admit_task_lease lease,
                         int64_t now) {
    size_t idx = admit_tracker_task_index(s->tracker, task);
    uint64_t exec_id = s->next_execution_id++;
    worker_rec *rec = worker_alloc(s);
    if (!rec) {
        emit(s, ADMIT_EV_WORKER_SPAWN_FAILED, task, exec_id, lease.lease_id, ADMIT_ESPAWN, 0);
        s->stats.spawn_failures++;
        release_lease(s, task, exec_id, lease);
        defer_task(s, task, exec_id);
        return;
    }
    if (!admit_task_admission_lease_task(s->admission, lease)) s->stats.hidden_waiters++;
    s->attempts[idx]++;
    rec->w = (admit_worker){.task = task,
                            .lease = lease,
                            .execution_id = exec_id,
                            .attempt = s->attempts[idx],
                            .started_at_ns = now};
    admit_tracker_mark_running(s->tracker, task);
    s->stats.running++;
    if (s->rt.spawn(s->rt.ctx, &rec->w) != 0) {
        s->stats.running--;
        s->stats.spawn_failures++;
        worker_free(s, rec);
        emit(s, ADMIT_EV_WORKER_SPAWN_FAILED, task, exec_id, lease.lease_id, ADMIT_ESPAWN, 0);
        release_lease(s, task, exec_id, lease);
        defer_task(s, task, exec_id);
        return;
    }
    s->stats.workers_spawned++;
    emit(s, ADMIT_EV_WORKER_SPAWNED, task, exec_id, lease.lease_id, -1, rec->w.attempt);
}

static void dispatch_ready(admit_scheduler *s, int64_t now) {
    const admit_queue_view *view = admit_fair_queue_view(s->queue);
    for (;;) {
        admit_queue_selection sel;
        bool found = admit_fair_queue_select_next(s->queue, eligible, s, &sel);
        report_skips(s);
        if (!found) {
            if (view->queued_total == 0) {
                emit(s, ADMIT_EV_QUEUE_EMPTY, NULL, 0, 0, -1, 0);
                return;
            }
            admit_block_summary sum;
            admit_task_admission_explain_blocked(s->admission, view, &sum);
            bool policy_only = sum.reason_counts[ADMIT_DENY_NO_CAPACITY] == 0 &&
                               (sum.reason_counts[ADMIT_DENY_GROUP_CAP] ||
                                sum.reason_counts[ADMIT_DENY_BORROW_DEBT]);
            emit(s, policy_only ? ADMIT_EV_GROUP_CAPPED : ADMIT_EV_ADMISSION_BLOCKED, NULL, 0, 0,
                 -1, (int64_t)sum.queued_count);
            if (sum.earliest_available_after_ns >= 0)
                s->rt.wake_at(s->rt.ctx, sum.earliest_available_after_ns);
            return;
        }
        emit(s, ADMIT_EV_SELECTED, sel.task, 0, 0, -1, 0);
        admit_task_lease lease;
        admit_policy_decision d;
        if (!admit_task_admission_try_acquire(s->admission, sel.task, view, now, &lease, &d)) {
            emit(s, ADMIT_EV_ADMISSION_DENIED, sel.task, 0, 0, (int32_t)d.reason, 0);
            return; /* state changed under us: the next release or enqueue wakes us */
        }
        emit(s, ADMIT_EV_TASK_LEASE_ACQUIRED, sel.task, 0, lease.lease_id, -1, 0);
        const admit_task *task = admit_fair_queue_commit(s->queue, &sel);
        if (!task) {
            s->stats.stale_selections++;
            release_lease(s, sel.task, 0, lease);
            emit(s, ADMIT_EV_STALE_SELECTION, sel.task, 0, lease.lease_id, -1, 0);
            continue;
        }
        if (view->queued_total == 0) emit(s, ADMIT_EV_QUEUE_DRAINED, NULL, 0, 0, -1, 0);
        spawn_worker(s, task, lease, now);
    }
}

/* Progress has stalled on deferred tasks only: give each another round, or
** drop it (and its rows) once it has spent salvage_max_rounds.  Returns true
** if anything changed. */
static bool salvage(admit_scheduler *s) {
    if (!s->deferred_count || s->stats.running || admit_fair_queue_view(s->queue)->queued_total ||
        admit_tracker_next_timed_at(s->tracker) >= 0)
        return false;
    uint32_t max = s->cfg.max_concurrent_row_groups;
    if (s->next_row_group < admit_tracker_row_group_count(s->tracker) &&
        (max == 0 || s->stats.row_groups_in_flight < max))
        return false;
    size_t n = s->deferred_count;
    bool redispatched = false;
    s->deferred_count = 0;
    for (size_t i = 0; i < n; i++) {
        const admit_task *task = s->deferred[i];
        if (admit_tracker_state(s->tracker, task) != ADMIT_TASK_DEFERRED) continue;
        uint32_t *spent = &s->salvages[admit_tracker_task_index(s->tracker, task)];
        if (*spent < s->cfg.salvage_max_rounds &&
            !admit_tracker_is_output_dropped(s->tracker, task)) {
            ++*spent;
            redispatched = true;
            s->stats.salvage_redispatched++;
            emit(s, ADMIT_EV_SALVAGE_REDISPATCHED, task, 0, 0, -1, (int64_t)*spent);
            admit_tracker_redispatch(s->tracker, task);
        } else {
            s->stats.tasks_dropped++;
            emit(s, ADMIT_EV_NON_RETRYABLE_DROPPED, task, 0, 0, ADMIT_WORKER_RETRYABLE_FAILURE, 0);
            drop_task_rows(s, task);
        }
    }
    if (redispatched) s->stats.salvage_rounds++;
    return true;
}

void admit_scheduler_dispatch(admit_scheduler *s) {
    if (s->status != ADMIT_JOB_RUNNING) return;
    int64_t now = s->rt.now(s->rt.ctx);
    s->stats.dispatch_passes++;
    if (s->stopping) {
        if (s->stats.running == 0) finish_job(s, s->stop_status);
        return;
    }
    do {
        admit_row_groups(s, now);
        pull_frontier(s, now);
        if (!s->stopping) dispatch_ready(s, now);
    } while (!s->stopping && salvage(s));
    if (s->stopping) {
        if (s->stats.running == 0) finish_job(s, s->stop_status);
        return;
    }
    if (s->stats.running == 0 &&
        s->stats.row_groups_checkpointed == admit_tracker_row_group_count(s->tracker)) {
        finish_job(s, ADMIT_JOB_COMPLETED);
        return;
    }
    int64_t next = admit_tracker_next_timed_at(s->tracker);
    if (next >= 0) s->rt.wake_at(s->rt.ctx, next);
}

admit_status admit_scheduler_start(admit_scheduler *s, admit_error *err) {
    if (s->status != ADMIT_JOB_NOT_STARTED)
        return admit_error_set(err, ADMIT_ESTATE, "scheduler already started");
    s->status = ADMIT_JOB_RUNNING;
    emit(s, ADMIT_EV_SCHEDULER_JOB_STARTED, NULL, 0, 0, -1, (int64_t)s->stats.tasks_total);
    emit_rg(s, ADMIT_EV_ROW_GROUP_ADMISSION_TARGET_CHANGED, -1,
            (int64_t)s->cfg.max_concurrent_row_groups);
    s->rt.wake_at(s->rt.ctx, s->rt.now(s->rt.ctx));
    return ADMIT_OK;
}

void admit_scheduler_cancel(admit_scheduler *s) {
    if (s->status == ADMIT_JOB_NOT_STARTED) {
        s->status = ADMIT_JOB_CANCELLED; /* nothing ran, nothing to release */
        return;
    }
    if (s->status != ADMIT_JOB_RUNNING) return;
    shutdown_begin(s, ADMIT_JOB_CANCELLED);
}

admit_job_status admit_scheduler_status(const admit_scheduler *s) {
    return s->status;
}

bool admit_scheduler_is_finished(const admit_scheduler *s) {
    return s->status == ADMIT_JOB_COMPLETED || s->status == ADMIT_JOB_EARLY_SHUTDOWN ||
           s->status == ADMIT_JOB_CANCELLED || s->status == ADMIT_JOB_FAILED;
}

admit_status admit_scheduler_error(const admit_scheduler *s, admit_error *err) {
    if (err) *err = s->error;
    return s->error.code;
}

void admit_scheduler_stats_get(const admit_scheduler *s, admit_scheduler_stats *out) {
    *out = s->stats;
}

const admit_fair_queue *admit_scheduler_queue(const admit_scheduler *s) {
    return s->queue;
}

const admit_task_admission *admit_scheduler_admission(const admit_scheduler *s) {
    return s->admission;
}

admit_tracker *admit_scheduler_tracker(admit_scheduler *s) {
    return s->tracker;
}

const uint32_t *admit_scheduler_max_queued_by_group(const admit_scheduler *s) {
    return s->max_queued;
}
