#include "sim/rng.h"

#include <gsl/gsl_randist.h>
#include <math.h>

static uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t sim_rng_stream_seed(uint64_t seed, uint32_t iteration, const char *entity) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = entity; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return splitmix64(splitmix64(seed) ^ splitmix64(h + iteration));
}

gsl_rng *sim_rng_stream(uint64_t seed, uint32_t iteration, const char *entity) {
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r) {
        /* mt19937 takes 32 bits of seed; fold the 64-bit derivation. */
        uint64_t s = sim_rng_stream_seed(seed, iteration, entity);
        gsl_rng_set(r, (unsigned long)((s ^ (s >> 32)) & 0xffffffffUL));
    }
    return r;
}

int64_t sim_dist_sample_ns(const sim_dist *d, gsl_rng *rng) {
    double drawn;
    return sim_dist_draw_ns(d, rng, &drawn);
}

int64_t sim_dist_draw_ns(const sim_dist *d, gsl_rng *rng, double *drawn) {
    double s;
    switch (d->kind) {
    case SIM_DIST_UNIFORM: s = d->a + (d->b - d->a) * gsl_rng_uniform(rng); break;
    case SIM_DIST_EXPONENTIAL: s = gsl_ran_exponential(rng, d->a); break;
    case SIM_DIST_LOGNORMAL: s = gsl_ran_lognormal(rng, d->a, d->b); break;
    case SIM_DIST_GAMMA: s = gsl_ran_gamma(rng, d->a, d->b); break;
    case SIM_DIST_EMPIRICAL:
        if (!d->samples || d->sample_count == 0) return 0;
        s = d->samples[gsl_rng_uniform_int(rng, d->sample_count)];
        break;
    default: s = d->a; break;
    }
    *drawn = s;
    if (!(s > 0)) return 0;
    if (s > SIM_DIST_MAX_SECONDS) s = SIM_DIST_MAX_SECONDS;
    return (int64_t)llround(s * 1e9);
}

const char *sim_dist_kind_name(sim_dist_kind k) {
    static const char *names[] = {"constant",  "uniform", "exponential",
                                  "lognormal", "gamma",   "empirical"};
    return (unsigned)k <= SIM_DIST_EMPIRICAL ? names[k] : "unknown";
}

double sim_dist_mean_seconds(const sim_dist *d) {
    switch (d->kind) {
    case SIM_DIST_UNIFORM: return (d->a + d->b) / 2;
    case SIM_DIST_EXPONENTIAL: return d->a;
    case SIM_DIST_LOGNORMAL: return exp(d->a + d->b * d->b / 2);
    case SIM_DIST_GAMMA: return d->a * d->b;
    case SIM_DIST_EMPIRICAL: {
        if (!d->samples || d->sample_count == 0) return 0;
        double sum = 0;
        for (uint32_t i = 0; i < d->sample_count; i++)
            sum += d->samples[i];
        return sum / d->sample_count;
    }
    default: return d->a;
    }
}

double sim_dist_reach_seconds(const sim_dist *d) {
    double max = 0;
    switch (d->kind) {
    case SIM_DIST_UNIFORM: return d->b;
    case SIM_DIST_EXPONENTIAL: return d->a * log(2.0);
    case SIM_DIST_LOGNORMAL: return exp(d->a);
    case SIM_DIST_GAMMA: return d->a > 1.0 / 3 ? d->b * (d->a - 1.0 / 3) : 0;
    case SIM_DIST_EMPIRICAL:
        for (uint32_t i = 0; d->samples && i < d->sample_count; i++)
            if (d->samples[i] > max) max = d->samples[i];
        return max;
    default: return d->a;
    }
}
