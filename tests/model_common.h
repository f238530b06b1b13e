/*
** Shared by the randomized model-based tests (model_*.c, one component
** each): a seeded PRNG of the tests' own, the command line, the operation
** budget, the trace of the last operations and the failure report.
**
** A model test runs random operation sequences against the real component
** and against a deliberately naive model of it in the test, and compares
** the two after every step.  By default it runs sequences with the fixed
** seeds 1, 2, 3, ... until at least 1,000,000 operations have run (times
** ADMIT_MODEL_SCALE, which valgrind and sanitizer runs set below 1).  A
** sequence is a pure function of its seed and its length: the same seed
** draws the same configuration and, op by op, the same operations, so a
** prefix of a sequence is the same prefix at any length.  A failure prints
** the seed, the step, the last operations and a replay command for the
** shortest prefix that fails:
**
**     model_x --seed 0x2a --ops 137     one sequence, 137 operations
**     model_x --ops 5000                the default seeds, 5000 ops in all
**
** Included after <cmocka.h>: a failure ends the test with fail().
*/
#ifndef ADMIT_MODEL_COMMON_H
#define ADMIT_MODEL_COMMON_H

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the PRNG: splitmix64 seeds xoshiro256** ---------------------------- */

typedef struct model_rng {
    uint64_t s[4];
} model_rng;

static inline uint64_t model_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline void model_rng_seed(model_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = model_splitmix64(&x);
}

static inline uint64_t model_rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t model_rng_next(model_rng *r) {
    uint64_t *s = r->s;
    uint64_t out = model_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = model_rotl(s[3], 45);
    return out;
}

/* Uniform in [0, n) (n >= 1; the bias of the multiply is below 2^-32). */
static inline uint32_t model_below(model_rng *r, uint32_t n) {
    return (uint32_t)(((model_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static inline int64_t model_range(model_rng *r, int64_t lo, int64_t hi) {
    return lo + (int64_t)(model_rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* true with probability per_mille / 1000. */
static inline bool model_chance(model_rng *r, uint32_t per_mille) {
    return model_below(r, 1000) < per_mille;
}

/* A pick by weight: weights[0..n), not all zero. */
static inline uint32_t model_pick(model_rng *r, const uint32_t *weights, uint32_t n) {
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += weights[i];
    uint32_t x = model_below(r, total);
    for (uint32_t i = 0; i < n; i++) {
        if (x < weights[i]) return i;
        x -= weights[i];
    }
    return n - 1;
}

/* A stable per-sequence coin for a thing (a waiter, a task): the same
** answer every time it is asked, so the real side and the model agree. */
static inline uint64_t model_hash(uint64_t salt, uint64_t x) {
    uint64_t v = salt ^ (x * 0xD6E8FEB86659FD93ULL);
    return model_splitmix64(&v);
}

/* ---- a set of ids (lease ids are unique: none is ever handed out twice) -- */

typedef struct model_idset {
    uint64_t *slots; /* 0: empty */
    size_t cap, count;
} model_idset;

static inline void model_idset_free(model_idset *s) {
    free(s->slots);
    *s = (model_idset){0};
}

/* Inserts id (!= 0); false if it was there already. */
static inline bool model_idset_insert(model_idset *s, uint64_t id) {
    if (2 * (s->count + 1) > s->cap) {
        model_idset old = *s;
        s->cap = old.cap ? 2 * old.cap : 1024;
        s->slots = calloc(s->cap, sizeof *s->slots);
        if (!s->slots) abort();
        s->count = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.slots[i]) model_idset_insert(s, old.slots[i]);
        free(old.slots);
    }
    size_t i = (size_t)model_hash(0, id) & (s->cap - 1);
    while (s->slots[i]) {
        if (s->slots[i] == id) return false;
        i = (i + 1) & (s->cap - 1);
    }
    s->slots[i] = id;
    s->count++;
    return true;
}

/* ---- the trace of the last operations ------------------------------------ */

#define MODEL_TRACE 24 /* operations printed before a failure */

typedef struct model_op {
    uint64_t step;
    int64_t at; /* the scripted clock, when the test has one */
    int kind;
    int64_t a, b, c, d;
} model_op;

typedef void (*model_describe_fn)(const model_op *op, char *buf, size_t n);

/* One run of the test program (globals: cmocka's test functions take no
** arguments, and the failure report needs them from anywhere). */
typedef struct model_run {
    const char *prog;           /* argv[0], for the replay command */
    const char *name;           /* the component */
    model_describe_fn describe; /* one line per operation */
    const int64_t *clock;       /* the test's scripted clock, or NULL */
    uint64_t seed;              /* the sequence running now */
    uint64_t ops;               /* its length */
    uint64_t step;              /* operations done so far in it */
    bool draining;              /* in the end-of-sequence drain */
    model_op trace[MODEL_TRACE];
    uint64_t traced;
    /* command line */
    bool one_seed;
    uint64_t replay_seed;
    uint64_t ops_arg; /* 0: default */
} model_run;

static model_run MODEL;

/* Records the operation about to run (kind and up to four numbers). */
static inline void model_trace(int kind, int64_t a, int64_t b, int64_t c, int64_t d) {
    model_op *op = &MODEL.trace[MODEL.traced++ % MODEL_TRACE];
    *op = (model_op){.step = MODEL.step,
                     .at = MODEL.clock ? *MODEL.clock : 0,
                     .kind = kind,
                     .a = a,
                     .b = b,
                     .c = c,
                     .d = d};
}

static void model_fail(const char *file, int line, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: MODEL MISMATCH at %s:%d: %s\n", MODEL.name, file, line, msg);
    fprintf(stderr, "%s: seed 0x%" PRIx64 ", %s step %" PRIu64 " of %" PRIu64 "\n", MODEL.name,
            MODEL.seed, MODEL.draining ? "in the final drain after" : "at", MODEL.step, MODEL.ops);
    uint64_t first = MODEL.traced > MODEL_TRACE ? MODEL.traced - MODEL_TRACE : 0;
    fprintf(stderr, "%s: the last %" PRIu64 " operations:\n", MODEL.name, MODEL.traced - first);
    for (uint64_t i = first; i < MODEL.traced; i++) {
        char buf[256];
        const model_op *op = &MODEL.trace[i % MODEL_TRACE];
        MODEL.describe(op, buf, sizeof buf);
        fprintf(stderr, "  step %6" PRIu64 ": %s\n", op->step, buf);
    }
    /* A prefix of a sequence is the same prefix at any length, so the
    ** shortest replay stops right after the failing step. */
    uint64_t ops = MODEL.draining ? MODEL.ops : MODEL.step + 1;
    fprintf(stderr, "%s: replay: %s --seed 0x%" PRIx64 " --ops %" PRIu64 "\n", MODEL.name,
            MODEL.prog, MODEL.seed, ops);
    fail();
}

#define MODEL_CHECK(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) model_fail(__FILE__, __LINE__, __VA_ARGS__);                                  \
    } while (0)

/* Compares two integers of any width, printing both. */
#define MODEL_EQ(real, model, what, ...)                                                           \
    do {                                                                                           \
        long long real_ = (long long)(real), model_ = (long long)(model);                          \
        if (real_ != model_) {                                                                     \
            char what_[160];                                                                       \
            snprintf(what_, sizeof what_, what, __VA_ARGS__);                                      \
            model_fail(__FILE__, __LINE__, "%s: real %lld, model %lld", what_, real_, model_);     \
        }                                                                                          \
    } while (0)

/* A sequence starts: its seed and length, no step, an empty trace. */
static inline void model_begin_sequence(uint64_t seed, uint64_t ops) {
    MODEL.seed = seed;
    MODEL.ops = ops;
    MODEL.step = 0;
    MODEL.draining = false;
    MODEL.traced = 0;
}

/* ---- the command line and the run loop ----------------------------------- */

/* One sequence: seed, number of operations. */
typedef void (*model_sequence_fn)(uint64_t seed, uint64_t ops);

static inline double model_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses --seed and --ops; false (with a message) on anything else. */
static inline bool model_parse_args(int argc, char **argv) {
    MODEL.prog = argc > 0 ? argv[0] : "model";
    for (int i = 1; i < argc; i++) {
        bool is_seed = strcmp(argv[i], "--seed") == 0, is_ops = strcmp(argv[i], "--ops") == 0;
        char *end = NULL;
        if ((!is_seed && !is_ops) || i + 1 >= argc) {
            fprintf(stderr, "usage: %s [--seed N] [--ops N]\n", MODEL.prog);
            return false;
        }
        unsigned long long v = strtoull(argv[++i], &end, 0);
        if (!*argv[i] || *end || (is_ops && v == 0)) {
            fprintf(stderr, "%s: %s wants a number%s, got \"%s\"\n", MODEL.prog, argv[i - 1],
                    is_ops ? " above 0" : "", argv[i]);
            return false;
        }
        if (is_seed) {
            MODEL.one_seed = true;
            MODEL.replay_seed = v;
        } else {
            MODEL.ops_arg = v;
        }
    }
    return true;
}

/* The default budget: 1,000,000 operations times ADMIT_MODEL_SCALE. */
static inline uint64_t model_budget(void) {
    double scale = 1.0;
    const char *env = getenv("ADMIT_MODEL_SCALE");
    if (env && strtod(env, NULL) > 0) scale = strtod(env, NULL);
    double ops = 1000000.0 * scale;
    return ops < 1 ? 1 : (uint64_t)ops;
}

/* A crash inside the component (or a sanitizer's abort) says which
** sequence and step it was, then goes on to the handler it replaced
** (cmocka's, a sanitizer's or the default). */
static const int model_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static struct sigaction model_old_actions[sizeof model_signals / sizeof model_signals[0]];

static void model_on_signal(int sig) {
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "%s: signal %d at seed 0x%" PRIx64 ", step %" PRIu64 "%s\n"
                     "%s: replay: %s --seed 0x%" PRIx64 " --ops %" PRIu64 "\n",
                     MODEL.name, sig, MODEL.seed, MODEL.step,
                     MODEL.draining ? " (in the final drain)" : "", MODEL.name, MODEL.prog,
                     MODEL.seed, MODEL.draining ? MODEL.ops : MODEL.step + 1);
    if (n > 0) {
        ssize_t w = write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
        (void)w;
    }
    for (size_t i = 0; i < sizeof model_signals / sizeof model_signals[0]; i++)
        sigaction(model_signals[i], &model_old_actions[i], NULL);
    raise(sig); /* delivered to the old handler once this one returns */
}

static inline void model_catch_signals(bool on) {
    for (size_t i = 0; i < sizeof model_signals / sizeof model_signals[0]; i++) {
        if (!on) {
            sigaction(model_signals[i], &model_old_actions[i], NULL);
            continue;
        }
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = model_on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(model_signals[i], &sa, &model_old_actions[i]);
    }
}

/* Runs one sequence (--seed), or the fixed seeds 1, 2, ... with seq_len
** operations each until the budget is spent, and prints what ran. */
static inline void model_run_all(model_sequence_fn run, uint64_t seq_len) {
    double t0 = model_seconds();
    uint64_t total = 0, sequences = 0;
    model_catch_signals(true);
    if (MODEL.one_seed) {
        uint64_t ops = MODEL.ops_arg ? MODEL.ops_arg : seq_len;
        run(MODEL.replay_seed, ops);
        total = ops;
        sequences = 1;
        printf("%s: seed 0x%" PRIx64 ", %" PRIu64 " operations", MODEL.name, MODEL.replay_seed,
               ops);
    } else {
        uint64_t budget = MODEL.ops_arg ? MODEL.ops_arg : model_budget();
        while (total < budget) {
            uint64_t ops = budget - total < seq_len ? budget - total : seq_len;
            run(++sequences, ops);
            total += ops;
        }
        printf("%s: %" PRIu64 " operations in %" PRIu64 " sequences (seeds 1..%" PRIu64
               ", up to %" PRIu64 " operations each)",
               MODEL.name, total, sequences, sequences, seq_len);
    }
    model_catch_signals(false);
    double dt = model_seconds() - t0;
    printf(" in %.2f s, %.0f operations/s\n", dt, dt > 0 ? (double)total / dt : 0.0);
}

#endif
