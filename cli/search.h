/* Capacity search (SPEC §10): the smallest (or largest) value of one
** parameter whose runs meet a service-level objective with their whole 95%
** interval on the right side of it, found by bisection over a grid of
** values.  Every probe is a sweep of one point over the seeds (sweep.h),
** run on the sweep's engines, in a directory of its own:
**
**   DIR/search.json           the search (its identity: --resume needs the same)
**   DIR/lock, DIR/journal     the driver's lock; the experiment it merged into
**   DIR/probes/probe-NN.json  probe NN's sweep file
**   DIR/probes/probe-NN/      probe NN's sweep directory (plan, shards, journal)
**   DIR/result.json           the probes' figures and the answer
**
** The probes follow from the figures, which follow from the scenario and
** seeds alone, so a resumed search walks the same probes: those complete
** are read again, the rest run.  Once the answer is known every probe's
** runs merge, probe by probe, into one experiment of kind "search".
**
**   search.c      the search's definition, the bisection and its result
**   cmd_search.c  `admitsim search`
*/
#ifndef ADMITSIM_SEARCH_H
#define ADMITSIM_SEARCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sweep.h"

#define SEARCH_MAX_PROBES 64

typedef struct search_spec {
    char id[48];                   /* [A-Za-z0-9_.-]: names the probes' sweeps */
    char scenario[SWEEP_PATH_MAX]; /* absolute */
    char scenario_id[128];
    char arm[64]; /* the base arm ("" none) */
    char param[256];
    bool integer;        /* integer values (LO, HI and the step are integers) */
    double lo, hi, step; /* the grid: lo, lo + step, ..., hi */
    size_t steps;        /* (hi - lo) / step */
    bool largest;        /* the largest value meeting the objective, else the smallest */
    char metric[RES_METRIC_NAME_MAX];
    bool at_most; /* METRIC <= threshold; else METRIC >= threshold */
    double threshold;
    uint64_t seeds; /* seeds 1..seeds, at least 2 */
} search_spec;

/* Reads "--vary PARAM=LO:HI" into s (param, lo, hi, integer) and "--slo
** METRIC<=X" or "METRIC>=X" (metric, at_most, threshold).  False with the
** reason in err. */
bool search_parse_vary(search_spec *s, const char *text, char *err, size_t errlen);
bool search_parse_slo(search_spec *s, const char *text, char *err, size_t errlen);
/* Checks the grid (step, steps) once lo, hi and the step (0: the default,
** 1 for integers, (hi - lo) / 64 otherwise) are known.  False with err. */
bool search_grid_check(search_spec *s, char *err, size_t errlen);
/* The value of grid index k. */
double search_value(const search_spec *s, size_t k);
/* The search as JSON (search.json; new reference). */
json_t *search_spec_json(const search_spec *s);

/* One probe: the grid index probed and the objective metric's figures over
** the seeds (sweep_figures_json), owned. */
typedef struct search_probe {
    size_t k;
    double value;
    json_t *figures;
    bool meets;
} search_probe;

/* True when figures ({"ci95_low", "ci95_high", ...}) meet the objective:
** the whole interval on its side (an interval of null never does). */
bool search_figures_meet(const search_spec *s, const json_t *figures);

/* The bisection: which grid index to probe next given the probes so far,
** or none left (false) with *answer the grid index found (SIZE_MAX: no
** value of the grid meets the objective).  It assumes the objective is
** met on one side of a single boundary: probes the far end first (the end
** most likely to meet), then the near end, then halves the interval
** between the nearest probe that meets and the farthest that does not. */
bool search_next_probe(const search_spec *s, const search_probe *probes, size_t n, size_t *next,
                       size_t *answer);

/* The result: the search, every probe (value, arm, figures, meets), the
** answer and its neighbour probed on the other side (new reference). */
json_t *search_result_json(const search_spec *s, const search_probe *probes, size_t n,
                           size_t answer, int64_t experiment_id);
/* The result as a table (the probes in the order run, the answer). */
void search_print(const search_spec *s, const json_t *result, FILE *f);

#endif
