/* What the results store's writer (store.c) shares with the files that
** write beside it: experiments (store_experiment.c) and merging another
** store (store_merge.c, which reads it through the reader's connection).
** Not part of the public interface.
**
** Every write is a transaction run by res_store_in_transaction, which waits
** for the database's write lock as long as it takes (store_txn.h) and runs
** the transaction again when it meets a busy database anyway. */
#ifndef RES_STORE_INT_H
#define RES_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "res/error.h"
#include "res/store.h"

/* The store's connection, its file name and its schema version. */
sqlite3 *res_store_db(const res_store *s);
const char *res_store_path(const res_store *s);

/* RES_OK when the store is at the schema this build writes, else
** RES_ESTORE: a store opened at an older version only migrates. */
res_status res_store_check_current(const res_store *s, res_error *err);

/* Runs fn(s, arg, err) in a write transaction; on failure everything fn
** did is rolled back and err holds fn's message (or what failed). */
typedef res_status (*res_store_txn_fn)(res_store *s, void *arg, res_error *err);
res_status res_store_in_transaction(res_store *s, res_store_txn_fn fn, void *arg, const char *what,
                                    res_error *err);

/* The reader's read-only connection (store_reader.c). */
struct res_store_reader;
sqlite3 *res_store_reader_db(const struct res_store_reader *r);

/* Binds text, or NULL when text is NULL. */
void res_store_bind_text(sqlite3_stmt *st, int i, const char *text);

/* Now, UTC, ISO 8601 ("2024-05-01T12:00:00Z"). */
void res_store_utc_now(char *buf, size_t len);

/* JSON text that must hold a JSON object (object_only) or any JSON value:
** RES_OK, or RES_EINVAL naming what (e.g. "the parameters of a run"). */
res_status res_store_check_json(const res_store *s, const char *text, bool object_only,
                                const char *what, res_error *err);

#endif
