/* Experiment statistics (res/compare.h) against values worked out by hand;
** what an experiment (res/experiment.h) does with a metric some run lacks.
** Student's t quantiles t(0.975, dof) from tables: dof 1 12.7062047361747,
** dof 4 2.77644510519780, dof 29 2.04522964213270. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "res/compare.h"
#include "res/experiment.h"

static void near(double got, double want) {
    if (!(fabs(got - want) <= 1e-9 * (fabs(want) > 1 ? fabs(want) : 1)))
        fail_msg("got %.17g, want %.17g", got, want);
}

static void test_t_quantiles(void **state) {
    (void)state;
    near(res_t_quantile_975(1), 12.7062047361747);
    near(res_t_quantile_975(4), 2.77644510519780);
    near(res_t_quantile_975(29), 2.04522964213270);
}

/* {3, 1, 2, 5, 4}: mean 3; deviations -2..2 square to 10, / 4 = 2.5, sd
** sqrt(2.5); sorted 1 2 3 4 5: p50 at round(4 x 0.5) = 2 -> 3, p95 at
** round(3.8) = 4 -> 5. */
static void test_spread(void **state) {
    (void)state;
    double v[] = {3, 1, 2, 5, 4};
    res_spread s;
    res_spread_of(v, 5, &s);
    assert_int_equal(s.n, 5);
    near(s.mean, 3);
    near(s.stddev, sqrt(2.5));
    near(s.p50, 3);
    near(s.p95, 5);
    near(s.min, 1);
    near(s.max, 5);
    assert_true(v[0] == 3 && v[1] == 1); /* not sorted in place */
    res_spread_of(v, 1, &s);
    near(s.stddev, 0);
    near(s.p95, 3);
    res_spread_of(v, 0, &s);
    assert_int_equal(s.n, 0);
}

/* n = 2: d = {1, 2}, mean 1.5, sd sqrt(0.5); half width 12.7062 x sqrt(0.5)
** / sqrt(2) = 12.7062 / 2 = 6.35310; the interval [-4.85310, 7.85310]
** contains 0: no difference, nothing to trim.  Relative: 1.5 / 1.5. */
static void test_two_seeds(void **state) {
    (void)state;
    double b[] = {1, 2}, c[] = {2, 4};
    res_paired p;
    res_paired_compare(b, c, 2, RES_LOWER_IS_BETTER, &p);
    assert_false(p.deterministic);
    near(p.mean, 1.5);
    near(p.stddev, sqrt(0.5));
    near(p.ci95_low, 1.5 - 12.7062047361747 / 2);
    near(p.ci95_high, 1.5 + 12.7062047361747 / 2);
    near(p.relative, 1.0);
    assert_int_equal(p.verdict, RES_VERDICT_NO_DIFFERENCE);
    assert_false(p.survives_trimming);
}

/* n = 5: baseline {10, 12, 11, 13, 9}, candidate {8, 9, 9, 10, 7}: d = {-2,
** -3, -2, -3, -2}, mean -2.4; deviations 0.4 -0.6 0.4 -0.6 0.4 square to 1.2,
** / 4 = 0.3, sd sqrt(0.3); half width 2.77645 x sqrt(0.3) / sqrt(5) =
** 2.77645 x sqrt(0.06) = 0.680087; [-3.080087, -1.719913] below 0: with
** lower-is-better, better; relative -2.4 / 11.  Trimmed (drop one -2 and
** one -3): {-2, -3, -2} / 3 < 0, the claim survives.  Higher-is-better:
** worse. */
static void test_five_seeds(void **state) {
    (void)state;
    double b[] = {10, 12, 11, 13, 9}, c[] = {8, 9, 9, 10, 7};
    res_paired p;
    res_paired_compare(b, c, 5, RES_LOWER_IS_BETTER, &p);
    near(p.mean, -2.4);
    near(p.stddev, sqrt(0.3));
    near(p.ci95_low, -2.4 - 2.77644510519780 * sqrt(0.06));
    near(p.ci95_high, -2.4 + 2.77644510519780 * sqrt(0.06));
    near(p.relative, -2.4 / 11);
    assert_int_equal(p.verdict, RES_VERDICT_BETTER);
    assert_true(p.survives_trimming);
    res_paired_compare(b, c, 5, RES_HIGHER_IS_BETTER, &p);
    assert_int_equal(p.verdict, RES_VERDICT_WORSE);
    assert_true(p.survives_trimming);
    res_paired_compare(b, c, 5, RES_NO_DIRECTION, &p);
    assert_int_equal(p.verdict, RES_VERDICT_UNDETERMINED);
    assert_false(p.survives_trimming);
}

/* n = 30: baseline 100 + (7i mod 11), candidate baseline + 0.5 + 0.1 x ((5i
** mod 7) - 3), i = 0..29.  (5i mod 7) runs 0 5 3 1 6 4 2 (sum 21) four
** times, then 0 5: sum 89, so mean(d) = 0.5 + 0.1 x (89/30 - 3) = 0.496667.
** Its deviations are 0.1 x (k - 89/30), k = 5i mod 7: the k^2 sum to 4 x 91
** + 0 + 25 = 389, so the squared deviations sum to 0.01 x (389 - 89^2/30)
** = 1.2496667; / 29 -> sd 0.2075860; half width 2.04523 x 0.2075860 /
** sqrt(30) = 0.0775139: [0.4191528, 0.5741806], above 0: better when higher
** is better. */
static void test_thirty_seeds(void **state) {
    (void)state;
    double b[30], c[30], ss = 0;
    for (int i = 0; i < 30; i++) {
        b[i] = 100 + (7 * i) % 11;
        c[i] = b[i] + 0.5 + 0.1 * ((5 * i) % 7 - 3);
        double dev = 0.1 * ((5 * i) % 7 - 89.0 / 30);
        ss += dev * dev;
    }
    res_paired p;
    res_paired_compare(b, c, 30, RES_HIGHER_IS_BETTER, &p);
    near(p.mean, 0.5 + 0.1 * (89.0 / 30 - 3));
    near(p.stddev, sqrt(ss / 29));
    near(ss, 0.01 * (389 - 89.0 * 89 / 30));
    near(p.stddev, 0.20758601596202964);
    near(p.ci95_low, p.mean - 2.04522964213270 * sqrt(ss / 29) / sqrt(30));
    near(p.ci95_low, 0.4191527744012801);
    near(p.ci95_high, 0.5741805589320537);
    assert_int_equal(p.verdict, RES_VERDICT_BETTER);
    assert_true(p.survives_trimming);
}

/* Every seed gives the same figure in each arm: no interval, the verdict by
** the sign of the one difference. */
static void test_deterministic(void **state) {
    (void)state;
    double b[] = {33.45, 33.45, 33.45}, c[] = {12.5, 12.5, 12.5};
    res_paired p;
    res_paired_compare(b, c, 3, RES_LOWER_IS_BETTER, &p);
    assert_true(p.deterministic);
    near(p.mean, 12.5 - 33.45);
    assert_true(isnan(p.ci95_low) && isnan(p.ci95_high));
    assert_int_equal(p.verdict, RES_VERDICT_BETTER);
    assert_true(p.survives_trimming);
    res_paired_compare(b, b, 3, RES_LOWER_IS_BETTER, &p);
    assert_int_equal(p.verdict, RES_VERDICT_IDENTICAL);
    assert_false(p.survives_trimming);
    double zero[] = {0, 0, 0};
    res_paired_compare(zero, c, 3, RES_HIGHER_IS_BETTER, &p);
    assert_true(isnan(p.relative)); /* relative to a zero baseline */
    assert_string_equal(res_verdict_name(RES_VERDICT_NO_DIFFERENCE), "no_difference");
}

/* One seed: no interval, no verdict, and not "deterministic" (one seed
** cannot show that every seed gives the same figure). */
static void test_one_seed(void **state) {
    (void)state;
    double b[] = {57.07}, c[] = {69.09};
    res_paired p;
    res_paired_compare(b, c, 1, RES_LOWER_IS_BETTER, &p);
    assert_false(p.deterministic);
    assert_int_equal(p.verdict, RES_VERDICT_UNDETERMINED);
    assert_false(p.survives_trimming);
    assert_true(isnan(p.ci95_low));
    near(p.mean, 69.09 - 57.07);
    res_paired_compare(b, b, 1, RES_LOWER_IS_BETTER, &p);
    assert_int_equal(p.verdict, RES_VERDICT_IDENTICAL);
    assert_false(p.deterministic);
}

/* A metric one run lacks (seed 2 of the candidate made no record, so has
** no time to its first one) is not compared, and the experiment says so:
** in its JSON ("not_compared", with how many runs of each arm have it),
** among the headlines when it is a headline metric, and after the table. */
static void test_metric_missing_in_one_arm(void **state) {
    (void)state;
    const uint64_t seeds[] = {1, 2, 3};
    res_experiment *e = res_experiment_create("s", "baseline", "candidate", seeds, 3);
    assert_non_null(e);
    for (int arm = 0; arm < 2; arm++)
        for (size_t i = 0; i < 3; i++) {
            res_metric_set m = {0};
            assert_true(res_metric_set_add(&m, "wall_time_seconds", 10.0 + (double)i + arm));
            if (!(arm == 1 && i == 1))
                assert_true(res_metric_set_add(&m, "time_to_first_record_seconds", 1.0 + arm));
            if (arm == 1) assert_true(res_metric_set_add(&m, "group.extra.tasks", 4));
            res_experiment_set(e, arm, i, &m);
        }
    assert_true(res_experiment_compare(e));
    assert_int_equal(res_experiment_metric_count(e), 1);
    assert_string_equal(res_experiment_metric_at(e, 0)->name, "wall_time_seconds");
    assert_int_equal(res_experiment_missing_count(e), 2);
    const res_experiment_missing *m = res_experiment_missing_at(e, 0);
    assert_string_equal(m->name, "time_to_first_record_seconds");
    assert_int_equal(m->seeds[0], 3);
    assert_int_equal(m->seeds[1], 2);
    m = res_experiment_missing_at(e, 1);
    assert_string_equal(m->name, "group.extra.tasks");
    assert_int_equal(m->seeds[0], 0);
    assert_int_equal(m->seeds[1], 3);
    assert_null(res_experiment_missing_at(e, 2));

    json_t *j = res_experiment_json(e);
    assert_non_null(j);
    json_t *nc = json_object_get(j, "not_compared");
    assert_int_equal(json_object_size(nc), 2);
    json_t *t = json_object_get(nc, "time_to_first_record_seconds");
    assert_int_equal(json_integer_value(json_object_get(t, "baseline_seeds")), 3);
    assert_int_equal(json_integer_value(json_object_get(t, "candidate_seeds")), 2);
    json_decref(j);

    FILE *f = tmpfile();
    assert_non_null(f);
    res_experiment_print(e, f, RES_EXPERIMENT_TABLE);
    char text[8192];
    rewind(f);
    size_t got = fread(text, 1, sizeof text - 1, f);
    text[got] = '\0';
    fclose(f);
    if (!strstr(text, "time_to_first_record_seconds NOT COMPARED: the candidate has it for 2 of 3 "
                      "seeds") ||
        !strstr(text, "group.extra.tasks: the baseline has it for 0 of 3 seeds"))
        fail_msg("the table does not say what was not compared:\n%s", text);
    res_experiment_free(e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t_quantiles),  cmocka_unit_test(test_spread),
        cmocka_unit_test(test_two_seeds),    cmocka_unit_test(test_five_seeds),
        cmocka_unit_test(test_thirty_seeds), cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_one_seed),     cmocka_unit_test(test_metric_missing_in_one_arm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
