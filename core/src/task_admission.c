#include "admit/task_admission.h"

#include <stdlib.h>
#include <string.h>

/* One lease record per slot; slots are recycled through a free list, so a
** warm controller allocates nothing per acquire. */
typedef struct lease_slot {
    uint64_t lease_id; /* id of the lease that last used the slot */
    const admit_task *task;
    admit_resource_request resources;
    int64_t acquired_at_ns;
    uint32_t next_free;
    uint8_t active;
} lease_slot;

struct admit_task_admission {
    const admit_group_spec *groups;
    uint32_t group_count, resource_count;
    uint32_t *limits, *leased, *leased_by_group, *running_by_group, *debt, *max_leased;
    admit_task_policy policy;
    admit_admission_view view;

    lease_slot *slots;
    uint32_t slot_count, slot_cap, free_head;
    uint64_t next_lease_id;
    uint32_t generation;
    bool shutdown;
    admit_task_admission_stats stats;

    /* The last decision of a pure policy and what it was made from: the
    ** task, the queue state (view, queue_id, version) and the ledger state
    ** (ledger_version, bumped by every acquire, release, shutdown and
    ** reset).  While all match, deciding again would give it again. */
    uint64_t ledger_version;
    struct {
        const admit_task *task;
        const admit_queue_view *qview;
        uint64_t queue_id, version, ledger_version;
        admit_policy_decision decision;
    } memo;
};

#define NO_SLOT UINT32_MAX

/* A create that fails still owns the policy it was handed: it destroys it
** ("Policy ownership" in task_admission.h). */
static admit_task_admission *create_failed(const admit_task_admission_config *cfg,
                                           admit_task_admission *c) {
    if (c) {
        admit_task_admission_destroy(c); /* destroys c->policy */
    } else if (cfg && cfg->policy.destroy) {
        cfg->policy.destroy(cfg->policy.ctx);
    }
    return NULL;
}

admit_task_admission *admit_task_admission_create(const admit_task_admission_config *cfg,
                                                  admit_error *err) {
    if (!cfg || !cfg->groups || !cfg->group_count || !cfg->resource_count || !cfg->limits ||
        !cfg->policy.evaluate) {
        admit_error_set(err, ADMIT_EINVAL,
                        "task admission needs groups, resource limits and a policy");
        return create_failed(cfg, NULL);
    }
    admit_task_admission *c = calloc(1, sizeof *c);
    if (!c) goto oom;
    size_t gr = (size_t)cfg->group_count * cfg->resource_count;
    c->groups = cfg->groups;
    c->group_count = cfg->group_count;
    c->resource_count = cfg->resource_count;
    c->policy = cfg->policy;
    c->limits = malloc(cfg->resource_count * sizeof *c->limits);
    c->leased = calloc(cfg->resource_count, sizeof *c->leased);
    c->leased_by_group = calloc(gr, sizeof *c->leased_by_group);
    c->running_by_group = calloc(cfg->group_count, sizeof *c->running_by_group);
    c->debt = calloc(gr, sizeof *c->debt);
    c->max_leased = calloc(cfg->resource_count, sizeof *c->max_leased);
    if (!c->limits || !c->leased || !c->leased_by_group || !c->running_by_group || !c->debt ||
        !c->max_leased)
        goto oom;
    memcpy(c->limits, cfg->limits, cfg->resource_count * sizeof *c->limits);
    c->free_head = NO_SLOT;
    c->next_lease_id = 1;
    c->generation = 1;
    c->view = (admit_admission_view){.resource_count = c->resource_count,
                                     .group_count = c->group_count,
                                     .limits = c->limits,
                                     .leased = c->leased,
                                     .leased_by_group = c->leased_by_group,
                                     .running_by_group = c->running_by_group,
                                     .debt = c->debt,
                                     .max_leased = c->max_leased,
                                     .groups = c->groups};
    return c;
oom:
    admit_error_set(err, ADMIT_ENOMEM, "out of memory creating task admission");
    return create_failed(cfg, c);
}

void admit_task_admission_destroy(admit_task_admission *c) {
    if (!c) return;
    if (c->policy.destroy) c->policy.destroy(c->policy.ctx);
    free(c->limits);
    free(c->leased);
    free(c->leased_by_group);
    free(c->running_by_group);
    free(c->debt);
    free(c->max_leased);
    free(c->slots);
    free(c);
}

static bool hard_available(const admit_task_admission *c, const admit_task *t) {
    return admit_policy_is_hard_eligible(t, &c->view);
}

static bool memo_is_valid(const admit_task_admission *c, const admit_task *t,
                          const admit_queue_view *qview) {
    return c->memo.task == t && qview && c->memo.qview == qview && qview->version != 0 &&
           c->memo.queue_id == qview->queue_id && c->memo.version == qview->version &&
           c->memo.ledger_version == c->ledger_version;
}

static void evaluate(admit_task_admission *c, const admit_task *t, const admit_queue_view *qview,
                     admit_policy_decision *d) {
    memset(d, 0, sizeof *d);
    d->available_after_ns = -1;
    d->deny_resource = -1;
    if (c->shutdown) {
        d->reason = ADMIT_DENY_SHUTDOWN;
        return;
    }
    if (t->group >= c->group_count || !hard_available(c, t)) {
        d->reason = ADMIT_DENY_NO_CAPACITY;
        return;
    }
    c->policy.evaluate(c->policy.ctx, t, qview, &c->view, d);
    if (!d->allowed && d->reason == ADMIT_DENY_NONE) d->reason = ADMIT_DENY_POLICY;
}

/* Hard availability, then the policy; a pure policy's decision is reused
** while its inputs are unchanged (the memo). */
static void decide(admit_task_admission *c, const admit_task *t, const admit_queue_view *qview,
                   admit_policy_decision *d) {
    if (c->policy.pure && memo_is_valid(c, t, qview)) {
        *d = c->memo.decision;
        return;
    }
    evaluate(c, t, qview, d);
    if (!c->policy.pure || !qview || qview->version == 0) return;
    c->memo.task = t;
    c->memo.qview = qview;
    c->memo.queue_id = qview->queue_id;
    c->memo.version = qview->version;
    c->memo.ledger_version = c->ledger_version;
    c->memo.decision = *d;
}

bool admit_task_admission_is_eligible(admit_task_admission *c, const admit_task *task,
                                      const admit_queue_view *qview, admit_policy_decision *out) {
    admit_policy_decision local;
    admit_policy_decision *d = out ? out : &local;
    decide(c, task, qview, d);
    return d->allowed;
}

static void apply_delta(admit_task_admission *c, uint32_t group, const admit_policy_delta *delta) {
    uint32_t *row = &c->debt[(size_t)group * c->resource_count];
    for (uint8_t i = 0; i < delta->count; i++) {
        uint16_t r = delta->resource[i];
        if (r >= c->resource_count) continue;
        int64_t v = (int64_t)row[r] + delta->debt_change[i];
        row[r] = v < 0 ? 0 : (uint32_t)v; /* repayment clamps at zero */
    }
}

static uint32_t slot_alloc(admit_task_admission *c) {
    if (c->free_head != NO_SLOT) {
        uint32_t s = c->free_head;
        c->free_head = c->slots[s].next_free;
        return s;
    }
    if (c->slot_count == c->slot_cap) {
        uint32_t cap = c->slot_cap ? c->slot_cap * 2 : 64;
        lease_slot *slots = realloc(c->slots, cap * sizeof *slots);
        if (!slots) return NO_SLOT;
        c->slots = slots;
        c->slot_cap = cap;
    }
    return c->slot_count++;
}

bool admit_task_admission_try_acquire(admit_task_admission *c, const admit_task *task,
                                      const admit_queue_view *qview, int64_t now_ns,
                                      admit_task_lease *lease, admit_policy_decision *decision) {
    admit_policy_decision local;
    admit_policy_decision *d = decision ? decision : &local;
    decide(c, task, qview, d);
    if (!d->allowed) {
        c->stats.denied[d->reason]++;
        return false;
    }
    uint32_t s = slot_alloc(c);
    if (s == NO_SLOT) {
        d->allowed = false;
        d->reason = ADMIT_DENY_NO_CAPACITY;
        c->stats.denied[d->reason]++;
        return false;
    }
    lease_slot *ls = &c->slots[s];
    ls->lease_id = c->next_lease_id++;
    ls->task = task;
    ls->resources = task->resources;
    ls->acquired_at_ns = now_ns;
    ls->active = 1;

    uint32_t *grow = &c->leased_by_group[(size_t)task->group * c->resource_count];
    for (uint8_t i = 0; i < task->resources.count; i++) {
        uint16_t r = task->resources.resource[i];
        c->leased[r] += task->resources.amount[i];
        grow[r] += task->resources.amount[i];
        if (c->leased[r] > c->max_leased[r]) c->max_leased[r] = c->leased[r];
    }
    c->running_by_group[task->group]++;
    if (c->policy.on_acquire) {
        admit_policy_delta delta = {0};
        c->policy.on_acquire(c->policy.ctx, task, d, &delta);
        apply_delta(c, task->group, &delta);
    }
    c->view.leases_active++;
    c->ledger_version++;
    if (c->leased[ADMIT_RESOURCE_SUBMISSION] > c->stats.max_leased_submission)
        c->stats.max_leased_submission = c->leased[ADMIT_RESOURCE_SUBMISSION];
    c->stats.acquired++;
    *lease = (admit_task_lease){.lease_id = ls->lease_id, .slot = s, .generation = c->generation};
    return true;
}

static admit_release_reason classify(const admit_task_admission *c, admit_task_lease lease) {
    if (lease.lease_id == 0) return ADMIT_RELEASE_UNKNOWN_LEASE;
    if (lease.generation != c->generation) return ADMIT_RELEASE_WRONG_GENERATION;
    if (lease.lease_id >= c->next_lease_id || lease.slot >= c->slot_count)
        return ADMIT_RELEASE_UNKNOWN_LEASE;
    const lease_slot *ls = &c->slots[lease.slot];
    if (ls->lease_id != lease.lease_id) {
        /* The slot was reused, or the id never lived in this slot. */
        return lease.lease_id < ls->lease_id ? ADMIT_RELEASE_STALE_LEASE
                                             : ADMIT_RELEASE_UNKNOWN_LEASE;
    }
    return ls->active ? ADMIT_RELEASE_RELEASED : ADMIT_RELEASE_DUPLICATE;
}

admit_release_reason admit_task_admission_release(admit_task_admission *c, admit_task_lease lease) {
    admit_release_reason why = classify(c, lease);
    c->stats.release_reasons[why]++;
    if (why != ADMIT_RELEASE_RELEASED) return why;
    lease_slot *ls = &c->slots[lease.slot];
    const admit_task *t = ls->task;
    uint32_t *grow = &c->leased_by_group[(size_t)t->group * c->resource_count];
    for (uint8_t i = 0; i < ls->resources.count; i++) {
        c->leased[ls->resources.resource[i]] -= ls->resources.amount[i];
        grow[ls->resources.resource[i]] -= ls->resources.amount[i];
    }
    c->running_by_group[t->group]--;
    if (c->policy.on_release) {
        admit_policy_delta delta = {0};
        c->policy.on_release(c->policy.ctx, t, &delta);
        apply_delta(c, t->group, &delta);
    }
    ls->active = 0;
    ls->task = NULL;
    ls->next_free = c->free_head;
    c->free_head = lease.slot;
    c->view.leases_active--;
    c->ledger_version++;
    c->stats.released++;
    return why;
}

const admit_task *admit_task_admission_lease_task(const admit_task_admission *c,
                                                  admit_task_lease lease) {
    return classify(c, lease) == ADMIT_RELEASE_RELEASED ? c->slots[lease.slot].task : NULL;
}

const admit_admission_view *admit_task_admission_view(const admit_task_admission *c) {
    return &c->view;
}

void admit_task_admission_explain_blocked(admit_task_admission *c, const admit_queue_view *qview,
                                          admit_block_summary *out) {
    memset(out, 0, sizeof *out);
    out->queued_count = qview->queued_total;
    out->earliest_available_after_ns = -1;
    for (uint32_t i = 0; i < qview->active_count; i++) {
        const admit_task *head = qview->first_candidate[qview->active_groups[i]];
        admit_policy_decision d;
        decide(c, head, qview, &d);
        if (d.allowed) continue;
        out->reason_counts[d.reason]++;
        if (d.available_after_ns >= 0 && (out->earliest_available_after_ns < 0 ||
                                          d.available_after_ns < out->earliest_available_after_ns))
            out->earliest_available_after_ns = d.available_after_ns;
    }
}

void admit_task_admission_shutdown(admit_task_admission *c) {
    c->shutdown = true;
    c->view.shutdown = true;
    c->ledger_version++;
}

void admit_task_admission_reset(admit_task_admission *c) {
    size_t gr = (size_t)c->group_count * c->resource_count;
    memset(c->leased, 0, c->resource_count * sizeof *c->leased);
    memset(c->leased_by_group, 0, gr * sizeof *c->leased_by_group);
    memset(c->running_by_group, 0, c->group_count * sizeof *c->running_by_group);
    memset(c->debt, 0, gr * sizeof *c->debt);
    c->slot_count = 0;
    c->free_head = NO_SLOT;
    c->view.leases_active = 0;
    c->generation++;
    c->shutdown = false;
    c->view.shutdown = false;
    c->ledger_version++;
}

void admit_task_admission_stats_get(const admit_task_admission *c,
                                    admit_task_admission_stats *out) {
    *out = c->stats;
}
