/* Spill files (res/spill.h). */
#include "res/spill.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Invariant: records [0, count) are in the file up to `written` bytes and
** in buf[0, used) after it (writing); reading, buf[0, used) holds the file
** from offset `at` - used and `next` is the offset of the next record. */
struct res_spill {
    int fd;
    size_t size;   /* record size */
    size_t count;  /* records appended */
    off_t written; /* bytes in the file */
    bool reading;
    off_t next;  /* reading: file offset of the next record */
    off_t at;    /* reading: file offset just past buf[used - 1] */
    size_t used; /* bytes in buf */
    char dir[256];
    char error[384];
    unsigned char *buf;
};

static bool fail(res_spill *s, const char *what, int e) {
    if (!s->error[0])
        snprintf(s->error, sizeof s->error, "%s the spill file in %s: %s", what, s->dir,
                 e ? strerror(e) : "the file is shorter than what was written");
    return false;
}

res_spill *res_spill_create(size_t record_size) {
    if (record_size == 0 || record_size > RES_SPILL_BUFFER) {
        errno = EINVAL;
        return NULL;
    }
    res_spill *s = calloc(1, sizeof *s);
    if (!s || !(s->buf = malloc(RES_SPILL_BUFFER))) {
        free(s);
        errno = ENOMEM;
        return NULL;
    }
    char path[300];
    if ((size_t)snprintf(s->dir, sizeof s->dir, "%s", res_spill_dir()) >= sizeof s->dir ||
        (size_t)snprintf(path, sizeof path, "%s/admitsim-spill-XXXXXX", s->dir) >= sizeof path) {
        free(s->buf);
        free(s);
        errno = ENAMETOOLONG;
        return NULL;
    }
    s->size = record_size;
    s->fd = mkstemp(path);
    if (s->fd < 0) {
        int e = errno;
        free(s->buf);
        free(s);
        errno = e;
        return NULL;
    }
    unlink(path);
    return s;
}

void res_spill_free(res_spill *s) {
    if (!s) return;
    close(s->fd);
    free(s->buf);
    free(s);
}

/* Writes buf out (writing). */
static bool flush(res_spill *s) {
    for (size_t done = 0; done < s->used;) {
        ssize_t n = pwrite(s->fd, s->buf + done, s->used - done, s->written + (off_t)done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail(s, "writing", n < 0 ? errno : ENOSPC);
        done += (size_t)n;
    }
    s->written += (off_t)s->used;
    s->used = 0;
    return true;
}

bool res_spill_append(res_spill *s, const void *record) {
    if (s->error[0] || s->reading) return false;
    if (s->used + s->size > RES_SPILL_BUFFER && !flush(s)) return false;
    memcpy(s->buf + s->used, record, s->size);
    s->used += s->size;
    s->count++;
    return true;
}

size_t res_spill_count(const res_spill *s) {
    return s->count;
}

bool res_spill_rewind(res_spill *s) {
    if (s->error[0]) return false;
    if (!s->reading && !flush(s)) return false;
    s->reading = true;
    s->next = s->at = 0;
    s->used = 0;
    return true;
}

/* Reads the buffer's worth of the file that starts at s->next (reading). */
static bool fill(res_spill *s) {
    size_t want = (size_t)(s->written - s->next);
    if (want > RES_SPILL_BUFFER) want = RES_SPILL_BUFFER / s->size * s->size;
    size_t got = 0;
    while (got < want) {
        ssize_t n = pread(s->fd, s->buf + got, want - got, s->next + (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail(s, "reading", n < 0 ? errno : 0);
        got += (size_t)n;
    }
    s->used = got;
    s->at = s->next + (off_t)got;
    return true;
}

bool res_spill_next(res_spill *s, void *record) {
    if (s->error[0] || !s->reading || s->next + (off_t)s->size > s->written) return false;
    if (s->next + (off_t)s->size > s->at && !fill(s)) return false;
    memcpy(record, s->buf + (s->used - (size_t)(s->at - s->next)), s->size);
    s->next += (off_t)s->size;
    return true;
}

const char *res_spill_error(const res_spill *s) {
    return s->error[0] ? s->error : NULL;
}

const char *res_spill_dir(void) {
    const char *dir = getenv("TMPDIR");
    return dir && dir[0] ? dir : "/tmp";
}

size_t res_spill_after(void) {
    const char *v = getenv("ADMITSIM_SPILL_AFTER");
    if (!v || !*v) return RES_SPILL_AFTER_DEFAULT;
    for (const char *c = v; *c; c++)
        if (*c < '0' || *c > '9') return RES_SPILL_AFTER_DEFAULT;
    errno = 0;
    unsigned long long n = strtoull(v, NULL, 10);
    return errno || n > SIZE_MAX ? RES_SPILL_AFTER_DEFAULT : (size_t)n;
}
