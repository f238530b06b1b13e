/* Which scenario a command line names (cli.h): "-" is standard input, a
** path that exists is that file, and a bare name (no '/', ".json"
** optional) is a shipped scenario, found from any directory -- in the
** source tree this admitsim was built from while it is there, else under
** the data directory it was installed with (DATADIR/admitsim/scenarios),
** the order `check` finds its gates file in.  Every command that takes a
** SCENARIO resolves it here: run and the others that read it once through
** cli_scenario_load, ab and suite (which read the file by path) through
** cli_scenario_file; suite's default --scenarios is cli_scenario_dir. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sim/scenario.h"

#ifndef ADMIT_SCENARIOS_DIR
#define ADMIT_SCENARIOS_DIR "scenarios"
#endif
#ifndef ADMIT_SCENARIOS_INSTALLED
#define ADMIT_SCENARIOS_INSTALLED ADMIT_SCENARIOS_DIR
#endif
#ifndef ADMIT_SCENARIOS_FROM_BIN
#define ADMIT_SCENARIOS_FROM_BIN "../share/admitsim/scenarios"
#endif

/* The installed scenarios beside this executable: DATADIR/admitsim/scenarios
** relative to BINDIR, so an installed tree moved elsewhere (cmake --install
** --prefix DIR) still finds its own; NULL when /proc/self/exe is not there. */
static const char *scenarios_beside_exe(void) {
    static char dir[4096];
    return cli_beside_self(ADMIT_SCENARIOS_FROM_BIN, dir, sizeof dir) ? dir : NULL;
}

/* Where shipped scenarios are looked for, in order: the source tree's,
** the installed tree's beside this executable, the configured install's. */
static int scenario_dirs(const char *dirs[3]) {
    int n = 0;
    dirs[n++] = ADMIT_SCENARIOS_DIR;
    const char *beside = scenarios_beside_exe();
    if (beside) dirs[n++] = beside;
    dirs[n++] = ADMIT_SCENARIOS_INSTALLED;
    return n;
}

const char *cli_scenario_dir(void) {
    const char *dirs[3];
    int n = scenario_dirs(dirs);
    for (int i = 0; i < n; i++)
        if (access(dirs[i], R_OK | X_OK) == 0) return dirs[i];
    return ADMIT_SCENARIOS_INSTALLED;
}

const char *cli_scenario_path(const char *arg, char *buf, size_t len) {
    if (!strcmp(arg, "-") || strchr(arg, '/') || access(arg, F_OK) == 0) return arg;
    size_t n = strlen(arg);
    bool has_ext = n > 5 && !strcmp(arg + n - 5, ".json");
    const char *dirs[3];
    int nd = scenario_dirs(dirs);
    for (int i = 0; i < nd; i++) {
        int k = snprintf(buf, len, "%s/%s%s", dirs[i], arg, has_ext ? "" : ".json");
        if (k > 0 && (size_t)k < len && access(buf, F_OK) == 0) return buf;
    }
    return arg; /* the loader says it cannot be read */
}

/* Standard input, whole (at most RUN_MAX_FILE_BYTES); NULL with the
** reason in err. */
static char *read_stdin(sim_error *err) {
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    while (text) {
        if (n > RUN_MAX_FILE_BYTES) {
            snprintf(err->message, sizeof err->message,
                     "-: standard input holds more than %d bytes", RUN_MAX_FILE_BYTES);
            free(text);
            return NULL;
        }
        if (n + 1 == cap) {
            char *more = realloc(text, cap * 2);
            if (!more) break;
            text = more;
            cap *= 2;
        }
        size_t got = fread(text + n, 1, cap - 1 - n, stdin);
        n += got;
        if (got) continue;
        if (ferror(stdin)) {
            snprintf(err->message, sizeof err->message, "-: cannot read standard input: %s",
                     strerror(errno));
            free(text);
            return NULL;
        }
        text[n] = '\0';
        return text;
    }
    free(text);
    snprintf(err->message, sizeof err->message, "-: out of memory reading standard input");
    return NULL;
}

/* A bare name that is neither a file nor a shipped scenario: the message
** says so, names the shipped scenario it is nearest to, and where they are. */
static void unknown_scenario(const char *arg, sim_error *err) {
    const char *dir = cli_scenario_dir();
    static char names[64][128];
    const char *list[64];
    size_t n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *de; d && n < 64 && (de = readdir(d)) != NULL;) {
        size_t len = strlen(de->d_name);
        if (len > 5 && len < 128 && !strcmp(de->d_name + len - 5, ".json")) {
            snprintf(names[n], sizeof names[n], "%.*s", (int)(len - 5), de->d_name);
            list[n] = names[n];
            n++;
        }
    }
    if (d) closedir(d);
    const char *near = cli_nearest(arg, list, n);
    err->code = SIM_EIO;
    snprintf(err->message, sizeof err->message,
             "%s: no such file, nor a shipped scenario (%s%s%sthey are in %s)", arg,
             near ? "did you mean '" : "", near ? near : "", near ? "'? " : "", dir);
}

const char *cli_scenario_file(const char *arg, char *buf, size_t len, sim_error *err) {
    const char *path = cli_scenario_path(arg, buf, len);
    if (path != arg || !strcmp(arg, "-") || strchr(arg, '/') || access(arg, F_OK) == 0) return path;
    unknown_scenario(arg, err);
    return NULL;
}

bool cli_scenario_is_file_arg(const char *cmd, const char *arg) {
    if (strcmp(arg, "-") != 0) return true;
    cli_usage_error(cmd,
                    "SCENARIO '-' (standard input) is for run only: %s reads the scenario's "
                    "file once per run and records its path; save it to a file and name that",
                    cmd);
    return false;
}

sim_scenario *cli_scenario_load(const char *arg, const char *arm, sim_error *err) {
    char buf[4096];
    if (strcmp(arg, "-") != 0) {
        const char *path = cli_scenario_file(arg, buf, sizeof buf, err);
        return path ? sim_scenario_load_arm(path, arm, err) : NULL;
    }
    char *text = read_stdin(err);
    sim_scenario *sc = text ? sim_scenario_parse_arm(text, "-", arm, err) : NULL;
    free(text);
    return sc;
}

bool cli_scenario_traces(json_t *v, bool (*visit)(void *ctx, json_t *holder, const char *file),
                         void *ctx) {
    size_t i;
    const char *key;
    json_t *item;
    if (json_is_array(v)) {
        json_array_foreach(v, i, item) if (!cli_scenario_traces(item, visit, ctx)) return false;
        return true;
    }
    if (!json_is_object(v)) return true;
    const char *dist = json_string_value(json_object_get(v, "dist"));
    const char *file = json_string_value(json_object_get(v, "file"));
    if (dist && file && !strcmp(dist, "empirical") && !visit(ctx, v, file)) return false;
    json_object_foreach(v, key, item) if (!cli_scenario_traces(item, visit, ctx)) return false;
    return true;
}
