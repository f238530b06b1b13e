/* The data and scripts of `admitsim plot RUN` (cmd_plot.c) and of the per-arm
** runs of `admitsim plot experiment:ID` (plot_experiment.c): the data files
** of one stored run's iteration, params.gp and plot.gp, the output
** directory, gnuplot itself.
**
** The pictures, drawn by gnuplot from data files written next to them (so
** a reader can re-plot or check any point):
**   timeline      task leases in flight, queued tasks by group, row groups
**                 in flight, over virtual time;
**   request-<resource>  per request resource (named by its key, '/' as
**                 '_'): in-flight vs current limit vs effective max,
**                 cooldown intervals shaded, rate-limit marks;
**   cdf           CDFs of ready_to_lease_gap and of request wait per group;
**   layers        the limiting-layer breakdown per group as stacked bars
**                 (when the run stored layer metrics).
** Everything is read from the results database written by `admitsim run`,
** through the store's reader.  The drawing is done by the gnuplot scripts of
** plots/ (*.gp), embedded at build time (plots/embed.cmake ->
** plot_scripts.h): this file
** writes the *.dat files and params.gp (the scripts' variables: titles,
** group and resource names), then plot.gp = params.gp + the scripts, and
** runs gnuplot on it. */
#include <ctype.h>
#include <jansson.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "plot.h"
#include "plot_scripts.h"
#include "program.h"
#include "res/stats.h"
#include "res/store_reader.h"

typedef struct plot_ctx {
    res_store_reader *r;
    res_error *err; /* what the reader last failed at */
    int64_t run;
    int64_t iteration;
    const char *dir;
    FILE *params; /* params.gp: the scripts' variables */
} plot_ctx;

static FILE *open_dat(const plot_ctx *p, const char *name) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", p->dir, name);
    FILE *f = fopen(path, "w");
    if (!f) fprintf(stderr, "admitsim plot: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

/* The events of the plotted iteration: one stream, some kinds, in sequence
** order (and of one resource when resource is not NULL).  On failure
** prints the reader's message and returns NULL. */
static res_store_cursor *events(const plot_ctx *p, const char *stream, const char *const *kinds,
                                const char *resource) {
    res_event_query q = {.run_id = p->run,
                         .iteration = p->iteration,
                         .stream = stream,
                         .kinds = kinds,
                         .resource = resource,
                         .order = RES_EVENTS_STREAM_ORDER,
                         .rebuild_lifecycle = true};
    res_store_cursor *c = NULL;
    if (res_store_reader_events(p->r, &q, &c, p->err) != RES_OK)
        fprintf(stderr, "admitsim plot: %s\n", p->err->message);
    return c;
}

/* The end of a cursor: true when it ended cleanly, else prints why. */
static bool ended(const plot_ctx *p, res_cursor_step step) {
    if (step == RES_CURSOR_DONE) return true;
    if (step == RES_CURSOR_ERROR) fprintf(stderr, "admitsim plot: %s\n", p->err->message);
    return false;
}

const char *plot_text(const char *s) {
    return s ? s : "";
}

/* Names (of groups, i.e. columns, or of request resources) in first-seen
** order. */
typedef struct names {
    char (*v)[256];
    int n, cap;
} names;

static int name_index(names *ns, const char *s, bool add) {
    for (int i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], s) == 0) return i;
    if (!add) return -1;
    if (ns->n == ns->cap) {
        int cap = ns->cap ? ns->cap * 2 : 8;
        char(*v)[256] = realloc(ns->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        ns->v = v;
        ns->cap = cap;
    }
    snprintf(ns->v[ns->n], sizeof ns->v[0], "%s", s);
    return ns->n++;
}

/* s as a gnuplot string expression with exactly s as its value: runs of
** single-quoted text, where gnuplot expands no backslash, no `command`
** and no @macro (a quote is doubled), joined with "." to "\ooo" escapes for
** the control characters a single-quoted string cannot hold.  A
** double-quoted string would run a `command` found in a name or path. */
static void put_gp_string(FILE *f, const char *s) {
    bool open = false, any = false;
    for (; *s; s++, any = true) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) {
            if (open) fputc('\'', f);
            open = false;
            fprintf(f, "%s\"\\%03o\"", any ? "." : "", c);
            continue;
        }
        if (!open) fputs(any ? ".'" : "'", f);
        open = true;
        if (c == '\'') fputc('\'', f);
        fputc(c, f);
    }
    fputs(open ? "'" : any ? "" : "''", f);
}

/* params.gp line `var = <s>`. */
static void put_string(FILE *f, const char *var, const char *s) {
    fprintf(f, "%s = ", var);
    put_gp_string(f, s);
    fputc('\n', f);
}

/* s for a comment line (of a .dat file or a script) in out (len bytes): a
** control character, which could end the comment, becomes '?'. */
static const char *comment_safe(char *out, size_t len, const char *s) {
    size_t n = 0;
    for (; *s && n + 1 < len; s++)
        out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    out[n] = '\0';
    return out;
}

/* params.gp line `var = "w1 w2 ..."`: one word per name for the scripts'
** word() and words(). A name that is empty, holds blanks or starts with a
** quote is quoted, as gnuplot's word() keeps a quoted word whole: with '"',
** or with "'" when the name holds a '"' (a name holding both and a blank
** cannot be a gnuplot word).  Control characters become blanks. */
static bool put_words(FILE *f, const char *var, const names *ns) {
    char *words = NULL;
    size_t len = 0;
    FILE *w = open_memstream(&words, &len);
    if (!w) return false;
    for (int i = 0; i < ns->n; i++) {
        const char *s = ns->v[i];
        bool quoted = !s[0] || s[0] == '"' || s[0] == '\'' || s[strcspn(s, " \t\n\r\v\f")];
        char quote = strchr(s, '"') ? '\'' : '"';
        if (i) fputc(' ', w);
        if (quoted) fputc(quote, w);
        for (; *s; s++)
            fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, w);
        if (quoted) fputc(quote, w);
    }
    bool ok = fclose(w) == 0;
    if (ok) put_string(f, var, words);
    free(words);
    return ok;
}

/* The state the timeline draws, per group: tasks queued, task leases held. */
typedef struct timeline_state {
    long leases, rgs;
    long *queued, *held; /* per group */
    int n;
} timeline_state;

static void timeline_row(FILE *f, double t, const timeline_state *s) {
    fprintf(f, "%.9f %ld %ld", t, s->leases, s->rgs);
    for (int i = 0; i < s->n; i++)
        fprintf(f, " %ld", s->queued[i] < 0 ? 0 : s->queued[i]);
    for (int i = 0; i < s->n; i++)
        fprintf(f, " %ld", s->held[i] < 0 ? 0 : s->held[i]);
    fputc('\n', f);
}

/* Applies one scheduler event to the state. */
static void timeline_apply(timeline_state *s, const res_event_row *e, int g) {
    const char *kind = plot_text(e->kind);
    if (strcmp(kind, "task_lease_acquired") == 0) {
        s->leases++;
        if (g >= 0) s->queued[g]--, s->held[g]++;
    } else if (strcmp(kind, "task_lease_released") == 0) {
        if (strcmp(plot_text(e->reason), "released") != 0) return;
        s->leases--;
        if (g >= 0) s->held[g]--;
    } else if (strcmp(kind, "stale_selection") == 0 || strcmp(kind, "ready_enqueued") == 0) {
        if (g >= 0) s->queued[g]++;
    } else if (strcmp(kind, "row_group_admitted") == 0) {
        s->rgs++;
    } else {
        s->rgs--;
    }
}

static const char *const timeline_kinds[] = {"task_lease_acquired",
                                             "task_lease_released",
                                             "row_group_admitted",
                                             "row_group_checkpointed",
                                             "ready_enqueued",
                                             "stale_selection",
                                             NULL};

/* The groups (columns) of the timeline's events, in first-seen order. */
static bool timeline_groups(plot_ctx *p, names *groups) {
    res_store_cursor *st = events(p, "scheduler", timeline_kinds, NULL);
    if (!st) return false;
    res_event_row e;
    res_cursor_step step = RES_CURSOR_DONE;
    bool ok = true;
    while (ok && (step = res_store_cursor_next_event(st, &e, p->err)) == RES_CURSOR_ROW)
        if (e.column_name && e.column_name[0]) ok = name_index(groups, e.column_name, true) >= 0;
    ok = ok && ended(p, step);
    res_store_cursor_close(st);
    return ok;
}

/* (a) the task stage over time (plots/timeline.gp): task leases held per
** group, tasks queued per group, row groups in flight.  One state per
** virtual instant (what the dispatcher saw once everything at that instant
** was applied; a release and the acquire it let in at the same time are not
** a dip), each change written twice -- the old values, then the new, at its
** time -- so stacked areas step exactly. */
static bool plot_timeline(plot_ctx *p) {
    names groups = {0};
    if (!timeline_groups(p, &groups)) {
        free(groups.v);
        return false;
    }
    res_store_cursor *st = events(p, "scheduler", timeline_kinds, NULL);
    FILE *f = st ? open_dat(p, "timeline.dat") : NULL;
    timeline_state s = {.n = groups.n};
    s.queued = calloc((size_t)groups.n + 1, sizeof *s.queued);
    s.held = calloc((size_t)groups.n + 1, sizeof *s.held);
    bool ok = st && f && s.queued && s.held;
    if (f)
        fprintf(f, "# seconds task_leases row_groups queued_by_group... leases_by_group... "
                   "(timeline_groups in params.gp names the groups)\n");
    res_event_row e;
    res_cursor_step step = RES_CURSOR_DONE;
    int64_t at = -1; /* the instant the state is of */
    bool first = true;
    while (ok && (step = res_store_cursor_next_event(st, &e, p->err)) == RES_CURSOR_ROW) {
        if (e.captured_at_ns != at && at >= 0) { /* the instant `at` is complete */
            timeline_row(f, (double)at / 1e9, &s);
            first = false;
        }
        if (e.captured_at_ns != at && !first) /* the old state at the new instant */
            timeline_row(f, (double)e.captured_at_ns / 1e9, &s);
        at = e.captured_at_ns;
        int g = e.column_name && e.column_name[0] ? name_index(&groups, e.column_name, false) : -1;
        timeline_apply(&s, &e, g);
    }
    if (ok && at >= 0) timeline_row(f, (double)at / 1e9, &s);
    ok = ok && ended(p, step);
    res_store_cursor_close(st);
    if (f) fclose(f);
    ok = ok && put_words(p->params, "timeline_groups", &groups);
    free(s.queued);
    free(s.held);
    free(groups.v);
    return ok;
}

/* The task resource limits in force (the capacity plan's configured
** task_resource_limits of the iteration): timeline_capacity_names and
** timeline_capacity_values in params.gp, submission (the task slots)
** first.  A store without the plan gives none. */
static bool plot_capacity(plot_ctx *p) {
    res_store_cursor *c = NULL;
    res_error ignored;
    names keys = {0};
    char values[1024] = "";
    size_t used = 0;
    long seen[64];
    int nseen = 0;
    if (res_store_reader_capacity_plans(p->r, p->run, &c, &ignored) == RES_OK) {
        res_snapshot_row row;
        while (res_store_cursor_next_snapshot(c, &row, &ignored) == RES_CURSOR_ROW) {
            if (row.iteration != p->iteration) continue;
            json_t *plan = json_loads(plot_text(row.json), 0, NULL);
            json_t *lim =
                json_object_get(json_object_get(plan, "configured"), "task_resource_limits");
            const char *order[] = {"submission", NULL};
            json_t *sub = json_object_get(json_object_get(lim, order[0]), "value");
            const char *key;
            json_t *v;
            if (json_is_integer(sub)) {
                seen[nseen++] = (long)json_integer_value(sub);
                name_index(&keys, "task slots", true);
                used += (size_t)snprintf(values + used, sizeof values - used, "%ld", seen[0]);
            }
            json_object_foreach(lim, key, v) {
                json_t *val = json_object_get(v, "value");
                if (!json_is_integer(val) || !strcmp(key, "submission") || nseen == 64 ||
                    used >= sizeof values - 32)
                    continue;
                long x = (long)json_integer_value(val);
                seen[nseen++] = x;
                name_index(&keys, key, true);
                used += (size_t)snprintf(values + used, sizeof values - used, "%s%ld",
                                         used ? " " : "", x);
            }
            json_decref(plan);
        }
        res_store_cursor_close(c);
    }
    bool ok = put_words(p->params, "timeline_capacity_names", &keys);
    put_string(p->params, "timeline_capacity_values", values);
    free(keys.v);
    return ok;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(a, b);
}

/* The request resources registered in the iteration, sorted by name. */
static bool request_keys(const plot_ctx *p, names *keys) {
    static const char *const kinds[] = {"request_resource_registered", NULL};
    res_store_cursor *c = events(p, "request", kinds, NULL);
    if (!c) return false;
    res_event_row e;
    res_cursor_step step = RES_CURSOR_DONE;
    bool ok = true;
    while (ok && (step = res_store_cursor_next_event(c, &e, p->err)) == RES_CURSOR_ROW)
        ok = name_index(keys, plot_text(e.resource), true) >= 0;
    ok = ok && ended(p, step);
    res_store_cursor_close(c);
    if (ok && keys->n) qsort(keys->v, (size_t)keys->n, sizeof *keys->v, cmp_name);
    return ok;
}

/* request-<n>.dat (in flight, current limit, effective max over time, one
** row per instant) and request-<n>-ratelimits.dat (rate-limited answers)
** of one resource. */
static bool request_files(const plot_ctx *p, int n, const char *key, long *limits_hit) {
    static const char *const kinds[] = {
        "request_resource_registered", "request_lease_acquired",
        "request_lease_released",      "request_limit_decreased",
        "request_limit_increased",     "request_effective_cap_changed",
        "request_rate_limited",        NULL};
    char dat[64], cool[64];
    snprintf(dat, sizeof dat, "request-%d.dat", n);
    snprintf(cool, sizeof cool, "request-%d-ratelimits.dat", n);
    res_store_cursor *st = events(p, "request", kinds, key);
    FILE *f = st ? open_dat(p, dat) : NULL, *rl = f ? open_dat(p, cool) : NULL;
    if (!st || !f || !rl) {
        res_store_cursor_close(st);
        if (f) fclose(f);
        return false;
    }
    long in_flight = 0, limit = 0, emax = 0;
    char shown[256];
    comment_safe(shown, sizeof shown, key);
    fprintf(f, "# seconds in_flight current_limit effective_max (%s)\n", shown);
    fprintf(rl, "# seconds in_flight cooldown_end_seconds (%s)\n", shown);
    *limits_hit = 0;
    res_event_row e;
    res_cursor_step step = RES_CURSOR_DONE;
    int64_t at = -1;
    char row[128] = "";
    while ((step = res_store_cursor_next_event(st, &e, p->err)) == RES_CURSOR_ROW) {
        double t = (double)e.captured_at_ns / 1e9;
        const char *kind = plot_text(e.kind);
        long v = (long)e.value.value;
        if (strcmp(kind, "request_resource_registered") == 0 ||
            strcmp(kind, "request_effective_cap_changed") == 0) {
            emax = v;
            if (!limit) limit = v;
        } else if (strstr(kind, "request_lease_")) {
            in_flight = v;
        } else if (strstr(kind, "request_limit_")) {
            limit = v;
        } else { /* rate limited: v = ns of cooldown now in force */
            fprintf(rl, "%.9f %ld %.9f\n", t, in_flight, t + (double)v / 1e9);
            (*limits_hit)++;
        }
        /* one row per instant, the state once all of it is applied: a
        ** release and the admission it lets in are no dip */
        if (at >= 0 && e.captured_at_ns != at) fprintf(f, "%s", row);
        at = e.captured_at_ns;
        snprintf(row, sizeof row, "%.9f %ld %ld %ld\n", t, in_flight, limit, emax);
    }
    if (at >= 0) fprintf(f, "%s", row);
    res_store_cursor_close(st);
    fclose(f);
    fclose(rl);
    return ended(p, step);
}

/* The picture name of a request resource: "request-" and its key with
** every character but letters, digits, '.', '_' and '-' as '_'
** (provider-a/gen-a-large/chat -> request-provider-a_gen-a-large_chat),
** "-<n>" added when an earlier resource's name is the same. */
static bool request_picture_names(const names *keys, names *pics) {
    for (int n = 0; n < keys->n; n++) {
        char name[256];
        int len = snprintf(name, sizeof name, "request-%s", keys->v[n]);
        for (char *c = name + 8; *c; c++)
            if (!isalnum((unsigned char)*c) && !strchr("._-", *c)) *c = '_';
        if (name_index(pics, name, false) >= 0 && len > 0)
            snprintf(name + (len < 240 ? len : 240), sizeof name - 240, "-%d", n);
        if (name_index(pics, name, true) != n) return false;
    }
    return true;
}

/* (b) one picture per request resource (plots/request.gp), named by its
** key. */
static bool plot_requests(plot_ctx *p, int *count) {
    names keys = {0};
    /* rate-limited answers per resource, as one line of words */
    char *limited = NULL;
    size_t limited_len = 0;
    FILE *lf = open_memstream(&limited, &limited_len);
    bool ok = lf && request_keys(p, &keys);
    for (int n = 0; ok && n < keys.n; n++) {
        long limits_hit = 0;
        ok = request_files(p, n, keys.v[n], &limits_hit);
        fprintf(lf, "%s%ld", n ? " " : "", limits_hit);
    }
    if (lf && fclose(lf) != 0) ok = false;
    names pics = {0};
    if (ok) {
        ok = request_picture_names(&keys, &pics) &&
             put_words(p->params, "request_resources", &keys) &&
             put_words(p->params, "request_pictures", &pics);
        put_string(p->params, "request_ratelimits", limited);
    }
    *count = keys.n;
    free(limited);
    free(keys.v);
    free(pics.v);
    return ok;
}

typedef struct samples {
    double *v;
    size_t n, cap;
} samples;

static bool add_sample(samples *s, double x) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *v = realloc(s->v, cap * sizeof *v);
        if (!v) return false;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return true;
}

/* Which events a CDF pairs: kinds[0] starts and kinds[1] ends a wait of
** one task (or one request attempt). */
typedef struct cdf_pairs {
    const char *stream;
    const char *const *kinds;
    bool by_attempt;
} cdf_pairs;

/* Pairs start and end events by task or attempt id and collects end - start
** per group, then writes one CDF file per group. */
static int cdf_files(plot_ctx *p, const cdf_pairs *pairs, const char *prefix, names *groups) {
    res_store_cursor *st = events(p, pairs->stream, pairs->kinds, NULL);
    if (!st) return -1;
    samples *per = NULL;
    int nper = 0;
    /* ids are dense enough per run to index an open-addressing table */
    size_t cap = 1 << 16, used = 0;
    int64_t *keys = calloc(cap, sizeof *keys), *starts = calloc(cap, sizeof *starts);
    bool ok = keys && starts;
    res_event_row e;
    res_cursor_step step = RES_CURSOR_DONE;
    while (ok && (step = res_store_cursor_next_event(st, &e, p->err)) == RES_CURSOR_ROW) {
        int64_t id = pairs->by_attempt ? e.request_attempt_id.value : e.task_id.value;
        int64_t t = e.captured_at_ns;
        bool is_start = strcmp(plot_text(e.kind), pairs->kinds[0]) == 0;
        if (used * 2 >= cap) { /* grow and rehash */
            size_t ncap = cap * 2;
            int64_t *nk = calloc(ncap, sizeof *nk), *ns = calloc(ncap, sizeof *ns);
            if (!nk || !ns) {
                free(nk);
                free(ns);
                ok = false;
                break;
            }
            for (size_t i = 0; i < cap; i++)
                if (keys[i]) {
                    size_t j = (size_t)keys[i] * 0x9e3779b97f4a7c15ULL & (ncap - 1);
                    while (nk[j])
                        j = (j + 1) & (ncap - 1);
                    nk[j] = keys[i];
                    ns[j] = starts[i];
                }
            free(keys);
            free(starts);
            keys = nk;
            starts = ns;
            cap = ncap;
        }
        size_t j = (size_t)id * 0x9e3779b97f4a7c15ULL & (cap - 1);
        while (keys[j] && keys[j] != id)
            j = (j + 1) & (cap - 1);
        if (is_start) {
            if (!keys[j]) used++;
            keys[j] = id;
            starts[j] = t;
        } else if (keys[j] == id) {
            int g = name_index(groups, plot_text(e.column_name), true);
            if (g >= nper) {
                samples *np = g >= 0 ? realloc(per, (size_t)groups->cap * sizeof *np) : NULL;
                if (!np) {
                    ok = false;
                    break;
                }
                per = np;
                for (int i = nper; i < groups->cap; i++)
                    per[i] = (samples){0};
                nper = groups->cap;
            }
            ok = add_sample(&per[g], (double)(t - starts[j]) / 1e9);
        }
    }
    ok = ok && ended(p, step);
    res_store_cursor_close(st);
    free(keys);
    free(starts);
    for (int g = 0; ok && g < groups->n; g++) {
        char name[256];
        snprintf(name, sizeof name, "%s-%d.dat", prefix, g);
        FILE *f = open_dat(p, name);
        if (!f) {
            ok = false;
            break;
        }
        res_sort_double(per[g].v, per[g].n);
        char shown[256];
        fprintf(f, "# seconds cumulative_fraction (%s)\n",
                comment_safe(shown, sizeof shown, groups->v[g]));
        for (size_t i = 0; i < per[g].n; i++)
            fprintf(f, "%.9f %.6f\n", per[g].v[i], (double)(i + 1) / (double)per[g].n);
        fclose(f);
    }
    for (int g = 0; g < nper; g++)
        free(per[g].v);
    free(per);
    return ok ? groups->n : -1;
}

/* (c) CDFs of ready_to_lease_gap (last ready_enqueued -> task_lease_acquired
** of a task) and of request wait (request_wait_started -> completed of an
** attempt), per group (plots/cdf.gp). */
static bool plot_cdfs(plot_ctx *p) {
    names ready = {0}, wait = {0};
    static const char *const ready_kinds[] = {"ready_enqueued", "task_lease_acquired", NULL};
    static const char *const wait_kinds[] = {"request_wait_started", "request_wait_completed",
                                             NULL};
    const cdf_pairs ready_pairs = {"scheduler", ready_kinds, false};
    const cdf_pairs wait_pairs = {"request", wait_kinds, true};
    int nr = cdf_files(p, &ready_pairs, "cdf-ready", &ready);
    int nw = cdf_files(p, &wait_pairs, "cdf-wait", &wait);
    bool ok = nr >= 0 && nw >= 0;
    if (ok) {
        ok = put_words(p->params, "cdf_ready_groups", &ready) &&
             put_words(p->params, "cdf_wait_groups", &wait);
    }
    free(ready.v);
    free(wait.v);
    return ok;
}

/* (d) stacked bars from the layer metrics the store keeps per group
** (plots/layers.gp). */
static bool plot_layers(plot_ctx *p, bool *drawn) {
    static const char *layers[] = {"ready_queue", "task_admission",     "request_admission",
                                   "cooldown",    "provider_execution", "local_other"};
    enum { NL = sizeof layers / sizeof *layers };
    res_store_cursor *st = NULL;
    if (res_store_reader_metrics(p->r, p->run, p->iteration, "layers:", &st, p->err) != RES_OK) {
        fprintf(stderr, "admitsim plot: %s\n", p->err->message);
        return false;
    }
    names groups = {0};
    double(*v)[NL] = NULL;
    int nv_cap = 0;
    bool ok = true;
    res_metric_row m;
    res_cursor_step step = RES_CURSOR_DONE;
    while ((step = res_store_cursor_next_metric(st, &m, p->err)) == RES_CURSOR_ROW) {
        const char *name = plot_text(m.name);
        size_t len = strlen(name);
        if (strncmp(name, "layer_", 6) != 0 || len < 14 || strcmp(name + len - 8, "_seconds"))
            continue;
        int g = name_index(&groups, plot_text(m.scope) + strlen("layers:"), true);
        if (g >= nv_cap) {
            double(*nv)[NL] = g >= 0 ? realloc(v, (size_t)groups.cap * sizeof *nv) : NULL;
            if (!nv) {
                ok = false;
                break;
            }
            v = nv;
            memset(v[nv_cap], 0, (size_t)(groups.cap - nv_cap) * sizeof *v);
            nv_cap = groups.cap;
        }
        for (int l = 0; l < NL; l++) {
            char want[64];
            snprintf(want, sizeof want, "layer_%s_seconds", layers[l]);
            if (strcmp(name, want) == 0) v[g][l] = m.value.value;
        }
    }
    ok = ok && ended(p, step);
    res_store_cursor_close(st);
    *drawn = ok && groups.n > 0;
    names labels = {0};
    for (int g = 0; *drawn && ok && g < groups.n; g++) {
        /* group keys end in "|<column>": the column names the bar, unless
        ** another group's key ends the same (column names may hold '|') */
        const char *bar = strrchr(groups.v[g], '|');
        const char *label = bar ? bar + 1 : groups.v[g];
        for (int o = 0; o < groups.n; o++) {
            const char *obar = strrchr(groups.v[o], '|');
            if (o != g && strcmp(obar ? obar + 1 : groups.v[o], label) == 0) label = groups.v[g];
        }
        int at = name_index(&labels, label, true);
        if (at >= 0 && at != g) at = name_index(&labels, groups.v[g], true);
        ok = at == g;
    }
    if (*drawn && ok) ok = put_words(p->params, "layers_groups", &labels);
    free(labels.v);
    if (*drawn && ok) {
        FILE *f = open_dat(p, "layers.dat");
        if (!f) ok = false;
        for (int g = 0; f && g < groups.n; g++) {
            fprintf(f, "%d", g);
            for (int l = 0; l < NL; l++)
                fprintf(f, " %.9f", v[g][l]);
            fputc('\n', f);
        }
        if (f) fclose(f);
    }
    free(v);
    free(groups.v);
    return ok;
}

/* Writes one file: header, then the scripts' variables, then (for plot.gp)
** the embedded scripts. */
static bool write_gp(const char *path, const char *header, const char *params, bool scripts,
                     bool layers) {
    static const struct {
        const char *name;
        const unsigned char *text;
        size_t size;
        bool layers;
    } all[] = {
        {"common", plot_script_common, sizeof plot_script_common, false},
        {"timeline", plot_script_timeline, sizeof plot_script_timeline, false},
        {"request", plot_script_request, sizeof plot_script_request, false},
        {"cdf", plot_script_cdf, sizeof plot_script_cdf, false},
        {"layers", plot_script_layers, sizeof plot_script_layers, true},
    };
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "admitsim plot: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    fputs(header, f);
    fputs(params, f);
    for (size_t i = 0; scripts && i < sizeof all / sizeof *all; i++) {
        if (all[i].layers && !layers) continue;
        fprintf(f, "\n# ---- plots/%s.gp, as built into admitsim ----\n", all[i].name);
        fwrite(all[i].text, 1, all[i].size, f);
    }
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0 || failed) {
        fprintf(stderr, "admitsim plot: cannot write %s\n", path);
        return false;
    }
    return true;
}

/* params.gp (the variables alone, for running the scripts of plots/ by hand) and
** plot.gp (the variables and the scripts: what gnuplot runs), in dir; the
** comments name them in dest, where they will be. */
static bool write_scripts(const char *dir, const char *dest, const char *params, bool layers,
                          uint64_t run, uint64_t iteration) {
    char path[1100], header[2400], shown[1100];
    snprintf(path, sizeof path, "%s/params.gp", dest);
    snprintf(header, sizeof header,
             "# params.gp: the variables of the scripts in plots/ for run %llu, iteration %llu\n"
             "# (written by admitsim plot). To redraw one picture with a script of your own:\n"
             "#   gnuplot %s plots/common.gp plots/cdf.gp\n",
             (unsigned long long)run, (unsigned long long)iteration,
             comment_safe(shown, sizeof shown, path));
    snprintf(path, sizeof path, "%s/params.gp", dir);
    if (!write_gp(path, header, params, false, false)) return false;
    snprintf(path, sizeof path, "%s/plot.gp", dest);
    snprintf(header, sizeof header,
             "# written by admitsim plot; run: gnuplot %s\n"
             "# the variables (as in params.gp), then the scripts of plots/ built into admitsim\n",
             comment_safe(shown, sizeof shown, path));
    snprintf(path, sizeof path, "%s/plot.gp", dir);
    return write_gp(path, header, params, true, layers);
}

/* The output directory: --out as given, or out/plots/run-<RUN>, behind
** "./" when it starts with another character than a letter, digit, '/',
** '.' or '_': gnuplot reads a file name starting with '<' as a shell
** command, writes to one starting with '|' through a shell, takes '$' for
** a datablock and '-' for standard input or (as an argument) an option. */
bool plot_dir_named(char *dir, size_t len, const char *out, const char *fallback) {
    int n;
    size_t prefix = 0;
    if (!out)
        n = snprintf(dir, len, "%s", fallback);
    else if (out[0] && !isalnum((unsigned char)out[0]) && !strchr("/._", out[0]))
        n = snprintf(dir, len, "./%s", out), prefix = 2;
    else
        n = snprintf(dir, len, "%s", out);
    if (n >= 0 && (size_t)n < len) return true;
    /* a cut name is another directory: the pictures went there, exit 0 */
    fprintf(stderr, "admitsim plot: %.200s...: --out longer than %zu bytes\n", out ? out : fallback,
            len - 1 - prefix);
    return false;
}

/* mkdir -p dir */
bool plot_make_dirs(char *dir) {
    for (char *q = dir + 1; *q; q++) {
        if (*q != '/') continue;
        *q = '\0';
        int made = mkdir(dir, 0777);
        *q = '/';
        if (made != 0 && errno != EEXIST) break;
    }
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) return true;
    fprintf(stderr, "admitsim plot: cannot create %s: %s\n", dir, strerror(errno));
    return false;
}

/* The data files and params.gp/plot.gp of p->dir; *nreq request pictures,
** *layers whether the layers picture has data. */
bool plot_run_data(res_store_reader *r, res_error *err, int64_t run, int64_t iteration,
                   const char *dir, FILE *params, int *nreq, bool *layers) {
    plot_ctx p = {
        .r = r, .err = err, .run = run, .iteration = iteration, .dir = dir, .params = params};
    *nreq = 0;
    *layers = false;
    return plot_timeline(&p) && plot_capacity(&p) && plot_requests(&p, nreq) && plot_cdfs(&p) &&
           plot_layers(&p, layers);
}

FILE *plot_open_in(const char *dir, const char *name) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) fprintf(stderr, "admitsim plot: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

bool plot_close_ok(FILE *f, const char *dir, const char *name) {
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "admitsim plot: cannot write %s/%s\n", dir, name);
        return false;
    }
    return true;
}

void plot_put_string(FILE *f, const char *var, const char *s) {
    put_string(f, var, s);
}

void plot_put_dir(FILE *f, const char *dest) {
    fputs("if (!exists(\"dir\")) ", f);
    put_string(f, "dir", dest);
}

bool plot_run_inputs(res_store_reader *r, res_error *err, int64_t run, int64_t iteration,
                     const char *dir, const char *dest, const char *fmt, const char *title,
                     int *nreq, bool *layers) {
    char *params = NULL;
    size_t params_len = 0;
    FILE *f = open_memstream(&params, &params_len);
    if (!f) {
        fprintf(stderr, "admitsim plot: out of memory\n");
        return false;
    }
    plot_put_dir(f, dest);
    put_string(f, "fmt", fmt);
    put_string(f, "run_title", title);
    bool ok = plot_run_data(r, err, run, iteration, dir, f, nreq, layers);
    if (fclose(f) != 0) ok = false;
    ok = ok && write_scripts(dir, dest, params, *layers, (uint64_t)run, (uint64_t)iteration);
    free(params);
    return ok;
}

/* The end of a log (its last 4 KiB at most) to stderr. */
static void show_log(const char *path) {
    FILE *f = fopen(path, "r");
    char buf[4096];
    size_t n = 0;
    if (f && fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size > (long)sizeof buf)
            fseek(f, size - (long)sizeof buf, SEEK_SET);
        else
            rewind(f);
        n = fread(buf, 1, sizeof buf, f);
    }
    if (f) fclose(f);
    if (!n) fputs("(gnuplot printed nothing)\n", stderr);
    fwrite(buf, 1, n, stderr);
    if (n && buf[n - 1] != '\n') fputc('\n', stderr);
}

bool plot_run_gnuplot(const char *gnuplot, const char *stage) {
    char gp_path[1100], log_path[1100], err[1400];
    snprintf(gp_path, sizeof gp_path, "%s/plot.gp", stage);
    snprintf(log_path, sizeof log_path, "%s/gnuplot.log", stage);
    char *expr = NULL;
    size_t expr_len = 0;
    FILE *e = open_memstream(&expr, &expr_len);
    if (e) {
        fputs("dir = ", e);
        put_gp_string(e, stage);
    }
    if (!e || fclose(e) != 0) {
        fprintf(stderr, "admitsim plot: out of memory\n");
        return false;
    }
    char *argv[] = {"gnuplot", "-e", expr, gp_path, NULL};
    bool ok = cli_program_run(gnuplot, argv, log_path, err, sizeof err);
    free(expr);
    if (ok) return true;
    fprintf(stderr, "admitsim plot: %s; it said:\n", err);
    show_log(log_path);
    return false;
}
