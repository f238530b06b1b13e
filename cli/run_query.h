/* Helpers the commands that read the results database share. */
#ifndef ADMITSIM_RUN_QUERY_H
#define ADMITSIM_RUN_QUERY_H

#include <sqlite3.h>
#include <stdint.h>

/* Prepares sql with ?1 bound to run and ?2 to iteration (when the query has
** it); on failure prints "admitsim CMD: <sqlite message>" and returns NULL. */
sqlite3_stmt *run_query(sqlite3 *db, const char *cmd, const char *sql, int64_t run,
                        int64_t iteration);
/* A text column, or `absent` when it is NULL. */
const char *column_text(sqlite3_stmt *st, int col, const char *absent);

#endif
