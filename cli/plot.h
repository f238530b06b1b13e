/* What the pictures of admitsim plot share (plot_run.c): the data files of
** one stored run, gnuplot-safe strings, the output directory, gnuplot
** itself; and the other things plot draws (plot_experiment.c: A/B
** experiments, handing sweeps and searches to plot_sweep.c); every plot is
** drawn into a stage and published whole (plot_stage.c).  cmd_plot.c uses
** them; none uses it. */
#ifndef ADMITSIM_PLOT_H
#define ADMITSIM_PLOT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "res/store_reader.h"

/* Writes the data files of one stored run's iteration into dir (timeline,
** request-<n>, cdf-*, layers; see the scripts of plots/) and the scripts' variables
** naming their series into params.  *nreq request resources, *layers
** whether the layers picture has data.  False with the reason on stderr. */
bool plot_run_data(res_store_reader *r, res_error *err, int64_t run, int64_t iteration,
                   const char *dir, FILE *params, int *nreq, bool *layers);

/* plot_run_data for dir (the stage), then params.gp and plot.gp beside it
** (dest, fmt and title as the scripts' variables: dest is where the files
** will be).  False with the reason on stderr. */
bool plot_run_inputs(res_store_reader *r, res_error *err, int64_t run, int64_t iteration,
                     const char *dir, const char *dest, const char *fmt, const char *title,
                     int *nreq, bool *layers);

/* s, or "" for NULL (a value missing from the store). */
const char *plot_text(const char *s);

/* var = s as a gnuplot string expression that expands nothing. */
void plot_put_string(FILE *f, const char *var, const char *s);
/* The scripts' dir variable, dest, unless already set (so that gnuplot -e
** can point them at the stage while the plot is drawn). */
void plot_put_dir(FILE *f, const char *dest);

/* The output directory: out (behind "./" when gnuplot would read its first
** character as a command, pipe, datablock or option), else fallback;
** false (said) when it does not fit len. */
bool plot_dir_named(char *dir, size_t len, const char *out, const char *fallback);
/* mkdir -p dir; false with the reason on stderr. */
bool plot_make_dirs(char *dir);
/* gnuplot -e "dir = 'STAGE'" STAGE/plot.gp without a shell, its messages
** in STAGE/gnuplot.log; when it fails, that log is copied to stderr (the
** stage is removed). */
bool plot_run_gnuplot(const char *gnuplot, const char *stage);

/* A plot drawn whole or not at all (plot_stage.c): draw(stage, ctx) writes
** every file of the plot into stage, a fresh directory in dir (mkdir -p'd);
** when it succeeds the files replace the earlier plot's in dir, those of
** the earlier plot (its list dir/.admitsim-plot) not written again are
** removed, and the list names the new files.  True when the plot is in
** place; false (said) and dir as it was when anything failed; a SIGINT or
** SIGTERM before the plot is in place ends the process by that signal,
** dir as it was. */
typedef bool plot_draw_fn(const char *stage, void *ctx);
bool plot_staged(char *dir, plot_draw_fn *draw, void *ctx);

/* A file in dir for writing, or NULL (said on stderr); closing it, false
** (said) when anything written was lost. */
FILE *plot_open_in(const char *dir, const char *name);
bool plot_close_ok(FILE *f, const char *dir, const char *name);

/* admitsim plot experiment:ID (argv as cmd_plot's). */
int plot_experiment(int argc, char **argv);

/* The pictures of a stored sweep or search (plot_sweep.c): kind "sweep" or
** "search", result its stored result JSON, into dir. */
typedef struct plot_sweep_args {
    const char *kind, *result, *scenario, *fmt, *gnuplot;
    char *dir; /* plot_staged's dir */
    long long id;
    bool quiet;
} plot_sweep_args;
bool plot_sweep(const plot_sweep_args *a);

#endif
