# sweep.gp: a stored sweep or search (`admitsim plot experiment:ID`) ->
# <dir>/metric-<i>.<fmt> per metric (the mean over the seeds against one
# parameter, with the 95% interval as bars, one line per value of the other
# parameters) and, when exactly two parameters vary, <dir>/heatmap-<i>.<fmt>
# (the mean over both).
#
# Needs common.gp loaded first (dir, fmt, run_title; see there), and
#   metrics_count         pictures to draw; metric_title[i] (1-based) each metric's name
#   x_label               the parameter along the x axis
#   x_count, x_tic[k]     when the parameter's values are not numbers: their labels,
#                         at x = 0 .. x_count - 1 (x_count 0: numbers)
#   series_count          lines per picture; series_title[s] (1-based) each one's legend
#   threshold, threshold_label   a horizontal line (a search's objective), when set
#   heat_count            0, or the metrics with a heatmap; heat_x_label, heat_y_label,
#                         heat_xn, heat_yn, heat_xtic[k], heat_ytic[k] its axes
# Reads
#   <dir>/metric-<i>.dat   0-based i; one block per series (two blank lines
#                          apart): 1 x  2 mean  3 interval low  4 interval high
#   <dir>/heatmap-<i>.dat  1 x index  2 y index  3 mean
#
#   gnuplot out/plots/experiment-1/plot.gp

if (!exists("admitsim_common")) exit error "sweep.gp: load plots/common.gp first"
if (!exists("metrics_count")) metrics_count = 0
if (!exists("series_count")) series_count = 1
if (!exists("x_count")) x_count = 0
if (!exists("heat_count")) heat_count = 0

set key outside right top
set bars small
set xlabel x_label
set offsets graph 0.04, graph 0.04, graph 0.05, graph 0.05
if (x_count > 0) {
    set xrange [-0.5:x_count - 0.5]
    set xtics ()
    do for [k=1:x_count] { set xtics add (x_tic[k] k - 1) }
}
do for [i=1:metrics_count] {
    set output sprintf('%s/metric-%d.%s', dir, i - 1, fmt)
    set title run_title."\n".metric_title[i]." (mean over the seeds, 95% interval as bars)"
    set ylabel metric_title[i]
    if (exists("threshold")) {
        set arrow 1 from graph 0, first threshold to graph 1, first threshold nohead dt 2 lc rgb '#d62728'
        set label 1 threshold_label at graph 0.01, first threshold offset 0, 0.6 tc rgb '#d62728'
    }
    plot for [s=1:series_count] sprintf('%s/metric-%d.dat', dir, i - 1) index (s - 1) \
         using 1:2:3:4 with yerrorlines lw 1.5 pt 7 ps 0.8 title series_title[s]
    unset arrow 1
    unset label 1
}

if (heat_count > 0) {
    unset arrow
    set offsets 0, 0, 0, 0
    set key off
    set xlabel heat_x_label
    set ylabel heat_y_label
    set xrange [-0.5:heat_xn - 0.5]
    set yrange [-0.5:heat_yn - 0.5]
    set xtics ()
    set ytics ()
    do for [k=1:heat_xn] { set xtics add (heat_xtic[k] k - 1) }
    do for [k=1:heat_yn] { set ytics add (heat_ytic[k] k - 1) }
    set palette defined (0 '#f7fbff', 0.5 '#6baed6', 1 '#08306b')
    set grid noxtics noytics
    do for [i=1:heat_count] {
        set output sprintf('%s/heatmap-%d.%s', dir, i - 1, fmt)
        set title run_title."\n".metric_title[i]." (mean over the seeds)"
        set cblabel metric_title[i]
        f = sprintf('%s/heatmap-%d.dat', dir, i - 1)
        plot f using 1:2:3 with image, \
             f using 1:2:(sprintf('%.4g', $3)) with labels tc rgb '#d62728'
    }
}
unset output
