/*
** Error codes and the message buffer every fallible admit_ call fills.
**
** Library code never exits or prints: it returns an admit_status and, when
** given a non-NULL admit_error, writes a one-line human message into it.
*/
#ifndef ADMIT_ERROR_H
#define ADMIT_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum admit_status {
    ADMIT_OK = 0,
    ADMIT_EINVAL,    /* a caller-supplied value is out of range or malformed */
    ADMIT_ENOMEM,    /* allocation failed */
    ADMIT_EMETADATA, /* scheduling metadata invalid and no fallback exists */
    ADMIT_ECONFIG,   /* a capacity/config value has no source and no fallback */
    ADMIT_ESTATE,    /* call not valid in the object's current state */
    ADMIT_ESPAWN     /* the runtime could not start a worker */
} admit_status;

#define ADMIT_ERROR_MAX 512

typedef struct admit_error {
    admit_status code;
    char message[ADMIT_ERROR_MAX];
} admit_error;

/* Stores code and a printf-formatted message; err may be NULL. Returns code. */
admit_status admit_error_set(admit_error *err, admit_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

const char *admit_status_name(admit_status code);

#ifdef __cplusplus
}
#endif

#endif
