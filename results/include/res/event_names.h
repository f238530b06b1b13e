/*
** Names for what an event's `reason` field carries, by stream and kind
** (a deny reason, an outcome, a release reason or a job status).  Shared by
** the artifact and the results store so both name reasons identically.
*/
#ifndef RES_EVENT_NAMES_H
#define RES_EVENT_NAMES_H

#include "admit/events.h"

/* NULL when the event carries no reason (reason < 0). */
const char *res_event_reason_name(const admit_event *ev);

#endif
