/*
** The mock provider (live/mock.h): libmicrohttpd in its external-loop epoll
** mode on the mock thread's libuv loop (one uv_poll on MHD's epoll
** descriptor, one uv_timer for MHD's own timeouts), answers timed by a
** live loop, decisions by sim_providers.
**
** A request's state: NEW until its body is in; then WAITING (the
** connection suspended, a loop timer set for the decided duration); then
** READY (resumed; the next handler call queues the answer).  A slow-body
** fault suspends the connection from its content reader instead.  Every
** request not yet completed is on the `reqs` list, so stopping can resume
** the suspended ones (which then close) before the daemon stops.  Timers
** refer to a request only while its connection is suspended, and MHD
** completes (and we free) a request only while it is not, so no timer
** outlives its request.
*/
#define _GNU_SOURCE
#include "live/mock.h"

#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "admit/request_resource.h"
#include "live/loop.h"
#include "sim/provider.h"

#define BODY_MAX      (64 * 1024)
#define OVERSIZE      (2u << 20)
#define SLOW_SECONDS  5
#define NS_PER_SECOND INT64_C(1000000000)

typedef enum rq_state { RQ_NEW = 0, RQ_WAITING, RQ_READY } rq_state;

typedef struct mock_req {
    struct live_mock *m;
    struct MHD_Connection *conn;
    char *body;
    size_t len;
    bool too_big, suspended, began, ended, held, slow;
    rq_state state;
    uint32_t resource;
    sim_call_plan plan;
    int64_t slow_until;
    unsigned status;
    char *answer; /* malloc'd body */
    char retry_after[64], retry_after_ms[32];
    struct mock_req *prev, *next;
} mock_req;

struct live_mock {
    const sim_scenario *sc;
    live_mock_options opt;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready; /* 0 starting, 1 listening, -1 failed */
    admit_error err;
    uv_loop_t uv;
    live_loop *loop;
    uv_poll_t poll;
    uv_timer_t timer;
    uv_async_t stop_async;
    struct MHD_Daemon *d;
    uint16_t port;
    admit_request_resolver *rr;
    sim_providers *providers;
    bool clock_started, stopping;
    int64_t origin;
    mock_req *reqs;
    char *oversized;
    atomic_int fault;
    atomic_uint_fast64_t requests, rate_limited, authorized;
    atomic_int waiting; /* requests whose answer is not due yet */
};

/* ---- answers ---------------------------------------------------------------------- */

static char *dump(json_t *j) {
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

static char *error_body(const char *type, const char *message) {
    return dump(json_pack("{s:{s:s, s:s}}", "error", "type", type, "message", message));
}

static char *success_body(admit_request_domain d, const char *model, size_t request_len) {
    json_int_t prompt = (json_int_t)(request_len / 4 + 1), completion = 16;
    json_t *usage = json_pack("{s:I, s:I, s:I}", "prompt_tokens", prompt, "completion_tokens",
                              completion, "total_tokens", prompt + completion);
    switch (d) {
    case ADMIT_DOMAIN_EMBEDDING:
        json_object_del(usage, "completion_tokens");
        json_object_set_new(usage, "total_tokens", json_integer(prompt));
        return dump(json_pack("{s:s, s:[{s:s, s:i, s:[f,f,f,f]}], s:s, s:o}", "object", "list",
                              "data", "object", "embedding", "index", 0, "embedding", 0.1, 0.2, 0.3,
                              0.4, "model", model, "usage", usage));
    case ADMIT_DOMAIN_IMAGE:
        json_decref(usage);
        return dump(json_pack("{s:i, s:[{s:s}]}", "created", 0, "data", "url", "mock://image"));
    case ADMIT_DOMAIN_HEALTHCHECK:
        json_decref(usage);
        return dump(json_pack("{s:s, s:[{s:s, s:s}]}", "object", "list", "data", "id", model,
                              "object", "model"));
    default:
        return dump(json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:{s:s, s:s}, s:s}], s:o}", "id",
                              "mock", "object", "chat.completion", "created", 0, "model", model,
                              "choices", "index", 0, "message", "role", "assistant", "content",
                              "ok", "finish_reason", "stop", "usage", usage));
    }
}

static void set_answer(mock_req *q, unsigned status, char *body) {
    q->status = status;
    free(q->answer);
    q->answer = body;
}

/* A 429 whose Retry-After asks for real_ns (< 0: none). */
static void rate_limited(mock_req *q, int64_t real_ns) {
    set_answer(q, 429, error_body("rate_limit_exceeded", "rate limited"));
    atomic_fetch_add(&q->m->rate_limited, 1);
    if (real_ns < 0) return;
    snprintf(q->retry_after, sizeof q->retry_after, "%lld",
             (long long)((real_ns + NS_PER_SECOND - 1) / NS_PER_SECOND));
    snprintf(q->retry_after_ms, sizeof q->retry_after_ms, "%lld",
             (long long)((real_ns + 999999) / 1000000));
}

/* The simulated decision, as an answer. */
static void plan_answer(mock_req *q, admit_request_domain d, const char *model) {
    live_mock *m = q->m;
    switch (q->plan.outcome.kind) {
    case ADMIT_REQ_SUCCESS: set_answer(q, 200, success_body(d, model, q->len)); break;
    case ADMIT_REQ_RATE_LIMITED:
        rate_limited(q, q->plan.outcome.retry_after_ns < 0
                            ? -1
                            : live_loop_real_ns(m->loop, q->plan.outcome.retry_after_ns));
        if (q->plan.outcome.retry_after_ns <= 0) q->retry_after[0] = q->retry_after_ms[0] = '\0';
        break;
    case ADMIT_REQ_PROVIDER_TIMEOUT:
        set_answer(q, 504, error_body("timeout", "the upstream model timed out"));
        break;
    default: set_answer(q, 500, error_body("server_error", "the model failed")); break;
    }
}

static ssize_t slow_reader(void *cls, uint64_t pos, char *buf, size_t max);

static enum MHD_Result respond(mock_req *q) {
    live_mock *m = q->m;
    struct MHD_Response *r;
    if (q->slow)
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256, slow_reader, q, NULL);
    else if (q->status == 200 && !q->answer && m->oversized)
        r = MHD_create_response_from_buffer(OVERSIZE, m->oversized, MHD_RESPMEM_PERSISTENT);
    else
        r = MHD_create_response_from_buffer(q->answer ? strlen(q->answer) : 0,
                                            q->answer ? q->answer : "", MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (q->retry_after[0]) MHD_add_response_header(r, "Retry-After", q->retry_after);
    if (q->retry_after_ms[0]) MHD_add_response_header(r, "retry-after-ms", q->retry_after_ms);
    enum MHD_Result ok = MHD_queue_response(q->conn, q->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* ---- timing ------------------------------------------------------------------------- */

static void kick(live_mock *m);

static void resume(mock_req *q) {
    if (!q->suspended) return;
    q->suspended = false;
    MHD_resume_connection(q->conn);
    kick(q->m);
}

static void on_due(void *ctx, uint64_t ref) {
    mock_req *q = ctx;
    live_mock *m = q->m;
    (void)ref;
    if (q->began && !q->ended) {
        q->ended = true;
        sim_providers_end(m->providers, q->resource, live_loop_now(m->loop) - m->origin, &q->plan);
        if (q->plan.outcome.kind == ADMIT_REQ_PROVIDER_TIMEOUT && !q->held) {
            q->held = true; /* no answer for as long again */
            if (live_loop_at(m->loop, live_loop_now(m->loop) + q->plan.duration_ns, on_due, q, 0))
                return;
        }
    }
    if (q->state == RQ_WAITING) atomic_fetch_sub(&m->waiting, 1);
    q->state = RQ_READY;
    resume(q);
}

static ssize_t slow_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    mock_req *q = cls;
    live_mock *m = q->m;
    static const char rest[] = "\"choices\":[{\"message\":{\"content\":\"late\"}}]}";
    if (m->stopping) return MHD_CONTENT_READER_END_WITH_ERROR;
    if (pos == 0 && max > 0) {
        buf[0] = '{';
        return 1;
    }
    if (live_loop_now(m->loop) < q->slow_until) {
        if (!q->suspended) {
            MHD_suspend_connection(q->conn);
            q->suspended = true;
            if (!live_loop_at(m->loop, q->slow_until, on_due, q, 0))
                return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        return 0;
    }
    if (pos == 1 && max >= sizeof rest - 1) {
        memcpy(buf, rest, sizeof rest - 1);
        return (ssize_t)(sizeof rest - 1);
    }
    return MHD_CONTENT_READER_END_OF_STREAM;
}

/* ---- requests -------------------------------------------------------------------------- */

/* The domain of a path [/<provider>]/v1/<what>; provider into prov. */
static bool parse_path(const char *url, char *prov, size_t size, admit_request_domain *d) {
    const char *v1 = strstr(url, "/v1/");
    if (!v1) return false;
    size_t pl = v1 > url ? (size_t)(v1 - url - 1) : 0;
    if (pl >= size || (v1 > url && url[0] != '/') || memchr(url + 1, '/', pl)) return false;
    memcpy(prov, url + 1, pl);
    prov[pl] = '\0';
    const char *what = v1 + 4;
    if (!strcmp(what, "chat/completions"))
        *d = ADMIT_DOMAIN_CHAT;
    else if (!strcmp(what, "embeddings"))
        *d = ADMIT_DOMAIN_EMBEDDING;
    else if (!strcmp(what, "images/generations"))
        *d = ADMIT_DOMAIN_IMAGE;
    else if (!strcmp(what, "models"))
        *d = ADMIT_DOMAIN_HEALTHCHECK;
    else
        return false;
    return true;
}

/* The request resource a request names: provider from the path (if any),
** model id or alias from the body (healthcheck: any model), domain. */
static int find_resource(const live_mock *m, const char *prov, const char *model,
                         admit_request_domain d) {
    int by_alias = model ? admit_request_resolver_lookup(m->rr, model) : -1;
    for (uint32_t r = 0; r < admit_request_resolver_resource_count(m->rr); r++) {
        uint32_t pm = admit_request_resolver_resource_pm(m->rr, r);
        if (admit_request_resolver_resource_domain(m->rr, r) != d) continue;
        if (prov[0] && strcmp(prov, admit_request_resolver_pm_provider(m->rr, pm))) continue;
        if (model && (int)pm != by_alias &&
            strcmp(model, admit_request_resolver_pm_model(m->rr, pm)))
            continue;
        return (int)r;
    }
    return -1;
}

static enum MHD_Result fault_answer(mock_req *q, live_mock_fault f) {
    live_mock *m = q->m;
    switch (f) {
    case LIVE_MOCK_FAULT_RETRY_AFTER_MS: rate_limited(q, 250000000); break;
    case LIVE_MOCK_FAULT_RETRY_AFTER_SECONDS:
        rate_limited(q, 2 * NS_PER_SECOND);
        q->retry_after_ms[0] = '\0';
        break;
    case LIVE_MOCK_FAULT_RETRY_AFTER_DATE: {
        rate_limited(q, -1);
        time_t at = time(NULL) + 3;
        struct tm tm;
        gmtime_r(&at, &tm);
        strftime(q->retry_after, sizeof q->retry_after, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        break;
    }
    case LIVE_MOCK_FAULT_RATE_LIMIT_BARE: rate_limited(q, -1); break;
    case LIVE_MOCK_FAULT_SERVER_ERROR:
        set_answer(q, 503, error_body("overloaded", "try again later"));
        break;
    case LIVE_MOCK_FAULT_GARBAGE: set_answer(q, 200, strdup("this is not json {")); break;
    case LIVE_MOCK_FAULT_OVERSIZED: set_answer(q, 200, NULL); break;
    case LIVE_MOCK_FAULT_SLOW_BODY:
        set_answer(q, 200, NULL);
        q->slow = true;
        q->slow_until =
            live_loop_now(m->loop) + live_loop_clock_ns(m->loop, SLOW_SECONDS * NS_PER_SECOND);
        break;
    default: return MHD_NO; /* DROP */
    }
    q->state = RQ_READY;
    return respond(q);
}

static enum MHD_Result start(mock_req *q, const char *url, const char *method) {
    live_mock *m = q->m;
    atomic_fetch_add(&m->requests, 1);
    const char *auth = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Authorization");
    if (auth && !strncmp(auth, "Bearer ", 7) && auth[7]) atomic_fetch_add(&m->authorized, 1);
    live_mock_fault f = (live_mock_fault)atomic_load(&m->fault);
    if (f != LIVE_MOCK_FAULT_NONE) return fault_answer(q, f);
    char prov[ADMIT_NAME_MAX];
    admit_request_domain d;
    json_t *doc = q->body ? json_loadb(q->body, q->len, 0, NULL) : NULL;
    const char *model = json_string_value(json_object_get(doc, "model"));
    bool get = !strcmp(method, "GET");
    int r = -1;
    if (parse_path(url, prov, sizeof prov, &d) && get == (d == ADMIT_DOMAIN_HEALTHCHECK) &&
        !q->too_big && (get || model))
        r = find_resource(m, prov, get ? NULL : model, d);
    if (r < 0) {
        json_decref(doc);
        set_answer(q, q->too_big ? 413 : 404,
                   error_body("not_found", "no such endpoint or model in the scenario"));
        q->state = RQ_READY;
        return respond(q);
    }
    int64_t now = live_loop_now(m->loop);
    if (!m->clock_started) {
        m->clock_started = true;
        m->origin = now;
    }
    q->resource = (uint32_t)r;
    sim_providers_begin(m->providers, q->resource, now - m->origin, &q->plan);
    q->began = true;
    uint32_t pm = admit_request_resolver_resource_pm(m->rr, q->resource);
    plan_answer(q, d, admit_request_resolver_pm_model(m->rr, pm));
    json_decref(doc);
    q->state = RQ_WAITING;
    atomic_fetch_add(&m->waiting, 1);
    MHD_suspend_connection(q->conn);
    q->suspended = true;
    if (!live_loop_at(m->loop, now + q->plan.duration_ns, on_due, q, 0)) {
        atomic_fetch_sub(&m->waiting, 1);
        q->state = RQ_READY;
        q->suspended = false;
        MHD_resume_connection(q->conn);
        return MHD_NO;
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
    live_mock *m = cls;
    mock_req *q = *con_cls;
    (void)version;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        q->m = m;
        q->conn = conn;
        q->next = m->reqs;
        if (m->reqs) m->reqs->prev = q;
        m->reqs = q;
        *con_cls = q;
        return MHD_YES;
    }
    if (*upload_size) {
        if (q->len + *upload_size > BODY_MAX) {
            q->too_big = true;
        } else {
            char *b = realloc(q->body, q->len + *upload_size + 1);
            if (!b) return MHD_NO;
            memcpy(b + q->len, upload, *upload_size);
            q->body = b;
            q->len += *upload_size;
            b[q->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (m->stopping) return MHD_NO;
    if (q->state == RQ_NEW) return start(q, url, method);
    if (q->state == RQ_READY) return respond(q);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    live_mock *m = cls;
    mock_req *q = *con_cls;
    (void)conn, (void)toe;
    if (!q) return;
    if (q->state == RQ_WAITING) atomic_fetch_sub(&m->waiting, 1);
    if (q->began && !q->ended) /* closed before its answer was due (stopping) */
        sim_providers_end(m->providers, q->resource, live_loop_now(m->loop) - m->origin, &q->plan);
    if (q->prev)
        q->prev->next = q->next;
    else
        m->reqs = q->next;
    if (q->next) q->next->prev = q->prev;
    free(q->body);
    free(q->answer);
    free(q);
    *con_cls = NULL;
}

/* ---- the daemon on the loop -------------------------------------------------------- */

static void on_mhd_timer(uv_timer_t *t);

static void run_mhd(live_mock *m) {
    MHD_run(m->d);
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(m->d, &ms) == MHD_YES)
        uv_timer_start(&m->timer, on_mhd_timer, (uint64_t)ms, 0);
    else
        uv_timer_stop(&m->timer);
}

static void kick(live_mock *m) {
    uv_timer_start(&m->timer, on_mhd_timer, 0, 0);
}

static void on_mhd_timer(uv_timer_t *t) {
    live_mock *m = t->data;
    if (!m->stopping) run_mhd(m);
}

static void on_mhd_poll(uv_poll_t *p, int status, int events) {
    live_mock *m = p->data;
    (void)status, (void)events;
    if (!m->stopping) run_mhd(m);
}

/* Resumes what is suspended (it then closes), stops the daemon, closes the handles. */
static void on_stop(uv_async_t *a) {
    live_mock *m = a->data;
    m->stopping = true;
    for (mock_req *q = m->reqs; q; q = q->next)
        if (q->suspended) {
            q->suspended = false;
            MHD_resume_connection(q->conn);
        }
    for (int i = 0; i < 4; i++)
        MHD_run(m->d);
    MHD_stop_daemon(m->d);
    m->d = NULL;
    live_loop_halt(m->loop);
    uv_poll_stop(&m->poll);
    uv_close((uv_handle_t *)&m->poll, NULL);
    uv_close((uv_handle_t *)&m->timer, NULL);
    uv_close((uv_handle_t *)&m->stop_async, NULL);
}

static bool build_providers(live_mock *m) {
    const sim_scenario *sc = m->sc;
    m->rr = admit_request_resolver_create(&m->err);
    if (!m->rr) return false;
    for (uint32_t i = 0; i < sc->config.model_count; i++) {
        const run_model_alias *a = &sc->config.models[i];
        uint32_t pm;
        if (admit_request_resolver_add_alias(m->rr, a->alias, a->provider, a->model_id,
                                             a->max_parallel_requests, &pm, &m->err) != ADMIT_OK)
            return false;
    }
    for (uint32_t i = 0; i < sc->env.provider_count; i++) {
        const sim_provider_spec *ps = &sc->env.providers[i];
        int pm = admit_request_resolver_lookup(m->rr, sc->config.models[ps->model].alias);
        if (pm < 0 || admit_request_resolver_resource(m->rr, (uint32_t)pm, ps->domain) < 0)
            return admit_error_set(&m->err, ADMIT_ENOMEM, "out of memory building the mock"), false;
    }
    sim_error serr = {0};
    m->providers = sim_providers_create(sc, m->rr, m->opt.seed, m->opt.iteration, &serr);
    if (!m->providers) admit_error_set(&m->err, ADMIT_EINVAL, "%s", serr.message);
    return m->providers != NULL;
}

static bool listen_on(live_mock *m) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(m->opt.port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, m->opt.port, NULL, NULL,
                            on_request, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, m,
                            MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_CONNECTION_TIMEOUT,
                            0u, MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_END);
    if (!m->d)
        return admit_error_set(&m->err, ADMIT_EINVAL,
                               "cannot listen on 127.0.0.1:%u (in use, or not allowed)",
                               (unsigned)m->opt.port),
               false;
    const union MHD_DaemonInfo *port = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
    const union MHD_DaemonInfo *ep = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
    if (!port || !ep)
        return admit_error_set(&m->err, ADMIT_EINVAL, "libmicrohttpd: no epoll"), false;
    m->port = port->port;
    uv_poll_init(&m->uv, &m->poll, ep->epoll_fd);
    m->poll.data = m;
    uv_poll_start(&m->poll, UV_READABLE, on_mhd_poll);
    uv_timer_init(&m->uv, &m->timer);
    m->timer.data = m;
    uv_async_init(&m->uv, &m->stop_async, on_stop);
    m->stop_async.data = m;
    return true;
}

static void announce(live_mock *m, int ready) {
    pthread_mutex_lock(&m->mu);
    m->ready = ready;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

static void *mock_main(void *arg) {
    live_mock *m = arg;
    live_loop_thread_init();
    bool ok = build_providers(m) && listen_on(m);
    if (ok) {
        announce(m, 1);
        uv_run(&m->uv, UV_RUN_DEFAULT);
    } else if (m->d) {
        MHD_stop_daemon(m->d);
    }
    live_loop_destroy(m->loop);
    m->loop = NULL;
    uv_run(&m->uv, UV_RUN_DEFAULT);
    uv_loop_close(&m->uv);
    if (!ok) announce(m, -1);
    return NULL;
}

live_mock *live_mock_start(const sim_scenario *sc, const live_mock_options *opt, admit_error *err) {
    live_mock *m = calloc(1, sizeof *m);
    if (!m) {
        admit_error_set(err, ADMIT_ENOMEM, "out of memory starting the mock");
        return NULL;
    }
    m->sc = sc;
    m->opt = *opt;
    if (!(m->opt.time_scale > 0)) m->opt.time_scale = 1;
    m->oversized = malloc(OVERSIZE);
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    if (m->oversized) {
        memset(m->oversized, 'x', OVERSIZE);
        memcpy(m->oversized, "{\"choices\":[{\"message\":{\"content\":\"", 35);
    }
    if (!m->oversized || uv_loop_init(&m->uv) != 0 ||
        !(m->loop = live_loop_create(&m->uv, m->opt.time_scale, err)) ||
        pthread_create(&m->thread, NULL, mock_main, m) != 0) {
        if (err->code == ADMIT_OK) admit_error_set(err, ADMIT_ENOMEM, "cannot start the mock");
        if (m->loop) live_loop_destroy(m->loop);
        free(m->oversized);
        free(m);
        return NULL;
    }
    pthread_mutex_lock(&m->mu);
    while (m->ready == 0)
        pthread_cond_wait(&m->cv, &m->mu);
    pthread_mutex_unlock(&m->mu);
    if (m->ready < 0) {
        pthread_join(m->thread, NULL);
        *err = m->err;
        sim_providers_free(m->providers);
        admit_request_resolver_destroy(m->rr);
        free(m->oversized);
        free(m);
        return NULL;
    }
    return m;
}

void live_mock_stop(live_mock *m) {
    if (!m) return;
    uv_async_send(&m->stop_async);
    pthread_join(m->thread, NULL);
    sim_providers_free(m->providers);
    admit_request_resolver_destroy(m->rr);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m->oversized);
    free(m);
}

uint16_t live_mock_port(const live_mock *m) {
    return m->port;
}

void live_mock_set_fault(live_mock *m, live_mock_fault fault) {
    atomic_store(&m->fault, (int)fault);
}

uint64_t live_mock_requests(const live_mock *m) {
    return atomic_load(&((live_mock *)m)->requests);
}

uint64_t live_mock_rate_limited(const live_mock *m) {
    return atomic_load(&((live_mock *)m)->rate_limited);
}

uint64_t live_mock_authorized(const live_mock *m) {
    return atomic_load(&((live_mock *)m)->authorized);
}

int live_mock_waiting(const live_mock *m) {
    return atomic_load(&((live_mock *)m)->waiting);
}
