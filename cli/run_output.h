/* What `run` and `live` print of a run: iteration 0 as a table or as one
** JSON object (res_summary_to_json), rendered when it finishes (its record
** is freed before the next iteration) and printed once the whole run has
** succeeded; with more than one iteration the table is followed by the
** mean and standard deviation over all of them of its headline figures. */
#ifndef ADMITSIM_RUN_OUTPUT_H
#define ADMITSIM_RUN_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "res/run_record.h"
#include "res/summary.h"

/* Running mean and variance of one figure over iterations (Welford); an
** absent figure (NaN) is left out, so n counts the iterations having it. */
typedef struct cli_spread {
    uint64_t n;
    double mean, m2;
} cli_spread;

/* A column's figures over iterations (named by iteration 0). */
typedef struct cli_column_spread {
    char name[64];
    cli_spread wait_mean, wait_p95;
} cli_column_spread;

typedef struct cli_run_output {
    bool json;
    uint32_t iterations;
    const char *scenario_id;
    const char *db_path;
    char *text; /* what to print, once rendered */
    size_t len;
    bool oom;
    /* every iteration's headline figures */
    cli_spread wall, utilization;
    cli_column_spread *columns;
    uint32_t column_count;
} cli_run_output;

/* res_pipeline_options.on_iteration (ctx: a cli_run_output). */
void cli_run_output_render(void *ctx, const res_run_record *r, const res_summary *s);
/* Prints iteration 0's table or JSON, then (table, more than one
** iteration) the mean and stddev of the headline figures over all. */
void cli_run_output_print(FILE *f, const cli_run_output *o);
void cli_run_output_free(cli_run_output *o);
/* The table of one iteration. */
void cli_print_run_table(FILE *f, const res_summary *s, const res_run_record *run,
                         uint64_t iterations);

#endif
