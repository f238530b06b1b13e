# timeline.gp: the task stage over virtual time -> <dir>/timeline.<fmt>
# Top: who holds the task slots -- task leases held, stacked by group, with
# the task resource limits in force as dashed lines (the task slots, i.e.
# the submission capacity, and each other scheduler resource's limit).
# Bottom: tasks queued (ready, waiting for a lease) per group, and row
# groups in flight on the right axis.
#
# Needs common.gp loaded first (dir, fmt, run_title; see there), and
#   timeline_groups           the group (column) names, one word each, in the
#                             order of timeline.dat's per-group columns (quote
#                             a name holding spaces: 'a "b c"') ['': none]
#   timeline_capacity_names   the limits' names, one word each ['': no lines]
#   timeline_capacity_values  their values, one number each
#
# Reads <dir>/timeline.dat, one state per virtual instant, each change as two
# rows (the old values, then the new, at its time) so areas step exactly:
#   1 virtual time (s)   2 task leases held   3 row groups in flight
#   3+i tasks queued in group i     3+n+i task leases held by group i
#   (n = words(timeline_groups))
#
#   gnuplot -e "dir='out/plots/run-3'; timeline_groups='a b'" plots/common.gp plots/timeline.gp

if (!exists("admitsim_common")) exit error "timeline.gp: load plots/common.gp first"
if (!exists("timeline_groups")) timeline_groups = ''
if (!exists("timeline_capacity_names")) timeline_capacity_names = ''
if (!exists("timeline_capacity_values")) timeline_capacity_values = ''
ngroups = words(timeline_groups)
ncap = words(timeline_capacity_values)

set output dir.'/timeline.'.fmt
undefine STATS_*
stats dir.'/timeline.dat' using 1 nooutput
if (exists("STATS_records") && STATS_records > 0) {
    tmax = STATS_max
    stats dir.'/timeline.dat' using 2 nooutput
    ymax = STATS_max
    stats dir.'/timeline.dat' using 3 nooutput
    rgmax = STATS_max
    do for [c=1:ncap] {
        ymax = real(word(timeline_capacity_values, c)) > ymax ? \
            real(word(timeline_capacity_values, c)) : ymax
    }
    set multiplot layout 2,1 title run_title."\nTask stage over time"
    set key outside right top
    set xrange [0:tmax]
    set xlabel 'virtual time (s)'
    set lmargin 10
    set rmargin 46

    set title 'Who holds the task slots: task leases by group (stacked), limits dashed'
    set ylabel 'task leases held'
    set yrange [0:ymax * 1.08 + 0.5]
    set style fill solid 0.55 noborder
    plot for [i=ngroups:1:-1] dir.'/timeline.dat' \
             using 1:(sum [k=1:i] column(3 + ngroups + k)) with filledcurves x1 \
             lc i title 'leases: '.word(timeline_groups, i), \
         for [c=1:ncap] real(word(timeline_capacity_values, c)) with lines dt 2 lw 2 \
             lc rgb (c == 1 ? 'black' : '#7f7f7f') \
             title sprintf('%s = %s', word(timeline_capacity_names, c), \
                           word(timeline_capacity_values, c))

    set title 'Ready queue: tasks waiting for a lease, by group'
    set ylabel 'queued tasks'
    set y2label 'row groups in flight'
    set yrange [0:*]
    set y2range [0:rgmax * 1.5 + 1]
    set y2tics 1
    set ytics nomirror
    set y2tics
    plot for [i=1:ngroups] dir.'/timeline.dat' using 1:3+i with lines lw 2 lc i \
             title 'queued: '.word(timeline_groups, i), \
         dir.'/timeline.dat' using 1:3 axes x1y2 with lines lw 1 dt 3 lc rgb 'black' \
             title 'row groups in flight'
    unset multiplot
    unset y2tics
    unset y2label
    set ytics mirror
    set lmargin -1
    set rmargin -1
    set xrange [*:*]
    set yrange [*:*]
    set y2range [*:*]
    set style fill empty
} else {
    # e.g. a run cancelled before its first lease: axes, no series
    set title run_title."\nTask stage over time"
    set xrange [0:1]
    set yrange [0:1]
    plot NaN title 'no task leases in this iteration'
    set xrange [*:*]
    set yrange [*:*]
}
