#include "res/correlated_view.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "admit/resources.h"
#include "res/stats.h"

const char *res_ts_name(res_ts ts) {
    static const char *names[] = {
        "dependency_ready_at",        "ready_enqueued_at",         "selected_at",
        "task_lease_acquired_at",     "worker_spawned_at",         "request_wait_started_at",
        "request_wait_completed_at",  "request_lease_acquired_at", "model_request_started_at",
        "model_request_completed_at", "request_lease_released_at", "task_completed_at",
        "task_lease_released_at"};
    return (unsigned)ts < RES_TS_COUNT ? names[ts] : "unknown";
}

static double ns_s(int64_t ns) {
    return (double)ns / 1e9;
}

/* Per-task join state. */
typedef struct task_state {
    int64_t dep, enq, sel, lease_at;
    uint64_t lease_id;
    int64_t completed_at;
    int32_t group;
    bool queued;
} task_state;

typedef struct attempt_state {
    uint64_t exec;
    int32_t resource;
    int64_t ws, wend, la, ms, mc, lr;
    bool waited_ok; /* wait ended by wait_completed */
    bool rate_limited;
} attempt_state;

typedef struct window {
    int64_t from, to;
} window;

typedef struct windows {
    window *w;
    size_t n, cap;
} windows;

static bool win_add(windows *ws, int64_t from, int64_t to) {
    if (ws->n && from <= ws->w[ws->n - 1].to) {
        if (to > ws->w[ws->n - 1].to) ws->w[ws->n - 1].to = to;
        return true;
    }
    if (ws->n == ws->cap) {
        size_t cap = ws->cap ? ws->cap * 2 : 8;
        window *w = realloc(ws->w, cap * sizeof *w);
        if (!w) return false;
        ws->w = w;
        ws->cap = cap;
    }
    ws->w[ws->n++] = (window){from, to};
    return true;
}

/* Overlap of [a, b) with the merged windows. */
static int64_t win_overlap(const windows *ws, int64_t a, int64_t b) {
    int64_t total = 0;
    size_t lo = 0, hi = ws->n;
    while (lo < hi) { /* first window ending after a */
        size_t mid = lo + (hi - lo) / 2;
        if (ws->w[mid].to <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < ws->n && ws->w[i].from < b; i++) {
        int64_t f = ws->w[i].from > a ? ws->w[i].from : a;
        int64_t t = ws->w[i].to < b ? ws->w[i].to : b;
        if (t > f) total += t - f;
    }
    return total;
}

static long find_task(const uint64_t *ids, size_t n, uint64_t id) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == id ? (long)lo : -1;
}

static void wait_stats(int64_t *v, size_t n, res_wait_stats *out) {
    memset(out, 0, sizeof *out);
    out->n = n;
    if (!n) return;
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    res_sort_i64(v, n);
    out->mean = (double)sum / (double)n / 1e9;
    out->p50 = ns_s(v[res_quantile_index(n, 0.50)]);
    out->p95 = ns_s(v[res_quantile_index(n, 0.95)]);
    out->max = ns_s(v[n - 1]);
}

/* The gap sweep: one open gap, its longest and the total. */
typedef struct gap {
    int64_t cur, max, total;
} gap;

static void gap_close(gap *g) {
    if (g->cur > g->max) g->max = g->cur;
    g->cur = 0;
}

/* Whether resource r is in a gap: a queued requester's amount fits in its
** free capacity (lease acquisitions aside). */
static bool resource_gap_open(const res_view_facts *f, uint32_t r, const int64_t *qg,
                              const int64_t *lg) {
    uint32_t nr = f->resource_count;
    int64_t leased = 0, need = 0;
    for (uint32_t g = 0; g < f->group_count; g++) {
        int64_t a = f->group_amounts[(size_t)g * nr + r];
        if (!a) continue;
        leased += lg[g] * a;
        if (qg[g] > 0 && (!need || a < need)) need = a;
    }
    return need && (int64_t)f->resources[r].limit - leased >= need;
}

void res_correlated_view_free(res_correlated_view *v) {
    if (!v) return;
    free(v->rows);
    free(v->m.groups);
    free(v->m.resources);
    free(v->m.resource_service);
    free(v);
}

static void add_layers(res_layers *l, const res_view_row *r) {
    const int64_t *at = r->at;
    if (at[RES_TS_READY_ENQUEUED] >= 0 && at[RES_TS_SELECTED] >= 0)
        l->ready_queue += ns_s(at[RES_TS_SELECTED] - at[RES_TS_READY_ENQUEUED]);
    if (at[RES_TS_SELECTED] >= 0 && at[RES_TS_TASK_LEASE_ACQUIRED] >= 0)
        l->task_admission += ns_s(at[RES_TS_TASK_LEASE_ACQUIRED] - at[RES_TS_SELECTED]);
    l->request_admission += ns_s(r->request_wait_ns);
    l->cooldown += ns_s(r->cooldown_wait_ns);
    l->provider += ns_s(r->provider_ns);
    if (at[RES_TS_TASK_LEASE_ACQUIRED] >= 0 && at[RES_TS_TASK_LEASE_RELEASED] >= 0) {
        int64_t rest = at[RES_TS_TASK_LEASE_RELEASED] - at[RES_TS_TASK_LEASE_ACQUIRED] -
                       r->request_wait_ns - r->provider_ns;
        if (rest > 0) l->local_other += ns_s(rest);
    }
}

res_correlated_view *res_correlated_view_build(const admit_event *sched, size_t nsched,
                                               const admit_event *req, size_t nreq,
                                               const res_view_facts *facts) {
    res_correlated_view *v = calloc(1, sizeof *v);
    uint32_t ng = facts->group_count, ncol = facts->column_count;
    uint64_t *ids = malloc((nsched ? nsched : 1) * sizeof *ids);
    size_t ntask = 0;
    task_state *ts = NULL;
    uint64_t max_exec = 0, max_att = 0;
    int32_t max_res = -1;
    long *exec_row = NULL;
    attempt_state *att = NULL;
    windows *cool = NULL;
    int64_t *qg = NULL, *lg = NULL, *done = NULL, *lat = NULL, *rg_adm = NULL, *buf = NULL;
    gap *gg = NULL, *gr = NULL;
    double *serv = NULL;
    int64_t *rbacklogged = NULL, *rserv = NULL;
    bool *part = NULL, *root_group = NULL, ok = false;
    if (!v || !ids) goto out;
    v->m.group_count = ng;
    v->m.groups = calloc(ng ? ng : 1, sizeof *v->m.groups);
    uint32_t nr = facts->resource_count;
    const uint32_t *amt = facts->group_amounts; /* [g * nr + r] */
    size_t nrg_cells = (size_t)nr * ng > 0 ? (size_t)nr * ng : 1;
    v->m.resource_count = nr;
    v->m.resources = calloc(nr ? nr : 1, sizeof *v->m.resources);
    v->m.resource_service = malloc(nrg_cells * sizeof *v->m.resource_service);
    gr = calloc(nr ? nr : 1, sizeof *gr);
    rbacklogged = calloc(nr ? nr : 1, sizeof *rbacklogged);
    rserv = calloc(nrg_cells, sizeof *rserv);
    if (!v->m.groups || !v->m.resources || !v->m.resource_service || !gr || !rbacklogged || !rserv)
        goto out;

    /* ---- index tasks, executions, attempts ---- */
    size_t nspawned = 0;
    for (size_t i = 0; i < nsched; i++) {
        if (sched[i].task_id) ids[ntask++] = sched[i].task_id;
        if (sched[i].kind == ADMIT_EV_WORKER_SPAWNED) nspawned++;
        if (sched[i].corr.task_execution_id > max_exec) max_exec = sched[i].corr.task_execution_id;
    }
    res_sort_u64(ids, ntask);
    size_t u = 0;
    for (size_t i = 0; i < ntask; i++)
        if (!u || ids[u - 1] != ids[i]) ids[u++] = ids[i];
    ntask = u;
    for (size_t i = 0; i < nreq; i++) {
        if (req[i].attempt_id > max_att) max_att = req[i].attempt_id;
        if (req[i].resource > max_res) max_res = req[i].resource;
    }
    ts = calloc(ntask ? ntask : 1, sizeof *ts);
    exec_row = malloc((max_exec + 1) * sizeof *exec_row);
    att = calloc(max_att + 1, sizeof *att);
    cool = calloc((size_t)(max_res + 1) + 1, sizeof *cool);
    qg = calloc(ng + 1, sizeof *qg);
    lg = calloc(ng + 1, sizeof *lg);
    gg = calloc(ng + 1, sizeof *gg);
    serv = calloc(ng + 1, sizeof *serv);
    part = calloc(ng + 1, sizeof *part);
    root_group = calloc(ng + 1, sizeof *root_group);
    v->rows = calloc(nspawned ? nspawned : 1, sizeof *v->rows);
    if (!ts || !exec_row || !att || !cool || !qg || !lg || !gg || !serv || !part || !root_group ||
        !v->rows)
        goto out;
    for (size_t i = 0; i < ntask; i++)
        ts[i] = (task_state){-1, -1, -1, -1, 0, -1, -1, false};
    for (uint64_t i = 0; i <= max_exec; i++)
        exec_row[i] = -1;
    for (size_t i = 0; i < nsched; i++) /* participants of the fairness index */
        if (sched[i].kind == ADMIT_EV_READY_ENQUEUED && sched[i].corr.group >= 0 &&
            (uint32_t)sched[i].corr.group < ng)
            part[sched[i].corr.group] = true;
    for (uint32_t c = 0; c < ncol; c++)
        if (facts->columns[c].root && facts->columns[c].group < ng)
            root_group[facts->columns[c].group] = true;

    /* ---- one pass over the scheduler stream: join and sweep ---- */
    res_view_metrics *m = &v->m;
    int64_t cap = facts->submission_capacity ? facts->submission_capacity : 1;
    int64_t leases = 0, queued = 0, prev = nsched ? sched[0].captured_at_ns : 0;
    int64_t first_ready = -1, first_dispatch = -1, integral = 0, backlogged = 0;
    double debt = 0;
    gap g_all = {0, 0, 0};
    int64_t nrg =
        facts->buffer_size > 0 ? (facts->records + facts->buffer_size - 1) / facts->buffer_size : 0;
    rg_adm = malloc((size_t)(nrg > 0 ? nrg : 1) * sizeof *rg_adm);
    if (!rg_adm) goto out;
    for (int64_t i = 0; i < nrg; i++)
        rg_adm[i] = -1;
    for (size_t i = 0; i < nsched; i++) {
        const admit_event *ev = &sched[i];
        int64_t t = ev->captured_at_ns, dt = t - prev;
        if (dt > 0) {
            integral += leases * dt;
            if (queued > 0 && leases < cap) {
                g_all.cur += dt;
                g_all.total += dt;
            }
            bool all = true;
            uint32_t nparts = 0;
            double w_active = 0;
            for (uint32_t g = 0; g < ng; g++) {
                if (part[g]) {
                    nparts++;
                    if (qg[g] <= 0) all = false;
                }
                if (qg[g] > 0 || lg[g] > 0) w_active += facts->groups[g].weight;
                if (qg[g] > 0 && leases < cap) {
                    gg[g].cur += dt;
                    gg[g].total += dt;
                }
                m->groups[g].lease_seconds += ns_s(lg[g] * dt);
            }
            if (all && nparts > 0) {
                backlogged += dt;
                for (uint32_t g = 0; g < ng; g++)
                    serv[g] += ns_s(lg[g] * dt);
            }
            for (uint32_t r = 0; r < nr && amt; r++) {
                if (resource_gap_open(facts, r, qg, lg)) {
                    gr[r].cur += dt;
                    gr[r].total += dt;
                }
                bool all_r = true, any_r = false; /* every participating requester queued */
                for (uint32_t g = 0; g < ng; g++)
                    if (amt[(size_t)g * nr + r] && part[g]) {
                        any_r = true;
                        if (qg[g] <= 0) all_r = false;
                    }
                if (!all_r || !any_r) continue;
                rbacklogged[r] += dt;
                for (uint32_t g = 0; g < ng; g++)
                    if (amt[(size_t)g * nr + r] && part[g]) rserv[(size_t)r * ng + g] += lg[g] * dt;
            }
            if (first_ready >= 0 && w_active > 0)
                for (uint32_t g = 0; g < ng; g++) {
                    if (!root_group[g] || lg[g] <= 0) continue;
                    double fair = ceil((double)cap * facts->groups[g].weight / w_active);
                    if ((double)lg[g] > fair) debt += ((double)lg[g] - fair) * ns_s(dt);
                }
        }
        prev = t;
        long k = ev->task_id ? find_task(ids, ntask, ev->task_id) : -1;
        task_state *st = k >= 0 ? &ts[k] : NULL;
        int32_t g = ev->corr.group >= 0 && (uint32_t)ev->corr.group < ng ? ev->corr.group : -1;
        if (st && g >= 0) st->group = g;
        uint64_t exec = ev->corr.task_execution_id;
        res_view_row *row = exec && exec_row[exec] >= 0 ? &v->rows[exec_row[exec]] : NULL;
        bool downstream = ev->corr.column >= 0 && (uint32_t)ev->corr.column < ncol &&
                          !facts->columns[ev->corr.column].root;
        bool dequeue = false, clear = false;
        switch (ev->kind) {
        case ADMIT_EV_DEPENDENCY_READY:
            if (st) st->dep = t;
            if (downstream && first_ready < 0) first_ready = t;
            break;
        case ADMIT_EV_READY_ENQUEUED:
            if (!st) break;
            st->enq = t;
            if (!st->queued) {
                st->queued = true;
                queued++;
                if (g >= 0) qg[g]++;
            }
            break;
        case ADMIT_EV_SELECTED:
            if (st) st->sel = t;
            break;
        case ADMIT_EV_TASK_LEASE_ACQUIRED:
            if (st) {
                st->lease_at = t;
                st->lease_id = ev->lease_id;
            }
            leases++;
            gap_close(&g_all);
            if (g >= 0) {
                lg[g]++;
                gap_close(&gg[g]);
                for (uint32_t r = 0; r < nr && amt; r++)
                    if (amt[(size_t)g * nr + r]) gap_close(&gr[r]);
            }
            if (downstream && first_dispatch < 0) first_dispatch = t;
            break;
        case ADMIT_EV_WORKER_SPAWNED: {
            dequeue = true;
            if (!st || !exec) break;
            res_view_row *r = &v->rows[v->row_count];
            exec_row[exec] = (long)v->row_count++;
            memset(r, 0, sizeof *r);
            for (int x = 0; x < RES_TS_COUNT; x++)
                r->at[x] = -1;
            r->task_execution_id = exec;
            r->task_id = ev->task_id;
            r->column = ev->corr.column;
            r->group = g;
            r->row_group = ev->corr.row_group;
            r->worker_attempt = ev->value;
            r->at[RES_TS_WORKER_SPAWNED] = t;
            if (st->lease_at >= 0 && st->lease_id == ev->lease_id && st->lease_at <= t) {
                r->at[RES_TS_DEPENDENCY_READY] = st->dep;
                r->at[RES_TS_READY_ENQUEUED] = st->enq;
                r->at[RES_TS_SELECTED] = st->sel;
                r->at[RES_TS_TASK_LEASE_ACQUIRED] = st->lease_at;
            } else {
                m->hidden_scheduler_resource_waiters++;
            }
            st->dep = st->enq = st->sel = st->lease_at = -1;
            st->lease_id = 0;
            break;
        }
        case ADMIT_EV_WORKER_SPAWN_FAILED:
            m->spawn_failures++;
            dequeue = true;
            if (st) {
                st->dep = st->enq = st->sel = st->lease_at = -1;
                st->lease_id = 0;
            }
            break;
        case ADMIT_EV_TASK_COMPLETED:
            if (st) st->completed_at = t;
            if (row) {
                row->at[RES_TS_TASK_COMPLETED] = t;
                row->end = RES_END_COMPLETED;
            }
            break;
        case ADMIT_EV_CANCELLED:
            if (row) row->end = RES_END_CANCELLED;
            break;
        case ADMIT_EV_RETRY_DEFERRED:
            if (row) row->end = RES_END_DEFERRED;
            break;
        case ADMIT_EV_NON_RETRYABLE_DROPPED:
            if (row) row->end = RES_END_DROPPED;
            dequeue = true;
            break;
        case ADMIT_EV_TASK_LEASE_RELEASED:
            if (ev->reason > 0) break; /* duplicate, stale ...: returned nothing */
            if (leases > 0) leases--;
            if (g >= 0 && lg[g] > 0) lg[g]--;
            if (row) row->at[RES_TS_TASK_LEASE_RELEASED] = t;
            /* cancelled then released with no retry in between: the
            ** scheduler is stopping and has emptied its queue */
            clear = exec && i > 0 && sched[i - 1].kind == ADMIT_EV_CANCELLED &&
                    sched[i - 1].corr.task_execution_id == exec;
            break;
        case ADMIT_EV_QUEUE_EMPTY:
        case ADMIT_EV_QUEUE_DRAINED:
        case ADMIT_EV_SCHEDULER_JOB_COMPLETED: clear = true; break;
        case ADMIT_EV_ROW_GROUP_ADMITTED:
            if (ev->corr.row_group >= 0 && ev->corr.row_group < nrg &&
                rg_adm[ev->corr.row_group] < 0)
                rg_adm[ev->corr.row_group] = t;
            break;
        default: break;
        }
        if (clear && queued > 0) {
            for (size_t x = 0; x < ntask; x++)
                ts[x].queued = false;
            for (uint32_t x = 0; x < ng; x++)
                qg[x] = 0;
            queued = 0;
        }
        if (dequeue && st && st->queued) {
            st->queued = false;
            queued--;
            if (st->group >= 0 && qg[st->group] > 0) qg[st->group]--;
        }
        if (!(queued > 0 && leases < cap)) gap_close(&g_all);
        for (uint32_t x = 0; x < ng; x++)
            if (!(qg[x] > 0 && leases < cap)) gap_close(&gg[x]);
        for (uint32_t r = 0; r < nr && amt; r++)
            if (!resource_gap_open(facts, r, qg, lg)) gap_close(&gr[r]);
    }
    gap_close(&g_all);
    int64_t wall = facts->wall_ns > 0 ? facts->wall_ns : prev;
    m->wall_seconds = ns_s(wall);
    m->ready_idle_gap_max = ns_s(g_all.max);
    m->ready_idle_gap_total = ns_s(g_all.total);
    m->active_capacity_integral = (double)integral / (double)cap / 1e9;
    m->active_capacity_fraction = wall > 0 ? (double)integral / (double)cap / (double)wall : 0.0;
    m->first_downstream_ready = first_ready >= 0 ? ns_s(first_ready) : -1;
    m->first_downstream_dispatch = first_dispatch >= 0 ? ns_s(first_dispatch) : -1;
    m->root_over_admission_debt = debt;
    m->all_backlogged_seconds = ns_s(backlogged);
    m->jain_fairness_index = -1;
    {
        double sx = 0, sx2 = 0;
        uint32_t n = 0;
        for (uint32_t x = 0; x < ng; x++) {
            gap_close(&gg[x]);
            m->groups[x].ready_idle_gap_max = ns_s(gg[x].max);
            m->groups[x].ready_idle_gap_total = ns_s(gg[x].total);
            if (!part[x]) continue;
            int w = facts->groups[x].weight > 0 ? facts->groups[x].weight : 1;
            double xs = serv[x] / w;
            m->groups[x].backlogged_service = xs;
            n++;
            sx += xs;
            sx2 += xs * xs;
        }
        if (n >= 2 && backlogged > 0 && sx2 > 0) m->jain_fairness_index = sx * sx / (n * sx2);
    }
    for (uint32_t r = 0; r < nr; r++) {
        res_resource_metrics *rm = &m->resources[r];
        double sx = 0, sx2 = 0;
        uint32_t n = 0;
        gap_close(&gr[r]);
        rm->ready_idle_gap_max = ns_s(gr[r].max);
        rm->ready_idle_gap_total = ns_s(gr[r].total);
        rm->all_backlogged_seconds = ns_s(rbacklogged[r]);
        rm->jain_fairness_index = -1;
        for (uint32_t x = 0; x < ng; x++) {
            double *xs = &m->resource_service[(size_t)r * ng + x];
            *xs = -1;
            if (!amt || !amt[(size_t)x * nr + r] || !part[x]) continue;
            int w = facts->groups[x].weight > 0 ? facts->groups[x].weight : 1;
            *xs = ns_s(rserv[(size_t)r * ng + x]) / w;
            n++;
            sx += *xs;
            sx2 += *xs * *xs;
        }
        rm->fairness_group_count = n;
        if (n >= 2 && rbacklogged[r] > 0 && sx2 > 0) rm->jain_fairness_index = sx * sx / (n * sx2);
    }

    /* ---- request stream: attempts and cooldown windows ---- */
    for (uint64_t a = 0; a <= max_att; a++)
        att[a] = (attempt_state){0, -1, -1, -1, -1, -1, -1, -1, false, false};
    for (size_t i = 0; i < nreq; i++) {
        const admit_event *ev = &req[i];
        int64_t t = ev->captured_at_ns;
        if (ev->kind == ADMIT_REV_REQUEST_RATE_LIMITED && ev->resource >= 0) {
            int64_t len = ev->value > 0 ? ev->value : facts->cooldown_ns;
            if (len > 0 && !win_add(&cool[ev->resource], t, t + len)) goto out;
        }
        if (!ev->attempt_id) continue;
        attempt_state *a = &att[ev->attempt_id];
        if (ev->corr.task_execution_id) a->exec = ev->corr.task_execution_id;
        if (ev->resource >= 0) a->resource = ev->resource;
        switch (ev->kind) {
        case ADMIT_REV_REQUEST_WAIT_STARTED:
            if (a->ws < 0) a->ws = t;
            break;
        case ADMIT_REV_REQUEST_WAIT_COMPLETED:
            a->wend = t;
            a->waited_ok = true;
            break;
        case ADMIT_REV_REQUEST_WAIT_TIMEOUT:
        case ADMIT_REV_REQUEST_WAIT_CANCELLED:
            if (a->wend < 0) a->wend = t;
            break;
        case ADMIT_REV_REQUEST_LEASE_ACQUIRED: a->la = t; break;
        case ADMIT_REV_MODEL_REQUEST_STARTED: a->ms = t; break;
        case ADMIT_REV_MODEL_REQUEST_COMPLETED: a->mc = t; break;
        case ADMIT_REV_REQUEST_LEASE_RELEASED: a->lr = t; break;
        case ADMIT_REV_REQUEST_RATE_LIMITED: a->rate_limited = true; break;
        default: break;
        }
    }
    for (uint64_t id = 1; id <= max_att; id++) { /* ascending: first attempt first */
        attempt_state *a = &att[id];
        if (!a->exec || a->exec > max_exec || exec_row[a->exec] < 0) continue;
        res_view_row *r = &v->rows[exec_row[a->exec]];
        if (r->attempts++ == 0) {
            r->at[RES_TS_REQUEST_WAIT_STARTED] = a->ws;
            r->at[RES_TS_REQUEST_WAIT_COMPLETED] = a->waited_ok ? a->wend : -1;
            r->at[RES_TS_REQUEST_LEASE_ACQUIRED] = a->la;
            r->at[RES_TS_MODEL_REQUEST_STARTED] = a->ms;
        }
        r->at[RES_TS_MODEL_REQUEST_COMPLETED] = a->mc;
        r->at[RES_TS_REQUEST_LEASE_RELEASED] = a->lr;
        if (a->rate_limited) r->rate_limited_attempts++;
        if (a->ws >= 0 && a->wend >= a->ws) {
            r->request_wait_ns += a->wend - a->ws;
            if (a->resource >= 0 && a->resource <= max_res)
                r->cooldown_wait_ns += win_overlap(&cool[a->resource], a->ws, a->wend);
        }
        if (a->ms >= 0 && a->mc >= a->ms) r->provider_ns += a->mc - a->ms;
    }

    /* ---- per-row waits and layers ---- */
    m->executions = v->row_count;
    buf = malloc((v->row_count ? v->row_count : 1) * sizeof *buf);
    if (!buf) goto out;
    for (int kind = 0; kind < 3; kind++) {
        int from = kind == 1 ? RES_TS_SELECTED : RES_TS_READY_ENQUEUED;
        int to = kind == 0 ? RES_TS_SELECTED : RES_TS_TASK_LEASE_ACQUIRED;
        for (int32_t grp = -1; grp < (int32_t)ng; grp++) {
            size_t n = 0;
            for (size_t i = 0; i < v->row_count; i++) {
                const res_view_row *r = &v->rows[i];
                if ((grp >= 0 && r->group != grp) || r->at[from] < 0 || r->at[to] < 0) continue;
                buf[n++] = r->at[to] - r->at[from];
            }
            res_wait_stats *ws = grp < 0     ? (kind == 0   ? &m->ready_queue_wait
                                                : kind == 1 ? &m->task_admission_wait
                                                            : &m->ready_to_lease_gap)
                                 : kind == 0 ? &m->groups[grp].ready_queue_wait
                                 : kind == 1 ? &m->groups[grp].task_admission_wait
                                             : &m->groups[grp].ready_to_lease_gap;
            wait_stats(buf, n, ws);
        }
    }
    for (size_t i = 0; i < v->row_count; i++) {
        const res_view_row *r = &v->rows[i];
        add_layers(&m->layers, r);
        if (r->group >= 0) {
            add_layers(&m->groups[r->group].layers, r);
            m->groups[r->group].executions++;
        }
    }

    /* ---- records ---- */
    m->records = facts->records > 0 ? (uint64_t)facts->records : 0;
    m->time_to_first_record = m->time_to_50pct_records = m->row_completion_p95 = -1;
    done = malloc((m->records ? m->records : 1) * sizeof *done);
    lat = malloc((m->records ? m->records : 1) * sizeof *lat);
    if (!done || !lat) goto out;
    size_t ndone = 0, nlat = 0;
    for (int64_t row = 0; row < facts->records && facts->buffer_size > 0; row++) {
        int64_t rg = row / facts->buffer_size, at = -1;
        bool complete = true;
        for (uint32_t c = 0; c < ncol && complete; c++) {
            const res_view_column *col = &facts->columns[c];
            if (col->rows > 0 && row >= col->rows) continue;
            admit_task_type type = col->root           ? ADMIT_TASK_FROM_SCRATCH
                                   : col->cell_by_cell ? ADMIT_TASK_CELL
                                                       : ADMIT_TASK_BATCH;
            uint64_t id = admit_task_id(c, type, rg, col->cell_by_cell ? row : -1);
            long k = find_task(ids, ntask, id);
            if (k < 0 || ts[k].completed_at < 0) {
                complete = false;
                break;
            }
            if (ts[k].completed_at > at) at = ts[k].completed_at;
        }
        if (!complete) continue;
        done[ndone++] = at;
        if (rg < nrg && rg_adm[rg] >= 0) lat[nlat++] = at - rg_adm[rg];
    }
    m->records_done = ndone;
    res_sort_i64(done, ndone);
    res_sort_i64(lat, nlat);
    if (ndone) m->time_to_first_record = ns_s(done[0]);
    size_t half = (size_t)((m->records + 1) / 2);
    if (half && ndone >= half) m->time_to_50pct_records = ns_s(done[half - 1]);
    if (nlat) m->row_completion_p95 = ns_s(lat[res_quantile_index(nlat, 0.95)]);
    ok = true;
out:
    if (cool)
        for (int32_t r = 0; r <= max_res; r++)
            free(cool[r].w);
    free(cool);
    free(ids);
    free(ts);
    free(exec_row);
    free(att);
    free(qg);
    free(lg);
    free(gg);
    free(gr);
    free(rbacklogged);
    free(rserv);
    free(serv);
    free(part);
    free(root_group);
    free(done);
    free(lat);
    free(rg_adm);
    free(buf);
    if (ok) return v;
    res_correlated_view_free(v);
    return NULL;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *opt_s(double s) {
    return s < 0 ? json_null() : json_real(s);
}

static json_t *wait_json(const res_wait_stats *w) {
    if (!w->n)
        return json_pack("{s:i, s:n, s:n, s:n, s:n}", "n", 0, "mean_seconds", "p50_seconds",
                         "p95_seconds", "max_seconds");
    return json_pack("{s:I, s:f, s:f, s:f, s:f}", "n", (json_int_t)w->n, "mean_seconds", w->mean,
                     "p50_seconds", w->p50, "p95_seconds", w->p95, "max_seconds", w->max);
}

static json_t *layers_json(const res_layers *l) {
    double total =
        l->ready_queue + l->task_admission + l->request_admission + l->provider + l->local_other;
    double d = total > 0 ? total : 1;
    return json_pack("{s:{s:f, s:f, s:f, s:f, s:f, s:f}, s:{s:f, s:f, s:f, s:f, s:f, s:f}}",
                     "seconds", "ready_queue", l->ready_queue, "task_admission", l->task_admission,
                     "request_admission", l->request_admission, "cooldown", l->cooldown,
                     "provider_execution", l->provider, "local_other", l->local_other, "fractions",
                     "ready_queue", l->ready_queue / d, "task_admission", l->task_admission / d,
                     "request_admission", l->request_admission / d, "cooldown", l->cooldown / d,
                     "provider_execution", l->provider / d, "local_other", l->local_other / d);
}

json_t *res_correlated_view_json(const res_correlated_view *v, const res_view_facts *facts) {
    const res_view_metrics *m = &v->m;
    json_t *w[3] = {json_object(), json_object(), json_object()};
    json_t *idle = json_object(), *layers = json_object(), *service = json_object();
    for (uint32_t g = 0; g < m->group_count; g++) {
        const res_group_metrics *gm = &m->groups[g];
        const char *name = facts->groups[g].name;
        json_object_set_new(w[0], name, wait_json(&gm->ready_queue_wait));
        json_object_set_new(w[1], name, wait_json(&gm->task_admission_wait));
        json_object_set_new(w[2], name, wait_json(&gm->ready_to_lease_gap));
        json_object_set_new(idle, name,
                            json_pack("{s:f, s:f}", "max_seconds", gm->ready_idle_gap_max,
                                      "total_seconds", gm->ready_idle_gap_total));
        json_object_set_new(layers, name, layers_json(&gm->layers));
        json_object_set_new(service, name,
                            json_pack("{s:I, s:i, s:f, s:f}", "executions",
                                      (json_int_t)gm->executions, "weight", facts->groups[g].weight,
                                      "lease_seconds", gm->lease_seconds,
                                      "backlogged_service_per_weight", gm->backlogged_service));
    }
    json_t *out = json_pack(
        "{s:I, s:I, s:I, s:{s:o, s:o}, s:{s:o, s:o}, s:{s:o, s:o}, s:{s:f, s:f, s:o}, s:{s:f, "
        "s:f}, s:{s:o, s:f, s:o}, s:o, s:o, s:f}",
        "executions", (json_int_t)m->executions, "spawn_failures", (json_int_t)m->spawn_failures,
        "hidden_scheduler_resource_waiters", (json_int_t)m->hidden_scheduler_resource_waiters,
        "ready_queue_wait", "overall", wait_json(&m->ready_queue_wait), "groups", w[0],
        "task_admission_wait", "overall", wait_json(&m->task_admission_wait), "groups", w[1],
        "ready_to_lease_gap", "overall", wait_json(&m->ready_to_lease_gap), "groups", w[2],
        "ready_idle_gap", "max_seconds", m->ready_idle_gap_max, "total_seconds",
        m->ready_idle_gap_total, "groups", idle, "active_capacity_integral", "seconds",
        m->active_capacity_integral, "fraction_of_wall", m->active_capacity_fraction, "fairness",
        "jain_index", opt_s(m->jain_fairness_index), "all_backlogged_seconds",
        m->all_backlogged_seconds, "groups", service, "first_downstream_ready_seconds",
        opt_s(m->first_downstream_ready), "first_downstream_dispatch_seconds",
        opt_s(m->first_downstream_dispatch), "root_over_admission_debt_lease_seconds",
        m->root_over_admission_debt);
    json_t *idle_res = json_object(), *fair_res = json_object();
    for (uint32_t r = 0; r < m->resource_count && r < facts->resource_count; r++) {
        const res_resource_metrics *rm = &m->resources[r];
        const char *name = facts->resources[r].name;
        json_object_set_new(idle_res, name,
                            json_pack("{s:f, s:f}", "max_seconds", rm->ready_idle_gap_max,
                                      "total_seconds", rm->ready_idle_gap_total));
        json_t *names = json_array(), *xs = json_object();
        for (uint32_t g = 0; g < m->group_count; g++) {
            double x = m->resource_service[(size_t)r * m->group_count + g];
            if (x < 0) continue;
            json_array_append_new(names, json_string(facts->groups[g].name));
            json_object_set_new(xs, facts->groups[g].name, json_real(x));
        }
        json_object_set_new(fair_res, name,
                            json_pack("{s:o, s:o, s:f, s:o}", "jain_index",
                                      opt_s(rm->jain_fairness_index), "groups", names,
                                      "all_backlogged_seconds", rm->all_backlogged_seconds,
                                      "backlogged_service_per_weight", xs));
    }
    json_object_set_new(json_object_get(out, "ready_idle_gap"), "resources", idle_res);
    json_object_set_new(json_object_get(out, "fairness"), "resources", fair_res);
    json_object_set_new(out, "records",
                        json_pack("{s:I, s:I, s:o, s:o, s:o}", "total", (json_int_t)m->records,
                                  "done", (json_int_t)m->records_done,
                                  "time_to_first_record_seconds", opt_s(m->time_to_first_record),
                                  "time_to_50pct_records_seconds", opt_s(m->time_to_50pct_records),
                                  "row_completion_p95_seconds", opt_s(m->row_completion_p95)));
    json_object_set_new(
        out, "limiting_layers",
        json_pack("{s:o, s:o}", "overall", layers_json(&m->layers), "groups", layers));
    return out;
}

const res_headline res_correlated_headlines[] = {
    {"hidden_scheduler_resource_waiters", NULL, "correlated_hidden_waiters",
     "hidden scheduler resource waiters"},
    {"ready_idle_gap", "max_seconds", "ready_idle_gap_max_seconds", "longest ready-idle gap (s)"},
    {"ready_idle_gap", "total_seconds", "ready_idle_gap_total_seconds", "total ready-idle gap (s)"},
    {"active_capacity_integral", "fraction_of_wall", "active_capacity_fraction",
     "active capacity (fraction of wall)"},
    {"fairness", "jain_index", "jain_fairness_index", "Jain index across groups"},
    {"root_over_admission_debt_lease_seconds", NULL, "root_over_admission_debt_lease_seconds",
     "root over-admission debt (lease-s)"},
    {"first_downstream_ready_seconds", NULL, "first_downstream_ready_seconds",
     "first downstream ready (s)"},
    {"first_downstream_dispatch_seconds", NULL, "first_downstream_dispatch_seconds",
     "first downstream dispatch (s)"},
    {"records", "time_to_first_record_seconds", "time_to_first_record_seconds",
     "time to first record (s)"},
    {"records", "time_to_50pct_records_seconds", "time_to_50pct_records_seconds",
     "time to 50% of records (s)"},
    {"records", "row_completion_p95_seconds", "row_completion_p95_seconds",
     "p95 row completion (s)"}};
const size_t res_correlated_headline_count =
    sizeof res_correlated_headlines / sizeof *res_correlated_headlines;

json_t *res_correlated_headline_get(json_t *cv, const res_headline *h) {
    json_t *x = json_object_get(cv, h->object);
    return h->field ? json_object_get(x, h->field) : x;
}

/* ---- from a run ------------------------------------------------------------- */

typedef struct facts_storage {
    res_view_facts f;
    res_view_column *cols;
    res_view_group *groups;
    res_view_resource *resources;
    uint32_t *amounts;
} facts_storage;

/* The groups' scheduler resource requests ([group * resource_count +
** resource]) from the run's resolved column requests; the columns of one
** group share its request (the group key is derived from it). */
static void group_amounts(const res_run_record *run, uint32_t *amounts) {
    for (uint32_t c = 0; c < run->config->column_count; c++) {
        const admit_resource_request *rq = &run->column_resources[c];
        uint32_t g = run->column_group[c];
        for (uint8_t i = 0; i < rq->count; i++) {
            uint32_t *a = &amounts[(size_t)g * run->resource_count + rq->resource[i]];
            if (rq->amount[i] > *a) *a = rq->amount[i];
        }
    }
}

res_view_facts *res_view_facts_from_run(const res_run_record *run) {
    const run_config *sc = run->config;
    facts_storage *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cols = calloc(sc->column_count ? sc->column_count : 1, sizeof *s->cols);
    s->groups = calloc(run->group_count ? run->group_count : 1, sizeof *s->groups);
    uint32_t nr = run->resource_count;
    s->resources = calloc(nr ? nr : 1, sizeof *s->resources);
    size_t namounts = (size_t)run->group_count * nr;
    s->amounts = calloc(namounts ? namounts : 1, sizeof *s->amounts);
    if (!s->cols || !s->groups || !s->resources || !s->amounts) {
        res_view_facts_free(&s->f);
        return NULL;
    }
    for (uint32_t c = 0; c < sc->column_count; c++)
        s->cols[c] =
            (res_view_column){.group = run->column_group[c],
                              .root = sc->columns[c].dep_count == 0,
                              .cell_by_cell = sc->columns[c].strategy == ADMIT_CELL_BY_CELL,
                              .rows = sc->columns[c].rows};
    for (uint32_t g = 0; g < run->group_count; g++)
        s->groups[g] = (res_view_group){run->groups[g].key, admit_group_weight(&run->groups[g])};
    s->f = (res_view_facts){.submission_capacity = run->resource_limits[ADMIT_RESOURCE_SUBMISSION],
                            .wall_ns = run->wall_ns,
                            .records = sc->records,
                            .buffer_size = sc->buffer_size,
                            .cooldown_ns = sc->aimd.cooldown_ns,
                            .column_count = sc->column_count,
                            .columns = s->cols,
                            .group_count = run->group_count,
                            .groups = s->groups};
    group_amounts(run, s->amounts);
    for (uint32_t r = 0; r < nr; r++)
        s->resources[r] = (res_view_resource){run->resource_names[r], run->resource_limits[r]};
    s->f.resource_count = nr;
    s->f.resources = s->resources;
    s->f.group_amounts = s->amounts;
    return &s->f;
}

void res_view_facts_free(res_view_facts *f) {
    if (!f) return;
    facts_storage *s = (facts_storage *)f; /* f is the first member */
    free(s->cols);
    free(s->groups);
    free(s->resources);
    free(s->amounts);
    free(s);
}

json_t *res_correlated_json(const res_run_record *run) {
    if (!run->events || !run->event_count) return json_null();
    res_view_facts *f = res_view_facts_from_run(run);
    if (!f) return json_null();
    res_correlated_view *v = res_correlated_view_build(
        run->events, run->event_count, run->request_events, run->request_event_count, f);
    json_t *j = v ? res_correlated_view_json(v, f) : json_null();
    res_correlated_view_free(v);
    res_view_facts_free(f);
    return j;
}
