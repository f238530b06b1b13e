/* What a database file is, asked before the store's writer or reader touches
** it: an admitsim results database (and its schema version), an empty one
** (no tables: the writer may create the schema), or another program's
** (refused by both); and how the file is named to SQLite as a URI.  Between store.c, store_reader.c
*and store_identity.c;
** not part of the public interface. */
#ifndef RES_STORE_IDENTITY_H
#define RES_STORE_IDENTITY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "res/error.h"

typedef enum res_store_identity {
    RES_STORE_IS_EMPTY,    /* user_version 0 and no table or view */
    RES_STORE_IS_ADMITSIM, /* user_version >= 1, with runs and schema_migrations */
} res_store_identity;

/* Reads db's schema version and tables without writing.  Returns RES_OK
** with *identity and *version set, RES_EFOREIGN when another program owns
** the database, RES_ETOONEW above RES_STORE_SCHEMA_VERSION, or RES_ESTORE
** (unreadable, not SQLite); err then names path and says why.  *sqlite_rc
** is the SQLite code of a failed read (0 otherwise). */
res_status res_store_identify(sqlite3 *db, const char *path, res_store_identity *identity,
                              int *version, int *sqlite_rc, res_error *err);

/* The "file:" URI of path (SQLite's URI syntax, path bytes escaped where
** URIs need it) followed by "?query" when query is not NULL, e.g.
** "immutable=1" or "mode=ro", for sqlite3_open_v2 with SQLITE_OPEN_URI or
** an ATTACH on a connection opened so. */
void res_store_uri(char *uri, size_t len, const char *path, const char *query);

/* Whether path names a database file: "" and ":memory:" do not (SQLite
** keeps those in a temporary file or in memory, and what is stored is lost
** on close); then err says so (RES_EINVAL) and false. */
bool res_store_names_file(const char *path, res_error *err);

#endif
