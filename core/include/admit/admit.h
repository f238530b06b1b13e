/* Umbrella header for the admit core library. */
#ifndef ADMIT_ADMIT_H
#define ADMIT_ADMIT_H

#include "admit/error.h"
#include "admit/events.h"
#include "admit/fair_queue.h"
#include "admit/metadata.h"
#include "admit/resources.h"
#include "admit/runtime.h"
#include "admit/scheduler.h"
#include "admit/task_admission.h"
#include "admit/tracker.h"

#endif
