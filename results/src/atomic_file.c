/*
** Files that appear whole or not at all (res/atomic_file.h).
*/
#include "res/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool res_error_set(res_error *err, res_status code, const char *fmt, ...) {
    if (!err) return false;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return false;
}

bool res_path_join(char *out, size_t n, const char *dir, const char *name, res_error *err) {
    size_t dl = strlen(dir);
    bool slash = dl > 0 && dir[dl - 1] == '/';
    int k = snprintf(out, n, "%s%s%s", dir, slash || !dl ? "" : "/", name);
    if (k < 0 || (size_t)k >= n)
        return res_error_set(err, RES_EINVAL, "%.200s...: path longer than %zu bytes", dir, n - 1);
    return true;
}

/* mkdir -p */
static bool make_dirs(const char *dir, res_error *err) {
    char path[PATH_MAX];
    if (!res_path_join(path, sizeof path, dir, "", err)) return false;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) goto fail;
        *p = '/';
    }
    if (mkdir(path, 0777) == 0 || errno == EEXIST) return true;
fail:
    return res_error_set(err, RES_EIO, "%s: cannot create directory: %s", dir, strerror(errno));
}

/* err's message followed by more text, as far as it fits. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
append(res_error *err, const char *fmt, ...) {
    if (!err) return;
    size_t n = strlen(err->message);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message + n, sizeof err->message - n, fmt, ap);
    va_end(ap);
}

/* A target that is a directory cannot be replaced by a file. */
static bool not_a_directory(const char *path, res_error *err) {
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return res_error_set(err, RES_EIO, "%s: is a directory, not a file", path);
    return true;
}

bool res_atomic_file_open(res_atomic_file *a, const char *dir, const char *name, res_error *err) {
    a->f = NULL;
    a->sealed = false;
    char suffix[64];
    snprintf(suffix, sizeof suffix, ".tmp.%ld", (long)getpid());
    if (!make_dirs(dir, err) || !res_path_join(a->path, sizeof a->path, dir, name, err) ||
        !res_path_join(a->tmp, sizeof a->tmp - strlen(suffix), dir, name, err) ||
        !not_a_directory(a->path, err))
        return false;
    strcat(a->tmp, suffix);
    a->f = fopen(a->tmp, "w");
    if (!a->f) return res_error_set(err, RES_EIO, "%s: cannot write: %s", a->tmp, strerror(errno));
    return true;
}

bool res_atomic_file_seal(res_atomic_file *a, res_error *err) {
    if (!a->f) return res_error_set(err, RES_EIO, "%s: not open", a->path);
    bool ok = !ferror(a->f) && fflush(a->f) == 0 && fsync(fileno(a->f)) == 0;
    int saved = errno;
    if (fclose(a->f) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    a->f = NULL;
    if (!ok) {
        unlink(a->tmp);
        return res_error_set(err, RES_EIO, "%s: cannot write: %s", a->tmp,
                             strerror(saved ? saved : EIO));
    }
    a->sealed = true;
    return true;
}

bool res_atomic_file_commit(res_atomic_file *a, res_error *err) {
    return res_atomic_file_seal(a, err) && res_atomic_files_publish(&a, 1, err);
}

void res_atomic_file_abort(res_atomic_file *a) {
    if (a->f) fclose(a->f);
    if (a->f || a->sealed) unlink(a->tmp);
    a->f = NULL;
    a->sealed = false;
}

/* ---- a set of files -------------------------------------------------------- */

/* The earlier file at a target, kept under a second name while the set is
** renamed into place. */
typedef struct earlier {
    char path[PATH_MAX]; /* "" when the target did not exist */
    bool moved;          /* renamed aside (no hard link): the target is absent */
} earlier;

/* The directory of path into dir (size PATH_MAX). */
static void dir_of(const char *path, char *dir) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, PATH_MAX, ".");
    else
        snprintf(dir, PATH_MAX, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

/* Whether a's target can be replaced: a sealed file, the target not a
** directory, its directory writable. */
static bool check_target(const res_atomic_file *a, res_error *err) {
    if (!a->sealed) return res_error_set(err, RES_EINVAL, "%s: not written", a->path);
    char dir[PATH_MAX];
    dir_of(a->path, dir);
    if (!not_a_directory(a->path, err)) return false;
    if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0)
        return res_error_set(err, RES_EIO, "%s: cannot replace files in %s: %s", a->path, dir,
                             strerror(errno));
    return true;
}

/* Keeps the earlier file at a's target as "PATH.old.PID": a second link,
** so the target stays in place, else (a file system without links) renamed
** aside. */
static bool keep_earlier(const res_atomic_file *a, earlier *e, res_error *err) {
    struct stat st;
    e->path[0] = '\0';
    e->moved = false;
    if (lstat(a->path, &st) != 0)
        return errno == ENOENT
                   ? true
                   : res_error_set(err, RES_EIO, "%s: cannot read: %s", a->path, strerror(errno));
    /* a->tmp is "PATH.tmp.PID": "PATH.old.PID" fits as well */
    memcpy(e->path, a->tmp, sizeof e->path);
    memcpy(e->path + strlen(a->path), ".old", 4);
    unlink(e->path); /* one left by a killed process of this pid */
    if (linkat(AT_FDCWD, a->path, AT_FDCWD, e->path, 0) == 0) return true;
    if (rename(a->path, e->path) == 0) return (e->moved = true);
    int saved = errno;
    e->path[0] = '\0';
    return res_error_set(err, RES_EIO, "%s: cannot keep the earlier file aside: %s", a->path,
                         strerror(saved));
}

/* Puts the earlier file back at a's target (or removes a new file where
** there was none); false, said in err, when it cannot. */
static bool restore(const res_atomic_file *a, const earlier *e, bool replaced, res_error *err) {
    if (!e->path[0]) {
        if (replaced) unlink(a->path);
        return true;
    }
    if (!replaced && !e->moved) {
        unlink(e->path); /* the target is still the earlier file */
        return true;
    }
    if (rename(e->path, a->path) == 0) return true;
    append(err, "; and %s could not be restored (%s): the earlier file is %s", a->path,
           strerror(errno), e->path);
    return false;
}

/* Undoes a failed publish: targets [0, placed) were replaced and the
** earlier files of [0, kept) are kept aside (placed <= kept: the renames
** start once every earlier file is kept). */
static void roll_back(res_atomic_file *const *files, const earlier *prev, size_t placed,
                      size_t kept, res_error *err) {
    bool all = true;
    for (size_t k = 0; k < kept; k++)
        all = restore(files[k], &prev[k], k < placed, err) && all;
    if (placed && all) append(err, "; the files renamed before it were put back");
}

bool res_atomic_files_publish(res_atomic_file *const *files, size_t n, res_error *err) {
    /* the last target needs no second name: its rename is the last step */
    earlier *prev = n > 1 ? calloc(n - 1, sizeof *prev) : NULL;
    bool ok = n <= 1 || prev ||
              res_error_set(err, RES_ENOMEM, "out of memory renaming %s", files[0]->path);
    for (size_t k = 0; ok && k < n; k++)
        ok = check_target(files[k], err);
    size_t kept = 0, placed = 0;
    while (ok && kept + 1 < n && (ok = keep_earlier(files[kept], &prev[kept], err)))
        kept++;
    while (ok && placed < n) {
        if (rename(files[placed]->tmp, files[placed]->path) != 0)
            ok = res_error_set(err, RES_EIO, "%s: cannot rename into place: %s",
                               files[placed]->path, strerror(errno));
        else
            files[placed++]->sealed = false;
    }
    if (!ok) roll_back(files, prev, placed, kept, err);
    for (size_t k = 0; ok && k < kept; k++)
        if (prev[k].path[0]) unlink(prev[k].path);
    for (size_t k = 0; k < n; k++)
        res_atomic_file_abort(files[k]);
    free(prev);
    return ok;
}
