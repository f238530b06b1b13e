/* The table of `admitsim fidelity` (fidelity.h). */
#include "fidelity.h"

#include <math.h>
#include <string.h>

#include "res/json_real.h"

/* A row's error against the seed's simulated value alone. */
static double seed_error(const fid_row *r) {
    return fabs(r->live - r->sim) / fmax(fabs(r->sim), r->floor);
}

fid_row *fid_add_row(fid_table *t, const char *name, double sim, double live, double floor) {
    if (isnan(sim) && isnan(live)) return NULL; /* neither run has it: not applicable */
    if (t->count == sizeof t->rows / sizeof t->rows[0]) return NULL;
    fid_row *r = &t->rows[t->count++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->sim = sim;
    r->live = live;
    r->floor = floor;
    r->error = isnan(sim) || isnan(live) ? INFINITY : seed_error(r);
    return r;
}

void fid_add_count_row(fid_table *t, const char *name, double sim, double live, double lo,
                       double hi) {
    fid_row *r = fid_add_row(t, name, sim, live, 1.0);
    if (!r || isnan(live) || isnan(sim)) return;
    r->ranged = true;
    r->lo = fmin(lo, sim);
    r->hi = fmax(hi, sim);
    double out = live < r->lo ? r->lo - live : live > r->hi ? live - r->hi : 0;
    r->error = out / fmax(fabs(sim), r->floor);
}

void fid_judge(fid_table *t) {
    t->all_within = true;
    for (uint32_t i = 0; i < t->count; i++) {
        t->rows[i].within = t->rows[i].error <= t->tolerance;
        t->all_within = t->all_within && t->rows[i].within;
    }
}

/* " x" right-aligned in width with digits decimals and then suffix, or " -"
** for a figure a run lacks (NaN, and the infinite error of its row). */
static void figure(FILE *f, int width, int digits, double x, const char *suffix) {
    if (isfinite(x))
        fprintf(f, " %*.*f%s", width - (int)strlen(suffix), digits, x, suffix);
    else
        fprintf(f, " %*s", width, "-");
}

void fid_print_rows(FILE *f, const fid_table *t) {
    fprintf(f, "%-58s %12s %12s %9s  %-6s  %s\n", "metric", "simulated", "live", "rel_err",
            "within", "simulated range");
    for (uint32_t i = 0; i < t->count; i++) {
        const fid_row *r = &t->rows[i];
        char range[96] = "";
        if (r->ranged)
            snprintf(range, sizeof range, "[%.0f, %.0f] over %u (vs the seed's: %.2f%%)", r->lo,
                     r->hi, t->ensemble, 100 * seed_error(r));
        fprintf(f, "%-58.58s", r->name);
        figure(f, 12, 4, r->sim, "");
        figure(f, 12, 4, r->live, "");
        figure(f, 9, 2, r->error * 100, "%");
        fprintf(f, "  %-6s  %s\n", r->within ? "yes" : "NO", range);
    }
}

json_t *fid_rows_json(const fid_table *t) {
    json_t *rows = json_array();
    for (uint32_t i = 0; i < t->count; i++) {
        const fid_row *r = &t->rows[i];
        json_t *row = json_pack(
            "{s:s, s:o, s:o, s:o, s:f, s:b}", "name", r->name, "simulated",
            res_json_real_or_null(r->sim), "live", res_json_real_or_null(r->live), "relative_error",
            res_json_real_or_null(r->error), "floor", r->floor, "within", r->within);
        if (r->ranged) {
            json_object_set_new(row, "simulated_range", json_pack("[f, f]", r->lo, r->hi));
            json_object_set_new(row, "relative_error_to_seed",
                                res_json_real_or_null(seed_error(r)));
        }
        json_array_append_new(rows, row);
    }
    return rows;
}
