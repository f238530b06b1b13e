/*
** CorrelatedRuntimeView: res_correlated_view_build joins the two event
** streams into one row per task execution and computes the derived metrics
** (the contract is in res/correlated_view.h).  It runs in passes over one
** view_builder, which owns every piece of working state; each pass reads
** only what the passes before it left there:
**
**   1. index (view_index): the metric arrays; the dense task slots
**      (task_find: a task's slot comes from its id, admit_task_id's column
**      and row or row group, with a small map for any other id; the join
**      state of a slot lives in a chunk of TASK_CHUNK slots made at its
**      first use and freed when all its tasks finished, task_at); per group
**      the resources it requests, per resource the amounts its requesters
**      ask.  Nothing here reads the events: rows, the execution map and the
**      attempt slots grow as the passes meet them, and a group joins the
**      fairness participants at its first ready_enqueued
**      (participant_join), so passes 2 and 4 run while the events are
**      made (res_view_builder: each event is one sweep_step or
**      request_step, and none is kept).
**   2. scheduler sweep (sweep_step), one step per event in sequence order:
**        sweep_advance     time advances by dt > 0 under the state the
**                          previous event left: active capacity integral,
**                          lease seconds, service while all backlogged and
**                          root over-admission debt, over the groups that
**                          hold leases; everything else is kept on the
**                          sweep clock and settled when it changes;
**        sweep_apply       the event itself: the task join (a row is made
**                          at worker_spawned, hidden waiters counted),
**                          lease and queued counts (group_queued_add,
**                          group_leases_add, leases_add keep the gaps,
**                          backlogs and service of what they change),
**                          execution ends, first downstream ready /
**                          dispatch, row group admission;
**        sweep_settle      the overall gap and those of the resources the
**                          event touched, after it.
**   3. sweep end (sweep_finish): the last gaps, wall time, capacity
**      integral, debt, and the Jain indexes over groups and per resource.
**   4. request stream (request_step, requests_join): each attempt's
**      times and the merged cooldown windows per request resource, then
**      every attempt, in attempt id order, into its execution's row (first
**      / last attempt timestamps, request wait, cooldown, provider time).
**   5. rows (rows_waits, rows_layers): wait statistics, the downstream
**      gap and limiting layers, overall and per group: two passes over the
**      rows per wait kind, percentiles by selection (res_select_i64).  The
**      passes read a row's row_lean: from the view's rows, or, for a
**      builder asked for no rows, from the 40-byte lean rows it keeps
**      instead (the same integers, so the same sums).
**   6. records (records_compute): time to the first and to 50% of the
**      records, p95 row completion.
**   7. view_builder_free: all the working state (the view is the result).
** Cost: O(events + tasks + groups x resources), plus per step of time the
** groups holding leases, per end of room (active leases reaching capacity
** after time with room) and per queue clear the groups with queued tasks,
** and per new participant the groups (at most groups x groups in all).
** Floating-point sums are accumulated in event order, then group order,
** then resource order; a change to a pass must keep those sequences or the
** figures change in their last bits.  Integer sums (gaps, backlogged time,
** per-resource service) may be kept in any order.
*/
#include "res/correlated_view.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/resources.h"
#include "res/json_real.h"
#include "res/id_hash.h"
#include "res/large_alloc.h"
#include "res/spill.h"
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

/* A 128-bit sum or product of nanoseconds in seconds. */
static double wide_s(res_sum_ns ns) {
    return (double)ns / 1e9;
}

/* Per-task join state: what joins a task's ready..lease events to its next
** execution, and whether it is queued.  Kept in chunks of TASK_CHUNK slots,
** freed once every task of the chunk finished (view_builder.chunk); the
** completion time (view_builder.done) and, when the view keeps rows, the
** dependency_ready time (view_builder.dep) are kept per slot beside them. */
typedef struct task_state {
    int64_t enq, sel, lease_at;
    uint64_t lease_id;
    int32_t group;
    uint32_t queued_epoch; /* queued while it equals the sweep's epoch */
} task_state;

static const task_state task_absent = {-1, -1, -1, 0, -1, 0};

#define TASK_CHUNK 4096
#define PEND_CHUNK 1024 /* full rows, spilling (row_spill) */
/* A row is open until its release, closing until time moves past it (events
** of that instant may still change it), then final (kept or spilled). */
enum { ROW_OPEN = 0, ROW_CLOSING = 1, ROW_FINAL = 2, ROW_SPILLED = 3 };
#define NO_SLOT   SIZE_MAX
#define DONE_NOT  (-1) /* view_builder.done: not finished */
#define DONE_DROP (-2) /* finished by non_retryable_dropped */

/* PEND_CHUNK full rows (NULL: none made yet, or all spilled) and how many
** of them were made and not yet spilled. */
typedef struct pend_chunk {
    res_view_row *rows;
    uint32_t open;
} pend_chunk;

typedef struct attempt_state {
    uint64_t exec;
    int32_t resource;
    int64_t ws, wend, la, ms, mc, lr;
    bool waited_ok; /* wait ended by wait_completed */
    bool rate_limited;
    bool joined; /* spill_rows: in its execution's row, final */
} attempt_state;

/* What the metrics read of an execution's row: enough for the waits, the
** limiting layers and the downstream gap (row_lean_of).  A builder asked
** for no rows keeps a lean_row per execution (40 bytes instead of a
** res_view_row's 184) and, once the request stream is joined and only if
** it has attempts, the three request sums per row beside them. */
typedef struct row_lean {
    int64_t enq, sel, lease, released; /* -1: absent */
    int64_t request_wait_ns, cooldown_wait_ns, provider_ns;
    int32_t group, column;
} row_lean;

typedef struct lean_row {
    int64_t enq, sel, lease, released; /* -1: absent */
    int32_t group, column;
} lean_row;

/* lean_req[row]: an execution's request wait, cooldown and provider ns. */
typedef struct lean_req {
    int64_t request_wait_ns, cooldown_wait_ns, provider_ns;
} lean_req;

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

/* n / mean / p50 / p95 / max of v (reordered): the percentiles by
** selection, the same elements a sort puts at their indexes. */
static void wait_stats(int64_t *v, size_t n, res_wait_stats *out) {
    memset(out, 0, sizeof *out);
    out->n = n;
    if (!n) return;
    res_sum_ns sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    size_t k[3] = {res_quantile_index(n, 0.50), res_quantile_index(n, 0.95), n - 1};
    int64_t at[3];
    res_select_i64(v, n, k, 3, at);
    out->mean = (double)sum / (double)n / 1e9;
    out->p50 = ns_s(at[0]);
    out->p95 = ns_s(at[1]);
    out->max = ns_s(at[2]);
}

/* A ready-idle gap, kept on the sweep clock: while open it has grown since
** start; settling it (its condition ended, or an acquisition ended the
** stretch) adds the stretch to the total and keeps the longest. */
typedef struct gap {
    int64_t start, max, total;
    bool open;
} gap;

static void gap_settle(gap *g, int64_t now) {
    int64_t cur = now - g->start;
    g->total += cur;
    if (cur > g->max) g->max = cur;
    g->start = now;
}

/* The gap's condition after an event: it opens now or ends now. */
static void gap_set(gap *g, bool open, int64_t now) {
    if (g->open && !open) gap_settle(g, now);
    if (!g->open && open) g->start = now;
    g->open = open;
}

/* A task_lease_acquired ends the stretch; the next one starts at once. */
static void gap_restart(gap *g, int64_t now) {
    if (g->open) gap_settle(g, now);
}

/* The sums of a Jain fairness index, J = (sum x)^2 / (n * sum x^2). */
typedef struct jain {
    double sx, sx2;
    uint32_t n;
} jain;

static void jain_add(jain *j, double x) {
    j->n++;
    j->sx += x;
    j->sx2 += x * x;
}

/* J, or -1 (undefined) with < 2 groups, no backlogged time or no service. */
static double jain_index(const jain *j, int64_t backlogged_ns) {
    return j->n >= 2 && backlogged_ns > 0 && j->sx2 > 0 ? j->sx * j->sx / (j->n * j->sx2) : -1;
}

void res_correlated_view_free(res_correlated_view *v) {
    if (!v) return;
    free(v->rows);
    res_spill_free(v->row_spill);
    free(v->m.groups);
    free(v->m.resources);
    free(v->m.resource_service);
    free(v);
}

static void add_layers(res_layers *l, const row_lean *r) {
    if (r->enq >= 0 && r->sel >= 0) l->ready_queue += ns_s(r->sel - r->enq);
    if (r->sel >= 0 && r->lease >= 0) l->task_admission += ns_s(r->lease - r->sel);
    l->request_admission += ns_s(r->request_wait_ns);
    l->cooldown += ns_s(r->cooldown_wait_ns);
    l->provider += ns_s(r->provider_ns);
    if (r->lease >= 0 && r->released >= 0) {
        int64_t rest = r->released - r->lease - r->request_wait_ns - r->provider_ns;
        if (rest > 0) l->local_other += ns_s(rest);
    }
}

/* ---- group sets --------------------------------------------------------------- */

/* Sets of groups as bit words, walked in ascending group order. */
static void bits_put(uint64_t *bits, uint32_t g, bool on) {
    if (on)
        bits[g / 64] |= 1ULL << (g % 64);
    else
        bits[g / 64] &= ~(1ULL << (g % 64));
}

#define NO_GROUP UINT32_MAX

/* The first group >= from in the set, or NO_GROUP. */
static uint32_t bits_next(const uint64_t *bits, size_t nwords, uint32_t from) {
    size_t w = from / 64;
    if (w >= nwords) return NO_GROUP;
    uint64_t x = bits[w] & (~0ULL << (from % 64));
    while (!x) {
        if (++w == nwords) return NO_GROUP;
        x = bits[w];
    }
    return (uint32_t)(w * 64 + (size_t)__builtin_ctzll(x));
}

static bool bits_has(const uint64_t *bits, uint32_t g) {
    return (bits[g / 64] >> (g % 64)) & 1;
}

/* ---- the builder ------------------------------------------------------------ */

/* The working state of one res_correlated_view_build.  Tasks have dense
** slots: column c's task with index i (its row, or its row group for a
** batch column; admit_task_id) is ts[col_base[c] + i], and any other task
** id gets a slot past those through a small map.  Other arrays are indexed
** by execution id, attempt id, request resource, group g < ng, scheduler
** resource r < nr or row group.
**
** The sweep (passes 2 and 3) keeps its counts incrementally: an event
** changes one task, one group's queued and leased counts and the resources
** that group requests, and only what depends on those is revisited.  Gaps,
** all-backlogged times and per-resource service are integers kept on the
** sweep clock (`now`: the sum of the positive steps between events) and
** settled when their condition changes; only the floating-point sums
** (lease seconds, service while all backlogged, root debt) are added per
** step, over the groups that hold leases, in group order as before. */
typedef struct view_builder {
    const res_view_facts *f;
    uint32_t ng, ncol, nr;
    size_t nwords;       /* bit words of a group set */
    const uint32_t *amt; /* f->group_amounts [g * nr + r]; NULL: nothing requested */
    res_correlated_view *v;
    res_view_metrics *m; /* &v->m */
    bool oom;            /* a map or the slots could not grow */

    /* pass 1: index */
    bool dense;           /* task ids decode as admit_task_id lays them out */
    size_t *col_base;     /* [c]: column c's first slot; [ncol]: the dense slots */
    uint8_t *col_type;    /* [c]: the type of column c's tasks */
    task_state **chunk;   /* [slot / TASK_CHUNK]: join states; NULL: not yet, or all finished */
    uint32_t *chunk_open; /* [chunk]: its slots whose task has not finished */
    int64_t *done;        /* [slot]: task_completed time, DONE_NOT or DONE_DROP */
    int64_t *dep;         /* [slot]: dependency_ready time, -1: none; only with full rows */
    size_t nts, ts_cap;   /* slots made, and room for them */
    uint64_t *other_id;   /* map of other task ids to slots: 0 = empty */
    size_t *other_slot, other_mask, other_count;
    bool keep_rows;   /* the view's rows (v->rows), else only lean[] */
    bool spill_rows;  /* !keep_rows: full rows too, into the view's row_spill when final */
    pend_chunk *pend; /* spill_rows: [row / PEND_CHUNK] the full rows not yet spilled */
    size_t pend_cap;
    uint8_t *row_state; /* spill_rows: [row] ROW_OPEN, _CLOSING, _FINAL or _SPILLED */
    uint32_t *closing;  /* spill_rows: the rows released at closing_at */
    size_t nclosing, closing_cap;
    int64_t closing_at;
    uint64_t *att_head; /* spill_rows: [execution id] its attempts, ascending ids (0: none) */
    size_t head_cap;
    uint64_t *att_next; /* spill_rows: [attempt id] the next of its execution's (0: none) */
    size_t next_cap;
    int64_t *cool_joined; /* spill_rows: [request resource] latest wait end joined */
    size_t cool_joined_cap;
    size_t spill_after; /* bytes of final rows kept before spilling starts */
    size_t nfinal;      /* rows ROW_FINAL */
    bool spilling;      /* final rows go to the spill (else they wait, ROW_FINAL) */
    size_t state_cap;
    char fail[400]; /* why the view cannot be built, other than memory ("": fine) */
    res_status fail_code;
    lean_row *lean;     /* [row] when !keep_rows */
    lean_req *lean_req; /* [row] when !keep_rows and any attempt joined; else NULL */
    size_t row_cap;     /* rows v->rows (or lean) has room for */
    uint32_t *exec_row; /* [execution id < exec_cap]: its row, NO_ROW: none */
    size_t exec_cap;
    attempt_state *att; /* [attempt id < att_cap] */
    size_t att_cap;
    uint64_t max_att; /* largest attempt id */
    windows *cool;    /* [request resource < cool_cap]: merged cooldown windows */
    size_t cool_cap;
    bool *part;            /* [g]: participates in the fairness index (so far) */
    uint32_t nparts;       /* participants (so far) */
    uint64_t *root_bits;   /* groups of root columns */
    int64_t nrg;           /* row groups */
    int64_t *rg_adm;       /* [row group]: its first row_group_admitted, -1: none */
    uint32_t *res_off;     /* group g requests res_list[res_off[g] .. res_off[g + 1]) */
    uint32_t *res_list;    /* ascending resource ids */
    uint32_t *need_pos;    /* [k]: the need bucket of (g, res_list[k]) */
    uint32_t *need_off;    /* resource r's buckets: need_off[r] .. need_off[r + 1] */
    uint32_t *need_amount; /* [bucket]: an amount of r, ascending within r */
    int64_t *need_count;   /* [bucket]: queued groups requesting r with that amount */
    uint32_t *r_parts;     /* [r]: participants requesting r */

    /* passes 2 and 3: the scheduler sweep */
    int64_t cap; /* submission capacity, at least 1 */
    int64_t leases, queued, prev, now;
    bool swept_any;     /* a scheduler event was swept: prev is its time */
    uint16_t last_kind; /* the kind and execution id of the previous */
    uint64_t last_exec; /* scheduler event (0: none) */
    uint32_t epoch;
    int64_t first_ready, first_dispatch; /* -1: none yet */
    res_sum_ns integral;                 /* lease-ns */
    int64_t backlogged;                  /* ns during which every participant is queued */
    double debt;                         /* root over-admission, lease-seconds */
    int64_t *qg, *lg;                    /* [g]: queued tasks, active leases */
    uint64_t *queued_bits, *leased_bits; /* groups with qg > 0, with lg > 0 */
    uint32_t parts_idle;                 /* participants with nothing queued */
    int64_t w_active;                    /* weights of groups with queued or leased work */
    bool room;                           /* leases < cap */
    int64_t room_since;                  /* when room last began */
    gap g_all, *gg;                      /* overall, [g] */
    double *serv;                        /* [g]: lease-seconds while all backlogged */
    gap *gr;                             /* [r]: ready-idle gap of r */
    int64_t *leased_r;                   /* [r]: leased units */
    gap *rb;                             /* [r]: open while r's participants are all queued */
    uint32_t *r_idle;                    /* [r]: participants requesting r, nothing queued */
    res_sum_ns *rserv;                   /* [r * ng + g]: lease-ns while rb[r] open */
    int64_t *rmark;                      /* [r * ng + g]: rb[r]'s time rserv counted to */
    uint32_t *dirty;                     /* resources whose conditions may have changed */
    uint32_t ndirty;
    bool *is_dirty; /* [r] */
} view_builder;

/* The amount of scheduler resource r each task of group g requests. */
static uint32_t group_amount(const view_builder *b, uint32_t g, uint32_t r) {
    return b->amt ? b->amt[(size_t)g * b->nr + r] : 0;
}

static int group_weight(const view_builder *b, uint32_t g) {
    return b->f->groups[g].weight > 0 ? b->f->groups[g].weight : 1;
}

/* Row i as the metrics read it. */
static row_lean row_lean_of(const view_builder *b, size_t i) {
    if (!b->keep_rows) {
        const lean_row *l = &b->lean[i];
        const lean_req *q = b->lean_req ? &b->lean_req[i] : &(const lean_req){0, 0, 0};
        return (row_lean){.enq = l->enq,
                          .sel = l->sel,
                          .lease = l->lease,
                          .released = l->released,
                          .request_wait_ns = q->request_wait_ns,
                          .cooldown_wait_ns = q->cooldown_wait_ns,
                          .provider_ns = q->provider_ns,
                          .group = l->group,
                          .column = l->column};
    }
    const res_view_row *r = &b->v->rows[i];
    return (row_lean){.enq = r->at[RES_TS_READY_ENQUEUED],
                      .sel = r->at[RES_TS_SELECTED],
                      .lease = r->at[RES_TS_TASK_LEASE_ACQUIRED],
                      .released = r->at[RES_TS_TASK_LEASE_RELEASED],
                      .request_wait_ns = r->request_wait_ns,
                      .cooldown_wait_ns = r->cooldown_wait_ns,
                      .provider_ns = r->provider_ns,
                      .group = r->group,
                      .column = r->column};
}

static void view_builder_free(view_builder *b) {
    for (size_t k = 0; b->pend && k < b->pend_cap; k++)
        res_pages_free(b->pend[k].rows, PEND_CHUNK * sizeof *b->pend[k].rows);
    free(b->pend);
    free(b->row_state);
    if (b->cool)
        for (size_t r = 0; r < b->cool_cap; r++)
            free(b->cool[r].w);
    for (size_t k = 0; b->chunk && k < (b->ts_cap + TASK_CHUNK - 1) / TASK_CHUNK; k++)
        res_pages_free(b->chunk[k], TASK_CHUNK * sizeof *b->chunk[k]);
    void *arrays[] = {
        b->cool,     b->col_base,    b->col_type,    b->chunk,      b->other_id, b->chunk_open,
        b->done,     b->lean,        b->other_slot,  b->exec_row,   b->att,      b->part,
        b->dep,      b->lean_req,    b->root_bits,   b->rg_adm,     b->res_off,  b->res_list,
        b->need_pos, b->need_off,    b->need_amount, b->need_count, b->r_parts,  b->qg,
        b->lg,       b->queued_bits, b->leased_bits, b->gg,         b->serv,     b->gr,
        b->leased_r, b->rb,          b->r_idle,      b->rserv,      b->rmark,    b->dirty,
        b->is_dirty, b->att_head,    b->cool_joined, b->closing,    b->att_next};
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
        free(arrays[i]);
}

/* ---- task slots ------------------------------------------------------------- */

static bool other_grow(view_builder *b) {
    size_t cap = b->other_mask ? (b->other_mask + 1) * 2 : 64;
    uint64_t *ids = calloc(cap, sizeof *ids);
    size_t *slots = malloc(cap * sizeof *slots);
    if (!ids || !slots) {
        free(ids);
        free(slots);
        return false;
    }
    for (size_t i = 0; b->other_mask && i <= b->other_mask; i++) {
        if (!b->other_id[i]) continue;
        size_t j = res_id_hash(b->other_id[i]) & (cap - 1);
        while (ids[j])
            j = (j + 1) & (cap - 1);
        ids[j] = b->other_id[i];
        slots[j] = b->other_slot[i];
    }
    free(b->other_id);
    free(b->other_slot);
    b->other_id = ids;
    b->other_slot = slots;
    b->other_mask = cap - 1;
    return true;
}

/* Room for `cap` slots in the per-slot arrays (new chunks absent, open
** counts 0).  false: out of memory. */
static bool slots_room(view_builder *b, size_t cap) {
    size_t chunks = (b->ts_cap + TASK_CHUNK - 1) / TASK_CHUNK;
    size_t want = (cap + TASK_CHUNK - 1) / TASK_CHUNK;
    int64_t *done = res_large_realloc(b->done, b->ts_cap * sizeof *done, cap * sizeof *done);
    if (done) b->done = done;
    bool full = b->keep_rows || b->spill_rows;
    int64_t *dep =
        full ? res_large_realloc(b->dep, b->ts_cap * sizeof *dep, cap * sizeof *dep) : NULL;
    if (dep) b->dep = dep;
    task_state **chunk = realloc(b->chunk, (want ? want : 1) * sizeof *chunk);
    if (chunk) b->chunk = chunk;
    uint32_t *open = realloc(b->chunk_open, (want ? want : 1) * sizeof *open);
    if (open) b->chunk_open = open;
    if (!done || (full && !dep) || !chunk || !open) return false;
    for (size_t k = chunks; k < want; k++) {
        b->chunk[k] = NULL;
        b->chunk_open[k] = 0;
    }
    b->ts_cap = cap;
    return true;
}

/* A new slot: not finished, its chunk's open count up by one. */
static void slot_add(view_builder *b) {
    b->done[b->nts] = DONE_NOT;
    if (b->dep) b->dep[b->nts] = -1;
    b->chunk_open[b->nts / TASK_CHUNK]++;
    b->nts++;
}

/* The slot of a task id outside the dense ranges; with create, a new one
** (NO_SLOT: none, or out of memory with b->oom set). */
__attribute__((noinline)) static size_t task_other(view_builder *b, uint64_t id, bool create) {
    if (b->other_mask)
        for (size_t i = res_id_hash(id) & b->other_mask; b->other_id[i];
             i = (i + 1) & b->other_mask)
            if (b->other_id[i] == id) return b->other_slot[i];
    if (!create) return NO_SLOT;
    if ((b->nts == b->ts_cap && !slots_room(b, b->ts_cap * 2 + 16)) ||
        ((b->other_count + 1) * 2 > b->other_mask + 1 && !other_grow(b))) {
        b->oom = true;
        return NO_SLOT;
    }
    size_t i = res_id_hash(id) & b->other_mask;
    while (b->other_id[i])
        i = (i + 1) & b->other_mask;
    b->other_id[i] = id;
    b->other_slot[i] = b->nts;
    b->other_count++;
    slot_add(b);
    return b->nts - 1;
}

/* The task's slot: dense from its id (admit_task_id: (column + 1) << 44 |
** type << 40 | row or row group), else through the map. */
static inline size_t task_find(view_builder *b, uint64_t id, bool create) {
    uint64_t col = id >> 44, index = id & ((1ULL << 40) - 1);
    if (b->dense && col >= 1 && col <= b->ncol && ((id >> 40) & 15) == b->col_type[col - 1] &&
        index < b->col_base[col] - b->col_base[col - 1])
        return b->col_base[col - 1] + index;
    return task_other(b, id, create);
}

/* Slot's join state, its chunk made (absent) if there is none: before the
** chunk's first use, or after all its tasks finished (NULL: out of memory,
** b->oom set). */
static task_state *task_at(view_builder *b, size_t slot) {
    task_state **c = &b->chunk[slot / TASK_CHUNK];
    if (!*c) {
        *c = res_pages_alloc(TASK_CHUNK * sizeof **c);
        if (!*c) {
            b->oom = true;
            return NULL;
        }
        for (size_t i = 0; i < TASK_CHUNK; i++)
            (*c)[i] = task_absent;
    }
    return &(*c)[slot % TASK_CHUNK];
}

/* Slot's task finished for the first time: the last of its chunk frees the
** chunk's join states, which no execution can need any more. */
static void task_finished(view_builder *b, size_t slot) {
    size_t k = slot / TASK_CHUNK;
    if (b->chunk_open[k] > 0 && --b->chunk_open[k] == 0) {
        res_pages_free(b->chunk[k], TASK_CHUNK * sizeof *b->chunk[k]);
        b->chunk[k] = NULL;
    }
}

/* task_completed of slot's task at t (the latest one counts), or its
** non_retryable_dropped (t < 0). */
static void task_end(view_builder *b, size_t slot, int64_t t) {
    if (b->done[slot] == DONE_NOT) task_finished(b, slot);
    if (t >= 0)
        b->done[slot] = t;
    else if (b->done[slot] == DONE_NOT)
        b->done[slot] = DONE_DROP;
}

/* Column c's task covering `row` (row group rg): its completion time, < 0
** when it did not complete. */
static int64_t record_task_done(view_builder *b, uint32_t c, int64_t row, int64_t rg) {
    const res_view_column *col = &b->f->columns[c];
    int64_t index = col->cell_by_cell ? row : rg;
    if (b->dense) return b->done[b->col_base[c] + (size_t)index];
    admit_task_type type = (admit_task_type)b->col_type[c];
    size_t slot = task_find(b, admit_task_id(c, type, rg, col->cell_by_cell ? row : -1), false);
    return slot == NO_SLOT ? -1 : b->done[slot];
}

/* ---- pass 1: allocate and index --------------------------------------------- */

/* The view's metric arrays. */
static bool view_alloc_metrics(view_builder *b) {
    res_view_metrics *m = b->m;
    size_t cells = (size_t)b->nr * b->ng > 0 ? (size_t)b->nr * b->ng : 1;
    m->group_count = b->ng;
    m->groups = calloc(b->ng ? b->ng : 1, sizeof *m->groups);
    m->resource_count = b->nr;
    m->resources = calloc(b->nr ? b->nr : 1, sizeof *m->resources);
    m->resource_service = malloc(cells * sizeof *m->resource_service);
    return m->groups && m->resources && m->resource_service;
}

#define NO_ROW UINT32_MAX
static const uint32_t no_row = NO_ROW; /* exec_row: the execution has no row */

/* Makes room for index `need` in *arr (elem-byte entries, *cap of them),
** doubling; the new entries are copies of *fill (fill NULL: left as they
** are).  false: out of memory. */
static bool grow_to(void **arr, size_t *cap, uint64_t need, size_t elem, const void *fill) {
    if (need < *cap) return true;
    size_t n = *cap ? *cap : 16;
    while (n <= need) {
        if (n > SIZE_MAX / 2 / elem) return false;
        n *= 2;
    }
    char *p = res_large_realloc(*arr, *cap * elem, n * elem);
    if (!p) return false;
    for (size_t i = *cap; fill && i < n; i++)
        memcpy(p + i * elem, fill, elem);
    *arr = p;
    *cap = n;
    return true;
}

/* Spilling, an execution's full row lives in a chunk of PEND_CHUNK rows
** until it is spilled to the view's row_spill; a chunk is freed once all
** its rows were made and spilled.  A row closes at its task lease's
** release and is final once time moves past that instant (rows_close):
** its execution's request attempts join it then, and final rows are kept
** until they pass spill_after bytes, then spilled (row_final).  An event
** that would change a final row fails the build (row_late): the figures
** would be wrong. */

/* Room for row index `need`: in the view's rows, or the lean rows (and,
** spilling, the rows' states and the chunks' slots). */
static bool row_room(view_builder *b, uint64_t need) {
    static const uint8_t open = ROW_OPEN;
    static const pend_chunk none = {NULL, 0};
    if (b->keep_rows)
        return grow_to((void **)&b->v->rows, &b->row_cap, need, sizeof *b->v->rows, NULL);
    if (b->spill_rows &&
        (!grow_to((void **)&b->row_state, &b->state_cap, need, sizeof *b->row_state, &open) ||
         !grow_to((void **)&b->pend, &b->pend_cap, need / PEND_CHUNK, sizeof *b->pend, &none)))
        return false;
    return grow_to((void **)&b->lean, &b->row_cap, need, sizeof *b->lean, NULL);
}

/* Row i's full row while events may change it (spill_rows); NULL once
** final. */
static res_view_row *pend_row(view_builder *b, size_t i) {
    if (b->row_state[i] >= ROW_FINAL) return NULL;
    return &b->pend[i / PEND_CHUNK].rows[i % PEND_CHUNK];
}

/* The new row i's full row (NULL: out of memory). */
static res_view_row *pend_new(view_builder *b, size_t i) {
    pend_chunk *c = &b->pend[i / PEND_CHUNK];
    if (!c->rows && !(c->rows = res_pages_alloc(PEND_CHUNK * sizeof *c->rows))) return NULL;
    c->open++;
    b->row_state[i] = ROW_OPEN;
    return &c->rows[i % PEND_CHUNK];
}

static void view_fail(view_builder *b, res_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void view_fail(view_builder *b, res_status code, const char *fmt, ...) {
    if (b->fail[0]) return; /* the first failure tells */
    b->fail_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->fail, sizeof b->fail, fmt, ap);
    va_end(ap);
}

/* An event (what) would change execution exec's row, already spilled. */
static void row_late(view_builder *b, uint64_t exec, const char *what) {
    view_fail(b, RES_ERUN,
              "%s of task execution %llu came after its task lease's release, once its "
              "row was final: the events of both streams must come in one time order",
              what, (unsigned long long)exec);
}

/* Row i into the spill (made at the first row); its chunk is freed once
** all its rows are made and spilled. */
static void row_spill(view_builder *b, size_t i) {
    size_t k = i / PEND_CHUNK;
    res_correlated_view *v = b->v;
    if (!v->row_spill && !b->fail[0] && !(v->row_spill = res_spill_create(sizeof *v->rows))) {
        view_fail(b, RES_EIO, "creating the spill file of the task timelines in %.256s: %s",
                  res_spill_dir(), strerror(errno));
    }
    if (!b->fail[0] && !res_spill_append(v->row_spill, &b->pend[k].rows[i % PEND_CHUNK]))
        view_fail(b, RES_EIO, "%s",
                  res_spill_error(v->row_spill) ? res_spill_error(v->row_spill)
                                                : "appending to the spill file once read");
    if (b->row_state[i] == ROW_FINAL) b->nfinal--;
    b->row_state[i] = ROW_SPILLED;
    if (--b->pend[k].open == 0 && (k + 1) * PEND_CHUNK <= v->row_count) {
        res_pages_free(b->pend[k].rows, PEND_CHUNK * sizeof *b->pend[k].rows);
        b->pend[k].rows = NULL;
    }
}

/* Row i is final: spilled, or kept while the final rows fit spill_after
** (past it, they are all spilled, in row order, and so is every later
** one). */
static void row_final(view_builder *b, size_t i) {
    if (b->spilling) {
        row_spill(b, i);
        return;
    }
    b->row_state[i] = ROW_FINAL;
    if (++b->nfinal <= b->spill_after / sizeof(res_view_row)) return;
    b->spilling = true;
    for (size_t x = 0; x < b->v->row_count; x++)
        if (b->row_state[x] == ROW_FINAL) row_spill(b, x);
}

static bool row_join_attempts(view_builder *b, res_view_row *r); /* pass 4 */

/* Row i, released by ev: final once time moves past ev's (rows_close). */
static void row_closing(view_builder *b, size_t i, const admit_event *ev) {
    static const uint32_t none = 0;
    if (!grow_to((void **)&b->closing, &b->closing_cap, b->nclosing, sizeof *b->closing, &none)) {
        b->oom = true;
        return;
    }
    if (!b->nclosing || ev->captured_at_ns > b->closing_at) b->closing_at = ev->captured_at_ns;
    b->closing[b->nclosing++] = (uint32_t)i;
    b->row_state[i] = ROW_CLOSING;
}

/* The closing rows final, each with its execution's attempts (none for a
** row whose execution id a later worker_spawned took over: its attempts
** are the later row's, as res_correlated_view_build joins them). */
static void rows_close(view_builder *b) {
    for (size_t k = 0; k < b->nclosing; k++) {
        size_t i = b->closing[k];
        res_view_row *r = &b->pend[i / PEND_CHUNK].rows[i % PEND_CHUNK];
        if (b->exec_row[r->task_execution_id] == i && !row_join_attempts(b, r)) b->oom = true;
        row_final(b, i);
    }
    b->nclosing = 0;
}

/* The dense task slots: per column, its rows (cell by cell) or its row
** groups, as the tracker makes them. */
static bool view_index_tasks(view_builder *b) {
    const res_view_facts *f = b->f;
    b->col_base = malloc((b->ncol + 1) * sizeof *b->col_base);
    b->col_type = malloc(b->ncol ? b->ncol : 1);
    if (!b->col_base || !b->col_type) return false;
    /* the layout task_find decodes, checked once */
    b->dense = admit_task_id(2, ADMIT_TASK_BATCH, 5, -1) == ((3ULL << 44) | (2ULL << 40) | 5) &&
               admit_task_id(0, ADMIT_TASK_CELL, 0, 9) == ((1ULL << 44) | (1ULL << 40) | 9);
    size_t total = 0;
    for (uint32_t c = 0; c < b->ncol; c++) {
        const res_view_column *col = &f->columns[c];
        int64_t rows = col->rows <= 0 || col->rows > f->records ? f->records : col->rows;
        int64_t count = rows <= 0            ? 0
                        : col->cell_by_cell  ? rows
                        : f->buffer_size > 0 ? (rows + f->buffer_size - 1) / f->buffer_size
                                             : 0;
        b->col_type[c] = (uint8_t)(col->root           ? ADMIT_TASK_FROM_SCRATCH
                                   : col->cell_by_cell ? ADMIT_TASK_CELL
                                                       : ADMIT_TASK_BATCH);
        b->col_base[c] = total;
        if (b->dense) total += (size_t)count;
    }
    b->col_base[b->ncol] = total;
    if (!slots_room(b, total + 16)) return false;
    for (size_t i = 0; i < total; i++)
        slot_add(b);
    /* most tasks run once: rows and execution ids rarely outgrow this */
    return grow_to((void **)&b->exec_row, &b->exec_cap, total + 16, sizeof *b->exec_row, &no_row) &&
           row_room(b, total + 16);
}

/* Per group, the resources it requests (ascending); per resource, the
** distinct amounts requested (ascending) as buckets of queued groups, and
** the participants requesting it. */
static bool view_index_requests(view_builder *b) {
    uint32_t ng = b->ng, nr = b->nr;
    size_t pairs = 0;
    for (uint32_t g = 0; g < ng; g++)
        for (uint32_t r = 0; r < nr; r++)
            pairs += group_amount(b, g, r) > 0;
    b->res_off = calloc(ng + 1, sizeof *b->res_off);
    b->res_list = malloc((pairs ? pairs : 1) * sizeof *b->res_list);
    b->need_pos = malloc((pairs ? pairs : 1) * sizeof *b->need_pos);
    b->need_off = calloc(nr + 1, sizeof *b->need_off);
    b->need_amount = malloc((pairs ? pairs : 1) * sizeof *b->need_amount);
    b->need_count = calloc(pairs ? pairs : 1, sizeof *b->need_count);
    b->r_parts = calloc(nr ? nr : 1, sizeof *b->r_parts);
    if (!b->res_off || !b->res_list || !b->need_pos || !b->need_off || !b->need_amount ||
        !b->need_count || !b->r_parts)
        return false;
    size_t k = 0, buckets = 0;
    for (uint32_t r = 0; r < nr; r++) { /* distinct amounts of r, ascending */
        b->need_off[r] = (uint32_t)buckets;
        for (uint32_t g = 0; g < ng; g++) {
            uint32_t a = group_amount(b, g, r);
            if (!a) continue;
            size_t at = b->need_off[r];
            while (at < buckets && b->need_amount[at] < a)
                at++;
            if (at < buckets && b->need_amount[at] == a) continue;
            memmove(&b->need_amount[at + 1], &b->need_amount[at],
                    (buckets - at) * sizeof *b->need_amount);
            b->need_amount[at] = a;
            buckets++;
        }
    }
    b->need_off[nr] = (uint32_t)buckets;
    for (uint32_t g = 0; g < ng; g++) {
        b->res_off[g] = (uint32_t)k;
        for (uint32_t r = 0; r < nr; r++) {
            uint32_t a = group_amount(b, g, r);
            if (!a) continue;
            uint32_t at = b->need_off[r];
            while (b->need_amount[at] != a)
                at++;
            b->res_list[k] = r;
            b->need_pos[k++] = at;
        }
    }
    b->res_off[ng] = (uint32_t)k;
    return true;
}

static bool view_alloc_state(view_builder *b) {
    uint32_t ng = b->ng, nr = b->nr;
    size_t cells = (size_t)nr * ng > 0 ? (size_t)nr * ng : 1;
    const res_view_facts *f = b->f;
    b->nrg = f->buffer_size > 0 ? (f->records + f->buffer_size - 1) / f->buffer_size : 0;
    b->qg = calloc(ng + 1, sizeof *b->qg);
    b->lg = calloc(ng + 1, sizeof *b->lg);
    b->queued_bits = calloc(b->nwords, sizeof *b->queued_bits);
    b->leased_bits = calloc(b->nwords, sizeof *b->leased_bits);
    b->root_bits = calloc(b->nwords, sizeof *b->root_bits);
    b->gg = calloc(ng + 1, sizeof *b->gg);
    b->serv = calloc(ng + 1, sizeof *b->serv);
    b->gr = calloc(nr ? nr : 1, sizeof *b->gr);
    b->leased_r = calloc(nr ? nr : 1, sizeof *b->leased_r);
    b->rb = calloc(nr ? nr : 1, sizeof *b->rb);
    b->r_idle = calloc(nr ? nr : 1, sizeof *b->r_idle);
    b->rserv = calloc(cells, sizeof *b->rserv);
    b->rmark = calloc(cells, sizeof *b->rmark);
    b->dirty = malloc((nr ? nr : 1) * sizeof *b->dirty);
    b->is_dirty = calloc(nr ? nr : 1, sizeof *b->is_dirty);
    b->rg_adm = malloc((size_t)(b->nrg > 0 ? b->nrg : 1) * sizeof *b->rg_adm);
    return b->qg && b->lg && b->queued_bits && b->leased_bits && b->root_bits && b->gg && b->serv &&
           b->gr && b->leased_r && b->rb && b->r_idle && b->rserv && b->rmark && b->dirty &&
           b->is_dirty && b->rg_adm;
}

/* Nothing admitted yet (-1), the root groups. */
static void view_init_state(view_builder *b) {
    for (int64_t i = 0; i < b->nrg; i++)
        b->rg_adm[i] = -1;
    for (uint32_t c = 0; c < b->ncol; c++)
        if (b->f->columns[c].root && b->f->columns[c].group < b->ng)
            bits_put(b->root_bits, b->f->columns[c].group, true);
}

static bool view_index(view_builder *b) {
    b->part = calloc(b->ng + 1, sizeof *b->part);
    if (!b->part || !view_alloc_metrics(b)) return false;
    if (!view_index_tasks(b) || !view_index_requests(b) || !view_alloc_state(b)) return false;
    view_init_state(b);
    return true;
}

/* ---- pass 2: the scheduler sweep, its counts -------------------------------- */

static void mark_dirty(view_builder *b, uint32_t r) {
    if (b->is_dirty[r]) return;
    b->is_dirty[r] = true;
    b->dirty[b->ndirty++] = r;
}

/* Whether resource r is in a gap: a queued requester's amount fits in its
** free capacity (lease acquisitions aside). */
static bool resource_gap_open(const view_builder *b, uint32_t r) {
    int64_t need = 0;
    for (uint32_t k = b->need_off[r]; k < b->need_off[r + 1] && !need; k++)
        if (b->need_count[k] > 0) need = b->need_amount[k];
    return need && (int64_t)b->f->resources[r].limit - b->leased_r[r] >= need;
}

/* A group's gap stretch ends now: it began when the group last got queued
** or leased, or when room last began, whichever is later. */
static void group_gap_settle(view_builder *b, uint32_t g) {
    gap *x = &b->gg[g];
    if (x->start < b->room_since) x->start = b->room_since;
    gap_settle(x, b->now);
}

/* Groups with queued or leased work weigh into the root debt's W_active. */
static void group_activity(view_builder *b, uint32_t g, bool was, bool is) {
    if (was != is) b->w_active += is ? b->f->groups[g].weight : -b->f->groups[g].weight;
}

/* Resource r's service to group g, counted up to now at g's lease count. */
static void rserv_settle(view_builder *b, uint32_t r, uint32_t g) {
    const gap *rb = &b->rb[r];
    int64_t rb_now = rb->total + (rb->open ? b->now - rb->start : 0);
    size_t x = (size_t)r * b->ng + g;
    b->rserv[x] += (res_sum_ns)b->lg[g] * (rb_now - b->rmark[x]);
    b->rmark[x] = rb_now;
}

/* Group g's queued tasks change by d. */
static void group_queued_add(view_builder *b, uint32_t g, int64_t d) {
    int64_t before = b->qg[g], after = before + d;
    b->qg[g] = after;
    if ((before > 0) == (after > 0)) return;
    bool q = after > 0;
    bits_put(b->queued_bits, g, q);
    uint32_t idle = b->part[g] && !q, busy = b->part[g] && q;
    b->parts_idle = b->parts_idle + idle - busy;
    for (uint32_t k = b->res_off[g]; k < b->res_off[g + 1]; k++) {
        uint32_t r = b->res_list[k];
        b->need_count[b->need_pos[k]] += q ? 1 : -1;
        b->r_idle[r] = b->r_idle[r] + idle - busy;
        mark_dirty(b, r);
    }
    group_activity(b, g, before > 0 || b->lg[g] > 0, after > 0 || b->lg[g] > 0);
    if (q)
        b->gg[g].start = b->now;
    else if (b->room)
        group_gap_settle(b, g);
}

/* Group g's leases change by d. */
static void group_leases_add(view_builder *b, uint32_t g, int64_t d) {
    int64_t before = b->lg[g], after = before + d;
    for (uint32_t k = b->res_off[g]; k < b->res_off[g + 1]; k++) {
        uint32_t r = b->res_list[k];
        if (b->part[g]) rserv_settle(b, r, g);
        b->leased_r[r] += d * (int64_t)group_amount(b, g, r);
        mark_dirty(b, r);
    }
    b->lg[g] = after;
    if ((before > 0) != (after > 0)) bits_put(b->leased_bits, g, after > 0);
    group_activity(b, g, b->qg[g] > 0 || before > 0, b->qg[g] > 0 || after > 0);
}

/* Total leases change by d: when room ends, every queued group's stretch
** ends with it. */
static void leases_add(view_builder *b, int64_t d) {
    b->leases += d;
    bool room = b->leases < b->cap;
    if (room == b->room) return;
    b->room = room;
    if (room) {
        b->room_since = b->now;
        return;
    }
    if (b->now == b->room_since) return; /* every stretch was empty */
    for (uint32_t g = bits_next(b->queued_bits, b->nwords, 0); g != NO_GROUP;
         g = bits_next(b->queued_bits, b->nwords, g + 1))
        group_gap_settle(b, g);
}

/* After an event: the overall gap, and the gaps and all-backlogged times
** of the resources whose counts changed. */
static void sweep_settle(view_builder *b) {
    gap_set(&b->g_all, b->queued > 0 && b->room, b->now);
    for (uint32_t i = 0; i < b->ndirty; i++) {
        uint32_t r = b->dirty[i];
        b->is_dirty[r] = false;
        gap_set(&b->gr[r], resource_gap_open(b, r), b->now);
        gap_set(&b->rb[r], b->r_parts[r] > 0 && b->r_idle[r] == 0, b->now);
    }
    b->ndirty = 0;
}

/* ---- pass 2: the scheduler sweep, one event --------------------------------- */

/* Time advances by dt > 0 under the counts the previous event left.  The
** sums that are not integers go step by step over the groups holding
** leases, in group order: lease seconds, service while every participant
** is backlogged, and the root over-admission debt once a downstream task
** was ready (root groups' leases above ceil(capacity * w_g / W_active)).
** The rest is kept on the sweep clock. */
static void sweep_advance(view_builder *b, int64_t dt) {
    res_view_metrics *m = b->m;
    const res_view_facts *f = b->f;
    bool all = b->nparts > 0 && b->parts_idle == 0;
    bool debt = b->first_ready >= 0 && b->w_active > 0;
    b->integral += (res_sum_ns)b->leases * dt;
    if (all) b->backlogged += dt;
    for (uint32_t g = bits_next(b->leased_bits, b->nwords, 0); g != NO_GROUP;
         g = bits_next(b->leased_bits, b->nwords, g + 1)) {
        double s = wide_s((res_sum_ns)b->lg[g] * dt);
        m->groups[g].lease_seconds += s;
        if (all) b->serv[g] += s;
        if (!debt || !bits_has(b->root_bits, g)) continue;
        double fair = ceil((double)b->cap * f->groups[g].weight / (double)b->w_active);
        if ((double)b->lg[g] > fair) b->debt += ((double)b->lg[g] - fair) * ns_s(dt);
    }
    b->now += dt;
}

/* Forgets the task's ready..lease times once an execution took them. */
static void task_join_reset(view_builder *b, size_t slot, task_state *st) {
    if (b->dep) b->dep[slot] = -1;
    st->enq = st->sel = st->lease_at = -1;
    st->lease_id = 0;
}

/* Group g's first ready_enqueued: it joins the fairness participants.  Until
** now it had nothing queued, so no time so far was "every participant
** backlogged", for all groups or for the resources g requests: what was
** summed for those starts again from zero (the additions after this are
** the ones a sweep knowing every participant from the start makes). */
static void participant_join(view_builder *b, uint32_t g) {
    uint32_t ng = b->ng;
    b->part[g] = true;
    b->nparts++;
    b->parts_idle += b->qg[g] <= 0;
    b->backlogged = 0;
    for (uint32_t x = 0; x < ng; x++)
        b->serv[x] = 0;
    for (uint32_t k = b->res_off[g]; k < b->res_off[g + 1]; k++) {
        uint32_t r = b->res_list[k];
        b->r_parts[r]++;
        b->r_idle[r] += b->qg[g] <= 0;
        b->rb[r].total = 0;
        b->rb[r].start = b->now;
        memset(&b->rserv[(size_t)r * ng], 0, ng * sizeof *b->rserv);
        memset(&b->rmark[(size_t)r * ng], 0, ng * sizeof *b->rmark);
        mark_dirty(b, r);
    }
}

static void sweep_ready_enqueued(view_builder *b, task_state *st, int32_t g, int64_t t) {
    st->enq = t;
    if (st->queued_epoch == b->epoch) return;
    st->queued_epoch = b->epoch;
    b->queued++;
    if (g >= 0) group_queued_add(b, (uint32_t)g, 1);
}

static void sweep_lease_acquired(view_builder *b, const admit_event *ev, task_state *st, int32_t g,
                                 bool downstream) {
    if (st) {
        st->lease_at = ev->captured_at_ns;
        st->lease_id = ev->lease_id;
    }
    leases_add(b, 1);
    gap_restart(&b->g_all, b->now);
    if (g >= 0) {
        group_leases_add(b, (uint32_t)g, 1);
        if (b->qg[g] > 0 && b->room)
            group_gap_settle(b, (uint32_t)g);
        else
            b->gg[g].start = b->now;
        for (uint32_t k = b->res_off[g]; k < b->res_off[g + 1]; k++)
            gap_restart(&b->gr[b->res_list[k]], b->now);
    }
    if (downstream && b->first_dispatch < 0) b->first_dispatch = ev->captured_at_ns;
}

/* A new row r of ev's execution; the task's ready..lease times when
** joined. */
static void row_start(view_builder *b, res_view_row *r, const admit_event *ev, size_t slot,
                      const task_state *st, int32_t g, bool joined) {
    memset(r, 0, sizeof *r);
    for (int x = 0; x < RES_TS_COUNT; x++)
        r->at[x] = -1;
    r->task_execution_id = ev->corr.task_execution_id;
    r->task_id = ev->task_id;
    r->column = ev->corr.column;
    r->group = g;
    r->row_group = ev->corr.row_group;
    r->worker_attempt = ev->value;
    r->at[RES_TS_WORKER_SPAWNED] = ev->captured_at_ns;
    if (joined) {
        r->at[RES_TS_DEPENDENCY_READY] = b->dep[slot];
        r->at[RES_TS_READY_ENQUEUED] = st->enq;
        r->at[RES_TS_SELECTED] = st->sel;
        r->at[RES_TS_TASK_LEASE_ACQUIRED] = st->lease_at;
    }
}

/* A new row for the execution; the task's latest ready..lease times join it
** when its lease is the one the worker got, else it is a hidden waiter. */
static void sweep_worker_spawned(view_builder *b, const admit_event *ev, size_t slot,
                                 task_state *st, int32_t g) {
    res_correlated_view *v = b->v;
    uint64_t exec = ev->corr.task_execution_id;
    int64_t t = ev->captured_at_ns;
    if (!grow_to((void **)&b->exec_row, &b->exec_cap, exec, sizeof *b->exec_row, &no_row) ||
        !row_room(b, v->row_count)) {
        b->oom = true;
        return;
    }
    bool joined = st->lease_at >= 0 && st->lease_id == ev->lease_id && st->lease_at <= t;
    if (!joined) b->m->hidden_scheduler_resource_waiters++;
    /* spilling: the execution's attempts joined its earlier row, final */
    if (b->spill_rows && b->exec_row[exec] != NO_ROW &&
        b->row_state[b->exec_row[exec]] >= ROW_FINAL && exec < b->head_cap && b->att_head[exec])
        row_late(b, exec, "a second worker_spawned");
    if (v->row_count >= NO_ROW) { /* exec_row's range: far beyond any memory */
        b->oom = true;
        return;
    }
    size_t i = v->row_count++;
    b->exec_row[exec] = (uint32_t)i;
    if (!b->keep_rows)
        b->lean[i] = (lean_row){.enq = joined ? st->enq : -1,
                                .sel = joined ? st->sel : -1,
                                .lease = joined ? st->lease_at : -1,
                                .released = -1,
                                .group = g,
                                .column = ev->corr.column};
    res_view_row *r = b->keep_rows ? &v->rows[i] : b->spill_rows ? pend_new(b, i) : NULL;
    if (r) row_start(b, r, ev, slot, st, g, joined);
    if (b->spill_rows && !r) b->oom = true;
    task_join_reset(b, slot, st);
}

/* Returns whether the queue is to be cleared: cancelled then released with
** no retry in between, the scheduler is stopping and has emptied its queue. */
static bool sweep_lease_released(view_builder *b, const admit_event *ev, int32_t g, long ri,
                                 res_view_row *row) {
    uint64_t exec = ev->corr.task_execution_id;
    if (ev->reason > 0) return false; /* duplicate, stale ...: returned nothing */
    if (b->leases > 0) leases_add(b, -1);
    if (g >= 0 && b->lg[g] > 0) group_leases_add(b, (uint32_t)g, -1);
    if (row) row->at[RES_TS_TASK_LEASE_RELEASED] = ev->captured_at_ns;
    if (ri >= 0 && !b->keep_rows) b->lean[ri].released = ev->captured_at_ns;
    if (row && b->spill_rows && b->row_state[ri] == ROW_OPEN) row_closing(b, (size_t)ri, ev);
    return exec && b->swept_any && b->last_kind == ADMIT_EV_CANCELLED && b->last_exec == exec;
}

/* The queued counts after an event: every task cleared (a new epoch), or
** st dequeued. */
static void sweep_queue_update(view_builder *b, task_state *st, bool dequeue, bool clear) {
    if (clear && b->queued > 0) {
        if (++b->epoch == 0) { /* wrapped: no task may look queued */
            for (size_t k = 0; k < (b->nts + TASK_CHUNK - 1) / TASK_CHUNK; k++)
                for (size_t x = 0; b->chunk[k] && x < TASK_CHUNK; x++)
                    b->chunk[k][x].queued_epoch = 0;
            b->epoch = 1;
        }
        for (uint32_t x = bits_next(b->queued_bits, b->nwords, 0); x != NO_GROUP;
             x = bits_next(b->queued_bits, b->nwords, x + 1))
            group_queued_add(b, x, -b->qg[x]);
        b->queued = 0;
    }
    if (dequeue && st && st->queued_epoch == b->epoch) {
        st->queued_epoch = 0;
        b->queued--;
        if (st->group >= 0 && b->qg[st->group] > 0) group_queued_add(b, (uint32_t)st->group, -1);
    }
}

/* Whether an event of this kind reads or writes its task's join state. */
static bool kind_joins(uint16_t kind) {
    switch (kind) {
    case ADMIT_EV_READY_ENQUEUED:
    case ADMIT_EV_SELECTED:
    case ADMIT_EV_TASK_LEASE_ACQUIRED:
    case ADMIT_EV_WORKER_SPAWNED:
    case ADMIT_EV_WORKER_SPAWN_FAILED:
    case ADMIT_EV_NON_RETRYABLE_DROPPED: return true;
    default: return false;
    }
}

/* Whether a scheduler event of this kind changes its execution's row. */
static bool kind_ends(const admit_event *ev) {
    switch (ev->kind) {
    case ADMIT_EV_TASK_COMPLETED:
    case ADMIT_EV_CANCELLED:
    case ADMIT_EV_RETRY_DEFERRED:
    case ADMIT_EV_NON_RETRYABLE_DROPPED: return true;
    case ADMIT_EV_TASK_LEASE_RELEASED: return ev->reason <= 0;
    default: return false;
    }
}

/* Row ri's full row for ev (NULL: lean rows only, or spilled: then an
** event that would change it fails the build). */
static res_view_row *row_of(view_builder *b, const admit_event *ev, size_t ri) {
    if (b->keep_rows) return &b->v->rows[ri];
    if (!b->spill_rows) return NULL;
    res_view_row *r = pend_row(b, ri);
    if (!r && kind_ends(ev)) row_late(b, ev->corr.task_execution_id, admit_event_name(ev));
    return r;
}

/* Scheduler event ev: the join and the counts.  Only the kinds that join
** touch the task's join state (so a task's later events never bring back
** the chunk its completion freed); its group is the one they carry. */
static void sweep_apply(view_builder *b, const admit_event *ev) {
    int64_t t = ev->captured_at_ns;
    size_t slot = ev->task_id ? task_find(b, ev->task_id, true) : NO_SLOT;
    task_state *st = slot != NO_SLOT && kind_joins(ev->kind) ? task_at(b, slot) : NULL;
    int32_t g = ev->corr.group >= 0 && (uint32_t)ev->corr.group < b->ng ? ev->corr.group : -1;
    if (st && g >= 0) st->group = g;
    uint64_t exec = ev->corr.task_execution_id;
    uint32_t x = exec && exec < b->exec_cap ? b->exec_row[exec] : NO_ROW;
    long ri = x == NO_ROW ? -1 : (long)x;
    res_view_row *row = ri >= 0 ? row_of(b, ev, (size_t)ri) : NULL;
    bool downstream = ev->corr.column >= 0 && (uint32_t)ev->corr.column < b->ncol &&
                      !b->f->columns[ev->corr.column].root;
    bool dequeue = false, clear = false;
    switch (ev->kind) {
    case ADMIT_EV_DEPENDENCY_READY:
        if (slot != NO_SLOT && b->dep) b->dep[slot] = t;
        if (downstream && b->first_ready < 0) b->first_ready = t;
        break;
    case ADMIT_EV_READY_ENQUEUED:
        if (g >= 0 && !b->part[g]) participant_join(b, (uint32_t)g);
        if (st) sweep_ready_enqueued(b, st, g, t);
        break;
    case ADMIT_EV_SELECTED:
        if (st) st->sel = t;
        break;
    case ADMIT_EV_TASK_LEASE_ACQUIRED: sweep_lease_acquired(b, ev, st, g, downstream); break;
    case ADMIT_EV_WORKER_SPAWNED:
        dequeue = true;
        if (st && exec) sweep_worker_spawned(b, ev, slot, st, g);
        break;
    case ADMIT_EV_WORKER_SPAWN_FAILED:
        b->m->spawn_failures++;
        dequeue = true;
        if (st) task_join_reset(b, slot, st);
        break;
    case ADMIT_EV_TASK_COMPLETED:
        if (slot != NO_SLOT) task_end(b, slot, t);
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
    case ADMIT_EV_TASK_LEASE_RELEASED: clear = sweep_lease_released(b, ev, g, ri, row); break;
    case ADMIT_EV_QUEUE_EMPTY:
    case ADMIT_EV_QUEUE_DRAINED:
    case ADMIT_EV_SCHEDULER_JOB_COMPLETED: clear = true; break;
    case ADMIT_EV_ROW_GROUP_ADMITTED:
        if (ev->corr.row_group >= 0 && ev->corr.row_group < b->nrg &&
            b->rg_adm[ev->corr.row_group] < 0)
            b->rg_adm[ev->corr.row_group] = t;
        break;
    default: break;
    }
    sweep_queue_update(b, st, dequeue, clear);
    if (ev->kind == ADMIT_EV_NON_RETRYABLE_DROPPED && slot != NO_SLOT) task_end(b, slot, -1);
}

/* ---- pass 3: the sweep's end ------------------------------------------------ */

/* Per group: the last gap, and the fairness index over the participants. */
static void sweep_finish_groups(view_builder *b) {
    res_view_metrics *m = b->m;
    jain j = {0, 0, 0};
    for (uint32_t g = bits_next(b->queued_bits, b->nwords, 0); g != NO_GROUP && b->room;
         g = bits_next(b->queued_bits, b->nwords, g + 1))
        group_gap_settle(b, g);
    for (uint32_t x = 0; x < b->ng; x++) {
        m->groups[x].ready_idle_gap_max = ns_s(b->gg[x].max);
        m->groups[x].ready_idle_gap_total = ns_s(b->gg[x].total);
        if (!b->part[x]) continue;
        double xs = b->serv[x] / group_weight(b, x);
        m->groups[x].backlogged_service = xs;
        jain_add(&j, xs);
    }
    m->jain_fairness_index = jain_index(&j, b->backlogged);
}

/* Per resource: the last gap, and the fairness index over the participants
** requesting it. */
static void sweep_finish_resources(view_builder *b) {
    res_view_metrics *m = b->m;
    uint32_t ng = b->ng;
    for (uint32_t g = 0; g < ng; g++)
        for (uint32_t k = b->res_off[g]; k < b->res_off[g + 1] && b->part[g]; k++)
            rserv_settle(b, b->res_list[k], g);
    for (uint32_t r = 0; r < b->nr; r++) {
        res_resource_metrics *rm = &m->resources[r];
        jain j = {0, 0, 0};
        gap_set(&b->gr[r], false, b->now);
        gap_set(&b->rb[r], false, b->now);
        rm->ready_idle_gap_max = ns_s(b->gr[r].max);
        rm->ready_idle_gap_total = ns_s(b->gr[r].total);
        rm->all_backlogged_seconds = ns_s(b->rb[r].total);
        for (uint32_t x = 0; x < ng; x++) {
            double *xs = &m->resource_service[(size_t)r * ng + x];
            *xs = -1;
            if (!group_amount(b, x, r) || !b->part[x]) continue;
            *xs = wide_s(b->rserv[(size_t)r * ng + x]) / group_weight(b, x);
            jain_add(&j, *xs);
        }
        rm->fairness_group_count = j.n;
        rm->jain_fairness_index = jain_index(&j, b->rb[r].total);
    }
}

static void sweep_finish(view_builder *b) {
    res_view_metrics *m = b->m;
    int64_t cap = b->cap;
    res_sum_ns integral = b->integral;
    gap_set(&b->g_all, false, b->now);
    int64_t wall = b->f->wall_ns > 0 ? b->f->wall_ns : b->prev;
    m->wall_seconds = ns_s(wall);
    m->ready_idle_gap_max = ns_s(b->g_all.max);
    m->ready_idle_gap_total = ns_s(b->g_all.total);
    m->active_capacity_integral = (double)integral / (double)cap / 1e9;
    m->active_capacity_fraction = wall > 0 ? (double)integral / (double)cap / (double)wall : NAN;
    m->first_downstream_ready = b->first_ready >= 0 ? ns_s(b->first_ready) : -1;
    m->first_downstream_dispatch = b->first_dispatch >= 0 ? ns_s(b->first_dispatch) : -1;
    m->root_over_admission_debt = b->debt;
    m->all_backlogged_seconds = ns_s(b->backlogged);
    sweep_finish_groups(b);
    sweep_finish_resources(b);
}

/* Pass 2's start: nothing leased or queued, capacity at least 1. */
static void sweep_begin(view_builder *b) {
    b->cap = b->f->submission_capacity ? b->f->submission_capacity : 1;
    b->first_ready = b->first_dispatch = -1;
    b->epoch = 1;
    b->room = true; /* no leases yet, capacity at least 1 */
}

/* One step of pass 2: time advances to the event, then the event. */
static void sweep_step(view_builder *b, const admit_event *ev) {
    int64_t t = ev->captured_at_ns;
    if (!b->swept_any) b->prev = t;
    if (t - b->prev > 0) sweep_advance(b, t - b->prev);
    b->prev = t;
    sweep_apply(b, ev);
    sweep_settle(b);
    b->swept_any = true;
    b->last_kind = ev->kind;
    b->last_exec = ev->corr.task_execution_id;
}

/* ---- pass 4: the request stream --------------------------------------------- */

static void attempt_apply(attempt_state *a, const admit_event *ev) {
    int64_t t = ev->captured_at_ns;
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

/* Spilling: an event naming an execution whose row is final comes too
** late. */
static void row_requested(view_builder *b, const admit_event *ev) {
    uint64_t exec = ev->corr.task_execution_id;
    uint32_t x = exec < b->exec_cap ? b->exec_row[exec] : NO_ROW;
    if (x != NO_ROW && b->row_state[x] >= ROW_FINAL) row_late(b, exec, admit_event_name(ev));
}

/* Spilling: attempt id into the list of execution exec, in id order, out
** of was's (0: none; an attempt is in its execution's list, moved when
** the execution it names changes).  false: out of memory. */
static bool attempt_link(view_builder *b, uint64_t id, uint64_t was, uint64_t exec) {
    static const uint64_t none = 0;
    if (!grow_to((void **)&b->att_next, &b->next_cap, id, sizeof *b->att_next, &none) ||
        !grow_to((void **)&b->att_head, &b->head_cap, exec, sizeof *b->att_head, &none))
        return false;
    uint64_t *p;
    if (was) {
        for (p = &b->att_head[was]; *p != id; p = &b->att_next[*p]) {
        }
        *p = b->att_next[id];
    }
    for (p = &b->att_head[exec]; *p && *p < id; p = &b->att_next[*p]) {
    }
    b->att_next[id] = *p;
    *p = id;
    return true;
}

/* Spilling: a cooldown window opening at t of a resource whose waits up
** to a later end are already in final rows could overlap one of them. */
static void cooldown_check(view_builder *b, const admit_event *ev) {
    int32_t res = ev->resource;
    if (res >= 0 && (size_t)res < b->cool_joined_cap && ev->captured_at_ns < b->cool_joined[res])
        view_fail(b, RES_ERUN,
                  "request_rate_limited at %lld ns came after a request wait of its resource "
                  "ending at %lld ns was final: the events of both streams must come in one time "
                  "order",
                  (long long)ev->captured_at_ns, (long long)b->cool_joined[res]);
}

/* One request event of pass 4: its attempt's times, and its resource's
** cooldown windows. */
static bool request_step(view_builder *b, const admit_event *ev) {
    static const attempt_state fresh = {
        .resource = -1, .ws = -1, .wend = -1, .la = -1, .ms = -1, .mc = -1, .lr = -1};
    static const windows none;
    int64_t t = ev->captured_at_ns;
    if (ev->kind == ADMIT_REV_REQUEST_RATE_LIMITED && ev->resource >= 0) {
        int64_t len = ev->value > 0 ? ev->value : b->f->cooldown_ns;
        if (b->spill_rows && len > 0) cooldown_check(b, ev);
        if (len > 0 && (!grow_to((void **)&b->cool, &b->cool_cap, (uint64_t)ev->resource,
                                 sizeof *b->cool, &none) ||
                        !win_add(&b->cool[ev->resource], t, t + len)))
            return false;
    }
    if (!ev->attempt_id) return true;
    if (!grow_to((void **)&b->att, &b->att_cap, ev->attempt_id, sizeof *b->att, &fresh))
        return false;
    if (ev->attempt_id > b->max_att) b->max_att = ev->attempt_id;
    attempt_state *a = &b->att[ev->attempt_id];
    if (!b->spill_rows) {
        attempt_apply(a, ev);
        return true;
    }
    if (ev->corr.task_execution_id) row_requested(b, ev);
    if (a->joined) row_late(b, a->exec, admit_event_name(ev));
    uint64_t was = a->exec;
    attempt_apply(a, ev);
    return a->exec == was || attempt_link(b, ev->attempt_id, was, a->exec);
}

/* An attempt's request wait (with its cooldown part) and provider time. */
static void attempt_sums(const view_builder *b, const attempt_state *a, int64_t *wait,
                         int64_t *cool, int64_t *provider) {
    *wait = *cool = *provider = 0;
    if (a->ws >= 0 && a->wend >= a->ws) {
        *wait = a->wend - a->ws;
        if (a->resource >= 0 && (size_t)a->resource < b->cool_cap)
            *cool = win_overlap(&b->cool[a->resource], a->ws, a->wend);
    }
    if (a->ms >= 0 && a->mc >= a->ms) *provider = a->mc - a->ms;
}

/* The next attempt, by id, into its execution's row r. */
static void row_add_attempt(const view_builder *b, res_view_row *r, const attempt_state *a) {
    int64_t wait, cool, provider;
    attempt_sums(b, a, &wait, &cool, &provider);
    if (r->attempts++ == 0) {
        r->at[RES_TS_REQUEST_WAIT_STARTED] = a->ws;
        r->at[RES_TS_REQUEST_WAIT_COMPLETED] = a->waited_ok ? a->wend : -1;
        r->at[RES_TS_REQUEST_LEASE_ACQUIRED] = a->la;
        r->at[RES_TS_MODEL_REQUEST_STARTED] = a->ms;
    }
    r->at[RES_TS_MODEL_REQUEST_COMPLETED] = a->mc;
    r->at[RES_TS_REQUEST_LEASE_RELEASED] = a->lr;
    if (a->rate_limited) r->rate_limited_attempts++;
    r->request_wait_ns += wait;
    r->cooldown_wait_ns += cool;
    r->provider_ns += provider;
}

/* Spilling, at its task lease's release: the execution's attempts into its
** row r, which is then final (any later event of them comes too late). */
static bool row_join_attempts(view_builder *b, res_view_row *r) {
    static const int64_t never = INT64_MIN;
    uint64_t exec = r->task_execution_id;
    for (uint64_t id = exec < b->head_cap ? b->att_head[exec] : 0; id; id = b->att_next[id]) {
        attempt_state *a = &b->att[id];
        row_add_attempt(b, r, a);
        a->joined = true;
        if (a->resource < 0 || a->wend < 0) continue;
        if (!grow_to((void **)&b->cool_joined, &b->cool_joined_cap, (uint64_t)a->resource,
                     sizeof *b->cool_joined, &never))
            return false;
        if (a->wend > b->cool_joined[a->resource]) b->cool_joined[a->resource] = a->wend;
    }
    return true;
}

/* Every attempt into its execution's row, in attempt id order (the first
** attempt first); spilling, those not joined at their release.  false:
** out of memory. */
static bool requests_join(view_builder *b) {
    if (!b->keep_rows && b->max_att) {
        b->lean_req = calloc(b->v->row_count ? b->v->row_count : 1, sizeof *b->lean_req);
        if (!b->lean_req) return false;
    }
    for (uint64_t id = 1; id <= b->max_att; id++) {
        attempt_state *a = &b->att[id];
        if (!a->exec || a->exec >= b->exec_cap || b->exec_row[a->exec] == NO_ROW) continue;
        size_t ri = b->exec_row[a->exec];
        if (!b->keep_rows) {
            int64_t wait, cool, provider;
            attempt_sums(b, a, &wait, &cool, &provider);
            lean_req *l = &b->lean_req[ri];
            l->request_wait_ns += wait;
            l->cooldown_wait_ns += cool;
            l->provider_ns += provider;
        }
        if (b->spill_rows && a->joined) continue;
        res_view_row *r = b->keep_rows ? &b->v->rows[ri] : b->spill_rows ? pend_row(b, ri) : NULL;
        if (b->spill_rows && !r) row_late(b, a->exec, "a request attempt");
        if (!r) continue;
        row_add_attempt(b, r, a);
        a->joined = b->spill_rows;
    }
    return true;
}

/* ---- pass 5: per-row waits and limiting layers ------------------------------ */

/* Wait kind 0 (ready queue), 1 (task admission) or 2 (ready to lease) of
** group grp, or overall for grp < 0. */
static res_wait_stats *wait_slot(res_view_metrics *m, int kind, int32_t grp) {
    if (grp < 0)
        return kind == 0   ? &m->ready_queue_wait
               : kind == 1 ? &m->task_admission_wait
                           : &m->ready_to_lease_gap;
    res_group_metrics *gm = &m->groups[grp];
    return kind == 0   ? &gm->ready_queue_wait
           : kind == 1 ? &gm->task_admission_wait
                       : &gm->ready_to_lease_gap;
}

/* Wait kind 0 (ready queue), 1 (task admission) or 2 (ready to lease) of a
** row; false when an endpoint is absent. */
static bool row_wait(const row_lean *r, int kind, int64_t *w) {
    int64_t from = kind == 1 ? r->sel : r->enq, to = kind == 0 ? r->sel : r->lease;
    if (from < 0 || to < 0) return false;
    *w = to - from;
    return true;
}

/* Wait kind k's statistics, overall and per group: every row's wait in all
** (row order), then the same placed by group in by (group g's at by[off[g]
** .. off[g + 1]); percentiles by selection. */
static void rows_wait_kind(view_builder *b, int k, int64_t *all, int64_t *by, size_t *off,
                           size_t *pos) {
    size_t n = 0;
    int64_t w;
    memset(off, 0, (b->ng + 1) * sizeof *off);
    for (size_t i = 0; i < b->v->row_count; i++) {
        row_lean r = row_lean_of(b, i);
        if (!row_wait(&r, k, &w)) continue;
        all[n++] = w;
        if (r.group >= 0) off[r.group + 1]++;
    }
    for (uint32_t g = 0; g < b->ng; g++) {
        off[g + 1] += off[g];
        pos[g] = off[g];
    }
    for (size_t i = 0; i < b->v->row_count; i++) {
        row_lean r = row_lean_of(b, i);
        if (r.group >= 0 && row_wait(&r, k, &w)) by[pos[r.group]++] = w;
    }
    wait_stats(all, n, wait_slot(b->m, k, -1));
    for (uint32_t g = 0; g < b->ng; g++)
        wait_stats(by + off[g], off[g + 1] - off[g], wait_slot(b->m, k, (int32_t)g));
}

/* The p95 of ready-to-lease gaps (to >= from) of non-root columns'
** executions, into gaps (a row's worth of scratch). */
static void rows_downstream_gap(view_builder *b, int64_t *gaps) {
    const res_view_facts *f = b->f;
    size_t n = 0;
    b->m->downstream_ready_to_lease_p95 = -1;
    for (size_t i = 0; i < b->v->row_count; i++) {
        row_lean r = row_lean_of(b, i);
        if (r.column < 0 || (uint32_t)r.column >= f->column_count || f->columns[r.column].root)
            continue;
        if (r.enq >= 0 && r.lease >= r.enq) gaps[n++] = r.lease - r.enq;
    }
    if (!n) return;
    size_t k = res_quantile_index(n, 0.95);
    int64_t p95;
    res_select_i64(gaps, n, &k, 1, &p95); /* the element a sort puts there */
    b->m->downstream_ready_to_lease_p95 = ns_s(p95);
}

/* Wait statistics per kind, overall and per group, and the downstream
** gap, one at a time in two rows' worth of scratch. */
static bool rows_waits(view_builder *b) {
    size_t rows = b->v->row_count ? b->v->row_count : 1, ng = b->ng + 1;
    int64_t *buf = res_large_alloc(2 * rows * sizeof *buf);
    size_t *idx = calloc(2 * ng, sizeof *idx);
    if (!buf || !idx) {
        free(buf);
        free(idx);
        return false;
    }
    for (int k = 0; k < 3; k++)
        rows_wait_kind(b, k, buf, buf + rows, idx, idx + ng);
    rows_downstream_gap(b, buf);
    free(buf);
    free(idx);
    return true;
}

static void rows_layers(view_builder *b) {
    res_view_metrics *m = b->m;
    m->executions = b->v->row_count;
    for (size_t i = 0; i < b->v->row_count; i++) {
        row_lean r = row_lean_of(b, i);
        add_layers(&m->layers, &r);
        if (r.group >= 0) {
            add_layers(&m->groups[r.group].layers, &r);
            m->groups[r.group].executions++;
        }
    }
}

/* ---- pass 6: records -------------------------------------------------------- */

/* Whether record `row` is done (every column covering it completed its
** task); *at = the latest completion (-1 if no column covers it). */
static bool record_done_at(view_builder *b, int64_t row, int64_t *at) {
    int64_t rg = row / b->f->buffer_size;
    *at = -1;
    for (uint32_t c = 0; c < b->ncol; c++) {
        const res_view_column *col = &b->f->columns[c];
        if (col->rows > 0 && row >= col->rows) continue;
        int64_t done = record_task_done(b, c, row, rg);
        if (done < 0) return false;
        if (done > *at) *at = done;
    }
    return true;
}

static bool records_compute(view_builder *b) {
    res_view_metrics *m = b->m;
    const res_view_facts *f = b->f;
    m->records = f->records > 0 ? (uint64_t)f->records : 0;
    m->time_to_first_record = m->time_to_50pct_records = m->row_completion_p95 = -1;
    int64_t *done = malloc((m->records ? m->records : 1) * sizeof *done);
    int64_t *lat = malloc((m->records ? m->records : 1) * sizeof *lat);
    bool ok = done && lat;
    size_t ndone = 0, nlat = 0;
    int64_t first = -1;
    for (int64_t row = 0; ok && row < f->records && f->buffer_size > 0; row++) {
        int64_t rg = row / f->buffer_size, at;
        if (!record_done_at(b, row, &at)) continue;
        done[ndone++] = at;
        if (first < 0 || at < first) first = at;
        if (rg < b->nrg && b->rg_adm[rg] >= 0) lat[nlat++] = at - b->rg_adm[rg];
    }
    if (ok) {
        m->records_done = ndone;
        if (ndone) m->time_to_first_record = ns_s(first);
        size_t half = (size_t)((m->records + 1) / 2);
        int64_t x;
        if (half && ndone >= half) {
            size_t k = half - 1;
            res_select_i64(done, ndone, &k, 1, &x);
            m->time_to_50pct_records = ns_s(x);
        }
        if (nlat) {
            size_t k = res_quantile_index(nlat, 0.95);
            res_select_i64(lat, nlat, &k, 1, &x);
            m->row_completion_p95 = ns_s(x);
        }
    }
    free(done);
    free(lat);
    return ok;
}

/* ---- the passes in order ---------------------------------------------------- */

struct res_view_builder {
    view_builder b;
};

res_view_builder *res_view_builder_create(const res_view_facts *facts, res_view_rows rows) {
    res_view_builder *vb = calloc(1, sizeof *vb);
    if (!vb) return NULL;
    vb->b = (view_builder){.f = facts,
                           .keep_rows = rows == RES_VIEW_ROWS_KEEP,
                           .spill_rows = rows == RES_VIEW_ROWS_SPILL,
                           .spill_after = rows == RES_VIEW_ROWS_SPILL ? res_spill_after() : 0,
                           .ng = facts->group_count,
                           .ncol = facts->column_count,
                           .nr = facts->resource_count,
                           .nwords = facts->group_count / 64 + 1,
                           .amt = facts->group_amounts};
    view_builder *b = &vb->b;
    b->v = calloc(1, sizeof *b->v);
    if (b->v) b->m = &b->v->m;
    if (!b->v || !view_index(b)) {
        res_view_builder_free(vb);
        return NULL;
    }
    sweep_begin(b);
    return vb;
}

bool res_view_builder_scheduler_event(res_view_builder *vb, const admit_event *ev) {
    view_builder *b = &vb->b;
    if (b->nclosing && ev->captured_at_ns > b->closing_at) rows_close(b);
    if (!b->oom) sweep_step(b, ev);
    return !b->oom;
}

bool res_view_builder_request_event(res_view_builder *vb, const admit_event *ev) {
    view_builder *b = &vb->b;
    if (b->nclosing && ev->captured_at_ns > b->closing_at) rows_close(b);
    if (!b->oom && !request_step(b, ev)) b->oom = true;
    return !b->oom;
}

void res_view_builder_free(res_view_builder *vb) {
    if (!vb) return;
    res_correlated_view_free(vb->b.v);
    view_builder_free(&vb->b);
    free(vb);
}

/* The rows of a spill_rows builder at the end: once spilling, the rows
** not spilled yet (those still open: never released), in row order; else
** every row into the view's rows, as a builder keeping them gives (and no
** file). */
static bool rows_spill_rest(view_builder *b) {
    res_correlated_view *v = b->v;
    if (b->spilling) {
        for (size_t i = 0; i < v->row_count && !b->fail[0]; i++)
            if (b->row_state[i] != ROW_SPILLED) row_spill(b, i);
        return true;
    }
    if (!v->row_count) return true;
    if (!(v->rows = malloc(v->row_count * sizeof *v->rows))) return false;
    for (size_t k = 0; k * PEND_CHUNK < v->row_count; k++) {
        size_t n =
            v->row_count - k * PEND_CHUNK < PEND_CHUNK ? v->row_count - k * PEND_CHUNK : PEND_CHUNK;
        memcpy(v->rows + k * PEND_CHUNK, b->pend[k].rows, n * sizeof *v->rows);
        res_pages_free(b->pend[k].rows, PEND_CHUNK * sizeof *b->pend[k].rows);
        b->pend[k].rows = NULL;
    }
    return true;
}

/* Passes 3 and on, once every event is in. */
res_correlated_view *res_view_builder_finish(res_view_builder *vb, res_error *err) {
    view_builder *b = &vb->b;
    if (b->nclosing) rows_close(b);
    bool ok = !b->oom;
    if (ok) {
        sweep_finish(b);
        ok = requests_join(b) && rows_waits(b);
    }
    if (ok) {
        rows_layers(b);
        ok = records_compute(b);
    }
    if (ok && b->spill_rows) ok = rows_spill_rest(b);
    if (b->fail[0]) /* the first failure, whatever came of it */
        ok = res_error_set(err, b->fail_code, "%s", b->fail);
    else if (!ok)
        res_error_set(err, RES_ENOMEM, "out of memory building the correlated view");
    res_correlated_view *v = ok ? b->v : NULL;
    if (ok) b->v = NULL;
    res_view_builder_free(vb);
    return v;
}

res_correlated_view *res_correlated_view_build(const admit_event *sched, size_t nsched,
                                               const admit_event *req, size_t nreq,
                                               const res_view_facts *facts) {
    res_view_builder *vb = res_view_builder_create(facts, RES_VIEW_ROWS_KEEP);
    bool ok = vb != NULL;
    for (size_t i = 0; ok && i < nsched; i++)
        ok = res_view_builder_scheduler_event(vb, &sched[i]);
    for (size_t i = 0; ok && i < nreq; i++)
        ok = res_view_builder_request_event(vb, &req[i]);
    if (!ok) {
        res_view_builder_free(vb);
        return NULL;
    }
    return res_view_builder_finish(vb, NULL);
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

/* The fractions are of the layers' total: null when there is no time at
** all (a group that never ran), as 0/0 is no fraction. */
static json_t *layers_json(const res_layers *l) {
    double total =
        l->ready_queue + l->task_admission + l->request_admission + l->provider + l->local_other;
    double d = total > 0 ? total : NAN;
    return json_pack("{s:{s:f, s:f, s:f, s:f, s:f, s:f}, s:{s:o, s:o, s:o, s:o, s:o, s:o}}",
                     "seconds", "ready_queue", l->ready_queue, "task_admission", l->task_admission,
                     "request_admission", l->request_admission, "cooldown", l->cooldown,
                     "provider_execution", l->provider, "local_other", l->local_other, "fractions",
                     "ready_queue", res_json_real_or_null(l->ready_queue / d), "task_admission",
                     res_json_real_or_null(l->task_admission / d), "request_admission",
                     res_json_real_or_null(l->request_admission / d), "cooldown",
                     res_json_real_or_null(l->cooldown / d), "provider_execution",
                     res_json_real_or_null(l->provider / d), "local_other",
                     res_json_real_or_null(l->local_other / d));
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
        "s:o}, s:{s:o, s:f, s:o}, s:o, s:o, s:f}",
        "executions", (json_int_t)m->executions, "spawn_failures", (json_int_t)m->spawn_failures,
        "hidden_scheduler_resource_waiters", (json_int_t)m->hidden_scheduler_resource_waiters,
        "ready_queue_wait", "overall", wait_json(&m->ready_queue_wait), "groups", w[0],
        "task_admission_wait", "overall", wait_json(&m->task_admission_wait), "groups", w[1],
        "ready_to_lease_gap", "overall", wait_json(&m->ready_to_lease_gap), "groups", w[2],
        "ready_idle_gap", "max_seconds", m->ready_idle_gap_max, "total_seconds",
        m->ready_idle_gap_total, "groups", idle, "active_capacity_integral", "seconds",
        m->active_capacity_integral, "fraction_of_wall",
        res_json_real_or_null(m->active_capacity_fraction), "fairness", "jain_index",
        opt_s(m->jain_fairness_index), "all_backlogged_seconds", m->all_backlogged_seconds,
        "groups", service, "first_downstream_ready_seconds", opt_s(m->first_downstream_ready),
        "first_downstream_dispatch_seconds", opt_s(m->first_downstream_dispatch),
        "root_over_admission_debt_lease_seconds", m->root_over_admission_debt);
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

/* The view of the events a run kept (res_correlated_view_build over its logs). */
static res_correlated_view *view_of_record(const res_run_record *run, const res_view_facts *f) {
    res_view_builder *vb = res_view_builder_create(f, RES_VIEW_ROWS_KEEP);
    bool ok = vb != NULL;
    for (size_t i = 0; ok && i < res_event_log_count(run->events); i++) {
        admit_event ev = res_event_log_at(run->events, i);
        ok = res_view_builder_scheduler_event(vb, &ev);
    }
    for (size_t i = 0; ok && i < res_event_log_count(run->request_events); i++) {
        admit_event ev = res_event_log_at(run->request_events, i);
        ok = res_view_builder_request_event(vb, &ev);
    }
    if (!ok) {
        res_view_builder_free(vb);
        return NULL;
    }
    return res_view_builder_finish(vb, NULL);
}

json_t *res_correlated_json(const res_run_record *run) {
    if (!res_event_log_count(run->events)) return json_null();
    res_view_facts *f = res_view_facts_from_run(run);
    if (!f) return json_null();
    res_correlated_view *v = view_of_record(run, f);
    json_t *j = v ? res_correlated_view_json(v, f) : json_null();
    res_correlated_view_free(v);
    res_view_facts_free(f);
    return j;
}
