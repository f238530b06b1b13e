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

/* `admitsim run SCENARIO --no-db` on the scenario scaled by scale, as a
** child process, repeat times per policy: wall time from start to exit as
** tasks per second, and peak RSS. */
int bench_process(const char *scenario, uint64_t scale, uint64_t seed, uint64_t repeat,
                  uint64_t tasks);

#endif
