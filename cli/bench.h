/* The benchmarks behind `admitsim bench --request` (bench_request.c),
** `admitsim bench --store` (bench_store.c), `admitsim bench --cycle`
** (bench_cycle.c) and the whole-process rows of the scale mode
** (bench_process.c); the result is an exit code of cli.h. */
#ifndef ADMITSIM_BENCH_H
#define ADMITSIM_BENCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_scenario;

int bench_request(uint64_t repeat);
int bench_store(const struct sim_scenario *sc, uint64_t seed, uint64_t repeat, bool all_events);

/* The admission microbench's matrix, as its file gives it (bench_matrix.c
** states the file's keys and limits). */
enum { BENCH_MATRIX_MAX = 16 };
typedef struct bench_matrix {
    char path[4096];
    char scenario_id[96];
    uint64_t scenario_version;
    uint32_t tasks[BENCH_MATRIX_MAX], groups[BENCH_MATRIX_MAX];
    int mixes[3], policies[2]; /* 0 local, 1 resource, 2 mixed; 0 strict, 1 bounded */
    size_t ntasks, ngroups, nmixes, npolicies;
    uint64_t warmups, repeats;
    json_t *check; /* the file's "check" object, or NULL */
} bench_matrix;
/* Reads and checks the matrix file; false with why ("FILE: $.PATH: what
** was expected") filled. */
bool bench_matrix_load(const char *path, bench_matrix *m, char *why, size_t len);
void bench_matrix_release(bench_matrix *m);

/* Which cases of the matrix to run (0 / -1: all of the file's) and how. */
typedef struct bench_cycle_options {
    const char *matrix_file; /* NULL: the shipped scenarios/microbench/admission_cycle.json */
    uint64_t warmup, repeat; /* UINT64_MAX: the file's warmups, repeats */
    uint32_t groups, tasks;  /* 0: every count of the matrix */
    int mix;                 /* -1: all; 0 local, 1 resource, 2 mixed */
    int policy;              /* -1: both; 0 strict, 1 bounded */
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

/* The median of sorted[0..n), n > 0. */
double bench_median(const double *sorted, uint64_t n);
/* A figure as a table shows it, in out: with decimals digits after the
** point from fixed_from up, three significant digits below (0.0123,
** 4.56e-07), so a figure above zero never reads 0; the JSON keeps the exact
** figure. */
const char *bench_figure_text(double x, double fixed_from, int decimals, char *out, size_t len);
/* A rate (tasks/s): whole units from 100 up. */
static inline const char *bench_rate_text(double rate, char *out, size_t len) {
    return bench_figure_text(rate, 100, 0, out, len);
}
/* A time in seconds: four decimals from 1 ms up. */
static inline const char *bench_seconds_text(double secs, char *out, size_t len) {
    return bench_figure_text(secs, 0.001, 4, out, len);
}
/* Makes a new directory $TMPDIR/admitsim-bench-XXXXXX (else under /tmp),
** named in dir; false, said on stderr, when it cannot. */
bool bench_temp_dir(char *dir, size_t len);
/* `admitsim run SCENARIO` on the scenario scaled by o->scale, as a child
** process, o->repeat times per policy (after o->warmup unmeasured), with
** --no-db (process "run") and with the default store into a new database
** (process "store", with its median over the run's): wall time from start
** to exit as tasks per second, its spread, and peak RSS; a table row each,
** or JSON objects appended to rows. */
struct json_t;
int bench_process(const char *scenario, const bench_scale_options *o, uint64_t tasks,
                  struct json_t *rows);

#endif
