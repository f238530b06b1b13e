/*
** What the results store's writer (res/store.h) and its reader
** (res/store_reader.h) share: the schema version this build writes and the
** default database path.  Functions of both return a res_status
** (res/error.h) and fill the caller's res_error with the code and a message
** naming the database file; they never exit.
*/
#ifndef RES_STORE_COMMON_H
#define RES_STORE_COMMON_H

#include "res/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RES_STORE_SCHEMA_VERSION 9
/* The oldest schema the reader reads; older ones need `admitsim migrate`. */
#define RES_STORE_READ_MIN_VERSION 4
#define RES_STORE_DEFAULT_PATH     "results/admitsim.db"

#ifdef __cplusplus
}
#endif

#endif
