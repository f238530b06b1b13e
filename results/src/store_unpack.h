/* The reader's way into packed events (schema version 9, store_packs.h):
** the table-valued function admit_event_pack(strings, body, first_sequence,
** first_ns, events) gives one row per event of a pack, with the columns
** sequence, kind, captured_at_ns, task_id, execution_id, lease_id, value,
** row_group, column_name, resource, reason, request_attempt_id, as the
** events view does (NULL where the view has NULL), parsing the pack once
** instead of once per column.  A pack that is not in the format (a
** damaged or hand-edited database) fails the statement with "malformed
** event pack" and what is wrong.  Between store_reader.c and
** store_unpack.c; not part of the public interface. */
#ifndef RES_STORE_UNPACK_H
#define RES_STORE_UNPACK_H

#include <sqlite3.h>

/* Registers admit_event_pack on db; an SQLite result code. */
int res_unpack_register(sqlite3 *db);

#endif
