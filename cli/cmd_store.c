/* admitsim runs / admitsim show: read the SQLite results store. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "res/store.h"
#include "run_query.h"

static void runs_usage(FILE *f) {
    fprintf(f, "usage: admitsim runs [--db FILE]\n"
               "\n"
               "Lists the runs stored by 'admitsim run': run id, when it was created (UTC),\n"
               "scenario, policy, seed, iterations stored / requested, status (running,\n"
               "complete or failed; a run left 'running' was interrupted) and the mean\n"
               "virtual wall time over its stored iterations.\n"
               "\n"
               "options:\n"
               "  --db FILE     the results database (default results/admitsim.db)\n"
               "  -h, --help    this text\n"
               "\n"
               "exit codes: 0 ok, 1 database missing or unreadable, 2 usage error\n");
}

static void show_usage(FILE *f) {
    fprintf(f,
            "usage: admitsim show RUN [--db FILE]\n"
            "\n"
            "Shows one stored run: its inputs, each iteration's status, virtual wall time,\n"
            "final leases and waiters, event count and output hash, and its metrics (mean\n"
            "over the stored iterations, with min and max).\n"
            "\n"
            "options:\n"
            "  --db FILE     the results database (default results/admitsim.db)\n"
            "  -h, --help    this text\n"
            "\n"
            "exit codes: 0 ok, 1 database missing or unreadable or no such run, 2 usage error\n");
}

/* Parses [--db FILE] [-h]; returns -1 to continue, else an exit code. */
static int parse_db(const char *cmd, int argc, char **argv, const char **db,
                    void (*usage)(FILE *)) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': *db = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    (void)cmd;
    return -1;
}

static res_store *open_store(const char *cmd, const char *db) {
    char err[1100];
    res_store *s = NULL;
    if (res_store_open(db, RES_STORE_OPEN_EXISTING, &s, err, sizeof err) != RES_STORE_OK)
        fprintf(stderr, "admitsim %s: %s\n", cmd, err);
    return s;
}

static const char *text(sqlite3_stmt *st, int col) {
    return column_text(st, col, "-");
}

int cmd_runs(int argc, char **argv) {
    const char *db = RES_STORE_DEFAULT_PATH;
    int rc = parse_db("runs", argc, argv, &db, runs_usage);
    if (rc >= 0) return rc;
    if (optind != argc) {
        fprintf(stderr, "admitsim runs: unexpected argument '%s'\n\n", argv[optind]);
        runs_usage(stderr);
        return EXIT_USAGE;
    }
    res_store *s = open_store("runs", db);
    if (!s) return EXIT_FAILURE_RUN;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(res_store_db(s),
                           "SELECT r.run_id, r.created_at, r.scenario_id, r.policy, r.seed,"
                           " (SELECT count(*) FROM iterations i WHERE i.run_id = r.run_id),"
                           " r.iterations, r.status,"
                           " (SELECT avg(wall_time_seconds) FROM iterations i"
                           "  WHERE i.run_id = r.run_id)"
                           " FROM runs r ORDER BY r.run_id",
                           -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "admitsim runs: %s: %s\n", db, sqlite3_errmsg(res_store_db(s)));
        res_store_close(s);
        return EXIT_FAILURE_RUN;
    }
    printf("%6s  %-20s  %-32s  %-14s  %10s  %11s  %-8s  %10s\n", "run", "created", "scenario",
           "policy", "seed", "iterations", "status", "mean_wall_s");
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char iters[32], wall[32];
        snprintf(iters, sizeof iters, "%lld/%lld", (long long)sqlite3_column_int64(st, 5),
                 (long long)sqlite3_column_int64(st, 6));
        if (sqlite3_column_type(st, 8) == SQLITE_NULL)
            snprintf(wall, sizeof wall, "-");
        else
            snprintf(wall, sizeof wall, "%.3f", sqlite3_column_double(st, 8));
        printf("%6lld  %-20s  %-32.32s  %-14s  %10llu  %11s  %-8s  %10s\n",
               (long long)sqlite3_column_int64(st, 0), text(st, 1), text(st, 2), text(st, 3),
               (unsigned long long)sqlite3_column_int64(st, 4), iters, text(st, 7), wall);
    }
    rc = EXIT_OK;
    if (step != SQLITE_DONE) {
        fprintf(stderr, "admitsim runs: %s: %s\n", db, sqlite3_errmsg(res_store_db(s)));
        rc = EXIT_FAILURE_RUN;
    }
    sqlite3_finalize(st);
    res_store_close(s);
    return rc;
}

static int query(res_store *s, const char *db, sqlite3_stmt **st, const char *sql, int64_t run_id) {
    if (sqlite3_prepare_v2(res_store_db(s), sql, -1, st, NULL) != SQLITE_OK) {
        fprintf(stderr, "admitsim show: %s: %s\n", db, sqlite3_errmsg(res_store_db(s)));
        return -1;
    }
    sqlite3_bind_int64(*st, 1, run_id);
    return 0;
}

int cmd_show(int argc, char **argv) {
    const char *db = RES_STORE_DEFAULT_PATH;
    int rc = parse_db("show", argc, argv, &db, show_usage);
    if (rc >= 0) return rc;
    if (optind != argc - 1) {
        fprintf(stderr, "admitsim show: expected exactly one RUN id\n\n");
        show_usage(stderr);
        return EXIT_USAGE;
    }
    uint64_t run_id;
    if (!cli_parse_u64("show", "RUN", argv[optind], INT64_MAX, &run_id)) return EXIT_USAGE;
    res_store *s = open_store("show", db);
    if (!s) return EXIT_FAILURE_RUN;
    sqlite3_stmt *st = NULL;
    rc = EXIT_FAILURE_RUN;
    if (query(s, db, &st,
              "SELECT scenario_id, scenario_version, scenario_file, policy, seed, iterations,"
              " harness_version, command_line, created_at, finished_at, status"
              " FROM runs WHERE run_id = ?",
              (int64_t)run_id))
        goto out;
    if (sqlite3_step(st) != SQLITE_ROW) {
        fprintf(stderr, "admitsim show: %s: no run %llu (see 'admitsim runs')\n", db,
                (unsigned long long)run_id);
        goto out;
    }
    printf("run %llu\n", (unsigned long long)run_id);
    printf("  scenario          %s (version %lld)\n", text(st, 0),
           (long long)sqlite3_column_int64(st, 1));
    printf("  scenario file     %s\n", text(st, 2));
    printf("  policy            %s\n", text(st, 3));
    printf("  seed              %llu\n", (unsigned long long)sqlite3_column_int64(st, 4));
    printf("  iterations        %lld\n", (long long)sqlite3_column_int64(st, 5));
    printf("  harness           %s\n", text(st, 6));
    printf("  command line      %s\n", text(st, 7));
    printf("  created           %s\n", text(st, 8));
    printf("  finished          %s\n", text(st, 9));
    printf("  status            %s\n", text(st, 10));
    sqlite3_finalize(st);
    st = NULL;
    if (query(s, db, &st,
              "SELECT iteration, status, wall_time_seconds, final_task_leases,"
              " final_request_leases, final_request_waiters, event_count, output_hash"
              " FROM iterations WHERE run_id = ? ORDER BY iteration",
              (int64_t)run_id))
        goto out;
    printf("\n%9s  %-14s  %10s  %11s  %14s  %15s  %8s  %-16s\n", "iteration", "status", "wall_s",
           "task_leases", "request_leases", "request_waiters", "events", "output_hash");
    while (sqlite3_step(st) == SQLITE_ROW)
        printf("%9lld  %-14s  %10.3f  %11lld  %14lld  %15lld  %8lld  %-16s\n",
               (long long)sqlite3_column_int64(st, 0), text(st, 1), sqlite3_column_double(st, 2),
               (long long)sqlite3_column_int64(st, 3), (long long)sqlite3_column_int64(st, 4),
               (long long)sqlite3_column_int64(st, 5), (long long)sqlite3_column_int64(st, 6),
               text(st, 7));
    sqlite3_finalize(st);
    st = NULL;
    if (query(s, db, &st,
              "SELECT scope, name, avg(value), min(value), max(value), count(*) FROM metrics"
              " WHERE run_id = ? GROUP BY scope, name"
              " ORDER BY CASE WHEN scope = 'run' THEN 0 ELSE 1 END, scope, min(rowid)",
              (int64_t)run_id))
        goto out;
    printf("\n%-44s  %-34s  %14s  %14s  %14s  %5s\n", "scope", "metric", "mean", "min", "max", "n");
    while (sqlite3_step(st) == SQLITE_ROW)
        printf("%-44.44s  %-34s  %14.6g  %14.6g  %14.6g  %5lld\n", text(st, 0), text(st, 1),
               sqlite3_column_double(st, 2), sqlite3_column_double(st, 3),
               sqlite3_column_double(st, 4), (long long)sqlite3_column_int64(st, 5));
    rc = EXIT_OK;
out:
    sqlite3_finalize(st);
    res_store_close(s);
    return rc;
}
