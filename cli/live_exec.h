/* admitsim's live commands, run by the admitsim-live executable
** (cli/live_exec.c says why and where it is looked for). */
#ifndef ADMITSIM_LIVE_EXEC_H
#define ADMITSIM_LIVE_EXEC_H

/* Replaces this process with admitsim-live running the same command line
** (argv starts at the command's name and ends with NULL, as main's does);
** returns only on failure, with an exit code of cli.h after a message on
** stderr. */
int cli_live_exec(int argc, char **argv);

#endif
