/*
** The statistics rules of res/stats.h: percentiles by selection give the
** elements a full sort puts at the same indexes, for every shape of input
** that makes selection algorithms stumble (sorted, reversed, all equal, few
** distinct values, organ pipes, random), sizes 1 to 5,000 and several
** indexes at once (repeated ones and the maximum included).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "res/stats.h"

static uint64_t rng_next(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

enum shape { RANDOM, FEW, SORTED, REVERSED, EQUAL, ORGAN, SHAPES };

static int64_t value(enum shape s, size_t i, size_t n, uint64_t *x) {
    switch (s) {
    case RANDOM: return (int64_t)(rng_next(x) >> 1) - INT64_MAX / 2;
    case FEW: return (int64_t)(rng_next(x) % 4) * 1000;
    case SORTED: return (int64_t)i;
    case REVERSED: return (int64_t)(n - i);
    case EQUAL: return 7;
    default: return (int64_t)(i < n / 2 ? i : n - i);
    }
}

static void check(enum shape s, size_t n, uint64_t *x) {
    int64_t *v = malloc(n * sizeof *v), *sorted = malloc(n * sizeof *sorted);
    assert_non_null(v);
    assert_non_null(sorted);
    for (size_t i = 0; i < n; i++)
        v[i] = sorted[i] = value(s, i, n, x);
    res_sort_i64(sorted, n);
    size_t k[6] = {0,
                   res_quantile_index(n, 0.50),
                   res_quantile_index(n, 0.50),
                   res_quantile_index(n, 0.95),
                   res_quantile_index(n, 0.99),
                   n - 1};
    int64_t out[6];
    res_select_i64(v, n, k, 6, out);
    for (int i = 0; i < 6; i++)
        assert_int_equal(out[i], sorted[k[i]]);
    res_sort_i64(v, n); /* reordered, nothing lost */
    assert_memory_equal(v, sorted, n * sizeof *v);
    free(v);
    free(sorted);
}

static void test_select_matches_sort(void **state) {
    (void)state;
    uint64_t x = 0x2545f4914f6cdd1dULL;
    static const size_t sizes[] = {1, 2, 3, 5, 16, 17, 33, 100, 257, 1000, 5000};
    for (int s = 0; s < SHAPES; s++)
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
            for (int rep = 0; rep < 4; rep++)
                check((enum shape)s, sizes[i], &x);
}

/* One index at a time, every index of small arrays. */
static void test_select_every_index(void **state) {
    (void)state;
    uint64_t x = 99;
    for (size_t n = 1; n <= 40; n++)
        for (size_t k = 0; k < n; k++) {
            int64_t v[40], sorted[40], out;
            for (size_t i = 0; i < n; i++)
                v[i] = sorted[i] = (int64_t)(rng_next(&x) % 9);
            res_sort_i64(sorted, n);
            res_select_i64(v, n, &k, 1, &out);
            assert_int_equal(out, sorted[k]);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_matches_sort),
        cmocka_unit_test(test_select_every_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
