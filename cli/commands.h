/* The subcommands of admitsim, each in its own cmd_<name>.c: argc and argv
** start at the command's name; the result is an exit code of cli.h. */
#ifndef ADMITSIM_COMMANDS_H
#define ADMITSIM_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_ab(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_suite(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_mock_provider(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_fidelity(int argc, char **argv);
int cmd_experiments(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_search(int argc, char **argv);

#endif
