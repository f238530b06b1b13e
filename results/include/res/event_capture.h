/*
** Event capture: what an environment (the simulator, a live runtime) does
** with every event its core objects emit.  It counts the event, feeds the
** summary builder (res/summary.h) once the record's shape is known, and
** keeps the event in the record's logs (res/event_log.h) when the outputs
** need it (res_event_keep, res/run_record.h).
**
** With summarize and RES_KEEP_NOTABLE_EVENTS (what a store that keeps
** only those needs), the kept events go to spill files (res/spill.h, the
** record's `spilled`) instead of the logs once they would take more than
** res_spill_after() bytes there (48 an event), so a long run's take no
** memory.
**
** Until res_event_capture_start every event is kept, whatever `keep` says:
** the summary builder needs the record's shape, and the core objects emit
** events (request resources registered) while they are built.  start
** feeds the builder the events kept so far and drops those `keep` does not
** ask for.  Without `summarize` there is no builder and every event is
** kept (the summary is then computed from them: res_summary_compute).
**
** One thread: the capture is not locked; the environment calls it from
** the thread its core objects emit on.
*/
#ifndef RES_EVENT_CAPTURE_H
#define RES_EVENT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "admit/events.h"
#include "res/run_record.h"
#include "res/summary.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct res_event_capture res_event_capture;

/* NULL when out of memory. */
res_event_capture *res_event_capture_create(res_event_keep keep, bool summarize);
void res_event_capture_free(res_event_capture *c); /* NULL: nothing */

/* Room for `sched` scheduler and `req` request events (0: as they come). */
bool res_event_capture_reserve(res_event_capture *c, size_t sched, size_t req);
/* Once run's shape is known: the summary builder (view: whether the run
** builds a correlated view, res_summary_builder_create), fed the events
** kept so far.  Nothing without summarize.  False when out of memory, or
** when a run that may spill cannot make a spill file in $TMPDIR
** (res_event_capture_error says so). */
bool res_event_capture_start(res_event_capture *c, const res_run_record *run, bool view);
/* One event of either stream, in its stream's order; false when out of
** memory or a spill file failed (res_event_capture_error; the run must
** stop: its figures would be wrong).  Events after res_event_capture_end
** are ignored. */
bool res_event_capture_event(res_event_capture *c, const admit_event *ev);
/* What failed of the spill files ("writing the spill file in /tmp: No space
** left on device"), or NULL. */
const char *res_event_capture_error(const res_event_capture *c);
/* The kept events sealed into run (its logs, `kept`, `events_made`); the
** summary builder handed to the caller to finish (NULL: none). */
res_summary_builder *res_event_capture_end(res_event_capture *c, res_run_record *run);

#ifdef __cplusplus
}
#endif

#endif
