/*
** The command line's "did you mean" (cli/cli_getopt.c): cli_nearest picks
** the name at most two edits from a word (and fewer edits than the name has
** letters), the nearest one, the first of equals; cli_getopt refuses an
** unknown option with one line naming the nearest known one and a hint,
** never the usage.
**
** Distances are worked out by hand (Levenshtein: insert, delete, replace,
** one edit each): polcy -> policy 1 (insert i); runn -> run 1 (delete n);
** sed -> seed 1, sed -> see 1 (the first listed wins); ab -> run 2 but "ab"
** has two letters, so no match by the "fewer than the name" rule applies to
** "ab"'s candidates: xy -> ab 2 = len(ab), refused.
*/
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"

static const char *const opts_names[] = {"policy", "seed",  "iterations", "out", "format",
                                         "db",     "no-db", "arm",        "help"};
enum { NNAMES = sizeof opts_names / sizeof *opts_names };

static void nearest_one_edit(void **state) {
    (void)state;
    assert_string_equal(cli_nearest("polcy", opts_names, NNAMES), "policy");
    assert_string_equal(cli_nearest("sed", opts_names, NNAMES), "seed");
    assert_string_equal(cli_nearest("iteratons", opts_names, NNAMES), "iterations");
    assert_string_equal(cli_nearest("fromat", opts_names, NNAMES), "format"); /* 2 replaces */
}

static void nearest_first_of_equals(void **state) {
    (void)state;
    const char *names[] = {"seed", "see"};
    assert_string_equal(cli_nearest("sed", names, 2), "seed");
    const char *swapped[] = {"see", "seed"};
    assert_string_equal(cli_nearest("sed", swapped, 2), "see");
}

static void nearest_refuses_far_and_short(void **state) {
    (void)state;
    assert_null(cli_nearest("frobnicate", opts_names, NNAMES));
    const char *names[] = {"ab", "run"};
    assert_null(cli_nearest("xy", names, 2));                  /* 2 edits = 2 letters of "ab" */
    assert_string_equal(cli_nearest("a", names, 2), "ab");     /* 1 edit < 2 letters */
    assert_string_equal(cli_nearest("runn", names, 2), "run"); /* 1 delete */
    assert_null(cli_nearest("word", names, 0));
}

/* cli_getopt's messages go to stderr: capture them in a file. */
static char captured[2048];

static int capture_getopt(int argc, char **argv, const struct option *opts) {
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), STDERR_FILENO);
    optind = 1;
    int ch, last = 0;
    while ((ch = cli_getopt("run", argc, argv, "h", opts)) != -1)
        last = ch;
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(captured, 1, sizeof captured - 1, tmp);
    captured[n] = '\0';
    fclose(tmp);
    return last;
}

static const struct option run_opts[] = {
    {"policy", required_argument, 0, 'p'}, {"seed", required_argument, 0, 's'},
    {"scale", required_argument, 0, 'x'},  {"no-db", no_argument, 0, 'n'},
    {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};

static void getopt_unknown_suggests(void **state) {
    (void)state;
    char *argv[] = {"run", "x.json", "--polcy", "strict", NULL};
    assert_int_equal(capture_getopt(4, argv, run_opts), '?');
    assert_string_equal(captured, "admitsim run: unknown option '--polcy' (did you mean "
                                  "'--policy'?)\nsee 'admitsim run --help'\n");
}

static void getopt_value_problems(void **state) {
    (void)state;
    char *missing[] = {"run", "x.json", "--policy", NULL};
    assert_int_equal(capture_getopt(3, missing, run_opts), '?');
    assert_string_equal(
        captured, "admitsim run: option '--policy' needs a value\nsee 'admitsim run --help'\n");
    char *extra[] = {"run", "--no-db=1", NULL};
    assert_int_equal(capture_getopt(2, extra, run_opts), '?');
    assert_string_equal(
        captured, "admitsim run: option '--no-db' takes no value\nsee 'admitsim run --help'\n");
    char *ambiguous[] = {"run", "--s", "1", NULL};
    assert_int_equal(capture_getopt(3, ambiguous, run_opts), '?');
    assert_string_equal(captured, "admitsim run: option '--s' is ambiguous: '--seed', '--scale'\n"
                                  "see 'admitsim run --help'\n");
    char *shortopt[] = {"run", "-q", NULL};
    assert_int_equal(capture_getopt(2, shortopt, run_opts), '?');
    assert_string_equal(captured, "admitsim run: unknown option '-q'\nsee 'admitsim run --help'\n");
}

static void getopt_good_line_is_silent(void **state) {
    (void)state;
    char *argv[] = {"run", "--pol", "strict", "--no-db", "x.json", NULL};
    assert_int_equal(capture_getopt(5, argv, run_opts), 'n');
    assert_string_equal(captured, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nearest_one_edit),
        cmocka_unit_test(nearest_first_of_equals),
        cmocka_unit_test(nearest_refuses_far_and_short),
        cmocka_unit_test(getopt_unknown_suggests),
        cmocka_unit_test(getopt_value_problems),
        cmocka_unit_test(getopt_good_line_is_silent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
