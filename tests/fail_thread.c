/* A pthread_create for LD_PRELOAD in bench_request_fault_test.py: with
** FAIL_THREAD_AFTER=N the first N threads start and every later one is
** refused with EAGAIN, as when a process reaches its thread limit; without
** it every thread starts.  Not for the sanitizer build, whose runtime
** (linked into the executable) intercepts pthread_create before any
** preloaded library. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

typedef int create_fn(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                   void *arg) {
    static long started;
    const char *after = getenv("FAIL_THREAD_AFTER");
    if (after && started >= strtol(after, NULL, 10)) return EAGAIN;
    create_fn *real;
    *(void **)&real = dlsym(RTLD_NEXT, "pthread_create"); /* POSIX's way to a function */
    if (!real) return ENOSYS;
    int rc = real(thread, attr, start, arg);
    if (rc == 0) started++;
    return rc;
}
