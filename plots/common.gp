# common.gp: settings shared by the admitsim pictures; load it before
# timeline.gp, request.gp, cdf.gp or layers.gp.
#
# Variables (set them before this file, e.g. with -e or the params.gp that
# `admitsim plot` writes; the defaults are in brackets). Written for gnuplot
# 5.4 (arrays, stats expressions with assignments, `exit error`).
#   dir        directory holding the *.dat files; the pictures go there too ['.']
#   fmt        picture format and file extension, 'png' or 'svg' ['png']
#   terminal   gnuplot terminal spec [chosen from fmt: pngcairo 1400x650 or
#              svg 1200x600, both noenhanced so names print as written]
#   run_title  first line of every title: scenario, policy, seed, iteration
#              ['admitsim run']
#
# By hand, for one picture of a run drawn before into out/plots/run-3:
#   gnuplot out/plots/run-3/params.gp plots/common.gp plots/cdf.gp
# or with every variable spelled out:
#   gnuplot -e "dir='out/plots/run-3'; cdf_ready_groups='a b'" plots/common.gp plots/cdf.gp

if (!exists("dir")) dir = '.'
if (!exists("fmt")) fmt = 'png'
if (!exists("run_title")) run_title = 'admitsim run'
admitsim_terminal = exists("terminal") ? terminal : \
    fmt eq 'svg' ? "svg size 1200,600 dynamic noenhanced font 'sans,11'" \
                 : "pngcairo size 1400,650 noenhanced font 'sans,10'"
set terminal @admitsim_terminal
set grid
set datafile commentschars '#'
admitsim_common = 1
