/* The engine options `admitsim sweep` and `admitsim search` share
** (sweep.h): --engine, --jobs and the Slurm ones, parsed alike and
** described by one text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sweep.h"

const char SWEEP_ENGINE_USAGE[] =
    "  --engine local|slurm local: a pool of --jobs processes (default); slurm: one\n"
    "                       job array (sbatch --parsable --array=...%M), polled\n"
    "  --jobs N             local: processes at once (default: the number of CPUs);\n"
    "                       slurm: at most N array tasks at once (default: no limit)\n";

const char SWEEP_SLURM_USAGE[] =
    "Slurm options (--engine slurm; sbatch, squeue, scontrol and scancel on PATH):\n"
    "  --partition P        sbatch --partition\n"
    "  --time T             sbatch --time (each task: one shard)\n"
    "  --account A          sbatch --account\n"
    "  --sbatch-arg ARG     one more sbatch argument (repeat for more)\n"
    "  --poll SECONDS       how often to ask squeue (default 1)\n";

void sweep_engine_defaults(sweep_engine_args *e, const char *who) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    *e = (sweep_engine_args){
        .o = {.jobs = cpus > 0 ? (uint64_t)cpus : 1, .who = who, .poll_seconds = 1.0}};
    e->o.sbatch_args = e->sbatch_args;
}

static bool parse_poll(const char *who, const char *text, double *out) {
    char *end;
    double v = strtod(text, &end);
    if (end != text && !*end && v >= 0.05 && v <= 3600) {
        *out = v;
        return true;
    }
    fprintf(stderr, "%s: --poll expects seconds from 0.05 to 3600, got '%s'\n", who, text);
    return false;
}

int sweep_engine_option(int ch, const char *arg, sweep_engine_args *e) {
    const char *cmd = strchr(e->o.who, ' ') ? strchr(e->o.who, ' ') + 1 : e->o.who;
    uint64_t v;
    switch (ch) {
    case SWEEP_OPT_ENGINE:
        if (strcmp(arg, "local") && strcmp(arg, "slurm")) break;
        e->slurm = !strcmp(arg, "slurm");
        return 1;
    case SWEEP_OPT_JOBS:
        if (!cli_parse_range(cmd, "--jobs", arg, 1, 100000, &v)) return -1;
        e->o.jobs = v;
        e->o.jobs_given = true;
        return 1;
    case SWEEP_OPT_PARTITION:
    case SWEEP_OPT_TIME:
    case SWEEP_OPT_ACCOUNT:
        if (strlen(arg) > SWEEP_SBATCH_VALUE_MAX) {
            fprintf(stderr, "%s: --%s is at most %d bytes, got %zu\n", e->o.who,
                    ch == SWEEP_OPT_PARTITION ? "partition"
                    : ch == SWEEP_OPT_TIME    ? "time"
                                              : "account",
                    SWEEP_SBATCH_VALUE_MAX, strlen(arg));
            return -1;
        }
        *(ch == SWEEP_OPT_PARTITION ? &e->o.partition
          : ch == SWEEP_OPT_TIME    ? &e->o.time_limit
                                    : &e->o.account) = arg;
        return 1;
    case SWEEP_OPT_SBATCH_ARG:
        if (e->o.nsbatch_args == SWEEP_SBATCH_ARGS_MAX) {
            fprintf(stderr, "%s: --sbatch-arg is given at most %d times\n", e->o.who,
                    SWEEP_SBATCH_ARGS_MAX);
            return -1;
        }
        e->sbatch_args[e->o.nsbatch_args++] = arg;
        return 1;
    case SWEEP_OPT_POLL: return parse_poll(e->o.who, arg, &e->o.poll_seconds) ? 1 : -1;
    default: return 0;
    }
    fprintf(stderr, "%s: bad value '%s'\n", e->o.who, arg);
    return -1;
}

int sweep_engine_run(const sweep_engine_args *e, const sweep_plan *p, const sweep_dir *d) {
    return e->slurm ? sweep_slurm_run(p, d, &e->o) : sweep_local_run(p, d, &e->o);
}
