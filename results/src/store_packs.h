/* Lifecycle events packed many to a row (schema version 9): what a store
** keeping every event (RES_KEEP_ALL_EVENTS) writes for the thirteen
** lifecycle kinds instead of one events row each.  Between store.c and
** store_packs.c; not part of the public interface.
**
** An event_packs row holds up to RES_PACK_EVENTS consecutive lifecycle
** events of one stream of one iteration, in capture order:
**   first_sequence, first_ns  the first event's sequence and time;
**   events                    how many events the pack holds;
**   strings                   a JSON array of the texts the events name
**                             (kinds, resources, reasons, column names);
**   body                      a JSON array of one array of integers per
**                             event: [sequence - first_sequence, kind,
**                             captured_at_ns - first_ns, task_id,
**                             execution_id, lease_id, value, row_group + 1,
**                             column + 1, resource + 1, reason + 1,
**                             request_attempt_id], where kind is an index
**                             into strings, column, resource and reason
**                             are indexes into strings plus one, and 0
**                             stands for NULL in every field after the
**                             third but value, where 0 is 0 (an id of 0
**                             is none, row_group + 1 of 0 is none);
**                             trailing zeros are left out.
** The lease id is the task lease's on the scheduler stream and the
** request lease's on the request stream.  The events view (store.c,
** migration 9) turns a pack back into rows, so SQL sees every event.
** Format frozen with version 9: readers in the field depend on it. */
#ifndef RES_STORE_PACKS_H
#define RES_STORE_PACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admit/events.h"
#include "res/run_record.h"

enum { RES_PACK_EVENTS = 4096 };

/* The positions of an entry's integers (the body's format above); the
** writer (store_packs.c) and the reader's table-valued function
** (store_unpack.c, whose columns come in this order) share them. */
enum res_pack_field {
    RES_PACK_SEQUENCE, /* - first_sequence */
    RES_PACK_KIND,     /* index into strings */
    RES_PACK_TIME,     /* captured_at_ns - first_ns */
    RES_PACK_TASK,
    RES_PACK_EXECUTION,
    RES_PACK_LEASE,
    RES_PACK_VALUE,
    RES_PACK_ROW_GROUP, /* + 1 */
    RES_PACK_COLUMN,    /* index into strings + 1 */
    RES_PACK_RESOURCE,  /* index into strings + 1 */
    RES_PACK_REASON,    /* index into strings + 1 */
    RES_PACK_ATTEMPT,
    RES_PACK_FIELDS,
    RES_PACK_MIN_FIELDS = RES_PACK_TIME + 1 /* never left out */
};

/* What res_pack_add says when memory ran out. */
extern const char res_pack_no_memory[];

/* The text an event names, or NULL: its resource's name (scheduler
** resource or request resource key), its column's name. */
const char *res_event_resource_text(const res_run_record *run, const admit_event *ev);
const char *res_event_column_text(const res_run_record *run, const admit_event *ev);

/* One pack being built.  Zero-initialised, then res_pack_add until full
** or the stream's events end; res_pack_strings gives the strings column;
** res_pack_clear starts the next; res_pack_free frees it. */
typedef struct res_pack {
    char *body;
    size_t len, cap;
    uint64_t first_sequence;
    int64_t first_ns;
    size_t events;
    /* the strings, and an open-addressed map from a text's address to
    ** its index + 1 (0: empty slot) */
    const char **strings;
    size_t nstrings, strings_cap;
    const char **keys;
    uint32_t *slots;
    size_t map_cap;
} res_pack;

/* Appends ev: NULL, or what stopped it (res_pack_no_memory, a value the
** format cannot hold). */
const char *res_pack_add(res_pack *p, const res_run_record *run, const admit_event *ev);
/* Whether p holds RES_PACK_EVENTS events. */
bool res_pack_is_full(const res_pack *p);
/* The body's text (len bytes, NUL-terminated) once at least one event was
** added. */
const char *res_pack_body(res_pack *p, size_t *len);
/* The strings as JSON text (malloc'd), or NULL: out of memory, or a text
** that is not UTF-8. */
char *res_pack_strings(const res_pack *p);
void res_pack_clear(res_pack *p);
void res_pack_free(res_pack *p);

#endif
