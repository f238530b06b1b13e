/* Subcommands of the admitsim command and their shared exit codes. */
#ifndef ADMITSIM_CLI_H
#define ADMITSIM_CLI_H

#include <stdbool.h>
#include <stdint.h>

enum {
    EXIT_OK = 0,
    EXIT_FAILURE_RUN = 1, /* bad scenario, failed run, failed write */
    EXIT_USAGE = 2        /* bad command line */
};

int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_export(int argc, char **argv);
int bench_request(uint64_t repeat);
struct sim_scenario;
int bench_store(const struct sim_scenario *sc, uint64_t seed, uint64_t repeat);

/* Parses a non-negative integer option value; prints an error and returns false if invalid. */
bool cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t max, uint64_t *out);
double cli_monotonic_seconds(void);

#endif
