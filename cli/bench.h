/* The benchmarks behind `admitsim bench --request` (bench_request.c) and
** `admitsim bench --store` (bench_store.c); the result is an exit code of
** cli.h. */
#ifndef ADMITSIM_BENCH_H
#define ADMITSIM_BENCH_H

#include <stdint.h>

struct sim_scenario;

int bench_request(uint64_t repeat);
int bench_store(const struct sim_scenario *sc, uint64_t seed, uint64_t repeat);

#endif
