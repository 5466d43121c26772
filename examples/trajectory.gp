# The conductance trajectory of one row under ddk-extract --device, below
# the input row that drove it.  Run by examples/trajectory.sh, or as
#
#   gnuplot -e "dat='row.dat'; png='row.png'; name='KEY, row 1'" \
#       examples/trajectory.gp
#
# row.dat has three columns: pulse t (1..T), input x(t-1) in [0, 1], and
# the conductance read after pulse t, in siemens.
if (!exists("dat")) dat = 'row.dat'
if (!exists("png")) png = 'trajectory.png'
if (!exists("name")) name = dat

set terminal pngcairo size 900,600 font ",11"
set output png
set multiplot layout 2,1 title "ddk-extract --device: ".name
set lmargin 12
set grid

set ylabel "input x"
set yrange [-0.05:1.05]
set format x ""
plot dat using 1:2 with steps lw 1.5 lc rgb "#54147f" notitle

set xlabel "pulse"
set ylabel "conductance (uS)"
set autoscale y
set format x "%g"
plot dat using 1:($3 * 1e6) with linespoints pt 7 ps 0.5 lw 1.5 \
	lc rgb "#e35a3c" notitle
unset multiplot
