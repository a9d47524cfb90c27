# bench/chart.gp — draws docs/fit_compare.png from fit_compare's --plot_data file (run by //bench:chart).
# Variables set by the caller: datafile, outfile, machine (a one-line description of where it was measured).
set terminal pngcairo size 1400,1200 font "DejaVu Sans,11"
set output outfile
set multiplot layout 3,1 title "fit\\_compare: ".machine font ",12"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top vertical
set grid ytics mytics
set logscale y
# Twelve colours that stay apart (gnuplot's default cycle repeats after eight); more rows reuse them in order.
palette = "#4e79a7 #f28e2b #e15759 #76b7b2 #59a14f #edc948 #b07aa1 #ff9da7 #9c755f #222222 #17becf #a0cbe8"
colour(i) = word(palette, (i - 2) % 12 + 1)
# One cluster per workload (data rows after the header): keep the x range tight around them.
stats datafile index 0 using 2 nooutput
set xrange [-0.6:STATS_records - 0.4]
set xlabel "workload (a: churn small, b: churn medium, c: LIFO, e: embedded)"
set title "Throughput, M calls per CPU-second (median of interleaved runs; higher is better)"
plot for [i=2:*] datafile index 0 using i:xtic(1) title columnheader(i) linecolor rgb colour(i)
set title "allocate latency p99.9, ns (TSC, timer cost included; lower is better)"
plot for [i=2:*] datafile index 1 using i:xtic(1) title columnheader(i) linecolor rgb colour(i)
set title "free latency p99.9, ns (lower is better)"
plot for [i=2:*] datafile index 2 using i:xtic(1) title columnheader(i) linecolor rgb colour(i)
unset multiplot
