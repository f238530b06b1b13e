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

int res_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void res_sort_i64(int64_t *v, size_t n) {
    if (n > 1) qsort(v, n, sizeof *v, res_cmp_i64);
}

void res_sort_u64(uint64_t *v, size_t n) {
    if (n > 1) qsort(v, n, sizeof *v, res_cmp_u64);
}

void res_sort_double(double *v, size_t n) {
    if (n > 1) qsort(v, n, sizeof *v, res_cmp_double);
}

static void swap_i64(int64_t *a, int64_t *b) {
    int64_t t = *a;
    *a = *b;
    *b = t;
}

static int64_t median3(int64_t a, int64_t b, int64_t c) {
    if (a > b) swap_i64(&a, &b);
    if (b > c) b = c;
    return a > b ? a : b;
}

/* Hoare's partition of v[lo..hi] around a value x taken from it: returns j
** with v[lo..j] <= x <= v[j + 1..hi], lo <= j < hi (hi > lo). */
static size_t partition(int64_t *v, size_t lo, size_t hi) {
    int64_t x = median3(v[lo], v[lo + (hi - lo) / 2], v[hi]);
    size_t i = lo, j = hi;
    for (;;) {
        while (v[i] < x)
            i++;
        while (x < v[j])
            j--;
        if (i >= j) return j;
        swap_i64(&v[i++], &v[j--]);
    }
}

/* Places the value of sorted index k at v[k], everything in [lo, k) <= it
** and everything in (k, hi] >= it (Hoare's find; after 2 log2(n) + 16
** rounds the range left is sorted instead, which bounds the worst case). */
static void select_one(int64_t *v, size_t lo, size_t hi, size_t k) {
    unsigned rounds = 16;
    for (size_t m = hi - lo + 1; m > 1; m >>= 1)
        rounds += 2;
    while (hi > lo) {
        if (rounds-- == 0) {
            res_sort_i64(v + lo, hi - lo + 1);
            return;
        }
        size_t j = partition(v, lo, hi);
        if (k <= j)
            hi = j;
        else
            lo = j + 1;
    }
}

void res_select_i64(int64_t *v, size_t n, const size_t *k, size_t nk, int64_t *out) {
    size_t lo = 0; /* v[lo..n) holds the values of sorted indexes lo.. */
    for (size_t i = 0; i < nk; i++) {
        if (k[i] == n - 1) { /* the maximum: one scan */
            int64_t max = v[lo];
            for (size_t j = lo + 1; j < n; j++)
                if (v[j] > max) max = v[j];
            out[i] = max;
            continue;
        }
        select_one(v, lo, n - 1, k[i]);
        out[i] = v[k[i]];
        lo = k[i];
    }
}
