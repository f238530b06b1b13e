#include "store_packs.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "res/event_names.h"
#include "res/id_hash.h"

/* the longest entry: every field of at most 20 digits and a sign, the
** commas, the brackets */
enum { PACK_ENTRY_MAX = RES_PACK_FIELDS * 22 + 4 };

const char res_pack_no_memory[] = "out of memory";

const char *res_event_resource_text(const res_run_record *run, const admit_event *ev) {
    bool req = ev->stream == ADMIT_STREAM_REQUEST;
    if (ev->resource < 0) return NULL;
    uint32_t r = (uint32_t)ev->resource;
    if (!req) return r < run->resource_count ? run->resource_names[r] : NULL;
    return r < run->request_resource_count ? run->request[r].key : NULL;
}

const char *res_event_column_text(const res_run_record *run, const admit_event *ev) {
    if (ev->corr.column < 0 || (uint32_t)ev->corr.column >= run->config->column_count) return NULL;
    return run->config->columns[ev->corr.column].name;
}

static size_t hash_ptr(const void *p, size_t cap) {
    return res_id_hash((uint64_t)(uintptr_t)p) & (cap - 1);
}

/* The map from a text's address to its index + 1, twice as large. */
static bool map_grow(res_pack *p) {
    size_t cap = p->map_cap ? p->map_cap * 2 : 64;
    const char **keys = calloc(cap, sizeof *keys);
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!keys || !slots) {
        free(keys);
        free(slots);
        return false;
    }
    for (size_t i = 0; i < p->map_cap; i++) {
        if (!p->slots[i]) continue;
        size_t h = hash_ptr(p->keys[i], cap);
        while (slots[h])
            h = (h + 1) & (cap - 1);
        keys[h] = p->keys[i];
        slots[h] = p->slots[i];
    }
    free(p->keys);
    free(p->slots);
    p->keys = keys;
    p->slots = slots;
    p->map_cap = cap;
    return true;
}

/* text's index in the strings + 1 (0 for NULL), added when new; -1 when
** out of memory (a pack names at most 4 texts an event). */
static int64_t string_slot(res_pack *p, const char *text) {
    if (!text) return 0;
    if (2 * (p->nstrings + 1) > p->map_cap && !map_grow(p)) return -1;
    size_t h = hash_ptr(text, p->map_cap);
    for (; p->slots[h]; h = (h + 1) & (p->map_cap - 1))
        if (p->keys[h] == text) return p->slots[h];
    if (p->nstrings == p->strings_cap) {
        size_t cap = p->strings_cap ? p->strings_cap * 2 : 32;
        const char **s = realloc(p->strings, cap * sizeof *s);
        if (!s) return -1;
        p->strings = s;
        p->strings_cap = cap;
    }
    p->strings[p->nstrings++] = text;
    p->keys[h] = text;
    p->slots[h] = (uint32_t)p->nstrings;
    return (int64_t)p->nstrings;
}

/* Writes v in decimal at out; returns the end. */
static char *put_int(char *out, int64_t v) {
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    if (v < 0) *out++ = '-';
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n)
        *out++ = tmp[--n];
    return out;
}

const char *res_pack_add(res_pack *p, const res_run_record *run, const admit_event *ev) {
    if (ev->corr.row_group == INT64_MAX) return "a row group of 2^63 - 1 (the format holds it + 1)";
    if (p->len + PACK_ENTRY_MAX + 2 > p->cap) {
        size_t cap = p->cap ? p->cap * 2 : (size_t)RES_PACK_EVENTS * 48;
        char *body = realloc(p->body, cap);
        if (!body) return res_pack_no_memory;
        p->body = body;
        p->cap = cap;
    }
    if (p->events == 0) {
        p->first_sequence = ev->sequence;
        p->first_ns = ev->captured_at_ns;
    }
    int64_t kind = string_slot(p, admit_event_name(ev));
    int64_t column = string_slot(p, res_event_column_text(run, ev));
    int64_t resource = string_slot(p, res_event_resource_text(run, ev));
    int64_t reason = string_slot(p, res_event_reason_name(ev));
    if (kind == 0) return "an event without a kind name";
    if (kind < 0 || column < 0 || resource < 0 || reason < 0) return res_pack_no_memory;
    int64_t f[RES_PACK_FIELDS] = {[RES_PACK_SEQUENCE] = (int64_t)(ev->sequence - p->first_sequence),
                                  [RES_PACK_KIND] = kind - 1,
                                  [RES_PACK_TIME] = ev->captured_at_ns - p->first_ns,
                                  [RES_PACK_TASK] = (int64_t)ev->task_id,
                                  [RES_PACK_EXECUTION] = (int64_t)ev->corr.task_execution_id,
                                  [RES_PACK_LEASE] = (int64_t)ev->lease_id,
                                  [RES_PACK_VALUE] = ev->value,
                                  [RES_PACK_ROW_GROUP] =
                                      ev->corr.row_group >= 0 ? (int64_t)ev->corr.row_group + 1 : 0,
                                  [RES_PACK_COLUMN] = column,
                                  [RES_PACK_RESOURCE] = resource,
                                  [RES_PACK_REASON] = reason,
                                  [RES_PACK_ATTEMPT] = (int64_t)ev->attempt_id};
    int n = RES_PACK_FIELDS;
    while (n > RES_PACK_MIN_FIELDS && f[n - 1] == 0)
        n--;
    char *out = p->body + p->len;
    *out++ = p->events ? ',' : '[';
    *out++ = '[';
    for (int i = 0; i < n; i++) {
        if (i) *out++ = ',';
        out = put_int(out, f[i]);
    }
    *out++ = ']';
    p->len = (size_t)(out - p->body);
    p->events++;
    return NULL;
}

bool res_pack_is_full(const res_pack *p) {
    return p->events >= RES_PACK_EVENTS;
}

const char *res_pack_body(res_pack *p, size_t *len) {
    p->body[p->len] = ']';
    p->body[p->len + 1] = '\0';
    *len = p->len + 1;
    return p->body;
}

char *res_pack_strings(const res_pack *p) {
    json_t *a = json_array();
    bool ok = a != NULL;
    for (size_t i = 0; ok && i < p->nstrings; i++)
        ok = json_array_append_new(a, json_string(p->strings[i])) == 0;
    char *text = ok ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}

void res_pack_clear(res_pack *p) {
    p->len = 0;
    p->events = 0;
    p->nstrings = 0;
    if (p->slots) memset(p->slots, 0, p->map_cap * sizeof *p->slots);
}

void res_pack_free(res_pack *p) {
    free(p->body);
    free(p->strings);
    free(p->keys);
    free(p->slots);
    memset(p, 0, sizeof *p);
}
