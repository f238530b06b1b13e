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

/* Command-line mistakes (cli_getopt.c), said the same way by every command:
** "admitsim CMD: <what is wrong>" then "see 'admitsim CMD --help'" on
** stderr, never the whole usage.
** cli_getopt: getopt_long (its own messages off); an unknown option (with
** the nearest known one: "did you mean '--policy'?"), an ambiguous
** abbreviation, a missing or unexpected value is said so and returns '?'.
** cli_usage_error: the message (printf format) and the hint; returns
** EXIT_USAGE.  cli_hint: the hint alone (cmd NULL: 'admitsim help').
** A usage error said otherwise (a bad option value) gets the hint from main.
** cli_nearest: the name of names[0..n) at most two edits from word (and
** fewer edits than it has letters), the nearest first; NULL if none. */
struct option;
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *opts);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_hint(const char *cmd);
/* Whether cli_hint ran: main gives every usage error (exit 2) its hint. */
bool cli_hint_given(void);
const char *cli_nearest(const char *word, const char *const *names, size_t n);

/* Parses a non-negative integer option value; prints an error and returns false if invalid. */
bool cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t max, uint64_t *out);
/* The same for an integer from min to max. */
bool cli_parse_range(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max,
                     uint64_t *out);
/* A seed (--seed): an integer from 0 to CLI_SEED_MAX (INT64_MAX, what the
** JSON outputs and the store hold as a signed 64-bit integer); prints an
** error stating the range and returns false if invalid. */
#define CLI_SEED_MAX ((uint64_t)INT64_MAX)
bool cli_parse_seed(const char *cmd, const char *opt, const char *text, uint64_t *out);
/* --time-scale: a finite number > 0 (at most 1e6); prints an error and
** returns false if invalid. */
bool cli_parse_time_scale(const char *cmd, const char *text, double *out);
/* --store-events all|notable: *all true for all; prints an error and
** returns false if neither. */
bool cli_parse_store_events(const char *cmd, const char *text, bool *all);
/* The results database when --db does not name one: $ADMITSIM_DB when set
** and not empty, else RES_STORE_DEFAULT_PATH (results/admitsim.db, from
** the current directory). */
const char *cli_db_default(void);
/* Whether path names a database file: "" and ":memory:" name none (SQLite
** keeps such a database in a temporary file or in memory, so what a command
** stores would be lost); else a usage error "admitsim CMD: WHAT '...' names
** no database file ..." and false.  cli_getopt checks every --db and
** --baseline-db value with it (and refuses an empty --out), and the
** environment's ADMITSIM_DB when main deferred it. */
bool cli_db_name_ok(const char *cmd, const char *what, const char *path);
/* main: the command's database defaults to $ADMITSIM_DB (env); cli_getopt
** judges it (cli_db_name_ok) when the command's options end without --db
** or --no-db, the options that leave the environment's value unused. */
void cli_db_env_defer(const char *env);
/* Whether an --out value is a path (not empty); else a usage error and false. */
bool cli_out_ok(const char *cmd, const char *path);
/* SIGINT, SIGTERM and SIGPIPE while a command (bench, run, plot) has temporary
** files (cli_stop.c): cli_stop_catch records them instead of dying; the
** command checks cli_stop_caught() (the signal, or 0) at its stopping
** points and removes its files; cli_stop_release restores the former
** actions and, when a signal came, says so on stderr ("admitsim CMD:
** interrupted ...", not for SIGPIPE) and raises it again, ending the
** process. */
void cli_stop_catch(void);
int cli_stop_caught(void);
/* Some temporary files stay (said): cli_stop_release does not claim them removed. */
void cli_stop_kept(void);
/* The command's result is in place: a signal from now on no longer undoes
** it, and cli_stop_release says so (still ending by the signal). */
void cli_stop_done(void);
void cli_stop_release(const char *cmd);
/* Whether the database at path does not exist yet (checked before a run
** stores into it), and the line saying that a run created it. */
bool cli_db_is_new(const char *path);
void cli_db_created(const char *cmd, const char *path);
/* Whether paths a and b name one file: the same device and inode when
** both exist, else the same path once resolved (the existing leading
** directories through realpath, "." and ".." applied to the rest). */
bool cli_same_file(const char *a, const char *b);
/* Whether a reader that rebuilds the lifecycle events (export
** --format chrome-trace, plot) may go on with iteration `iteration` of run
** `run`: true when the store gives back every event it made; else it says
** how many it cannot (an error, false; with allow_incomplete a warning,
** true).  False, with the reader's message, when the store failed. */
struct res_store_reader;
bool cli_lifecycle_complete(const char *cmd, struct res_store_reader *r, const char *db,
                            int64_t run, int64_t iteration, bool allow_incomplete);
/* Seconds on CLOCK_MONOTONIC. */
double cli_monotonic_seconds(void);
/* Removes the SQLite database at path and its -wal, -shm and -journal
** files, those there. */
void cli_remove_db(const char *path);
/* This program's own file, absolute (/proc/self/exe on Linux); false when
** it cannot be found. */
bool cli_self_path(char *buf, size_t len);
/* rel (a path relative to this program's directory, e.g. the installed
** tree's "../share/admitsim/scenarios") joined to that directory into buf;
** false when this program's file is unknown or the path does not fit. */
bool cli_beside_self(const char *rel, char *buf, size_t len);
/* CPU seconds this process has used (CLOCK_PROCESS_CPUTIME_ID). */
double cli_cpu_seconds(void);
/* The last n - 1 bytes of the file at path (all of it when shorter), its
** newlines made spaces and a final one dropped, into out; "" when it cannot
** be read. */
void cli_file_tail(const char *path, char *out, size_t n);
/* "admitsim ARG ..." as typed, each argument quoted for a POSIX shell when
** it needs it (malloc'd; NULL on out of memory).  Call it before getopt,
** which reorders argv. */
char *cli_command_line(int argc, char **argv);
/* The same as a JSON array of strings, ["admitsim","run","x y"]: what run,
** live and ab store (the artifact's host.command_line, the store's
** command_line), re-runnable as it is (malloc'd; NULL on out of memory;
** bytes that are not UTF-8 become U+FFFD). */
char *cli_command_argv_json(int argc, char **argv);
/* A stored command line for people: a JSON argv array shell-quoted and
** joined, anything else (an older store's line) as it is (malloc'd). */
char *cli_command_display(const char *stored);
/* n arguments joined by blanks, each quoted for a POSIX shell when it
** needs it (malloc'd). */
char *cli_shell_join(size_t n, const char *const *args);

/* The scenario a command line names (cli_scenario.c): "-" standard input
** (cli_scenario_load only), a file that exists, else a shipped scenario's
** bare name ("heavy_root", ".json" optional) found in the source tree's
** scenarios/ or the installed DATADIR/admitsim/scenarios, from any
** directory.  cli_scenario_path: the file to read (buf or arg itself).
** cli_scenario_file: the same, but NULL for a bare name that is neither a
** file nor a shipped scenario, with the reason (and the shipped scenario
** it is nearest to) in err; what run, ab and suite resolve names with.
** cli_scenario_dir: where the shipped scenarios are. */
struct sim_scenario;
struct sim_error;
const char *cli_scenario_path(const char *arg, char *buf, size_t len);
const char *cli_scenario_file(const char *arg, char *buf, size_t len, struct sim_error *err);
const char *cli_scenario_dir(void);
/* Whether arg can name a scenario for cmd (ab, suite), which read the
** file once per run: "-" (standard input, run's only) is a usage error,
** said, and false. */
bool cli_scenario_is_file_arg(const char *cmd, const char *arg);
struct sim_scenario *cli_scenario_load(const char *arg, const char *arm, struct sim_error *err);
/* Every trace file a scenario document names ({"dist": "empirical",
** "file": F}, anywhere: arms and overrides too), depth first, an object
** before what it holds: visit(ctx, holder, F) may replace the holder's
** "file"; the walk stops, false, when visit returns false. */
struct json_t;
bool cli_scenario_traces(struct json_t *doc,
                         bool (*visit)(void *ctx, struct json_t *holder, const char *file),
                         void *ctx);

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
