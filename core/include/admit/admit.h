/* Umbrella header for the admit core library: every public header, each
** with its own extern "C" guards (this one declares nothing itself).
** tests/cxx_headers.cmake fails when a header is missing here. */
#ifndef ADMIT_ADMIT_H
#define ADMIT_ADMIT_H

#include "admit/capacity_plan.h"
#include "admit/error.h"
#include "admit/events.h"
#include "admit/fair_queue.h"
#include "admit/heap.h"
#include "admit/metadata.h"
#include "admit/model_executor.h"
#include "admit/provider_aware.h"
#include "admit/request_admission.h"
#include "admit/request_resource.h"
#include "admit/resources.h"
#include "admit/runtime.h"
#include "admit/scheduler.h"
#include "admit/task_admission.h"
#include "admit/tracker.h"

#endif
