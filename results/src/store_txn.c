#include "store_txn.h"

#include <time.h>

enum { FIRST_REPORT_SECONDS = 2, REPORT_EVERY_SECONDS = 10 };

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SQLite calls this while another connection holds the lock: sleep and
** try again, forever; report the wait.  The longer a writer has waited, the
** more often it tries (every 4 ms in its first second, 2 ms up to 10 s, then
** every 1 ms), so the lock tends to go to the writer that has waited
** longest: with a backoff that grows with the wait, as SQLite's own does,
** a newcomer trying every millisecond took the lock again and again from a
** writer sleeping 64 ms at a time (one of four concurrent writers waited
** 103 s).  A try is a few microseconds. */
static int busy(void *arg, int tries) {
    res_store_txn *t = arg;
    double now = now_seconds();
    if (tries == 0 || !t->waiting) {
        t->waiting = true;
        t->wait_start = now;
        t->next_report = now + FIRST_REPORT_SECONDS;
    }
    if (t->on_wait && now >= t->next_report) {
        t->on_wait(t->on_wait_ctx, now - t->wait_start);
        t->next_report = now + REPORT_EVERY_SECONDS;
    }
    double waited = now - t->wait_start;
    long ms = waited < 1 ? 4 : waited < 10 ? 2 : 1;
    struct timespec nap = {0, ms * 1000000L};
    nanosleep(&nap, NULL);
    return 1;
}

void res_store_txn_init(res_store_txn *t, sqlite3 *db) {
    t->db = db;
    sqlite3_busy_handler(db, busy, t);
}

int res_store_txn_begin(res_store_txn *t) {
    t->waiting = false;
    int rc = sqlite3_exec(t->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (t->waiting) {
        double waited = now_seconds() - t->wait_start;
        t->stats.count++;
        t->stats.total_seconds += waited;
        if (waited > t->stats.longest_seconds) t->stats.longest_seconds = waited;
        t->waiting = false;
    }
    return rc;
}

int res_store_txn_commit(res_store_txn *t) {
    return sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL);
}

void res_store_txn_rollback(res_store_txn *t) {
    if (!sqlite3_get_autocommit(t->db)) sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
}
