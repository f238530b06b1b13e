/* ModelRequestExecutor: acquire -> call -> release, once per attempt. */
#include "admit/model_executor.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK 256

enum { A_FREE = 0, A_WAITING, A_CALLING, A_RELEASING };

struct admit_model_attempt {
    admit_model_executor *e;
    admit_model_attempt *next_free;
    uint8_t state;
    bool cancelled;
    admit_model_request req;
    admit_request_lease lease;
    admit_request_wait wait;
    admit_model_attempt_result res;
    admit_model_attempt_done_fn done;
    void *done_ctx;
    void *provider_data;
    admit_request_context rctx;
};

typedef struct chunk {
    struct chunk *next;
    admit_model_attempt attempts[CHUNK];
} chunk;

struct admit_model_executor {
    admit_request_admission *adm;
    admit_model_provider provider;
    chunk *chunks;
    admit_model_attempt *free_list;
    uint64_t next_attempt_id;
    admit_model_executor_stats stats;
};

admit_model_executor *admit_model_executor_create(admit_request_admission *admission,
                                                  const admit_model_provider *provider,
                                                  admit_error *err) {
    if (!admission || !provider || !provider->call) {
        admit_error_set(err, ADMIT_EINVAL, "executor needs request admission and a provider call");
        return NULL;
    }
    admit_model_executor *e = calloc(1, sizeof *e);
    if (!e) {
        admit_error_set(err, ADMIT_ENOMEM, "out of memory creating the executor");
        return NULL;
    }
    e->adm = admission;
    e->provider = *provider;
    return e;
}

void admit_model_executor_destroy(admit_model_executor *e) {
    if (!e) return;
    for (chunk *c = e->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(e);
}

static admit_model_attempt *attempt_alloc(admit_model_executor *e) {
    if (!e->free_list) {
        chunk *c = malloc(sizeof *c);
        if (!c) return NULL;
        c->next = e->chunks;
        e->chunks = c;
        for (int i = CHUNK - 1; i >= 0; i--) {
            c->attempts[i].state = A_FREE;
            c->attempts[i].next_free = e->free_list;
            e->free_list = &c->attempts[i];
        }
    }
    admit_model_attempt *a = e->free_list;
    e->free_list = a->next_free;
    return a;
}

/* Reports the attempt and recycles its record. */
static void attempt_finish(admit_model_attempt *a) {
    admit_model_executor *e = a->e;
    e->stats.in_progress--;
    if (a->res.admitted) e->stats.outcomes[a->res.outcome.kind]++;
    if (a->cancelled) e->stats.cancelled++;
    admit_model_attempt_result res = a->res;
    admit_model_attempt_done_fn done = a->done;
    void *done_ctx = a->done_ctx;
    a->state = A_FREE;
    a->next_free = e->free_list;
    e->free_list = a;
    done(done_ctx, &res);
}

static void release_lease(admit_model_attempt *a, admit_request_outcome outcome) {
    admit_model_executor *e = a->e;
    a->state = A_RELEASING; /* re-entrant cancel()/call_finished() are no-ops from here */
    a->res.outcome = outcome;
    admit_request_admission_release(e->adm, a->lease, outcome);
    a->res.released_ns = admit_request_admission_now(e->adm);
    attempt_finish(a);
}

static void start_call(admit_model_attempt *a, const admit_request_result *r) {
    admit_model_executor *e = a->e;
    a->lease = r->lease;
    a->res.admitted = true;
    a->res.lease_id = r->lease.lease_id;
    a->res.wait_completed_ns = r->wait_completed_ns;
    e->stats.admitted++;
    if (a->cancelled) { /* admitted after the caller gave up: never call */
        release_lease(a, (admit_request_outcome){.kind = ADMIT_REQ_LOCAL_CANCELLED});
        return;
    }
    a->state = A_CALLING;
    a->res.call_started_ns = admit_request_admission_now(e->adm);
    admit_request_admission_emit(e->adm, ADMIT_REV_MODEL_REQUEST_STARTED, a->req.resource, &a->rctx,
                                 a->lease.lease_id, -1, 0);
    if (e->provider.call(e->provider.ctx, a) != 0)
        admit_model_executor_call_finished(
            e, a, (admit_request_outcome){.kind = ADMIT_REQ_UNEXPECTED_EXCEPTION});
}

static void not_admitted(admit_model_attempt *a, const admit_request_result *r) {
    a->e->stats.not_admitted++;
    a->res.admitted = false;
    a->res.denied = r->denied;
    a->res.wait_completed_ns = r->wait_completed_ns;
    attempt_finish(a);
}

static void on_admission(void *ctx, const admit_request_result *r) {
    admit_model_attempt *a = ctx;
    if (r->admitted)
        start_call(a, r);
    else
        not_admitted(a, r);
}

admit_status admit_model_executor_execute_attempt(admit_model_executor *e,
                                                  const admit_model_request *req,
                                                  admit_model_attempt_done_fn done, void *done_ctx,
                                                  admit_model_attempt **out, admit_error *err) {
    if (!done) return admit_error_set(err, ADMIT_EINVAL, "execute_attempt needs a done callback");
    admit_model_attempt *a = attempt_alloc(e);
    if (!a) return admit_error_set(err, ADMIT_ENOMEM, "out of memory starting a model attempt");
    uint64_t id = ++e->next_attempt_id;
    *a = (admit_model_attempt){
        .e = e,
        .state = A_WAITING,
        .req = *req,
        .done = done,
        .done_ctx = done_ctx,
        .rctx = {.corr = req->corr, .task_id = req->task_id, .attempt_id = id},
        .res = {.attempt_id = id,
                .resource = req->resource,
                .user = req->user,
                .call_started_ns = -1,
                .call_completed_ns = -1,
                .released_ns = -1}};
    e->stats.attempts++;
    e->stats.in_progress++;
    if (out) *out = a;
    admit_request_item item = {.resource = req->resource,
                               .group = req->group,
                               .queue_wait_timeout_ns = req->queue_wait_timeout_ns,
                               .ctx = a->rctx};
    admit_request_result r;
    switch (admit_request_admission_acquire_async(e->adm, &item, on_admission, a, &r, &a->wait)) {
    case ADMIT_REQ_ADMITTED:
        a->res.wait_started_ns = r.wait_started_ns;
        start_call(a, &r);
        break;
    case ADMIT_REQ_DENIED:
        a->res.wait_started_ns = r.wait_started_ns;
        not_admitted(a, &r);
        break;
    case ADMIT_REQ_QUEUED: a->res.wait_started_ns = r.wait_started_ns; break;
    }
    return ADMIT_OK;
}

void admit_model_executor_cancel(admit_model_executor *e, admit_model_attempt *a) {
    if (!a || a->state == A_FREE || a->state == A_RELEASING || a->cancelled) return;
    a->cancelled = true;
    if (a->state == A_WAITING) {
        /* Either the waiter is removed (its completion reports cancellation)
        ** or its lease is already on the way and start_call releases it. */
        admit_request_admission_cancel(e->adm, a->wait);
    } else if (e->provider.cancel) {
        e->provider.cancel(e->provider.ctx, a);
    }
}

void admit_model_executor_call_finished(admit_model_executor *e, admit_model_attempt *a,
                                        admit_request_outcome outcome) {
    if (!a || a->state != A_CALLING || a->e != e) return;
    a->state = A_RELEASING;
    if (a->cancelled) outcome = (admit_request_outcome){.kind = ADMIT_REQ_LOCAL_CANCELLED};
    a->res.call_completed_ns = admit_request_admission_now(e->adm);
    admit_request_admission_emit(e->adm, ADMIT_REV_MODEL_REQUEST_COMPLETED, a->req.resource,
                                 &a->rctx, a->lease.lease_id, (int32_t)outcome.kind,
                                 a->res.call_completed_ns - a->res.call_started_ns);
    release_lease(a, outcome);
}

uint64_t admit_model_attempt_id(const admit_model_attempt *a) {
    return a->rctx.attempt_id;
}

uint32_t admit_model_attempt_resource(const admit_model_attempt *a) {
    return a->req.resource;
}

const admit_model_request *admit_model_attempt_request(const admit_model_attempt *a) {
    return &a->req;
}

void *admit_model_attempt_provider_data(const admit_model_attempt *a) {
    return a->provider_data;
}

void admit_model_attempt_set_provider_data(admit_model_attempt *a, void *data) {
    a->provider_data = data;
}

void admit_model_executor_stats_get(const admit_model_executor *e,
                                    admit_model_executor_stats *out) {
    *out = e->stats;
}
