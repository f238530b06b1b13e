/* Between the results store's writer (store.c) and its reader
** (store_reader.c): not part of the public interface. */
#ifndef RES_STORE_INTERNAL_H
#define RES_STORE_INTERNAL_H

#include <sqlite3.h>

#include "res/store.h"

/* The store's connection. */
sqlite3 *res_store_connection(res_store *s);

#endif
