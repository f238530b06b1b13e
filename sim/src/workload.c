/*
** A scenario's workload draws (sim/workload.h).
*/
#include "sim/workload.h"

#include <gsl/gsl_rng.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/rng.h"

/* Consecutive tasks of one column (the tracker makes each column's tasks
** one such run): their step values lie one after another from plan_base. */
typedef struct task_run {
    size_t first_task, plan_base;
    uint32_t steps;
} task_run;

struct sim_workload {
    const sim_scenario *sc;
    uint32_t column_count;
    gsl_rng **first_rng; /* [column] first attempts, drawn up front */
    gsl_rng **retry_rng; /* [column] later attempts, in the order they run */
    int64_t *first_plan; /* per task: its column's step values */
    task_run *runs;      /* by first_task; where each task's values are */
    size_t run_count;
    uint8_t *first_outcome; /* [task] */
    uint64_t *column_seed;  /* [column] */
    bool over;              /* a draw passed SIM_DIST_MAX_SECONDS (cut to it): */
    uint32_t over_column;   /* the first such draw's column */
    double over_seconds;    /* and value */
};

/* One duration of column's, remembering the first that passed the limit. */
static int64_t draw_duration(sim_workload *w, uint32_t column, const sim_dist *d, gsl_rng *rng) {
    double drawn;
    int64_t ns = sim_dist_draw_ns(d, rng, &drawn);
    if (drawn > SIM_DIST_MAX_SECONDS && !w->over) {
        w->over = true;
        w->over_column = column;
        w->over_seconds = drawn;
    }
    return ns;
}

uint32_t sim_workload_step_count(const run_column *col) {
    return col->step_count ? col->step_count : 1;
}

static admit_worker_outcome draw_outcome(const sim_column *col, gsl_rng *rng) {
    double u = gsl_rng_uniform(rng);
    if (u < col->non_retryable_probability) return ADMIT_WORKER_NON_RETRYABLE_FAILURE;
    if (u < col->non_retryable_probability + col->retryable_probability)
        return ADMIT_WORKER_RETRYABLE_FAILURE;
    return ADMIT_WORKER_SUCCESS;
}

/* Draws one execution's program values (local durations, call counts) and
** its outcome, in step order, from rng. */
static admit_worker_outcome draw_plan(sim_workload *w, uint32_t column, gsl_rng *rng,
                                      int64_t *plan) {
    const sim_scenario *sc = w->sc;
    const run_column *shape = &sc->config.columns[column];
    const sim_column *col = &sc->env.columns[column];
    if (shape->step_count == 0) {
        plan[0] = draw_duration(w, column, &col->duration, rng);
        return draw_outcome(col, rng);
    }
    for (uint32_t i = 0; i < shape->step_count; i++) {
        const sim_step *st = &col->program[i];
        if (shape->program[i].kind == RUN_STEP_LOCAL) {
            plan[i] = draw_duration(w, column, &st->duration, rng);
        } else if (st->count_kind == SIM_COUNT_BRANCH) {
            plan[i] = gsl_rng_uniform(rng) < st->probability ? st->count : st->count_else;
        } else if (st->count_kind == SIM_COUNT_UNTIL_VALID) {
            uint32_t n = 1;
            while (n < st->count && !(gsl_rng_uniform(rng) < st->probability))
                n++;
            plan[i] = n;
        } else {
            plan[i] = st->count;
        }
    }
    return draw_outcome(col, rng);
}

static bool open_streams(sim_workload *w, uint64_t seed, uint32_t iteration) {
    const run_config *cfg = &w->sc->config;
    w->first_rng = calloc(w->column_count ? w->column_count : 1, sizeof *w->first_rng);
    w->retry_rng = calloc(w->column_count ? w->column_count : 1, sizeof *w->retry_rng);
    w->column_seed = calloc(w->column_count ? w->column_count : 1, sizeof *w->column_seed);
    if (!w->first_rng || !w->retry_rng || !w->column_seed) return false;
    for (uint32_t c = 0; c < w->column_count; c++) {
        char entity[ADMIT_NAME_MAX + 16];
        snprintf(entity, sizeof entity, "column/%s", cfg->columns[c].name);
        w->first_rng[c] = sim_rng_stream(seed, iteration, entity);
        snprintf(entity, sizeof entity, "column/%s/retry", cfg->columns[c].name);
        w->retry_rng[c] = sim_rng_stream(seed, iteration, entity);
        if (!w->first_rng[c] || !w->retry_rng[c]) return false;
        w->column_seed[c] = sim_rng_stream_seed(seed, iteration, cfg->columns[c].name);
    }
    return true;
}

static bool runs_add(sim_workload *w, task_run run) {
    if ((w->run_count & (w->run_count - 1)) == 0) { /* 0 or a power of two: full */
        task_run *r = realloc(w->runs, (w->run_count ? w->run_count * 2 : 4) * sizeof *r);
        if (!r) return false;
        w->runs = r;
    }
    w->runs[w->run_count++] = run;
    return true;
}

/* Task index's first-execution step values: in the last run starting at or
** before it. */
static int64_t *plan_of(const sim_workload *w, size_t task_index) {
    size_t lo = 0, hi = w->run_count; /* runs[lo].first_task <= task_index */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->runs[mid].first_task <= task_index)
            lo = mid;
        else
            hi = mid;
    }
    const task_run *r = &w->runs[lo];
    return &w->first_plan[r->plan_base + (task_index - r->first_task) * r->steps];
}

sim_workload *sim_workload_create(const sim_scenario *sc, admit_tracker *tracker, uint64_t seed,
                                  uint32_t iteration) {
    sim_workload *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->sc = sc;
    w->column_count = sc->config.column_count;
    size_t ntasks = admit_tracker_task_count(tracker);
    w->first_outcome = malloc(ntasks ? ntasks : 1);
    size_t plan_values = 0;
    bool ok = w->first_outcome && open_streams(w, seed, iteration);
    for (size_t i = 0; ok && i < ntasks; i++) {
        uint32_t c = admit_tracker_task(tracker, i)->column;
        uint32_t steps = sim_workload_step_count(&sc->config.columns[c]);
        if (i == 0 || c != admit_tracker_task(tracker, i - 1)->column)
            ok = runs_add(w, (task_run){i, plan_values, steps});
        plan_values += steps;
    }
    if (ok) w->first_plan = malloc((plan_values ? plan_values : 1) * sizeof *w->first_plan);
    if (!ok || !w->first_plan) {
        sim_workload_free(w);
        return NULL;
    }
    for (size_t i = 0; i < ntasks; i++) {
        const admit_task *t = admit_tracker_task(tracker, i);
        w->first_outcome[i] =
            (uint8_t)draw_plan(w, t->column, w->first_rng[t->column], plan_of(w, i));
    }
    return w;
}

void sim_workload_free(sim_workload *w) {
    if (!w) return;
    for (uint32_t c = 0; c < w->column_count; c++) {
        if (w->first_rng && w->first_rng[c]) gsl_rng_free(w->first_rng[c]);
        if (w->retry_rng && w->retry_rng[c]) gsl_rng_free(w->retry_rng[c]);
    }
    free(w->first_rng);
    free(w->retry_rng);
    free(w->first_plan);
    free(w->runs);
    free(w->first_outcome);
    free(w->column_seed);
    free(w);
}

const int64_t *sim_workload_first(const sim_workload *w, size_t task_index,
                                  admit_worker_outcome *outcome) {
    *outcome = (admit_worker_outcome)w->first_outcome[task_index];
    return plan_of(w, task_index);
}

admit_worker_outcome sim_workload_draw_retry(sim_workload *w, uint32_t column, int64_t *plan) {
    return draw_plan(w, column, w->retry_rng[column], plan);
}

bool sim_workload_over_limit(const sim_workload *w, uint32_t *column, double *seconds) {
    if (!w || !w->over) return false;
    *column = w->over_column;
    *seconds = w->over_seconds;
    return true;
}

const uint64_t *sim_workload_column_seeds(const sim_workload *w) {
    return w->column_seed;
}
