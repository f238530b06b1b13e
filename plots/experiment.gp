# experiment.gp: a stored A/B experiment's two arms side by side
# (`admitsim plot experiment:ID`) -> <dir>/deltas.<fmt>, cdf.<fmt>,
# timeline.<fmt> and limits-<n>.<fmt> per request resource of the baseline.
#
# Needs common.gp loaded first (dir, fmt, run_title; see there), and
#   baseline_label, candidate_label   how the legends name the arms
#   deltas_count                  rows of <dir>/deltas.dat
#   seed                          whose runs the over-time pictures show
# Reads
#   <dir>/deltas.dat   per headline metric: 1 index  2 change %  3 interval low %
#                      4 interval high %  5 colour (by verdict)  6 "metric name"
#   <dir>/baseline/, <dir>/candidate/   each arm's run of one seed as
#                      `admitsim plot RUN` writes it: params.gp (the group and
#                      resource names), timeline.dat, cdf-*.dat, request-<n>.dat
#                      (see timeline.gp, cdf.gp, request.gp)
# Groups and request resources are matched between the arms by name; one
# colour per group or resource, the candidate dashed.
#
#   gnuplot out/plots/experiment-1/plot.gp

if (!exists("admitsim_common")) exit error "experiment.gp: load plots/common.gp first"
if (!exists("baseline_label")) baseline_label = 'baseline'
if (!exists("candidate_label")) candidate_label = 'candidate'
if (!exists("deltas_count")) deltas_count = 0
if (!exists("seed")) seed = 1
seed_title = run_title.sprintf(' - seed %d', seed)

bdir = dir.'/baseline'
cdir = dir.'/candidate'
timeline_groups = ''; request_resources = ''; cdf_ready_groups = ''; cdf_wait_groups = ''
load bdir.'/params.gp'
b_ready = cdf_ready_groups; b_wait = cdf_wait_groups; b_req = request_resources
timeline_groups = ''; request_resources = ''; cdf_ready_groups = ''; cdf_wait_groups = ''
load cdir.'/params.gp'
c_ready = cdf_ready_groups; c_wait = cdf_wait_groups; c_req = request_resources
# the position (1-based) of word w in list, 0 when absent
windex(list, w) = words(list) == 0 ? 0 : sum [i=1:words(list)] (word(list, i) eq w ? i : 0)
bname = baseline_label
cname = candidate_label

# ---- deltas ------------------------------------------------------------------
set output dir.'/deltas.'.fmt
set title run_title."\nHeadline metrics: candidate - baseline, % of the baseline mean, with the 95% interval (green better, red worse)"
set xlabel 'change (%)'
unset ylabel
set lmargin at screen 0.33
set key off
if (deltas_count > 0) {
    set yrange [deltas_count - 0.5:-0.5]
    set arrow 1 from first 0, graph 0 to first 0, graph 1 nohead lc rgb '#555555'
    plot dir.'/deltas.dat' using 2:1:3:4:5:ytic(6) with xerrorbars pt 7 ps 1.5 lw 2 \
        lc rgb variable
    unset arrow 1
    set yrange [*:*]
} else {
    plot NaN title 'no headline metric with a relative change'
}
set lmargin
set key default
set key outside right bottom

# ---- CDFs --------------------------------------------------------------------
set output dir.'/cdf.'.fmt
set multiplot layout 1,2 title seed_title."\n".bname.' (solid) vs '.cname.' (dashed)'
set yrange [0:1.02]
set title 'Ready queue + task admission'
set xlabel 'ready-to-lease gap (s)'
set ylabel 'fraction of tasks'
if (words(b_ready) > 0) {
    plot for [g=1:words(b_ready)] bdir.sprintf('/cdf-ready-%d.dat', g - 1) using 1:2 \
            with steps lw 2 lc g title word(b_ready, g), \
         for [g=1:words(b_ready)] (windex(c_ready, word(b_ready, g)) > 0 ? \
            cdir.sprintf('/cdf-ready-%d.dat', windex(c_ready, word(b_ready, g)) - 1) : '') \
            using 1:2 with steps lw 2 dt 2 lc g notitle
} else {
    plot NaN title 'no tasks'
}
set title 'Request admission wait'
set xlabel 'request wait (s)'
set ylabel 'fraction of attempts'
if (words(b_wait) > 0) {
    plot for [g=1:words(b_wait)] bdir.sprintf('/cdf-wait-%d.dat', g - 1) using 1:2 \
            with steps lw 2 lc g title word(b_wait, g), \
         for [g=1:words(b_wait)] (windex(c_wait, word(b_wait, g)) > 0 ? \
            cdir.sprintf('/cdf-wait-%d.dat', windex(c_wait, word(b_wait, g)) - 1) : '') \
            using 1:2 with steps lw 2 dt 2 lc g notitle
} else {
    plot NaN title 'no model calls'
}
unset multiplot
set yrange [*:*]

# ---- task leases over time ---------------------------------------------------
set output dir.'/timeline.'.fmt
set title seed_title."\nTask leases in flight"
set xlabel 'virtual time (s)'
set ylabel 'task leases in flight'
plot bdir.'/timeline.dat' using 1:2 with steps lw 2 lc 1 title bname, \
     cdir.'/timeline.dat' using 1:2 with steps lw 2 dt 2 lc 2 title cname

# ---- request admission over time, per resource -------------------------------
do for [r=1:words(b_req)] {
    key = word(b_req, r)
    cr = windex(c_req, key)
    set output dir.sprintf('/limits-%d.', r - 1).fmt
    set title seed_title."\n".key.': calls in flight and current limit'
    set ylabel 'calls'
    if (cr > 0) {
        plot bdir.sprintf('/request-%d.dat', r - 1) using 1:2 with steps lw 1 lc 1 \
                title bname.': in flight', \
             '' using 1:3 with steps lw 2 lc 3 title bname.': limit', \
             cdir.sprintf('/request-%d.dat', cr - 1) using 1:2 with steps lw 1 dt 2 lc 2 \
                title cname.': in flight', \
             '' using 1:3 with steps lw 2 dt 2 lc 4 title cname.': limit'
    } else {
        plot bdir.sprintf('/request-%d.dat', r - 1) using 1:2 with steps lw 1 lc 1 \
                title bname.': in flight', \
             '' using 1:3 with steps lw 2 lc 3 title bname.': limit'
    }
}
