/*
** The regression check's internals (res/check.h): loaded runs and gate kinds.
*/
#ifndef RES_CHECK_INT_H
#define RES_CHECK_INT_H

#include <stdint.h>

#include "res/atomic_file.h"
#include "res/check.h"

/* One artifact: a run of (scenario, arm or policy, seed). */
typedef struct res_check_run_in {
    char key[512];   /* "scenario / arm / seed N": matches the two sides */
    char group[400]; /* "scenario / arm": gates are judged per group */
    char path[4096];
    uint64_t seed;
    json_t *doc; /* the artifact without its timelines */
} res_check_run_in;

struct res_check_side {
    res_check_run_in *runs;
    size_t count, cap;
};

enum {
    RES_GATE_FINAL_CLEAN = 0,
    RES_GATE_HASHES_EQUAL,
    RES_GATE_MEAN_NOT_WORSE,
    RES_GATE_CLAIMS_BETTER,
    RES_GATE_CLAIMS_TRIM,
    RES_GATE_BENCH_NOT_WORSE,
    RES_GATE_REQUEST_ACCOUNTING
};

/* The gate kind's number, or -1. */
int res_check_kind(const char *kind);
/* The JSON document at path with every "timeline" value emptied. */
json_t *res_check_skim_file(const char *path, res_error *err);

#endif
