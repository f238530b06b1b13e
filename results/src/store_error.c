#include "store_error.h"

#include <stdarg.h>
#include <stdio.h>

res_status res_store_fail(res_error *err, res_status code, const char *fmt, ...) {
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

res_status res_store_fail_db(res_error *err, sqlite3 *db, const char *path, const char *what) {
    return res_store_fail(err, RES_ESTORE, "%s: %s: %s", path, what, sqlite3_errmsg(db));
}
