#include "admit/tracker.h"

#include <stdlib.h>
#include <string.h>

#include "admit/heap.h"

typedef struct column_info {
    admit_column_strategy strategy;
    int64_t rows;       /* effective rows */
    int64_t row_groups; /* row groups this column has tasks in */
    size_t base;        /* first task index */
    size_t count;
    bool root;
    int64_t available_at_ns;
    uint32_t *dependents;
    uint32_t dependent_count;
    const uint32_t *deps;
    uint32_t dep_count;
} column_info;

typedef struct index_list {
    size_t *items;
    size_t count, cap;
} index_list;

struct admit_tracker {
    column_info *cols;
    uint32_t col_count;
    int64_t records, buffer_size, row_groups;
    admit_task *tasks;
    uint8_t *state;
    uint32_t *waiting;
    size_t task_count;
    uint64_t *rg_remaining;
    uint8_t *row_dropped;
    uint64_t rows_dropped;

    index_list newly_ready; /* dependency-ready since the last frontier pull */
    admit_task **frontier;
    size_t frontier_count, frontier_cap;
    admit_heap timed; /* key ready time, tiebreak timed_seq, ref task index */
    uint64_t timed_seq;
    admit_error error; /* the first task lost to a failed allocation; ADMIT_OK: none */
};

/* A task that could not be recorded as ready is lost to the job: the first
** such loss is kept for admit_tracker_error(). */
static void lost(admit_tracker *t, size_t idx) {
    if (t->error.code != ADMIT_OK) return;
    const admit_task *task = &t->tasks[idx];
    admit_error_set(&t->error, ADMIT_ENOMEM,
                    "out of memory recording task %llu (column %u, row group %lld) as ready",
                    (unsigned long long)task->task_id, task->column, (long long)task->row_group);
}

static bool list_push(index_list *l, size_t v) {
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        size_t *items = realloc(l->items, cap * sizeof *items);
        if (!items) return false;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = v;
    return true;
}

static int64_t col_rows_in_rg(const admit_tracker *t, const column_info *c, int64_t rg) {
    int64_t first = rg * t->buffer_size, last = first + t->buffer_size;
    if (last > c->rows) last = c->rows;
    return last > first ? last - first : 0;
}

/* Task index of column c for row r (cell) or row group rg (batch); SIZE_MAX if none. */
static size_t cell_index(const admit_tracker *t, uint32_t c, int64_t r) {
    const column_info *ci = &t->cols[c];
    (void)t;
    return r < ci->rows ? ci->base + (size_t)r : SIZE_MAX;
}

static size_t batch_index(const admit_tracker *t, uint32_t c, int64_t rg) {
    const column_info *ci = &t->cols[c];
    (void)t;
    return rg < ci->row_groups ? ci->base + (size_t)rg : SIZE_MAX;
}

void admit_tracker_destroy(admit_tracker *t) {
    if (!t) return;
    if (t->cols)
        for (uint32_t c = 0; c < t->col_count; c++)
            free(t->cols[c].dependents);
    free(t->cols);
    free(t->tasks);
    free(t->state);
    free(t->waiting);
    free(t->rg_remaining);
    free(t->row_dropped);
    free(t->newly_ready.items);
    free(t->frontier);
    admit_heap_free(&t->timed);
    free(t);
}

admit_tracker *admit_tracker_create(const admit_column_spec *columns, uint32_t column_count,
                                    int64_t records, int64_t buffer_size, admit_error *err) {
    if (!columns || column_count == 0 || records <= 0) {
        admit_error_set(err, ADMIT_EINVAL, "tracker needs at least one column and one record");
        return NULL;
    }
    if (buffer_size <= 0 || buffer_size > records) buffer_size = records;
    admit_tracker *t = calloc(1, sizeof *t);
    if (!t) goto oom;
    t->records = records;
    t->buffer_size = buffer_size;
    t->row_groups = (records + buffer_size - 1) / buffer_size;
    t->col_count = column_count;
    t->cols = calloc(column_count, sizeof *t->cols);
    if (!t->cols) goto oom;
    size_t total = 0;
    for (uint32_t c = 0; c < column_count; c++) {
        const admit_column_spec *s = &columns[c];
        column_info *ci = &t->cols[c];
        ci->strategy = s->strategy;
        ci->rows = s->rows <= 0 || s->rows > records ? records : s->rows;
        ci->row_groups = (ci->rows + buffer_size - 1) / buffer_size;
        ci->count = s->strategy == ADMIT_CELL_BY_CELL ? (size_t)ci->rows : (size_t)ci->row_groups;
        ci->base = total;
        ci->root = s->dep_count == 0;
        ci->available_at_ns = s->available_at_ns;
        ci->deps = s->deps;
        ci->dep_count = s->dep_count;
        total += ci->count;
        for (uint32_t i = 0; i < s->dep_count; i++) {
            uint32_t d = s->deps[i];
            if (d >= c) {
                admit_tracker_destroy(t);
                admit_error_set(err, ADMIT_EINVAL,
                                "column %u depends on column %u, which is not an earlier column", c,
                                d);
                return NULL;
            }
            if (ci->rows > t->cols[d].rows) {
                admit_error_set(err, ADMIT_EINVAL,
                                "column %u covers %lld rows but its input column %u only %lld", c,
                                (long long)ci->rows, d, (long long)t->cols[d].rows);
                admit_tracker_destroy(t);
                return NULL;
            }
        }
    }
    for (uint32_t c = 0; c < column_count; c++)
        for (uint32_t i = 0; i < columns[c].dep_count; i++) {
            column_info *d = &t->cols[columns[c].deps[i]];
            uint32_t *nd = realloc(d->dependents, (d->dependent_count + 1) * sizeof *nd);
            if (!nd) goto oom;
            d->dependents = nd;
            d->dependents[d->dependent_count++] = c;
        }
    t->task_count = total;
    t->tasks = calloc(total ? total : 1, sizeof *t->tasks);
    t->state = calloc(total ? total : 1, 1);
    t->waiting = calloc(total ? total : 1, sizeof *t->waiting);
    t->rg_remaining = calloc((size_t)t->row_groups, sizeof *t->rg_remaining);
    t->row_dropped = calloc((size_t)records, 1);
    if (!t->tasks || !t->state || !t->waiting || !t->rg_remaining || !t->row_dropped) goto oom;

    for (uint32_t c = 0; c < column_count; c++) {
        const column_info *ci = &t->cols[c];
        for (size_t k = 0; k < ci->count; k++) {
            admit_task *task = &t->tasks[ci->base + k];
            bool cell = ci->strategy == ADMIT_CELL_BY_CELL;
            task->type = ci->root ? ADMIT_TASK_FROM_SCRATCH
                         : cell   ? ADMIT_TASK_CELL
                                  : ADMIT_TASK_BATCH;
            task->column = c;
            task->row = cell ? (int64_t)k : -1;
            task->row_group = cell ? (int64_t)k / buffer_size : (int64_t)k;
            task->task_id = admit_task_id(c, task->type, task->row_group, task->row);
            task->group = columns[c].group;
            task->resources = columns[c].resources;
            t->rg_remaining[task->row_group]++;
            uint32_t waiting = 0;
            for (uint32_t i = 0; i < ci->dep_count; i++) {
                const column_info *d = &t->cols[ci->deps[i]];
                if (cell || d->strategy == ADMIT_FULL_COLUMN)
                    waiting += 1;
                else
                    waiting += (uint32_t)col_rows_in_rg(t, d, task->row_group);
            }
            t->waiting[ci->base + k] = waiting;
        }
    }
    return t;
oom:
    admit_tracker_destroy(t);
    admit_error_set(err, ADMIT_ENOMEM, "out of memory creating completion tracker");
    return NULL;
}

int64_t admit_tracker_row_group_count(const admit_tracker *t) {
    return t->row_groups;
}
size_t admit_tracker_task_count(const admit_tracker *t) {
    return t->task_count;
}
admit_task *admit_tracker_task(admit_tracker *t, size_t index) {
    return index < t->task_count ? &t->tasks[index] : NULL;
}
size_t admit_tracker_task_index(const admit_tracker *t, const admit_task *task) {
    return (size_t)(task - t->tasks);
}
admit_task_state admit_tracker_state(const admit_tracker *t, const admit_task *task) {
    return (admit_task_state)t->state[task - t->tasks];
}
uint64_t admit_tracker_row_group_remaining(const admit_tracker *t, int64_t rg) {
    return rg >= 0 && rg < t->row_groups ? t->rg_remaining[rg] : 0;
}
void admit_tracker_row_group_rows(const admit_tracker *t, int64_t rg, int64_t *first,
                                  int64_t *last) {
    *first = rg * t->buffer_size;
    *last = *first + t->buffer_size > t->records ? t->records : *first + t->buffer_size;
}
uint64_t admit_tracker_rows_dropped(const admit_tracker *t) {
    return t->rows_dropped;
}

static void dependency_ready(admit_tracker *t, size_t idx) {
    t->state[idx] = ADMIT_TASK_READY;
    if (!list_push(&t->newly_ready, idx)) lost(t, idx);
}

void admit_tracker_admit_row_group(admit_tracker *t, int64_t rg, int64_t now_ns) {
    (void)now_ns;
    for (uint32_t c = 0; c < t->col_count; c++) {
        const column_info *ci = &t->cols[c];
        if (!ci->root) continue;
        if (ci->strategy == ADMIT_FULL_COLUMN) {
            size_t idx = batch_index(t, c, rg);
            if (idx != SIZE_MAX && t->state[idx] == ADMIT_TASK_PENDING) dependency_ready(t, idx);
            continue;
        }
        int64_t first = rg * t->buffer_size, last = first + t->buffer_size;
        if (last > ci->rows) last = ci->rows;
        for (int64_t r = first; r < last; r++)
            if (t->state[ci->base + (size_t)r] == ADMIT_TASK_PENDING)
                dependency_ready(t, ci->base + (size_t)r);
    }
}

/* Tasks waiting for their column's ready time leave in (time, arrival) order. */
static bool timed_push(admit_tracker *t, int64_t at, size_t idx) {
    admit_heap_entry e = {.key = at, .tiebreak = t->timed_seq, .ref = idx};
    if (!admit_heap_push(&t->timed, e)) return false;
    t->timed_seq++;
    return true;
}

static bool frontier_push(admit_tracker *t, size_t idx) {
    if (t->frontier_count == t->frontier_cap) {
        size_t cap = t->frontier_cap ? t->frontier_cap * 2 : 256;
        admit_task **n = realloc(t->frontier, cap * sizeof *n);
        if (!n) return false;
        t->frontier = n;
        t->frontier_cap = cap;
    }
    t->frontier[t->frontier_count++] = &t->tasks[idx];
    return true;
}

/* Storage the frontier, the newly ready list and the timed heap keep
** however little they hold. */
#define TRANSIENT_KEEP 4096

/* Releases the storage of a large frontier that the last pull (whose
** frontier the caller is done with now) filled less than a quarter of, and
** of the timed heap once empty: a burst of ready tasks (a row group
** admitted, a column's ready time come) does not hold its memory for the
** rest of the run. */
static void frontier_trim(admit_tracker *t) {
    if (t->frontier_cap > TRANSIENT_KEEP && t->frontier_count < t->frontier_cap / 4) {
        free(t->frontier);
        t->frontier = NULL;
        t->frontier_cap = 0;
    }
    if (admit_heap_count(&t->timed) == 0 && t->timed.cap > TRANSIENT_KEEP)
        admit_heap_free(&t->timed);
}

/* The same for the newly ready list, `used` entries of which were just read. */
static void newly_ready_trim(admit_tracker *t, size_t used) {
    if (t->newly_ready.cap > TRANSIENT_KEEP && used < t->newly_ready.cap / 4) {
        free(t->newly_ready.items);
        t->newly_ready.items = NULL;
        t->newly_ready.cap = 0;
    }
}

size_t admit_tracker_ready_frontier(admit_tracker *t, int64_t now_ns, admit_task *const **out) {
    frontier_trim(t);
    t->frontier_count = 0;
    /* Tasks gated by a ready time first: they became dependency-ready earlier. */
    const admit_heap_entry *top;
    while ((top = admit_heap_top(&t->timed)) && top->key <= now_ns) {
        size_t task = (size_t)top->ref;
        admit_heap_drop(&t->timed);
        if (t->state[task] != ADMIT_TASK_TIMED) continue; /* dropped meanwhile */
        t->state[task] = ADMIT_TASK_READY;
        if (!frontier_push(t, task)) lost(t, task);
    }
    for (size_t i = 0; i < t->newly_ready.count; i++) {
        size_t idx = t->newly_ready.items[i];
        if (t->state[idx] != ADMIT_TASK_READY) continue;
        int64_t at = t->cols[t->tasks[idx].column].available_at_ns;
        if (at > now_ns) {
            t->state[idx] = ADMIT_TASK_TIMED;
            if (!timed_push(t, at, idx)) lost(t, idx);
        } else if (!frontier_push(t, idx)) {
            lost(t, idx);
        }
    }
    newly_ready_trim(t, t->newly_ready.count);
    t->newly_ready.count = 0;
    *out = t->frontier;
    return t->frontier_count;
}

void admit_tracker_mark_enqueued(admit_tracker *t, admit_task *const *tasks, size_t n) {
    for (size_t i = 0; i < n; i++) {
        size_t idx = (size_t)(tasks[i] - t->tasks);
        if (t->state[idx] == ADMIT_TASK_READY) t->state[idx] = ADMIT_TASK_QUEUED;
    }
}

void admit_tracker_mark_running(admit_tracker *t, const admit_task *task) {
    t->state[task - t->tasks] = ADMIT_TASK_RUNNING;
}

static void satisfy(admit_tracker *t, size_t idx) {
    if (idx == SIZE_MAX || t->state[idx] != ADMIT_TASK_PENDING) return;
    if (t->waiting[idx] > 0 && --t->waiting[idx] == 0) dependency_ready(t, idx);
}

/* One input of every dependent of task idx is resolved (done or dropped). */
static void propagate(admit_tracker *t, size_t idx) {
    const admit_task *task = &t->tasks[idx];
    const column_info *ci = &t->cols[task->column];
    for (uint32_t i = 0; i < ci->dependent_count; i++) {
        uint32_t e = ci->dependents[i];
        const column_info *ei = &t->cols[e];
        if (task->row >= 0) {
            satisfy(t, ei->strategy == ADMIT_CELL_BY_CELL ? cell_index(t, e, task->row)
                                                          : batch_index(t, e, task->row_group));
        } else if (ei->strategy == ADMIT_FULL_COLUMN) {
            satisfy(t, batch_index(t, e, task->row_group));
        } else {
            int64_t first, last;
            admit_tracker_row_group_rows(t, task->row_group, &first, &last);
            for (int64_t r = first; r < last; r++)
                satisfy(t, cell_index(t, e, r));
        }
    }
}

static bool finish(admit_tracker *t, size_t idx, admit_task_state final_state, int64_t *rg_done) {
    t->state[idx] = (uint8_t)final_state;
    int64_t rg = t->tasks[idx].row_group;
    propagate(t, idx);
    if (--t->rg_remaining[rg] == 0) {
        *rg_done = rg;
        return true;
    }
    return false;
}

bool admit_tracker_mark_complete(admit_tracker *t, const admit_task *task, int64_t *rg_done) {
    size_t idx = (size_t)(task - t->tasks);
    if (t->state[idx] == ADMIT_TASK_DONE || t->state[idx] == ADMIT_TASK_DROPPED) return false;
    return finish(t, idx, ADMIT_TASK_DONE, rg_done);
}

void admit_tracker_mark_deferred(admit_tracker *t, const admit_task *task) {
    t->state[task - t->tasks] = ADMIT_TASK_DEFERRED;
}

void admit_tracker_redispatch(admit_tracker *t, const admit_task *task) {
    size_t idx = (size_t)(task - t->tasks);
    if (t->state[idx] == ADMIT_TASK_DEFERRED) dependency_ready(t, idx);
}

static bool droppable(uint8_t st) {
    return st != ADMIT_TASK_RUNNING && st != ADMIT_TASK_DONE && st != ADMIT_TASK_DROPPED;
}

size_t admit_tracker_drop_rows(admit_tracker *t, const admit_task *failed,
                               const admit_task **discard, int64_t *rg_done,
                               size_t *rg_done_count) {
    size_t ndiscard = 0;
    *rg_done_count = 0;
    int64_t rg = failed->row_group, first, last;
    bool whole_group = failed->row < 0;
    if (whole_group) {
        admit_tracker_row_group_rows(t, rg, &first, &last);
    } else {
        first = failed->row;
        last = first + 1;
    }
    size_t fidx = (size_t)(failed - t->tasks);
    if (t->state[fidx] != ADMIT_TASK_DONE && t->state[fidx] != ADMIT_TASK_DROPPED &&
        finish(t, fidx, ADMIT_TASK_DROPPED, &rg_done[0]))
        *rg_done_count = 1;
    for (int64_t r = first; r < last; r++) {
        if (!t->row_dropped[r]) {
            t->row_dropped[r] = 1;
            t->rows_dropped++;
        }
    }
    for (uint32_t c = 0; c < t->col_count; c++) {
        const column_info *ci = &t->cols[c];
        size_t lo, hi;
        if (ci->strategy == ADMIT_FULL_COLUMN) {
            if (!whole_group) continue; /* a batch goes on without the dropped row */
            lo = batch_index(t, c, rg);
            hi = lo == SIZE_MAX ? lo : lo + 1;
        } else {
            int64_t l = last < ci->rows ? last : ci->rows;
            if (first >= l) continue;
            lo = ci->base + (size_t)first;
            hi = ci->base + (size_t)l;
        }
        for (size_t idx = lo; idx < hi && idx != SIZE_MAX; idx++) {
            uint8_t st = t->state[idx];
            if (!droppable(st)) continue;
            if (st == ADMIT_TASK_QUEUED) discard[ndiscard++] = &t->tasks[idx];
            if (finish(t, idx, ADMIT_TASK_DROPPED, &rg_done[0])) *rg_done_count = 1;
        }
    }
    return ndiscard;
}

bool admit_tracker_is_output_dropped(const admit_tracker *t, const admit_task *task) {
    if (task->row >= 0) return t->row_dropped[task->row];
    int64_t first, last;
    admit_tracker_row_group_rows(t, task->row_group, &first, &last);
    for (int64_t r = first; r < last; r++)
        if (!t->row_dropped[r]) return false;
    return true;
}

int64_t admit_tracker_next_timed_at(const admit_tracker *t) {
    const admit_heap_entry *top = admit_heap_top(&t->timed);
    return top ? top->key : -1;
}

admit_status admit_tracker_error(const admit_tracker *t, admit_error *err) {
    if (err) *err = t->error;
    return t->error.code;
}
