/* A store keeping every event packs the lifecycle ones (schema version 9,
** results/src/store_packs.h), and the events view gives every event back
** as a row: every column of every event of both streams, in capture order,
** equal to what the run captured (as the rows of version 8 held them);
** the reader (which parses a pack once, store_unpack.h) gives what the
** view gives, for every filter and both orders, and refuses a damaged
** pack; packs of at most 4,096 events of one stream each; texts that JSON must
** escape come back unchanged; a pack that cannot be inserted leaves
** nothing of the iteration behind; deleting an iteration deletes its
** packs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "res/event_names.h"
#include "res/store.h"
#include "res/store_reader.h"
#include "sim_test.h"
#include "store_test.h"
#include "store_run_test.h"
/* the reader's table-valued function, on a connection of the test's own */
#include "../results/src/store_unpack.h"

typedef store_run_fixture fixture;

/* sc run once (seed 1), and a store keeping every event holding its run. */
static fixture *fixture_of(sim_scenario *sc) {
    fixture *f = store_run_fixture_create(sc, "store-packs");
    res_store_keep_events(f->s, RES_KEEP_ALL_EVENTS);
    return f;
}

/* dynamic_request_calls: 1,500 tasks, 33,275 events of both streams. */
static int setup(void **state) {
    *state = fixture_of(load("dynamic_request_calls.json"));
    return 0;
}

static int teardown(void **state) {
    store_run_fixture_free(*state);
    return 0;
}

/* Column i of st is the integer v, or NULL when null_if_zero and v is 0. */
static void expect_int(sqlite3_stmt *st, int i, int64_t v, bool null_if_zero, size_t at) {
    if (null_if_zero && v == 0) {
        if (sqlite3_column_type(st, i) != SQLITE_NULL)
            fail_msg("event %zu, column %s: %lld, want NULL", at, sqlite3_column_name(st, i),
                     (long long)sqlite3_column_int64(st, i));
        return;
    }
    if (sqlite3_column_type(st, i) != SQLITE_INTEGER || sqlite3_column_int64(st, i) != v)
        fail_msg("event %zu, column %s: %s, want %lld", at, sqlite3_column_name(st, i),
                 sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "NULL",
                 (long long)v);
}

/* Column i of st is the text want (NULL: NULL). */
static void expect_str(sqlite3_stmt *st, int i, const char *want, size_t at) {
    const char *got = (const char *)sqlite3_column_text(st, i);
    bool same = want ? got && sqlite3_column_type(st, i) == SQLITE_TEXT && !strcmp(got, want)
                     : sqlite3_column_type(st, i) == SQLITE_NULL;
    if (!same)
        fail_msg("event %zu, column %s: '%s', want '%s'", at, sqlite3_column_name(st, i),
                 got ? got : "NULL", want ? want : "NULL");
}

/* The names the run gives an event's resource and column. */
static const char *resource_of(const res_run_record *run, const admit_event *ev) {
    if (ev->resource < 0) return NULL;
    if (ev->stream == ADMIT_STREAM_REQUEST)
        return (uint32_t)ev->resource < run->request_resource_count ? run->request[ev->resource].key
                                                                    : NULL;
    return (uint32_t)ev->resource < run->resource_count ? run->resource_names[ev->resource] : NULL;
}

static const char *column_of(const res_run_record *run, const admit_event *ev) {
    return ev->corr.column >= 0 && (uint32_t)ev->corr.column < run->config->column_count
               ? run->config->columns[ev->corr.column].name
               : NULL;
}

/* Every stored event through the events view, in capture order, against
** the run's events; returns how many were lifecycle ones. */
static size_t expect_every_event(fixture *f) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(f->db,
                           "SELECT stream, sequence, kind, captured_at_ns, task_id, execution_id,"
                           " task_lease_id, request_attempt_id, request_lease_id, resource,"
                           " reason, value, row_group, column_name, lifecycle, event_id IS NULL"
                           " FROM events WHERE run_id = 1 AND iteration = 0"
                           " ORDER BY captured_at_ns, stream DESC, sequence",
                           -1, &st, NULL),
        SQLITE_OK);
    res_event_merge m;
    res_event_merge_begin(&m, f->run->events, f->run->request_events);
    size_t at = 0, lifecycle = 0;
    for (admit_event ev; res_event_merge_next(&m, &ev); at++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        bool req = ev.stream == ADMIT_STREAM_REQUEST;
        bool life = res_event_is_lifecycle(&ev);
        lifecycle += life;
        expect_str(st, 0, req ? "request" : "scheduler", at);
        expect_int(st, 1, (int64_t)ev.sequence, false, at);
        expect_str(st, 2, admit_event_name(&ev), at);
        expect_int(st, 3, ev.captured_at_ns, false, at);
        expect_int(st, 4, (int64_t)ev.task_id, true, at);
        expect_int(st, 5, (int64_t)ev.corr.task_execution_id, true, at);
        expect_int(st, 6, req ? 0 : (int64_t)ev.lease_id, true, at);
        expect_int(st, 7, (int64_t)ev.attempt_id, true, at);
        expect_int(st, 8, req ? (int64_t)ev.lease_id : 0, true, at);
        expect_str(st, 9, resource_of(f->run, &ev), at);
        expect_str(st, 10, res_event_reason_name(&ev), at);
        expect_int(st, 11, ev.value, false, at);
        if (ev.corr.row_group >= 0)
            expect_int(st, 12, ev.corr.row_group, false, at);
        else
            expect_int(st, 12, 0, true, at);
        expect_str(st, 13, column_of(f->run, &ev), at);
        expect_int(st, 14, life, false, at);
        expect_int(st, 15, life, false, at); /* packed: no event_id */
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    return lifecycle;
}

static void view_gives_every_event_as_captured(void **state) {
    fixture *f = *state;
    store_run_fixture_write(f);
    size_t lifecycle = expect_every_event(f);
    size_t total =
        res_event_log_count(f->run->events) + res_event_log_count(f->run->request_events);
    assert_true(lifecycle > 4096 && lifecycle < total);
    /* the lifecycle events are packed, the notable ones rows */
    assert_int_equal(scalar(f->db, "SELECT sum(events) FROM event_packs"), lifecycle);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM event_rows"), total - lifecycle);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM event_rows WHERE lifecycle = 1"), 0);
    assert_int_equal(scalar(f->db, "SELECT events_stored = event_count FROM iterations"), 1);
    assert_int_equal(scalar(f->db, "SELECT events_stored FROM iterations"), total);
}

/* One query's rows through the reader, each as text, one per line. */
static char *reader_rows(const char *path, const res_event_query *q) {
    res_error err;
    res_store_reader *r = NULL;
    if (res_store_reader_open(path, &r, &err) != RES_OK) fail_msg("%s", err.message);
    res_store_cursor *c = NULL;
    if (res_store_reader_events(r, q, &c, &err) != RES_OK) fail_msg("%s", err.message);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    res_event_row e;
    res_cursor_step step;
    while ((step = res_store_cursor_next_event(c, &e, &err)) == RES_CURSOR_ROW) {
        const res_opt_int *ids[] = {
            &e.task_id,          &e.execution_id, &e.task_lease_id, &e.request_attempt_id,
            &e.request_lease_id, &e.value,        &e.row_group};
        fprintf(f, "%lld|%s|%lld|%s|%lld", (long long)e.iteration, e.stream, (long long)e.sequence,
                e.kind, (long long)e.captured_at_ns);
        for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
            fprintf(f, ids[i]->set ? "|%lld" : "|", (long long)ids[i]->value);
        fprintf(f, "|%s|%s|%s\n", e.resource ? e.resource : "", e.reason ? e.reason : "",
                e.column_name ? e.column_name : "");
    }
    if (step != RES_CURSOR_DONE) fail_msg("%s", err.message);
    fclose(f);
    res_store_cursor_close(c);
    res_store_reader_close(r);
    return text;
}

/* The same query through the events view, in the same form. */
static char *view_rows(sqlite3 *db, const char *where, const char *order) {
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT group_concat(line, char(10)) || char(10) FROM (SELECT iteration || '|' ||"
             " stream || '|' || sequence || '|' || kind || '|' || captured_at_ns || '|' ||"
             " ifnull(task_id, '') || '|' || ifnull(execution_id, '') || '|' ||"
             " ifnull(task_lease_id, '') || '|' || ifnull(request_attempt_id, '') || '|' ||"
             " ifnull(request_lease_id, '') || '|' || ifnull(value, '') || '|' ||"
             " ifnull(row_group, '') || '|' || ifnull(resource, '') || '|' || ifnull(reason, '')"
             " || '|' || ifnull(column_name, '') AS line FROM events WHERE run_id = 1 %s"
             " ORDER BY %s)",
             where, order);
    return text_of(db, sql);
}

static void expect_reader_is_view(fixture *f, const res_event_query *q, const char *where) {
    char *got = reader_rows(f->path, q);
    char *want = view_rows(f->db, where,
                           q->order == RES_EVENTS_STREAM_ORDER
                               ? "iteration, stream, sequence"
                               : "iteration, captured_at_ns, stream DESC, sequence");
    assert_non_null(want);
    if (strcmp(got, want) != 0) {
        size_t i = 0;
        while (got[i] && got[i] == want[i])
            i++;
        fail_msg("%s: the reader differs from the view at byte %zu of %zu", where, i, strlen(want));
    }
    free(got);
    free(want);
}

static void reader_gives_what_the_view_gives(void **state) {
    fixture *f = *state;
    store_run_fixture_write(f);
    const char *resource = text_of(f->db, "SELECT resource FROM events WHERE stream = 'request'"
                                          " AND lifecycle = 1 AND resource IS NOT NULL LIMIT 1");
    assert_non_null(resource);
    const char *kinds[] = {"worker_spawned", "request_lease_released", "request_rate_limited",
                           NULL};
    res_event_query q = {.run_id = 1, .iteration = RES_ALL_ITERATIONS};
    expect_reader_is_view(f, &q, "");
    q.order = RES_EVENTS_STREAM_ORDER;
    expect_reader_is_view(f, &q, "");
    q = (res_event_query){.run_id = 1, .iteration = 0, .stream = "request"};
    expect_reader_is_view(f, &q, "AND iteration = 0 AND stream = 'request'");
    q = (res_event_query){.run_id = 1, .iteration = 0, .kinds = kinds};
    expect_reader_is_view(
        f, &q,
        "AND iteration = 0 AND kind IN ('worker_spawned', 'request_lease_released',"
        " 'request_rate_limited')");
    q = (res_event_query){.run_id = 1, .iteration = RES_ALL_ITERATIONS, .resource = resource};
    char where[512];
    snprintf(where, sizeof where, "AND resource = '%s'", resource);
    expect_reader_is_view(f, &q, where);
    free((void *)resource);
}

/* What the reader says of a pack that is not in the format. */
static void expect_malformed(fixture *f, const char *update, const char *says) {
    assert_int_equal(sqlite3_exec(f->db, update, NULL, NULL, NULL), SQLITE_OK);
    res_error err;
    res_store_reader *r = NULL;
    assert_int_equal(res_store_reader_open(f->path, &r, &err), RES_OK);
    res_event_query q = {.run_id = 1, .iteration = RES_ALL_ITERATIONS};
    res_store_cursor *c = NULL;
    res_cursor_step step = RES_CURSOR_ERROR;
    if (res_store_reader_events(r, &q, &c, &err) == RES_OK) {
        res_event_row e;
        while ((step = res_store_cursor_next_event(c, &e, &err)) == RES_CURSOR_ROW)
            ;
        res_store_cursor_close(c);
    }
    assert_int_equal(step, RES_CURSOR_ERROR);
    if (!strstr(err.message, "malformed event pack") || !strstr(err.message, says))
        fail_msg("%s: %s", update, err.message);
    res_store_reader_close(r);
}

static void reader_refuses_a_damaged_pack(void **state) {
    fixture *f = *state;
    store_run_fixture_write(f);
    static const char last[] = "WHERE pack_id = (SELECT max(pack_id) FROM event_packs)";
    char sql[512];
    static const struct {
        const char *set, *says;
    } damage[] = {
        {"body = substr(body, 1, length(body) - 1)", "expected"},
        {"body = '[[0,0]]', events = 1", "fewer than 3 integers"},
        {"body = '[[0,0,0,1,2,3,4,5,6,7,8,9,10]]', events = 1", "more than 12"},
        {"body = '[[0,99,0]]', events = 1", "a text index outside"},
        {"body = '[[0,0,0,0,0,0,0,0,99]]', events = 1", "a text index outside"},
        {"body = '[[0,0,99999999999999999999]]', events = 1", "an integer expected"},
        {"body = '[[0,0,9223372036854775807]]', events = 1, first_ns = 1", "past 64 bits"},
        {"events = events + 1", "fewer entries"},
        {"events = events - 1", "more entries"},
        {"strings = '{}'", "not a JSON array"},
        {"first_ns = 'abc'", "must be integers"},
    };
    snprintf(sql, sizeof sql, "CREATE TEMP TABLE kept AS SELECT * FROM event_packs %s", last);
    assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
    char *before = reader_rows(f->path, &(res_event_query){.run_id = 1, .iteration = -1});
    for (size_t i = 0; i < sizeof damage / sizeof *damage; i++) {
        snprintf(sql, sizeof sql, "UPDATE event_packs SET %s %s", damage[i].set, last);
        expect_malformed(f, sql, damage[i].says);
        assert_int_equal(sqlite3_exec(f->db,
                                      "UPDATE event_packs SET (first_ns, events, strings, body) ="
                                      " (SELECT first_ns, events, strings, body FROM kept)"
                                      " WHERE pack_id = (SELECT pack_id FROM kept)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    }
    /* mended, the pack reads as before */
    char *after = reader_rows(f->path, &(res_event_query){.run_id = 1, .iteration = -1});
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* admit_event_pack beside other constraints on its arguments: a WHERE term
** that agrees with the function's argument changes nothing, one that
** differs gives no rows (not a "malformed" error, whichever SQLite hands
** over first), and a constraint that is not an equality is checked by
** SQLite. */
static void pack_function_takes_other_constraints(void **state) {
    fixture *f = *state;
    store_run_fixture_write(f);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(res_unpack_register(db), SQLITE_OK);
#define UNPACKED                                                                                   \
    "SELECT count(*) FROM event_packs p, admit_event_pack(p.strings, p.body, p.first_sequence,"    \
    " p.first_ns, p.events) u"
    int64_t all = scalar(f->db, "SELECT sum(events) FROM event_packs");
    int64_t first = scalar(f->db, "SELECT events FROM event_packs ORDER BY pack_id LIMIT 1");
    assert_true(first == 4096 && all > first);
    assert_int_equal(scalar(db, UNPACKED), all);
    assert_int_equal(scalar(db, UNPACKED " WHERE u.events = p.events"), all);
    assert_int_equal(scalar(db, UNPACKED " WHERE u.events = 5"), 0);
    int64_t full = scalar(f->db, "SELECT sum(events) FROM event_packs WHERE events = 4096");
    assert_int_equal(scalar(db, UNPACKED " WHERE u.events = 4096"), full);
    assert_int_equal(scalar(db, UNPACKED " WHERE u.first_ns = p.first_ns AND u.body = p.body"),
                     all);
    assert_int_equal(scalar(db, UNPACKED " WHERE u.events > 4095"), full);
    assert_int_equal(scalar(db, UNPACKED " WHERE u.strings LIKE '[%'"), all);
#undef UNPACKED
    sqlite3_close(db);
}

/* Packs of one stream, in sequence order, all full but the last, each body
** an array of as many arrays as it says, its first sequence its first
** event's. */
static void packs_hold_up_to_4096_events(void **state) {
    fixture *f = *state;
    store_run_fixture_write(f);
    size_t n[2] = {0, 0};
    res_event_merge m;
    res_event_merge_begin(&m, f->run->events, f->run->request_events);
    for (admit_event ev; res_event_merge_next(&m, &ev);)
        n[ev.stream == ADMIT_STREAM_REQUEST] += res_event_is_lifecycle(&ev);
    assert_true(n[0] > 2 * 4096 && n[1] > 0);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM event_packs WHERE stream = 'scheduler'"),
                     (n[0] + 4095) / 4096);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM event_packs WHERE stream = 'request'"),
                     (n[1] + 4095) / 4096);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM event_packs p WHERE events !="
                                   " json_array_length(body) OR events > 4096 OR (events < 4096"
                                   " AND EXISTS (SELECT 1 FROM event_packs q WHERE q.stream ="
                                   " p.stream AND q.first_sequence > p.first_sequence))"),
                     0);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM event_packs p WHERE first_sequence !="
                                   " (SELECT min(sequence) FROM events e WHERE e.stream ="
                                   " p.stream AND e.lifecycle = 1 AND e.sequence >="
                                   " p.first_sequence)"),
                     0);
    /* every body is JSON, every entry an array of 3 to 12 integers */
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM event_packs p, json_each(p.body) e"
                                   " WHERE e.type != 'array' OR json_array_length(e.value) NOT"
                                   " BETWEEN 3 AND 12"),
                     0);
}

/* Column names that JSON escapes, one of them not ASCII. */
static void texts_come_back_unchanged(void **state) {
    (void)state;
    static const char scenario[] =
        "{\"schema\": 1, \"scenario_id\": \"escapes\", \"scenario_version\": 1, \"records\": 40,"
        " \"capacity\": {\"submission\": 2},"
        " \"columns\": ["
        "  {\"name\": \"q\\\"u\\\\o/te\", \"duration\": {\"dist\": \"constant\", \"seconds\": 1}},"
        "  {\"name\": \"caf\\u00e9 \\u2713\", \"depends_on\": [\"q\\\"u\\\\o/te\"],"
        "   \"duration\": {\"dist\": \"constant\", \"seconds\": 0.5}}]}";
    fixture *f = fixture_of(parse(scenario));
    store_run_fixture_write(f);
    expect_every_event(f);
    expect_text(f->db,
                "SELECT group_concat(column_name, '|') FROM (SELECT DISTINCT column_name FROM"
                " events WHERE lifecycle = 1 AND column_name IS NOT NULL ORDER BY 1)",
                "caf\xc3\xa9 \xe2\x9c\x93|q\"u\\o/te");
    store_run_fixture_free(f);
}

/* A pack row already there under the key of the iteration's first pack:
** the write fails after the iteration row and the notable events went in,
** none of it stays; once the row is gone the iteration writes whole. */
static void failed_pack_leaves_nothing_behind(void **state) {
    fixture *f = *state;
    uint64_t first = 0;
    bool found = false;
    for (size_t i = 0; !found && i < res_event_log_count(f->run->events); i++) {
        admit_event ev = res_event_log_at(f->run->events, i);
        if (res_event_is_lifecycle(&ev)) first = ev.sequence, found = true;
    }
    assert_true(found);
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO event_packs (run_id, iteration, stream, first_sequence, first_ns,"
             " events, strings, body) VALUES (%lld, 0, 'scheduler', %llu, 0, 0, '[]', '[]')",
             (long long)f->run_id, (unsigned long long)first);
    expect_blocked_write_leaves_nothing(f, sql, "event_packs", "packed events");
    expect_every_event(f);
}

/* The run's scheduler events again, the first lifecycle one given row
** group rg; its sequence in *sequence. */
static res_event_log *events_with_row_group(const res_event_log *from, int64_t rg,
                                            uint64_t *sequence) {
    res_event_log *log = res_event_log_create();
    assert_non_null(log);
    bool changed = false;
    for (size_t i = 0; i < res_event_log_count(from); i++) {
        admit_event ev = res_event_log_at(from, i);
        if (!changed && res_event_is_lifecycle(&ev)) {
            ev.corr.row_group = rg;
            *sequence = ev.sequence;
            changed = true;
        }
        assert_true(res_event_log_append(log, &ev));
    }
    assert_true(changed);
    res_event_log_seal(log);
    return log;
}

/* A pack holds a row group + 1 (store_packs.h): 2^63 - 1 cannot be packed,
** and the write says so and leaves nothing; 2^63 - 2 reads back whole. */
static void row_group_beyond_the_format_is_refused(void **state) {
    fixture *f = *state;
    res_event_log *kept = f->run->events;
    uint64_t seq = 0;
    f->run->events = events_with_row_group(kept, INT64_MAX, &seq);
    res_error err;
    assert_int_equal(res_store_write_iteration(f->s, f->run_id, f->run, f->sum, &err), RES_EINVAL);
    if (!strstr(err.message, "a row group of 2^63 - 1")) fail_msg("%s", err.message);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM iterations"), 0);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM event_packs"), 0);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM task_timelines"), 0);
    res_event_log_free(f->run->events);
    f->run->events = events_with_row_group(kept, INT64_MAX - 1, &seq);
    store_run_fixture_write(f);
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT row_group FROM events WHERE stream = 'scheduler' AND sequence = %llu",
             (unsigned long long)seq);
    assert_true(scalar(f->db, sql) == INT64_MAX - 1);
    res_event_log_free(f->run->events);
    f->run->events = kept;
}

static void deleting_an_iteration_deletes_its_packs(void **state) {
    fixture *f = *state;
    store_run_fixture_write(f);
    assert_true(scalar(f->db, "SELECT count(*) FROM event_packs") > 0);
    assert_int_equal(sqlite3_exec(f->db, "DELETE FROM iterations", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM event_packs"), 0);
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM events"), 0);
}

/* What wrote to the table events (a writer of version 8 still running when
** the store is migrated, a user's own statements) goes to event_rows; a
** packed event cannot be changed or deleted alone; comparisons with text
** convert as against a row. */
static void the_view_takes_what_the_table_took(void **state) {
    (void)state;
    char dir[256], path[300];
    assert_int_equal(scratch_dir(dir, sizeof dir, "store-packs-v8"), 0);
    snprintf(path, sizeof path, "%s/results.db", dir);
    res_error err;
    res_store *s = NULL;
    assert_int_equal(res_store_open_version(path, RES_STORE_OPEN_CREATE, 8, &s, &err), RES_OK);
    res_store_close(s);
    sqlite3 *db = raw_open(path);
    sqlite3_stmt *old_writer = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT OR FAIL INTO events (run_id, iteration, stream,"
                                        " sequence, kind, captured_at_ns, task_id, value,"
                                        " lifecycle) VALUES (1, 0, 'scheduler', ?1, 'selected',"
                                        " 10, 7, 0, 1)",
                                        -1, &old_writer, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(old_writer, 1, 1);
    assert_int_equal(sqlite3_step(old_writer), SQLITE_DONE);
    sqlite3_reset(old_writer);
    assert_int_equal(res_store_open(path, RES_STORE_OPEN_EXISTING, &s, &err), RES_OK);
    res_store_close(s);
    /* the statement prepared before the migration goes on writing */
    sqlite3_bind_int(old_writer, 1, 2);
    assert_int_equal(sqlite3_step(old_writer), SQLITE_DONE);
    sqlite3_finalize(old_writer);
    expect_text(db, "SELECT group_concat(sequence || ':' || lifecycle) FROM event_rows", "1:1,2:1");
    assert_int_equal(scalar(db, "SELECT count(*) FROM events WHERE task_id = '7'"), 2);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO events (run_id, iteration, stream, sequence, kind,"
                                  " captured_at_ns, value) VALUES (1, 0, 'request', 0,"
                                  " 'request_rate_limited', 11, 5);"
                                  "UPDATE events SET value = 6 WHERE stream = 'request';"
                                  "DELETE FROM events WHERE sequence = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    expect_text(db,
                "SELECT group_concat(stream || ':' || sequence || ':' || value || ':' || lifecycle)"
                " FROM event_rows",
                "scheduler:2:0:1,request:0:6:0");
    sqlite3_close(db);
    remove_db(path);
    rmdir(dir);
}

static void packed_events_change_only_with_their_iteration(void **state) {
    fixture *f = *state;
    store_run_fixture_write(f);
    char *msg = NULL;
    assert_int_not_equal(
        sqlite3_exec(f->db, "UPDATE events SET value = 1 WHERE lifecycle = 1", NULL, NULL, &msg),
        SQLITE_OK);
    assert_non_null(strstr(msg, "a packed event (schema version 9) cannot be changed"));
    sqlite3_free(msg);
    assert_int_not_equal(
        sqlite3_exec(f->db, "DELETE FROM events WHERE run_id = 1", NULL, NULL, &msg), SQLITE_OK);
    assert_non_null(strstr(msg, "is deleted with its iteration"));
    sqlite3_free(msg);
    /* nothing changed: the statements are undone whole */
    expect_every_event(f);
    /* text compares as against a row (INTEGER and TEXT affinity) */
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM events WHERE lifecycle = '1'"),
                     scalar(f->db, "SELECT sum(events) FROM event_packs"));
    assert_int_equal(scalar(f->db, "SELECT count(*) FROM events WHERE captured_at_ns = '0'"),
                     scalar(f->db, "SELECT count(*) FROM events WHERE captured_at_ns = 0"));
    int64_t task = scalar(f->db, "SELECT max(task_id) FROM events WHERE lifecycle = 1");
    char text[200], number[200];
    snprintf(text, sizeof text,
             "SELECT count(*) FROM events WHERE lifecycle = 1 AND task_id = '%lld'",
             (long long)task);
    snprintf(number, sizeof number,
             "SELECT count(*) FROM events WHERE lifecycle = 1 AND task_id = %lld", (long long)task);
    assert_true(scalar(f->db, number) > 0);
    assert_int_equal(scalar(f->db, text), scalar(f->db, number));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(view_gives_every_event_as_captured, setup, teardown),
        cmocka_unit_test_setup_teardown(packs_hold_up_to_4096_events, setup, teardown),
        cmocka_unit_test_setup_teardown(reader_gives_what_the_view_gives, setup, teardown),
        cmocka_unit_test_setup_teardown(reader_refuses_a_damaged_pack, setup, teardown),
        cmocka_unit_test_setup_teardown(pack_function_takes_other_constraints, setup, teardown),
        cmocka_unit_test(texts_come_back_unchanged),
        cmocka_unit_test(the_view_takes_what_the_table_took),
        cmocka_unit_test_setup_teardown(packed_events_change_only_with_their_iteration, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(failed_pack_leaves_nothing_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(deleting_an_iteration_deletes_its_packs, setup, teardown),
        cmocka_unit_test_setup_teardown(row_group_beyond_the_format_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
