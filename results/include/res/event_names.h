/*
** Names for what an event's `reason` field carries, by stream and kind
** (a deny reason, an outcome, a release reason or a job status).  Shared by
** the artifact and the results store so both name reasons identically.
*/
#ifndef RES_EVENT_NAMES_H
#define RES_EVENT_NAMES_H

#include <stdbool.h>

#include "admit/events.h"

/* NULL when the event carries no reason (reason < 0). */
const char *res_event_reason_name(const admit_event *ev);

/* True for the thirteen lifecycle kinds whose times are the SPEC §5
** timestamps of a task execution (dependency_ready .. task_lease_released,
** request_wait_started .. request_lease_released). */
bool res_event_is_lifecycle(const admit_event *ev);

#endif
