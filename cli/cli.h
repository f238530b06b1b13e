/* What every admitsim command shares (cli_util.c): exit codes, option
** parsing, the monotonic clock.  The commands themselves are in
** commands.h. */
#ifndef ADMITSIM_CLI_H
#define ADMITSIM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "res/store.h"

enum {
    EXIT_OK = 0,
    EXIT_FAILURE_RUN = 1, /* bad scenario, failed run, failed write */
    EXIT_USAGE = 2        /* bad command line */
};

/* Parses a non-negative integer option value; prints an error and returns false if invalid. */
bool cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t max, uint64_t *out);
/* --time-scale: a finite number > 0 (at most 1e6); prints an error and
** returns false if invalid. */
bool cli_parse_time_scale(const char *cmd, const char *text, double *out);
/* Seconds on CLOCK_MONOTONIC. */
double cli_monotonic_seconds(void);
/* This program's own file, absolute (/proc/self/exe on Linux); false when
** it cannot be found. */
bool cli_self_path(char *buf, size_t len);
/* CPU seconds this process has used (CLOCK_PROCESS_CPUTIME_ID). */
double cli_cpu_seconds(void);
/* "admitsim ARG ..." as typed, each argument quoted for a POSIX shell when
** it needs it (malloc'd; NULL on out of memory).  Call it before getopt,
** which reorders argv. */
char *cli_command_line(int argc, char **argv);

/* The calling thread's scheduling: realtime=true puts it at SCHED_FIFO
** priority 1 (threads it creates afterwards inherit that), false back to
** SCHED_OTHER.  False, with the reason in why, when the system refuses
** (without CAP_SYS_NICE or an RLIMIT_RTPRIO of at least 1: EPERM).  The
** kernel's real-time throttling (sched_rt_runtime_us) still leaves the
** other processes a share of each CPU. */
bool cli_set_realtime(bool realtime, char *why, size_t why_size);

/* The results store's waits for its write lock, on stderr: a wait in
** progress (cli_lock_wait_progress, about every ten seconds of it), and the
** waits of a whole run when there were any (cli_report_lock_waits). */
struct res_store;
void cli_lock_wait_progress(const char *db_path, double waited_seconds);
void cli_report_lock_waits(const res_store_lock_waits *w, const char *db_path);

#endif
