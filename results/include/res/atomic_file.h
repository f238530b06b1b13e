/*
** Files that appear whole or not at all.
**
** res_atomic_file_open() creates DIR (and its parents) and a temporary
** "NAME.tmp.PID" beside DIR/NAME; writes go to the temporary file;
** res_atomic_file_commit() flushes it, fsyncs it and renames it into place;
** res_atomic_file_abort() (or a failed commit) removes it.  A path that
** would not fit PATH_MAX is an error, never a truncated name.
*/
#ifndef RES_ATOMIC_FILE_H
#define RES_ATOMIC_FILE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "res/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct res_atomic_file {
    FILE *f; /* write here between open and commit */
    char path[PATH_MAX];
    char tmp[PATH_MAX];
} res_atomic_file;

bool res_atomic_file_open(res_atomic_file *a, const char *dir, const char *name, res_error *err);
/* False with err set (the temporary file removed) when anything failed,
** including an earlier write through a->f. */
bool res_atomic_file_commit(res_atomic_file *a, res_error *err);
void res_atomic_file_abort(res_atomic_file *a);

/* "dir/name" into out (size n); false with err set when it does not fit. */
bool res_path_join(char *out, size_t n, const char *dir, const char *name, res_error *err);

#ifdef __cplusplus
}
#endif

#endif
