/* Sweeps (SPEC §10): a grid of points over one scenario, each point an arm
** built from parameter values, each run for every seed; the runs go in
** shards (one shard = one or more (point, seed) runs), each shard a child
** process (the local engine's process pool, or a Slurm array task) that
** writes a results database of its own, renamed into place when complete;
** the driver merges the shards into one store under one experiment.
**
**   sweep_plan.c      the sweep file: parameters, points, seeds, shards
**   sweep_point.c     a point's arm overrides and scenario
**   sweep_shard.c     one shard, run in its own process
**   sweep_dir.c       the output directory: plan, journal, shard files, lock
**   sweep_local.c     the local engine: a pool of child processes
**   sweep_slurm.c     the Slurm engine: one job array, polled
**   sweep_progress.c  the progress bar (a terminal) or lines (otherwise)
**   sweep_result.c    merging the shards, figures per point, the result
**   cmd_sweep.c       `admitsim sweep`
**
** The sweep file (sweeps/README.md):
**   {"schema": 1, "sweep_id": ID, "description": TEXT, "scenario": FILE,
**    "arm": BASE, "parameters": {NAME: VALUES, ...}, "seeds": SEEDS,
**    "metrics": [PATTERN, ...], "shard_size": N}
** NAME is a path into an arm's overrides (run/arms.h): "policy",
** "policy.KEY", "capacity.RESOURCE", "request_admission.KEY[.SUB...]",
** "request_admission.resources.ALIAS[/DOMAIN].KEY",
** "models.ALIAS.max_parallel_requests", "providers.KEY.FIELD[.SUB...]",
** "max_concurrent_row_groups", "model_group_limit_cap"; a segment holding
** dots is written in double quotes.  VALUES is an array of JSON values or a
** range {"from", "to", "step"} or {"from", "to", "count"}.  Points are the
** parameters' product, the last parameter varying fastest; runs go point
** by point, seed by seed; shard k holds runs [k * shard_size, (k + 1) *
** shard_size).
*/
#ifndef ADMITSIM_SWEEP_H
#define ADMITSIM_SWEEP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "res/metrics.h"
#include "res/store.h"
#include "sim/scenario.h"

#define SWEEP_MAX_PARAMS  8
#define SWEEP_MAX_VALUES  1000
#define SWEEP_MAX_RUNS    1000000
#define SWEEP_MAX_METRICS 64
#define SWEEP_ID_MAX      64
#define SWEEP_PATH_MAX    4096
/* A point's arm in the store, "NAME=VALUE,NAME=VALUE", and one value as
** text are at most these less one: a sweep file whose points' arms or
** values would be longer is refused (cut, two points could read alike). */
#define SWEEP_LABEL_MAX      1024
#define SWEEP_VALUE_TEXT_MAX 256

typedef struct sweep_param {
    char name[256];
    json_t *values; /* an array, owned */
} sweep_param;

typedef struct sweep_plan {
    char file[SWEEP_PATH_MAX];     /* the sweep file, absolute */
    char sweep_id[SWEEP_ID_MAX];   /* [A-Za-z0-9_.-] */
    char scenario[SWEEP_PATH_MAX]; /* absolute */
    char scenario_id[128];
    char arm[64]; /* the base arm ("" none) */
    json_t *doc;  /* the scenario as the base arm makes it, without "arms" */
    size_t nparams;
    sweep_param params[SWEEP_MAX_PARAMS];
    size_t npoints;
    uint64_t *seeds;
    size_t nseeds;
    size_t nmetrics;
    char metrics[SWEEP_MAX_METRICS][RES_METRIC_NAME_MAX]; /* patterns (fnmatch) */
    size_t shard_size, nshards;
    char digest[17]; /* of everything that decides the runs (hex) */
} sweep_plan;

/* Reads and checks a sweep file: every point's scenario is built once, so
** a bad value is reported now.  False with the reason in err (and nothing
** for sweep_plan_free to free). */
bool sweep_plan_load(const char *path, sweep_plan *p, char *err, size_t errlen);
/* The same, checking only the points of shard `shard` (a shard process). */
bool sweep_plan_load_for_shard(const char *path, size_t shard, sweep_plan *p, char *err,
                               size_t errlen);
void sweep_plan_free(sweep_plan *p);

size_t sweep_plan_runs(const sweep_plan *p);
/* Run r's point and seed. */
size_t sweep_run_point(const sweep_plan *p, size_t run);
uint64_t sweep_run_seed(const sweep_plan *p, size_t run);
/* Shard k's runs: [*first, *first + *count). */
void sweep_shard_runs(const sweep_plan *p, size_t shard, size_t *first, size_t *count);
/* True when a metric name matches one of the plan's patterns. */
bool sweep_metric_is_kept(const sweep_plan *p, const char *name);
/* The expanded plan as JSON (plan.json). */
json_t *sweep_plan_json(const sweep_plan *p);

/* ---- points (sweep_point.c) ---------------------------------------------- */

/* Parameter i's value at point. */
const json_t *sweep_point_value(const sweep_plan *p, size_t point, size_t param);
/* {NAME: value, ...} of a point (new reference). */
json_t *sweep_point_values(const sweep_plan *p, size_t point);
/* "NAME=VALUE,NAME=VALUE" of a point: its arm in the store (a loaded
** plan's fit in SWEEP_LABEL_MAX bytes and read one way: no name holds ","
** or "=", no value's text a "," followed by "=" before the next ",", so a
** "," followed by "=" before the next "," starts a parameter; two points'
** arms differ). */
void sweep_point_label(const sweep_plan *p, size_t point, char *buf, size_t len);
/* A value as text: numbers with up to 15 significant digits, strings bare;
** its whole length, as snprintf (a loaded plan's fit in
** SWEEP_VALUE_TEXT_MAX bytes). */
size_t sweep_value_text(const json_t *v, char *buf, size_t len);
/* The arm overrides that make point (new reference), NULL with err set
** when a parameter names nothing an arm overrides. */
json_t *sweep_point_overrides(const sweep_plan *p, size_t point, char *err, size_t errlen);
/* Checks a parameter name (before any point exists): one an arm
** overrides, without "," or "=" (a point's arm would read otherwise). */
bool sweep_param_name_is_valid(const char *name, char *why, size_t len);
/* True when two valid parameter names set one override, or one sets a
** value the other lies within ("capacity.submission" and
** "capacity.\"submission\"", "policy" and "policy.default",
** "providers.gen.latency" and "providers.gen/chat.latency.mu"): in one point
** the last would overwrite the first, whose values would vary nothing. */
bool sweep_params_overlap(const char *a, const char *b);
/* The scenario of point; NULL with err set (the point named). */
sim_scenario *sweep_point_scenario(const sweep_plan *p, size_t point, char *err, size_t errlen);

/* ---- the output directory (sweep_dir.c) ---------------------------------- */

typedef struct sweep_dir {
    char path[SWEEP_PATH_MAX]; /* absolute */
    int lock_fd;               /* -1: not held */
} sweep_dir;

/* Creates (or, with resume, reopens) dir for p and takes its lock: a new
** sweep needs a directory without a plan; a resumed one the same plan
** (digest).  False with the reason in err. */
bool sweep_dir_open(sweep_dir *d, const char *dir, const sweep_plan *p, bool resume, char *err,
                    size_t errlen);
void sweep_dir_close(sweep_dir *d);
/* Creates dir when missing and takes its lock, nothing more (a search's
** own directory).  False with the reason in err. */
bool sweep_dir_lock(sweep_dir *d, const char *dir, char *err, size_t errlen);
/* Checks that dir holds p's plan (a shard process). */
bool sweep_dir_check_plan(const char *dir, const sweep_plan *p, char *err, size_t errlen);
/* "<dir>/<sub>" into buf. */
void sweep_dir_file(const char *dir, const char *sub, char *buf, size_t len);
/* shards/shard-NNNNNN.json */
void sweep_shard_json_path(const char *dir, size_t shard, char *buf, size_t len);
/* True when shard is complete: its JSON is in place and names a database
** that is there. */
bool sweep_shard_is_complete(const char *dir, size_t shard);
/* The shards of dir not complete yet, in order, *n of them (malloc'd; NULL
** on out of memory).  A shard whose JSON names a database that is gone
** (removed after the sweep) loses that JSON, so that it runs again: else
** every process completing it would lose to that JSON and the shard never
** complete. */
size_t *sweep_missing_shards(const sweep_plan *p, const char *dir, size_t *n);
/* Appends one line to the journal (an object, consumed); adds "time". */
void sweep_journal(const char *dir, json_t *entry);
/* The journal's entries, in order (new reference; an empty array when
** there is none). */
json_t *sweep_journal_read(const char *dir);
/* Removes what killed shard processes left: temporary files, databases no
** shard JSON names. */
void sweep_dir_clean(const char *dir);

/* ---- one shard (sweep_shard.c) -------------------------------------------- */

/* Runs shard k of the sweep file at path into dir (`admitsim sweep FILE
** --shard K --out DIR`): its runs into a database in $TMPDIR (else /tmp),
** copied into dir/shards/ and named by the shard's JSON, which goes into
** place last (the first process to complete a shard wins).  Exit code. */
int sweep_shard_main(const char *path, size_t shard, const char *dir, const char *command_line);

/* ---- engines ---------------------------------------------------------------- */

/* Slurm: --sbatch-arg at most SWEEP_SBATCH_ARGS_MAX times; --partition,
** --time and --account values at most SWEEP_SBATCH_VALUE_MAX bytes (more
** is refused, never cut). */
#define SWEEP_SBATCH_ARGS_MAX  32
#define SWEEP_SBATCH_VALUE_MAX 400

typedef struct sweep_engine_options {
    const char *self; /* this admitsim binary, absolute */
    uint64_t jobs;    /* local: processes; slurm: the array's %M (0: none) */
    bool jobs_given;  /* --jobs was on the command line */
    const char *who;  /* message prefix, "admitsim sweep" */
    bool quiet;       /* no progress */
    /* slurm */
    const char *partition, *time_limit, *account;
    const char **sbatch_args;
    size_t nsbatch_args;
    double poll_seconds;
} sweep_engine_options;

/* The engine options sweep and search share (sweep_options.c): their
** getopt_long entries (SWEEP_ENGINE_LONG_OPTIONS, values SWEEP_OPT_*),
** their usage texts (the engine's lines for an options list, the Slurm
** section), and the parsed values. */
enum {
    SWEEP_OPT_ENGINE = 0x100,
    SWEEP_OPT_JOBS,
    SWEEP_OPT_PARTITION,
    SWEEP_OPT_TIME,
    SWEEP_OPT_ACCOUNT,
    SWEEP_OPT_SBATCH_ARG,
    SWEEP_OPT_POLL
};
#define SWEEP_ENGINE_LONG_OPTIONS                                                                  \
    {"engine", required_argument, 0, SWEEP_OPT_ENGINE},                                            \
        {"jobs", required_argument, 0, SWEEP_OPT_JOBS},                                            \
        {"partition", required_argument, 0, SWEEP_OPT_PARTITION},                                  \
        {"time", required_argument, 0, SWEEP_OPT_TIME},                                            \
        {"account", required_argument, 0, SWEEP_OPT_ACCOUNT},                                      \
        {"sbatch-arg", required_argument, 0, SWEEP_OPT_SBATCH_ARG}, {                              \
        "poll", required_argument, 0, SWEEP_OPT_POLL                                               \
    }
extern const char SWEEP_ENGINE_USAGE[], SWEEP_SLURM_USAGE[];

typedef struct sweep_engine_args {
    bool slurm;
    sweep_engine_options o;
    const char *sbatch_args[SWEEP_SBATCH_ARGS_MAX];
} sweep_engine_args;

/* Defaults: local, --jobs the number of CPUs, poll every second; who is
** the message prefix ("admitsim sweep"). */
void sweep_engine_defaults(sweep_engine_args *e, const char *who);
/* Takes option ch (a SWEEP_OPT_*) with its argument: 1 taken, 0 not an
** engine option, -1 a bad value (said on stderr). */
int sweep_engine_option(int ch, const char *arg, sweep_engine_args *e);
/* Runs the shards of p not complete in d on the chosen engine. */
int sweep_engine_run(const sweep_engine_args *e, const sweep_plan *p, const sweep_dir *d);

/* Runs every shard that is not complete.  0 when all are, 1 when some
** failed or the sweep was interrupted (the reason on stderr). */
int sweep_local_run(const sweep_plan *p, const sweep_dir *d, const sweep_engine_options *o);
int sweep_slurm_run(const sweep_plan *p, const sweep_dir *d, const sweep_engine_options *o);

/* A signal (SIGINT, SIGTERM) asked the driver to stop: handlers installed
** by sweep_signals_catch; the number of the last signal, 0 when none. */
void sweep_signals_catch(void);
int sweep_signal_caught(void);

/* ---- progress (sweep_progress.c) ---------------------------------------- */

typedef struct sweep_progress {
    const char *who;
    size_t total, done_before, done, failed, running, pending;
    double start, last_draw;
    bool tty, quiet, drawn;
} sweep_progress;

void sweep_progress_init(sweep_progress *g, const char *who, size_t total, size_t done_before,
                         bool quiet);
/* Redraws (a terminal: at most every 0.2 s) or, otherwise, prints a line
** when a shard finished (at most one line a second, and the last). */
void sweep_progress_update(sweep_progress *g, bool finished);
void sweep_progress_end(sweep_progress *g);

/* ---- the result (sweep_result.c) ------------------------------------------ */

typedef struct sweep_result_options {
    const char *db_path;      /* where the shards merge */
    const char *command_line; /* of the experiment */
    int kind;                 /* res_experiment_kind */
    const char *name;         /* the experiment's name; NULL: the sweep id */
    const char *who;
    bool json; /* print the result as JSON rather than tables */
    bool quiet;
} sweep_result_options;

/* Merges every shard of d into the store (one experiment, reused when the
** journal says this directory began it there), computes each point's
** figures over its seeds, stores them as the experiment's result, writes
** d/result.json and prints them.  *result (new reference, may be NULL):
** the result object; *experiment_id: the experiment.  Exit code. */
int sweep_result_finish(const sweep_plan *p, const sweep_dir *d, const sweep_result_options *o,
                        json_t **result, int64_t *experiment_id);

/* The pieces of sweep_result_finish, for a search whose probes are sweeps:
** true when every shard of d is complete (else says which is not); the
** experiment d's journal began in the store s at db (db absolute) when it
** is still there, else a new one from info, journaled in d (0 on failure,
** said); every shard of d merged into experiment id of the store s at db,
** counting the runs merged and those already there (a shard whose every
** (point, seed) the experiment holds is not merged again); the result
** object of d's shards (new reference); r stored as experiment id's result and written to
** d/result.json. */
bool sweep_shards_are_complete(const sweep_plan *p, const sweep_dir *d, const char *who);
int64_t sweep_result_experiment(const sweep_dir *d, res_store *s, const char *db,
                                const res_store_experiment_info *info, const char *who);
bool sweep_result_merge(const sweep_plan *p, const sweep_dir *d, res_store *s, int64_t id,
                        const char *db, const char *who, uint64_t *runs, uint64_t *skipped);
/* True when experiment id of the store at db (shown as shown) holds
** exactly want runs; else says so (what: "sweep" or "search") and is
** false.  After merging: a run skipped as already there may be there
** under no experiment or another one (the shards merged into db by
** `admitsim merge`, or the sweep's database merged in), and the experiment
** would then hold fewer runs than its result counts. */
bool sweep_result_holds(const char *db, const char *shown, int64_t id, size_t want,
                        const char *what, const char *who);
json_t *sweep_result_json(const sweep_plan *p, const sweep_dir *d, int64_t id);
bool sweep_result_store(const sweep_dir *d, res_store *s, int64_t id, json_t *r, const char *who);

/* The figures of one metric over n values: {"n", "mean", "stddev",
** "ci95_low", "ci95_high", "min", "max"} (the interval null with fewer than
** two values). */
json_t *sweep_figures_json(const double *v, size_t n);

#endif
