/* Write transactions of the results store under concurrency: any number of
** processes may write one database, SQLite lets one write at a time, and a
** writer waits for the lock as long as it takes (an iteration is one
** transaction, so a busy store can hold the lock for seconds) instead of
** failing after a timeout.  While it waits a callback reports the wait
** every few seconds; the waits are counted.  Between store.c and
** store_txn.c; not part of the public interface.
**
** Only BEGIN IMMEDIATE takes the lock (so SQLite's busy handler, installed
** here, is called instead of a deadlock error); a transaction that still
** meets SQLITE_BUSY (a stale WAL snapshot) is rolled back and may be
** retried whole by the caller. */
#ifndef RES_STORE_TXN_H
#define RES_STORE_TXN_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "res/store.h"

typedef struct res_store_txn {
    sqlite3 *db;
    res_store_wait_fn on_wait;
    void *on_wait_ctx;
    /* the wait in progress (set by the busy handler) */
    bool waiting;
    double wait_start, next_report;
    res_store_lock_waits stats;
} res_store_txn;

/* Installs the busy handler on db. */
void res_store_txn_init(res_store_txn *t, sqlite3 *db);
/* BEGIN IMMEDIATE, waiting for the write lock; an SQLite result code. */
int res_store_txn_begin(res_store_txn *t);
int res_store_txn_commit(res_store_txn *t);
void res_store_txn_rollback(res_store_txn *t);

#endif
