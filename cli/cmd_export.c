/* `admitsim export RUN`: a stored run out of the results database, as
**   json          the run row, its iterations, metrics, snapshots and every
**                 event (both streams, in stream/sequence order);
**   csv           every event, one row each, with a header;
**   chrome-trace  the Trace Event Format, so the two streams open as
**                 per-layer tracks in Perfetto or chrome://tracing: task
**                 lease slots (one track per slot, a span per task holding
**                 it), the ready queue and task admission per group, and per
**                 request resource its request waits and provider calls
**                 (one track per concurrent call).  Times are microseconds
**                 of virtual time. */
#include <getopt.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "res/store.h"
#include "run_query.h"

static void export_usage(FILE *f) {
    fprintf(f, "usage: admitsim export RUN [options]\n"
               "\n"
               "Writes a stored run to standard output (or --out FILE).\n"
               "\n"
               "options:\n"
               "  --format json|csv|chrome-trace\n"
               "                       json: run, iterations, metrics, snapshots, events;\n"
               "                       csv: every event; chrome-trace: tracks per task lease\n"
               "                       slot, per group (queue wait, task admission wait) and per\n"
               "                       request resource (request wait, provider execution), for\n"
               "                       Perfetto or chrome://tracing (default json)\n"
               "  --iteration N        csv and chrome-trace: which iteration (default 0)\n"
               "  --db FILE            results database (default " RES_STORE_DEFAULT_PATH ")\n"
               "  --out FILE           write here instead of standard output\n"
               "  -h, --help           this text\n");
}

static const char *text(sqlite3_stmt *st, int col) {
    return column_text(st, col, "");
}

/* A column value as JSON: integers, reals, text, null. */
static json_t *column_json(sqlite3_stmt *st, int col) {
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, col));
    case SQLITE_FLOAT: return json_real(sqlite3_column_double(st, col));
    case SQLITE_NULL: return json_null();
    default: return json_string(text(st, col));
    }
}

/* Every row of a query as an array of objects keyed by column name. */
static json_t *rows_json(sqlite3 *db, const char *sql, int64_t run) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return NULL;
    sqlite3_bind_int64(st, 1, run);
    json_t *rows = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int c = 0; c < sqlite3_column_count(st); c++)
            json_object_set_new(o, sqlite3_column_name(st, c), column_json(st, c));
        json_array_append_new(rows, o);
    }
    sqlite3_finalize(st);
    return rows;
}

static int export_json(sqlite3 *db, int64_t run, FILE *out) {
    json_t *runs = rows_json(db, "SELECT * FROM runs WHERE run_id = ?1", run);
    json_t *its =
        rows_json(db, "SELECT * FROM iterations WHERE run_id = ?1 ORDER BY iteration", run);
    json_t *metrics = rows_json(db,
                                "SELECT iteration, scope, name, value FROM metrics WHERE "
                                "run_id = ?1 ORDER BY iteration, rowid",
                                run);
    json_t *snaps = rows_json(db,
                              "SELECT iteration, kind, json FROM snapshots WHERE run_id = ?1 "
                              "ORDER BY iteration, kind",
                              run);
    json_t *events = rows_json(db,
                               "SELECT iteration, stream, sequence, kind, captured_at_ns, "
                               "task_id, execution_id, task_lease_id, request_attempt_id, "
                               "request_lease_id, resource, reason, value, row_group, "
                               "column_name FROM events WHERE run_id = ?1 ORDER BY iteration, "
                               "stream, sequence",
                               run);
    if (!runs || !its || !metrics || !snaps || !events) {
        fprintf(stderr, "admitsim export: %s\n", sqlite3_errmsg(db));
        json_decref(runs), json_decref(its), json_decref(metrics), json_decref(snaps),
            json_decref(events);
        return EXIT_FAILURE_RUN;
    }
    json_t *doc =
        json_pack("{s:o, s:o, s:o, s:o, s:o}", "run", json_array_get(runs, 0), "iterations", its,
                  "metrics", metrics, "snapshots", snaps, "events", events);
    json_incref(json_array_get(runs, 0));
    json_decref(runs);
    int rc = json_dumpf(doc, out, JSON_INDENT(1) | JSON_REAL_PRECISION(15)) == 0 ? EXIT_OK
                                                                                 : EXIT_FAILURE_RUN;
    fputc('\n', out);
    json_decref(doc);
    return rc;
}

static void csv_text(FILE *out, const char *s) {
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static int export_csv(sqlite3 *db, int64_t run, int64_t iteration, FILE *out) {
    sqlite3_stmt *st = run_query(
        db, "export",
        "SELECT stream, sequence, kind, captured_at_ns, task_id, execution_id, task_lease_id, "
        "request_attempt_id, request_lease_id, resource, reason, value, row_group, column_name "
        "FROM events WHERE run_id = ?1 AND iteration = ?2 ORDER BY captured_at_ns, stream DESC, "
        "sequence",
        run, iteration);
    if (!st) return EXIT_FAILURE_RUN;
    int n = sqlite3_column_count(st);
    for (int c = 0; c < n; c++)
        fprintf(out, "%s%s", c ? "," : "", sqlite3_column_name(st, c));
    fputc('\n', out);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < n; c++) {
            if (c) fputc(',', out);
            if (sqlite3_column_type(st, c) != SQLITE_NULL) csv_text(out, text(st, c));
        }
        fputc('\n', out);
    }
    sqlite3_finalize(st);
    return EXIT_OK;
}

/* ---- chrome trace ---------------------------------------------------------- */

typedef struct span {
    int64_t start, end; /* ns */
    int track;          /* index into tracks */
    int lane;
    char name[96];
    int64_t task_id, attempt_id;
} span;

typedef struct track {
    char name[192];
    int pid;       /* 1 task lease slots, 2 ready queue, 3 request resources */
    int64_t *ends; /* per lane: when it frees up */
    int lanes;
} track;

typedef struct trace {
    span *spans;
    size_t n, cap;
    track *tracks;
    int ntracks, track_cap;
} trace;

static int track_of(trace *t, int pid, const char *name) {
    for (int i = 0; i < t->ntracks; i++)
        if (t->tracks[i].pid == pid && strcmp(t->tracks[i].name, name) == 0) return i;
    if (t->ntracks == t->track_cap) {
        int cap = t->track_cap ? t->track_cap * 2 : 16;
        track *p = realloc(t->tracks, (size_t)cap * sizeof *p);
        if (!p) return -1;
        t->tracks = p;
        t->track_cap = cap;
    }
    t->tracks[t->ntracks] = (track){.pid = pid};
    snprintf(t->tracks[t->ntracks].name, sizeof t->tracks[0].name, "%s", name);
    return t->ntracks++;
}

static bool add_span(trace *t, int track, int64_t start, int64_t end, const char *name,
                     int64_t task_id, int64_t attempt_id) {
    if (track < 0 || end < start) return track >= 0;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        span *p = realloc(t->spans, cap * sizeof *p);
        if (!p) return false;
        t->spans = p;
        t->cap = cap;
    }
    span *s = &t->spans[t->n++];
    *s = (span){
        .start = start, .end = end, .track = track, .task_id = task_id, .attempt_id = attempt_id};
    snprintf(s->name, sizeof s->name, "%s", name);
    return true;
}

static int cmp_span(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->track != y->track) return x->track - y->track;
    if (x->start != y->start) return (x->start > y->start) - (x->start < y->start);
    return (x->end > y->end) - (x->end < y->end);
}

/* Open-addressing map id -> (start time, a label) for pairing events. */
typedef struct pending {
    int64_t *keys, *at;
    char (*label)[96];
    size_t cap, used;
} pending;

static bool pending_init(pending *p) {
    p->cap = 1 << 12;
    p->used = 0;
    p->keys = calloc(p->cap, sizeof *p->keys);
    p->at = calloc(p->cap, sizeof *p->at);
    p->label = calloc(p->cap, sizeof *p->label);
    return p->keys && p->at && p->label;
}

static void pending_free(pending *p) {
    free(p->keys);
    free(p->at);
    free(p->label);
}

static size_t pending_slot(const pending *p, int64_t key) {
    size_t j = (size_t)((uint64_t)key * 0x9e3779b97f4a7c15ULL) & (p->cap - 1);
    while (p->keys[j] && p->keys[j] != key)
        j = (j + 1) & (p->cap - 1);
    return j;
}

static bool pending_put(pending *p, int64_t key, int64_t at, const char *label) {
    if (!key) return true;
    if (p->used * 2 >= p->cap) {
        pending n = {.cap = p->cap * 2};
        n.keys = calloc(n.cap, sizeof *n.keys);
        n.at = calloc(n.cap, sizeof *n.at);
        n.label = calloc(n.cap, sizeof *n.label);
        if (!n.keys || !n.at || !n.label) {
            pending_free(&n);
            return false;
        }
        for (size_t i = 0; i < p->cap; i++)
            if (p->keys[i]) {
                size_t j = pending_slot(&n, p->keys[i]);
                n.keys[j] = p->keys[i];
                n.at[j] = p->at[i];
                memcpy(n.label[j], p->label[i], sizeof n.label[j]);
                n.used++;
            }
        pending_free(p);
        *p = n;
    }
    size_t j = pending_slot(p, key);
    if (!p->keys[j]) p->used++;
    p->keys[j] = key;
    p->at[j] = at;
    snprintf(p->label[j], sizeof p->label[j], "%s", label);
    return true;
}

/* The start recorded for key, or -1. */
static int64_t pending_get(const pending *p, int64_t key, const char **label) {
    size_t j = pending_slot(p, key);
    if (p->keys[j] != key) return -1;
    if (label) *label = p->label[j];
    return p->at[j];
}

static int export_trace(sqlite3 *db, int64_t run, int64_t iteration, const char *title, FILE *out) {
    sqlite3_stmt *st = run_query(db, "export",
                                 "SELECT stream, kind, captured_at_ns, task_id, execution_id, "
                                 "request_attempt_id, resource, column_name, row_group, reason "
                                 "FROM events WHERE run_id = ?1 AND iteration = ?2 ORDER BY "
                                 "captured_at_ns, stream DESC, sequence",
                                 run, iteration);
    if (!st) return EXIT_FAILURE_RUN;
    trace t = {0};
    pending enq, sel, lease, wait, call;
    bool ok = pending_init(&enq) && pending_init(&sel) && pending_init(&lease) &&
              pending_init(&wait) && pending_init(&call);
    int slots = track_of(&t, 1, "task lease slots");
    while (ok && sqlite3_step(st) == SQLITE_ROW) {
        bool req = strcmp(text(st, 0), "request") == 0;
        const char *kind = text(st, 1), *resource = text(st, 6), *column = text(st, 7);
        int64_t at = sqlite3_column_int64(st, 2), task = sqlite3_column_int64(st, 3);
        int64_t exec = sqlite3_column_int64(st, 4), attempt = sqlite3_column_int64(st, 5);
        char label[96];
        snprintf(label, sizeof label, "%s rg %lld task %lld", column,
                 (long long)sqlite3_column_int64(st, 8), (long long)task);
        const char *start_label = NULL;
        if (!req) {
            if (!strcmp(kind, "ready_enqueued")) {
                ok = pending_put(&enq, task, at, column);
            } else if (!strcmp(kind, "selected")) {
                int64_t s = pending_get(&enq, task, &start_label);
                if (s >= 0) {
                    char tr[192];
                    snprintf(tr, sizeof tr, "ready queue: %s", column);
                    ok = add_span(&t, track_of(&t, 2, tr), s, at, "queue wait", task, 0);
                }
                ok = ok && pending_put(&sel, task, at, column);
            } else if (!strcmp(kind, "task_lease_acquired")) {
                int64_t s = pending_get(&sel, task, NULL);
                if (s >= 0) {
                    char tr[192];
                    snprintf(tr, sizeof tr, "task admission: %s", column);
                    ok = add_span(&t, track_of(&t, 2, tr), s, at, "task admission wait", task, 0);
                }
                ok = ok && pending_put(&lease, task, at, label);
            } else if (!strcmp(kind, "task_lease_released") && !strcmp(text(st, 9), "released")) {
                int64_t s = pending_get(&lease, task, &start_label);
                if (s >= 0) ok = add_span(&t, slots, s, at, start_label, task, exec);
            }
        } else if (!strcmp(kind, "request_wait_started")) {
            ok = pending_put(&wait, attempt, at, resource);
        } else if (!strcmp(kind, "request_wait_completed")) {
            int64_t s = pending_get(&wait, attempt, NULL);
            char tr[192];
            snprintf(tr, sizeof tr, "request wait: %s", resource);
            if (s >= 0)
                ok = add_span(&t, track_of(&t, 3, tr), s, at, "request wait", task, attempt);
        } else if (!strcmp(kind, "model_request_started")) {
            ok = pending_put(&call, attempt, at, resource);
        } else if (!strcmp(kind, "model_request_completed")) {
            int64_t s = pending_get(&call, attempt, NULL);
            char tr[192], name[96];
            snprintf(tr, sizeof tr, "provider: %s", resource);
            snprintf(name, sizeof name, "call (%s)", text(st, 9));
            if (s >= 0) ok = add_span(&t, track_of(&t, 3, tr), s, at, name, task, attempt);
        }
    }
    sqlite3_finalize(st);
    pending_free(&enq), pending_free(&sel), pending_free(&lease), pending_free(&wait),
        pending_free(&call);
    if (!ok) {
        fprintf(stderr, "admitsim export: out of memory building the trace\n");
        free(t.spans);
        free(t.tracks);
        return EXIT_FAILURE_RUN;
    }
    /* Lanes: overlapping spans of one track go to separate rows. */
    qsort(t.spans, t.n, sizeof *t.spans, cmp_span);
    for (size_t i = 0; i < t.n && ok; i++) {
        track *tr = &t.tracks[t.spans[i].track];
        int lane = 0;
        while (lane < tr->lanes && tr->ends[lane] > t.spans[i].start)
            lane++;
        if (lane == tr->lanes) {
            int64_t *e = realloc(tr->ends, (size_t)(tr->lanes + 1) * sizeof *e);
            if (!e) {
                ok = false;
                break;
            }
            tr->ends = e;
            tr->lanes++;
        }
        tr->ends[lane] = t.spans[i].end;
        t.spans[i].lane = lane;
    }
    static const char *process[] = {"", "Task lease slots", "Ready queue and task admission",
                                    "Request admission and providers"};
    fprintf(out, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"title\":");
    json_t *jt = json_string(title);
    json_dumpf(jt, out, JSON_ENCODE_ANY);
    json_decref(jt);
    fprintf(out, ",\"time_unit\":\"virtual microseconds\"},\"traceEvents\":[\n");
    bool first = true;
    for (int pid = 1; pid <= 3; pid++) {
        fprintf(out,
                "%s{\"ph\":\"M\",\"pid\":%d,\"name\":\"process_name\",\"args\":{\"name\":\"%s\"}}",
                first ? "" : ",\n", pid, process[pid]);
        first = false;
    }
    /* tid = track index * 1000 + lane: one named row per lane */
    for (int i = 0; i < t.ntracks; i++)
        for (int lane = 0; lane < t.tracks[i].lanes; lane++) {
            char name[256];
            if (t.tracks[i].pid == 1)
                snprintf(name, sizeof name, "slot %d", lane);
            else
                snprintf(name, sizeof name, "%s #%d", t.tracks[i].name, lane);
            json_t *jn = json_string(name);
            fprintf(out,
                    ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"thread_name\","
                    "\"args\":{\"name\":",
                    t.tracks[i].pid, i * 1000 + lane);
            json_dumpf(jn, out, JSON_ENCODE_ANY);
            fprintf(out, "}}");
            json_decref(jn);
        }
    for (size_t i = 0; i < t.n; i++) {
        const span *s = &t.spans[i];
        json_t *jn = json_string(s->name);
        fprintf(out, ",\n{\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"name\":",
                t.tracks[s->track].pid, s->track * 1000 + s->lane, (double)s->start / 1e3,
                (double)(s->end - s->start) / 1e3);
        json_dumpf(jn, out, JSON_ENCODE_ANY);
        fprintf(out, ",\"args\":{\"task_id\":%lld,\"id\":%lld}}", (long long)s->task_id,
                (long long)s->attempt_id);
        json_decref(jn);
    }
    fprintf(out, "\n]}\n");
    for (int i = 0; i < t.ntracks; i++)
        free(t.tracks[i].ends);
    free(t.tracks);
    free(t.spans);
    return ok ? EXIT_OK : EXIT_FAILURE_RUN;
}

int cmd_export(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},     {"out", required_argument, 0, 'o'},
        {"format", required_argument, 0, 'f'}, {"iteration", required_argument, 0, 'i'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *db_path = RES_STORE_DEFAULT_PATH, *out_path = NULL, *fmt = "json";
    uint64_t iteration = 0, run_id;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 'f':
            if (strcmp(optarg, "json") && strcmp(optarg, "csv") && strcmp(optarg, "chrome-trace")) {
                fprintf(stderr,
                        "admitsim export: --format expects json, csv or chrome-trace, "
                        "got '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            fmt = optarg;
            break;
        case 'i':
            if (!cli_parse_u64("export", "--iteration", optarg, 1000000, &iteration))
                return EXIT_USAGE;
            break;
        case 'h': export_usage(stdout); return EXIT_OK;
        default: export_usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "admitsim export: expected exactly one RUN id\n\n");
        export_usage(stderr);
        return EXIT_USAGE;
    }
    if (!cli_parse_u64("export", "RUN", argv[optind], INT64_MAX, &run_id)) return EXIT_USAGE;
    char err[1100];
    res_store *store = NULL;
    if (res_store_open(db_path, RES_STORE_OPEN_EXISTING, &store, err, sizeof err) != RES_STORE_OK) {
        fprintf(stderr, "admitsim export: %s\n", err);
        return EXIT_FAILURE_RUN;
    }
    sqlite3 *db = res_store_db(store);
    sqlite3_stmt *st = NULL;
    char title[512] = "";
    bool found =
        sqlite3_prepare_v2(db, "SELECT scenario_id, policy, seed FROM runs WHERE run_id = ?1", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_bind_int64(st, 1, (int64_t)run_id) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
    if (found)
        snprintf(title, sizeof title, "%s - policy %s - seed %lld - iteration %llu", text(st, 0),
                 text(st, 1), (long long)sqlite3_column_int64(st, 2),
                 (unsigned long long)iteration);
    sqlite3_finalize(st);
    if (!found) {
        fprintf(stderr, "admitsim export: %s: no run %llu\n", db_path, (unsigned long long)run_id);
        res_store_close(store);
        return EXIT_FAILURE_RUN;
    }
    /* Written to a temporary name and renamed, like every artifact. */
    char tmp[1200];
    FILE *out = stdout;
    if (out_path) {
        snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
        out = fopen(tmp, "w");
        if (!out) {
            fprintf(stderr, "admitsim export: cannot write %s\n", tmp);
            res_store_close(store);
            return EXIT_FAILURE_RUN;
        }
    }
    int rc = !strcmp(fmt, "json") ? export_json(db, (int64_t)run_id, out)
             : !strcmp(fmt, "csv")
                 ? export_csv(db, (int64_t)run_id, (int64_t)iteration, out)
                 : export_trace(db, (int64_t)run_id, (int64_t)iteration, title, out);
    if (out_path) {
        if (fclose(out) != 0) rc = EXIT_FAILURE_RUN;
        if (rc == EXIT_OK && rename(tmp, out_path) != 0) rc = EXIT_FAILURE_RUN;
        if (rc != EXIT_OK) remove(tmp);
    }
    res_store_close(store);
    return rc;
}
