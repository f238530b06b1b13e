# request.gp: request admission over virtual time, one picture per request
# resource -> <dir>/<word n+1 of request_pictures>.<fmt> (admitsim plot names
# them request-<key with '/' as '_'>; request-<n> when not set).
# In flight as a step series; the effective max (the cap the adaptive limit
# may rise to) as a wide pale band and the current limit as a line on it, so
# both show where they are equal; the cooldown in force after each
# rate-limited answer shaded; each rate-limited answer a red cross.
#
# Needs common.gp loaded first (dir, fmt, run_title; see there), and
#   request_resources   the resource keys ("provider/model/domain"), one word
#                       each; word n+1 is read from request-<n>.dat ['': no
#                       pictures]
#   request_pictures    the pictures' names, one word per resource [request-<n>]
#   request_ratelimits  rows in each request-<n>-ratelimits.dat, one number
#                       per resource; 0 leaves out the 'rate limited' marks
#                       [counted with stats when not set]
#
# Reads, for each resource n:
#   <dir>/request-<n>.dat             one row per request admission event:
#       1 virtual time (s)  2 in flight  3 current limit  4 effective max
#   <dir>/request-<n>-ratelimits.dat  one row per rate-limited answer:
#       1 virtual time (s)  2 in flight then  3 end of the cooldown (s)
#
#   gnuplot -e "dir='out/plots/run-3'; request_resources='p/m/chat'" plots/common.gp plots/request.gp

if (!exists("admitsim_common")) exit error "request.gp: load plots/common.gp first"
if (!exists("request_resources")) request_resources = ''
if (!exists("request_ratelimits")) request_ratelimits = ''
if (!exists("request_pictures")) request_pictures = ''

do for [r=1:words(request_resources)] {
    request_file = dir.sprintf('/request-%d.dat', r - 1)
    limits_file = dir.sprintf('/request-%d-ratelimits.dat', r - 1)
    if (words(request_ratelimits) >= r) {
        nlimited = int(word(request_ratelimits, r))
    } else {
        undefine STATS_*
        stats limits_file using 1 nooutput
        nlimited = exists("STATS_records") ? STATS_records : 0
    }
    # Shade each cooldown from the later of its start and the end of the
    # shading so far (at most 4000 rectangles).
    unset object
    if (nlimited > 0) {
        array shade_from[nlimited]
        array shade_to[nlimited]
        nshaded = 0
        shaded_until = -1
        stats limits_file using ($3 > shaded_until && nshaded < 4000 ? \
            (nshaded = nshaded + 1, shade_from[nshaded] = $1 > shaded_until ? $1 : shaded_until, \
             shade_to[nshaded] = $3, shaded_until = $3) : 0) nooutput
        do for [k=1:nshaded] {
            set object k rect from shade_from[k], graph 0 to shade_to[k], graph 1 behind \
                fc rgb '#f4c7c3' fs solid 0.6 noborder
        }
    }
    request_picture = words(request_pictures) >= r ? word(request_pictures, r) \
                                                   : sprintf('request-%d', r - 1)
    set output dir.'/'.request_picture.'.'.fmt
    set title run_title."\nRequest admission: ".word(request_resources, r). \
        sprintf(" (%d rate-limited answers; shaded: cooling down)", nlimited)
    set xlabel 'virtual time (s)'
    set ylabel 'model calls'
    set key outside right
    undefine STATS_*
    stats request_file using 4 nooutput
    set yrange [0:(exists("STATS_max") ? STATS_max : 1) * 1.1 + 0.5]
    # (two plot commands: gnuplot opens a file even under an empty `for`)
    if (nlimited > 0) {
        plot request_file using 1:4 with steps lw 9 lc rgb '#b8d8f0' title 'effective max', \
             '' using 1:3 with steps lw 2 lc rgb '#1f5fa8' title 'current limit', \
             '' using 1:2 with steps lw 1 lc rgb '#6a3d9a' title 'in flight', \
             limits_file using 1:2 with points pt 2 ps 1.6 lw 2 lc rgb '#d62728' \
                 title 'rate-limited answer'
    } else {
        plot request_file using 1:4 with steps lw 9 lc rgb '#b8d8f0' title 'effective max', \
             '' using 1:3 with steps lw 2 lc rgb '#1f5fa8' title 'current limit', \
             '' using 1:2 with steps lw 1 lc rgb '#6a3d9a' title 'in flight'
    }
    set yrange [*:*]
    unset object
}
