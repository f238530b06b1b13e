/* Running another program without a shell: found on PATH, started with
** posix_spawn and an argument vector (no word splitting, quoting or
** expansion of any argument), its standard input /dev/null and its
** standard output and error appended to a log file, its exit awaited. */
#ifndef ADMITSIM_PROGRAM_H
#define ADMITSIM_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
