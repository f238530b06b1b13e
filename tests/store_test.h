/* Shared by the results store's tests: a scratch directory per test, the
** removal of a database with its WAL files, and a connection of a test's
** own for checking what the store wrote (include after cmocka.h). */
#ifndef ADMIT_TESTS_STORE_TEST_H
#define ADMIT_TESTS_STORE_TEST_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The file's bytes (malloc'd), to see that nothing changed them. */
static inline char *contents(const char *path, long *len) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *len = ftell(fp);
    rewind(fp);
    char *buf = malloc((size_t)*len + 1);
    assert_int_equal(fread(buf, 1, (size_t)*len, fp), (size_t)*len);
    fclose(fp);
    return buf;
}

/* A connection of its own to the database at path (foreign keys on). */
static inline sqlite3 *raw_open(const char *path) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        fail_msg("%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_busy_timeout(db, 10000);
    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    return db;
}

/* The single integer (or -1) a query returns. */
static inline int64_t scalar(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* The text (malloc'd, or NULL) a query returns. */
static inline char *text_of(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    char *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static inline void expect_text(sqlite3 *db, const char *sql, const char *want) {
    char *got = text_of(db, sql);
    if (!got || strcmp(got, want))
        fail_msg("%s: got '%s', want '%s'", sql, got ? got : "NULL", want);
    free(got);
}

#endif
