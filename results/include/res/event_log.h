/*
** The event log: the events a run keeps, in 48 bytes each.
**
** An admit_event is 112 bytes, most of it the correlation (SPEC §5), which
** is the same for every event of a task but for its execution id.  A log
** keeps per event a record of 48 bytes (time, lease, value, sequence,
** execution, attempt, kind, reason, resource, stream) and the rest once per
** distinct context (task id and correlation without the execution id), so a
** task's events share one.  An event whose numbers do not fit the record
** (a sequence, execution or attempt id of 2^32 or more, a reason or
** resource outside [-32768, 32767]) is kept whole beside it: nothing is
** ever cut.  res_event_log_at gives back the event exactly as appended.
**
** Contexts are found again through a map from task id to the task's latest
** context; res_event_log_seal frees the map once no more events will come
** (appending after that still works; later events then share contexts
** with each other only).
**
** Memory: the records come from res_large_alloc (huge pages where the
** kernel offers them, res/large_alloc.h) and double when full, or grow to
** what res_event_log_reserve asked for.  A log is not thread-safe: one
** writer, or readers only.
*/
#ifndef RES_EVENT_LOG_H
#define RES_EVENT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admit/events.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct res_event_log res_event_log;

/* An empty log; NULL when out of memory. */
res_event_log *res_event_log_create(void);
void res_event_log_free(res_event_log *log); /* NULL: nothing */

/* Room for at least `events` events in all; false when out of memory. */
bool res_event_log_reserve(res_event_log *log, size_t events);
/* ev appended after the events already there; false when out of memory
** (the log is then unchanged). */
bool res_event_log_append(res_event_log *log, const admit_event *ev);
/* Keeps the events for which keep(ctx, event) is true, in their order. */
void res_event_log_retain(res_event_log *log, bool (*keep)(void *ctx, const admit_event *ev),
                          void *ctx);
/* No more events are expected: frees the context map. */
void res_event_log_seal(res_event_log *log);

/* How many events (0 for a NULL log), event i (i < count) as appended, and
** its capture time without building it. */
size_t res_event_log_count(const res_event_log *log);
admit_event res_event_log_at(const res_event_log *log, size_t i);
int64_t res_event_log_time(const res_event_log *log, size_t i);
/* Bytes the log holds (records, contexts, whole events, the map). */
size_t res_event_log_bytes(const res_event_log *log);

/* The events of two logs (either may be NULL) in capture-time order, the
** first log's event first at equal times: the order of a run's timeline
** (the scheduler stream first).  Each log stays in its own order. */
typedef struct res_event_merge {
    const res_event_log *first, *second;
    size_t i, j;
} res_event_merge;

void res_event_merge_begin(res_event_merge *m, const res_event_log *first,
                           const res_event_log *second);
/* The next event into *out, false when both logs are done. */
bool res_event_merge_next(res_event_merge *m, admit_event *out);

#ifdef __cplusplus
}
#endif

#endif
