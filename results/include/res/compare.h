/*
** Statistics of an experiment: the spread of one arm's figures over seeds,
** and the paired comparison of two arms (SPEC §10).
**
** Spread: n, mean, sample standard deviation (n - 1; 0 when n = 1), p50 and
** p95 (res/stats.h: index round((n-1) q), half to even, of the sorted
** values), min and max.
**
** Paired comparison, candidate against baseline, seed by seed: d_i =
** candidate_i - baseline_i; mean(d); its 95% confidence interval mean(d)
** +/- t(0.975, n-1) sd(d) / sqrt(n), with Student's t quantile from GSL;
** relative = mean(d) / mean(baseline) (NaN when that mean is 0).  When
** every pair is equal (d_i = 0) the verdict is `identical`.  Otherwise the
** verdict follows the metric's direction: `no_difference` when the interval
** contains 0, else `better` or `worse`.  A deterministic comparison (two
** or more seeds, every one giving the same figure in each arm, so sd(d) =
** 0) has no interval: its
** verdict is `identical`, `better` or `worse` by the sign of the one
** difference.  With fewer than two pairs and differing figures there is no
** interval either: `undetermined`.  A claim survives trimming when the sign
** of mean(d) is unchanged after dropping the pair with the largest d and the
** pair with the smallest (needs n >= 3; a deterministic claim always
** survives; `no_difference` and `undetermined` never claim anything).
*/
#ifndef RES_COMPARE_H
#define RES_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which way is better for a metric. */
typedef enum res_direction {
    RES_LOWER_IS_BETTER = -1, /* times, waits, counts of trouble */
    RES_NO_DIRECTION = 0,     /* informational: no verdict */
    RES_HIGHER_IS_BETTER = 1  /* throughput, utilisation, fairness */
} res_direction;

typedef struct res_spread {
    size_t n;
    double mean, stddev, p50, p95, min, max;
} res_spread;

typedef enum res_verdict {
    RES_VERDICT_NO_DIFFERENCE = 0,
    RES_VERDICT_BETTER,
    RES_VERDICT_WORSE,
    RES_VERDICT_IDENTICAL,   /* deterministic and equal */
    RES_VERDICT_UNDETERMINED /* fewer than two pairs, or no direction */
} res_verdict;

typedef struct res_paired {
    size_t n;
    bool deterministic;
    double mean;      /* of candidate - baseline */
    double stddev;    /* of the differences */
    double ci95_low;  /* NaN when there is no interval */
    double ci95_high; /* NaN when there is no interval */
    double relative;  /* mean / mean(baseline); NaN when mean(baseline) is 0 */
    res_verdict verdict;
    bool survives_trimming;
} res_paired;

/* v is not modified; n may be 0 (everything 0, n 0). */
void res_spread_of(const double *v, size_t n, res_spread *out);

/* base[i] and cand[i] come from seed i. */
void res_paired_compare(const double *base, const double *cand, size_t n, res_direction dir,
                        res_paired *out);

/* t(0.975, dof): the two-sided 95% quantile of Student's t (dof >= 1). */
double res_t_quantile_975(size_t dof);

const char *res_verdict_name(res_verdict v);

#ifdef __cplusplus
}
#endif

#endif
