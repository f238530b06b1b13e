/* ProviderAware: StrictFair plus the request-pressure advisory skip. */
#include "admit/provider_aware.h"

#include <stdlib.h>
#include <string.h>

typedef struct aware_state {
    admit_task_policy strict;
    const admit_request_pressure *pressure;
    int32_t *group_resource;
    uint32_t group_count;
    int64_t (*now)(void *ctx);
    void *clock_ctx;
} aware_state;

static bool pressured(const aware_state *st, uint32_t group, int64_t now) {
    if (group >= st->group_count || st->group_resource[group] < 0) return false;
    return admit_request_pressure_is_pressured(st->pressure, (uint32_t)st->group_resource[group],
                                               now);
}

static void aware_evaluate(void *ctx, const admit_task *task, const admit_queue_view *qview,
                           const admit_admission_view *aview, admit_policy_decision *out) {
    aware_state *st = ctx;
    st->strict.evaluate(st->strict.ctx, task, qview, aview, out);
    if (!out->allowed) return;
    int64_t now = st->now(st->clock_ctx);
    if (!pressured(st, task->group, now)) return;
    for (uint32_t i = 0; i < qview->active_count; i++) {
        uint32_t g = qview->active_groups[i];
        if (g == task->group || pressured(st, g, now)) continue;
        const admit_task *head = qview->first_candidate[g];
        if (!admit_policy_is_hard_eligible(head, aview)) continue;
        admit_policy_decision peer = {0};
        st->strict.evaluate(st->strict.ctx, head, qview, aview, &peer);
        if (!peer.allowed) continue;
        out->allowed = false;
        out->reason = ADMIT_DENY_POLICY;
        out->advisory = true;
        return;
    }
}

static void aware_destroy(void *ctx) {
    aware_state *st = ctx;
    free(st->group_resource);
    free(st);
}

admit_status admit_policy_provider_aware(const admit_provider_aware_config *cfg,
                                         admit_task_policy *out, admit_error *err) {
    if (!cfg->pressure || !cfg->now || (cfg->group_count && !cfg->group_request_resource))
        return admit_error_set(err, ADMIT_EINVAL,
                               "provider_aware needs a pressure view, a clock and group resources");
    aware_state *st = calloc(1, sizeof *st);
    int32_t *gr = malloc((cfg->group_count ? cfg->group_count : 1) * sizeof *gr);
    if (!st || !gr) {
        free(st);
        free(gr);
        return admit_error_set(err, ADMIT_ENOMEM, "out of memory creating provider_aware");
    }
    if (cfg->group_count) memcpy(gr, cfg->group_request_resource, cfg->group_count * sizeof *gr);
    admit_policy_strict_fair(&st->strict);
    st->pressure = cfg->pressure;
    st->group_resource = gr;
    st->group_count = cfg->group_count;
    st->now = cfg->now;
    st->clock_ctx = cfg->clock_ctx;
    memset(out, 0, sizeof *out);
    out->name = "provider_aware";
    out->ctx = st;
    out->evaluate = aware_evaluate;
    out->destroy = aware_destroy;
    return ADMIT_OK;
}
