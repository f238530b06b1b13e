/*
** Errors of the results layer: a code and a message naming the file or the
** iteration concerned.
*/
#ifndef RES_ERROR_H
#define RES_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum res_status {
    RES_OK = 0,
    RES_EINVAL = 1, /* a bad argument (a name too long for a path, say) */
    RES_EIO = 2,    /* a file could not be written */
    RES_ENOMEM = 3, /* out of memory */
    RES_ESTORE = 4, /* the results store failed (SQLite) */
    RES_ERUN = 5,   /* the environment could not run an iteration */
    RES_ELEAK = 6,  /* an iteration ended holding leases or waiters */
    /* the results store (res/store.h, res/store_reader.h) */
    RES_ENOTFOUND = 7,    /* no such database file, run or experiment */
    RES_ETOONEW = 8,      /* a database schema newer than this admitsim */
    RES_ETOOOLD = 9,      /* a schema older than the reader reads: `admitsim migrate` */
    RES_EFOREIGN = 10,    /* another program's database (or, to read, an empty one) */
    RES_EINTERRUPTED = 11 /* the environment was interrupted (Ctrl-C in a live run) */
} res_status;

typedef struct res_error {
    res_status code;
    char message[1024];
} res_error;

/* Sets err (if not NULL) to code and the formatted message; returns false. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
bool res_error_set(res_error *err, res_status code, const char *fmt, ...);

/* The "did you mean" of an error (nearest.c): the name of names[0..n) at
** most two edits from word (and fewer edits than it has letters), the
** nearest first; NULL if none. */
const char *res_nearest(const char *word, const char *const *names, size_t n);

#ifdef __cplusplus
}
#endif

#endif
