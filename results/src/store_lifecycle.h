/* The lifecycle events of an iteration stored without them (res/store.h:
** the default store keeps only the notable events), rebuilt for the reader
** from task_timelines and request_attempts (schema version 8). */
#ifndef RES_STORE_LIFECYCLE_H
#define RES_STORE_LIFECYCLE_H

#include <stdio.h>

#include "res/store_reader.h"

/* Writes to f the query of q's events with the lifecycle ones rebuilt: the
** columns of res_store_reader_events' query, then three ordering keys.
** Parameters: ?1 run, ?2 iteration (when q->iteration >= 0), ?3 stream,
** ?4 resource, ?5... the kinds, as q gives them.  rows: the table of the
** stored events rows (event_rows from schema version 9, events before).
**
** The request stream's six lifecycle events come back exactly as they
** were stored (each attempt's row keeps their times and sequences, the
** lease, the outcome and the in-flight counts), except for the values
** nobody reads back from them (the wait's position, the call's
** duration: NULL) -- and so in their places among the notable events.
** The scheduler stream's seven come from each execution's task_timelines
** row: no sequence (0), no task lease id, no value but worker_spawned's
** (the worker attempt), task_lease_released's reason 'released', the
** execution id on worker_spawned, task_completed and task_lease_released
** (as the run emitted them).  At one instant they come in an
** approximation of the order the dispatcher makes them (README,
** "Semantics beyond the specification"): completions and releases (by
** execution), then dependency_ready and ready_enqueued (by task id), then
** selected, task_lease_acquired and worker_spawned (by execution), then
** the notable scheduler events (by sequence); an execution that follows
** one of its task's that ended at that instant comes after all of those
** (in its rank's own pass), so a task's events keep their order.  What is
** lost: an execution's earlier ready_enqueued or selected (the timeline
** keeps the latest), and the events of a task that never got a worker
** (res_store_reader_lifecycle_shortfall counts them). */
void res_lifecycle_sql(FILE *f, const res_event_query *q, const char *rows);

/* Writes to f the WHERE clause of q's filters on one table of events,
** numbered as above (?1 run, ?2 iteration, ?3 stream, ?4 resource, ?5...
** the kinds): run qualifies the run, iteration and stream columns, event
** the resource and kind columns ("" for a table's own, "p." for a joined
** one's). */
void res_event_filters_sql(FILE *f, const res_event_query *q, const char *run, const char *event);

#endif
