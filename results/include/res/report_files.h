/*
** The human and spreadsheet companions of the JSON artifact: a Markdown
** summary of a run (per iteration: status, wall time, leases at the end;
** for iteration 0: per group waits, per request resource waits, limits and
** cooldown, provider busy fractions, the correlated view), a CSV of the same
** metrics in long form (iteration,scope,name,value) and a CSV of task
** timelines.  res_report_writer writes the three files iteration by
** iteration, so memory does not grow with iterations, and seals them when
** the last iteration is in, for the caller to rename into place with the
** artifact as one set (res/atomic_file.h).
*/
#ifndef RES_REPORT_FILES_H
#define RES_REPORT_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "res/atomic_file.h"
#include "res/summary.h"
#include "res/error.h"
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

/* Whether s must be quoted as a CSV field (RFC 4180): it holds a comma, a
** quote, or a line end (a bare CR ends a record too). */
bool res_csv_needs_quotes(const char *s);
/* Writes s to out as one CSV field: as it is, or quoted (each quote
** doubled) when res_csv_needs_quotes(s); nothing for NULL (an empty field).
** The same quoting as the metrics and tasks CSV files; out's error
** indicator tells of a failed write. */
void res_csv_write_field(FILE *out, const char *s);

/* DIR/BASE.md, DIR/BASE-metrics.csv and DIR/BASE-tasks.csv. */
typedef struct res_report_writer res_report_writer;
res_report_writer *res_report_writer_open(const char *dir, const char *base, res_error *err);
/* Iterations in order; the first one also gives the Markdown's title and details. */
bool res_report_writer_add(res_report_writer *w, const res_run_record *r, const res_summary *s,
                           res_error *err);
/* Completes and seals the three temporary files, not yet renamed: the
** caller publishes them (res_atomic_files_publish of
** res_report_writer_file(w, 0..2)) with the files that go with them.
** False with err set. */
bool res_report_writer_seal(res_report_writer *w, res_error *err);
/* Removes the temporary files (unless published) and frees w. */
void res_report_writer_abort(res_report_writer *w);
/* File `which`: 0 Markdown, 1 metrics CSV, 2 tasks CSV; and its final path. */
res_atomic_file *res_report_writer_file(res_report_writer *w, int which);
const char *res_report_writer_path(const res_report_writer *w, int which);

/* Writes dir/name through write(f, ctx) into "<name>.tmp.<pid>", then
** fsyncs and renames it into place, so a failed write never leaves a half
** file; creates dir (and its parents).  Returns 0, or -1 with a message in err. */
int res_write_atomic(const char *dir, const char *name, bool (*write)(FILE *f, const void *ctx),
                     const void *ctx, char *err, size_t errlen);
/* res_write_atomic of a string. */
int res_write_text_atomic(const char *text, const char *dir, const char *name, char *err,
                          size_t errlen);

#endif
