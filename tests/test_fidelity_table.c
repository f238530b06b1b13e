/*
** The table of `admitsim fidelity` (cli/fidelity_table.c): a figure that one
** run lacks (NaN: a limit that recovered in one run only, say) is printed
** "-" with "-" for its relative error, never nan or inf, and is null in the
** JSON rows; the row is outside the tolerance.  A metric neither run has is
** no row; figures both runs have print as numbers.
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fidelity.h"

/* The table as printed, in out (a NUL-terminated string). */
static void printed(const fid_table *t, char *out, size_t len) {
    FILE *f = tmpfile();
    assert_non_null(f);
    fid_print_rows(f, t);
    rewind(f);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = '\0';
    fclose(f);
}

/* The first five words of the row of metric name: name, simulated, live,
** rel_err, within. */
static void row_words(const char *text, const char *name, char words[5][64]) {
    const char *line = strstr(text, name);
    assert_non_null(line);
    assert_int_equal(
        sscanf(line, "%63s %63s %63s %63s %63s", words[0], words[1], words[2], words[3], words[4]),
        5);
}

static fid_table *table_with_absent_sides(void) {
    fid_table *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->tolerance = 0.05;
    assert_non_null(fid_add_row(t, "wall_time_seconds", 10.0, 10.1, 1.0));
    assert_non_null(fid_add_row(t, "request.a.limit_recovered_seconds", 7.5, NAN, 1.0));
    assert_non_null(fid_add_row(t, "request.b.limit_first_decrease_seconds", NAN, 3.0, 1.0));
    assert_null(fid_add_row(t, "request.c.limit_recovered_seconds", NAN, NAN, 1.0));
    fid_judge(t);
    return t;
}

static void absent_figure_printed_as_dash(void **state) {
    (void)state;
    fid_table *t = table_with_absent_sides();
    char text[8192], w[5][64];
    printed(t, text, sizeof text);
    assert_null(strstr(text, "nan"));
    assert_null(strstr(text, "inf"));
    assert_null(strstr(text, "request.c."));

    row_words(text, "wall_time_seconds", w);
    assert_string_equal(w[1], "10.0000");
    assert_string_equal(w[2], "10.1000");
    assert_string_equal(w[3], "1.00%");
    assert_string_equal(w[4], "yes");

    row_words(text, "request.a.limit_recovered_seconds", w);
    assert_string_equal(w[1], "7.5000");
    assert_string_equal(w[2], "-");
    assert_string_equal(w[3], "-");
    assert_string_equal(w[4], "NO");

    row_words(text, "request.b.limit_first_decrease_seconds", w);
    assert_string_equal(w[1], "-");
    assert_string_equal(w[2], "3.0000");
    assert_string_equal(w[3], "-");
    assert_string_equal(w[4], "NO");
    assert_false(t->all_within);
    free(t);
}

static void absent_figure_null_in_json(void **state) {
    (void)state;
    fid_table *t = table_with_absent_sides();
    json_t *rows = fid_rows_json(t);
    assert_int_equal(json_array_size(rows), 3);
    json_t *a = json_array_get(rows, 1), *b = json_array_get(rows, 2);
    assert_string_equal(json_string_value(json_object_get(a, "name")),
                        "request.a.limit_recovered_seconds");
    assert_true(json_real_value(json_object_get(a, "simulated")) == 7.5);
    assert_true(json_is_null(json_object_get(a, "live")));
    assert_true(json_is_null(json_object_get(a, "relative_error")));
    assert_true(json_is_false(json_object_get(a, "within")));
    assert_true(json_is_null(json_object_get(b, "simulated")));
    assert_true(json_real_value(json_object_get(b, "live")) == 3.0);
    assert_true(json_is_null(json_object_get(b, "relative_error")));
    assert_true(json_is_false(json_object_get(b, "within")));
    json_decref(rows);
    free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(absent_figure_printed_as_dash),
        cmocka_unit_test(absent_figure_null_in_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
