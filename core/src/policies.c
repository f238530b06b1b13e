/*
** StrictFair and BoundedBorrow task admission policies (SPEC §3).
** Pure functions of (task, queue view, admission view); the only state is
** the bounded-borrow configuration.
*/
#include "admit/task_admission.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Whether every amount of rq is available now (a resource named twice needs
** both amounts). */
static bool request_is_hard_eligible(const admit_resource_request *rq,
                                     const admit_admission_view *aview) {
    for (uint8_t i = 0; i < rq->count; i++) {
        uint16_t r = rq->resource[i];
        if (r >= aview->resource_count) return false;
        uint64_t need = rq->amount[i];
        for (uint8_t j = 0; j < i; j++)
            if (rq->resource[j] == r) need += rq->amount[j];
        if ((uint64_t)aview->leased[r] + need > aview->limits[r]) return false;
    }
    return true;
}

bool admit_policy_is_hard_eligible(const admit_task *task, const admit_admission_view *aview) {
    return request_is_hard_eligible(&task->resources, aview);
}

/* The amount rq asks of resource (its first entry for it), or 0. */
static uint32_t request_amount(const admit_resource_request *rq, uint16_t resource) {
    for (uint8_t i = 0; i < rq->count; i++)
        if (rq->resource[i] == resource) return rq->amount[i];
    return 0;
}

/* Fair resources: everything but submission, or submission alone. */
static bool is_fair_resource(const admit_task *t, uint16_t resource) {
    if (resource != ADMIT_RESOURCE_SUBMISSION) return request_amount(&t->resources, resource) > 0;
    for (uint8_t i = 0; i < t->resources.count; i++)
        if (t->resources.resource[i] != ADMIT_RESOURCE_SUBMISSION) return false;
    return true;
}

/* The peers of task on resource: the other active groups whose first
** candidate requests it and is hard-eligible; their count and summed weight
** (max(weight, 1) each). */
typedef struct peers {
    uint32_t count;
    uint64_t weight;
} peers;

/* From the queue's first candidates by request: every request that asks for
** resource and is hard-eligible, less the task's own group's first
** candidate.  O(distinct requests), not O(groups). */
static peers peers_by_request(const admit_task *task, uint16_t resource,
                              const admit_queue_view *qview, const admit_admission_view *aview) {
    peers p = {0, 0};
    for (uint32_t i = 0; i < qview->head_request_count; i++) {
        const admit_head_request *h = &qview->head_requests[i];
        if (!h->groups || !request_amount(&h->request, resource) ||
            !request_is_hard_eligible(&h->request, aview))
            continue;
        p.count += h->groups;
        p.weight += h->weight;
    }
    const admit_task *own =
        task->group < qview->group_count ? qview->first_candidate[task->group] : NULL;
    if (own && request_amount(&own->resources, resource) > 0 &&
        request_is_hard_eligible(&own->resources, aview)) {
        p.count--;
        p.weight -= (uint64_t)admit_group_weight(&qview->groups[task->group]);
    }
    return p;
}

/* The same by visiting every active group: for views without the heads by
** request. */
static peers peers_by_group(const admit_task *task, uint16_t resource,
                            const admit_queue_view *qview, const admit_admission_view *aview) {
    peers p = {0, 0};
    for (uint32_t i = 0; i < qview->active_count; i++) {
        uint32_t g = qview->active_groups[i];
        if (g == task->group) continue;
        const admit_task *head = qview->first_candidate[g];
        if (!request_amount(&head->resources, resource) ||
            !admit_policy_is_hard_eligible(head, aview))
            continue;
        p.count++;
        p.weight += (uint64_t)admit_group_weight(&qview->groups[g]);
    }
    return p;
}

static peers peers_of(const admit_task *task, uint16_t resource, const admit_queue_view *qview,
                      const admit_admission_view *aview) {
    return qview->head_requests ? peers_by_request(task, resource, qview, aview)
                                : peers_by_group(task, resource, qview, aview);
}

bool admit_policy_is_peer_pressured(const admit_task *task, uint16_t resource,
                                    const admit_queue_view *qview,
                                    const admit_admission_view *aview) {
    return is_fair_resource(task, resource) && peers_of(task, resource, qview, aview).count > 0;
}

static bool any_peer_pressure(const admit_task *task, const admit_queue_view *qview,
                              const admit_admission_view *aview) {
    for (uint8_t i = 0; i < task->resources.count; i++)
        if (admit_policy_is_peer_pressured(task, task->resources.resource[i], qview, aview))
            return true;
    return false;
}

/* The strict share of resource for the task's group, given its peers there
** (W = own weight + theirs, or twice its own when it has none). */
static uint32_t strict_share(const admit_task *task, uint16_t resource, peers p,
                             const admit_admission_view *aview, admit_share_rounding rounding) {
    uint32_t limit = resource < aview->resource_count ? aview->limits[resource] : 0;
    if (limit == 0) return 0;
    if (limit == 1) return 1;
    const admit_group_spec *own = &aview->groups[task->group];
    double w = (double)admit_group_weight(own);
    /* weights are integers: the sum is exact, in any order */
    double total = p.count ? w + (double)p.weight : 2.0 * w; /* a phantom equal peer */
    double raw = (double)limit * w / total;
    double rounded = rounding == ADMIT_SHARE_CEIL ? ceil(raw) : floor(raw);
    uint32_t share = rounded < 1.0 ? 1u : (uint32_t)rounded;
    if (own->admitted_limit > 0 && share > (uint32_t)own->admitted_limit)
        share = (uint32_t)own->admitted_limit;
    return share > limit ? limit : share;
}

uint32_t admit_policy_strict_share(const admit_task *task, uint16_t resource,
                                   const admit_queue_view *qview, const admit_admission_view *aview,
                                   admit_share_rounding rounding) {
    return strict_share(task, resource, peers_of(task, resource, qview, aview), aview, rounding);
}

/* ---- StrictFair -------------------------------------------------------- */

static void strict_evaluate(void *ctx, const admit_task *task, const admit_queue_view *qview,
                            const admit_admission_view *aview, admit_policy_decision *out) {
    (void)ctx;
    const admit_group_spec *g = &aview->groups[task->group];
    out->allowed = true;
    if (g->admitted_limit <= 0) return;
    if (aview->running_by_group[task->group] < (uint32_t)g->admitted_limit) return;
    if (!any_peer_pressure(task, qview, aview)) return;
    out->allowed = false;
    out->reason = ADMIT_DENY_GROUP_CAP;
}

void admit_policy_strict_fair(admit_task_policy *out) {
    memset(out, 0, sizeof *out);
    out->name = "strict";
    out->evaluate = strict_evaluate;
    out->pure = true;
}

/* ---- BoundedBorrow ----------------------------------------------------- */

typedef struct bounded_state {
    admit_bounded_borrow_config cfg;
    admit_borrow_ceiling *ceilings; /* owned copy of cfg.ceilings */
} bounded_state;

void admit_bounded_borrow_config_init(admit_bounded_borrow_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->default_ceiling = -1;
    cfg->reserve_fraction = 0.0;
    cfg->max_reserved_slots = 8;
    cfg->rounding = ADMIT_SHARE_CEIL;
}

static uint32_t borrow_ceiling(const bounded_state *st, uint32_t group, uint16_t resource,
                               uint32_t limit, uint32_t strict_share) {
    for (uint32_t i = 0; i < st->cfg.ceiling_count; i++)
        if (st->ceilings[i].group == group && st->ceilings[i].resource == resource)
            return st->ceilings[i].ceiling;
    if (st->cfg.default_ceiling >= 0)
        return st->cfg.default_ceiling > UINT32_MAX ? UINT32_MAX
                                                    : (uint32_t)st->cfg.default_ceiling;
    double reserve = ceil((double)limit * st->cfg.reserve_fraction);
    uint32_t reserved = reserve > (double)st->cfg.max_reserved_slots ? st->cfg.max_reserved_slots
                                                                     : (uint32_t)reserve;
    uint32_t solo_cap = limit > reserved ? limit - reserved : 0;
    return solo_cap > strict_share ? solo_cap - strict_share : 0;
}

static void bounded_evaluate(void *ctx, const admit_task *task, const admit_queue_view *qview,
                             const admit_admission_view *aview, admit_policy_decision *out) {
    const bounded_state *st = ctx;
    out->allowed = true;
    if (aview->groups[task->group].admitted_limit <= 0) return;
    const uint32_t *leased = &aview->leased_by_group[(size_t)task->group * aview->resource_count];
    const uint32_t *debt = &aview->debt[(size_t)task->group * aview->resource_count];
    for (uint8_t i = 0; i < task->resources.count; i++) {
        uint16_t r = task->resources.resource[i];
        uint32_t amount = task->resources.amount[i];
        peers p = peers_of(task, r, qview, aview);
        uint32_t share = strict_share(task, r, p, aview, st->cfg.rounding);
        uint64_t projected = (uint64_t)leased[r] + amount;
        /* Progress guarantee (beyond SPEC §3): a group holding none of r is
        ** never denied on r, even for an amount above its share, or a task
        ** asking for more than any share could never run.  Shares are at
        ** least 1, so with amounts of 1 this never changes a decision; a
        ** group holding none of r has no debt on it either. */
        bool holds_none = leased[r] == 0;
        if (is_fair_resource(task, r) && p.count > 0) { /* peer pressure on r */
            if (!holds_none && (debt[r] > 0 || projected > share)) {
                out->allowed = false;
                out->reason = debt[r] > 0 ? ADMIT_DENY_BORROW_DEBT : ADMIT_DENY_GROUP_CAP;
                out->deny_resource = r;
                out->strict_share = share;
                return;
            }
            continue;
        }
        if (projected <= share) continue;
        uint64_t over = projected - share;
        uint32_t new_debt = over < amount ? (uint32_t)over : amount;
        uint32_t ceiling = borrow_ceiling(st, task->group, r, aview->limits[r], share);
        if (!holds_none && (uint64_t)debt[r] + new_debt > ceiling) {
            out->allowed = false;
            out->reason = ADMIT_DENY_BORROW_DEBT;
            out->deny_resource = r;
            out->strict_share = share;
            return;
        }
        out->borrow_resource[out->borrow_count] = r;
        out->borrow_amount[out->borrow_count] = new_debt;
        out->borrow_count++;
    }
}

static void bounded_on_acquire(void *ctx, const admit_task *task,
                               const admit_policy_decision *decision, admit_policy_delta *out) {
    (void)ctx;
    (void)task;
    out->count = decision->borrow_count;
    for (uint8_t i = 0; i < decision->borrow_count; i++) {
        out->resource[i] = decision->borrow_resource[i];
        out->debt_change[i] = decision->borrow_amount[i];
    }
}

/* Debt is group-level: any completed lease of the group repays it. */
static void bounded_on_release(void *ctx, const admit_task *task, admit_policy_delta *out) {
    (void)ctx;
    out->count = task->resources.count;
    for (uint8_t i = 0; i < task->resources.count; i++) {
        out->resource[i] = task->resources.resource[i];
        out->debt_change[i] = -(int64_t)task->resources.amount[i];
    }
}

static void bounded_destroy(void *ctx) {
    bounded_state *st = ctx;
    free(st->ceilings);
    free(st);
}

admit_status admit_policy_bounded_borrow(const admit_bounded_borrow_config *cfg,
                                         admit_task_policy *out, admit_error *err) {
    if (!cfg || !(cfg->reserve_fraction >= 0.0 && cfg->reserve_fraction <= 1.0))
        return admit_error_set(err, ADMIT_EINVAL, "reserve_fraction must be between 0 and 1");
    if (cfg->max_reserved_slots == 0)
        return admit_error_set(err, ADMIT_EINVAL, "max_reserved_slots must be positive");
    bounded_state *st = calloc(1, sizeof *st);
    if (!st) return admit_error_set(err, ADMIT_ENOMEM, "out of memory");
    st->cfg = *cfg;
    if (cfg->ceiling_count) {
        st->ceilings = malloc(cfg->ceiling_count * sizeof *st->ceilings);
        if (!st->ceilings) {
            free(st);
            return admit_error_set(err, ADMIT_ENOMEM, "out of memory");
        }
        memcpy(st->ceilings, cfg->ceilings, cfg->ceiling_count * sizeof *st->ceilings);
    }
    st->cfg.ceilings = st->ceilings;
    memset(out, 0, sizeof *out);
    out->name = "bounded";
    out->ctx = st;
    out->evaluate = bounded_evaluate;
    out->on_acquire = bounded_on_acquire;
    out->on_release = bounded_on_release;
    out->destroy = bounded_destroy;
    out->pure = true;
    return ADMIT_OK;
}
