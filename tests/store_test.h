/* Shared by the results store's tests: a scratch directory per test and the
** removal of a database with its WAL files. */
#ifndef ADMIT_TESTS_STORE_TEST_H
#define ADMIT_TESTS_STORE_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A new directory $TMPDIR/admitsim-<name>-XXXXXX (or under /tmp) in dir. */
static inline int scratch_dir(char *dir, size_t len, const char *name) {
    snprintf(dir, len, "%s/admitsim-%s-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
    return mkdtemp(dir) ? 0 : -1;
}

/* Removes path and its -wal, -shm and -journal files. */
static inline void remove_db(const char *path) {
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[1200];
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
}

#endif
