/* admitsim runs / show / experiments read the SQLite results store (never
** writing to it); admitsim migrate upgrades its schema. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include <jansson.h>

#include "res/artifact.h"
#include "res/store.h"
#include "res/store_reader.h"

static void runs_usage(FILE *f) {
    fprintf(f, "usage: admitsim runs [options]\n"
               "\n"
               "Lists the runs stored by 'admitsim run': run id, when it was created (UTC),\n"
               "scenario, policy, seed, iterations stored / requested, status (running,\n"
               "complete, failed, or abandoned: its writer died before it finished) and\n"
               "the mean virtual wall time over its stored iterations; a run of an\n"
               "experiment (see 'admitsim experiments') adds the experiment and its arm.\n"
               "Oldest first.\n"
               "\n"
               "options:\n"
               "  --scenario ID   only runs of this scenario id\n"
               "  --policy P      only runs with this policy (strict, bounded, provider_aware)\n"
               "  --since TIME    only runs created at or after TIME (UTC, as the list shows\n"
               "                  it, or a prefix of it: 2025-06-01, 2025-06-01T14:30)\n"
               "  --limit N       only the N most recent of those\n"
               "  --format table|json\n"
               "                  a table (default), or a JSON array, one object a run:\n"
               "                  run_id, created_at, scenario_id, policy, seed, iterations,\n"
               "                  iterations_stored, status, mean_wall_time_seconds (null\n"
               "                  with no stored iteration), experiment_id, arm (null\n"
               "                  outside an experiment)\n"
               "  --db FILE       the results database (default $ADMITSIM_DB, else\n"
               "                  results/admitsim.db)\n"
               "  -h, --help      this text\n"
               "\n"
               "The database is opened read-only and never changed.\n"
               "\n"
               "exit codes: 0 ok, 1 database missing, unreadable, too old (see 'admitsim\n"
               "migrate') or another program's, 2 usage error\n");
}

static void show_usage(FILE *f) {
    fprintf(f,
            "usage: admitsim show RUN [--db FILE]\n"
            "\n"
            "Shows one stored run: its inputs (and, for a run of an experiment, the\n"
            "experiment, its arm and parameters), each iteration's status, virtual wall\n"
            "time, final leases and waiters, event count and output hash, and its metrics\n"
            "(mean over the stored iterations, with min and max).\n"
            "\n"
            "options:\n"
            "  --db FILE     the results database (default $ADMITSIM_DB,\n"
            "                else results/admitsim.db)\n"
            "  -h, --help    this text\n"
            "\n"
            "exit codes: 0 ok, 1 database missing or unreadable or no such run, 2 usage error\n");
}

static void experiments_usage(FILE *f) {
    fprintf(f, "usage: admitsim experiments [EXPERIMENT] [--db FILE]\n"
               "\n"
               "Lists the stored experiments (A/B comparisons of a baseline and a candidate\n"
               "arm paired by seed, sweeps over parameter points and capacity searches;\n"
               "each arm, point or probe is a run per seed): experiment id, when it was\n"
               "created (UTC), kind (ab, sweep or search), scenario, arms (baseline vs\n"
               "candidate; a sweep's points; a search's probes), seeds, runs\n"
               "stored and status (running, complete, failed, or abandoned: its writer died\n"
               "before it finished).  With an EXPERIMENT id, shows that experiment, its\n"
               "result and its runs by arm and seed.\n"
               "\n"
               "options:\n"
               "  --db FILE     the results database (default $ADMITSIM_DB,\n"
               "                else results/admitsim.db)\n"
               "  -h, --help    this text\n"
               "\n"
               "The database is opened read-only and never changed.\n"
               "\n"
               "exit codes: 0 ok, 1 database missing, unreadable, too old (see 'admitsim\n"
               "migrate') or another program's, or no such experiment, 2 usage error\n");
}

static void migrate_usage(FILE *f) {
    fprintf(f, "usage: admitsim migrate [--db FILE]\n"
               "\n"
               "Upgrades a results database to the schema this admitsim writes, one\n"
               "transaction per version (runs, show, export and plot read it without\n"
               "changing it, and refuse a schema older than they read).\n"
               "\n"
               "options:\n"
               "  --db FILE     the results database (default $ADMITSIM_DB,\n"
               "                else results/admitsim.db)\n"
               "  -h, --help    this text\n"
               "\n"
               "exit codes: 0 ok, 1 database missing, unusable or another program's, 2 usage "
               "error\n");
}

/* Parses [--db FILE] [-h] and then min to max operands (ids); returns -1
** to continue, else an exit code. */
static int parse_db(const char *cmd, int argc, char **argv, const char **db, void (*usage)(FILE *),
                    int min, int max) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    optind = 1;
    int ch;
    while ((ch = cli_getopt(cmd, argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 'd': *db = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    int operands = argc - optind;
    if (operands >= min && operands <= max) return -1;
    if (min == 1 && max == 1) return cli_usage_error(cmd, "expected exactly one RUN id");
    return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + max]);
}

static res_store_reader *open_reader(const char *cmd, const char *db) {
    res_error err;
    res_store_reader *r = NULL;
    if (res_store_reader_open(db, &r, &err) != RES_OK)
        fprintf(stderr, "admitsim %s: %s\n", cmd, err.message);
    return r;
}

static const char *text(const char *s) {
    return s ? s : "-";
}

/* What `runs` lists. */
typedef struct runs_args {
    const char *db, *scenario, *policy, *since;
    uint64_t limit; /* 0: all */
    bool json;
} runs_args;

/* -1 to go on, else the exit code. */
static int parse_runs(int argc, char **argv, runs_args *a) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},     {"scenario", required_argument, 0, 's'},
        {"policy", required_argument, 0, 'p'}, {"since", required_argument, 0, 'S'},
        {"limit", required_argument, 0, 'l'},  {"format", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    *a = (runs_args){.db = cli_db_default()};
    optind = 1;
    int ch;
    while ((ch = cli_getopt("runs", argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 'd': a->db = optarg; break;
        case 's': a->scenario = optarg; break;
        case 'p': a->policy = optarg; break;
        case 'S':
            if (!optarg[0] || optarg[strspn(optarg, "0123456789-:T.Z")])
                return cli_usage_error("runs",
                                       "--since expects a UTC time such as 2025-06-01 or "
                                       "2025-06-01T14:30:00Z, got '%s'",
                                       optarg);
            a->since = optarg;
            break;
        case 'l':
            if (!cli_parse_range("runs", "--limit", optarg, 1, INT64_MAX, &a->limit))
                return EXIT_USAGE;
            break;
        case 'f':
            if (strcmp(optarg, "table") && strcmp(optarg, "json"))
                return cli_usage_error("runs", "--format expects table or json, got '%s'", optarg);
            a->json = !strcmp(optarg, "json");
            break;
        case 'h': runs_usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind < argc) return cli_usage_error("runs", "unexpected argument '%s'", argv[optind]);
    return -1;
}

static bool runs_match(const runs_args *a, const res_run_row *run) {
    if (a->scenario && (!run->scenario_id || strcmp(a->scenario, run->scenario_id))) return false;
    if (a->policy && (!run->policy || strcmp(a->policy, run->policy))) return false;
    /* created_at is ISO 8601 UTC: its order is the string order, and a
    ** prefix (a day, a minute) compares as its first instant */
    return !a->since || (run->created_at && strcmp(run->created_at, a->since) >= 0);
}

static json_t *run_list_json(const res_run_row *run) {
    json_t *o = json_object();
    json_object_set_new(o, "run_id", json_integer(run->run_id));
    json_object_set_new(o, "created_at",
                        run->created_at ? json_string(run->created_at) : json_null());
    json_object_set_new(o, "scenario_id",
                        run->scenario_id ? res_json_string_lossy(run->scenario_id) : json_null());
    json_object_set_new(o, "policy", run->policy ? json_string(run->policy) : json_null());
    json_object_set_new(o, "seed", json_integer((json_int_t)run->seed));
    json_object_set_new(o, "iterations", json_integer(run->iterations));
    json_object_set_new(o, "iterations_stored", json_integer(run->iterations_stored));
    json_object_set_new(o, "status", run->state ? json_string(run->state) : json_null());
    json_object_set_new(o, "mean_wall_time_seconds",
                        run->wall_time_mean.set ? json_real(run->wall_time_mean.value)
                                                : json_null());
    json_object_set_new(o, "experiment_id",
                        run->experiment_id.set ? json_integer(run->experiment_id.value)
                                               : json_null());
    json_object_set_new(o, "arm", run->arm ? res_json_string_lossy(run->arm) : json_null());
    return o;
}

/* The text of a JSON value or "-" for null. */
static const char *jtext(json_t *o, const char *key) {
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "-";
}

static void print_run_line(json_t *o) {
    char iters[64], wall[32];
    snprintf(iters, sizeof iters, "%lld/%lld",
             (long long)json_integer_value(json_object_get(o, "iterations_stored")),
             (long long)json_integer_value(json_object_get(o, "iterations")));
    json_t *w = json_object_get(o, "mean_wall_time_seconds");
    if (json_is_real(w))
        snprintf(wall, sizeof wall, "%.3f", json_real_value(w));
    else
        snprintf(wall, sizeof wall, "-");
    printf("%6lld  %-20s  %-32.32s  %-14s  %10llu  %11s  %-9s  %10s",
           (long long)json_integer_value(json_object_get(o, "run_id")), jtext(o, "created_at"),
           jtext(o, "scenario_id"), jtext(o, "policy"),
           (unsigned long long)json_integer_value(json_object_get(o, "seed")), iters,
           jtext(o, "status"), wall);
    json_t *x = json_object_get(o, "experiment_id");
    if (json_is_integer(x)) printf("  experiment %lld", (long long)json_integer_value(x));
    if (json_is_string(json_object_get(o, "arm"))) printf("  arm %s", jtext(o, "arm"));
    putchar('\n');
}

/* The matching runs, oldest first, at most the limit's most recent. */
static int collect_runs(res_store_reader *r, const runs_args *a, json_t *list) {
    res_store_cursor *c = NULL;
    res_error err;
    if (res_store_reader_runs(r, &c, &err) != RES_OK) {
        fprintf(stderr, "admitsim runs: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    res_run_row run;
    res_cursor_step step;
    bool ok = true;
    while (ok && (step = res_store_cursor_next_run(c, &run, &err)) == RES_CURSOR_ROW) {
        if (!runs_match(a, &run)) continue;
        ok = json_array_append_new(list, run_list_json(&run)) == 0;
        if (ok && a->limit && json_array_size(list) > a->limit) json_array_remove(list, 0);
    }
    res_store_cursor_close(c);
    if (ok && step == RES_CURSOR_DONE) return EXIT_OK;
    fprintf(stderr, "admitsim runs: %s\n", ok ? err.message : "out of memory");
    return EXIT_FAILURE_RUN;
}

int cmd_runs(int argc, char **argv) {
    runs_args a;
    int rc = parse_runs(argc, argv, &a);
    if (rc >= 0) return rc;
    res_store_reader *r = open_reader("runs", a.db);
    if (!r) return EXIT_FAILURE_RUN;
    json_t *list = json_array();
    rc = list ? collect_runs(r, &a, list) : EXIT_FAILURE_RUN;
    res_store_reader_close(r);
    if (rc == EXIT_OK && a.json) {
        if (json_dumpf(list, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15)) != 0)
            rc = EXIT_FAILURE_RUN;
        putchar('\n');
    } else if (rc == EXIT_OK) {
        printf("%6s  %-20s  %-32s  %-14s  %10s  %11s  %-9s  %10s\n", "run", "created", "scenario",
               "policy", "seed", "iterations", "status", "mean_wall_s");
        size_t i;
        json_t *o;
        json_array_foreach(list, i, o) print_run_line(o);
    }
    json_decref(list);
    return rc;
}

/* The status as it is now, and as stored when that differs. */
static void show_status(const char *status, const char *state) {
    printf("  status            %s", text(state));
    if (status && state && strcmp(status, state))
        printf(" (stored as %s; its writer is gone)", status);
    putchar('\n');
}

static void show_writer(res_opt_int pid, const char *host, res_run_writer writer,
                        const char *heartbeat_at) {
    if (!pid.set) return;
    static const char *const seen[] = {"alive", "gone", "cannot be checked from here"};
    printf("  writer            pid %lld on %s, %s; last wrote %s\n", (long long)pid.value,
           text(host), seen[writer], text(heartbeat_at));
}

/* The stored command line as a shell line, and the argv array it is stored
** as (what re-runs it) when it is one. */
static void show_command_line(const char *stored) {
    char *line = cli_command_display(stored);
    printf("  command line      %s\n", line ? line : text(stored));
    if (stored && stored[0] == '[') printf("  argv (JSON)       %s\n", stored);
    free(line);
}

static void show_run(uint64_t run_id, const res_run_row *run) {
    printf("run %llu\n", (unsigned long long)run_id);
    printf("  scenario          %s (version %lld)\n", text(run->scenario_id),
           (long long)run->scenario_version);
    printf("  scenario file     %s\n", text(run->scenario_file));
    printf("  policy            %s\n", text(run->policy));
    printf("  seed              %llu\n", (unsigned long long)run->seed);
    printf("  iterations        %lld\n", (long long)run->iterations);
    printf("  harness           %s\n", text(run->harness_version));
    show_command_line(run->command_line);
    printf("  created           %s\n", text(run->created_at));
    printf("  finished          %s\n", text(run->finished_at));
    show_status(run->status, run->state);
    show_writer(run->writer_pid, run->writer_host, run->writer, run->heartbeat_at);
    if (run->experiment_id.set)
        printf("  experiment        %lld\n", (long long)run->experiment_id.value);
    if (run->arm) printf("  arm               %s\n", run->arm);
    if (run->parameters) printf("  parameters        %s\n", run->parameters);
}

/* The events an iteration stored: "all", their count, or "-" (unknown,
** before schema version 8).  In a static buffer. */
static const char *stored_text(const res_iteration_row *it) {
    static char buf[32];
    if (!it->events_stored.set) return "-";
    if (it->event_count.set && it->events_stored.value == it->event_count.value) return "all";
    snprintf(buf, sizeof buf, "%lld", (long long)it->events_stored.value);
    return buf;
}

static bool show_iterations(res_store_reader *r, int64_t run_id, res_error *err) {
    res_store_cursor *c = NULL;
    if (res_store_reader_iterations(r, run_id, &c, err) != RES_OK) return false;
    printf("\n%9s  %-14s  %10s  %11s  %14s  %15s  %8s  %8s  %-16s\n", "iteration", "status",
           "wall_s", "task_leases", "request_leases", "request_waiters", "events", "stored",
           "output_hash");
    res_iteration_row it;
    res_cursor_step rc;
    while ((rc = res_store_cursor_next_iteration(c, &it, err)) == RES_CURSOR_ROW)
        printf("%9lld  %-14s  %10.3f  %11lld  %14lld  %15lld  %8lld  %8s  %-16s\n",
               (long long)it.iteration, text(it.status), it.wall_time_seconds,
               (long long)it.final_task_leases, (long long)it.final_request_leases,
               (long long)it.final_request_waiters, (long long)it.event_count.value,
               stored_text(&it), text(it.output_hash));
    res_store_cursor_close(c);
    return rc == RES_CURSOR_DONE;
}

static bool show_metrics(res_store_reader *r, int64_t run_id, res_error *err) {
    res_store_cursor *c = NULL;
    if (res_store_reader_metric_stats(r, run_id, &c, err) != RES_OK) return false;
    printf("\n%-44s  %-34s  %14s  %14s  %14s  %5s\n", "scope", "metric", "mean", "min", "max", "n");
    res_metric_stats_row m;
    res_cursor_step rc;
    while ((rc = res_store_cursor_next_metric_stats(c, &m, err)) == RES_CURSOR_ROW)
        printf("%-44.44s  %-34s  %14.6g  %14.6g  %14.6g  %5lld\n", text(m.scope), text(m.name),
               m.mean, m.min, m.max, (long long)m.count);
    res_store_cursor_close(c);
    return rc == RES_CURSOR_DONE;
}

int cmd_show(int argc, char **argv) {
    const char *db = cli_db_default();
    int rc = parse_db("show", argc, argv, &db, show_usage, 1, 1);
    if (rc >= 0) return rc;
    uint64_t run_id;
    if (!cli_parse_u64("show", "RUN", argv[optind], INT64_MAX, &run_id)) return EXIT_USAGE;
    res_store_reader *r = open_reader("show", db);
    if (!r) return EXIT_FAILURE_RUN;
    res_run_row run;
    res_error err;
    res_status found = res_store_reader_run(r, (int64_t)run_id, &run, &err);
    if (found == RES_ENOTFOUND)
        fprintf(stderr, "admitsim show: %s: no run %llu (see 'admitsim runs')\n", db,
                (unsigned long long)run_id);
    rc = EXIT_FAILURE_RUN;
    if (found == RES_OK) {
        show_run(run_id, &run);
        if (show_iterations(r, (int64_t)run_id, &err) && show_metrics(r, (int64_t)run_id, &err))
            rc = EXIT_OK;
    }
    if (found != RES_ENOTFOUND && rc != EXIT_OK)
        fprintf(stderr, "admitsim show: %s\n", err.message);
    res_store_reader_close(r);
    return rc;
}

/* "baseline vs candidate" of an A/B experiment, "<n> points" of a sweep,
** "<n> probes" of a search. */
static void experiment_arms(const res_experiment_row *e, char *buf, size_t len) {
    bool search = e->kind && !strcmp(e->kind, "search");
    if (search || (e->kind && !strcmp(e->kind, "sweep")))
        snprintf(buf, len, "%lld %s%s", (long long)e->arms, search ? "probe" : "point",
                 e->arms == 1 ? "" : "s");
    else
        snprintf(buf, len, "%s vs %s", text(e->baseline_arm), text(e->candidate_arm));
}

static int list_experiments(res_store_reader *r) {
    res_store_cursor *c = NULL;
    res_error err;
    if (res_store_reader_experiments(r, &c, &err) != RES_OK) {
        fprintf(stderr, "admitsim experiments: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    printf("%6s  %-20s  %-5s  %-32s  %-32s  %6s  %6s  %s\n", "id", "created", "kind", "scenario",
           "arms", "seeds", "runs", "status");
    res_experiment_row e;
    res_cursor_step step;
    while ((step = res_store_cursor_next_experiment(c, &e, &err)) == RES_CURSOR_ROW) {
        char arms[256];
        experiment_arms(&e, arms, sizeof arms);
        printf("%6lld  %-20s  %-5s  %-32.32s  %-32.32s  %6lld  %6lld  %s\n",
               (long long)e.experiment_id, text(e.created_at), text(e.kind), text(e.scenario_id),
               arms, (long long)e.seeds, (long long)e.runs, text(e.state));
    }
    res_store_cursor_close(c);
    if (step == RES_CURSOR_DONE) return EXIT_OK;
    fprintf(stderr, "admitsim experiments: %s\n", err.message);
    return EXIT_FAILURE_RUN;
}

static void show_experiment(const res_experiment_row *e) {
    char arms[256];
    experiment_arms(e, arms, sizeof arms);
    printf("experiment %lld\n", (long long)e->experiment_id);
    printf("  kind              %s\n", text(e->kind));
    printf("  name              %s\n", text(e->name));
    printf("  scenario          %s\n", text(e->scenario_id));
    printf("  scenario file     %s\n", text(e->scenario_file));
    printf("  arms              %s\n", arms);
    printf("  seeds             %lld\n", (long long)e->seeds);
    printf("  runs              %lld stored, %lld complete\n", (long long)e->runs,
           (long long)e->runs_complete);
    printf("  harness           %s\n", text(e->harness_version));
    show_command_line(e->command_line);
    printf("  created           %s\n", text(e->created_at));
    printf("  finished          %s\n", text(e->finished_at));
    show_status(e->status, e->state);
    show_writer(e->writer_pid, e->writer_host, e->writer, e->heartbeat_at);
    printf("  result            %s\n", text(e->result_json));
}

static bool show_experiment_runs(res_store_reader *r, int64_t id, res_error *err) {
    res_store_cursor *c = NULL;
    if (res_store_reader_experiment_runs(r, id, &c, err) != RES_OK) return false;
    printf("\n%6s  %-24s  %10s  %11s  %-9s  %s\n", "run", "arm", "seed", "iterations", "status",
           "parameters");
    res_experiment_run_row run;
    res_cursor_step step;
    while ((step = res_store_cursor_next_experiment_run(c, &run, err)) == RES_CURSOR_ROW) {
        char iters[64];
        snprintf(iters, sizeof iters, "%lld/%lld", (long long)run.iterations_stored,
                 (long long)run.iterations);
        printf("%6lld  %-24s  %10llu  %11s  %-9s  %s\n", (long long)run.run_id, text(run.arm),
               (unsigned long long)run.seed, iters, text(run.state), text(run.parameters));
    }
    res_store_cursor_close(c);
    return step == RES_CURSOR_DONE;
}

int cmd_experiments(int argc, char **argv) {
    const char *db = cli_db_default();
    int rc = parse_db("experiments", argc, argv, &db, experiments_usage, 0, 1);
    if (rc >= 0) return rc;
    uint64_t id = 0;
    bool one = optind < argc;
    if (one && !cli_parse_u64("experiments", "EXPERIMENT", argv[optind], INT64_MAX, &id))
        return EXIT_USAGE;
    res_store_reader *r = open_reader("experiments", db);
    if (!r) return EXIT_FAILURE_RUN;
    if (!one) {
        rc = list_experiments(r);
        res_store_reader_close(r);
        return rc;
    }
    res_experiment_row e;
    res_error err;
    res_status found = res_store_reader_experiment(r, (int64_t)id, &e, &err);
    rc = EXIT_FAILURE_RUN;
    if (found == RES_ENOTFOUND)
        fprintf(stderr, "admitsim experiments: %s (see 'admitsim experiments')\n", err.message);
    else if (found == RES_OK) {
        show_experiment(&e);
        if (show_experiment_runs(r, (int64_t)id, &err)) rc = EXIT_OK;
    }
    if (found != RES_ENOTFOUND && rc != EXIT_OK)
        fprintf(stderr, "admitsim experiments: %s\n", err.message);
    res_store_reader_close(r);
    return rc;
}

int cmd_migrate(int argc, char **argv) {
    const char *db = cli_db_default();
    int rc = parse_db("migrate", argc, argv, &db, migrate_usage, 0, 0);
    if (rc >= 0) return rc;
    res_error err;
    res_store *s = NULL;
    if (res_store_open(db, RES_STORE_OPEN_EXISTING, &s, &err) != RES_OK) {
        fprintf(stderr, "admitsim migrate: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    int from = res_store_found_version(s), to = res_store_schema_version(s);
    if (from == to)
        printf("%s: schema version %d, nothing to migrate\n", db, to);
    else
        printf("%s: schema version %d -> %d\n", db, from, to);
    res_store_close(s);
    return EXIT_OK;
}
