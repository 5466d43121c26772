#!/bin/sh
# ddk-fit against SciPy's least_squares(method='trf') on the same curves,
# starts and restarts.  Usage: bench/fit_bench.sh [N [SEED [REPS]]] from
# the checkout, after make; DDK_BIN names the tools' folder (default bin).
#
# Both run on one core (taskset, when there is one, and one BLAS thread).
# The pair runs REPS times, alternately; in each, ddk-fit runs 5 times
# (its median counts).  Ratios are per run and their median is reported.
# Times: ddk-fit's is the whole process (start, parsing the text stream,
# all fits, writing the table); SciPy's is the time inside least_squares
# over all starts of each curve, parsing excluded.  Both are given as
# CPU time (user + system: what a shared machine does not distort) and
# as wall time.
set -e
N=${1:-1200}
SEED=${2:-2027}
REPS=${3:-3}
B=${DDK_BIN:-bin}
PY=${PYTHON:-/usr/bin/python3}
D=$(dirname "$0")
W=$(mktemp -d "${TMPDIR:-/tmp}/fit-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PIN=
command -v taskset >/dev/null 2>&1 && PIN="taskset -c ${CPU:-0}"

"$PY" "$D/fit_gen.py" "$N" "$SEED" >"$W/curves.tsv"

# median: the middle of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

wall= cpu=
for r in $(seq "$REPS"); do
	: >"$W/times"
	for k in 1 2 3 4 5; do
		/usr/bin/time -a -o "$W/times" -f '%e %U %S' \
			$PIN "$B/ddk-fit" -q --restarts 4 --seed 1 \
			"$W/curves.tsv" >"$W/ddk.$r.tsv"
	done
	wall="$wall${wall:+,}$(awk '{ print $1 }' "$W/times" | median)"
	cpu="$cpu${cpu:+,}$(awk '{ print $2 + $3 }' "$W/times" | median)"
	$PIN "$PY" "$D/fit_scipy.py" --restarts 4 --seed 1 "$W/curves.tsv" \
		>"$W/scipy.$r.tsv"
	cmp -s "$W/ddk.1.tsv" "$W/ddk.$r.tsv" ||
		{ echo "ddk-fit gave another table in run $r" >&2; exit 1; }
done

"$PY" "$D/fit_compare.py" "$wall" "$cpu" "$W/ddk.1.tsv" "$W"/scipy.*.tsv
awk -F'\t' 'NR > 1 { n[$6]++ }
	END { for (s in n) printf "ddk_status\t%s\t%d\n", s, n[s] }' \
	"$W/ddk.1.tsv" | sort
