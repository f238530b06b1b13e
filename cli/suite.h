/* admitsim suite's parts: the command (cmd_suite.c), its progress on stderr
** and its report (suite_report.c). */
#ifndef ADMITSIM_SUITE_H
#define ADMITSIM_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "res/experiment.h"

#define SUITE_MAX_SCENARIOS 256

typedef struct suite_args {
    const char *dir, *out, *db, *db_path, *fmt;
    const char *arm[2]; /* --baseline, --candidate; NULL: each scenario's own */
    uint64_t seeds, jobs;
    bool plots;
    const char *const *files;
    size_t nfiles;
} suite_args;

typedef struct suite_list {
    size_t count;
    char *path[SUITE_MAX_SCENARIOS];
} suite_list;

/* One scenario's outcome. */
typedef struct suite_entry {
    const char *path;
    char stem[256];        /* file name without ".json": its directory under OUT */
    char description[512]; /* the scenario's */
    int rc;                /* ab_experiment_run's exit code */
    res_experiment *e;     /* NULL when it failed */
    int64_t first_run[2];  /* the stored runs of seed 1 */
    int64_t experiment_id; /* the stored experiment */
    char plots[2][600];    /* their pictures' directory relative to OUT ("" when none) */
    char xplots[600];      /* the experiment's pictures' directory, likewise */
    bool plot_failed;
    bool outputs_equal_tag; /* the scenario says both arms give the same outputs */
    bool outputs_broken;    /* ... and they do not */
    double seconds;         /* host time it took */
} suite_entry;

/* Progress on stderr: a bar redrawn in place on a terminal, else one line
** per finished scenario. */
typedef struct suite_progress {
    bool tty;
    size_t total, index;
    uint64_t seeds;
    char name[128];
    double t0;
} suite_progress;

void suite_progress_start(suite_progress *p, size_t scenarios, uint64_t seeds);
void suite_progress_scenario(suite_progress *p, size_t index, const char *path);
void suite_progress_pair(suite_progress *p, uint64_t done, uint64_t total);
void suite_progress_done(suite_progress *p, const suite_entry *s);
void suite_progress_finish(suite_progress *p);

/* OUT/report.md and OUT/suite.json, each written atomically; false with the
** reason on stderr. */
bool suite_write_report(const suite_args *a, const suite_entry *entries, size_t n,
                        const char *command_line, double seconds);

#endif
