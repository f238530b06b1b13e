/* `admitsim bench` (the scale mode), its last rows: the whole-process rate
** of `admitsim run --no-db` on the scaled scenario, from process start to
** exit (loading, simulation, summary, correlated view, output), and the
** process's peak resident set.  The scaled scenario is written to a
** temporary file; this binary runs it as a child (posix_spawn with an
** argument vector, no shell) --repeat times per policy. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "program.h"

/* Multiplies the integer at obj.key by scale, when there is one. */
static void scale_key(json_t *obj, const char *key, uint64_t scale) {
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v)) json_integer_set(v, json_integer_value(v) * (json_int_t)scale);
}

/* The scenario at path scaled as bench scales it (records, buffer size,
** column rows), written to a new temporary file named in out. */
static bool write_scaled(const char *path, uint64_t scale, char *out, size_t len) {
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        fprintf(stderr, "admitsim bench: %s: %s\n", path, jerr.text);
        return false;
    }
    scale_key(doc, "records", scale);
    scale_key(doc, "buffer_size", scale);
    size_t i;
    json_t *col;
    json_array_foreach(json_object_get(doc, "columns"), i, col) scale_key(col, "rows", scale);
    const char *dir = getenv("TMPDIR");
    snprintf(out, len, "%s/admitsim-bench-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(out);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    bool ok = f && json_dumpf(doc, f, JSON_COMPACT) == 0;
    if (f)
        ok = fclose(f) == 0 && ok;
    else if (fd >= 0)
        close(fd);
    json_decref(doc);
    if (!ok) {
        fprintf(stderr, "admitsim bench: cannot write the scaled scenario %s\n", out);
        if (fd >= 0) unlink(out);
    }
    return ok;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* repeat runs of one policy: the best and median wall seconds and the
** largest peak RSS (KiB); false when a run failed. */
static bool run_policy(const char *exe, const char *scenario, const char *policy, uint64_t seed,
                       uint64_t repeat, double *secs, long *rss_kb) {
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
    char *argv[] = {"admitsim", "run",     (char *)scenario, "--policy", (char *)policy,
                    "--seed",   seed_text, "--no-db",        "--format", "json",
                    NULL};
    *rss_kb = 0;
    for (uint64_t i = 0; i < repeat; i++) {
        struct rusage ru;
        char err[256];
        double t0 = cli_monotonic_seconds();
        if (!cli_program_run_usage(exe, argv, "/dev/null", "/dev/null", &ru, err, sizeof err)) {
            fprintf(stderr, "admitsim bench: %s\n", err);
            return false;
        }
        secs[i] = cli_monotonic_seconds() - t0;
        if (ru.ru_maxrss > *rss_kb) *rss_kb = ru.ru_maxrss;
    }
    qsort(secs, repeat, sizeof *secs, cmp_double);
    return true;
}

int bench_process(const char *scenario, uint64_t scale, uint64_t seed, uint64_t repeat,
                  uint64_t tasks) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        printf("process: not measured (no /proc/self/exe to run this binary again)\n");
        return EXIT_OK;
    }
    exe[n] = '\0';
    char tmp[4096];
    if (!write_scaled(scenario, scale, tmp, sizeof tmp)) return EXIT_FAILURE_RUN;
    double *secs = calloc(repeat, sizeof *secs);
    int rc = secs ? EXIT_OK : EXIT_FAILURE_RUN;
    printf("%-8s %-8s %12s %12s %14s %14s\n", "policy", "process", "peak_rss_MiB", "best_s",
           "best_tasks/s", "median_tasks/s");
    static const char *const policies[] = {"strict", "bounded"};
    for (int p = 0; p < 2 && rc == EXIT_OK; p++) {
        long rss;
        if (!run_policy(exe, tmp, policies[p], seed, repeat, secs, &rss)) {
            rc = EXIT_FAILURE_RUN;
            break;
        }
        printf("%-8s %-8s %12.1f %12.4f %14.0f %14.0f\n", policies[p], "run", (double)rss / 1024,
               secs[0], (double)tasks / secs[0], (double)tasks / secs[repeat / 2]);
        fflush(stdout);
    }
    free(secs);
    unlink(tmp);
    return rc;
}
