/*
** Configuration JSON reading: nodes (a value and its JSON path) and checks
** that word every error alike.  See run/json_reader.h.
*/
#include "run/json_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- bounded string building -------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, len;
} sbuf;

static void sb_init(sbuf *b, char *p, size_t n) {
    *b = (sbuf){p, n, 0};
    p[0] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->len + 1 >= b->n) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->len, b->n - b->len, fmt, ap);
    va_end(ap);
    if (k > 0) b->len = b->len + (size_t)k < b->n ? b->len + (size_t)k : b->n - 1;
}

/* s as a JSON string literal, cut after about `limit` bytes at a UTF-8 boundary. */
static void sb_quote(sbuf *b, const char *s, size_t limit) {
    size_t len = strlen(s);
    bool cut = len > limit;
    if (cut)
        for (len = limit; len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80;)
            len--;
    sb_printf(b, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            sb_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            sb_printf(b, "\\u%04x", ch);
        else
            sb_printf(b, "%c", ch);
    }
    sb_printf(b, "%s", cut ? "...\"" : "\"");
}

const char *run_json_quoted(char *buf, size_t n, const char *s) {
    sbuf b;
    sb_init(&b, buf, n);
    sb_quote(&b, s, 60);
    return buf;
}

/* Shortest text that reads back as x ("0.1", not "0.10000000000000001"). */
const char *run_json_fmt_num(char *buf, size_t n, double x) {
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, n, "%.0f", x);
        return buf;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) break;
    }
    return buf;
}

static void describe(const json_t *v, char *buf, size_t n) {
    sbuf b;
    sb_init(&b, buf, n);
    size_t size;
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_OBJECT: sb_printf(&b, "%s", json_object_size(v) ? "an object" : "{}"); break;
    case JSON_ARRAY:
        size = json_array_size(v);
        if (size)
            sb_printf(&b, "an array of %zu item%s", size, size == 1 ? "" : "s");
        else
            sb_printf(&b, "[]");
        break;
    case JSON_STRING: sb_quote(&b, json_string_value(v), 60); break;
    case JSON_INTEGER: sb_printf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
    case JSON_REAL: /* a whole number keeps its point: "got 1.0", never "got 1" */
        run_json_fmt_num(buf, n, json_real_value(v));
        b.len = strlen(buf);
        if (!strpbrk(buf, ".eEni")) sb_printf(&b, ".0");
        break;
    case JSON_TRUE: sb_printf(&b, "true"); break;
    case JSON_FALSE: sb_printf(&b, "false"); break;
    case JSON_NULL: sb_printf(&b, "%s", v ? "null" : "nothing"); break;
    }
}

/* ---- nodes: a value and its path ----------------------------------------- */

static bool is_ident(const char *k) {
    if (!(*k == '_' || (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z'))) return false;
    for (; *k; k++)
        if (!(*k == '_' || (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
              (*k >= '0' && *k <= '9')))
            return false;
    return true;
}

void run_json_child(const run_json_node *parent, const char *key, json_t *v, run_json_node *out) {
    sbuf b;
    out->doc = parent->doc;
    out->v = v;
    sb_init(&b, out->path, sizeof out->path);
    sb_printf(&b, "%s", parent->path);
    if (is_ident(key)) {
        sb_printf(&b, ".%s", key);
    } else {
        sb_printf(&b, "[");
        sb_quote(&b, key, 100);
        sb_printf(&b, "]");
    }
}

void run_json_item(const run_json_node *array, size_t i, run_json_node *out) {
    out->doc = array->doc;
    out->v = json_array_get(array->v, i);
    snprintf(out->path, sizeof out->path, "%.480s[%zu]", array->path, i);
}

bool run_json_fail(const run_json_node *n, const char *fmt, ...) {
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    n->doc->err->code = RUN_EINVAL;
    snprintf(n->doc->err->message, sizeof n->doc->err->message, "%.300s: %.300s: %.400s",
             n->doc->file, n->path, msg);
    return false;
}

/* "PATH: expected <fmt...>, got <the node's value>" */
bool run_json_expect(const run_json_node *n, const char *fmt, ...) {
    char what[400], got[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    describe(n->v, got, sizeof got);
    return run_json_fail(n, "expected %s, got %s", what, got);
}

/* o.key into *f (f->v NULL when absent); false only when a required key is missing. */
bool run_json_field(const run_json_node *o, const char *key, bool required, run_json_node *f) {
    run_json_child(o, key, json_object_get(o->v, key), f);
    if (!f->v && required) return run_json_fail(o, "missing required key \"%s\"", key);
    return true;
}

bool run_json_check_keys(const run_json_node *o, const char *const *allowed) {
    const char *key;
    json_t *v;
    json_object_foreach(o->v, key, v) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (allowed[i]) continue;
        char list[400];
        sbuf b;
        sb_init(&b, list, sizeof list);
        for (i = 0; allowed[i]; i++)
            sb_printf(&b, "%s%s", i ? ", " : "", allowed[i]);
        run_json_node k;
        run_json_child(o, key, v, &k);
        return run_json_fail(&k, "unknown key (expected one of: %s)", list);
    }
    return true;
}

/* The as_* checks accept an absent node (an optional key: keep the default). */

bool run_json_as_object(const run_json_node *n, const char *const *keys) {
    if (!n->v) return true;
    if (!json_is_object(n->v)) return run_json_expect(n, "an object");
    return !keys || run_json_check_keys(n, keys);
}

bool run_json_as_int(const run_json_node *n, int64_t lo, int64_t hi, int64_t *out) {
    if (!n->v) return true;
    if (json_is_integer(n->v) && json_integer_value(n->v) >= lo && json_integer_value(n->v) <= hi) {
        *out = json_integer_value(n->v);
        return true;
    }
    if (hi == INT64_MAX) return run_json_expect(n, "an integer >= %lld", (long long)lo);
    return run_json_expect(n, "an integer between %lld and %lld", (long long)lo, (long long)hi);
}

bool run_json_as_num(const run_json_node *n, double lo, double hi, bool lo_open, double *out) {
    if (!n->v) return true;
    double x = json_number_value(n->v);
    if (json_is_number(n->v) && (lo_open ? x > lo : x >= lo) && x <= hi) {
        *out = x;
        return true;
    }
    char l[32], h[32];
    run_json_fmt_num(l, sizeof l, lo);
    run_json_fmt_num(h, sizeof h, hi);
    if (isinf(hi) && isinf(lo)) return run_json_expect(n, "a number");
    if (isinf(hi)) return run_json_expect(n, "a number %s %s", lo_open ? ">" : ">=", l);
    if (lo_open) return run_json_expect(n, "a number > %s and <= %s", l, h);
    return run_json_expect(n, "a number between %s and %s", l, h);
}

bool run_json_as_str(const run_json_node *n, char *out, size_t size, bool nonempty) {
    if (!n->v) return true;
    const char *s = json_string_value(n->v);
    size_t len = s ? strlen(s) : 0;
    if (!s || len >= size || (nonempty && len == 0))
        return run_json_expect(n, "a %sstring of at most %zu characters",
                               nonempty ? "non-empty " : "", size - 1);
    memcpy(out, s, len + 1);
    return true;
}

bool run_json_as_enum(const run_json_node *n, const char *const *names, int *out) {
    if (!n->v) return true;
    const char *s = json_string_value(n->v);
    for (int i = 0; s && names[i]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return true;
        }
    char list[200];
    sbuf b;
    sb_init(&b, list, sizeof list);
    for (int i = 0; names[i]; i++)
        sb_printf(&b, "%s\"%s\"", i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
    return run_json_expect(n, "%s", list);
}

bool run_json_get_obj(const run_json_node *o, const char *key, bool req, const char *const *keys,
                      run_json_node *f) {
    return run_json_field(o, key, req, f) && run_json_as_object(f, keys);
}

bool run_json_get_int(const run_json_node *o, const char *key, bool req, int64_t lo, int64_t hi,
                      int64_t *out) {
    run_json_node f;
    return run_json_field(o, key, req, &f) && run_json_as_int(&f, lo, hi, out);
}

bool run_json_get_u32(const run_json_node *o, const char *key, uint32_t lo, uint32_t *out) {
    int64_t v = *out;
    if (!run_json_get_int(o, key, false, lo, UINT32_MAX, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

bool run_json_get_u32_req(const run_json_node *o, const char *key, uint32_t lo, uint32_t *out) {
    int64_t v = 0;
    if (!run_json_get_int(o, key, true, lo, UINT32_MAX, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

bool run_json_get_num(const run_json_node *o, const char *key, bool req, double lo, double hi,
                      bool lo_open, double *out) {
    run_json_node f;
    return run_json_field(o, key, req, &f) && run_json_as_num(&f, lo, hi, lo_open, out);
}

bool run_json_get_enum(const run_json_node *o, const char *key, const char *const *names,
                       int *out) {
    run_json_node f;
    return run_json_field(o, key, false, &f) && run_json_as_enum(&f, names, out);
}

void run_json_root(run_json_doc *doc, json_t *v, run_json_node *out) {
    out->doc = doc;
    out->v = v;
    snprintf(out->path, sizeof out->path, "$");
}

int64_t run_seconds_to_ns(double seconds) {
    return (int64_t)llround(seconds * 1e9);
}

/* ---- documents ------------------------------------------------------------- */

bool run_error_set(run_error *err, run_status code, const char *fmt, ...) {
    if (!err) return false;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return false;
}

static json_t *parsed(json_t *json, const json_error_t *jerr, const char *name, run_error *err) {
    if (json) return json;
    if (jerr->line > 0)
        run_error_set(err, RUN_EINVAL, "%.400s:%d:%d: invalid JSON: %s", name, jerr->line,
                      jerr->column, jerr->text);
    else
        run_error_set(err, RUN_EINVAL, "%.400s: invalid JSON: %s", name, jerr->text);
    return NULL;
}

static const char *file_kind(mode_t m) {
    return S_ISDIR(m)    ? "a directory"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

FILE *run_file_open_regular(const char *path, size_t max_bytes, const char *what, run_error *err) {
    struct stat st;
    /* Look before opening: opening a FIFO for reading blocks until a writer comes. */
    if (stat(path, &st) != 0) {
        run_error_set(err, RUN_EIO, "%.400s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    int fd = S_ISREG(st.st_mode) ? open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) { /* replaced meanwhile */
        close(fd);
        fd = -1;
        errno = 0;
    }
    if (fd < 0) {
        if (S_ISREG(st.st_mode) && errno)
            run_error_set(err, RUN_EIO, "%.400s: cannot read: %s", path, strerror(errno));
        else
            run_error_set(err, RUN_EIO, "%.400s: expected %s in a regular file, got %s", path, what,
                          file_kind(st.st_mode));
        return NULL;
    }
    if ((uintmax_t)st.st_size > max_bytes) {
        close(fd);
        run_error_set(err, RUN_EINVAL, "%.400s: expected %s of at most %zu bytes, got %jd bytes",
                      path, what, max_bytes, (intmax_t)st.st_size);
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        run_error_set(err, RUN_EIO, "%.400s: cannot read: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

json_t *run_json_load_file(const char *path, size_t max_bytes, run_error *err) {
    FILE *f = run_file_open_regular(path, max_bytes, "a JSON document", err);
    if (!f) return NULL;
    json_error_t jerr;
    errno = 0;
    json_t *json = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (!json && read_errno) {
        run_error_set(err, RUN_EIO, "%.400s: cannot read: %s", path, strerror(read_errno));
        return NULL;
    }
    return parsed(json, &jerr, path, err);
}

json_t *run_json_load_text(const char *text, const char *name, run_error *err) {
    json_error_t jerr;
    return parsed(json_loads(text, JSON_REJECT_DUPLICATES, &jerr), &jerr, name, err);
}

void run_json_dir_of(const char *path, char *dir, size_t size) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        dir[0] = '\0';
    else if (slash == path)
        snprintf(dir, size, "/");
    else
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
}
