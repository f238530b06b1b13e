/*
** Spill files (res/spill.h): records come back in the order written,
** across buffer boundaries and after a second rewind; nothing is left in
** the directory; a directory that cannot hold the file says why; errors
** stick.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <unistd.h>

#include <cmocka.h>

#include "res/spill.h"

enum { RECORD = 184 }; /* a res_view_row's size: not a divisor of the buffer */

static void record_of(uint64_t i, unsigned char *r) {
    for (size_t k = 0; k < RECORD; k++)
        r[k] = (unsigned char)(i * 31 + k);
    memcpy(r, &i, sizeof i);
}

static size_t entries(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void test_round_trip_twice(void **state) {
    (void)state;
    char dir[] = "/tmp/admitsim-spill-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("TMPDIR", dir, 1);
    res_spill *s = res_spill_create(RECORD);
    assert_non_null(s);
    assert_int_equal(entries(dir), 0); /* unlinked at once */
    const uint64_t n = 3 * RES_SPILL_BUFFER / RECORD + 7;
    unsigned char want[RECORD], got[RECORD];
    for (uint64_t i = 0; i < n; i++) {
        record_of(i, want);
        assert_true(res_spill_append(s, want));
    }
    assert_int_equal(res_spill_count(s), n);
    for (int pass = 0; pass < 2; pass++) {
        assert_true(res_spill_rewind(s));
        for (uint64_t i = 0; i < n; i++) {
            assert_true(res_spill_next(s, got));
            record_of(i, want);
            assert_memory_equal(got, want, RECORD);
        }
        assert_false(res_spill_next(s, got)); /* the end, not an error */
        assert_null(res_spill_error(s));
    }
    assert_false(res_spill_append(s, want)); /* read: no more appends */
    res_spill_free(s);
    unsetenv("TMPDIR");
    assert_int_equal(rmdir(dir), 0);
}

static void test_empty_and_tiny(void **state) {
    (void)state;
    res_spill *s = res_spill_create(1);
    assert_non_null(s);
    unsigned char c = 0;
    assert_true(res_spill_rewind(s));
    assert_false(res_spill_next(s, &c));
    assert_null(res_spill_error(s));
    res_spill_free(s);
    assert_null(res_spill_create(0));
    assert_int_equal(errno, EINVAL);
    assert_null(res_spill_create(RES_SPILL_BUFFER + 1));
    res_spill_free(NULL);
}

static void test_unusable_directory(void **state) {
    (void)state;
    setenv("TMPDIR", "/nonexistent-admitsim-dir", 1);
    errno = 0;
    assert_null(res_spill_create(RECORD));
    assert_int_equal(errno, ENOENT);
    unsetenv("TMPDIR");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_twice),
        cmocka_unit_test(test_empty_and_tiny),
        cmocka_unit_test(test_unusable_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
