/* A clock for LD_PRELOAD in bench_cycle_clock_test.py.  By default it never
** moves: every clock_gettime reads the same instant, so whatever bench
** --cycle times lasts 0 ns, less the clock read it takes off: no
** measurement.  With FROZEN_CLOCK_STEP_SECONDS=N (a whole number above 0)
** each read is N seconds after the one before, whatever the clock id, so
** whatever bench times lasts a multiple of N seconds: a tiny rate.  With
** FROZEN_CLOCK_STEP_NS=N instead, each read is N nanoseconds after the one
** before: a tiny time. */
#include <stdlib.h>
#include <time.h>

static long long step_of(const char *name) {
    const char *step = getenv(name);
    long long n = step ? strtoll(step, NULL, 10) : 0;
    return n > 0 ? n : 0;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    static long long reads;
    (void)id;
    long long ns =
        (step_of("FROZEN_CLOCK_STEP_SECONDS") * 1000000000LL + step_of("FROZEN_CLOCK_STEP_NS")) *
        reads++;
    ts->tv_sec = (time_t)(1000 + ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
    return 0;
}
