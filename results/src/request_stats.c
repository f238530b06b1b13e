/*
** Request-stage figures from a run record (res/request_stats.h).
*/
#include "res/request_stats.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "res/stats.h"

typedef int64_t pair[2];

typedef struct pairs {
    pair *v;
    size_t n, cap;
} pairs;

static bool pairs_push(pairs *p, int64_t a, int64_t b) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        pair *v = realloc(p->v, cap * sizeof *v);
        if (!v) return false;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n][0] = a;
    p->v[p->n][1] = b;
    p->n++;
    return true;
}

/* Per resource while sweeping the stream. */
typedef struct resource_acc {
    uint32_t in_flight;
    int64_t since_ns;
    double area; /* in-flight x ns */
    int64_t last_lease_ns;
    pairs flight; /* (time, in-flight) change points */
    pairs cool;   /* merged cooldown intervals */
    pairs limits;
    size_t wait_cap;
} resource_acc;

/* Per attempt id: its own timestamps (-1: not seen). */
typedef struct attempt_times {
    int64_t wait_started, wait_completed, call_started, call_completed;
} attempt_times;

/* Per provider name. */
typedef struct provider_acc {
    uint32_t active;
    int64_t since_ns, busy_ns;
} provider_acc;

typedef struct sweep {
    const res_run_record *r;
    res_request_report *rep;
    resource_acc *acc;
    attempt_times *att; /* [attempt id < att_cap], grown as ids are met */
    size_t att_cap;
    provider_acc *prov;
    uint32_t *resource_provider; /* [resource]: index into provider names */
} sweep;

void res_request_report_free(res_request_report *rep) {
    if (!rep) return;
    for (uint32_t i = 0; rep->resources && i < rep->resource_count; i++) {
        free(rep->resources[i].waits);
        free(rep->resources[i].limit_points);
    }
    free(rep->resources);
    free(rep->provider_names);
    free(rep->provider_busy_fraction);
    free(rep);
}

static void sweep_free(sweep *s) {
    for (uint32_t i = 0; s->acc && i < s->r->request_resource_count; i++) {
        free(s->acc[i].flight.v);
        free(s->acc[i].cool.v);
        free(s->acc[i].limits.v);
    }
    free(s->acc);
    free(s->att);
    free(s->prov);
    free(s->resource_provider);
}

/* Provider names in order of first appearance among the resources. */
static bool name_providers(sweep *s) {
    const res_run_record *r = s->r;
    res_request_report *rep = s->rep;
    uint32_t n = r->request_resource_count ? r->request_resource_count : 1;
    rep->provider_names = calloc(n, sizeof *rep->provider_names);
    rep->provider_busy_fraction = calloc(n, sizeof *rep->provider_busy_fraction);
    s->prov = calloc(n, sizeof *s->prov);
    s->resource_provider = calloc(n, sizeof *s->resource_provider);
    if (!rep->provider_names || !rep->provider_busy_fraction || !s->prov || !s->resource_provider)
        return false;
    for (uint32_t i = 0; i < r->request_resource_count; i++) {
        uint32_t p = 0;
        while (p < rep->provider_count && strcmp(rep->provider_names[p], r->request[i].provider))
            p++;
        if (p == rep->provider_count)
            memcpy(rep->provider_names[rep->provider_count++], r->request[i].provider,
                   sizeof rep->provider_names[0]);
        s->resource_provider[i] = p;
    }
    return true;
}

static bool sweep_init(sweep *s) {
    const res_run_record *r = s->r;
    uint32_t n = r->request_resource_count ? r->request_resource_count : 1;
    s->rep->resource_count = r->request_resource_count;
    s->rep->resources = calloc(n, sizeof *s->rep->resources);
    s->acc = calloc(n, sizeof *s->acc);
    if (!s->rep->resources || !s->acc || !name_providers(s)) return false;
    for (uint32_t i = 0; i < r->request_resource_count; i++)
        if (!pairs_push(&s->acc[i].limits, 0, r->request[i].initial.current_limit)) return false;
    return true;
}

static bool push_wait(res_request_stats *rs, resource_acc *acc, int64_t wait) {
    if (rs->wait_count == acc->wait_cap) {
        size_t cap = acc->wait_cap ? acc->wait_cap * 2 : 256;
        int64_t *n = realloc(rs->waits, cap * sizeof *n);
        if (!n) return false;
        rs->waits = n;
        acc->wait_cap = cap;
    }
    rs->waits[rs->wait_count++] = wait;
    return true;
}

/* An attempt ended: admitted (released at t with its outcome) or not. */
static bool attempt_ended(sweep *s, uint32_t res, const admit_event *ev, bool admitted) {
    res_request_stats *rs = &s->rep->resources[res];
    const attempt_times *a = &s->att[ev->attempt_id];
    int64_t t = ev->captured_at_ns;
    rs->attempts++;
    if (!admitted) {
        rs->not_admitted++;
        if (a->wait_started >= 0 && t < a->wait_started) s->rep->attempt_order_violations++;
        return true;
    }
    if ((unsigned)ev->reason < ADMIT_REQ_OUTCOME_COUNT) rs->outcomes[ev->reason]++;
    if (!(a->wait_started <= a->wait_completed &&
          (a->call_started < 0 ||
           (a->wait_completed <= a->call_started && a->call_started <= a->call_completed &&
            a->call_completed <= t))))
        s->rep->attempt_order_violations++;
    return push_wait(rs, &s->acc[res], a->wait_completed - a->wait_started);
}

static bool lease_event(sweep *s, uint32_t res, const admit_event *ev) {
    resource_acc *acc = &s->acc[res];
    res_request_stats *rs = &s->rep->resources[res];
    int64_t t = ev->captured_at_ns;
    acc->area += (double)acc->in_flight * (double)(t - acc->since_ns);
    acc->since_ns = t;
    acc->in_flight = (uint32_t)ev->value;
    if (acc->in_flight > rs->in_flight_max) rs->in_flight_max = acc->in_flight;
    if (ev->kind == ADMIT_REV_REQUEST_LEASE_ACQUIRED) {
        rs->leases++;
        acc->last_lease_ns = t;
    }
    return pairs_push(&acc->flight, t, ev->value);
}

static bool rate_limited(resource_acc *acc, int64_t t, int64_t cools_for) {
    int64_t until = t + cools_for;
    if (acc->cool.n && acc->cool.v[acc->cool.n - 1][1] >= t) {
        if (until > acc->cool.v[acc->cool.n - 1][1]) acc->cool.v[acc->cool.n - 1][1] = until;
        return true;
    }
    return pairs_push(&acc->cool, t, until);
}

static void provider_call(sweep *s, uint32_t res, int64_t t, bool starts) {
    provider_acc *p = &s->prov[s->resource_provider[res]];
    if (starts) {
        if (p->active++ == 0) p->since_ns = t;
    } else if (p->active > 0 && --p->active == 0 && t > p->since_ns) {
        p->busy_ns += t - p->since_ns;
    }
}

/* Room for attempt id `id` in s->att (new entries unseen). */
static bool att_grow(sweep *s, uint64_t id) {
    if (id < s->att_cap) return true;
    size_t cap = s->att_cap ? s->att_cap : 256;
    while (cap <= id) {
        if (cap > SIZE_MAX / 2 / sizeof *s->att) return false;
        cap *= 2;
    }
    attempt_times *a = realloc(s->att, cap * sizeof *a);
    if (!a) return false;
    for (size_t i = s->att_cap; i < cap; i++)
        a[i] = (attempt_times){-1, -1, -1, -1};
    s->att = a;
    s->att_cap = cap;
    return true;
}

static bool attempt_event(sweep *s, uint32_t res, const admit_event *ev) {
    if (ev->attempt_id == 0) return true;
    if (!att_grow(s, ev->attempt_id)) return false;
    attempt_times *a = &s->att[ev->attempt_id];
    int64_t t = ev->captured_at_ns;
    switch ((admit_request_event_kind)ev->kind) {
    case ADMIT_REV_REQUEST_WAIT_STARTED: a->wait_started = t; break;
    case ADMIT_REV_REQUEST_WAIT_COMPLETED: a->wait_completed = t; break;
    case ADMIT_REV_MODEL_REQUEST_STARTED:
        a->call_started = t;
        provider_call(s, res, t, true);
        break;
    case ADMIT_REV_MODEL_REQUEST_COMPLETED:
        a->call_completed = t;
        provider_call(s, res, t, false);
        break;
    case ADMIT_REV_REQUEST_LEASE_RELEASED: return attempt_ended(s, res, ev, true);
    case ADMIT_REV_REQUEST_WAIT_TIMEOUT:
    case ADMIT_REV_REQUEST_WAIT_CANCELLED:
    case ADMIT_REV_REQUEST_ACQUIRE_DENIED: return attempt_ended(s, res, ev, false);
    default: break;
    }
    return true;
}

static bool sweep_event(sweep *s, const admit_event *ev) {
    if (ev->resource < 0 || (uint32_t)ev->resource >= s->r->request_resource_count) return true;
    uint32_t res = (uint32_t)ev->resource;
    bool ok = true;
    switch ((admit_request_event_kind)ev->kind) {
    case ADMIT_REV_REQUEST_LEASE_ACQUIRED:
    case ADMIT_REV_REQUEST_LEASE_RELEASED: ok = lease_event(s, res, ev); break;
    case ADMIT_REV_REQUEST_LIMIT_DECREASED:
    case ADMIT_REV_REQUEST_LIMIT_INCREASED:
        ok = pairs_push(&s->acc[res].limits, ev->captured_at_ns, ev->value);
        break;
    case ADMIT_REV_REQUEST_RATE_LIMITED:
        ok = rate_limited(&s->acc[res], ev->captured_at_ns, ev->value);
        break;
    default: break;
    }
    return ok && attempt_event(s, res, ev);
}

/* In-flight of resource r integrated over the time before its last lease
** during which a resource of another provider cools. */
static void others_cooling(const sweep *s, uint32_t r, res_request_stats *rs) {
    const res_run_record *rec = s->r;
    const resource_acc *acc = &s->acc[r];
    int64_t horizon = acc->last_lease_ns, covered = 0;
    double area = 0;
    size_t fi = 0;
    uint32_t level = 0;
    for (int64_t t = 0; t < horizon;) {
        int64_t next = horizon;
        bool cooling = false;
        for (uint32_t o = 0; o < rec->request_resource_count; o++) {
            if (strcmp(rec->request[o].provider, rec->request[r].provider) == 0) continue;
            const pairs *oc = &s->acc[o].cool;
            for (size_t i = 0; i < oc->n; i++) {
                if (oc->v[i][0] <= t && t < oc->v[i][1]) {
                    cooling = true;
                    if (oc->v[i][1] < next) next = oc->v[i][1];
                } else if (oc->v[i][0] > t && oc->v[i][0] < next) {
                    next = oc->v[i][0];
                }
            }
        }
        /* in-flight is a step function: integrate it over [t, next) */
        while (fi < acc->flight.n && acc->flight.v[fi][0] <= t)
            level = (uint32_t)acc->flight.v[fi++][1];
        int64_t at = t;
        for (; fi < acc->flight.n && acc->flight.v[fi][0] < next; fi++) {
            if (cooling) area += (double)level * (double)(acc->flight.v[fi][0] - at);
            at = acc->flight.v[fi][0];
            level = (uint32_t)acc->flight.v[fi][1];
        }
        if (cooling) {
            area += (double)level * (double)(next - at);
            covered += next - t;
        }
        t = next;
    }
    rs->others_cooling_ns = covered;
    rs->utilization_while_others_cooling =
        covered > 0 ? area / ((double)covered * (double)rec->request[r].final.effective_max) : -1;
}

static void finish(sweep *s) {
    const res_run_record *r = s->r;
    int64_t wall = r->wall_ns;
    for (uint32_t i = 0; i < r->request_resource_count; i++) {
        res_request_stats *rs = &s->rep->resources[i];
        resource_acc *acc = &s->acc[i];
        acc->area += (double)acc->in_flight * (double)(wall - acc->since_ns);
        rs->in_flight_mean = wall > 0 ? acc->area / (double)wall : NAN;
        res_sort_i64(rs->waits, rs->wait_count);
        for (size_t k = 0; k < acc->cool.n; k++) {
            int64_t end = acc->cool.v[k][1] < wall ? acc->cool.v[k][1] : wall;
            if (end > acc->cool.v[k][0]) rs->cooldown_ns += end - acc->cool.v[k][0];
        }
        others_cooling(s, i, rs);
        rs->limit_points = acc->limits.v;
        rs->limit_point_count = acc->limits.n;
        acc->limits.v = NULL;
    }
    for (uint32_t p = 0; p < s->rep->provider_count; p++) {
        const provider_acc *pa = &s->prov[p];
        int64_t busy = pa->busy_ns;
        if (pa->active > 0 && wall > pa->since_ns) busy += wall - pa->since_ns;
        double f = wall > 0 ? (double)busy / (double)wall : NAN;
        s->rep->provider_busy_fraction[p] = f > 1 ? 1 : f;
    }
}

struct res_request_sweep {
    sweep s;
    bool ok;
};

res_request_sweep *res_request_sweep_create(const res_run_record *r) {
    res_request_sweep *rs = calloc(1, sizeof *rs);
    if (!rs) return NULL;
    rs->s = (sweep){.r = r, .rep = calloc(1, sizeof *rs->s.rep)};
    rs->ok = rs->s.rep && sweep_init(&rs->s);
    if (rs->ok) return rs;
    res_request_sweep_free(rs);
    return NULL;
}

bool res_request_sweep_event(res_request_sweep *rs, const admit_event *ev) {
    if (rs->ok) rs->ok = sweep_event(&rs->s, ev);
    return rs->ok;
}

void res_request_sweep_free(res_request_sweep *rs) {
    if (!rs) return;
    sweep_free(&rs->s);
    res_request_report_free(rs->s.rep);
    free(rs);
}

res_request_report *res_request_sweep_finish(res_request_sweep *rs) {
    res_request_report *rep = NULL;
    if (rs->ok) {
        finish(&rs->s);
        rep = rs->s.rep;
        rs->s.rep = NULL;
    }
    res_request_sweep_free(rs);
    return rep;
}

res_request_report *res_request_report_compute(const res_run_record *r) {
    res_request_sweep *rs = res_request_sweep_create(r);
    for (size_t i = 0; rs && i < res_event_log_count(r->request_events); i++) {
        admit_event ev = res_event_log_at(r->request_events, i);
        if (!res_request_sweep_event(rs, &ev)) break;
    }
    return rs ? res_request_sweep_finish(rs) : NULL;
}
