/* admitsim: dispatches to the subcommand named by argv[1]. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
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
               "  version          print the harness version\n"
               "  help             this text\n"
               "\n"
               "'admitsim <command> --help' describes a command's options.\n"
               "exit codes: 0 ok, 1 the run failed (bad scenario, write error), 2 usage error\n");
}

static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "ab")) return cmd_ab(argc - 1, argv + 1);
    if (!strcmp(cmd, "check")) return cmd_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "suite")) return cmd_suite(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "runs")) return cmd_runs(argc - 1, argv + 1);
    if (!strcmp(cmd, "show")) return cmd_show(argc - 1, argv + 1);
    if (!strcmp(cmd, "plot")) return cmd_plot(argc - 1, argv + 1);
    if (!strcmp(cmd, "export")) return cmd_export(argc - 1, argv + 1);
    if (!strcmp(cmd, "migrate")) return cmd_migrate(argc - 1, argv + 1);
    if (!strcmp(cmd, "mock-provider")) return cmd_mock_provider(argc - 1, argv + 1);
    if (!strcmp(cmd, "live")) return cmd_live(argc - 1, argv + 1);
    if (!strcmp(cmd, "fidelity")) return cmd_fidelity(argc - 1, argv + 1);
    if (!strcmp(cmd, "experiments")) return cmd_experiments(argc - 1, argv + 1);
    if (!strcmp(cmd, "merge")) return cmd_merge(argc - 1, argv + 1);
    if (!strcmp(cmd, "sweep")) return cmd_sweep(argc - 1, argv + 1);
    if (!strcmp(cmd, "search")) return cmd_search(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("%s\n", RES_HARNESS_VERSION);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return EXIT_OK;
    }
    fprintf(stderr, "admitsim: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
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
