/*
** Files that appear whole or not at all.
**
** res_atomic_file_open() creates DIR (and its parents) and a temporary
** "NAME.tmp.PID" beside DIR/NAME; writes go to the temporary file;
** res_atomic_file_commit() flushes it, fsyncs it and renames it into place;
** res_atomic_file_abort() (or a failed commit) removes it.  A path that
** would not fit PATH_MAX is an error, never a truncated name, and so is a
** DIR/NAME that is a directory.
**
** Several files that belong together (a run's artifact and reports) are
** sealed one by one (res_atomic_file_seal: flushed, fsynced, closed, not
** yet renamed) and then published as a set (res_atomic_files_publish):
** either every file replaces its target, or no target changes.
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
    FILE *f; /* write here between open and commit (or seal) */
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    bool sealed; /* tmp is complete and closed, not yet renamed */
} res_atomic_file;

bool res_atomic_file_open(res_atomic_file *a, const char *dir, const char *name, res_error *err);
/* False with err set (the temporary file removed) when anything failed,
** including an earlier write through a->f. */
bool res_atomic_file_commit(res_atomic_file *a, res_error *err);
/* Removes the temporary file (open or sealed); nothing when there is none. */
void res_atomic_file_abort(res_atomic_file *a);

/* Flushes, fsyncs and closes the temporary file without renaming it.  False
** with err set (the temporary file removed) when anything failed,
** including an earlier write through a->f. */
bool res_atomic_file_seal(res_atomic_file *a, res_error *err);

/* Renames n sealed files into place as a set, all or none (as far as POSIX
** allows).  First every target is checked (a directory, or a directory
** that cannot be written, is refused before anything is renamed) and the
** earlier file at each target but the last is kept under a second name
** "NAME.old.PID" (a hard link, or a rename where links are not possible);
** then the temporary files are renamed in order.  When a rename fails, the
** files renamed so far are undone (the earlier file renamed back, a target
** that did not exist removed) and err says so; the second names are
** removed once every file is in place.  A process killed while renaming
** (SIGKILL, a crash) can leave a mix, with the earlier files kept as
** NAME.old.PID; an earlier file is never removed.  The temporary files are
** gone either way (a->sealed false). */
bool res_atomic_files_publish(res_atomic_file *const *files, size_t n, res_error *err);

/* "dir/name" into out (size n); false with err set when it does not fit. */
bool res_path_join(char *out, size_t n, const char *dir, const char *name, res_error *err);

#ifdef __cplusplus
}
#endif

#endif
