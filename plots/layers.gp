# layers.gp: where each group's task time went, as stacked bars per group
# -> <dir>/layers.<fmt>. Left, wider: only the layers met while holding the
# task lease, on their own scale. Right: from ready to lease release, the
# ready queue included (same colours).
#
# Needs common.gp loaded first (dir, fmt, run_title; see there), and
#   layers_groups   the bars' labels, one word per row of layers.dat
#
# Reads <dir>/layers.dat, one row per group, task-seconds summed over the
# group's tasks (the correlated view's layer metrics):
#   1 row number (0, 1, ...)   2 ready queue   3 task admission
#   4 request admission, cooldown included   5 request cooldown
#   6 provider execution    7 local / other
#
#   gnuplot -e "dir='out/plots/run-3'; layers_groups='root down'" plots/common.gp plots/layers.gp

if (!exists("admitsim_common")) exit error "layers.gp: load plots/common.gp first"

if (!exists("layers_groups")) layers_groups = ''
layers_file = dir.'/layers.dat'
set output dir.'/layers.'.fmt
# The time inside the task lease is the diagnosis (which layer held a task
# that had its slot); the ready queue outside it can be a thousand times
# larger, so the lease's own layers get their own, wider panel and scale.
set multiplot title run_title."\nWhere each group's task time went"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key below
unset xlabel
set ylabel 'task-seconds'
set xtics rotate by -20

set origin 0, 0
set size 0.58, 0.92
set title 'Inside the task lease: what held a task that had its slot'
plot layers_file using ($4-$5):xtic(word(layers_groups, int($1) + 1)) lc 3 title 'request admission (not cooling)', \
     '' using 5 lc 4 title 'request cooldown', \
     '' using 6 lc 5 title 'provider execution', \
     '' using 7 lc 6 title 'local / other'

set origin 0.58, 0
set size 0.42, 0.92
set title 'From ready to lease release (ready queue included)'
plot layers_file using 2:xtic(word(layers_groups, int($1) + 1)) title 'ready queue', \
     '' using 3 title 'task admission', \
     '' using ($4-$5) title 'request adm.', \
     '' using 5 title 'cooldown', \
     '' using 6 title 'provider', \
     '' using 7 title 'local / other'

unset multiplot
set origin 0, 0
set size 1, 1
set key default
set xlabel ''
set xtics norotate
set style data points
set style fill empty
set boxwidth
