/*
** The live commands (live, mock-provider, fidelity) run in a second
** executable, admitsim-live, so that admitsim itself does not load libcurl,
** libmicrohttpd and libuv with their dependencies (about forty shared
** objects, ~5 ms of every start, measured in `admitsim bench`'s process
** rows).  admitsim replaces itself with admitsim-live (execv: no shell, the
** same process id, so signals and exit codes reach the caller unchanged),
** found, in order:
**   1. beside this executable (the build tree);
**   2. LIBEXECDIR relative to BINDIR beside this executable (an installed
**      tree, also after it was moved: cmake --install --prefix DIR);
**   3. the configured install's LIBEXECDIR.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "live_exec.h"

#ifndef ADMIT_LIVE_FROM_BIN
#define ADMIT_LIVE_FROM_BIN "../libexec/admitsim-live"
#endif
#ifndef ADMIT_LIVE_INSTALLED
#define ADMIT_LIVE_INSTALLED "/usr/local/libexec/admitsim-live"
#endif

enum { PATH_LEN = 4096 };

/* The candidates of the header's list that can be formed, into paths[]. */
static int live_candidates(char paths[3][PATH_LEN]) {
    int n = 0;
    if (cli_beside_self("admitsim-live", paths[n], PATH_LEN)) n++;
    if (cli_beside_self(ADMIT_LIVE_FROM_BIN, paths[n], PATH_LEN)) n++;
    snprintf(paths[n++], PATH_LEN, "%s", ADMIT_LIVE_INSTALLED);
    return n;
}

int cli_live_exec(int argc, char **argv) {
    (void)argc;
    char paths[3][PATH_LEN];
    int n = live_candidates(paths);
    /* argv starts at the command's name; admitsim-live's starts at its own */
    char **full = argv - 1;
    int err = ENOENT;
    for (int i = 0; i < n; i++) {
        if (access(paths[i], X_OK) != 0) continue;
        fflush(NULL);
        execv(paths[i], full);
        err = errno; /* found but not started: say so */
        fprintf(stderr, "admitsim %s: cannot start %s: %s\n", argv[0], paths[i], strerror(err));
        return EXIT_FAILURE_RUN;
    }
    fprintf(stderr,
            "admitsim %s: the live runtime (admitsim-live) is not installed; looked for it at "
            "%s%s%s%s%s: %s\n",
            argv[0], paths[0], n > 1 ? ", " : "", n > 1 ? paths[1] : "", n > 2 ? ", " : "",
            n > 2 ? paths[2] : "", strerror(err));
    return EXIT_FAILURE_RUN;
}
