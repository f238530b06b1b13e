# layers.gp: where each group's task time went, as stacked bars per group
# -> <dir>/layers.<fmt>. Left: from ready to lease release. Right: only the
# layers met while holding the task lease (same colours as on the left).
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
set multiplot layout 1,2 title run_title."\nWhere each group's task time went"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right top
set xlabel 'group'
set ylabel 'task-seconds'
set xtics rotate by -20

set title 'From ready to lease release'
plot layers_file using 2:xtic(word(layers_groups, int($1) + 1)) title 'ready queue', \
     '' using 3 title 'task admission', \
     '' using ($4-$5) title 'request admission (not cooling)', \
     '' using 5 title 'request cooldown', \
     '' using 6 title 'provider execution', \
     '' using 7 title 'local / other'

set title 'While holding the task lease'
plot layers_file using ($4-$5):xtic(word(layers_groups, int($1) + 1)) lc 3 title 'request admission (not cooling)', \
     '' using 5 lc 4 title 'request cooldown', \
     '' using 6 lc 5 title 'provider execution', \
     '' using 7 lc 6 title 'local / other'

unset multiplot
set xtics norotate
set style data points
set style fill empty
set boxwidth
