# timeline.gp: the task stage over virtual time -> <dir>/timeline.<fmt>
# Task leases and row groups in flight on the left axis, queued tasks per
# group on the right axis, all as step series.
#
# Needs common.gp loaded first (dir, fmt, run_title; see there), and
#   timeline_groups  the group (column) names, one word each, in the order of
#                    the queued columns of timeline.dat (quote a name holding
#                    spaces: 'a "b c"') ['': no queued series]
#
# Reads <dir>/timeline.dat, one row per scheduler event:
#   1 virtual time (s)   2 task leases in flight   3 row groups in flight
#   3+i tasks queued in group i (rows end early until group i first appears)
#
#   gnuplot -e "dir='out/plots/run-3'; timeline_groups='a b'" plots/common.gp plots/timeline.gp

if (!exists("admitsim_common")) exit error "timeline.gp: load plots/common.gp first"
if (!exists("timeline_groups")) timeline_groups = ''

set output dir.'/timeline.'.fmt
set title run_title."\nTask stage over time"
set xlabel 'virtual time (s)'
set ylabel 'task leases / row groups in flight'
set y2label 'queued tasks'
set ytics nomirror
set y2tics
set key outside right
undefine STATS_*
stats dir.'/timeline.dat' using 1 nooutput
if (exists("STATS_records") && STATS_records > 0) {
    plot dir.'/timeline.dat' using 1:2 with steps lw 2 title 'task leases in flight', \
         '' using 1:3 with steps lw 2 title 'row groups in flight', \
         for [i=1:words(timeline_groups)] '' using 1:3+i axes x1y2 with steps \
             title 'queued: '.word(timeline_groups, i)
} else {
    # e.g. a run cancelled before its first lease: axes, no series
    set xrange [0:1]
    set yrange [0:1]
    plot NaN title 'no task leases in this iteration'
    set xrange [*:*]
    set yrange [*:*]
}
unset y2tics
unset y2label
set ytics mirror
