/* A sweep's output directory (sweep.h):
**   plan.json            the expanded plan; its digest ties the directory to one sweep
**   lock                 held (fcntl) by the driver working on the directory
**   journal              one JSON object a line: starts, each shard's end, submissions,
**                        interruptions, the experiment the shards merged into
**   shards/shard-K.json  shard K's figures, naming its database: K is complete once it
**                        is in place (linked, so the first process to finish K wins)
**   shards/shard-K.*.db  shard K's database (copied in before its JSON)
**   logs/                each shard process's output
**   result.json          the figures per point, once every shard merged
*/
#define _GNU_SOURCE /* strdup */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "res/report_files.h"
#include "sweep.h"

void sweep_dir_file(const char *dir, const char *sub, char *buf, size_t len) {
    snprintf(buf, len, "%s/%s", dir, sub);
}

void sweep_shard_json_path(const char *dir, size_t shard, char *buf, size_t len) {
    snprintf(buf, len, "%s/shards/shard-%06zu.json", dir, shard);
}

/* mkdir -p */
static bool make_dirs(const char *path, char *err, size_t errlen) {
    char dir[SWEEP_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *q = dir + 1; *q; q++) {
        if (*q != '/') continue;
        *q = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) break;
        *q = '/';
    }
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) return true;
    snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
    return false;
}

/* The digest plan.json of dir records ("" when there is none); false when
** it exists but cannot be read. */
static bool recorded_digest(const char *dir, char *digest, size_t len) {
    char path[SWEEP_PATH_MAX + 16];
    sweep_dir_file(dir, "plan.json", path, sizeof path);
    digest[0] = '\0';
    struct stat st;
    if (stat(path, &st) != 0) return errno == ENOENT;
    json_t *plan = json_load_file(path, 0, NULL);
    const char *d = json_string_value(json_object_get(plan, "digest"));
    if (d) snprintf(digest, len, "%s", d);
    json_decref(plan);
    return d != NULL;
}

bool sweep_dir_check_plan(const char *dir, const sweep_plan *p, char *err, size_t errlen) {
    char digest[64];
    if (!recorded_digest(dir, digest, sizeof digest) || !digest[0]) {
        snprintf(err, errlen, "%s holds no readable plan.json (was it made by admitsim sweep?)",
                 dir);
        return false;
    }
    if (!strcmp(digest, p->digest)) return true;
    snprintf(err, errlen,
             "%s holds another sweep (plan digest %s; %s makes %s now: the sweep file, its "
             "scenario or this admitsim changed)",
             dir, digest, p->file, p->digest);
    return false;
}

/* Takes the directory's lock; false (with who holds it) when another
** process has it. */
static bool take_lock(sweep_dir *d, char *err, size_t errlen) {
    char path[SWEEP_PATH_MAX + 16];
    sweep_dir_file(d->path, "lock", path, sizeof path);
    d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (d->lock_fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return false;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(d->lock_fd, F_SETLK, &fl) == 0) return true;
    struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    long pid = fcntl(d->lock_fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK ? (long)who.l_pid : 0;
    snprintf(err, errlen,
             "%s is in use by another admitsim sweep or search (pid %ld); wait for it to end",
             d->path, pid);
    close(d->lock_fd);
    d->lock_fd = -1;
    return false;
}

static bool write_plan(const sweep_dir *d, const sweep_plan *p, char *err, size_t errlen) {
    json_t *plan = sweep_plan_json(p);
    char *text = json_dumps(plan, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    json_decref(plan);
    bool ok = text && res_write_text_atomic(text, d->path, "plan.json", err, errlen) == 0;
    free(text);
    return ok;
}

bool sweep_dir_lock(sweep_dir *d, const char *dir, char *err, size_t errlen) {
    d->lock_fd = -1;
    if (!make_dirs(dir, err, errlen)) return false;
    if (!realpath(dir, d->path)) {
        snprintf(err, errlen, "cannot resolve %s: %s", dir, strerror(errno));
        return false;
    }
    return take_lock(d, err, errlen);
}

bool sweep_dir_open(sweep_dir *d, const char *dir, const sweep_plan *p, bool resume, char *err,
                    size_t errlen) {
    char sub[SWEEP_PATH_MAX + 16];
    if (!sweep_dir_lock(d, dir, err, errlen)) return false;
    char digest[64];
    bool ok = recorded_digest(d->path, digest, sizeof digest);
    if (!ok)
        snprintf(err, errlen, "%s/plan.json cannot be read; use another --out", d->path);
    else if (digest[0] && !resume) {
        snprintf(err, errlen,
                 "%s holds a sweep already: --resume continues it (running only what is "
                 "missing or failed), or choose another --out",
                 d->path);
        ok = false;
    } else if (digest[0])
        ok = sweep_dir_check_plan(d->path, p, err, errlen);
    for (int i = 0; ok && i < 2; i++) {
        sweep_dir_file(d->path, i ? "logs" : "shards", sub, sizeof sub);
        ok = make_dirs(sub, err, errlen);
    }
    if (ok && !digest[0]) ok = write_plan(d, p, err, errlen);
    if (!ok) sweep_dir_close(d);
    return ok;
}

void sweep_dir_close(sweep_dir *d) {
    if (d->lock_fd >= 0) close(d->lock_fd);
    d->lock_fd = -1;
}

/* The database shard's JSON names (a file name in shards/), into buf. */
static bool shard_db_name(const char *json_path, char *buf, size_t len) {
    json_t *j = json_load_file(json_path, 0, NULL);
    const char *db = json_string_value(json_object_get(j, "db"));
    bool ok = db && !strchr(db, '/') && snprintf(buf, len, "%s", db) < (int)len;
    json_decref(j);
    return ok;
}

bool sweep_shard_is_complete(const char *dir, size_t shard) {
    char json[SWEEP_PATH_MAX + 64], name[256], db[SWEEP_PATH_MAX + 300];
    sweep_shard_json_path(dir, shard, json, sizeof json);
    if (access(json, R_OK) != 0 || !shard_db_name(json, name, sizeof name)) return false;
    snprintf(db, sizeof db, "%s/shards/%s", dir, name);
    return access(db, R_OK) == 0;
}

size_t *sweep_missing_shards(const sweep_plan *p, const char *dir, size_t *n) {
    size_t *idx = calloc(p->nshards ? p->nshards : 1, sizeof *idx);
    *n = 0;
    for (size_t k = 0; idx && k < p->nshards; k++) {
        if (sweep_shard_is_complete(dir, k)) continue;
        char json[SWEEP_PATH_MAX + 64];
        sweep_shard_json_path(dir, k, json, sizeof json);
        /* a JSON without its database; asked again just before, as a shard
        ** another process completes meanwhile keeps its JSON */
        if (access(json, F_OK) == 0 && !sweep_shard_is_complete(dir, k)) unlink(json);
        idx[(*n)++] = k;
    }
    return idx;
}

void sweep_journal(const char *dir, json_t *entry) {
    char path[SWEEP_PATH_MAX + 16], now[32];
    time_t t = time(NULL);
    struct tm tm;
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    json_object_set_new(entry, "time", json_string(now));
    char *line = json_dumps(entry, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(entry);
    sweep_dir_file(dir, "journal", path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd >= 0 && line) {
        size_t n = strlen(line);
        line[n] = '\n'; /* one write: a line is whole or absent */
        if (write(fd, line, n + 1) != (ssize_t)(n + 1))
            fprintf(stderr, "admitsim sweep: cannot append to %s\n", path);
    }
    if (fd >= 0) close(fd);
    free(line);
}

json_t *sweep_journal_read(const char *dir) {
    char path[SWEEP_PATH_MAX + 16];
    sweep_dir_file(dir, "journal", path, sizeof path);
    json_t *all = json_array();
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    while (f && getline(&line, &cap, f) > 0) {
        json_t *e = json_loads(line, 0, NULL); /* a torn line is skipped */
        if (json_is_object(e))
            json_array_append_new(all, e);
        else
            json_decref(e);
    }
    free(line);
    if (f) fclose(f);
    return all;
}

/* True when name is a database of shards/ that no shard JSON names, or a
** temporary file. */
static bool is_stale(const char *shards, const char *name) {
    if (!strncmp(name, ".tmp-", 5)) return true;
    size_t n = strlen(name);
    unsigned long k;
    if (n < 4 || strcmp(name + n - 3, ".db") || sscanf(name, "shard-%lu.", &k) != 1) return false;
    char json[SWEEP_PATH_MAX + 64], named[256];
    snprintf(json, sizeof json, "%s/shard-%06lu.json", shards, k);
    return !shard_db_name(json, named, sizeof named) || strcmp(named, name) != 0;
}

void sweep_dir_clean(const char *dir) {
    char shards[SWEEP_PATH_MAX + 16], path[2 * SWEEP_PATH_MAX];
    sweep_dir_file(dir, "shards", shards, sizeof shards);
    DIR *dh = opendir(shards);
    struct dirent *e;
    while (dh && (e = readdir(dh))) {
        if (!is_stale(shards, e->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", shards, e->d_name);
        unlink(path);
    }
    if (dh) closedir(dh);
}
