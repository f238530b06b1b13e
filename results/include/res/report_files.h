/*
** The human and spreadsheet companions of the JSON artifact: a Markdown
** summary of a run (per iteration: status, wall time, leases at the end;
** per group waits; per request resource waits, limits and cooldown; provider
** busy fractions), a CSV of the same metrics in long form
** (iteration,scope,name,value) and a CSV of task timelines, all written
** atomically like the artifact.
*/
#ifndef RES_REPORT_FILES_H
#define RES_REPORT_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "res/summary.h"
#include "res/run_record.h"

/* Malloc'd text; NULL on out of memory. */
char *res_markdown_summary(res_run_record *const *runs, res_summary *const *summaries,
                           size_t count);
char *res_metrics_csv(res_run_record *const *runs, res_summary *const *summaries, size_t count);
/* One row per task execution of the CorrelatedRuntimeView: ids, column,
** row group, how it ended, request attempts, the thirteen SPEC §5 timestamps
** in ns (empty when absent) and the request wait, cooldown and provider
** time it spent, from each summary's view (no rows without one). */
char *res_task_timelines_csv(res_run_record *const *runs, res_summary *const *summaries,
                             size_t count);

/* Writes dir/name through write(f, ctx) into "<name>.tmp.<pid>", then
** renames it into place, so a failed write never leaves a half file; creates
** dir (and its parents).  Returns 0, or -1 with a message in err. */
int res_write_atomic(const char *dir, const char *name, bool (*write)(FILE *f, const void *ctx),
                     const void *ctx, char *err, size_t errlen);
/* res_write_atomic of a string. */
int res_write_text_atomic(const char *text, const char *dir, const char *name, char *err,
                          size_t errlen);

#endif
