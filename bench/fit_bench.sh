#!/bin/sh
# ddk-fit against SciPy's least_squares(method='trf') on the same curves,
# starts and restarts.  Usage: bench/fit_bench.sh [N [SEED [REPS]]] from
# the checkout, after make; DDK_BIN names the tools' folder (default bin).
#
# Both run on one core (taskset, when there is one, and one BLAS thread).
# The pair runs REPS times, alternately, and the speed ratio reported is
# the median of the REPS ratios, so a busy machine shifts both sides.
# Times: ddk-fit's is the whole process (start, parsing the text stream,
# all fits, writing the table); SciPy's is the time inside least_squares
# over all starts of each curve, parsing excluded.
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

secs=
for r in $(seq "$REPS"); do
	t0=$(date +%s.%N)
	$PIN "$B/ddk-fit" -q --restarts 4 --seed 1 "$W/curves.tsv" \
		>"$W/ddk.$r.tsv"
	t1=$(date +%s.%N)
	secs="$secs${secs:+,}$(echo "$t1 - $t0" | bc -l)"
	$PIN "$PY" "$D/fit_scipy.py" --restarts 4 --seed 1 "$W/curves.tsv" \
		>"$W/scipy.$r.tsv"
	cmp -s "$W/ddk.1.tsv" "$W/ddk.$r.tsv" ||
		{ echo "ddk-fit gave another table in run $r" >&2; exit 1; }
done

"$PY" "$D/fit_compare.py" "$secs" "$W/ddk.1.tsv" "$W"/scipy.*.tsv
awk -F'\t' 'NR > 1 { n[$6]++ }
	END { for (s in n) printf "ddk_status\t%s\t%d\n", s, n[s] }' \
	"$W/ddk.1.tsv" | sort
