/* The command-line mistakes of every admitsim command, said the same way
** (cli.h): one line naming the command and what is wrong, a suggestion
** when a word is one or two edits from a known one, and a one-line hint
** where the help is -- never the whole usage text. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "res/error.h"

const char *cli_nearest(const char *word, const char *const *names, size_t n) {
    return res_nearest(word, names, n); /* one helper for every "did you mean" */
}

/* whether this process printed the hint: main adds it to a usage error
** that came without one (a bad option value says only what was wrong) */
static bool hinted;

bool cli_hint_given(void) {
    return hinted;
}

void cli_hint(const char *cmd) {
    hinted = true;
    if (cmd)
        fprintf(stderr, "see 'admitsim %s --help'\n", cmd);
    else
        fprintf(stderr, "see 'admitsim help'\n");
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    fprintf(stderr, "admitsim %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cli_hint(cmd);
    return EXIT_USAGE;
}

/* The long options of opts whose names start with the first len bytes of
** word, as "'--a', '--b'" into buf; how many there are. */
static int prefix_matches(const struct option *opts, const char *word, size_t len, char *buf,
                          size_t buflen) {
    int n = 0;
    size_t used = 0;
    buf[0] = '\0';
    for (const struct option *o = opts; o->name; o++)
        if (strncmp(o->name, word, len) == 0 && used < buflen) {
            used += (size_t)snprintf(buf + used, buflen - used, "%s'--%s'", n ? ", " : "", o->name);
            n++;
        }
    return n;
}

/* The message for the option getopt_long could not take (argv[optind-1]). */
static void bad_option(const char *cmd, char kind, const char *arg, const struct option *opts) {
    if (kind == ':') {
        cli_usage_error(cmd, "option '%s' needs a value", arg);
        return;
    }
    if (strncmp(arg, "--", 2) != 0) {
        cli_usage_error(cmd, "unknown option '%s'", arg);
        return;
    }
    const char *word = arg + 2;
    size_t len = strcspn(word, "=");
    char name[128], matches[512];
    snprintf(name, sizeof name, "%.*s", (int)(len < 100 ? len : 100), word);
    for (const struct option *o = opts; o->name; o++)
        if (strcmp(o->name, name) == 0 && o->has_arg == no_argument && word[len] == '=') {
            cli_usage_error(cmd, "option '--%s' takes no value", name);
            return;
        }
    if (prefix_matches(opts, word, len, matches, sizeof matches) > 1) {
        cli_usage_error(cmd, "option '--%s' is ambiguous: %s", name, matches);
        return;
    }
    const char *names[64];
    size_t n = 0;
    for (const struct option *o = opts; o->name && n < 64; o++)
        names[n++] = o->name;
    const char *near = cli_nearest(name, names, n);
    if (near)
        cli_usage_error(cmd, "unknown option '--%s' (did you mean '--%s'?)", name, near);
    else
        cli_usage_error(cmd, "unknown option '--%s'", name);
}

bool cli_db_name_ok(const char *cmd, const char *what, const char *path) {
    if (*path && strcmp(path, ":memory:") != 0) return true;
    cli_usage_error(cmd,
                    "%s '%s' names no database file: SQLite would keep the results in %s and "
                    "lose them when the command ends; name a file (e.g. %s)",
                    what, path, *path ? "memory" : "a temporary file", RES_STORE_DEFAULT_PATH);
    return false;
}

bool cli_out_ok(const char *cmd, const char *path) {
    if (*path) return true;
    cli_usage_error(cmd, "--out expects a path, got ''");
    return false;
}

/* Whether the value of the long option o can never be right, whatever the
** command (said so): an empty --out, and a --db or --baseline-db naming no
** database file (cli_db_name_ok). */
static bool bad_value(const char *cmd, const struct option *o, const char *value) {
    if (!value) return false;
    if (!strcmp(o->name, "out")) return !cli_out_ok(cmd, value);
    if (!strcmp(o->name, "db") || !strcmp(o->name, "baseline-db")) {
        char what[32];
        snprintf(what, sizeof what, "--%s", o->name);
        return !cli_db_name_ok(cmd, what, value);
    }
    return false;
}

/* $ADMITSIM_DB as main saw it (cli_db_env_defer), else NULL; and whether
** this parse has met an option that names the database or keeps none
** (--db, --no-db), so that the environment's value is not used. */
static const char *env_db;
static bool db_named;

void cli_db_env_defer(const char *env) {
    env_db = env;
    db_named = false;
}

/* Whether ch, returned by getopt_long, is the value of --db or --no-db. */
static bool names_db(int ch, const struct option *opts) {
    for (const struct option *o = opts; o->name; o++)
        if (!o->flag && o->val == ch && (!strcmp(o->name, "db") || !strcmp(o->name, "no-db")))
            return true;
    return false;
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *opts) {
    char spec[64];
    snprintf(spec, sizeof spec, ":%s", shortopts); /* ':' -> a missing value is ':' */
    opterr = 0;
    int index = -1;
    int ch = getopt_long(argc, argv, spec, opts, &index);
    if (ch == -1 && env_db && !db_named && !cli_db_name_ok(cmd, "ADMITSIM_DB", env_db)) return '?';
    if (ch != '?' && ch != ':') {
        db_named = db_named || names_db(ch, opts);
        return index >= 0 && bad_value(cmd, &opts[index], optarg) ? '?' : ch;
    }
    /* argv[optind-1] is the word getopt stopped at, unless a short option
    ** was refused inside a cluster (-xh): then name the letter */
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    char shortarg[3] = {'-', (char)optopt, '\0'};
    if (optopt && strncmp(arg, "--", 2) != 0) arg = shortarg;
    bad_option(cmd, (char)ch, arg, opts);
    return '?';
}
