/* `admitsim bench` (the scale mode), its first rows: the whole-process
** rate of `admitsim run` on the scaled scenario, from process start to exit
** (loading, simulation, summary, correlated view, output), and the
** process's peak resident set, per policy twice: `--no-db` (process "run")
** and with the default store (process "store": `--db` into a new database
** in a temporary directory, removed after each run, so every run creates
** it as a first run into a new --db does), the store's median over the
** run's.  The scaled scenario is written to that temporary directory too;
** this binary runs it as a child (posix_spawn with an argument vector, no
** shell) --repeat times per row; a relative trace file of the scenario
** ({"dist": "empirical", "file": F}) is named from the scenario's own
** directory in that copy, and what a failing child said ends bench's
** message. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "program.h"
#include "run/config.h"
#include "run/json_reader.h"
#include "res/stats.h"

/* Multiplies the integer at obj.key by scale, when there is one. */
static void scale_key(json_t *obj, const char *key, uint64_t scale) {
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v)) json_integer_set(v, json_integer_value(v) * (json_int_t)scale);
}

/* A relative trace file F made absolute: abs_dir/F, abs_dir (ctx) the
** directory of the scenario the loader resolved it from.  False when out
** of memory. */
static bool rebase_trace(void *abs_dir, json_t *holder, const char *file) {
    if (!file[0] || file[0] == '/') return true;
    size_t len = strlen(abs_dir) + strlen(file) + 2;
    char *path = malloc(len);
    if (!path) return false;
    snprintf(path, len, "%s/%s", (const char *)abs_dir, file);
    bool ok = json_object_set_new(holder, "file", json_string(path)) == 0;
    free(path);
    return ok;
}

/* The scenario at path scaled as bench scales it (records, buffer size,
** column rows), written to dir/scenario.json, named in out. */
static bool write_scaled(const char *path, uint64_t scale, const char *dir, char *out, size_t len) {
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        fprintf(stderr, "admitsim bench: %s: %s\n", path, jerr.text);
        return false;
    }
    char src_dir[4096], abs_dir[PATH_MAX];
    run_json_dir_of(path, src_dir, sizeof src_dir);
    if (!realpath(src_dir[0] ? src_dir : ".", abs_dir)) {
        fprintf(stderr, "admitsim bench: %s: cannot resolve its directory: %s\n", path,
                strerror(errno));
        json_decref(doc);
        return false;
    }
    if (!cli_scenario_traces(doc, rebase_trace, abs_dir)) {
        fprintf(stderr, "admitsim bench: out of memory\n");
        json_decref(doc);
        return false;
    }
    scale_key(doc, "records", scale);
    scale_key(doc, "buffer_size", scale);
    size_t i;
    json_t *col;
    json_array_foreach(json_object_get(doc, "columns"), i, col) scale_key(col, "rows", scale);
    snprintf(out, len, "%s/scenario.json", dir);
    bool ok = json_dump_file(doc, out, JSON_COMPACT) == 0;
    json_decref(doc);
    if (!ok) {
        fprintf(stderr, "admitsim bench: cannot write the scaled scenario %s\n", out);
        unlink(out);
    }
    return ok;
}

const char *bench_figure_text(double x, double fixed_from, int decimals, char *out, size_t len) {
    if (x >= fixed_from)
        snprintf(out, len, "%.*f", decimals, x);
    else
        snprintf(out, len, "%.3g", x);
    return out;
}

bool bench_temp_dir(char *dir, size_t len) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, len, "%s/admitsim-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir)) return true;
    fprintf(stderr, "admitsim bench: cannot create a directory %s: %s\n", dir, strerror(errno));
    return false;
}

double bench_median(const double *sorted, uint64_t n) {
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/* warmup, then repeat measured runs of one policy, into the database db
** (removed after each run) or with --no-db when db is NULL, each run's
** errors into the file errs: wall seconds sorted (fastest first) and the
** largest peak RSS (KiB); false, with what the child said, when a run
** failed. */
static bool run_policy(const char *exe, const char *scenario, const char *policy, const char *db,
                       const char *errs, const bench_scale_options *o, double *secs, long *rss_kb) {
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)o->seed);
    char *argv[12] = {"admitsim", "run",     (char *)scenario, "--policy", (char *)policy,
                      "--seed",   seed_text, "--format",       "json"};
    int argc = 9;
    if (db) {
        argv[argc++] = "--db";
        argv[argc++] = (char *)db;
    } else {
        argv[argc++] = "--no-db";
    }
    argv[argc] = NULL;
    *rss_kb = 0;
    for (uint64_t i = 0; i < o->warmup + o->repeat; i++) {
        if (cli_stop_caught()) return false;
        struct rusage ru;
        char err[256];
        double t0 = cli_monotonic_seconds();
        bool ran = cli_program_run_usage(exe, argv, "/dev/null", errs, &ru, err, sizeof err);
        double t1 = cli_monotonic_seconds();
        if (db) cli_remove_db(db);
        if (cli_stop_caught()) return false;
        if (!ran) {
            char said[600];
            cli_file_tail(errs, said, sizeof said);
            fprintf(stderr, "admitsim bench: %s run %s: %s%s%s\n", policy, scenario, err,
                    said[0] ? "; it said: " : "", said);
            return false;
        }
        if (i < o->warmup) continue;
        secs[i - o->warmup] = t1 - t0;
        if (ru.ru_maxrss > *rss_kb) *rss_kb = ru.ru_maxrss;
    }
    res_sort_double(secs, o->repeat);
    return true;
}

/* One row: a table line, or an object appended to rows; over_no_db (the
** store row's median over the run row's) is left out when zero. */
static void process_row(const bench_scale_options *o, const char *policy, const char *process,
                        const double *secs, long rss_kb, uint64_t tasks, double over_no_db,
                        json_t *rows) {
    uint64_t r = o->repeat;
    double med = bench_median(secs, r);
    double spread = (secs[r - 1] - secs[0]) / med;
    if (o->json) {
        json_t *row =
            json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f}", "policy", policy, "process",
                      process, "peak_rss_mib", (double)rss_kb / 1024, "best_seconds", secs[0],
                      "median_seconds", med, "spread", spread, "best_tasks_per_second",
                      (double)tasks / secs[0], "median_tasks_per_second", (double)tasks / med);
        if (row && over_no_db > 0) json_object_set_new(row, "over_no_db", json_real(over_no_db));
        json_array_append_new(rows, row);
    } else {
        char over[32] = "-";
        if (over_no_db > 0) snprintf(over, sizeof over, "%.2fx", over_no_db);
        char best[32], median[32], best_s[32], median_s[32];
        printf("%-14s %-8s %12.1f %10s %10s %8.1f%% %13s %13s %10s\n", policy, process,
               (double)rss_kb / 1024, bench_seconds_text(secs[0], best_s, sizeof best_s),
               bench_seconds_text(med, median_s, sizeof median_s), 100 * spread,
               bench_rate_text((double)tasks / secs[0], best, sizeof best),
               bench_rate_text((double)tasks / med, median, sizeof median), over);
    }
    fflush(stdout);
}

/* The run row and the store row of one policy. */
static bool measure_policy(const char *exe, const char *scenario, const char *policy,
                           const char *db, const char *errs, const bench_scale_options *o,
                           uint64_t tasks, double *secs, json_t *rows) {
    long rss;
    if (!run_policy(exe, scenario, policy, NULL, errs, o, secs, &rss)) return false;
    double no_db = bench_median(secs, o->repeat);
    process_row(o, policy, "run", secs, rss, tasks, 0, rows);
    if (!run_policy(exe, scenario, policy, db, errs, o, secs, &rss)) return false;
    process_row(o, policy, "store", secs, rss, tasks, bench_median(secs, o->repeat) / no_db, rows);
    return true;
}

int bench_process(const char *scenario, const bench_scale_options *o, uint64_t tasks,
                  json_t *rows) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "admitsim bench: process rows not measured (no /proc/self/exe to run "
                        "this binary again)\n");
        return EXIT_OK;
    }
    exe[n] = '\0';
    char dir[4096], scenario_file[4200], db[4200], errs[4200];
    cli_stop_catch();
    if (!bench_temp_dir(dir, sizeof dir)) {
        cli_stop_release("bench");
        return EXIT_FAILURE_RUN;
    }
    snprintf(db, sizeof db, "%s/store.db", dir);
    snprintf(errs, sizeof errs, "%s/run.err", dir);
    if (!write_scaled(scenario, o->scale, dir, scenario_file, sizeof scenario_file)) {
        rmdir(dir);
        cli_stop_release("bench");
        return EXIT_FAILURE_RUN;
    }
    double *secs = calloc(o->repeat, sizeof *secs);
    int rc = secs ? EXIT_OK : EXIT_FAILURE_RUN;
    if (!o->json)
        printf("%-14s %-8s %12s %10s %10s %9s %13s %13s %10s\n", "policy", "process",
               "peak_rss_MiB", "best_s", "median_s", "spread", "best_tasks/s", "median_tasks/s",
               "over_no_db");
    for (int p = 0; p < RUN_POLICY_COUNT && rc == EXIT_OK; p++)
        if (!measure_policy(exe, scenario_file, run_policy_name((run_policy_kind)p), db, errs, o,
                            tasks, secs, rows))
            rc = EXIT_FAILURE_RUN;
    free(secs);
    unlink(errs);
    unlink(scenario_file);
    if (rmdir(dir) != 0)
        fprintf(stderr, "admitsim bench: cannot remove the directory %s: %s\n", dir,
                strerror(errno));
    cli_stop_release("bench");
    return rc;
}
