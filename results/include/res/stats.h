/*
** The statistics rules every report of admitsim shares.
**
** Percentile q of n sorted values is the one at index round((n-1) * q),
** rounding half to even (res_quantile_index); means are sums divided by n.
** Waits and durations are int64 nanoseconds until they are reported in
** seconds; sums of them are res_sum_ns.
*/
#ifndef RES_STATS_H
#define RES_STATS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sums over nanosecond times (waits, busy time, lease-nanoseconds): 128
** bits, so no sum of times within a run's range can overflow. */
__extension__ typedef __int128 res_sum_ns;

/* Index of the q-quantile among n sorted values (round half to even). */
size_t res_quantile_index(size_t n, double q);

/* The values at indexes k[0] <= k[1] <= ... <= k[nk - 1] (each < n) of v
** sorted ascending, into out[0 .. nk), by selection: expected O(n) for
** all of them (a sort is O(n log n)), the same elements a sort puts there.
** v is reordered.  A percentile q is the value at res_quantile_index(n, q);
** the maximum is at n - 1. */
void res_select_i64(int64_t *v, size_t n, const size_t *k, size_t nk, int64_t *out);

/* Sorts v ascending (n may be 0). */
void res_sort_i64(int64_t *v, size_t n);
void res_sort_u64(uint64_t *v, size_t n);
/* (no NaN in v: comparisons with NaN order nothing) */
void res_sort_double(double *v, size_t n);

/* qsort comparators, ascending. */
int res_cmp_i64(const void *a, const void *b);
int res_cmp_u64(const void *a, const void *b);
int res_cmp_double(const void *a, const void *b);

#ifdef __cplusplus
}
#endif

#endif
