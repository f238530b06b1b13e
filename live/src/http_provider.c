/*
** An OpenAI-compatible provider on libcurl's multi interface and a live
** loop (live/http_provider.h).
**
** Transfers come from a free list (their easy handles and body buffers are
** reused); each in-flight transfer is the attempt's provider data.  libcurl
** tells which sockets to watch (socket callback: one uv_poll per socket,
** freed when its handle has closed) and when to call it back (timer
** callback: one uv_timer).  Finished transfers are collected after every
** curl_multi_socket_action and reported to the executor after the transfer
** is back on the free list, so the executor may start the next call at
** once.  A cancelled transfer is removed from the multi handle and reported
** from a loop timer (never from inside cancel()).
*/
#include "live/http_provider.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct endpoint {
    bool set;
    live_http_endpoint ep;
    char url[LIVE_URL_MAX + 64];
    char *body; /* NULL: GET */
    struct curl_slist *headers;
} endpoint;

typedef struct transfer {
    live_http *h;
    CURL *easy;
    admit_model_attempt *attempt;
    uint32_t resource;
    bool active, cancelled, too_large;
    uint32_t sends; /* requests libcurl was about to send for this attempt */
    char *buf;
    size_t len, cap, limit;
    char retry_after[96], retry_after_ms[32];
    int64_t started_ns;
    struct transfer *next_free;
} transfer;

typedef struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    live_http *h;
    struct sock *prev, *next;
} sock;

struct live_http {
    live_loop *loop;
    CURLM *multi;
    uv_timer_t timer;
    bool timer_closed;
    admit_model_executor *exec;
    endpoint *eps;
    uint32_t ep_count;
    transfer **all;
    size_t all_count;
    transfer *free_list;
    uint32_t in_flight;
    sock *socks;
    uint32_t open_handles; /* uv handles not yet closed */
    void (*report_fn)(void *ctx, const live_http_attempt_report *r);
    void *report_ctx;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- Retry-After ------------------------------------------------------------ */

/* A non-negative decimal number (digits, at most one '.'), blanks around. */
static bool parse_decimal(const char *s, double *out) {
    while (*s == ' ' || *s == '\t')
        s++;
    const char *p = s;
    bool digits = false, dot = false;
    for (; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits = true;
        else if (*p == '.' && !dot)
            dot = true;
        else
            break;
    }
    const char *end = p;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!digits || *p) return false;
    char tmp[64];
    size_t n = (size_t)(end - s);
    if (n >= sizeof tmp) return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *out = strtod(tmp, NULL);
    return isfinite(*out);
}

double live_http_retry_after_seconds(const char *retry_after_ms, const char *retry_after,
                                     double now_unix) {
    double v;
    if (retry_after_ms && parse_decimal(retry_after_ms, &v))
        return fmin(v / 1000.0, LIVE_MAX_RETRY_AFTER_SECONDS);
    if (!retry_after || !*retry_after) return -1;
    if (parse_decimal(retry_after, &v)) return fmin(v, LIVE_MAX_RETRY_AFTER_SECONDS);
    time_t at = curl_getdate(retry_after, NULL);
    if (at == (time_t)-1) return -1;
    return fmin(fmax((double)at - now_unix, 0.0), LIVE_MAX_RETRY_AFTER_SECONDS);
}

/* ---- endpoints ------------------------------------------------------------------- */

static const char *domain_path(admit_request_domain d) {
    switch (d) {
    case ADMIT_DOMAIN_EMBEDDING: return "/embeddings";
    case ADMIT_DOMAIN_IMAGE: return "/images/generations";
    case ADMIT_DOMAIN_HEALTHCHECK: return "/models";
    default: return "/chat/completions";
    }
}

/* The small fixed request body of a domain (malloc'd), NULL for a GET. */
static char *request_body(const live_http_endpoint *ep) {
    json_t *b = NULL;
    const char *text = "admitsim live call";
    switch (ep->domain) {
    case ADMIT_DOMAIN_HEALTHCHECK: return NULL;
    case ADMIT_DOMAIN_EMBEDDING:
        b = json_pack("{s:s, s:s}", "model", ep->model, "input", text);
        break;
    case ADMIT_DOMAIN_IMAGE:
        b = json_pack("{s:s, s:s, s:i}", "model", ep->model, "prompt", text, "n", 1);
        break;
    default:
        b = json_pack("{s:s, s:[{s:s, s:s}], s:i}", "model", ep->model, "messages", "role", "user",
                      "content", text, "max_tokens", 16);
    }
    char *s = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    return s;
}

static void endpoint_clear(endpoint *e) {
    free(e->body);
    curl_slist_free_all(e->headers);
    memset(e, 0, sizeof *e);
}

admit_status live_http_set_endpoint(live_http *h, uint32_t resource, const live_http_endpoint *ep,
                                    admit_error *err) {
    if (strncmp(ep->base_url, "http://", 7) != 0 && strncmp(ep->base_url, "https://", 8) != 0)
        return admit_error_set(err, ADMIT_EINVAL,
                               "endpoint URL '%.200s' is not http:// or https://", ep->base_url);
    if (resource >= h->ep_count) {
        endpoint *n = realloc(h->eps, (resource + 1) * sizeof *n);
        if (!n) return admit_error_set(err, ADMIT_ENOMEM, "out of memory adding an endpoint");
        memset(n + h->ep_count, 0, (resource + 1 - h->ep_count) * sizeof *n);
        h->eps = n;
        h->ep_count = resource + 1;
    }
    endpoint *e = &h->eps[resource];
    endpoint_clear(e);
    e->ep = *ep;
    size_t n = strlen(ep->base_url);
    while (n && e->ep.base_url[n - 1] == '/')
        e->ep.base_url[--n] = '\0';
    snprintf(e->url, sizeof e->url, "%s%s", e->ep.base_url, domain_path(ep->domain));
    e->body = request_body(ep);
    e->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (e->headers && ep->api_key[0]) {
        char auth[LIVE_KEY_MAX + 32];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", ep->api_key);
        struct curl_slist *l = curl_slist_append(e->headers, auth);
        memset(auth, 0, sizeof auth);
        if (l)
            e->headers = l;
        else {
            curl_slist_free_all(e->headers);
            e->headers = NULL;
        }
    }
    if ((ep->domain != ADMIT_DOMAIN_HEALTHCHECK && !e->body) || !e->headers) {
        endpoint_clear(e);
        return admit_error_set(err, ADMIT_ENOMEM, "out of memory adding an endpoint");
    }
    e->set = true;
    return ADMIT_OK;
}

/* ---- transfers -------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *ctx) {
    transfer *t = ctx;
    size_t len = size * n;
    if (t->len + len > t->limit) {
        t->too_large = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    if (t->len + len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + len + 1)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) return 0;
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, data, len);
    t->len += len;
    t->buf[t->len] = '\0';
    return len;
}

/* Keeps the value of a header named `name` (case-insensitive) in out. */
static void keep_header(const char *line, size_t len, const char *name, char *out, size_t size) {
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':') return;
    const char *v = line + nl + 1;
    size_t vl = len - nl - 1;
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (vl >= size) vl = size - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx) {
    transfer *t = ctx;
    size_t len = size * n;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new response: forget earlier headers */
        t->retry_after[0] = t->retry_after_ms[0] = '\0';
        return len;
    }
    keep_header(data, len, "retry-after", t->retry_after, sizeof t->retry_after);
    keep_header(data, len, "retry-after-ms", t->retry_after_ms, sizeof t->retry_after_ms);
    return len;
}

/* Called before libcurl sends the request, on a new or reused connection.
** When a reused keep-alive connection dies before any answer, libcurl sends
** the request again on a fresh connection by itself (libcurl 7.88 has no
** option to stop it), so a POST the server may have received would reach it
** twice with the executor seeing one attempt.  One request per attempt: the
** second send is refused and the attempt ends as a lost connection, for the
** walker's retry policy to retry as an attempt of its own. */
static int on_prereq(void *ctx, char *primary_ip, char *local_ip, int primary_port,
                     int local_port) {
    transfer *t = ctx;
    (void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
    return t->sends++ ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

static transfer *transfer_get(live_http *h) {
    transfer *t = h->free_list;
    if (t) {
        h->free_list = t->next_free;
        return t;
    }
    transfer **all = realloc(h->all, (h->all_count + 1) * sizeof *all);
    if (!all) return NULL;
    h->all = all;
    t = calloc(1, sizeof *t);
    if (t) t->easy = curl_easy_init();
    if (!t || !t->easy) {
        free(t);
        return NULL;
    }
    t->h = h;
    h->all[h->all_count++] = t;
    return t;
}

static void transfer_put(live_http *h, transfer *t) {
    t->active = t->cancelled = t->too_large = false;
    t->attempt = NULL;
    t->next_free = h->free_list;
    h->free_list = t;
}

static int64_t get_tokens(json_t *usage, const char *key) {
    json_t *v = json_object_get(usage, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v) : -1;
}

/* A 2xx body: a JSON object of the domain's shape? Usage into r. */
static bool body_is_valid(const transfer *t, admit_request_domain d, live_http_attempt_report *r) {
    json_error_t jerr;
    json_t *doc = t->buf ? json_loadb(t->buf, t->len, 0, &jerr) : NULL;
    bool ok = json_is_object(doc);
    if (ok && d == ADMIT_DOMAIN_CHAT) {
        json_t *c = json_object_get(doc, "choices");
        ok = json_is_array(c) && json_array_size(c) > 0;
    } else if (ok && d != ADMIT_DOMAIN_HEALTHCHECK) {
        ok = json_is_array(json_object_get(doc, "data"));
    }
    json_t *usage = ok ? json_object_get(doc, "usage") : NULL;
    r->prompt_tokens = get_tokens(usage, "prompt_tokens");
    r->completion_tokens = get_tokens(usage, "completion_tokens");
    r->total_tokens = get_tokens(usage, "total_tokens");
    json_decref(doc);
    return ok;
}

/* What a finished transfer comes to. */
static void classify(live_http *h, transfer *t, CURLcode rc, live_http_attempt_report *r) {
    admit_request_outcome *o = &r->outcome;
    o->kind = ADMIT_REQ_PROVIDER_FAILURE;
    o->retry_after_ns = 0;
    r->curl_code = (int)rc;
    r->prompt_tokens = r->completion_tokens = r->total_tokens = -1;
    if (t->cancelled) {
        o->kind = ADMIT_REQ_LOCAL_CANCELLED;
        r->detail = "cancelled";
        return;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        o->kind = ADMIT_REQ_PROVIDER_TIMEOUT;
        r->detail = "timeout";
        return;
    }
    if (rc != CURLE_OK) {
        r->detail = t->too_large ? "response_too_large" : "connection";
        return;
    }
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r->http_status);
    if (r->http_status == 429) {
        o->kind = ADMIT_REQ_RATE_LIMITED;
        r->detail = "rate_limited";
        double s = live_http_retry_after_seconds(t->retry_after_ms[0] ? t->retry_after_ms : NULL,
                                                 t->retry_after, (double)time(NULL));
        if (s > 0) o->retry_after_ns = live_loop_clock_ns(h->loop, (int64_t)ceil(s * 1e9));
    } else if (r->http_status < 200 || r->http_status > 299) {
        r->detail = "http_status";
    } else if (!body_is_valid(t, h->eps[t->resource].ep.domain, r)) {
        r->detail = "malformed_body";
    } else {
        o->kind = ADMIT_REQ_SUCCESS;
        r->detail = "ok";
    }
}

static void finish(live_http *h, transfer *t, CURLcode rc) {
    live_http_attempt_report r = {.attempt_id = admit_model_attempt_id(t->attempt),
                                  .resource = t->resource,
                                  .started_ns = t->started_ns,
                                  .ended_ns = live_loop_now(h->loop)};
    classify(h, t, rc, &r);
    admit_model_attempt *a = t->attempt;
    h->in_flight--;
    transfer_put(h, t);
    if (h->report_fn) h->report_fn(h->report_ctx, &r);
    admit_model_executor_call_finished(h->exec, a, r.outcome);
}

static void collect_done(live_http *h) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;
        transfer *t = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(h->multi, easy);
        if (t && t->active) finish(h, t, rc);
    }
}

/* ---- libcurl on the loop ----------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *hd) {
    live_http *h = hd->data;
    h->open_handles--;
}

static void on_sock_closed(uv_handle_t *hd) {
    sock *k = hd->data;
    k->h->open_handles--;
    free(k);
}

static void on_poll(uv_poll_t *p, int status, int events) {
    sock *k = p->data;
    live_http *h = k->h;
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(h->multi, k->fd, flags, &running);
    collect_done(h);
}

static void sock_close(live_http *h, sock *k) {
    uv_poll_stop(&k->poll);
    if (k->prev)
        k->prev->next = k->next;
    else
        h->socks = k->next;
    if (k->next) k->next->prev = k->prev;
    uv_close((uv_handle_t *)&k->poll, on_sock_closed);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
    live_http *h = userp;
    sock *k = socketp;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (k) {
            curl_multi_assign(h->multi, s, NULL);
            sock_close(h, k);
        }
        return 0;
    }
    if (!k) {
        k = calloc(1, sizeof *k);
        if (!k || uv_poll_init_socket(live_loop_uv(h->loop), &k->poll, s) != 0) {
            free(k);
            return -1;
        }
        k->fd = s;
        k->h = h;
        k->poll.data = k;
        k->next = h->socks;
        if (h->socks) h->socks->prev = k;
        h->socks = k;
        h->open_handles++;
        curl_multi_assign(h->multi, s, k);
    }
    int ev = 0;
    if (what & CURL_POLL_IN) ev |= UV_READABLE;
    if (what & CURL_POLL_OUT) ev |= UV_WRITABLE;
    uv_poll_start(&k->poll, ev, on_poll);
    return 0;
}

static void on_timeout(uv_timer_t *tm) {
    live_http *h = tm->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect_done(h);
}

static int on_timer_change(CURLM *m, long timeout_ms, void *userp) {
    live_http *h = userp;
    (void)m;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- the provider boundary ------------------------------------------------------ */

static long real_ms(const live_http *h, int64_t clock_ns, int64_t dflt) {
    int64_t real = live_loop_real_ns(h->loop, clock_ns > 0 ? clock_ns : dflt);
    int64_t ms = (real + 999999) / 1000000;
    return ms < 1 ? 1 : ms > 0x7fffffff ? 0x7fffffff : (long)ms;
}

static int provider_call(void *ctx, admit_model_attempt *a) {
    live_http *h = ctx;
    uint32_t r = admit_model_attempt_resource(a);
    if (r >= h->ep_count || !h->eps[r].set) return -1;
    const endpoint *e = &h->eps[r];
    transfer *t = transfer_get(h);
    if (!t) return -1;
    t->attempt = a;
    t->resource = r;
    t->len = 0;
    t->sends = 0;
    t->limit = e->ep.max_response_bytes ? e->ep.max_response_bytes : LIVE_DEFAULT_MAX_RESPONSE;
    t->retry_after[0] = t->retry_after_ms[0] = '\0';
    t->started_ns = live_loop_now(h->loop);
    CURL *c = t->easy;
    curl_easy_setopt(c, CURLOPT_URL, e->url);
    if (e->body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, e->body);
    else
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, e->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)t);
    curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(c, CURLOPT_PREREQDATA, t);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, real_ms(h, e->ep.timeout_ns, LIVE_DEFAULT_TIMEOUT_NS));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     real_ms(h, e->ep.connect_timeout_ns, LIVE_DEFAULT_CONNECT_NS));
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    if (curl_multi_add_handle(h->multi, c) != CURLM_OK) {
        transfer_put(h, t);
        return -1;
    }
    t->active = true;
    h->in_flight++;
    admit_model_attempt_set_provider_data(a, t);
    return 0;
}

static void on_cancel_due(void *ctx, uint64_t ref) {
    live_http *h = ctx;
    transfer *t = (transfer *)(uintptr_t)ref;
    if (t->active && t->cancelled) finish(h, t, CURLE_ABORTED_BY_CALLBACK);
}

static void provider_cancel(void *ctx, admit_model_attempt *a) {
    live_http *h = ctx;
    transfer *t = admit_model_attempt_provider_data(a);
    if (!t || !t->active || t->cancelled) return;
    curl_multi_remove_handle(h->multi, t->easy);
    t->cancelled = true;
    if (!live_loop_at(h->loop, live_loop_now(h->loop), on_cancel_due, h, (uint64_t)(uintptr_t)t))
        finish(h, t, CURLE_ABORTED_BY_CALLBACK); /* out of memory: report now rather than never */
}

admit_model_provider live_http_provider(live_http *h) {
    return (admit_model_provider){h, provider_call, provider_cancel};
}

void live_http_bind(live_http *h, admit_model_executor *exec) {
    h->exec = exec;
}

void live_http_on_report(live_http *h, void (*fn)(void *ctx, const live_http_attempt_report *r),
                         void *ctx) {
    h->report_fn = fn;
    h->report_ctx = ctx;
}

uint32_t live_http_in_flight(const live_http *h) {
    return h->in_flight;
}

live_http *live_http_create(live_loop *loop, admit_error *err) {
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        admit_error_set(err, ADMIT_EINVAL, "libcurl: %s", curl_easy_strerror(curl_init_rc));
        return NULL;
    }
    live_http *h = calloc(1, sizeof *h);
    if (h) h->multi = curl_multi_init();
    if (!h || !h->multi) {
        free(h);
        admit_error_set(err, ADMIT_ENOMEM, "out of memory creating the HTTP provider");
        return NULL;
    }
    h->loop = loop;
    uv_timer_init(live_loop_uv(loop), &h->timer);
    h->timer.data = h;
    h->open_handles = 1;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

void live_http_destroy(live_http *h) {
    if (!h) return;
    for (size_t i = 0; i < h->all_count; i++)
        if (h->all[i]->active && !h->all[i]->cancelled)
            curl_multi_remove_handle(h->multi, h->all[i]->easy);
    for (size_t i = 0; i < h->all_count; i++) {
        curl_easy_cleanup(h->all[i]->easy);
        free(h->all[i]->buf);
        free(h->all[i]);
    }
    free(h->all);
    curl_multi_cleanup(h->multi); /* closes its sockets (CURL_POLL_REMOVE) */
    while (h->socks)
        sock_close(h, h->socks);
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, on_handle_closed);
    while (h->open_handles)
        uv_run(live_loop_uv(h->loop), UV_RUN_ONCE);
    for (uint32_t i = 0; i < h->ep_count; i++)
        endpoint_clear(&h->eps[i]);
    free(h->eps);
    free(h);
}

bool live_http_api_key_from_env(const char *name, char *key, size_t size, admit_error *err) {
    const char *v = name && *name ? getenv(name) : NULL;
    if (!v || !*v) {
        admit_error_set(err, ADMIT_EINVAL, "environment variable %.100s is not set or empty",
                        name ? name : "(none)");
        return false;
    }
    if (strlen(v) >= size) {
        admit_error_set(err, ADMIT_EINVAL, "environment variable %.100s is longer than %zu bytes",
                        name, size - 1);
        return false;
    }
    memcpy(key, v, strlen(v) + 1);
    return true;
}
