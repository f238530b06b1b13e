# cdf.gp: how long tasks waited, per group, as CDFs -> <dir>/cdf.<fmt>
# Left: the ready-to-lease gap (last ready_enqueued to task_lease_acquired of
# a task). Right: the request admission wait (request_wait_started to
# request_wait_completed of a request attempt).
#
# Needs common.gp loaded first (dir, fmt, run_title; see there), and
#   cdf_ready_groups  group names, one word each; word g+1 names cdf-ready-<g>.dat
#                     ['': no left panel]
#   cdf_wait_groups   group names, one word each; word g+1 names cdf-wait-<g>.dat
#                     ['': no right panel: a run without model calls draws one]
#
# Reads <dir>/cdf-ready-<g>.dat and <dir>/cdf-wait-<g>.dat, sorted samples:
#   1 seconds   2 cumulative fraction of the group's samples
#
#   gnuplot -e "dir='out/plots/run-3'; cdf_ready_groups='a b'" plots/common.gp plots/cdf.gp

if (!exists("admitsim_common")) exit error "cdf.gp: load plots/common.gp first"
if (!exists("cdf_ready_groups")) cdf_ready_groups = ''
if (!exists("cdf_wait_groups")) cdf_wait_groups = ''

set output dir.'/cdf.'.fmt
# A panel with no samples is left out: no model calls, no request panel.
cdf_panels = (words(cdf_ready_groups) > 0) + (words(cdf_wait_groups) > 0)
if (cdf_panels == 0) {
    set title run_title."\nNo task reached a lease in this iteration"
    set xrange [0:1]
    set yrange [0:1]
    plot NaN notitle
} else {
    set multiplot layout 1,cdf_panels title run_title
    set key outside right bottom
    set yrange [0:1.02]
    if (words(cdf_ready_groups) > 0) {
        set title 'Ready queue + task admission'
        set xlabel 'ready-to-lease gap (s)'
        set ylabel 'fraction of tasks'
        plot for [g=1:words(cdf_ready_groups)] dir.sprintf('/cdf-ready-%d.dat', g - 1) \
            using 1:2 with steps lw 2 title word(cdf_ready_groups, g)
    }
    if (words(cdf_wait_groups) > 0) {
        set title 'Request admission wait'
        set xlabel 'request wait (s)'
        set ylabel 'fraction of attempts'
        plot for [g=1:words(cdf_wait_groups)] dir.sprintf('/cdf-wait-%d.dat', g - 1) \
            using 1:2 with steps lw 2 title word(cdf_wait_groups, g)
    }
    unset multiplot
}
set xrange [*:*]
set yrange [*:*]
