/*
** What the libFuzzer targets of tests/fuzz share: a scratch directory of
** this process, writing an input to a file there, a check that aborts (so
** libFuzzer saves the input as a crash), and one checked run of a loaded
** scenario.
**
** fuzz_run_checked() runs iteration 0 of a scenario with seed 1 under its
** default policy when the scenario is small enough for one input to take
** milliseconds (FUZZ_MAX_TASKS, FUZZ_MAX_WORK), summarises it, and checks
** what holds for every scenario the loader accepts: the run either fails
** with a clear error the simulator documents (the clock's range, out of
** memory; never the core refusing what the loader accepted) or returns a
** record holding no task lease, request lease or request waiter; its summary's figures are
** finite and in order (0 <= p50 <= p95 <= max, mean <= max); its
** `run --format json` object has every key.
*/
#ifndef ADMIT_FUZZ_COMMON_H
#define ADMIT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "sim/scenario.h"

/* Inputs above these run nothing (they only load): tasks of all columns,
** and planned work (sim_scenario_planned_work). */
#define FUZZ_MAX_TASKS 2000
#define FUZZ_MAX_WORK  20000

/* Aborts with the message (printf-style) when cond is false. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                            \
    } while (0)

#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 4, 5)))
#endif
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...);

/* A directory of this process (under $TMPDIR, else /tmp), removed with its
** files at exit; path of name inside it in out (len bytes). */
void fuzz_scratch_path(const char *name, char *out, size_t len);

/* Writes data (size bytes) to path, replacing it; aborts if it cannot. */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/* True when what failed says so clearly: a message that starts with path. */
int fuzz_error_names(const char *message, const char *path);

/* True when FUZZ_VERBOSE is set: the targets then say on stderr what
** became of each input (for reproducing one by hand). */
int fuzz_is_verbose(void);

/* One checked run of sc (see above).  Returns 1 when it ran. */
int fuzz_run_checked(const sim_scenario *sc);

#endif
