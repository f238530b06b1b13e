/* `admitsim merge DEST SOURCE...`: folds results databases (a sweep's
** shards, say) into one through res_store_merge, idempotently; refuses
** databases of mixed schema versions before anything is written. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "res/store.h"
#include "res/store_reader.h"

static void merge_usage(FILE *f) {
    fprintf(f,
            "usage: admitsim merge DEST SOURCE [SOURCE ...] [options]\n"
            "\n"
            "Folds the results databases SOURCE (a sweep's shards, say) into DEST (created\n"
            "when missing): every run of each, with its iterations, events, metrics,\n"
            "snapshots, task timelines and capacity plans, under new run ids, one\n"
            "transaction per run.  Merging is idempotent: a run DEST already holds (merged\n"
            "before, through any store, or first written in DEST) is skipped, so merging\n"
            "the same shards again adds nothing.  Every database must be at this build's\n"
            "schema version (%d); databases of mixed versions are refused before anything\n"
            "is written ('admitsim migrate --db FILE' upgrades an older one), and so is a\n"
            "SOURCE with a run still running.\n"
            "\n"
            "options:\n"
            "  --experiment N   the merged runs belong to DEST's experiment N (default: none)\n"
            "  -h, --help       this text\n"
            "\n"
            "exit codes: 0 ok, 1 a database missing, unreadable, of another version or still\n"
            "being written, or a write failed, 2 usage error\n",
            RES_STORE_SCHEMA_VERSION);
}

/* The schema version of the database at path, read-only; false with the
** reason on stderr. */
static bool version_of(const char *path, int *version) {
    res_store_reader *r = NULL;
    res_error err;
    if (res_store_reader_open(path, &r, &err) != RES_OK) {
        fprintf(stderr, "admitsim merge: %s\n", err.message);
        return false;
    }
    *version = res_store_reader_schema_version(r);
    res_store_reader_close(r);
    return true;
}

/* The databases' schema versions differ, or are not this build's: said on
** stderr with each path and version (count of them in paths/versions). */
static void versions_refused(const char **paths, const int *versions, int count, bool mixed) {
    if (mixed)
        fprintf(stderr, "admitsim merge: the databases have mixed schema versions:");
    else
        fprintf(stderr, "admitsim merge: the databases are at schema version %d:", versions[0]);
    for (int i = 0; i < count; i++)
        fprintf(stderr, "%s %s (version %d)", i ? "," : "", paths[i], versions[i]);
    fprintf(stderr,
            "; merging needs them all at version %d: upgrade the older ones first with "
            "'admitsim migrate --db FILE'\n",
            RES_STORE_SCHEMA_VERSION);
}

/* Every database at one schema version, this build's: else the reason on
** stderr.  dest counts when it exists.  The paths and versions are on the
** heap: n is bounded by the command line only. */
static bool same_versions(const char *dest, char **sources, int n) {
    int *versions = malloc(((size_t)n + 1) * sizeof *versions);
    const char **paths = malloc(((size_t)n + 1) * sizeof *paths);
    int count = 0;
    bool ok = versions && paths;
    if (!ok) fprintf(stderr, "admitsim merge: out of memory\n");
    struct stat st;
    if (ok && stat(dest, &st) == 0) {
        paths[count] = dest;
        ok = version_of(dest, &versions[count++]);
    }
    for (int i = 0; ok && i < n; i++) {
        paths[count] = sources[i];
        ok = version_of(sources[i], &versions[count++]);
    }
    bool mixed = false;
    for (int i = 1; ok && i < count; i++)
        mixed = mixed || versions[i] != versions[0];
    if (ok && (mixed || (count > 0 && versions[0] != RES_STORE_SCHEMA_VERSION))) {
        versions_refused(paths, versions, count, mixed);
        ok = false;
    }
    free(versions);
    free(paths);
    return ok;
}

static int merge_all(const char *dest, char **sources, int n, int64_t experiment_id) {
    res_error err;
    res_store *s = NULL;
    if (res_store_open(dest, RES_STORE_OPEN_CREATE, &s, &err) != RES_OK) {
        fprintf(stderr, "admitsim merge: %s\n", err.message);
        return EXIT_FAILURE_RUN;
    }
    int rc = EXIT_OK;
    uint64_t runs = 0, skipped = 0;
    for (int i = 0; i < n && rc == EXIT_OK; i++) {
        res_store_merge_result out;
        res_status st = res_store_merge(s, sources[i], experiment_id, &out, &err);
        if (out.runs)
            printf("%s: %llu run%s merged as runs %lld-%lld", sources[i],
                   (unsigned long long)out.runs, out.runs == 1 ? "" : "s",
                   (long long)out.first_run_id, (long long)out.last_run_id);
        else
            printf("%s: no run merged", sources[i]);
        printf(out.skipped ? ", %llu already in %s\n" : "\n", (unsigned long long)out.skipped,
               dest);
        runs += out.runs;
        skipped += out.skipped;
        if (st != RES_OK) {
            fprintf(stderr, "admitsim merge: %s\n", err.message);
            rc = EXIT_FAILURE_RUN;
        }
    }
    printf("%s: %llu run%s merged, %llu already there\n", dest, (unsigned long long)runs,
           runs == 1 ? "" : "s", (unsigned long long)skipped);
    res_store_close(s);
    return rc;
}

int cmd_merge(int argc, char **argv) {
    static const struct option opts[] = {
        {"experiment", required_argument, 0, 'e'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    uint64_t experiment_id = 0;
    optind = 1;
    int ch;
    while ((ch = cli_getopt("merge", argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 'e':
            if (!cli_parse_u64("merge", "--experiment", optarg, INT64_MAX, &experiment_id))
                return EXIT_USAGE;
            break;
        case 'h': merge_usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (argc - optind < 2)
        return cli_usage_error("merge", "expected DEST and at least one SOURCE database");
    const char *dest = argv[optind];
    char **sources = argv + optind + 1;
    int n = argc - optind - 1;
    for (int i = optind; i < argc; i++)
        if (!cli_db_name_ok("merge", i == optind ? "DEST" : "SOURCE", argv[i])) return EXIT_USAGE;
    if (!same_versions(dest, sources, n)) return EXIT_FAILURE_RUN;
    return merge_all(dest, sources, n, (int64_t)experiment_id);
}
