#define _DEFAULT_SOURCE /* wait4 */
#include "program.h"

#include <errno.h>
#include <fcntl.h>
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
    if (!rc) {
        rc = posix_spawn(&pid, path, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
    }
    close(out);
    if (errs != out) close(errs);
    if (rc) {
        snprintf(err, errlen, "cannot start %s: %s", path, strerror(rc));
        return false;
    }
    return await(path, argv, pid, usage, err, errlen);
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
    if (WIFEXITED(status))
        snprintf(err, errlen, "%s exited with status %d", argv[0], WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(err, errlen, "%s was killed by signal %d (%s)", argv[0], WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(err, errlen, "%s ended abnormally (wait status %d)", argv[0], status);
    return false;
}
