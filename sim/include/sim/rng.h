/*
** Per-entity random streams and the duration distributions drawn from them.
**
** Every random draw in the simulator comes from a GSL generator owned by one
** entity (a column, a provider, ...) and seeded from (scenario seed,
** iteration, entity name).  Two A/B arms therefore see the same draws for
** the same entity, and adding an entity never shifts another's draws.
*/
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

/* A new mt19937 stream for (seed, iteration, entity); free with gsl_rng_free. */
gsl_rng *sim_rng_stream(uint64_t seed, uint32_t iteration, const char *entity);
uint64_t sim_rng_stream_seed(uint64_t seed, uint32_t iteration, const char *entity);

typedef enum sim_dist_kind {
    SIM_DIST_CONSTANT = 0,
    SIM_DIST_UNIFORM,
    SIM_DIST_EXPONENTIAL,
    SIM_DIST_LOGNORMAL,
    SIM_DIST_GAMMA,
    SIM_DIST_EMPIRICAL
} sim_dist_kind;

/* Parameters in seconds: constant{a}, uniform{a=low, b=high},
** exponential{a=mean}, lognormal{a=mu, b=sigma of ln(seconds)},
** gamma{a=shape, b=scale}, empirical{samples: observed seconds, drawn
** uniformly; the array belongs to whoever built the dist}. */
typedef struct sim_dist {
    sim_dist_kind kind;
    double a, b;
    const double *samples;
    uint32_t sample_count;
} sim_dist;

/* The limit of one duration, in seconds (~31 years: keeps the nanosecond
** clock far from overflow; RUN_MAX_SECONDS). */
#define SIM_DIST_MAX_SECONDS 1e9
/* One draw, rounded to whole nanoseconds once, never negative, at most
** SIM_DIST_MAX_SECONDS: the loader refuses a distribution certain (or, for
** an unbounded one, more likely than not) to pass it, and sim_dist_draw_ns
** tells the callers when a tail draw does. */
int64_t sim_dist_sample_ns(const sim_dist *d, gsl_rng *rng);
/* The same, *drawn set to the value drawn in seconds before the cut (more
** than SIM_DIST_MAX_SECONDS: the result was cut to the limit). */
int64_t sim_dist_draw_ns(const sim_dist *d, gsl_rng *rng, double *drawn);
/* The largest value a draw of d takes for a bounded distribution (constant,
** uniform, empirical), else its median -- for gamma a lower bound of it,
** scale x (shape - 1/3) -- in seconds: what the loader holds to the limit. */
double sim_dist_reach_seconds(const sim_dist *d);
const char *sim_dist_kind_name(sim_dist_kind k);
double sim_dist_mean_seconds(const sim_dist *d);

#endif
