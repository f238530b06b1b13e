/*
** Shared statistics rules (res/stats.h).
*/
#include "res/stats.h"

#include <math.h>
#include <stdlib.h>

size_t res_quantile_index(size_t n, double q) {
    if (n == 0) return 0;
    double at = nearbyint((double)(n - 1) * q); /* default rounding mode: half to even */
    return at < 0 ? 0 : (size_t)at >= n ? n - 1 : (size_t)at;
}

int res_cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int res_cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void res_sort_i64(int64_t *v, size_t n) {
    if (n > 1) qsort(v, n, sizeof *v, res_cmp_i64);
}

void res_sort_u64(uint64_t *v, size_t n) {
    if (n > 1) qsort(v, n, sizeof *v, res_cmp_u64);
}
