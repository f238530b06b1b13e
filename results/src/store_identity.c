#include "store_identity.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "res/store_common.h"
#include "store_error.h"

/* One integer (the first column of the first row) of sql. */
static int scalar(sqlite3 *db, const char *sql, int *out) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

res_status res_store_identify(sqlite3 *db, const char *path, res_store_identity *identity,
                              int *version, int *sqlite_rc, res_error *err) {
    int objects = 0, ours = 0;
    int rc = scalar(db, "PRAGMA user_version", version);
    if (rc == SQLITE_OK)
        rc = scalar(db, "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view')",
                    &objects);
    if (rc == SQLITE_OK)
        rc = scalar(db,
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                    " AND name IN ('runs', 'schema_migrations')",
                    &ours);
    *sqlite_rc = rc;
    if (rc != SQLITE_OK)
        return res_store_fail(err, RES_ESTORE, "%s: %s: %s", path,
                              (rc & 0xff) == SQLITE_NOTADB ? "not an SQLite database"
                                                           : "cannot read the database",
                              sqlite3_errmsg(db));
    if (*version == 0 && objects == 0) {
        *identity = RES_STORE_IS_EMPTY;
        return RES_OK;
    }
    if (*version == 0 || ours != 2)
        return res_store_fail(
            err, RES_EFOREIGN,
            "%s: not an admitsim results database: it has %d table%s or view%s but %s; "
            "admitsim neither reads nor changes another program's database (use another "
            "--db)",
            path, objects, objects == 1 ? "" : "s", objects == 1 ? "" : "s",
            *version == 0 ? "no schema version (PRAGMA user_version is 0)"
                          : "no admitsim runs and schema_migrations tables");
    if (*version > RES_STORE_SCHEMA_VERSION)
        return res_store_fail(
            err, RES_ETOONEW,
            "%s: database schema version %d is newer than this admitsim supports (%d); "
            "use a newer admitsim or another --db",
            path, *version, RES_STORE_SCHEMA_VERSION);
    *identity = RES_STORE_IS_ADMITSIM;
    return RES_OK;
}

void res_store_uri(char *uri, size_t len, const char *path, const char *query) {
    size_t n = (size_t)snprintf(uri, len, "file:%s", path[0] == '/' ? "//" : "");
    for (const unsigned char *p = (const unsigned char *)path; *p && n + 4 < len; p++) {
        if (*p < 0x21 || strchr("?#%", *p))
            n += (size_t)snprintf(uri + n, len - n, "%%%02x", *p);
        else
            uri[n++] = (char)*p;
    }
    snprintf(uri + n, len - n, "%s%s", query ? "?" : "", query ? query : "");
}

bool res_store_names_file(const char *path, res_error *err) {
    if (*path && strcmp(path, ":memory:") != 0) return true;
    res_store_fail(err, RES_EINVAL,
                   "'%s' names no database file: SQLite would keep the results in %s and lose "
                   "them on close",
                   path, *path ? "memory" : "a temporary file");
    return false;
}
