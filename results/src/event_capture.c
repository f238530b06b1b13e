/* Event capture (res/event_capture.h). */
#include "res/event_capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "res/event_names.h"
#include "res/spill.h"

/* With summarize and RES_KEEP_NOTABLE_EVENTS the kept events go to spill
** files once they pass res_spill_after() bytes in the logs (48 a record):
** the logs' events first, then each as it comes.  The outputs that read
** them (a store) read them once, after the run. */
struct res_event_capture {
    res_event_keep keep;
    bool summarize;
    bool may_spill;           /* summarize and keep notable */
    bool spilling;            /* the kept events go to spill[], the logs are empty */
    size_t spill_after;       /* events in the logs before spilling starts */
    res_summary_builder *sum; /* from start, with summarize */
    res_event_log *log[2];    /* [admit_event_stream] */
    res_spill *spill[2];      /* [admit_event_stream], made at the first event kept */
    uint64_t made;            /* events seen, kept or not */
    char error[400];          /* a spill file failed ("": none) */
};

res_event_capture *res_event_capture_create(res_event_keep keep, bool summarize) {
    res_event_capture *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->keep = summarize ? keep : RES_KEEP_ALL_EVENTS;
    c->summarize = summarize;
    c->may_spill = summarize && keep == RES_KEEP_NOTABLE_EVENTS;
    c->spill_after = res_spill_after() / 48;
    c->log[ADMIT_STREAM_SCHEDULER] = res_event_log_create();
    c->log[ADMIT_STREAM_REQUEST] = res_event_log_create();
    if (!c->log[0] || !c->log[1]) {
        res_event_capture_free(c);
        return NULL;
    }
    return c;
}

void res_event_capture_free(res_event_capture *c) {
    if (!c) return;
    res_summary_builder_free(c->sum);
    res_event_log_free(c->log[0]);
    res_event_log_free(c->log[1]);
    res_spill_free(c->spill[0]);
    res_spill_free(c->spill[1]);
    free(c);
}

bool res_event_capture_reserve(res_event_capture *c, size_t sched, size_t req) {
    return res_event_log_reserve(c->log[ADMIT_STREAM_SCHEDULER], sched) &&
           res_event_log_reserve(c->log[ADMIT_STREAM_REQUEST], req);
}

/* Whether the record keeps ev: every event until the summary builder
** takes them. */
static bool keeps(const res_event_capture *c, const admit_event *ev) {
    if (c->keep == RES_KEEP_ALL_EVENTS || (c->summarize && !c->sum)) return true;
    return c->keep == RES_KEEP_NOTABLE_EVENTS && !res_event_is_lifecycle(ev);
}

/* A new spill file into *sp; false (c->error) when it cannot be made. */
static bool spill_create(res_event_capture *c, res_spill **sp, size_t size) {
    if ((*sp = res_spill_create(size))) return true;
    snprintf(c->error, sizeof c->error, "creating a spill file in %.256s: %s", res_spill_dir(),
             strerror(errno));
    return false;
}

/* ev into its stream's spill file, padding zeroed (the file is read back
** whole); false once a spill failed (c->error). */
static bool spill_event(res_event_capture *c, const admit_event *ev) {
    bool req = ev->stream == ADMIT_STREAM_REQUEST;
    res_spill **sp = &c->spill[req];
    if (c->error[0]) return false;
    if (!*sp && !spill_create(c, sp, sizeof *ev)) return false;
    admit_event clean;
    memset(&clean, 0, sizeof clean);
    clean.sequence = ev->sequence;
    clean.captured_at_ns = ev->captured_at_ns;
    clean.stream = ev->stream;
    clean.kind = ev->kind;
    clean.reason = ev->reason;
    clean.resource = ev->resource;
    clean.task_id = ev->task_id;
    clean.lease_id = ev->lease_id;
    clean.attempt_id = ev->attempt_id;
    clean.value = ev->value;
    clean.corr = ev->corr;
    if (res_spill_append(*sp, &clean)) return true;
    snprintf(c->error, sizeof c->error, "%s", res_spill_error(*sp));
    return false;
}

static bool feed(res_summary_builder *b, const admit_event *ev) {
    return ev->stream == ADMIT_STREAM_REQUEST ? res_summary_builder_request_event(b, ev)
                                              : res_summary_builder_scheduler_event(b, ev);
}

typedef struct replay {
    res_event_capture *c;
    bool ok;
} replay;

/* Feeds ev to the summary builder; whether the record keeps it. */
static bool replay_event(void *ctx, const admit_event *ev) {
    replay *r = ctx;
    if (r->ok) r->ok = feed(r->c->sum, ev);
    return keeps(r->c, ev);
}

/* Once the logs pass spill_after events, their events go to the spill
** files and their memory is given back (new, empty logs), and so does
** every later kept event. */
static bool spill_start(res_event_capture *c) {
    size_t n = res_event_log_count(c->log[0]) + res_event_log_count(c->log[1]);
    if (n <= c->spill_after) return true;
    c->spilling = true;
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < res_event_log_count(c->log[k]); i++) {
            admit_event ev = res_event_log_at(c->log[k], i);
            if (!spill_event(c, &ev)) return false;
        }
        res_event_log *empty = res_event_log_create();
        if (!empty) return false;
        res_event_log_free(c->log[k]);
        c->log[k] = empty;
    }
    return true;
}

bool res_event_capture_start(res_event_capture *c, const res_run_record *run, bool view) {
    if (!c->summarize) return true;
    res_spill *probe = NULL; /* a run that may spill learns now that it cannot, not at its end */
    if (c->may_spill && !spill_create(c, &probe, 1)) return false;
    res_spill_free(probe);
    /* rows for the outputs that keep events: kept for an artifact's
    ** reports (which keep every event), spilled for a store's task
    ** timelines when it keeps only the notable events; none when nothing
    ** is kept */
    res_view_rows rows = c->keep == RES_KEEP_ALL_EVENTS       ? RES_VIEW_ROWS_KEEP
                         : c->keep == RES_KEEP_NOTABLE_EVENTS ? RES_VIEW_ROWS_SPILL
                                                              : RES_VIEW_ROWS_NONE;
    c->sum = res_summary_builder_create(run, view, rows);
    if (!c->sum) return false;
    replay r = {c, true};
    res_event_log_retain(c->log[ADMIT_STREAM_SCHEDULER], replay_event, &r);
    res_event_log_retain(c->log[ADMIT_STREAM_REQUEST], replay_event, &r);
    return r.ok;
}

bool res_event_capture_event(res_event_capture *c, const admit_event *ev) {
    if (!c->log[0]) return true; /* ended */
    c->made++;
    if (c->sum && !feed(c->sum, ev)) return false;
    if (!keeps(c, ev)) return true;
    if (c->spilling) return spill_event(c, ev);
    if (!res_event_log_append(c->log[ev->stream == ADMIT_STREAM_REQUEST], ev)) return false;
    return !c->may_spill || !c->sum || spill_start(c);
}

const char *res_event_capture_error(const res_event_capture *c) {
    return c->error[0] ? c->error : NULL;
}

res_summary_builder *res_event_capture_end(res_event_capture *c, res_run_record *run) {
    for (int k = 0; k < 2; k++)
        res_event_log_seal(c->log[k]);
    res_event_log_free(run->events);
    res_event_log_free(run->request_events);
    run->events = c->log[ADMIT_STREAM_SCHEDULER];
    run->request_events = c->log[ADMIT_STREAM_REQUEST];
    c->log[0] = c->log[1] = NULL;
    for (int k = 0; k < 2; k++) {
        res_spill_free(run->spilled[k]);
        run->spilled[k] = c->spill[k];
        c->spill[k] = NULL;
    }
    run->kept = c->keep;
    run->events_made = c->made;
    res_summary_builder *b = c->sum;
    c->sum = NULL;
    return b;
}
