/* admitsim: dispatches to the subcommand named by argv[1]. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "live_exec.h"
#include "admitsim_version.h"
#include "res/artifact.h"

static void usage(FILE *f) {
    fprintf(f, "usage: admitsim <command> [options]\n"
               "\n"
               "Deterministic simulator and benchmark harness for the admit two-stage\n"
               "admission scheduler.\n"
               "\n"
               "commands:\n"
               "  run SCENARIO     simulate a scenario and print its summary\n"
               "  ab SCENARIO      compare two arms of a scenario over seeds\n"
               "  check CANDIDATE  judge runs against a baseline by the regression gates\n"
               "  suite            every scenario's baseline vs candidate arm, one report\n"
               "  sweep SWEEP      a grid of arms over seeds, on local processes or Slurm\n"
               "  search SCENARIO  the smallest (or largest) value of a parameter meeting an\n"
               "                   objective, by bisection over sweep points\n"
               "  bench            measure simulated tasks per second\n"
               "  runs             list the runs in the results database\n"
               "  show RUN         show one stored run: inputs, iterations, metrics\n"
               "  plot RUN         draw a stored run with gnuplot\n"
               "  export RUN       write a stored run as json, csv or a chrome trace\n"
               "  experiments      list the experiments (A/B, sweeps, searches) in the database\n"
               "  migrate          upgrade the results database's schema\n"
               "  merge DEST SRC.. fold results databases (a sweep's shards) into one\n"
               "  live SCENARIO    run a scenario on the real clock against HTTP model\n"
               "                   endpoints (by default a mock of its providers)\n"
               "  mock-provider SCENARIO\n"
               "                   serve a scenario's simulated providers over HTTP\n"
               "  fidelity SCENARIO\n"
               "                   compare a simulated run with a live run against the mock\n"
               "  version          print the harness version and the commit it was built\n"
               "                   from (also -V, --version)\n"
               "  help             this text\n"
               "\n"
               "'admitsim <command> --help' describes a command's options.\n"
               "exit codes: 0 ok, 1 the run failed (bad scenario, write error), 2 usage error\n");
}

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    bool db_default; /* its results database defaults to $ADMITSIM_DB (cli_db_default) */
} command;

static const command commands[] = {
    {"run", cmd_run, true},
    {"ab", cmd_ab, true},
    {"check", cmd_check, true},
    {"suite", cmd_suite, false},
    {"bench", cmd_bench, false},
    {"runs", cmd_runs, true},
    {"show", cmd_show, true},
    {"plot", cmd_plot, true},
    {"export", cmd_export, true},
    {"experiments", cmd_experiments, true},
    {"migrate", cmd_migrate, true},
#ifdef ADMITSIM_LIVE_EXEC /* admitsim: in admitsim-live (cli/live_exec.c) */
    {"live", cli_live_exec, true},
    {"mock-provider", cli_live_exec, false},
    {"fidelity", cli_live_exec, false},
#else /* admitsim-live */
    {"live", cmd_live, true},
    {"mock-provider", cmd_mock_provider, false},
    {"fidelity", cmd_fidelity, false},
#endif
    {"merge", cmd_merge, false},
    {"sweep", cmd_sweep, false},
    {"search", cmd_search, false},
};
enum { NCOMMANDS = sizeof commands / sizeof *commands };

/* The harness version and the commit this binary was built from. */
static int version(void) {
    printf("%s (commit %s)\n", RES_HARNESS_VERSION, ADMITSIM_COMMIT);
    return EXIT_OK;
}

/* An unknown command: one line, the nearest command's name when it is a
** slip ("runn"), and the hint. */
static int unknown_command(const char *cmd) {
    const char *names[NCOMMANDS + 2] = {"version", "help"};
    for (int i = 0; i < NCOMMANDS; i++)
        names[i + 2] = commands[i].name;
    const char *near = cmd[0] == '-' ? NULL : cli_nearest(cmd, names, NCOMMANDS + 2);
    if (near)
        fprintf(stderr, "admitsim: unknown command '%s' (did you mean '%s'?)\n", cmd, near);
    else if (cmd[0] == '-')
        fprintf(stderr, "admitsim: unknown option '%s' (a command comes first)\n", cmd);
    else
        fprintf(stderr, "admitsim: unknown command '%s'\n", cmd);
    cli_hint(NULL);
    return EXIT_USAGE;
}

static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "admitsim: a command is needed\n");
        cli_hint(NULL);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    for (int i = 0; i < NCOMMANDS; i++)
        if (!strcmp(cmd, commands[i].name)) {
            const char *env = getenv("ADMITSIM_DB"); /* "" is unset (cli_db_default) */
            if (commands[i].db_default && env && *env)
                cli_db_env_defer(env); /* judged unless --db or --no-db is given */
            int rc = commands[i].run(argc - 1, argv + 1);
            if (rc == EXIT_USAGE && !cli_hint_given()) cli_hint(cmd);
            return rc;
        }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-V"))
        return version();
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return EXIT_OK;
    }
    return unknown_command(cmd);
}

/* A command's output that could not be written (a full disk, a closed pipe)
** is a failure, whatever the command said. */
int main(int argc, char **argv) {
    int rc = dispatch(argc, argv);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "admitsim: cannot write the output: %s\n", strerror(errno));
        if (rc == EXIT_OK) rc = EXIT_FAILURE_RUN;
    }
    return rc;
}
