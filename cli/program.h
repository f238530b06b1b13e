/* Running another program without a shell: found on PATH, started with
** posix_spawn and an argument vector (no word splitting, quoting or
** expansion of any argument), its standard input /dev/null and its
** standard output and error written to a log file or captured, its exit
** awaited (or, with cli_program_start, left to the caller). */
#ifndef ADMITSIM_PROGRAM_H
#define ADMITSIM_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Finds name (no '/') in the directories of PATH as execvp would (an empty
** entry is the current directory; PATH unset: the system's default path);
** on success writes the program's path to out (len bytes). */
bool cli_program_find(const char *name, char *out, size_t len);

/* Runs the program at path with argv (argv[0] first, NULL-terminated),
** output and errors to log_path (created or truncated), and waits for it.
** Returns true when it exited with status 0.  Otherwise err (errlen bytes)
** says why: it could not be started, it exited with status N, or it was
** killed by signal N (its name); the log holds what it printed. */
bool cli_program_run(const char *path, char *const argv[], const char *log_path, char *err,
                     size_t errlen);
/* The same with standard output to out_path and errors to err_path. */
bool cli_program_run_split(const char *path, char *const argv[], const char *out_path,
                           const char *err_path, char *err, size_t errlen);
/* cli_program_run_split, and what the program used (its CPU times and peak
** resident set, as wait4 reports them) in *usage when it was started. */
struct rusage;
bool cli_program_run_usage(const char *path, char *const argv[], const char *out_path,
                           const char *err_path, struct rusage *usage, char *err, size_t errlen);

/* Starts the program without waiting for it: standard input /dev/null,
** standard output and errors appended to log_path (created when missing).
** True with *pid set; the caller waits for it (waitpid) and may signal it.
** Otherwise err says why it could not be started. */
bool cli_program_start(const char *path, char *const argv[], const char *log_path, pid_t *pid,
                       char *err, size_t errlen);

/* How a child whose wait status is status ended, into buf: "exited with
** status N", "was killed by signal N (NAME)"; name is its argv[0]. */
void cli_program_describe(const char *name, int status, char *buf, size_t len);

/* Runs the program and waits for it, its standard output into out (at most
** out_len - 1 bytes kept, NUL-terminated; NULL: dropped) and its errors into
** errs (the same way, the rest read and dropped; NULL: dropped).  True when
** it exited with status 0 and out held all it printed; otherwise err says
** why: how it ended (errs holds what it said), or that it printed more than
** out holds (out then holds the start: a cut output is never a success). */
bool cli_program_capture(const char *path, char *const argv[], char *out, size_t out_len,
                         char *errs, size_t errs_len, char *err, size_t errlen);

/* One line of a program's standard output, without its '\n' (a last line
** without one too), NUL-terminated; fn may change it. */
typedef void cli_line_fn(void *ctx, char *line);
/* cli_program_capture without a bound on the output: each line is handed to
** fn(ctx, line) as it is read; only a line is bounded, by max_line bytes.
** True when the program exited with status 0 and every line was handed on;
** otherwise err says why: how it ended, a line longer than max_line (the
** lines before it were handed on, none from it on; the rest is read and
** dropped), or no memory for a line. */
bool cli_program_lines(const char *path, char *const argv[], size_t max_line, cli_line_fn *fn,
                       void *ctx, char *errs, size_t errs_len, char *err, size_t errlen);

#endif
