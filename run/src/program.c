/*
** Workers walking their column's request program (run/program.h).
**
** The walks live in one array of slots with a free list; a slot keeps its
** token across reuse, so a timer of an earlier execution never matches a
** later one's.  A walk that is `finishing` has one timer left, the one that
** ends it.
*/
#include "run/program.h"

#include <stdlib.h>

#define NO_SLOT UINT32_MAX

struct run_walkers {
    const run_assembly *a;
    const run_config *cfg;
    admit_model_executor *exec;
    uint64_t run_id;
    run_walkers_hooks hooks;
    run_walk *walks;
    uint32_t count, cap, free_slot;
    bool stopped;
};

run_walkers *run_walkers_create(const run_assembly *a, uint64_t run_id,
                                const run_walkers_hooks *hooks) {
    run_walkers *ws = calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->a = a;
    ws->cfg = run_assembly_config(a);
    ws->exec = run_assembly_executor(a);
    ws->run_id = run_id;
    ws->hooks = *hooks;
    ws->free_slot = NO_SLOT;
    return ws;
}

void run_walkers_destroy(run_walkers *ws) {
    if (!ws) return;
    free(ws->walks);
    free(ws);
}

void run_walkers_stop(run_walkers *ws) {
    ws->stopped = true;
}

static uint32_t slot_of(const run_walkers *ws, const run_walk *k) {
    return (uint32_t)(k - ws->walks);
}

run_walk *run_walkers_add(run_walkers *ws, admit_worker *w) {
    uint32_t slot = ws->free_slot;
    if (slot != NO_SLOT) {
        ws->free_slot = ws->walks[slot].next_free;
    } else {
        if (ws->count == ws->cap) {
            uint32_t cap = ws->cap ? ws->cap * 2 : 64;
            run_walk *n = realloc(ws->walks, cap * sizeof *n);
            if (!n) return NULL;
            ws->walks = n;
            ws->cap = cap;
        }
        slot = ws->count++;
        ws->walks[slot].token = 0;
    }
    run_walk *k = &ws->walks[slot];
    uint32_t token = k->token + 1;
    *k = (run_walk){.w = w, .execution_id = w->execution_id, .token = token, .next_free = NO_SLOT};
    w->runtime_data = (void *)(uintptr_t)slot;
    return k;
}

void run_walkers_discard(run_walkers *ws, run_walk *k) {
    k->token++;
    k->w = NULL;
    k->next_free = ws->free_slot;
    ws->free_slot = slot_of(ws, k);
}

/* The scheduler hears of the end now. */
static void finish(run_walkers *ws, run_walk *k) {
    admit_worker *w = k->w;
    uint64_t id = k->execution_id;
    admit_worker_outcome outcome = k->outcome;
    run_walkers_discard(ws, k);
    ws->hooks.finish(ws->hooks.ctx, w, id, outcome);
}

/* The scheduler hears of the end at this instant, after what is due now. */
static void finish_soon(run_walkers *ws, run_walk *k) {
    if (k->finishing) return;
    k->finishing = true;
    k->token++;
    ws->hooks.timer(ws->hooks.ctx, 0, slot_of(ws, k), k->token);
}

static void step_in(run_walkers *ws, run_walk *k, int64_t delay_ns) {
    ws->hooks.timer(ws->hooks.ctx, delay_ns < 0 ? 0 : delay_ns, slot_of(ws, k), k->token);
}

/* The walk's current step is local work (a column without a program is one local step). */
static bool step_is_local(const run_walkers *ws, const run_walk *k) {
    const run_column *col = &ws->cfg->columns[k->w->task->column];
    return !col->step_count || col->program[k->step].kind == RUN_STEP_LOCAL;
}

static void on_attempt_done(void *ctx, const admit_model_attempt_result *r);

static void start_call(run_walkers *ws, run_walk *k) {
    const admit_task *t = k->w->task;
    const admit_group_spec *g = &run_assembly_groups(ws->a)[t->group];
    admit_model_request req = {.resource =
                                   (uint32_t)run_assembly_call_resource(ws->a, t->column, k->step),
                               .group = run_assembly_call_group(ws->a, t->column, k->step),
                               .queue_wait_timeout_ns = ADMIT_REQ_TIMEOUT_DEFAULT,
                               .corr = {.run_id = ws->run_id,
                                        .row_group = t->row_group,
                                        .column = (int32_t)t->column,
                                        .task_type = (int32_t)t->type,
                                        .group = (int32_t)t->group,
                                        .group_kind = (int32_t)g->kind,
                                        .group_identity_hash = g->identity_hash,
                                        .task_execution_id = k->execution_id},
                               .task_id = t->task_id,
                               .user = (void *)(uintptr_t)slot_of(ws, k)};
    admit_error why = {0};
    if (admit_model_executor_execute_attempt(ws->exec, &req, on_attempt_done, ws, &k->attempt,
                                             &why) != ADMIT_OK) {
        admit_error refusal = {0};
        admit_error_set(&refusal, why.code, "model executor: %.900s",
                        why.message[0] ? why.message : "refused an attempt");
        ws->hooks.refused(ws->hooks.ctx, &refusal);
    }
}

/* Moves the walk on from its current position in the program. */
static void advance(run_walkers *ws, run_walk *k, bool inside_spawn) {
    const run_column *col = &ws->cfg->columns[k->w->task->column];
    uint32_t n = col->step_count ? col->step_count : 1;
    while (k->step < n) {
        if (step_is_local(ws, k)) {
            if (!k->step_started) {
                k->step_started = true;
                step_in(ws, k, k->plan[k->step]);
                return;
            }
        } else {
            if (!k->step_started) {
                k->step_started = true;
                k->calls_left = (uint32_t)k->plan[k->step];
                k->call_failures = 0;
            }
            if (k->calls_left) {
                start_call(ws, k);
                return;
            }
        }
        k->step++;
        k->step_started = false;
    }
    if (inside_spawn)
        finish_soon(ws, k);
    else
        finish(ws, k);
}

void run_walkers_begin(run_walkers *ws, run_walk *k, bool inside_spawn) {
    advance(ws, k, inside_spawn);
}

void run_walkers_fire(run_walkers *ws, uint32_t slot, uint32_t token) {
    if (ws->stopped || slot >= ws->count) return;
    run_walk *k = &ws->walks[slot];
    if (!k->w || k->token != token) return;
    if (k->finishing) {
        finish(ws, k);
        return;
    }
    if (step_is_local(ws, k) && k->step_started) { /* the local step ran its time */
        k->step++;
        k->step_started = false;
    }
    advance(ws, k, false);
}

/* A call ended: the next call or step on success, else a retry after
** max(backoff, Retry-After) until the column's attempts run out. */
static void on_attempt_done(void *ctx, const admit_model_attempt_result *r) {
    run_walkers *ws = ctx;
    if (ws->stopped) return;
    run_walk *k = &ws->walks[(uint32_t)(uintptr_t)r->user];
    if (!k->w) return; /* discarded by a spawn that failed */
    k->attempt = NULL;
    if (k->cancelled) {
        finish_soon(ws, k);
        return;
    }
    if (r->admitted && r->outcome.kind == ADMIT_REQ_SUCCESS) {
        k->calls_left--;
        k->call_failures = 0;
        step_in(ws, k, 0);
        return;
    }
    const run_column *col = &ws->cfg->columns[k->w->task->column];
    if (++k->call_failures >= col->retry_max_attempts) {
        k->outcome = ADMIT_WORKER_RETRYABLE_FAILURE;
        finish_soon(ws, k);
        return;
    }
    int64_t backoff = col->retry_backoff_ns;
    if (r->admitted && r->outcome.retry_after_ns > backoff) backoff = r->outcome.retry_after_ns;
    step_in(ws, k, backoff);
}

void run_walkers_cancel(run_walkers *ws, admit_worker *w) {
    if (ws->stopped) return;
    uint32_t slot = (uint32_t)(uintptr_t)w->runtime_data;
    if (slot >= ws->count) return;
    run_walk *k = &ws->walks[slot];
    if (k->w != w || k->cancelled || k->finishing) return;
    k->cancelled = true;
    k->outcome = ADMIT_WORKER_CANCELLED;
    k->token++; /* a pending step becomes stale */
    if (k->attempt)
        admit_model_executor_cancel(ws->exec, k->attempt); /* its done callback ends the walk */
    else
        finish_soon(ws, k);
}
