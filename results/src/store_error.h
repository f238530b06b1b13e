/* The results store's errors (res/error.h): how store.c, store_reader.c and
** the files beside them fill a caller's res_error.  Not part of the public
** interface. */
#ifndef RES_STORE_ERROR_H
#define RES_STORE_ERROR_H

#include <sqlite3.h>

#include "res/error.h"

/* Sets err (if not NULL) to code and the formatted message; returns code. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
res_status
res_store_fail(res_error *err, res_status code, const char *fmt, ...);

/* RES_ESTORE with "<path>: <what>: <SQLite's message of db>". */
res_status res_store_fail_db(res_error *err, sqlite3 *db, const char *path, const char *what);

#endif
