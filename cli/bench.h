/* The benchmarks behind `admitsim bench --request` (bench_request.c),
** `admitsim bench --store` (bench_store.c), `admitsim bench --cycle`
** (bench_cycle.c) and the whole-process rows of the scale mode
** (bench_process.c); the result is an exit code of cli.h. */
#ifndef ADMITSIM_BENCH_H
#define ADMITSIM_BENCH_H

#include <stdbool.h>
#include <stdint.h>

struct sim_scenario;

int bench_request(uint64_t repeat);
int bench_store(const struct sim_scenario *sc, uint64_t seed, uint64_t repeat);

/* Which cases of the cycle matrix to run (0 / -1: all) and how. */
typedef struct bench_cycle_options {
    uint64_t warmup, repeat;
    uint32_t groups, tasks; /* 0: every count of the matrix */
    int mix;                /* -1: all; 0 local, 1 resource, 2 mixed */
    int policy;             /* -1: both; 0 strict, 1 bounded */
    bool json;
} bench_cycle_options;
int bench_cycle(const bench_cycle_options *o);

/* How the scale mode (cmd_bench.c, bench_process.c) measures: warmup
** unmeasured runs, then repeat measured ones per configuration; a table,
** or (json) rows gathered into one document. */
typedef struct bench_scale_options {
    uint64_t seed, repeat, warmup, scale;
    bool json;
} bench_scale_options;

/* `admitsim run SCENARIO --no-db` on the scenario scaled by o->scale, as a
** child process, o->repeat times per policy (after o->warmup unmeasured):
** wall time from start to exit as tasks per second, its spread, and peak
** RSS; a table row per policy, or a JSON object appended to rows. */
/* The median of sorted[0..n), n > 0. */
double bench_median(const double *sorted, uint64_t n);
struct json_t;
int bench_process(const char *scenario, const bench_scale_options *o, uint64_t tasks,
                  struct json_t *rows);

#endif
