#include "run_query.h"

#include <stdio.h>

sqlite3_stmt *run_query(sqlite3 *db, const char *cmd, const char *sql, int64_t run,
                        int64_t iteration) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "admitsim %s: %s\n", cmd, sqlite3_errmsg(db));
        return NULL;
    }
    sqlite3_bind_int64(st, 1, run);
    if (sqlite3_bind_parameter_count(st) >= 2) sqlite3_bind_int64(st, 2, iteration);
    return st;
}

const char *column_text(sqlite3_stmt *st, int col, const char *absent) {
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : absent;
}
