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
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "res/artifact.h"
#include "res/atomic_file.h"
#include "res/report_files.h"
#include "res/store_reader.h"
#include "run/json_reader.h"

static void export_usage(FILE *f) {
    fprintf(f, "usage: admitsim export RUN [options]\n"
               "\n"
               "Writes a stored run to standard output (or --out FILE).\n"
               "\n"
               "options:\n"
               "  --format json|csv|chrome-trace\n"
               "                       json: run, iterations, metrics, snapshots, events;\n"
               "                       csv: every event stored (of a run stored with its\n"
               "                       notable events only, a note says how many);\n"
               "                       chrome-trace: tracks per task lease slot, per group\n"
               "                       (queue wait, task admission wait) and per\n"
               "                       request resource (request wait, provider execution), for\n"
               "                       Perfetto or chrome://tracing (default json)\n"
               "  --iteration N        csv and chrome-trace: which iteration (default 0; one\n"
               "                       the run did not store is an error, exit 1)\n"
               "  --db FILE            results database (default $ADMITSIM_DB,\n"
               "                       else " RES_STORE_DEFAULT_PATH ")\n"
               "  --out FILE           write here instead of standard output (- is standard\n"
               "                       output); written whole or not at all\n"
               "  --allow-incomplete   chrome-trace of a run stored with its notable events\n"
               "                       only: write it even when some of its lifecycle events\n"
               "                       cannot be rebuilt (a warning says how many); without\n"
               "                       it that is an error (exit 1)\n"
               "  -h, --help           this text\n");
}

static const char *text(const char *s) {
    return s ? s : "";
}

static json_t *opt_int_json(res_opt_int v) {
    return v.set ? json_integer(v.value) : json_null();
}

static json_t *opt_real_json(res_opt_real v) {
    return v.set ? json_real(v.value) : json_null();
}

/* Text as stored may not be UTF-8 (a scenario file name in another
** encoding): such bytes become U+FFFD, as in the artifact. */
static json_t *opt_text_json(const char *s) {
    return s ? res_json_string_lossy(s) : json_null();
}

/* The stored command line: the argv array it is stored as, or (an older
** store's line) the text. */
static json_t *command_line_json(const char *s) {
    json_t *a = s && s[0] == '[' ? json_loads(s, 0, NULL) : NULL;
    if (json_is_array(a)) return a;
    json_decref(a);
    return opt_text_json(s);
}

/* The runs row, keyed by column name in the table's column order, then
** the run's state now (its status, or "abandoned"). */
static json_t *run_json(const res_run_row *r) {
    json_t *o =
        json_pack("{s:I, s:o, s:I, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "run_id",
                  (json_int_t)r->run_id, "scenario_id", opt_text_json(r->scenario_id),
                  "scenario_version", (json_int_t)r->scenario_version, "scenario_file",
                  opt_text_json(r->scenario_file), "policy", opt_text_json(r->policy), "seed",
                  (json_int_t)r->seed, "iterations", (json_int_t)r->iterations, "harness_version",
                  opt_text_json(r->harness_version), "command_line",
                  command_line_json(r->command_line), "created_at", opt_text_json(r->created_at),
                  "status", opt_text_json(r->status), "finished_at", opt_text_json(r->finished_at));
    if (!o) return NULL;
    json_object_set_new(o, "writer_host", opt_text_json(r->writer_host));
    json_object_set_new(o, "writer_pid", opt_int_json(r->writer_pid));
    json_object_set_new(o, "writer_instance", opt_text_json(r->writer_instance));
    json_object_set_new(o, "heartbeat_at", opt_text_json(r->heartbeat_at));
    json_object_set_new(o, "state", opt_text_json(r->state));
    json_object_set_new(o, "experiment_id", opt_int_json(r->experiment_id));
    json_object_set_new(o, "arm", opt_text_json(r->arm));
    json_object_set_new(o, "parameters", opt_text_json(r->parameters));
    return o;
}

static json_t *iteration_json(const res_iteration_row *it) {
    json_t *o =
        json_pack("{s:I, s:I, s:o, s:f, s:I, s:I, s:I, s:o, s:o}", "run_id", (json_int_t)it->run_id,
                  "iteration", (json_int_t)it->iteration, "status", opt_text_json(it->status),
                  "wall_time_seconds", it->wall_time_seconds, "final_task_leases",
                  (json_int_t)it->final_task_leases, "final_request_leases",
                  (json_int_t)it->final_request_leases, "final_request_waiters",
                  (json_int_t)it->final_request_waiters, "output_hash",
                  opt_text_json(it->output_hash), "event_count", opt_int_json(it->event_count));
    if (o) json_object_set_new(o, "events_stored", opt_int_json(it->events_stored));
    return o;
}

static json_t *event_json(const res_event_row *e) {
    json_t *o =
        json_pack("{s:I, s:o, s:I, s:o, s:I}", "iteration", (json_int_t)e->iteration, "stream",
                  opt_text_json(e->stream), "sequence", (json_int_t)e->sequence, "kind",
                  opt_text_json(e->kind), "captured_at_ns", (json_int_t)e->captured_at_ns);
    if (!o) return NULL;
    json_object_set_new(o, "task_id", opt_int_json(e->task_id));
    json_object_set_new(o, "execution_id", opt_int_json(e->execution_id));
    json_object_set_new(o, "task_lease_id", opt_int_json(e->task_lease_id));
    json_object_set_new(o, "request_attempt_id", opt_int_json(e->request_attempt_id));
    json_object_set_new(o, "request_lease_id", opt_int_json(e->request_lease_id));
    json_object_set_new(o, "resource", opt_text_json(e->resource));
    json_object_set_new(o, "reason", opt_text_json(e->reason));
    json_object_set_new(o, "value", opt_int_json(e->value));
    json_object_set_new(o, "row_group", opt_int_json(e->row_group));
    json_object_set_new(o, "column_name", opt_text_json(e->column_name));
    return o;
}

/* Output of json_dump_callback indented by `pad` further spaces, as if the
** value were nested that deep in a document dumped with JSON_INDENT(1). */
typedef struct nested {
    FILE *out;
    int pad;
} nested;

static int put_nested(const char *buf, size_t size, void *data) {
    const nested *n = data;
    for (size_t i = 0; i < size; i++) {
        fputc(buf[i], n->out);
        if (buf[i] == '\n') fprintf(n->out, "%*s", n->pad, "");
    }
    return ferror(n->out) ? -1 : 0;
}

enum { JSON_FLAGS = JSON_INDENT(1) | JSON_REAL_PRECISION(15) };

/* Writes `value` (a new reference, consumed) at depth `pad` of the document. */
static bool put_json(FILE *out, json_t *value, int pad) {
    nested n = {out, pad};
    bool ok = value && json_dump_callback(value, put_nested, &n, JSON_FLAGS | JSON_ENCODE_ANY) == 0;
    json_decref(value);
    return ok;
}

/* Member `"key": value` of the top-level object. */
static bool put_member(FILE *out, const char *key, json_t *value, bool first) {
    fprintf(out, "%s\n \"%s\": ", first ? "{" : ",", key);
    return put_json(out, value, 1);
}

/* A cursor's rows as an array member, one JSON object a row, streamed. */
typedef json_t *(*row_json_fn)(res_store_cursor *c, res_cursor_step *step, res_error *err);

static bool put_rows(FILE *out, const char *key, res_store_cursor *c, row_json_fn next,
                     res_error *err) {
    fprintf(out, ",\n \"%s\": [", key);
    bool any = false, ok = true;
    res_cursor_step step = RES_CURSOR_DONE;
    json_t *row;
    while (ok && (row = next(c, &step, err)) != NULL) {
        fputs(any ? ",\n  " : "\n  ", out);
        ok = put_json(out, row, 2);
        any = true;
    }
    fputs(any ? "\n ]" : "]", out);
    return ok && step == RES_CURSOR_DONE;
}

static json_t *next_iteration_json(res_store_cursor *c, res_cursor_step *step, res_error *err) {
    res_iteration_row it;
    *step = res_store_cursor_next_iteration(c, &it, err);
    return *step == RES_CURSOR_ROW ? iteration_json(&it) : NULL;
}

static json_t *next_metric_json(res_store_cursor *c, res_cursor_step *step, res_error *err) {
    res_metric_row m;
    if ((*step = res_store_cursor_next_metric(c, &m, err)) != RES_CURSOR_ROW) return NULL;
    return json_pack("{s:I, s:o, s:o, s:o}", "iteration", (json_int_t)m.iteration, "scope",
                     opt_text_json(m.scope), "name", opt_text_json(m.name), "value",
                     opt_real_json(m.value));
}

static json_t *next_snapshot_json(res_store_cursor *c, res_cursor_step *step, res_error *err) {
    res_snapshot_row sn;
    if ((*step = res_store_cursor_next_snapshot(c, &sn, err)) != RES_CURSOR_ROW) return NULL;
    return json_pack("{s:I, s:o, s:o}", "iteration", (json_int_t)sn.iteration, "kind",
                     opt_text_json(sn.kind), "json", opt_text_json(sn.json));
}

static json_t *next_event_json(res_store_cursor *c, res_cursor_step *step, res_error *err) {
    res_event_row e;
    *step = res_store_cursor_next_event(c, &e, err);
    return *step == RES_CURSOR_ROW ? event_json(&e) : NULL;
}

/* The run, its iterations, metrics and snapshots, then every event (in
** stream order), streamed from the store row by row: the layout of a
** document dumped with JSON_INDENT(1). */
static int export_json(res_store_reader *r, const res_run_row *run, FILE *out) {
    res_store_cursor *its = NULL, *metrics = NULL, *snaps = NULL, *events = NULL;
    res_event_query q = {
        .run_id = run->run_id, .iteration = RES_ALL_ITERATIONS, .order = RES_EVENTS_STREAM_ORDER};
    res_error err = {0};
    bool ok = res_store_reader_iterations(r, run->run_id, &its, &err) == RES_OK &&
              res_store_reader_metrics(r, run->run_id, RES_ALL_ITERATIONS, NULL, &metrics, &err) ==
                  RES_OK &&
              res_store_reader_snapshots(r, run->run_id, &snaps, &err) == RES_OK &&
              res_store_reader_events(r, &q, &events, &err) == RES_OK;
    ok = ok && put_member(out, "run", run_json(run), true) &&
         put_rows(out, "iterations", its, next_iteration_json, &err) &&
         put_rows(out, "metrics", metrics, next_metric_json, &err) &&
         put_rows(out, "snapshots", snaps, next_snapshot_json, &err) &&
         put_rows(out, "events", events, next_event_json, &err);
    fputs("\n}\n", out);
    if (!ok)
        fprintf(stderr, "admitsim export: %s\n",
                err.message[0] ? err.message
                : ferror(out)  ? "cannot write the export"
                               : "out of memory writing the export");
    res_store_cursor_close(its);
    res_store_cursor_close(metrics);
    res_store_cursor_close(snaps);
    res_store_cursor_close(events);
    return ok ? EXIT_OK : EXIT_FAILURE_RUN;
}

/* ",<v>", or "," when v is NULL */
static void csv_int(FILE *out, res_opt_int v) {
    fputc(',', out);
    if (v.set) fprintf(out, "%lld", (long long)v.value);
}

/* Every event of one iteration in capture order. */
static int export_csv(res_store_reader *r, int64_t run, int64_t iteration, FILE *out) {
    res_event_query q = {.run_id = run, .iteration = iteration};
    res_store_cursor *c = NULL;
    res_error err;
    if (res_store_reader_events(r, &q, &c, &err) != RES_OK) {
        fprintf(stderr, "admitsim export: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    fputs("stream,sequence,kind,captured_at_ns,task_id,execution_id,task_lease_id,"
          "request_attempt_id,request_lease_id,resource,reason,value,row_group,column_name\n",
          out);
    res_event_row e;
    res_cursor_step rc;
    while ((rc = res_store_cursor_next_event(c, &e, &err)) == RES_CURSOR_ROW) {
        const res_opt_int ids[] = {e.task_id, e.execution_id, e.task_lease_id, e.request_attempt_id,
                                   e.request_lease_id};
        res_csv_write_field(out, e.stream);
        fprintf(out, ",%lld,", (long long)e.sequence);
        res_csv_write_field(out, e.kind);
        fprintf(out, ",%lld", (long long)e.captured_at_ns);
        for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
            csv_int(out, ids[i]);
        fputc(',', out);
        res_csv_write_field(out, e.resource);
        fputc(',', out);
        res_csv_write_field(out, e.reason);
        csv_int(out, e.value);
        csv_int(out, e.row_group);
        fputc(',', out);
        res_csv_write_field(out, e.column_name);
        fputc('\n', out);
    }
    res_store_cursor_close(c);
    if (rc != RES_CURSOR_DONE) fprintf(stderr, "admitsim export: %s\n", err.message);
    return rc == RES_CURSOR_DONE ? EXIT_OK : EXIT_FAILURE_RUN;
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

static int export_trace(res_store_reader *r, int64_t run, int64_t iteration, const char *title,
                        FILE *out) {
    static const char *const kinds[] = {"ready_enqueued",
                                        "selected",
                                        "task_lease_acquired",
                                        "task_lease_released",
                                        "request_wait_started",
                                        "request_wait_completed",
                                        "model_request_started",
                                        "model_request_completed",
                                        NULL};
    res_event_query q = {
        .run_id = run, .iteration = iteration, .kinds = kinds, .rebuild_lifecycle = true};
    res_store_cursor *c = NULL;
    res_error err;
    if (res_store_reader_events(r, &q, &c, &err) != RES_OK) {
        fprintf(stderr, "admitsim export: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    trace t = {0};
    pending enq, sel, lease, wait, call;
    bool ok = pending_init(&enq) && pending_init(&sel) && pending_init(&lease) &&
              pending_init(&wait) && pending_init(&call);
    int slots = track_of(&t, 1, "task lease slots");
    res_event_row e;
    res_cursor_step step = RES_CURSOR_DONE;
    while (ok && (step = res_store_cursor_next_event(c, &e, &err)) == RES_CURSOR_ROW) {
        bool req = strcmp(text(e.stream), "request") == 0;
        const char *kind = text(e.kind), *resource = text(e.resource),
                   *column = text(e.column_name);
        int64_t at = e.captured_at_ns, task = e.task_id.value;
        int64_t exec = e.execution_id.value, attempt = e.request_attempt_id.value;
        char label[96];
        snprintf(label, sizeof label, "%s rg %lld task %lld", column, (long long)e.row_group.value,
                 (long long)task);
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
            } else if (!strcmp(kind, "task_lease_released") &&
                       !strcmp(text(e.reason), "released")) {
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
            snprintf(name, sizeof name, "call (%s)", text(e.reason));
            if (s >= 0) ok = add_span(&t, track_of(&t, 3, tr), s, at, name, task, attempt);
        }
    }
    res_store_cursor_close(c);
    pending_free(&enq), pending_free(&sel), pending_free(&lease), pending_free(&wait),
        pending_free(&call);
    if (step == RES_CURSOR_ERROR)
        fprintf(stderr, "admitsim export: %s\n", err.message);
    else if (!ok)
        fprintf(stderr, "admitsim export: out of memory building the trace\n");
    if (!ok || step != RES_CURSOR_DONE) {
        free(t.spans);
        free(t.tracks);
        return EXIT_FAILURE_RUN;
    }
    /* Lanes: overlapping spans of one track go to separate rows.  No span
    ** at all (an iteration without leases, or none stored): t.spans is NULL,
    ** which qsort must not be handed even for 0 elements. */
    if (t.n) qsort(t.spans, t.n, sizeof *t.spans, cmp_span);
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
    json_t *jt = res_json_string_lossy(title);
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
            json_t *jn = res_json_string_lossy(name); /* a name cut inside a character */
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
        json_t *jn = res_json_string_lossy(s->name);
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

/* The temporary file of --out PATH (the directory part, or ".", and the
** name); false, said, when PATH names no file it can write. */
static bool open_out(const char *path, res_atomic_file *af) {
    res_error err = {0};
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    char dir[PATH_MAX];
    struct stat st;
    bool ok = true;
    if (!name[0] || !strcmp(name, ".") || !strcmp(name, "..") ||
        (stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
        ok = res_error_set(&err, RES_EINVAL, "%s: is a directory (--out names the file to write)",
                           path);
    else if (slash && (size_t)(slash - path) >= sizeof dir)
        ok = res_error_set(&err, RES_EINVAL, "%.200s...: path longer than %zu bytes", path,
                           sizeof dir - 1);
    if (ok) {
        run_json_dir_of(path, dir, sizeof dir);
        ok = res_atomic_file_open(af, dir[0] ? dir : ".", name, &err);
    }
    if (!ok) fprintf(stderr, "admitsim export: %s\n", err.message);
    return ok;
}

int cmd_export(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"out", required_argument, 0, 'o'},
                                         {"format", required_argument, 0, 'f'},
                                         {"iteration", required_argument, 0, 'i'},
                                         {"allow-incomplete", no_argument, 0, 'A'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db_path = cli_db_default(), *out_path = NULL, *fmt = "json";
    bool allow_incomplete = false;
    uint64_t iteration = 0, run_id;
    optind = 1;
    int ch;
    while ((ch = cli_getopt("export", argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 'd': db_path = optarg; break;
        case 'o': out_path = strcmp(optarg, "-") ? optarg : NULL; break; /* -: stdout */
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
        case 'A': allow_incomplete = true; break;
        case 'h': export_usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        return cli_usage_error("export", "expected exactly one RUN id");
    }
    if (!cli_parse_u64("export", "RUN", argv[optind], INT64_MAX, &run_id)) return EXIT_USAGE;
    res_error err;
    res_store_reader *r = NULL;
    if (res_store_reader_open(db_path, &r, &err) != RES_OK) {
        fprintf(stderr, "admitsim export: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    res_run_row run;
    res_status found = res_store_reader_run(r, (int64_t)run_id, &run, &err);
    if (found != RES_OK) {
        if (found == RES_ENOTFOUND)
            fprintf(stderr, "admitsim export: %s: no run %llu (see 'admitsim runs')\n", db_path,
                    (unsigned long long)run_id);
        else
            fprintf(stderr, "admitsim export: %s\n", err.message);
        res_store_reader_close(r);
        return EXIT_FAILURE_RUN;
    }
    /* csv and chrome-trace are one iteration's: one not stored is an error,
    ** before anything is written (json has every stored iteration) */
    res_iteration_row it;
    res_status has = strcmp(fmt, "json") ? res_store_reader_iteration(r, (int64_t)run_id,
                                                                      (int64_t)iteration, &it, &err)
                                         : RES_OK;
    if (has != RES_OK) {
        if (has == RES_ENOTFOUND)
            fprintf(stderr,
                    "admitsim export: %s: run %llu has no iteration %llu stored (see "
                    "'admitsim show %llu')\n",
                    db_path, (unsigned long long)run_id, (unsigned long long)iteration,
                    (unsigned long long)run_id);
        else
            fprintf(stderr, "admitsim export: %s\n", err.message);
        res_store_reader_close(r);
        return EXIT_FAILURE_RUN;
    }
    /* csv holds the events stored: of an iteration stored with its notable
    ** events only (the default) that is not every event, and says so */
    if (!strcmp(fmt, "csv") && it.event_count.set && it.events_stored.set &&
        it.events_stored.value < it.event_count.value)
        fprintf(stderr,
                "admitsim export: note: %s: run %llu iteration %llu was stored with its notable "
                "events only: the csv holds those %lld of its %lld events (its lifecycle events "
                "are in the task timelines and request attempts: export --format chrome-trace "
                "and plot rebuild them; store the run with --store-events all for every event "
                "as a row)\n",
                db_path, (unsigned long long)run_id, (unsigned long long)iteration,
                (long long)it.events_stored.value, (long long)it.event_count.value);
    if (!strcmp(fmt, "chrome-trace") &&
        !cli_lifecycle_complete("export", r, db_path, (int64_t)run_id, (int64_t)iteration,
                                allow_incomplete)) {
        res_store_reader_close(r);
        return EXIT_FAILURE_RUN;
    }
    char title[512];
    snprintf(title, sizeof title, "%s - policy %s - seed %lld - iteration %llu",
             text(run.scenario_id), text(run.policy), (long long)run.seed,
             (unsigned long long)iteration);
    /* Written to a temporary file beside it and renamed into place, like
    ** every artifact: a path that does not fit, a directory or a write that
    ** fails is said, and nothing is left behind. */
    res_atomic_file af = {0};
    FILE *out = stdout;
    if (out_path && !open_out(out_path, &af)) {
        res_store_reader_close(r);
        return EXIT_FAILURE_RUN;
    }
    if (out_path) out = af.f;
    int rc = !strcmp(fmt, "json") ? export_json(r, &run, out)
             : !strcmp(fmt, "csv")
                 ? export_csv(r, (int64_t)run_id, (int64_t)iteration, out)
                 : export_trace(r, (int64_t)run_id, (int64_t)iteration, title, out);
    if (out_path && rc != EXIT_OK) {
        res_atomic_file_abort(&af);
    } else if (out_path && !res_atomic_file_commit(&af, &err)) {
        fprintf(stderr, "admitsim export: %s\n", err.message);
        rc = EXIT_FAILURE_RUN;
    }
    res_store_reader_close(r);
    return rc;
}
