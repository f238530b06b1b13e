#include "store_unpack.h"
#include "store_packs.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The columns: the event's (an entry's fields, store_packs.h, in their
** order), then the hidden arguments. */
enum {
    COL_STRINGS = RES_PACK_FIELDS, /* the arguments, in order */
    COL_BODY,
    COL_FIRST_SEQUENCE,
    COL_FIRST_NS,
    COL_EVENTS,
    ARGS = COL_EVENTS - COL_STRINGS + 1
};

typedef struct unpack_cursor {
    sqlite3_vtab_cursor base;
    json_t *strings;
    char *strings_text, *body; /* copies of the arguments, NUL-terminated */
    size_t body_cap;
    const char *pos; /* the next entry's '[' or the body's last ']' */
    int64_t first_sequence, first_ns, events;
    int64_t row; /* the entry's index */
    bool eof;
    int64_t f[RES_PACK_FIELDS]; /* the entry, 0 past its end */
    int64_t sequence, captured_at;
} unpack_cursor;

static int unpack_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                          sqlite3_vtab **out, char **err) {
    (void)aux, (void)argc, (void)argv, (void)err;
    int rc = sqlite3_declare_vtab(
        db, "CREATE TABLE x(sequence, kind, captured_at_ns, task_id, execution_id, lease_id,"
            " value, row_group, column_name, resource, reason, request_attempt_id,"
            " strings HIDDEN, body HIDDEN, first_sequence HIDDEN, first_ns HIDDEN, events HIDDEN)");
    if (rc != SQLITE_OK) return rc;
    *out = sqlite3_malloc(sizeof **out);
    if (!*out) return SQLITE_NOMEM;
    memset(*out, 0, sizeof **out);
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    return SQLITE_OK;
}

static int unpack_disconnect(sqlite3_vtab *vt) {
    sqlite3_free(vt);
    return SQLITE_OK;
}

/* Every argument must be given (an equality on its hidden column).  Every
** usable equality goes to xFilter, idxStr naming each one's argument: a
** WHERE term on an argument (u.events = 5) besides the function's own is
** then compared there (no rows when they differ), and any other constraint
** on an argument is left to SQLite. */
static int unpack_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
    (void)vt;
    bool given[ARGS] = {false};
    char which[64];
    int n = 0;
    for (int i = 0; i < info->nConstraint && n < (int)sizeof which - 1; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->iColumn < COL_STRINGS || !c->usable || c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
        given[c->iColumn - COL_STRINGS] = true;
        which[n++] = (char)('0' + c->iColumn - COL_STRINGS);
        info->aConstraintUsage[i].argvIndex = n;
        info->aConstraintUsage[i].omit = 1;
    }
    for (int a = 0; a < ARGS; a++)
        if (!given[a]) return SQLITE_CONSTRAINT;
    which[n] = '\0';
    info->idxStr = sqlite3_mprintf("%s", which);
    if (!info->idxStr) return SQLITE_NOMEM;
    info->needToFreeIdxStr = 1;
    info->estimatedCost = 4096;
    info->estimatedRows = 4096;
    return SQLITE_OK;
}

/* Whether two values of one argument are the same. */
static bool same_value(sqlite3_value *x, sqlite3_value *y) {
    int t = sqlite3_value_type(x);
    if (t != sqlite3_value_type(y)) return false;
    if (t == SQLITE_INTEGER) return sqlite3_value_int64(x) == sqlite3_value_int64(y);
    if (t == SQLITE_NULL) return false; /* NULL = NULL holds for no row */
    if (t == SQLITE_FLOAT) return sqlite3_value_double(x) == sqlite3_value_double(y);
    const void *a = t == SQLITE_TEXT ? (const void *)sqlite3_value_text(x) : sqlite3_value_blob(x);
    int na = sqlite3_value_bytes(x);
    const void *b = t == SQLITE_TEXT ? (const void *)sqlite3_value_text(y) : sqlite3_value_blob(y);
    int nb = sqlite3_value_bytes(y);
    return na == nb && (na == 0 || (a && b && memcmp(a, b, (size_t)na) == 0));
}

static int unpack_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out) {
    (void)vt;
    unpack_cursor *c = sqlite3_malloc(sizeof *c);
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *out = &c->base;
    return SQLITE_OK;
}

static int unpack_close(sqlite3_vtab_cursor *cur) {
    unpack_cursor *c = (unpack_cursor *)cur;
    json_decref(c->strings);
    free(c->strings_text);
    free(c->body);
    sqlite3_free(c);
    return SQLITE_OK;
}

static int malformed(unpack_cursor *c, const char *what) {
    sqlite3_free(c->base.pVtab->zErrMsg);
    c->base.pVtab->zErrMsg =
        sqlite3_mprintf("malformed event pack (first sequence %lld, entry %lld): %s",
                        (long long)c->first_sequence, (long long)c->row, what);
    return SQLITE_CORRUPT;
}

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* A JSON integer at *p into *v; false when there is none or it does not
** fit in 64 bits. */
static bool parse_int(const char **p, int64_t *v) {
    const char *s = skip_space(*p);
    bool neg = *s == '-';
    s += neg;
    if (!isdigit((unsigned char)*s)) return false;
    uint64_t u = 0;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (u > (UINT64_MAX - d) / 10) return false;
        u = u * 10 + d;
    }
    if (neg ? u > (uint64_t)INT64_MAX + 1 : u > (uint64_t)INT64_MAX) return false;
    *v = neg ? (int64_t)(0 - u) : (int64_t)u;
    *p = s;
    return true;
}

/* Whether index (its value; text: plus one, 0 for none) names a string. */
static bool names_string(const unpack_cursor *c, int64_t index, bool plus_one) {
    if (plus_one && index == 0) return true;
    int64_t i = plus_one ? index - 1 : index;
    return i >= 0 && (size_t)i < json_array_size(c->strings) &&
           json_is_string(json_array_get(c->strings, (size_t)i));
}

/* The entry at c->pos into c->f, or the end of the body. */
static int parse_entry(unpack_cursor *c) {
    const char *p = skip_space(c->pos);
    if (*p == ']') {
        if (*skip_space(p + 1)) return malformed(c, "text after the body");
        if (c->row != c->events) return malformed(c, "fewer entries than the pack says");
        c->eof = true;
        return SQLITE_OK;
    }
    if (c->row > 0) {
        if (*p != ',') return malformed(c, "',' or ']' expected");
        p = skip_space(p + 1);
    }
    if (*p != '[') return malformed(c, "an entry (array) expected");
    p++;
    int n = 0;
    memset(c->f, 0, sizeof c->f);
    for (;;) {
        if (n == RES_PACK_FIELDS) return malformed(c, "more than 12 integers in an entry");
        if (!parse_int(&p, &c->f[n++])) return malformed(c, "an integer expected");
        p = skip_space(p);
        if (*p == ']') break;
        if (*p != ',') return malformed(c, "',' or ']' expected in an entry");
        p++;
    }
    c->pos = p + 1;
    if (n < RES_PACK_MIN_FIELDS) return malformed(c, "fewer than 3 integers in an entry");
    if (c->row >= c->events) return malformed(c, "more entries than the pack says");
    if (!names_string(c, c->f[RES_PACK_KIND], false) ||
        !names_string(c, c->f[RES_PACK_COLUMN], true) ||
        !names_string(c, c->f[RES_PACK_RESOURCE], true) ||
        !names_string(c, c->f[RES_PACK_REASON], true))
        return malformed(c, "a text index outside the strings");
    if (c->f[RES_PACK_ROW_GROUP] < 0) return malformed(c, "a negative row group");
    if (__builtin_add_overflow(c->first_sequence, c->f[RES_PACK_SEQUENCE], &c->sequence) ||
        __builtin_add_overflow(c->first_ns, c->f[RES_PACK_TIME], &c->captured_at))
        return malformed(c, "a sequence or time past 64 bits");
    return SQLITE_OK;
}

static int unpack_filter(sqlite3_vtab_cursor *cur, int idx, const char *idx_str, int argc,
                         sqlite3_value **all) {
    (void)idx;
    unpack_cursor *c = (unpack_cursor *)cur;
    json_decref(c->strings);
    c->strings = NULL;
    c->row = 0;
    c->eof = false;
    free(c->strings_text);
    c->strings_text = NULL;
    /* each argument's value; a second one that differs: no rows */
    sqlite3_value *argv[ARGS] = {NULL};
    if (!idx_str || (int)strlen(idx_str) != argc) return SQLITE_ERROR;
    for (int k = 0; k < argc; k++) {
        int a = idx_str[k] - '0';
        if (a < 0 || a >= ARGS) return SQLITE_ERROR;
        if (!argv[a]) {
            argv[a] = all[k];
        } else if (!same_value(argv[a], all[k])) {
            c->eof = true;
            return SQLITE_OK;
        }
    }
    c->first_sequence = sqlite3_value_int64(argv[COL_FIRST_SEQUENCE - COL_STRINGS]);
    for (int k = COL_FIRST_SEQUENCE; k <= COL_EVENTS; k++)
        if (sqlite3_value_type(argv[k - COL_STRINGS]) != SQLITE_INTEGER)
            return malformed(c, "first_sequence, first_ns and events must be integers");
    c->first_ns = sqlite3_value_int64(argv[COL_FIRST_NS - COL_STRINGS]);
    c->events = sqlite3_value_int64(argv[COL_EVENTS - COL_STRINGS]);
    const char *strings = (const char *)sqlite3_value_text(argv[0]);
    const char *body = (const char *)sqlite3_value_text(argv[1]);
    int len = sqlite3_value_bytes(argv[1]);
    if (!strings || !body) return malformed(c, "no strings or no body");
    c->strings_text = strdup(strings);
    if (!c->strings_text) return SQLITE_NOMEM;
    c->strings = json_loads(strings, 0, NULL);
    if (!json_is_array(c->strings)) return malformed(c, "the strings are not a JSON array");
    if ((size_t)len + 1 > c->body_cap) {
        char *b = realloc(c->body, (size_t)len + 1);
        if (!b) return SQLITE_NOMEM;
        c->body = b;
        c->body_cap = (size_t)len + 1;
    }
    memcpy(c->body, body, (size_t)len + 1);
    const char *p = skip_space(c->body);
    if (*p != '[') return malformed(c, "the body is not a JSON array");
    c->pos = p + 1;
    return parse_entry(c);
}

static int unpack_next(sqlite3_vtab_cursor *cur) {
    unpack_cursor *c = (unpack_cursor *)cur;
    c->row++;
    return parse_entry(c);
}

static int unpack_eof(sqlite3_vtab_cursor *cur) {
    return ((unpack_cursor *)cur)->eof;
}

static void result_id(sqlite3_context *ctx, int64_t v) {
    if (v)
        sqlite3_result_int64(ctx, v);
    else
        sqlite3_result_null(ctx);
}

static void result_string(sqlite3_context *ctx, const unpack_cursor *c, int64_t plus_one) {
    if (plus_one)
        sqlite3_result_text(ctx,
                            json_string_value(json_array_get(c->strings, (size_t)plus_one - 1)), -1,
                            SQLITE_TRANSIENT);
    else
        sqlite3_result_null(ctx);
}

static int unpack_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
    const unpack_cursor *c = (const unpack_cursor *)cur;
    switch (col) {
    case RES_PACK_SEQUENCE: sqlite3_result_int64(ctx, c->sequence); break;
    case RES_PACK_KIND: result_string(ctx, c, c->f[RES_PACK_KIND] + 1); break;
    case RES_PACK_TIME: sqlite3_result_int64(ctx, c->captured_at); break;
    case RES_PACK_VALUE: sqlite3_result_int64(ctx, c->f[RES_PACK_VALUE]); break;
    case RES_PACK_ROW_GROUP:
        if (c->f[RES_PACK_ROW_GROUP])
            sqlite3_result_int64(ctx, c->f[RES_PACK_ROW_GROUP] - 1);
        else
            sqlite3_result_null(ctx);
        break;
    case RES_PACK_COLUMN:
    case RES_PACK_RESOURCE:
    case RES_PACK_REASON: result_string(ctx, c, c->f[col]); break;
    case RES_PACK_TASK:
    case RES_PACK_EXECUTION:
    case RES_PACK_LEASE:
    case RES_PACK_ATTEMPT: result_id(ctx, c->f[col]); break;
    case COL_STRINGS: sqlite3_result_text(ctx, c->strings_text, -1, SQLITE_TRANSIENT); break;
    case COL_BODY: sqlite3_result_text(ctx, c->body, -1, SQLITE_TRANSIENT); break;
    case COL_FIRST_SEQUENCE: sqlite3_result_int64(ctx, c->first_sequence); break;
    case COL_FIRST_NS: sqlite3_result_int64(ctx, c->first_ns); break;
    case COL_EVENTS: sqlite3_result_int64(ctx, c->events); break;
    default: sqlite3_result_null(ctx); break;
    }
    return SQLITE_OK;
}

static int unpack_rowid(sqlite3_vtab_cursor *cur, sqlite_int64 *rowid) {
    *rowid = ((const unpack_cursor *)cur)->row;
    return SQLITE_OK;
}

static const sqlite3_module unpack_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = unpack_connect,
    .xBestIndex = unpack_best_index,
    .xDisconnect = unpack_disconnect,
    .xDestroy = unpack_disconnect,
    .xOpen = unpack_open,
    .xClose = unpack_close,
    .xFilter = unpack_filter,
    .xNext = unpack_next,
    .xEof = unpack_eof,
    .xColumn = unpack_column,
    .xRowid = unpack_rowid,
};

int res_unpack_register(sqlite3 *db) {
    return sqlite3_create_module_v2(db, "admit_event_pack", &unpack_module, NULL, NULL);
}
