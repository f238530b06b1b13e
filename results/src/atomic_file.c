/*
** Files that appear whole or not at all (res/atomic_file.h).
*/
#include "res/atomic_file.h"

#include <errno.h>
#include <stdarg.h>
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

bool res_atomic_file_open(res_atomic_file *a, const char *dir, const char *name, res_error *err) {
    a->f = NULL;
    char suffix[64];
    snprintf(suffix, sizeof suffix, ".tmp.%ld", (long)getpid());
    if (!make_dirs(dir, err) || !res_path_join(a->path, sizeof a->path, dir, name, err) ||
        !res_path_join(a->tmp, sizeof a->tmp - strlen(suffix), dir, name, err))
        return false;
    strcat(a->tmp, suffix);
    a->f = fopen(a->tmp, "w");
    if (!a->f) return res_error_set(err, RES_EIO, "%s: cannot write: %s", a->tmp, strerror(errno));
    return true;
}

bool res_atomic_file_commit(res_atomic_file *a, res_error *err) {
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
    if (rename(a->tmp, a->path) != 0) {
        saved = errno;
        unlink(a->tmp);
        return res_error_set(err, RES_EIO, "%s: cannot rename into place: %s", a->path,
                             strerror(saved));
    }
    return true;
}

void res_atomic_file_abort(res_atomic_file *a) {
    if (!a->f) return;
    fclose(a->f);
    a->f = NULL;
    unlink(a->tmp);
}
