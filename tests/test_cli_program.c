/*
** Capturing another program's output (cli/program.c): cli_program_capture
** fails, saying so, when the output is longer than its buffer (never a cut
** output as a success); cli_program_lines hands on every line of an output
** of any length (seq: 200,000 lines, 1.3 MB), a last line without '\n' too,
** and fails on a line longer than its bound, handing on none from it on.
** Uses seq, printf and head from PATH.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "program.h"

/* The lines seen: how many, their sum as numbers, the last one. */
typedef struct seen {
    size_t lines;
    unsigned long long sum;
    char last[64];
} seen;

static void see(void *ctx, char *line) {
    seen *s = ctx;
    s->lines++;
    s->sum += strtoull(line, NULL, 10);
    snprintf(s->last, sizeof s->last, "%s", line);
}

static void find(const char *name, char *path) {
    assert_true(cli_program_find(name, path, 4096));
}

static void lines_of_any_length(void **state) {
    (void)state;
    char seq[4096], errs[256], err[256];
    find("seq", seq);
    char *argv[] = {"seq", "1", "200000", NULL};
    seen s = {0};
    assert_true(cli_program_lines(seq, argv, 64, see, &s, errs, sizeof errs, err, sizeof err));
    assert_int_equal(s.lines, 200000);
    assert_true(s.sum == 200000ULL * 200001 / 2);
    assert_string_equal(s.last, "200000");
}

static void last_line_without_newline(void **state) {
    (void)state;
    char printf_[4096], errs[256], err[256];
    find("printf", printf_);
    char *argv[] = {"printf", "7\\n\\n35", NULL};
    seen s = {0};
    assert_true(cli_program_lines(printf_, argv, 64, see, &s, errs, sizeof errs, err, sizeof err));
    assert_int_equal(s.lines, 3); /* "7", "", "35" */
    assert_true(s.sum == 42);
    assert_string_equal(s.last, "35");
}

static void line_too_long(void **state) {
    (void)state;
    char head[4096], errs[256], err[256];
    find("head", head);
    char *argv[] = {"head", "-c", "100000", "/dev/zero", NULL};
    seen s = {0};
    assert_false(cli_program_lines(head, argv, 65536, see, &s, errs, sizeof errs, err, sizeof err));
    assert_non_null(strstr(err, "head printed a line longer than 65536 bytes"));
    assert_int_equal(s.lines, 0);
    /* a line of exactly the bound is one line */
    char *exact[] = {"head", "-c", "65536", "/dev/zero", NULL};
    assert_true(cli_program_lines(head, exact, 65536, see, &s, errs, sizeof errs, err, sizeof err));
    assert_int_equal(s.lines, 1);
}

static void capture_too_long(void **state) {
    (void)state;
    char seq[4096], out[16], errs[256], err[256];
    find("seq", seq);
    char *fits[] = {"seq", "1", "7", NULL}; /* 14 bytes */
    assert_true(
        cli_program_capture(seq, fits, out, sizeof out, errs, sizeof errs, err, sizeof err));
    assert_string_equal(out, "1\n2\n3\n4\n5\n6\n7\n");
    char *over[] = {"seq", "1", "8", NULL}; /* 16 bytes */
    assert_false(
        cli_program_capture(seq, over, out, sizeof out, errs, sizeof errs, err, sizeof err));
    assert_string_equal(err, "seq printed more than 15 bytes");
    /* output dropped on purpose is no failure */
    assert_true(cli_program_capture(seq, over, NULL, 0, errs, sizeof errs, err, sizeof err));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_of_any_length),
        cmocka_unit_test(last_line_without_newline),
        cmocka_unit_test(line_too_long),
        cmocka_unit_test(capture_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
