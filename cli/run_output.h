/* What `run` and `live` print of a run: iteration 0 as a table or as one
** JSON object (res_summary_to_json), rendered when it finishes (its record
** is freed before the next iteration) and printed once the whole run has
** succeeded. */
#ifndef ADMITSIM_RUN_OUTPUT_H
#define ADMITSIM_RUN_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "res/run_record.h"
#include "res/summary.h"

typedef struct cli_run_output {
    bool json;
    uint32_t iterations;
    const char *scenario_id;
    const char *db_path;
    char *text; /* what to print, once rendered */
    size_t len;
    bool oom;
} cli_run_output;

/* res_pipeline_options.on_iteration (ctx: a cli_run_output). */
void cli_run_output_render(void *ctx, const res_run_record *r, const res_summary *s);
/* The table of one iteration. */
void cli_print_run_table(FILE *f, const res_summary *s, const res_run_record *run,
                         uint64_t iterations);

#endif
