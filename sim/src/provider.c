/*
** Simulated model providers (see sim/provider.h for the answering rules).
**
** One endpoint per request resource of the resolver, each with the server's
** in-flight count, a ring of its last accepted call starts (sized at create
** for the largest requests-per-minute limit the endpoint can have, base or
** window, so no call allocates) and its own random stream.
**
** The scenario must outlive the object: endpoint specs (and the samples of
** empirical latencies) are read from it, not copied.
*/
#include "sim/provider.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/clock.h"
#include "sim/rng.h"

#define RPM_WINDOW_NS  (60 * SIM_NS_PER_SEC)
#define MAX_SPAN_NS    1000000000000000000LL /* 1e9 s: the sampler's clamp */
#define MAX_RING_SLOTS 1000000u              /* the loader caps requests_per_minute at 1e6 */

/* A server capacity: concurrency and requests per minute. */
typedef struct capacity {
    uint32_t max_concurrent; /* 0: unlimited */
    uint32_t rpm_limit;      /* accepted starts allowed per rpm window; 0: unlimited */
    int64_t rpm_window_ns;
} capacity;

typedef struct endpoint {
    const sim_provider_spec *spec;
    gsl_rng *rng;
    capacity base;
    capacity window_cap[SIM_MAX_WINDOWS]; /* for capacity windows */
    uint32_t in_flight;                   /* calls occupying server capacity */
    int64_t *starts;                      /* ring of accepted start times */
    uint32_t ring_cap, ring_next, ring_count;
    uint64_t calls, rate_limited;
} endpoint;

struct sim_providers {
    endpoint *ep;
    uint32_t ep_count;
    bool over;              /* a latency passed SIM_DIST_MAX_SECONDS (cut to it): */
    uint32_t over_resource; /* the first such call's endpoint */
    double over_seconds;    /* and latency, after its windows' multiplier */
};

/* rpm >= 1: floor(rpm) starts per 60 s; below 1: one start per 60/rpm s. */
static capacity make_capacity(uint32_t max_concurrent, double rpm) {
    capacity c = {max_concurrent, 0, RPM_WINDOW_NS};
    if (!(rpm > 0)) return c;
    if (rpm >= 1) {
        c.rpm_limit = rpm >= MAX_RING_SLOTS ? MAX_RING_SLOTS : (uint32_t)floor(rpm);
    } else {
        double w = 60e9 / rpm;
        c.rpm_limit = 1;
        c.rpm_window_ns = w >= (double)MAX_SPAN_NS ? MAX_SPAN_NS : (int64_t)llround(w);
    }
    return c;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bool
set_err(sim_error *err, sim_status code, const char *fmt, ...) {
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return false;
}

static const sim_provider_spec *find_spec(const sim_scenario *sc, const char *provider,
                                          const char *model, admit_request_domain domain) {
    for (uint32_t i = 0; i < sc->env.provider_count; i++) {
        const sim_provider_spec *ps = &sc->env.providers[i];
        const run_model_alias *m = &sc->config.models[ps->model];
        if (ps->domain == domain && strcmp(m->provider, provider) == 0 &&
            strcmp(m->model_id, model) == 0)
            return ps;
    }
    return NULL;
}

static bool init_endpoint(endpoint *e, const sim_scenario *sc, const admit_request_resolver *rr,
                          uint32_t r, uint64_t seed, uint32_t iteration, sim_error *err) {
    uint32_t pm = admit_request_resolver_resource_pm(rr, r);
    admit_request_domain domain = admit_request_resolver_resource_domain(rr, r);
    const char *provider = admit_request_resolver_pm_provider(rr, pm);
    const char *model = admit_request_resolver_pm_model(rr, pm);
    e->spec = find_spec(sc, provider, model, domain);
    if (!e->spec)
        return set_err(err, SIM_EINVAL,
                       "%.400s: request resource \"%.300s\" has no \"providers\" entry",
                       sc->config.path, admit_request_resolver_resource_key(rr, r));

    char entity[3 * ADMIT_NAME_MAX + 32];
    snprintf(entity, sizeof entity, "provider/%s/%s/%s", provider, model,
             admit_request_domain_name(domain));
    e->rng = sim_rng_stream(seed, iteration, entity);
    if (!e->rng)
        return set_err(err, SIM_ENOMEM, "%.400s: out of memory creating %.300s", sc->config.path,
                       entity);

    const sim_provider_spec *ps = e->spec;
    e->base = make_capacity(ps->max_concurrent, ps->requests_per_minute);
    e->ring_cap = e->base.rpm_limit;
    for (uint32_t w = 0; w < ps->window_count && w < SIM_MAX_WINDOWS; w++) {
        if (ps->windows[w].kind != SIM_WINDOW_CAPACITY) continue;
        e->window_cap[w] =
            make_capacity(ps->windows[w].max_concurrent, ps->windows[w].requests_per_minute);
        if (e->window_cap[w].rpm_limit > e->ring_cap) e->ring_cap = e->window_cap[w].rpm_limit;
    }
    if (e->ring_cap) {
        e->starts = malloc((size_t)e->ring_cap * sizeof *e->starts);
        if (!e->starts)
            return set_err(err, SIM_ENOMEM, "%.400s: out of memory creating %.300s",
                           sc->config.path, entity);
    }
    return true;
}

sim_providers *sim_providers_create(const sim_scenario *sc, const admit_request_resolver *rr,
                                    uint64_t seed, uint32_t iteration, sim_error *err) {
    sim_providers *p = calloc(1, sizeof *p);
    uint32_t n = admit_request_resolver_resource_count(rr);
    if (p) p->ep = calloc(n ? n : 1, sizeof *p->ep);
    if (!p || !p->ep) {
        set_err(err, SIM_ENOMEM, "%.400s: out of memory creating the simulated providers",
                sc->config.path);
        sim_providers_free(p);
        return NULL;
    }
    for (uint32_t r = 0; r < n; r++) {
        p->ep_count = r + 1; /* freed on failure */
        if (!init_endpoint(&p->ep[r], sc, rr, r, seed, iteration, err)) {
            sim_providers_free(p);
            return NULL;
        }
    }
    p->ep_count = n;
    return p;
}

void sim_providers_free(sim_providers *p) {
    if (!p) return;
    for (uint32_t i = 0; p->ep && i < p->ep_count; i++) {
        if (p->ep[i].rng) gsl_rng_free(p->ep[i].rng);
        free(p->ep[i].starts);
    }
    free(p->ep);
    free(p);
}

static bool in_window(const sim_window *w, int64_t now_ns) {
    return now_ns >= w->start_ns && now_ns < w->end_ns;
}

/* Would a call starting now exceed the server's capacity? */
static bool over_capacity(const endpoint *e, const capacity *c, int64_t now_ns) {
    if (c->max_concurrent && e->in_flight >= c->max_concurrent) return true;
    if (c->rpm_limit && e->ring_count >= c->rpm_limit) {
        /* the rpm_limit-th most recent accepted start still inside the window */
        uint32_t k = (e->ring_next + e->ring_cap - c->rpm_limit) % e->ring_cap;
        if (e->starts[k] > now_ns - c->rpm_window_ns) return true;
    }
    return false;
}

static int64_t scaled(int64_t ns, double multiplier) {
    if (multiplier == 1) return ns;
    double x = (double)ns * multiplier;
    if (!(x > 0)) return 0;
    return x >= (double)MAX_SPAN_NS ? MAX_SPAN_NS : (int64_t)llround(x);
}

/* A call's latency: a draw times the active latency windows' multiplier,
** the first one past the limit (cut to it) remembered. */
static int64_t latency(sim_providers *p, uint32_t resource, double multiplier) {
    endpoint *e = &p->ep[resource];
    double drawn;
    int64_t ns = sim_dist_draw_ns(&e->spec->latency, e->rng, &drawn);
    double seconds = drawn * multiplier;
    if (seconds > SIM_DIST_MAX_SECONDS && !p->over) {
        p->over = true;
        p->over_resource = resource;
        p->over_seconds = seconds;
    }
    return scaled(ns, multiplier);
}

bool sim_providers_over_limit(const sim_providers *p, uint32_t *resource, double *seconds) {
    if (!p || !p->over) return false;
    *resource = p->over_resource;
    *seconds = p->over_seconds;
    return true;
}

void sim_providers_begin(sim_providers *p, uint32_t resource, int64_t now_ns, sim_call_plan *out) {
    if (resource >= p->ep_count) { /* the loader and create make this unreachable */
        *out = (sim_call_plan){{ADMIT_REQ_UNEXPECTED_EXCEPTION, 0}, 0, false};
        return;
    }
    endpoint *e = &p->ep[resource];
    const sim_provider_spec *ps = e->spec;
    /* u first, always: the stream's position depends only on this endpoint's calls */
    double u = gsl_rng_uniform(e->rng);
    e->calls++;

    bool outage = false;
    const capacity *cap = NULL;
    double multiplier = 1;
    for (uint32_t w = 0; w < ps->window_count; w++) {
        const sim_window *win = &ps->windows[w];
        if (!in_window(win, now_ns)) continue;
        switch (win->kind) {
        case SIM_WINDOW_OUTAGE: outage = true; break;
        case SIM_WINDOW_CAPACITY:
            if (!cap) cap = &e->window_cap[w]; /* the first active one wins */
            break;
        case SIM_WINDOW_LATENCY: multiplier *= win->latency_multiplier; break;
        }
    }
    if (outage || over_capacity(e, cap ? cap : &e->base, now_ns)) {
        e->rate_limited++;
        *out = (sim_call_plan){
            {ADMIT_REQ_RATE_LIMITED, ps->retry_after_ns}, ps->rate_limited_latency_ns, false};
        return;
    }
    e->in_flight++;
    if (e->ring_cap) {
        e->starts[e->ring_next] = now_ns;
        e->ring_next = (e->ring_next + 1) % e->ring_cap;
        if (e->ring_count < e->ring_cap) e->ring_count++;
    }
    out->occupies = true;
    out->outcome.retry_after_ns = 0;
    if (u < ps->timeout_probability) {
        out->outcome.kind = ADMIT_REQ_PROVIDER_TIMEOUT;
        out->duration_ns = ps->timeout_ns;
        return;
    }
    out->outcome.kind = u < ps->timeout_probability + ps->failure_probability
                            ? ADMIT_REQ_PROVIDER_FAILURE
                            : ADMIT_REQ_SUCCESS;
    out->duration_ns = latency(p, resource, multiplier);
}

void sim_providers_end(sim_providers *p, uint32_t resource, int64_t now_ns,
                       const sim_call_plan *plan) {
    if (resource >= p->ep_count) return;
    endpoint *e = &p->ep[resource];
    (void)now_ns;
    if (plan->occupies && e->in_flight > 0) e->in_flight--;
}

uint32_t sim_providers_in_flight(const sim_providers *p, uint32_t resource) {
    return resource < p->ep_count ? p->ep[resource].in_flight : 0;
}

uint64_t sim_providers_calls(const sim_providers *p, uint32_t resource) {
    return resource < p->ep_count ? p->ep[resource].calls : 0;
}

uint64_t sim_providers_rate_limited(const sim_providers *p, uint32_t resource) {
    return resource < p->ep_count ? p->ep[resource].rate_limited : 0;
}
