/*
** What the results store's writer (res/store.h) and its reader
** (res/store_reader.h) share: the schema version this build writes, the
** default database path and the return codes.  Functions of both return
** RES_STORE_OK (or RES_STORE_ROW for a cursor's row) or a negative code and
** never exit; the message is kept by the handle (res_store_errmsg,
** res_store_reader_errmsg) or written to the caller's buffer when opening.
*/
#ifndef RES_STORE_COMMON_H
#define RES_STORE_COMMON_H

#ifdef __cplusplus
extern "C" {
#endif

#define RES_STORE_SCHEMA_VERSION 5
/* The oldest schema the reader reads; older ones need `admitsim migrate`. */
#define RES_STORE_READ_MIN_VERSION 4
#define RES_STORE_DEFAULT_PATH     "results/admitsim.db"

enum {
    RES_STORE_ROW = 1,        /* a cursor produced a row */
    RES_STORE_OK = 0,         /* done (a cursor: no more rows) */
    RES_STORE_ERROR = -1,     /* SQLite or I/O error */
    RES_STORE_TOO_NEW = -2,   /* schema newer than this binary knows */
    RES_STORE_NOT_FOUND = -3, /* no such database file or run */
    RES_STORE_NOMEM = -4,
    RES_STORE_NOT_ADMITSIM = -5, /* another program's database, or an empty one to read */
    RES_STORE_TOO_OLD = -6       /* schema older than the reader reads: `admitsim migrate` */
};

#ifdef __cplusplus
}
#endif

#endif
