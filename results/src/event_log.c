/*
** The event log (res/event_log.h): 48-byte records, contexts shared by a
** task's events, events that do not fit kept whole.
**
** Invariants: rec[0..count) are the events in append order; a record
** without FLAG_WHOLE names ctx[record.context] and holds every other field
** of its event; one with FLAG_WHOLE names whole[record.context] (its `at`
** is still the event's capture time, so merging never looks further).  The
** map, when there is one, sends a task id (by chunks of 256 ids) to the latest context appended
** for it (ctx entries are never changed or removed before the log is freed).
*/
#include "res/event_log.h"

#include <stdlib.h>
#include <string.h>

#include "res/id_hash.h"
#include "res/large_alloc.h"

enum { FLAG_REQUEST = 1, FLAG_WHOLE = 2 };

typedef struct record {
    int64_t at;
    uint64_t lease_id;
    int64_t value;
    uint32_t sequence;
    uint32_t context;   /* ctx index, or whole index with FLAG_WHOLE */
    uint32_t execution; /* corr.task_execution_id */
    uint32_t attempt;   /* attempt_id */
    uint16_t kind;
    int16_t reason;
    int16_t resource;
    uint16_t flags;
} record;

_Static_assert(sizeof(record) == 48, "an event record is 48 bytes");

/* What a task's events share: the task id and the correlation, its
** execution id zero. */
typedef struct context {
    uint64_t task_id;
    admit_correlation corr;
} context;

/* The map: task ids by chunks of CHUNK consecutive ids (the tracker's ids
** are consecutive rows of a column, so a chunk is mostly full and the
** tasks a run touches together share chunks and cache lines); a chunk
** holds each id's latest context index, NO_CONTEXT when none. */
enum { CHUNK_BITS = 8, CHUNK = 1 << CHUNK_BITS };
#define NO_CONTEXT UINT32_MAX

typedef struct slot {
    uint64_t key;    /* task_id >> CHUNK_BITS */
    uint32_t *chunk; /* [CHUNK]; NULL: an empty slot */
} slot;

struct res_event_log {
    record *rec;
    size_t count, cap;
    context *ctx;
    size_t ctx_count, ctx_cap;
    admit_event *whole;
    size_t whole_count, whole_cap;
    slot *map; /* NULL once sealed, until the next append */
    size_t map_cap, map_used;
    slot recent; /* the chunk the last lookup found (chunk NULL: none) */
    size_t last; /* the context the last record named, when ctx_count > 0 */
};

res_event_log *res_event_log_create(void) {
    return calloc(1, sizeof(res_event_log));
}

void res_event_log_free(res_event_log *log) {
    if (!log) return;
    free(log->rec);
    free(log->ctx);
    free(log->whole);
    res_event_log_seal(log); /* the map */
    free(log);
}

/* p (holding `used` elements of `size` bytes) moved to room for want
** elements, *cap then want; NULL when out of memory (p untouched). */
static void *resized(void *p, size_t used, size_t *cap, size_t want, size_t size) {
    size_t bytes;
    if (__builtin_mul_overflow(want, size, &bytes)) return NULL;
    void *q = res_large_realloc(p, used * size, bytes);
    if (q) *cap = want;
    return q;
}

/* The next size of an array that is full: double. */
static size_t doubled(size_t cap) {
    return cap ? (cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2) : 1024;
}

static bool records_room(res_event_log *log, size_t want) {
    if (want <= log->cap) return true;
    record *p = resized(log->rec, log->count, &log->cap, want, sizeof *p);
    if (p) log->rec = p;
    return p;
}

static bool contexts_room(res_event_log *log) {
    if (log->ctx_count < log->ctx_cap) return true;
    context *p = resized(log->ctx, log->ctx_count, &log->ctx_cap, doubled(log->ctx_cap), sizeof *p);
    if (p) log->ctx = p;
    return p;
}

static bool whole_room(res_event_log *log) {
    if (log->whole_count < log->whole_cap) return true;
    admit_event *p =
        resized(log->whole, log->whole_count, &log->whole_cap, doubled(log->whole_cap), sizeof *p);
    if (p) log->whole = p;
    return p;
}

bool res_event_log_reserve(res_event_log *log, size_t events) {
    return records_room(log, events);
}

/* ---- the context map ------------------------------------------------------------ */

static slot *map_find(slot *map, size_t cap, uint64_t key) {
    size_t i = res_id_hash(key) & (cap - 1);
    while (map[i].chunk && map[i].key != key)
        i = (i + 1) & (cap - 1);
    return &map[i];
}

/* The map at least twice as big as its chunks after one more. */
static bool map_room(res_event_log *log) {
    if (log->map && (log->map_used + 1) * 2 <= log->map_cap) return true;
    size_t cap = log->map ? log->map_cap * 2 : 64;
    if (cap > SIZE_MAX / sizeof(slot)) return false;
    slot *map = calloc(cap, sizeof *map);
    if (!map) return false;
    for (size_t i = 0; log->map && i < log->map_cap; i++)
        if (log->map[i].chunk) *map_find(map, cap, log->map[i].key) = log->map[i];
    free(log->map);
    log->map = map;
    log->map_cap = cap;
    return true;
}

/* The map's entry for task_id (a new chunk when its chunk is new); NULL
** when out of memory. */
static uint32_t *map_entry(res_event_log *log, uint64_t task_id) {
    uint64_t key = task_id >> CHUNK_BITS;
    if (log->recent.chunk && log->recent.key == key)
        return &log->recent.chunk[task_id & (CHUNK - 1)];
    if (!map_room(log)) return NULL;
    slot *s = map_find(log->map, log->map_cap, key);
    if (!s->chunk) {
        uint32_t *chunk = malloc(CHUNK * sizeof *chunk);
        if (!chunk) return NULL;
        memset(chunk, 0xff, CHUNK * sizeof *chunk); /* NO_CONTEXT */
        *s = (slot){.key = key, .chunk = chunk};
        log->map_used++;
    }
    log->recent = *s;
    return &s->chunk[task_id & (CHUNK - 1)];
}

enum { CTX_OK, CTX_FULL, CTX_NOMEM };

/* ev's context index into *out: the last one, the task's latest, or a new one. */
static int context_of(res_event_log *log, const admit_event *ev, uint32_t *out) {
    context c = {.task_id = ev->task_id, .corr = ev->corr};
    c.corr.task_execution_id = 0;
    if (log->ctx_count && !memcmp(&log->ctx[log->last], &c, sizeof c)) {
        *out = (uint32_t)log->last;
        return CTX_OK;
    }
    uint32_t *e = map_entry(log, c.task_id);
    if (!e) return CTX_NOMEM;
    if (*e == NO_CONTEXT || memcmp(&log->ctx[*e], &c, sizeof c)) {
        if (log->ctx_count >= NO_CONTEXT) return CTX_FULL;
        if (!contexts_room(log)) return CTX_NOMEM;
        log->ctx[log->ctx_count] = c;
        *e = (uint32_t)log->ctx_count++;
    }
    log->last = *e;
    *out = *e;
    return CTX_OK;
}

/* ---- appending ------------------------------------------------------------------ */

static bool fits_int16(int32_t v) {
    return v >= INT16_MIN && v <= INT16_MAX;
}

/* Whether ev's numbers fit a record's fields. */
static bool fits_record(const admit_event *ev) {
    return ev->sequence <= UINT32_MAX && ev->corr.task_execution_id <= UINT32_MAX &&
           ev->attempt_id <= UINT32_MAX && fits_int16(ev->reason) && fits_int16(ev->resource) &&
           ev->stream <= ADMIT_STREAM_REQUEST;
}

static bool append_whole(res_event_log *log, const admit_event *ev, record *r) {
    if (log->whole_count >= UINT32_MAX || !whole_room(log)) return false;
    log->whole[log->whole_count] = *ev;
    *r = (record){
        .at = ev->captured_at_ns, .context = (uint32_t)log->whole_count++, .flags = FLAG_WHOLE};
    return true;
}

bool res_event_log_append(res_event_log *log, const admit_event *ev) {
    if (log->count == log->cap && !records_room(log, doubled(log->cap))) return false;
    record *r = &log->rec[log->count];
    int got = fits_record(ev) ? CTX_OK : CTX_FULL;
    uint32_t ctx = 0;
    if (got == CTX_OK) got = context_of(log, ev, &ctx);
    if (got == CTX_NOMEM) return false;
    if (got == CTX_FULL) {
        if (!append_whole(log, ev, r)) return false;
    } else {
        *r = (record){.at = ev->captured_at_ns,
                      .lease_id = ev->lease_id,
                      .value = ev->value,
                      .sequence = (uint32_t)ev->sequence,
                      .context = ctx,
                      .execution = (uint32_t)ev->corr.task_execution_id,
                      .attempt = (uint32_t)ev->attempt_id,
                      .kind = ev->kind,
                      .reason = (int16_t)ev->reason,
                      .resource = (int16_t)ev->resource,
                      .flags = ev->stream == ADMIT_STREAM_REQUEST ? FLAG_REQUEST : 0};
    }
    log->count++;
    return true;
}

void res_event_log_retain(res_event_log *log, bool (*keep)(void *ctx, const admit_event *ev),
                          void *ctx) {
    size_t n = 0;
    for (size_t i = 0; i < log->count; i++) {
        admit_event ev = res_event_log_at(log, i);
        if (keep(ctx, &ev)) log->rec[n++] = log->rec[i];
    }
    log->count = n;
}

void res_event_log_seal(res_event_log *log) {
    if (!log) return;
    for (size_t i = 0; log->map && i < log->map_cap; i++)
        free(log->map[i].chunk);
    free(log->map);
    log->map = NULL;
    log->map_cap = log->map_used = 0;
    log->recent = (slot){0};
}

/* ---- reading -------------------------------------------------------------------- */

size_t res_event_log_count(const res_event_log *log) {
    return log ? log->count : 0;
}

int64_t res_event_log_time(const res_event_log *log, size_t i) {
    return log->rec[i].at;
}

admit_event res_event_log_at(const res_event_log *log, size_t i) {
    const record *r = &log->rec[i];
    if (r->flags & FLAG_WHOLE) return log->whole[r->context];
    const context *c = &log->ctx[r->context];
    admit_event ev = {.sequence = r->sequence,
                      .captured_at_ns = r->at,
                      .stream =
                          (r->flags & FLAG_REQUEST) ? ADMIT_STREAM_REQUEST : ADMIT_STREAM_SCHEDULER,
                      .kind = r->kind,
                      .reason = r->reason,
                      .resource = r->resource,
                      .task_id = c->task_id,
                      .lease_id = r->lease_id,
                      .attempt_id = r->attempt,
                      .value = r->value,
                      .corr = c->corr};
    ev.corr.task_execution_id = r->execution;
    return ev;
}

size_t res_event_log_bytes(const res_event_log *log) {
    if (!log) return 0;
    return sizeof *log + log->cap * sizeof *log->rec + log->ctx_cap * sizeof *log->ctx +
           log->whole_cap * sizeof *log->whole + log->map_cap * sizeof *log->map +
           log->map_used * CHUNK * sizeof(uint32_t);
}

/* ---- merging two logs ----------------------------------------------------------- */

void res_event_merge_begin(res_event_merge *m, const res_event_log *first,
                           const res_event_log *second) {
    *m = (res_event_merge){.first = first, .second = second};
}

bool res_event_merge_next(res_event_merge *m, admit_event *out) {
    size_t n1 = res_event_log_count(m->first), n2 = res_event_log_count(m->second);
    if (m->i == n1 && m->j == n2) return false;
    bool take_first = m->j == n2 || (m->i < n1 && res_event_log_time(m->first, m->i) <=
                                                      res_event_log_time(m->second, m->j));
    *out = take_first ? res_event_log_at(m->first, m->i++) : res_event_log_at(m->second, m->j++);
    return true;
}
