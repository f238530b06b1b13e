/* SIGINT, SIGTERM and SIGPIPE while a command holds temporary files (cli.h):
** the signal is recorded instead of ending the process at once; the command
** stops at its next check (bench: the run's end; run: the iteration's end;
** plot: before its files are in place, or by undoing their moves; once
** they are in place, cli_stop_done: they stay and the message says so),
** removes its files, and cli_stop_release ends the process by the same
** signal, so the exit status says it was interrupted (`admitsim bench |
** head`: SIGPIPE, quietly, as if at once).  A child `admitsim run` of bench
** in the terminal's process group gets a Ctrl-C itself and stops the same
** way. */
#include <signal.h>
#include <stdio.h>

#include "cli.h"

static volatile sig_atomic_t caught;
static bool kept; /* some temporary files stay (cli_stop_kept) */
static bool done; /* the result is in place (cli_stop_done) */
static struct sigaction saved_int, saved_term, saved_pipe;

static void on_stop(int sig) {
    caught = sig;
}

/* sig's action becomes on_stop, *saved the one before; a signal ignored
** (a background job's SIGINT, nohup) stays ignored. */
static void catch_one(int sig, struct sigaction *saved) {
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(sig, NULL, saved);
    if (saved->sa_handler != SIG_IGN) sigaction(sig, &sa, NULL);
}

void cli_stop_catch(void) {
    kept = done = false; /* a new command's files (suite plots again in one process) */
    catch_one(SIGINT, &saved_int);
    catch_one(SIGTERM, &saved_term);
    catch_one(SIGPIPE, &saved_pipe);
}

int cli_stop_caught(void) {
    return caught;
}

void cli_stop_kept(void) {
    kept = true;
}

void cli_stop_done(void) {
    done = true;
}

void cli_stop_release(const char *cmd) {
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
    sigaction(SIGPIPE, &saved_pipe, NULL);
    int sig = caught;
    if (!sig) return;
    if (sig != SIGPIPE) {
        fprintf(stderr, "admitsim %s: interrupted (%s)%s; %s\n", cmd,
                sig == SIGINT ? "SIGINT" : "SIGTERM",
                done ? " after its files were put in place (they stay, whole)" : "",
                kept ? "some of its files are kept, as said above"
                     : "its temporary files are removed");
        fflush(NULL);
    }
    raise(sig);
}
