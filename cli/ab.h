/* The A/B engine shared by `admitsim ab` and `admitsim suite` (ab_engine.c):
** two arms of one scenario run for seeds 1..N, paired by seed, every metric
** compared (res/experiment.h).
**
** Runs of this build go through the run pipeline (store, artifacts) in
** (warm-ups, then (baseline, candidate) per seed) order whatever `jobs` is,
** so the stored results and the figures do not depend on it; the
** simulations themselves run ahead on `jobs` worker threads and wait, done,
** for their turn (at most `jobs` finished records are held besides the one
** being stored).  An arm with a `bin` runs another admitsim build as a child
** process (`BIN run SCENARIO --arm|--policy ARM --seed S --iterations 1
** --no-db --format json`, no shell) and its figures come from that output;
** such runs are neither stored nor written.
**
** With a database the experiment is stored too (res/store.h: kind ab, both
** arms, the seeds; its verdict, the experiment JSON, when it ends; status
** failed when a run fails), and each run of this build names it, its arm
** and the arm's overrides as parameters. */
#ifndef ADMITSIM_AB_H
#define ADMITSIM_AB_H

#include <stdbool.h>
#include <stdint.h>

#include "res/experiment.h"

typedef struct ab_spec {
    const char *scenario; /* file */
    const char *arm[2];   /* baseline, candidate; NULL: the scenario's "baseline" / "candidate" */
    const char *bin[2];   /* NULL: this build */
    const char *out_dir;  /* NULL: no artifacts */
    uint64_t artifact_seeds; /* write artifacts for seeds 1..this only; 0: every seed */
    const char *db_path;     /* NULL: not stored */
    bool store_all_events;   /* false: the notable events only (the default) */
    uint64_t seeds, warmups, jobs;
    const char *command_line; /* stored with each run */
    const char *who;          /* prefix of messages: "admitsim ab" */
    /* After each pair is taken: pairs done of total.  NULL: a line per ten
    ** seeds (per seed on a terminal) on stderr. */
    void (*on_pair)(void *ctx, uint64_t done, uint64_t total);
    void *ctx;
    int64_t first_run[2];  /* out: each arm's stored run of seed 1 (0: none) */
    int64_t experiment_id; /* out: the stored experiment (0: none) */
} ab_spec;

/* Runs the experiment.  On success returns EXIT_OK and *out (free with
** res_experiment_free); else an exit code of cli.h with the reason on
** stderr: EXIT_USAGE for an arm the scenario does not have, EXIT_FAILURE_RUN
** for a bad scenario or a failed run. */
int ab_experiment_run(ab_spec *spec, res_experiment **out);

/* ab-SCENARIO-CANDIDATE-vs-BASELINE.json and .md in dir, each written
** atomically; false with the reason on stderr. */
bool ab_write_report(const res_experiment *e, const char *dir, const char *who);

#endif
