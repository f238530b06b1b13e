/*
** Reading configuration JSON with exact error messages.
**
** Every value is read through a run_json_node: a JSON value plus its JSON
** path ("$.columns[2].duration").  Each check reports the first problem as
** "FILE: PATH: expected WHAT, got VALUE" (into the document's run_error,
** code RUN_EINVAL) from one place, so the configuration loader and an
** environment's loader (the simulator's providers, say) word their errors
** alike.  The as_* and get_* readers accept an absent optional key (node
** value NULL) and keep the caller's default; they return false after
** recording an error.
*/
#ifndef RUN_JSON_READER_H
#define RUN_JSON_READER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "run/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RUN_JSON_PATH_MAX 512

typedef struct run_json_doc {
    const char *file;     /* names the document in messages */
    const char *base_dir; /* relative data files (latency traces) resolve here; "": cwd */
    run_error *err;
} run_json_doc;

typedef struct run_json_node {
    run_json_doc *doc;
    json_t *v; /* NULL: an optional key that is absent */
    char path[RUN_JSON_PATH_MAX];
} run_json_node;

/* Opens path for reading only if it is a regular file of at most max_bytes
** (FIFOs, devices and directories are refused before they are opened, so
** nothing blocks); `what` names the expected content in messages ("a JSON
** document").  NULL with err set (RUN_EIO, or RUN_EINVAL when too big). */
FILE *run_file_open_regular(const char *path, size_t max_bytes, const char *what, run_error *err);
/* Reads a whole JSON document (duplicate keys rejected) from a regular file
** of at most max_bytes, or from text named name.  NULL with err set:
** RUN_EIO when the file cannot be read, RUN_EINVAL ("FILE:LINE:COLUMN:
** invalid JSON: ...") when it does not parse or is too big.  New reference. */
json_t *run_json_load_file(const char *path, size_t max_bytes, run_error *err);
json_t *run_json_load_text(const char *text, const char *name, run_error *err);
/* The directory part of path ("" for none), for run_json_doc.base_dir. */
void run_json_dir_of(const char *path, char *dir, size_t size);

void run_json_root(run_json_doc *doc, json_t *v, run_json_node *out);
void run_json_child(const run_json_node *parent, const char *key, json_t *v, run_json_node *out);
void run_json_item(const run_json_node *array, size_t i, run_json_node *out);

/* "FILE: PATH: <message>"; always returns false. */
bool run_json_fail(const run_json_node *n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* "FILE: PATH: expected <message>, got <the node's value>"; returns false. */
bool run_json_expect(const run_json_node *n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* o.key into *f (f->v NULL when absent); false only when a required key is missing. */
bool run_json_field(const run_json_node *o, const char *key, bool required, run_json_node *f);
/* Every key of object o is in allowed (NULL-terminated), else "unknown key
** (expected one of: ...)". */
bool run_json_check_keys(const run_json_node *o, const char *const *allowed);

bool run_json_as_object(const run_json_node *n, const char *const *keys);
bool run_json_as_int(const run_json_node *n, int64_t lo, int64_t hi, int64_t *out);
bool run_json_as_num(const run_json_node *n, double lo, double hi, bool lo_open, double *out);
bool run_json_as_str(const run_json_node *n, char *out, size_t size, bool nonempty);
bool run_json_as_enum(const run_json_node *n, const char *const *names, int *out);

bool run_json_get_obj(const run_json_node *o, const char *key, bool req, const char *const *keys,
                      run_json_node *f);
bool run_json_get_int(const run_json_node *o, const char *key, bool req, int64_t lo, int64_t hi,
                      int64_t *out);
bool run_json_get_u32(const run_json_node *o, const char *key, uint32_t lo, uint32_t *out);
bool run_json_get_u32_req(const run_json_node *o, const char *key, uint32_t lo, uint32_t *out);
bool run_json_get_num(const run_json_node *o, const char *key, bool req, double lo, double hi,
                      bool lo_open, double *out);
bool run_json_get_enum(const run_json_node *o, const char *key, const char *const *names, int *out);

/* s as a JSON string literal, cut after about 60 bytes at a UTF-8 boundary. */
const char *run_json_quoted(char *buf, size_t n, const char *s);
/* Shortest text that reads back as x ("0.1", not "0.10000000000000001"). */
const char *run_json_fmt_num(char *buf, size_t n, double x);

/* Seconds (as written in a configuration) to whole nanoseconds, rounded once. */
int64_t run_seconds_to_ns(double seconds);

#ifdef __cplusplus
}
#endif

#endif
