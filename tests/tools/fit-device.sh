#!/bin/sh
# The paper's Fig. 2 claim, on the physical device model: beta fitted to
# RESET conductance curves rises with the pulse amplitude and with the
# pulse width.  Curves come from ddk-extract --device (100 pulses of x = 1,
# so every pulse has the --v-hi amplitude or the --t-hi width).
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
F=$B/ddk-fit X=$B/ddk-extract
[ -x "$F" ] || { echo "no $F"; exit 1; }
[ -x "$X" ] || { echo "no $X: skipped"; exit 77; }

awk 'BEGIN { printf "pulses\t\t1\t100"; for (t = 0; t < 100; t++)
	printf "\t1"; print "" }' >"$W/ones.tsv"

# rising NAME ARGS...: beta (column 3) of each run, in order, must rise.
rising() {
	name=$1; shift
	: >"$W/betas"
	for a in "$@"; do
		# shellcheck disable=SC2086
		"$X" -q --device $a "$W/ones.tsv" >"$W/g" ||
			{ fail "$name: ddk-extract $a"; return; }
		"$F" -q --restarts 4 "$W/g" | tail -n +2 | cut -f3 >>"$W/betas"
	done
	awk -v name="$name" 'NR > 1 && !($1 > last) { print name ": beta " \
		$1 " after " last; bad++ } { last = $1 } END { exit bad ||
		NR != '"$#"' }' "$W/betas" || fail "$name: beta does not rise: \
$(tr '\n' ' ' <"$W/betas")"
}

rising amplitude "--v-hi 2" "--v-hi 2.25" "--v-hi 2.5" "--v-hi 2.75" \
	"--v-hi 3"
rising width "--pulse width --t-hi 50n" "--pulse width --t-hi 100n" \
	"--pulse width --t-hi 150n" "--pulse width --t-hi 200n"
finish
