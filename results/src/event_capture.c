/* Event capture (res/event_capture.h). */
#include "res/event_capture.h"

#include <stdlib.h>

#include "res/event_names.h"

struct res_event_capture {
    res_event_keep keep;
    bool summarize;
    res_summary_builder *sum; /* from start, with summarize */
    res_event_log *log[2];    /* [admit_event_stream] */
    uint64_t made;            /* events seen, kept or not */
};

res_event_capture *res_event_capture_create(res_event_keep keep, bool summarize) {
    res_event_capture *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->keep = summarize ? keep : RES_KEEP_ALL_EVENTS;
    c->summarize = summarize;
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

bool res_event_capture_start(res_event_capture *c, const res_run_record *run, bool view) {
    if (!c->summarize) return true;
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
    return res_event_log_append(c->log[ev->stream == ADMIT_STREAM_REQUEST], ev);
}

res_summary_builder *res_event_capture_end(res_event_capture *c, res_run_record *run) {
    for (int k = 0; k < 2; k++)
        res_event_log_seal(c->log[k]);
    res_event_log_free(run->events);
    res_event_log_free(run->request_events);
    run->events = c->log[ADMIT_STREAM_SCHEDULER];
    run->request_events = c->log[ADMIT_STREAM_REQUEST];
    c->log[0] = c->log[1] = NULL;
    run->kept = c->keep;
    run->events_made = c->made;
    res_summary_builder *b = c->sum;
    c->sum = NULL;
    return b;
}
