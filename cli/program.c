#define _DEFAULT_SOURCE /* wait4 */
#include "program.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

bool cli_program_find(const char *name, char *out, size_t len) {
    const char *path = getenv("PATH");
    char fallback[1024];
    if (!path) {
        size_t n = confstr(_CS_PATH, fallback, sizeof fallback);
        path = n > 0 && n <= sizeof fallback ? fallback : "/bin:/usr/bin";
    }
    for (const char *p = path;; p++) {
        size_t dir = strcspn(p, ":");
        int n = snprintf(out, len, "%.*s%s%s", (int)dir, p, dir ? "/" : "", name);
        struct stat st;
        if (n > 0 && (size_t)n < len && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
            access(out, X_OK) == 0)
            return true;
        p += dir;
        if (!*p) return false;
    }
}

/* The file actions of the child: stdin from /dev/null, stdout to out and
** stderr to errs (descriptors the parent opened). */
static int redirect(posix_spawn_file_actions_t *fa, int out, int errs) {
    int rc = posix_spawn_file_actions_init(fa);
    if (rc) return rc;
    if ((rc = posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0)) ||
        (rc = posix_spawn_file_actions_adddup2(fa, out, STDOUT_FILENO)) ||
        (rc = posix_spawn_file_actions_adddup2(fa, errs, STDERR_FILENO)))
        posix_spawn_file_actions_destroy(fa);
    return rc;
}

static int open_log(const char *path, char *err, size_t errlen) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return fd;
}

static bool await(const char *path, char *const argv[], pid_t pid, struct rusage *usage, char *err,
                  size_t errlen);
static bool spawn(const char *path, char *const argv[], posix_spawn_file_actions_t *fa, pid_t *pid,
                  char *err, size_t errlen);

bool cli_program_run(const char *path, char *const argv[], const char *log_path, char *err,
                     size_t errlen) {
    return cli_program_run_split(path, argv, log_path, log_path, err, errlen);
}

bool cli_program_run_split(const char *path, char *const argv[], const char *out_path,
                           const char *err_path, char *err, size_t errlen) {
    return cli_program_run_usage(path, argv, out_path, err_path, NULL, err, errlen);
}

bool cli_program_run_usage(const char *path, char *const argv[], const char *out_path,
                           const char *err_path, struct rusage *usage, char *err, size_t errlen) {
    int out = open_log(out_path, err, errlen);
    if (out < 0) return false;
    int errs = strcmp(out_path, err_path) == 0 ? out : open_log(err_path, err, errlen);
    if (errs < 0) {
        close(out);
        return false;
    }
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc = redirect(&fa, out, errs);
    bool started = rc == 0 && spawn(path, argv, &fa, &pid, err, errlen);
    if (rc) snprintf(err, errlen, "cannot start %s: %s", path, strerror(rc));
    close(out);
    if (errs != out) close(errs);
    return started && await(path, argv, pid, usage, err, errlen);
}

void cli_program_describe(const char *name, int status, char *buf, size_t len) {
    if (WIFEXITED(status))
        snprintf(buf, len, "%s exited with status %d", name, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "%s was killed by signal %d (%s)", name, WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "%s ended abnormally (wait status %d)", name, status);
}

/* Waits for pid; true when it exited with status 0, else err says how it
** ended.  usage (may be NULL): what it used. */
static bool await(const char *path, char *const argv[], pid_t pid, struct rusage *usage, char *err,
                  size_t errlen) {
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, usage ? usage : &ru) < 0) {
        if (errno != EINTR) {
            snprintf(err, errlen, "lost %s (pid %ld): %s", path, (long)pid, strerror(errno));
            return false;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
    cli_program_describe(argv[0], status, err, errlen);
    return false;
}

/* posix_spawn with fa, or err says why not. */
static bool spawn(const char *path, char *const argv[], posix_spawn_file_actions_t *fa, pid_t *pid,
                  char *err, size_t errlen) {
    int rc = posix_spawn(pid, path, fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(fa);
    if (rc) snprintf(err, errlen, "cannot start %s: %s", path, strerror(rc));
    return rc == 0;
}

bool cli_program_start(const char *path, char *const argv[], const char *log_path, pid_t *pid,
                       char *err, size_t errlen) {
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", log_path, strerror(errno));
        return false;
    }
    posix_spawn_file_actions_t fa;
    int rc = redirect(&fa, fd, fd);
    bool ok = rc == 0 && spawn(path, argv, &fa, pid, err, errlen);
    if (rc) snprintf(err, errlen, "cannot start %s: %s", path, strerror(rc));
    close(fd);
    return ok;
}

/* Where the bytes of a pipe go.  Without fn: into buf (len bytes, kept
** NUL-terminated; NULL or 0: dropped), over set when more came than it
** holds.  With fn: a line at a time into buf (grown as needed up to max_line
** bytes and the NUL), each complete line handed to fn; a longer line sets
** over and nothing more is handed on.  nomem: buf could not grow. */
typedef struct sink {
    char *buf;
    size_t len, used, max_line;
    cli_line_fn *fn;
    void *ctx;
    bool over, nomem;
} sink;

/* Room in the line being collected for one more byte and the NUL (the
** buffer grown when needed); false, over or nomem set, when there is none. */
static bool sink_room(sink *s) {
    if (s->used + 1 < s->len) return true;
    if (s->len >= s->max_line + 1) {
        s->over = true;
        return false;
    }
    size_t len = s->len < 128 ? 256 : s->len * 2;
    if (len > s->max_line + 1) len = s->max_line + 1;
    char *buf = realloc(s->buf, len);
    if (!buf) {
        s->nomem = true;
        return false;
    }
    s->buf = buf, s->len = len;
    return true;
}

static void sink_put(sink *s, const char *bytes, size_t n) {
    if (!s->fn) {
        size_t keep = s->buf && s->len > s->used + 1 ? s->len - 1 - s->used : 0;
        if (keep > n) keep = n;
        if (keep) memcpy(s->buf + s->used, bytes, keep);
        s->used += keep;
        if (s->buf && s->len && keep < n) s->over = true;
        return;
    }
    for (size_t i = 0; i < n && !s->over && !s->nomem; i++) {
        if (bytes[i] != '\n') {
            if (sink_room(s)) s->buf[s->used++] = bytes[i];
        } else if (s->buf || sink_room(s)) {
            s->buf[s->used] = '\0';
            s->fn(s->ctx, s->buf);
            s->used = 0;
        }
    }
}

/* The end of the input: the buffer NUL-terminated, or the last line (one
** without '\n') handed on. */
static void sink_end(sink *s) {
    if (!s->fn) {
        if (s->buf && s->len) s->buf[s->used] = '\0';
        return;
    }
    if (s->used && !s->over && !s->nomem) {
        s->buf[s->used] = '\0';
        s->fn(s->ctx, s->buf);
    }
}

/* Puts what fd has to read into s; false at the end of the input. */
static bool drain(int fd, sink *s) {
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) return false;
    sink_put(s, chunk, (size_t)n);
    return true;
}

/* Reads both pipes to their ends. */
static void read_both(int out_fd, int err_fd, sink *out, sink *errs) {
    struct pollfd p[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            if (!drain(p[i].fd, i ? errs : out)) {
                p[i].fd = -1;
                open_fds--;
            }
        }
    }
    sink_end(out);
    sink_end(errs);
}

/* A pipe whose ends close on exec (the child gets its copies by dup2). */
static int cloexec_pipe(int fds[2]) {
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Runs the program, its standard output into out and its errors into errs
** (read to their ends), and waits for it; false with err saying why when it
** could not be started, did not exit with status 0, or out overflowed. */
static bool capture(const char *path, char *const argv[], sink *out, sink *errs, char *err,
                    size_t errlen) {
    int po[2], pe[2];
    if (cloexec_pipe(po) != 0) {
        snprintf(err, errlen, "cannot start %s: %s", path, strerror(errno));
        return false;
    }
    if (cloexec_pipe(pe) != 0) {
        snprintf(err, errlen, "cannot start %s: %s", path, strerror(errno));
        close(po[0]);
        close(po[1]);
        return false;
    }
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc = redirect(&fa, po[1], pe[1]);
    bool started = rc == 0 && spawn(path, argv, &fa, &pid, err, errlen);
    if (rc) snprintf(err, errlen, "cannot start %s: %s", path, strerror(rc));
    close(po[1]);
    close(pe[1]);
    if (started) read_both(po[0], pe[0], out, errs);
    close(po[0]);
    close(pe[0]);
    if (!started || !await(path, argv, pid, NULL, err, errlen)) return false;
    if (out->nomem)
        snprintf(err, errlen, "out of memory reading what %s printed", argv[0]);
    else if (out->over && out->fn)
        snprintf(err, errlen, "%s printed a line longer than %zu bytes", argv[0], out->max_line);
    else if (out->over)
        snprintf(err, errlen, "%s printed more than %zu bytes", argv[0], out->len - 1);
    return !out->nomem && !out->over;
}

bool cli_program_capture(const char *path, char *const argv[], char *out, size_t out_len,
                         char *errs, size_t errs_len, char *err, size_t errlen) {
    sink o = {.buf = out, .len = out_len}, e = {.buf = errs, .len = errs_len};
    if (out && out_len) out[0] = '\0';
    if (errs && errs_len) errs[0] = '\0';
    return capture(path, argv, &o, &e, err, errlen);
}

bool cli_program_lines(const char *path, char *const argv[], size_t max_line, cli_line_fn *fn,
                       void *ctx, char *errs, size_t errs_len, char *err, size_t errlen) {
    sink o = {.max_line = max_line, .fn = fn, .ctx = ctx}, e = {.buf = errs, .len = errs_len};
    if (errs && errs_len) errs[0] = '\0';
    bool ok = capture(path, argv, &o, &e, err, errlen);
    free(o.buf);
    return ok;
}
