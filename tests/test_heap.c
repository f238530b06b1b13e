/*
** The core's binary min-heap (admit/heap.h): order by (key, tiebreak),
** payload carried along, first-in-first-out through a sequence tiebreak,
** growth from an empty (zero-filled) heap, reserve, and the order of equal
** records, which request admission's deadline list relies on.
**
** Expected orders are worked out by hand from the rule "ascending key, then
** ascending tiebreak"; for equal records, from the sift-up / sift-down steps
** (a record moves only past a strictly greater one).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/heap.h"

static admit_heap H; /* freed by the teardown even when a test fails */

static int teardown(void **state) {
    (void)state;
    admit_heap_free(&H);
    return 0;
}

static void push(int64_t key, uint64_t tiebreak, uint32_t tag) {
    admit_heap_entry e = {
        .key = key, .tiebreak = tiebreak, .tag = tag, .aux = tag * 3, .ref = tag * 7ULL};
    assert_true(admit_heap_push(&H, e));
}

/* Pops the least record, checks its payload came along, returns its tag. */
static uint32_t pop_tag(void) {
    const admit_heap_entry *top = admit_heap_top(&H);
    assert_non_null(top);
    uint32_t tag = top->tag;
    assert_int_equal(top->aux, tag * 3);
    assert_int_equal(top->ref, tag * 7ULL);
    admit_heap_drop(&H);
    return tag;
}

static void test_empty(void **state) {
    (void)state;
    memset(&H, 0, sizeof H); /* zero-filled is empty */
    assert_int_equal(admit_heap_count(&H), 0);
    assert_null(admit_heap_top(&H));
    admit_heap_drop(&H); /* no-op */
    assert_int_equal(admit_heap_count(&H), 0);
    assert_true(admit_heap_init(&H, 0));
    assert_null(admit_heap_top(&H));
}

/* Keys first, then tiebreaks: (5,1) (3,9) (5,0) (-2,4) (3,2) (7,0) leave as
** (-2,4) (3,2) (3,9) (5,0) (5,1) (7,0). */
static void test_key_then_tiebreak(void **state) {
    (void)state;
    assert_true(admit_heap_init(&H, 4));
    push(5, 1, 1);
    push(3, 9, 2);
    push(5, 0, 3);
    push(-2, 4, 4);
    push(3, 2, 5);
    push(7, 0, 6);
    assert_int_equal(admit_heap_count(&H), 6);
    assert_int_equal(admit_heap_top(&H)->key, -2);
    const uint32_t want[] = {4, 5, 2, 3, 1, 6};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(pop_tag(), want[i]);
    assert_null(admit_heap_top(&H));
}

/* A sequence number as the tiebreak makes equal keys first in, first out,
** also when pushes and drops interleave. */
static void test_sequence_tiebreak_is_fifo(void **state) {
    (void)state;
    assert_true(admit_heap_init(&H, 0));
    uint64_t seq = 0;
    for (uint32_t t = 1; t <= 5; t++)
        push(10, seq++, t);
    assert_int_equal(pop_tag(), 1);
    assert_int_equal(pop_tag(), 2);
    push(10, seq++, 6);
    push(4, seq++, 7);
    const uint32_t want[] = {7, 3, 4, 5, 6};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(pop_tag(), want[i]);
}

/* Three equal records a, b, c: [a b c]; dropping a moves c to the root (b is
** not strictly less than c), so they leave a, c, b. */
static void test_equal_records_leave_in_heap_order(void **state) {
    (void)state;
    assert_true(admit_heap_init(&H, 0));
    push(1, 0, 1);
    push(1, 0, 2);
    push(1, 0, 3);
    assert_int_equal(pop_tag(), 1);
    assert_int_equal(pop_tag(), 3);
    assert_int_equal(pop_tag(), 2);
}

static int by_key_tiebreak(const void *a, const void *b) {
    const admit_heap_entry *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->tiebreak < y->tiebreak ? -1 : x->tiebreak > y->tiebreak;
}

/* Growth from nothing through many doublings, with drops in between: each
** record that leaves is the least of those still in, by (key, tiebreak). */
static void test_growth_matches_sort(void **state) {
    (void)state;
    enum { N = 5000 };
    static admit_heap_entry in[N];
    static bool gone[N];
    memset(&H, 0, sizeof H);
    memset(gone, 0, sizeof gone);
    uint64_t x = 88172645463325252ULL; /* xorshift64: keys with many repeats */
    for (uint32_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        in[i] = (admit_heap_entry){.key = (int64_t)(x % 97) - 40,
                                   .tiebreak = x >> 40,
                                   .tag = i,
                                   .aux = i * 3,
                                   .ref = i * 7ULL};
        assert_true(admit_heap_push(&H, in[i]));
        if (i % 3 != 2 && i != N - 1) continue;
        /* drop one now (every third push), everything at the end */
        size_t drops = i == N - 1 ? admit_heap_count(&H) : 1;
        for (size_t d = 0; d < drops; d++) {
            const admit_heap_entry *top = admit_heap_top(&H);
            size_t least = SIZE_MAX;
            for (size_t k = 0; k <= i; k++)
                if (!gone[k] && (least == SIZE_MAX || by_key_tiebreak(&in[k], &in[least]) < 0))
                    least = k;
            assert_int_equal(by_key_tiebreak(top, &in[least]), 0);
            assert_int_equal(top->aux, top->tag * 3);
            assert_int_equal(top->ref, top->tag * 7ULL);
            gone[top->tag] = true;
            admit_heap_drop(&H);
        }
    }
    assert_int_equal(admit_heap_count(&H), 0);
    for (size_t k = 0; k < N; k++)
        assert_true(gone[k]);
}

/* After reserve(n) the next n pushes need no memory: the storage does not
** move. */
static void test_reserve(void **state) {
    (void)state;
    assert_true(admit_heap_init(&H, 0));
    push(1, 0, 1);
    assert_true(admit_heap_reserve(&H, 100));
    const admit_heap_entry *base = admit_heap_top(&H);
    for (uint32_t t = 2; t <= 101; t++)
        push(200 - (int64_t)t, 0, t);
    assert_ptr_equal(admit_heap_top(&H), base);
    assert_int_equal(admit_heap_count(&H), 101);
    assert_int_equal(pop_tag(), 1);                     /* key 1 */
    assert_int_equal(pop_tag(), 101);                   /* key 99 */
    assert_false(admit_heap_reserve(&H, SIZE_MAX / 2)); /* too large: unchanged */
    assert_int_equal(admit_heap_count(&H), 99);
    assert_int_equal(pop_tag(), 100); /* key 100 */
}

#define T(fn) cmocka_unit_test_teardown(fn, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_empty),
        T(test_key_then_tiebreak),
        T(test_sequence_tiebreak_is_fifo),
        T(test_equal_records_leave_in_heap_order),
        T(test_growth_matches_sort),
        T(test_reserve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
