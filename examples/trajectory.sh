#!/bin/sh
# Plot the conductance trajectory of one row of a pooled sound through the
# physical device model, as a PNG.
#
#   examples/trajectory.sh SOUND [ROW [OUT.png [DEVICE-OPTION...]]]
#
# SOUND is pooled by ddk-pool into 4 rows of 120 steps (24,000 samples,
# mean of 50); row ROW (default 1) drives ddk-extract --device with the
# given options (default: the paper's device); awk cuts the row out of
# both text streams and gnuplot draws examples/trajectory.gp into OUT.png
# (default trajectory.png).  The tools are taken from DDK_BIN (default
# bin) when it holds them, else from PATH.
set -e
[ $# -ge 1 ] || { echo "usage: $0 SOUND [ROW [OUT.png [OPTION...]]]" >&2
	exit 2; }
sound=$1 row=${2:-1} png=${3:-trajectory.png}
shift; [ $# -gt 0 ] && shift; [ $# -gt 0 ] && shift
B=${DDK_BIN:-bin}
[ -x "$B/ddk-extract" ] && PATH=$B:$PATH
W=$(mktemp -d "${TMPDIR:-/tmp}/trajectory.XXXXXX")
trap 'rm -rf "$W"' EXIT

ddk-pool -q -l 24000 -u 4 -p 50 --tsv "$sound" >"$W/in.tsv"
ddk-extract -q --device --tsv "$@" "$W/in.tsv" >"$W/g.tsv"

# cut ROW of the first record: fields 1-4 are key, label, rows, cols
cut_row() {
	awk -F '\t' -v r="$row" 'NR == 1 {
		if (r < 1 || r > $3) {
			printf "trajectory.sh: row %s: the map has %d rows\n",
				r, $3 > "/dev/stderr"
			exit 1
		}
		for (t = 1; t <= $4; t++) print $(4 + (r - 1) * $4 + t) }' "$1"
}
cut_row "$W/in.tsv" >"$W/x"
cut_row "$W/g.tsv" >"$W/g"
paste "$W/x" "$W/g" | awk '{ print NR "\t" $0 }' >"$W/row.dat"
key=$(cut -f 1 "$W/in.tsv" | head -1)
gnuplot -e "dat='$W/row.dat'; png='$png'; name='$key, row $row'" \
	"$(dirname "$0")/trajectory.gp"
echo "$png"
