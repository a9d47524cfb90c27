# bench/scaling_chart.gp — draws docs/scaling.png from scaling_bench's --plot_data file (run by
# //bench:scaling_chart). Variables set by the caller: datafile, outfile, machine.
set terminal pngcairo size 2000,900 font "DejaVu Sans,11"
set output outfile
set multiplot layout 1,3 title "scaling\\_bench: p99.9 latency vs free blocks, one line per arena (".machine.")" font ",12"
set logscale xy
set grid xtics ytics mxtics mytics
set xlabel "free blocks"
set ylabel "ns (TSC, timer cost included)"
set key top left
arenas = "64KiB 1MiB 16MiB 256MiB 1GiB"
set title "allocate p99.9: SegregatedFit (solid) vs FirstFit (dashed)"
plot for [i=0:4] datafile index i using 1:2 with linespoints lw 2 lc i+1 dt 1 title "seg ".word(arenas, i+1), \
     for [i=0:4] datafile index i using 1:3 with linespoints lw 2 lc i+1 dt 2 title "first ".word(arenas, i+1)
set title "free p99.9: SegregatedFit (solid) vs FirstFit (dashed)"
plot for [i=0:4] datafile index i using 1:4 with linespoints lw 2 lc i+1 dt 1 title "seg ".word(arenas, i+1), \
     for [i=0:4] datafile index i using 1:5 with linespoints lw 2 lc i+1 dt 2 title "first ".word(arenas, i+1)
set title "diagnosis: allocate p99.9 without post-kernel-entry TLB refills"
plot for [i=0:4] datafile index i using 1:6 with linespoints lw 2 lc i+1 dt 1 title "seg ".word(arenas, i+1), \
     for [i=0:4] datafile index i using 1:7 with linespoints lw 2 lc i+1 dt 2 title "first ".word(arenas, i+1)
unset multiplot
