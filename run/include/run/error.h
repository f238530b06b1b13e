/*
** Errors of the run layer (configuration loading and assembly): a code and
** a message.  Messages name the file and, for configuration errors, the JSON
** path: "FILE: PATH: expected WHAT, got VALUE".
*/
#ifndef RUN_ERROR_H
#define RUN_ERROR_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum run_status {
    RUN_OK = 0,
    RUN_EINVAL = 1, /* the configuration is malformed or inconsistent */
    RUN_EIO = 2,    /* a file could not be read */
    RUN_ENOMEM = 3, /* out of memory */
    RUN_ECORE = 4   /* the core library refused the assembled configuration */
} run_status;

typedef struct run_error {
    run_status code;
    char message[1024];
} run_error;

/* Sets err (if not NULL) to code and the formatted message; returns false. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
bool run_error_set(run_error *err, run_status code, const char *fmt, ...);

#ifdef __cplusplus
}
#endif

#endif
