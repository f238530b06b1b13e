/* A clock for LD_PRELOAD in bench_cycle_clock_test.py.  By default it never
** moves: every clock_gettime reads the same instant, so whatever bench
** --cycle times lasts 0 ns, less the clock read it takes off: no
** measurement.  With FROZEN_CLOCK_STEP_SECONDS=N (a whole number above 0)
** each read is N seconds after the one before, whatever the clock id, so
** whatever bench times lasts a multiple of N seconds: a tiny rate. */
#include <stdlib.h>
#include <time.h>

int clock_gettime(clockid_t id, struct timespec *ts) {
    static time_t reads;
    (void)id;
    const char *step = getenv("FROZEN_CLOCK_STEP_SECONDS");
    time_t n = step ? (time_t)strtol(step, NULL, 10) : 0;
    ts->tv_sec = 1000 + (n > 0 ? n * reads++ : 0);
    ts->tv_nsec = 0;
    return 0;
}
