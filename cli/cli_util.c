#define _XOPEN_SOURCE 700 /* realpath */
#include "cli.h"

#include <stdbool.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "res/artifact.h"
#include "res/store.h"
#include "res/store_reader.h"

bool cli_parse_range(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max,
                     uint64_t *out) {
    char *end = NULL;
    if (!text || !*text || *text == '-') goto bad;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end || errno == ERANGE || v < min || v > max) goto bad;
    *out = v;
    return true;
bad:
    fprintf(stderr, "admitsim %s: %s expects an integer from %llu to %llu, got '%s'\n", cmd, opt,
            (unsigned long long)min, (unsigned long long)max, text ? text : "");
    return false;
}

bool cli_set_realtime(bool realtime, char *why, size_t why_size) {
    struct sched_param sp = {.sched_priority = realtime ? 1 : 0};
    int rc = pthread_setschedparam(pthread_self(), realtime ? SCHED_FIFO : SCHED_OTHER, &sp);
    if (rc == 0) return true;
    snprintf(why, why_size, "%s",
             rc == EPERM ? "not permitted (needs CAP_SYS_NICE or RLIMIT_RTPRIO >= 1)"
                         : strerror(rc));
    return false;
}

bool cli_self_path(char *buf, size_t len) {
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0 || (size_t)n >= len - 1) return false;
    buf[n] = '\0';
    return buf[0] == '/';
}

bool cli_beside_self(const char *rel, char *buf, size_t len) {
    char self[4096];
    if (!cli_self_path(self, sizeof self)) return false;
    *strrchr(self, '/') = '\0';
    int k = snprintf(buf, len, "%s/%s", self, rel);
    return k > 0 && (size_t)k < len;
}

bool cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t max,
                   uint64_t *out) {
    return cli_parse_range(cmd, opt, text, 0, max, out);
}

bool cli_parse_seed(const char *cmd, const char *opt, const char *text, uint64_t *out) {
    return cli_parse_range(cmd, opt, text, 0, CLI_SEED_MAX, out);
}

bool cli_parse_store_events(const char *cmd, const char *text, bool *all) {
    if (strcmp(text, "all") && strcmp(text, "notable")) {
        cli_usage_error(cmd, "--store-events expects all or notable, got '%s'", text);
        return false;
    }
    *all = !strcmp(text, "all");
    return true;
}

const char *cli_db_default(void) {
    const char *env = getenv("ADMITSIM_DB");
    return env && *env ? env : RES_STORE_DEFAULT_PATH;
}

bool cli_lifecycle_complete(const char *cmd, struct res_store_reader *r, const char *db,
                            int64_t run, int64_t iteration, bool allow_incomplete) {
    uint64_t missing = 0;
    res_error err;
    if (res_store_reader_lifecycle_shortfall(r, run, iteration, &missing, &err) != RES_OK) {
        fprintf(stderr, "admitsim %s: %s\n", cmd, err.message);
        return false;
    }
    if (!missing) return true;
    fprintf(stderr,
            "admitsim %s: %s%s: run %lld iteration %lld was stored with its notable events only, "
            "and %llu of its lifecycle events (tasks queued but never given a worker, leases "
            "of stale selections, earlier selections) cannot be rebuilt from task_timelines "
            "and request_attempts: %s\n",
            cmd, allow_incomplete ? "warning: " : "", db, (long long)run, (long long)iteration,
            (unsigned long long)missing,
            allow_incomplete ? "the output lacks them"
                             : "the output would lack them. Store the run with --store-events "
                               "all, or pass --allow-incomplete");
    return allow_incomplete;
}

bool cli_db_is_new(const char *path) {
    return path && access(path, F_OK) != 0;
}

/* Appends path's components to out (an absolute path, PATH_MAX bytes):
** "." and empty ones skipped, ".." drops the last; false when too long. */
static bool append_components(char *out, const char *path) {
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/"), len = strlen(out);
        if (n == 2 && !strncmp(p, "..", 2)) {
            char *slash = strrchr(out, '/');
            slash[slash == out] = '\0';
        } else if (n && !(n == 1 && *p == '.')) {
            bool root = len == 1;
            if (len + !root + n >= PATH_MAX) return false;
            snprintf(out + len, PATH_MAX - len, "%s%.*s", root ? "" : "/", (int)n, p);
        }
        p += n + (p[n] == '/');
    }
    return true;
}

/* path made absolute into out (PATH_MAX bytes): its longest leading part
** that exists resolved (realpath), the rest appended as written. */
static bool resolve_path(const char *path, char *out) {
    char head[PATH_MAX];
    size_t rest = strlen(path); /* path + rest: not resolved yet */
    if (rest >= sizeof head) return false;
    memcpy(head, path, rest + 1);
    while (!realpath(head[0] ? head : ".", out)) {
        if (errno != ENOENT && errno != ENOTDIR) return false;
        char *slash = strrchr(head, '/');
        rest = slash ? (size_t)(slash - head) : 0;
        if (slash == head)
            head[1] = '\0'; /* "/" */
        else if (slash)
            *slash = '\0';
        else
            head[0] = '\0';
    }
    return append_components(out, path + rest);
}

bool cli_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    bool ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    /* "dir/../x" with dir yet to be made names x once it is */
    char ra[PATH_MAX], rb[PATH_MAX];
    if (!resolve_path(a, ra) || !resolve_path(b, rb)) return strcmp(a, b) == 0;
    return strcmp(ra, rb) == 0;
}

void cli_db_created(const char *cmd, const char *path) {
    fprintf(stderr,
            "admitsim %s: created the results database %s (--db FILE or ADMITSIM_DB=FILE keeps "
            "it elsewhere, --no-db stores nothing)\n",
            cmd, path);
}

static double clock_seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double cli_monotonic_seconds(void) {
    return clock_seconds(CLOCK_MONOTONIC);
}

void cli_remove_db(const char *path) {
    char p[4200];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-journal", path);
    unlink(p);
}

double cli_cpu_seconds(void) {
    return clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

void cli_file_tail(const char *path, char *out, size_t n) {
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size > (long)n - 1)
            fseek(f, size - (long)(n - 1), SEEK_SET);
        else
            rewind(f);
    }
    size_t got = fread(out, 1, n - 1, f);
    out[got] = '\0';
    for (size_t i = 0; i < got; i++)
        if (out[i] == '\n') out[i] = i + 1 == got ? '\0' : ' ';
    fclose(f);
}

void cli_lock_wait_progress(const char *db_path, double waited_seconds) {
    fprintf(stderr,
            "admitsim run: waiting for the write lock of %s (another writer holds it): %.0f s\n",
            db_path, waited_seconds);
}

void cli_report_lock_waits(const res_store_lock_waits *w, const char *db_path) {
    if (w->count)
        fprintf(stderr,
                "admitsim run: waited %.3f s in all for the write lock of %s (%llu wait%s, the "
                "longest %.3f s)\n",
                w->total_seconds, db_path, (unsigned long long)w->count, w->count == 1 ? "" : "s",
                w->longest_seconds);
}

/* args joined by blanks, each quoted for a POSIX shell when it needs it,
** so the line can be pasted back. */
char *cli_shell_join(size_t n, const char *const *args) {
    size_t len = 16;
    for (size_t i = 0; i < n; i++)
        len += strlen(args[i]) * 4 + 3;
    char *s = malloc(len), *o = s;
    if (!s) return NULL;
    *o = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *a = args[i];
        if (i) *o++ = ' ';
        bool plain = *a != '\0';
        for (const char *p = a; *p && plain; p++)
            plain =
                strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=,@%+-",
                       *p) != NULL;
        if (plain) {
            o = stpcpy(o, a);
            continue;
        }
        *o++ = '\'';
        for (const char *p = a; *p; p++)
            o = *p == '\'' ? stpcpy(o, "'\\''") : (*o = *p, o + 1);
        *o++ = '\'';
    }
    *o = '\0';
    return s;
}

/* "admitsim" and argv[0..argc) as given, before getopt reorders them. */
static const char **command_args(int argc, char **argv) {
    const char **args = malloc(((size_t)argc + 1) * sizeof *args);
    if (!args) return NULL;
    args[0] = "admitsim";
    for (int i = 0; i < argc; i++)
        args[i + 1] = argv[i];
    return args;
}

char *cli_command_line(int argc, char **argv) {
    const char **args = command_args(argc, argv);
    char *s = args ? cli_shell_join((size_t)argc + 1, args) : NULL;
    free(args);
    return s;
}

char *cli_command_argv_json(int argc, char **argv) {
    json_t *a = json_array();
    bool ok = a && json_array_append_new(a, json_string("admitsim")) == 0;
    for (int i = 0; ok && i < argc; i++)
        ok = json_array_append_new(a, res_json_string_lossy(argv[i])) == 0;
    char *s = ok ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return s;
}

char *cli_command_display(const char *stored) {
    json_t *a = stored && stored[0] == '[' ? json_loads(stored, 0, NULL) : NULL;
    size_t n = json_array_size(a);
    const char **args = n ? malloc(n * sizeof *args) : NULL;
    bool ok = args != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = (args[i] = json_string_value(json_array_get(a, i))) != NULL;
    char *s = ok ? cli_shell_join(n, args) : strdup(stored ? stored : "-");
    free(args);
    json_decref(a);
    return s;
}

bool cli_parse_time_scale(const char *cmd, const char *text, double *out) {
    char *end;
    double v = strtod(text, &end);
    if (end != text && !*end && v > 0 && isfinite(v) && v <= 1e6) {
        *out = v;
        return true;
    }
    fprintf(stderr, "admitsim %s: --time-scale expects a number > 0, got '%s'\n", cmd, text);
    return false;
}
