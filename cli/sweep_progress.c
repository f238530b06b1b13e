/* A sweep's progress on stderr (sweep.h): on a terminal one line redrawn in
** place (a bar, shards done of all, running, failed, elapsed time and an
** estimate of the time left from the shards finished so far); otherwise a
** line when a shard finishes, at most one a second (and the last). */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "sweep.h"

void sweep_progress_init(sweep_progress *g, const char *who, size_t total, size_t done_before,
                         bool quiet) {
    *g = (sweep_progress){.who = who,
                          .total = total,
                          .done_before = done_before,
                          .done = done_before,
                          .start = cli_monotonic_seconds(),
                          .last_draw = -1e9,
                          .tty = isatty(STDERR_FILENO) == 1,
                          .quiet = quiet};
}

/* "1:05" or "1:02:03" */
static void clock_text(double s, char *buf, size_t len) {
    long t = s < 0 ? 0 : (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

/* The estimate of the time left: "ETA 1:05", or "ETA ?" before any shard
** of this session finished. */
static void eta_text(const sweep_progress *g, double elapsed, char *buf, size_t len) {
    size_t here = g->done - g->done_before + g->failed;
    size_t left = g->total - g->done - g->failed;
    if (here == 0) {
        snprintf(buf, len, "ETA ?");
        return;
    }
    char t[32];
    clock_text(elapsed / (double)here * (double)left, t, sizeof t);
    snprintf(buf, len, "ETA %s", t);
}

static void draw_bar(sweep_progress *g, double elapsed) {
    enum { WIDTH = 30 };
    size_t filled = g->total ? g->done * WIDTH / g->total : WIDTH;
    char bar[WIDTH + 1], took[32], eta[48];
    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    clock_text(elapsed, took, sizeof took);
    eta_text(g, elapsed, eta, sizeof eta);
    fprintf(stderr,
            "\r%s: [%s] %zu/%zu shards, %zu running, %zu pending, %zu failed, %s, %s \033[K",
            g->who, bar, g->done, g->total, g->running, g->pending, g->failed, took, eta);
    fflush(stderr);
    g->drawn = true;
}

void sweep_progress_update(sweep_progress *g, bool finished) {
    if (g->quiet) return;
    double now = cli_monotonic_seconds(), elapsed = now - g->start;
    bool last = g->done + g->failed >= g->total;
    if (g->tty) {
        if (finished || now - g->last_draw >= 0.2) {
            draw_bar(g, elapsed);
            g->last_draw = now;
        }
        return;
    }
    if (!finished || (!last && now - g->last_draw < 1.0)) return;
    char took[32], eta[48];
    clock_text(elapsed, took, sizeof took);
    eta_text(g, elapsed, eta, sizeof eta);
    fprintf(stderr, "%s: %zu of %zu shards done, %zu failed, %s, %s\n", g->who, g->done, g->total,
            g->failed, took, eta);
    g->last_draw = now;
}

void sweep_progress_end(sweep_progress *g) {
    if (g->quiet || !g->tty || !g->drawn) return;
    draw_bar(g, cli_monotonic_seconds() - g->start);
    fputc('\n', stderr);
}
