#include "res/artifact.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "admit/request_admission.h"
#include "admit/resources.h"
#include "admit/task_admission.h"
#include "res/atomic_file.h"
#include "res/capacity_plan.h"
#include "res/event_names.h"
#include "res/report_files.h"
#include "res/request_report.h"

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 if there is none. */
static size_t utf8_seq(const unsigned char *s) {
    if (s[0] < 0x80) return 1;
    size_t n = (s[0] & 0xE0) == 0xC0   ? 2
               : (s[0] & 0xF0) == 0xE0 ? 3
               : (s[0] & 0xF8) == 0xF0 ? 4
                                       : 0;
    if (!n || (n == 2 && s[0] < 0xC2) || (n == 4 && s[0] > 0xF4)) return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if (n == 3 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F))) return 0;
    if (n == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))) return 0;
    return n;
}

json_t *res_json_string_lossy(const char *s) {
    json_t *j = json_string(s);
    if (j) return j;
    size_t len = strlen(s);
    char *fixed = malloc(len * 3 + 1);
    if (!fixed) return NULL;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_seq(p);
        if (n) {
            memcpy(fixed + o, p, n);
            o += n;
            p += n;
        } else {
            memcpy(fixed + o, "\xEF\xBF\xBD", 3); /* U+FFFD for each byte that is not UTF-8 */
            o += 3;
            p++;
        }
    }
    fixed[o] = '\0';
    j = json_string(fixed);
    free(fixed);
    return j;
}

static json_t *hex64(uint64_t v) {
    char buf[17];
    snprintf(buf, sizeof buf, "%016llx", (unsigned long long)v);
    return json_string(buf);
}

static json_t *opt_id(uint64_t v) {
    return v ? json_integer((json_int_t)v) : json_null();
}

/* Reason or outcome of an event, named by what its kind carries. */
static json_t *reason_json(const admit_event *ev) {
    const char *name = res_event_reason_name(ev);
    return name ? json_string(name) : json_null();
}

json_t *res_event_to_json(const admit_event *ev, const res_run_record *run) {
    const admit_correlation *c = &ev->corr;
    json_t *corr = json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "run_id", hex64(c->run_id), "row_group",
        c->row_group >= 0 ? json_integer(c->row_group) : json_null(), "task_column",
        c->column >= 0 ? json_string(run->config->columns[c->column].name) : json_null(),
        "task_type",
        c->task_type >= 0 ? json_string(admit_task_type_name((admit_task_type)c->task_type))
                          : json_null(),
        "scheduling_group_kind",
        c->group_kind >= 0
            ? json_string(admit_metadata_kind_name((admit_metadata_kind)c->group_kind))
            : json_null(),
        "scheduling_group_identity_hash",
        c->group >= 0 ? hex64(c->group_identity_hash) : json_null(), "task_execution_id",
        opt_id(c->task_execution_id));
    bool req = ev->stream == ADMIT_STREAM_REQUEST;
    json_t *sched_res =
        !req && ev->resource >= 0 ? json_string(run->resource_names[ev->resource]) : json_null();
    json_t *req_res =
        req && ev->resource >= 0 && (uint32_t)ev->resource < run->request_resource_count
            ? json_string(run->request[ev->resource].key)
            : json_null();
    return json_pack(
        "{s:s, s:I, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "event_kind",
        admit_event_name(ev), "captured_at_monotonic", (json_int_t)ev->captured_at_ns, "stream",
        req ? "request" : "scheduler", "sequence", (json_int_t)ev->sequence, "captured_correlation",
        corr, "task_id", opt_id(ev->task_id), "task_execution_id", opt_id(c->task_execution_id),
        "task_lease_id", req ? json_null() : opt_id(ev->lease_id), "request_attempt_id",
        opt_id(ev->attempt_id), "request_lease_id", req ? opt_id(ev->lease_id) : json_null(),
        "scheduler_resource_key", sched_res, "request_resource_key", req_res, "reason_or_outcome",
        reason_json(ev), "value", (json_int_t)ev->value);
}

/* Both streams in one timeline: by capture time; at one instant the
** scheduler stream first, each stream in sequence order (res_event_merge). */
static json_t *timeline_json(const res_run_record *run) {
    json_t *timeline = json_array();
    res_event_merge m;
    res_event_merge_begin(&m, run->events, run->request_events);
    for (admit_event ev; res_event_merge_next(&m, &ev);)
        json_array_append_new(timeline, res_event_to_json(&ev, run));
    return timeline;
}

static json_t *inputs_json(const res_run_record *run, size_t iterations) {
    const run_config *sc = run->config;
    json_t *capacity = json_object();
    for (uint32_t r = 0; r < run->resource_count; r++)
        json_object_set_new(capacity, run->resource_names[r],
                            json_integer(run->resource_limits[r]));
    json_t *cols = json_array();
    json_t *env_cols = run->environment ? json_object_get(run->environment, "columns") : NULL;
    for (uint32_t c = 0; c < sc->column_count; c++) {
        const run_column *col = &sc->columns[c];
        const admit_group_spec *g = &run->groups[run->column_group[c]];
        json_t *deps = json_array();
        for (uint32_t d = 0; d < col->dep_count; d++)
            json_array_append_new(deps, json_string(sc->columns[col->deps[d]].name));
        json_t *o = json_pack(
            "{s:s, s:s, s:o, s:I, s:I, s:f}", "name", col->name, "strategy",
            col->strategy == ADMIT_CELL_BY_CELL ? "cell_by_cell" : "full_column", "depends_on",
            deps, "rows", (json_int_t)(col->rows ? col->rows : sc->records), "tasks",
            (json_int_t)run->column_tasks[c], "ready_at_seconds", (double)col->ready_at_ns / 1e9);
        /* the environment's facts about the column (duration, failures) */
        json_object_update(o, json_array_get(env_cols, c));
        json_t *shape =
            json_pack("{s:s, s:s, s:i, s:o}", "group_key", g->key, "group_kind",
                      admit_metadata_kind_name(g->kind), "weight", g->weight, "admitted_limit",
                      g->admitted_limit > 0 ? json_integer(g->admitted_limit) : json_null());
        json_object_update(o, shape);
        json_decref(shape);
        json_array_append_new(cols, o);
    }
    json_t *policy =
        json_pack("{s:s, s:s, s:f, s:i, s:o}", "name", run_policy_name(run->policy),
                  "strict_share_rounding", sc->rounding == ADMIT_SHARE_CEIL ? "ceil" : "floor",
                  "reserve_fraction", sc->reserve_fraction, "max_reserved_slots",
                  (int)sc->max_reserved_slots, "default_borrow_ceiling",
                  sc->default_ceiling >= 0 ? json_integer(sc->default_ceiling) : json_null());
    json_t *models = json_array();
    for (uint32_t i = 0; i < sc->model_count; i++)
        json_array_append_new(
            models, json_pack("{s:s, s:s, s:s, s:i}", "alias", sc->models[i].alias, "provider",
                              sc->models[i].provider, "model", sc->models[i].model_id,
                              "max_parallel_requests", (int)sc->models[i].max_parallel_requests));
    json_t *request = res_request_admission_config_json(sc);
    json_t *failures = json_pack(
        "{s:i, s:f, s:i}", "salvage_max_rounds", (int)sc->salvage_max_rounds, "shutdown_error_rate",
        sc->shutdown_error_rate, "shutdown_error_window", (int)sc->shutdown_error_window);
    if (run->environment)
        json_object_update(failures, json_object_get(run->environment, "failures"));
    json_t *inputs = json_pack(
        "{s:o, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "scenario_file",
        res_json_string_lossy(sc->path), "policy", run_policy_name(run->policy), "seed",
        (json_int_t)run->seed, "iterations", (json_int_t)iterations, "records",
        (json_int_t)sc->records, "buffer_size", (json_int_t)sc->buffer_size,
        "max_concurrent_row_groups", (json_int_t)sc->max_concurrent_row_groups, "capacity",
        capacity, "policy_config", policy, "columns", cols, "failures", failures);
    json_object_set_new(inputs, "models", models);
    json_object_set_new(inputs, "request_admission", request);
    if (sc->arm[0]) json_object_set_new(inputs, "arm", json_string(sc->arm));
    json_t *check = res_artifact_check_json(&sc->check);
    if (check) json_object_set_new(inputs, "check", check);
    return inputs;
}

json_t *res_artifact_check_json(const run_check *c) {
    if (!c->tag_count && !c->claim_count && !c->threshold_count) return NULL;
    json_t *tags = json_array(), *claims = json_array(), *thresholds = json_object();
    for (uint32_t i = 0; i < c->tag_count; i++)
        json_array_append_new(tags, json_string(c->tags[i]));
    for (uint32_t i = 0; i < c->claim_count; i++)
        json_array_append_new(claims, json_string(c->claims[i]));
    for (uint32_t i = 0; i < c->threshold_count; i++)
        json_object_set_new(thresholds, c->threshold_gates[i], json_real(c->thresholds[i]));
    return json_pack("{s:o, s:o, s:o}", "tags", tags, "claims", claims, "thresholds", thresholds);
}

/* Iteration `run` as the artifact has it, with `timeline` (a reference it
** takes) as its timeline. */
static json_t *iteration_json(const res_run_record *run, const res_summary *sum, json_t *timeline) {
    json_t *leased = json_object();
    for (uint32_t r = 0; r < run->resource_count; r++)
        json_object_set_new(leased, run->resource_names[r], json_integer(run->final_leased[r]));
    json_t *hashes = json_object();
    for (uint32_t c = 0; c < run->config->column_count; c++)
        json_object_set_new(hashes, run->config->columns[c].name, hex64(run->output_hash[c]));
    json_object_set_new(hashes, "all", hex64(run->output_hash_all));
    const admit_scheduler_stats *st = &run->stats;
    json_t *stats = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "tasks_total",
        (json_int_t)st->tasks_total, "tasks_completed", (json_int_t)st->tasks_completed,
        "tasks_dropped", (json_int_t)st->tasks_dropped, "rows_dropped",
        (json_int_t)st->rows_dropped, "workers_spawned", (json_int_t)st->workers_spawned,
        "spawn_failures", (json_int_t)st->spawn_failures, "retries_deferred",
        (json_int_t)st->retries_deferred, "salvage_rounds", (json_int_t)st->salvage_rounds,
        "salvage_redispatched", (json_int_t)st->salvage_redispatched, "stale_selections",
        (json_int_t)st->stale_selections, "dispatch_passes", (json_int_t)st->dispatch_passes,
        "events_emitted", (json_int_t)st->events_emitted, "hidden_scheduler_resource_waiters",
        (json_int_t)st->hidden_waiters, "max_row_groups_in_flight",
        (json_int_t)st->max_row_groups_in_flight);
    json_t *snapshot = json_pack(
        "{s:I, s:o, s:I, s:i, s:I, s:I, s:I}", "task_leases", (json_int_t)run->final_task_leases,
        "leased_by_resource", leased, "queued", (json_int_t)run->final_queued, "running",
        (int)run->stats.running, "leases_acquired", (json_int_t)run->admission_stats.acquired,
        "leases_released", (json_int_t)run->admission_stats.released, "duplicate_releases",
        (json_int_t)run->admission_stats.release_reasons[ADMIT_RELEASE_DUPLICATE]);
    return json_pack("{s:i, s:I, s:s, s:f, s:o, s:o, s:o, s:o, s:o}", "iteration",
                     (int)run->iteration, "seed", (json_int_t)run->seed, "status",
                     admit_job_status_name(run->status), "wall_time_seconds",
                     (double)run->wall_ns / 1e9, "stats", stats, "final_task_snapshot", snapshot,
                     "final_request_snapshot", res_final_request_snapshot_json(run, sum->request),
                     "output_hashes", hashes, "timeline", timeline);
}

static json_t *distribution_json(const double *v, size_t n) {
    double sum = 0, min = v[0], max = v[0];
    for (size_t i = 0; i < n; i++) {
        sum += v[i];
        if (v[i] < min) min = v[i];
        if (v[i] > max) max = v[i];
    }
    double mean = sum / (double)n, var = 0;
    for (size_t i = 0; i < n; i++)
        var += (v[i] - mean) * (v[i] - mean);
    return json_pack("{s:f, s:f, s:f, s:f, s:I}", "mean", mean, "min", min, "max", max, "stddev",
                     n > 1 ? sqrt(var / (double)(n - 1)) : 0.0, "n", (json_int_t)n);
}

/* The environment's script of its providers (new reference; [] when none). */
static json_t *provider_script(const res_run_record *run) {
    json_t *p = run->environment ? json_object_get(run->environment, "provider_script") : NULL;
    return p ? json_incref(p) : json_array();
}

static json_t *host_json(const res_host_info *host) {
    struct utsname u;
    char machine[256] = "unknown";
    if (uname(&u) == 0)
        snprintf(machine, sizeof machine, "%s %s %s", u.sysname, u.release, u.machine);
    char when[64] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *h =
        json_pack("{s:s, s:s, s:f, s:f, s:i}", "machine", machine, "written_at", when,
                  "cpu_seconds", host ? host->cpu_seconds : 0.0, "elapsed_seconds",
                  host ? host->elapsed_seconds : 0.0, "cpus", (int)sysconf(_SC_NPROCESSORS_ONLN));
    if (host && host->command_line)
        json_object_set_new(h, "command_line", res_json_string_lossy(host->command_line));
    return h;
}

/* The document's keys before "iterations", from iteration 0. */
static json_t *head_json(const res_run_record *first, const res_summary *sum, size_t iterations) {
    json_t *h = json_pack("{s:s, s:i, s:I, s:s, s:n, s:n, s:o, s:o, s:o, s:n}", "scenario_id",
                          first->config->scenario_id, "artifact_schema_version",
                          RES_ARTIFACT_SCHEMA_VERSION, "scenario_version",
                          (json_int_t)first->config->scenario_version, "harness_version",
                          RES_HARNESS_VERSION, "baseline_sha", "candidate_sha", "inputs",
                          inputs_json(first, iterations), "capacity_plan",
                          res_capacity_plan_json(first, sum->request), "provider_script",
                          provider_script(first), "clock_script");
    /* where the run happened (SPEC §10: the one thing downstream that knows) */
    json_object_set_new(h, "mode", json_string(first->mode ? first->mode : "simulated"));
    json_t *live = first->environment ? json_object_get(first->environment, "live") : NULL;
    if (live) json_object_set(h, "live", live);
    return h;
}

/* The keys after "iterations": the derived metrics of every iteration, the
** spread of the wall times, and the host. */
static void add_tail(json_t *doc, json_t *per_iter, const double *walls, size_t nwalls,
                     const res_host_info *host) {
    json_object_set_new(doc, "derived_metrics",
                        json_pack("{s:o, s:o}", "iterations", per_iter, "wall_time_seconds",
                                  distribution_json(walls, nwalls)));
    json_object_set_new(doc, "host", host_json(host));
}

json_t *res_artifact_build(res_run_record *const *runs, res_summary *const *summaries, size_t count,
                           const res_host_info *host) {
    json_t *doc = head_json(runs[0], summaries[0], count);
    json_t *iterations = json_array(), *per_iter = json_array();
    double *walls = malloc(count * sizeof *walls);
    if (!doc || !walls) {
        json_decref(doc);
        free(walls);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        json_array_append_new(iterations,
                              iteration_json(runs[i], summaries[i], timeline_json(runs[i])));
        json_array_append_new(per_iter, res_summary_to_json(summaries[i], runs[i]));
        walls[i] = summaries[i]->wall_time_seconds;
    }
    json_object_set_new(doc, "iterations", iterations);
    add_tail(doc, per_iter, walls, count, host);
    free(walls);
    return doc;
}

/* ---- the streaming writer --------------------------------------------------- */

/* The document is written as the dump of its skeleton (every key, with one
** placeholder in "iterations") cut at the placeholder: the text before it,
** then each iteration dumped on its own and indented to its depth, then the
** text after it.  The bytes equal json_dumpf of the whole document. */
#define PLACEHOLDER "\"@@admitsim:iterations@@\""
#define DUMP_FLAGS  (JSON_INDENT(1) | JSON_REAL_PRECISION(15))

struct res_artifact_writer {
    res_atomic_file file;
    size_t iterations; /* announced */
    size_t count;      /* written */
    json_t *skeleton;  /* head keys and "iterations": [placeholder] */
    char *prefix;      /* its dump up to the placeholder, as written */
    json_t *per_iter;
    double *walls;
    bool failed;
};

res_artifact_writer *res_artifact_writer_open(const char *dir, const char *name, size_t iterations,
                                              res_error *err) {
    res_artifact_writer *w = calloc(1, sizeof *w);
    if (w) {
        w->iterations = iterations;
        w->per_iter = json_array();
        w->walls = malloc((iterations ? iterations : 1) * sizeof *w->walls);
    }
    if (!w || !w->per_iter || !w->walls) {
        res_error_set(err, RES_ENOMEM, "out of memory opening the artifact");
        res_artifact_writer_abort(w);
        return NULL;
    }
    if (!res_atomic_file_open(&w->file, dir, name, err)) {
        res_artifact_writer_abort(w);
        return NULL;
    }
    return w;
}

/* A json_dump_callback sink: text written to f with `depth` more spaces
** after each newline (a dump at depth 0 placed `depth` levels deeper, at
** one space a level). */
typedef struct indent_sink {
    FILE *f;
    size_t depth; /* at most 8 */
} indent_sink;

static int indented(const char *buffer, size_t size, void *data) {
    const indent_sink *s = data;
    for (size_t i = 0; i < size;) {
        const char *nl = memchr(buffer + i, '\n', size - i);
        size_t n = nl ? (size_t)(nl - (buffer + i)) + 1 : size - i;
        if (fwrite(buffer + i, 1, n, s->f) != n ||
            (nl && fwrite("        ", 1, s->depth, s->f) != s->depth))
            return -1;
        i += n;
    }
    return 0;
}

static bool sink_text(indent_sink *s, const char *text) {
    return indented(text, strlen(text), s) == 0;
}

/* The timeline array at depth 3 of the document (the value of a key of an
** iteration), its events one at a time: the text a dump of the whole array
** there makes ("[]" when empty; else each event on its own line at depth 4,
** the closing bracket at depth 3).  *oom: an event could not be built. */
static bool write_timeline(FILE *f, const res_run_record *run, bool *oom) {
    indent_sink ev_sink = {f, 4};
    res_event_merge m;
    res_event_merge_begin(&m, run->events, run->request_events);
    admit_event ev;
    bool more = res_event_merge_next(&m, &ev);
    if (!more) return fputs("[]", f) != EOF;
    if (fputs("[\n    ", f) == EOF) return false;
    for (bool first = true; more; more = res_event_merge_next(&m, &ev), first = false) {
        json_t *e = res_event_to_json(&ev, run);
        if (!e) return !(*oom = true);
        bool ok = (first || fputs(",\n    ", f) != EOF) &&
                  json_dump_callback(e, indented, &ev_sink, DUMP_FLAGS) == 0;
        json_decref(e);
        if (!ok) return false;
    }
    return fputs("\n   ]", f) != EOF;
}

/* Iteration r at depth 2 (an element of "iterations"), its timeline
** streamed: the iteration's dump with a placeholder timeline, cut at the
** placeholder (the last key's value), the timeline in between.  The bytes
** equal a dump of the whole iteration there. */
#define TIMELINE_MARK "@@admitsim:timeline@@"
#define TIMELINE_KEY  "\"timeline\": \"" TIMELINE_MARK "\""

static bool write_iteration(FILE *f, const res_run_record *r, const res_summary *s, bool *oom) {
    json_t *it = iteration_json(r, s, json_string(TIMELINE_MARK));
    char *text = it ? json_dumps(it, DUMP_FLAGS) : NULL;
    json_decref(it);
    char *at = NULL;
    for (char *p = text; p && (p = strstr(p, TIMELINE_KEY)); p++)
        at = p;
    if (!at) {
        free(text);
        return !(*oom = true);
    }
    at += strlen("\"timeline\": ");
    *at = '\0';
    indent_sink sink = {f, 2};
    bool ok = sink_text(&sink, text) && write_timeline(f, r, oom) &&
              sink_text(&sink, at + strlen("\"" TIMELINE_MARK "\""));
    free(text);
    return ok;
}

/* The skeleton's dump split at the placeholder (malloc'd whole; *after points into it). */
static char *split_dump(json_t *skeleton, char **after) {
    char *text = json_dumps(skeleton, DUMP_FLAGS);
    char *at = text ? strstr(text, PLACEHOLDER) : NULL;
    if (!at) {
        free(text);
        return NULL;
    }
    *at = '\0';
    *after = at + strlen(PLACEHOLDER);
    return text;
}

static bool start(res_artifact_writer *w, const res_run_record *r, const res_summary *s,
                  res_error *err) {
    w->skeleton = head_json(r, s, w->iterations);
    if (w->skeleton)
        json_object_set_new(w->skeleton, "iterations", json_pack("[s]", "@@admitsim:iterations@@"));
    char *after;
    w->prefix = w->skeleton ? split_dump(w->skeleton, &after) : NULL;
    if (!w->prefix) return res_error_set(err, RES_ENOMEM, "out of memory building the artifact");
    if (fputs(w->prefix, w->file.f) == EOF)
        return res_error_set(err, RES_EIO, "%s: cannot write: %s", w->file.tmp, strerror(errno));
    return true;
}

bool res_artifact_writer_add(res_artifact_writer *w, const res_run_record *r, const res_summary *s,
                             res_error *err) {
    if (w->count == w->iterations)
        return res_error_set(err, RES_EINVAL, "%s: more iterations than announced", w->file.path);
    if (w->count == 0 && !start(w, r, s, err)) return false;
    json_t *derived = res_summary_to_json(s, r);
    if (!derived || json_array_append_new(w->per_iter, derived) != 0)
        return res_error_set(err, RES_ENOMEM, "out of memory building the artifact");
    w->walls[w->count] = s->wall_time_seconds;
    bool oom = false;
    bool ok = (w->count == 0 || fputs(",\n  ", w->file.f) != EOF) &&
              write_iteration(w->file.f, r, s, &oom);
    w->count++;
    if (oom) return res_error_set(err, RES_ENOMEM, "out of memory building the artifact");
    if (!ok)
        return res_error_set(err, RES_EIO, "%s: cannot write: %s", w->file.tmp, strerror(errno));
    return true;
}

bool res_artifact_writer_seal(res_artifact_writer *w, const res_host_info *host, res_error *err) {
    bool ok = false;
    char *after = NULL, *text = NULL;
    if (w->count != w->iterations || w->count == 0) {
        res_error_set(err, RES_EINVAL, "%s: %zu of %zu iterations written", w->file.path, w->count,
                      w->iterations);
        goto done;
    }
    add_tail(w->skeleton, json_incref(w->per_iter), w->walls, w->count, host);
    text = split_dump(w->skeleton, &after);
    if (!text || strcmp(text, w->prefix) != 0) {
        res_error_set(err, RES_ENOMEM, "out of memory finishing the artifact");
        goto done;
    }
    if (fputs(after, w->file.f) == EOF) {
        res_error_set(err, RES_EIO, "%s: cannot write: %s", w->file.tmp, strerror(errno));
        goto done;
    }
    ok = res_atomic_file_seal(&w->file, err);
done:
    free(text);
    return ok;
}

res_atomic_file *res_artifact_writer_file(res_artifact_writer *w) {
    return &w->file;
}

void res_artifact_writer_abort(res_artifact_writer *w) {
    if (!w) return;
    res_atomic_file_abort(&w->file);
    json_decref(w->skeleton);
    json_decref(w->per_iter);
    free(w->prefix);
    free(w->walls);
    free(w);
}

const char *res_artifact_writer_path(const res_artifact_writer *w) {
    return w->file.path;
}

static bool dump_json(FILE *f, const void *json) {
    return json_dumpf((const json_t *)json, f, JSON_INDENT(1) | JSON_REAL_PRECISION(15)) == 0;
}

int res_write_json_atomic(const json_t *json, const char *dir, const char *name, char *err,
                          size_t errlen) {
    return res_write_atomic(dir, name, dump_json, json, err, errlen);
}
