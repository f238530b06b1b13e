/* The table of `admitsim fidelity` (fidelity_table.c): per metric the
** simulated value, the live value and the relative error
** |live - sim| / max(|sim|, floor), judged against a tolerance; printed as
** a table or as JSON rows.  A figure one run lacks is NaN: such a row's error
** is infinite (outside any tolerance); a metric neither run has is no row. */
#ifndef ADMITSIM_FIDELITY_H
#define ADMITSIM_FIDELITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "admit/request_resource.h"

#define FID_NAME_MAX (ADMIT_REQUEST_KEY_MAX + 64)

typedef struct fid_row {
    char name[FID_NAME_MAX];
    double sim, live, floor, error;
    bool within;
    bool ranged;   /* a count: judged against [lo, hi], the ensemble's range */
    double lo, hi; /* with sim inside */
} fid_row;

typedef struct fid_table {
    fid_row rows[4 + 5 * 64];
    uint32_t count;
    double tolerance;
    bool all_within;
    uint32_t ensemble; /* simulated iterations behind a count's range */
    bool realtime_requested, realtime_applied;
    char realtime_why[128];
} fid_table;

/* A metric's row (NULL when neither run has it, or the table is full). */
fid_row *fid_add_row(fid_table *t, const char *name, double sim, double live, double floor);
/* A count: its error is its distance outside [min(lo, sim), max(hi, sim)]. */
void fid_add_count_row(fid_table *t, const char *name, double sim, double live, double lo,
                       double hi);
/* Every row against t->tolerance. */
void fid_judge(fid_table *t);
/* The table's heading and a line per row. */
void fid_print_rows(FILE *f, const fid_table *t);
/* A JSON array of the rows. */
json_t *fid_rows_json(const fid_table *t);

#endif
