/*
** Request admission: AdaptiveRequestLimitState, one per request resource
** (SPEC §4 AIMD; request_admission.h states the rules).  Everything here
** runs under the controller's lock, on its monotonic clock.
*/
#include "request_admission_int.h"

#include <math.h>

#define MAX_RAMP_NS 3600000000000LL

void admit_aimd_config_init(admit_aimd_config *cfg) {
    *cfg = (admit_aimd_config){.md_factor = 0.75,
                               .ai_step = 1,
                               .successes_until_increase = 25,
                               .cooldown_ns = 2000000000LL,
                               .startup_ramp_ns = 0};
}

admit_status admit_rq_check_aimd(const admit_aimd_config *a, admit_error *err) {
    if (!(a->md_factor > 0 && a->md_factor < 1))
        return admit_error_set(err, ADMIT_EINVAL, "md_factor must be in (0, 1), got %g",
                               a->md_factor);
    if (a->ai_step < 1 || a->successes_until_increase < 1)
        return admit_error_set(err, ADMIT_EINVAL,
                               "ai_step and successes_until_increase must be >= 1");
    if (a->cooldown_ns <= 0) return admit_error_set(err, ADMIT_EINVAL, "cooldown must be > 0");
    if (a->startup_ramp_ns < 0 || a->startup_ramp_ns > MAX_RAMP_NS)
        return admit_error_set(err, ADMIT_EINVAL, "startup ramp must be in [0, 3600] seconds");
    return ADMIT_OK;
}

uint32_t admit_rq_effective_max(uint32_t cap, uint32_t clamp) {
    uint32_t e = clamp && clamp < cap ? clamp : cap;
    return e < 1 ? 1 : e;
}

void admit_rq_aimd_init(admit_request_admission *c, uint32_t r,
                        const admit_request_resource_limits *limits, int64_t now) {
    resource_state *s = &c->rs[r];
    s->clamp = limits ? limits->max_limit_clamp : 0;
    c->effective_max[r] = admit_rq_effective_max(c->pm_cap[c->resource_pm[r]], s->clamp);
    uint32_t init = limits ? limits->initial_limit : 0;
    if (init == 0 || init > c->effective_max[r]) init = c->effective_max[r];
    c->initial[r] = init;
    c->ramping[r] = c->cfg.aimd.startup_ramp_ns > 0 && init > 1;
    c->ramp_start[r] = now;
    c->current[r] = c->ramping[r] ? 1 : init;
    s->min_limit = c->current[r];
    c->blocked_until[r] = INT64_MIN;
}

static void set_limit(admit_request_admission *c, uint32_t r, uint32_t limit, int64_t now,
                      admit_request_event_kind kind) {
    if (limit == c->current[r]) return;
    c->current[r] = limit;
    if (limit < c->rs[r].min_limit) c->rs[r].min_limit = limit;
    if (kind == ADMIT_REV_REQUEST_LIMIT_DECREASED)
        c->rs[r].decreases++;
    else
        c->rs[r].increases++;
    admit_rq_event(c, kind, now, r, NULL, 0, -1, limit);
}

/* r is ramping (admit_rq_ramp_update checked). */
void admit_rq_ramp_step(admit_request_admission *c, uint32_t r, int64_t now) {
    int64_t elapsed = now - c->ramp_start[r];
    int64_t ramp = c->cfg.aimd.startup_ramp_ns;
    uint32_t limit = admit_rq_ramp_limit(c->initial[r], elapsed, ramp);
    if (elapsed >= ramp) c->ramping[r] = false;
    if (limit > c->current[r]) set_limit(c, r, limit, now, ADMIT_REV_REQUEST_LIMIT_INCREASED);
}

/* When the ramp next raises r's limit; -1 if it is not ramping. */
int64_t admit_rq_ramp_next_ns(const admit_request_admission *c, uint32_t r) {
    if (!c->ramping[r]) return -1;
    int64_t ramp = c->cfg.aimd.startup_ramp_ns, span = (int64_t)c->initial[r] - 1;
    if (span <= 0) return -1;
    int64_t k = (int64_t)c->current[r]; /* reach current + 1 */
    return c->ramp_start[r] + (k * ramp + span - 1) / span;
}

void admit_rq_on_rate_limited(admit_request_admission *c, uint32_t r, const lease_rec *l,
                              int64_t retry_after, int64_t now) {
    resource_state *s = &c->rs[r];
    int64_t until = add_sat(now, retry_after > 0 ? retry_after : c->cfg.aimd.cooldown_ns);
    int64_t old = c->blocked_until[r];
    if (until > old) {
        s->cooldown_total_ns = add_sat(s->cooldown_total_ns, until - (old > now ? old : now));
        c->blocked_until[r] = until;
    }
    /* value: how long the resource now cools (a longer cooldown already in
    ** force wins), so a timeline can shade the interval from the event alone */
    admit_rq_event(c, ADMIT_REV_REQUEST_RATE_LIMITED, now, r, &l->ctx, l->lease_id,
                   ADMIT_REQ_RATE_LIMITED, c->blocked_until[r] - now);
    c->ramping[r] = false; /* a rate limit aborts the ramp */
    /* r's waiters may be let in when this cooldown ends (see Catching up) */
    if (c->waiters[r]) admit_rq_due_at(c, c->blocked_until[r]);
    if (l->admitted_limit <= c->current[r]) {
        uint32_t before = c->current[r];
        uint32_t after = (uint32_t)floor((double)before * c->cfg.aimd.md_factor);
        if (after < 1) after = 1;
        if (!s->ceiling) s->ceiling = before;
        set_limit(c, r, after, now, ADMIT_REV_REQUEST_LIMIT_DECREASED);
    }
    s->streak = 0;
    s->consecutive_rl++;
}

/* successes_until_increase successes in a row (admit_rq_on_success
** counted them): add ai_step, up to the effective max. */
void admit_rq_increase(admit_request_admission *c, uint32_t r, int64_t now) {
    resource_state *s = &c->rs[r];
    uint32_t emax = c->effective_max[r];
    if (c->current[r] >= emax) return;
    uint64_t next = (uint64_t)c->current[r] + c->cfg.aimd.ai_step;
    set_limit(c, r, next > emax ? emax : (uint32_t)next, now, ADMIT_REV_REQUEST_LIMIT_INCREASED);
    if (s->ceiling && c->current[r] > s->ceiling) {
        admit_rq_event(c, ADMIT_REV_REQUEST_SOFT_CEILING_RECOVERED, now, r, NULL, 0, -1,
                       c->current[r]);
        s->ceiling = 0;
    }
    if (c->current[r] == emax) {
        admit_rq_event(c, ADMIT_REV_REQUEST_FULLY_RECOVERED, now, r, NULL, 0, -1, c->current[r]);
        s->ceiling = 0;
    }
}

bool admit_rq_set_clamp(admit_request_admission *c, uint32_t r, uint32_t clamp, int64_t now) {
    resource_state *s = &c->rs[r];
    s->clamp = clamp;
    uint32_t emax = admit_rq_effective_max(c->pm_cap[c->resource_pm[r]], clamp);
    if (emax == c->effective_max[r]) return false;
    c->effective_max[r] = emax;
    admit_rq_event(c, ADMIT_REV_REQUEST_EFFECTIVE_CAP_CHANGED, now, r, NULL, 0, -1, emax);
    if (c->current[r] > emax) set_limit(c, r, emax, now, ADMIT_REV_REQUEST_LIMIT_DECREASED);
    if (c->initial[r] > emax) c->initial[r] = emax;
    if (c->initial[r] <= 1) c->ramping[r] = false; /* nothing left to ramp to */
    return true;
}
