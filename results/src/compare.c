/*
** Spread and paired comparison of experiment figures (res/compare.h).
*/
#include "res/compare.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "res/stats.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Mean and sample standard deviation, two passes (no catastrophic
** cancellation from sum of squares). */
static void mean_sd(const double *v, size_t n, double *mean, double *sd) {
    double sum = 0, var = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    *mean = n ? sum / (double)n : 0;
    for (size_t i = 0; i < n; i++)
        var += (v[i] - *mean) * (v[i] - *mean);
    *sd = n > 1 ? sqrt(var / (double)(n - 1)) : 0;
}

void res_spread_of(const double *v, size_t n, res_spread *out) {
    memset(out, 0, sizeof *out);
    out->n = n;
    if (!n) return;
    mean_sd(v, n, &out->mean, &out->stddev);
    double small[64], *s = n <= 64 ? small : malloc(n * sizeof *s);
    if (!s) { /* out of memory: the unsorted extremes still hold */
        out->p50 = out->p95 = out->min = out->max = v[0];
        for (size_t i = 0; i < n; i++) {
            if (v[i] < out->min) out->min = v[i];
            if (v[i] > out->max) out->max = v[i];
        }
        return;
    }
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    out->min = s[0];
    out->max = s[n - 1];
    out->p50 = s[res_quantile_index(n, 0.50)];
    out->p95 = s[res_quantile_index(n, 0.95)];
    if (s != small) free(s);
}

double res_t_quantile_975(size_t dof) {
    return gsl_cdf_tdist_Pinv(0.975, (double)dof);
}

static bool all_equal(const double *v, size_t n) {
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[0]) return false;
    return true;
}

static res_verdict by_sign(double d, res_direction dir) {
    if (d == 0) return RES_VERDICT_IDENTICAL;
    if (dir == RES_NO_DIRECTION) return RES_VERDICT_UNDETERMINED;
    return (d < 0) == (dir == RES_LOWER_IS_BETTER) ? RES_VERDICT_BETTER : RES_VERDICT_WORSE;
}

/* The sign of mean(d) without the largest and the smallest difference. */
static bool trimmed_sign_holds(const double *d, size_t n, double mean) {
    if (n < 3) return false;
    size_t lo = 0, hi = 0;
    for (size_t i = 1; i < n; i++) {
        if (d[i] < d[lo]) lo = i;
        if (d[i] > d[hi]) hi = i;
    }
    if (lo == hi) hi = lo == 0 ? 1 : 0; /* all equal: drop any two */
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        if (i != lo && i != hi) sum += d[i];
    double trimmed = sum / (double)(n - 2);
    return (trimmed > 0 && mean > 0) || (trimmed < 0 && mean < 0);
}

void res_paired_compare(const double *base, const double *cand, size_t n, res_direction dir,
                        res_paired *out) {
    memset(out, 0, sizeof *out);
    out->n = n;
    out->ci95_low = out->ci95_high = out->relative = NAN;
    out->verdict = RES_VERDICT_UNDETERMINED;
    if (!n) return;
    double small[64], *d = n <= 64 ? small : malloc(n * sizeof *d);
    if (!d) return;
    for (size_t i = 0; i < n; i++)
        d[i] = cand[i] - base[i];
    double base_mean, base_sd;
    mean_sd(base, n, &base_mean, &base_sd);
    mean_sd(d, n, &out->mean, &out->stddev);
    if (base_mean != 0) out->relative = out->mean / base_mean;
    /* One seed cannot show that every seed gives the same figure. */
    out->deterministic = n >= 2 && all_equal(base, n) && all_equal(cand, n);
    bool same = true; /* every pair equal: nothing to estimate */
    for (size_t i = 0; i < n && same; i++)
        same = d[i] == 0;
    if (same) {
        out->verdict = RES_VERDICT_IDENTICAL;
    } else if (out->deterministic) {
        out->verdict = by_sign(out->mean, dir);
        out->survives_trimming =
            out->verdict == RES_VERDICT_BETTER || out->verdict == RES_VERDICT_WORSE;
    } else if (n >= 2) {
        double half = res_t_quantile_975(n - 1) * out->stddev / sqrt((double)n);
        out->ci95_low = out->mean - half;
        out->ci95_high = out->mean + half;
        if (out->ci95_low <= 0 && out->ci95_high >= 0)
            out->verdict = RES_VERDICT_NO_DIFFERENCE;
        else
            out->verdict = by_sign(out->mean, dir);
        out->survives_trimming =
            (out->verdict == RES_VERDICT_BETTER || out->verdict == RES_VERDICT_WORSE) &&
            trimmed_sign_holds(d, n, out->mean);
    }
    if (d != small) free(d);
}

const char *res_verdict_name(res_verdict v) {
    static const char *const names[] = {"no_difference", "better", "worse", "identical",
                                        "undetermined"};
    return (unsigned)v <= RES_VERDICT_UNDETERMINED ? names[v] : "unknown";
}
