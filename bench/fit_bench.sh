#!/bin/sh
# ddk-fit against SciPy's least_squares(method='trf') on the same curves,
# starts and restarts.  Usage: bench/fit_bench.sh [N [SEED]] from the
# checkout, after make; DDK_BIN names the tools' folder (default bin).
# Prints the comparison of bench/fit_compare.py.
set -e
N=${1:-1200}
SEED=${2:-2027}
B=${DDK_BIN:-bin}
PY=${PYTHON:-/usr/bin/python3}
D=$(dirname "$0")
W=$(mktemp -d "${TMPDIR:-/tmp}/fit-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$PY" "$D/fit_gen.py" "$N" "$SEED" >"$W/curves.tsv"

# ddk-fit: the whole run's wall time, process start and parsing included.
t0=$(date +%s.%N)
"$B/ddk-fit" -q --restarts 4 --seed 1 "$W/curves.tsv" >"$W/ddk.tsv"
t1=$(date +%s.%N)

# SciPy: the time inside least_squares per curve (parsing excluded).
"$PY" "$D/fit_scipy.py" --restarts 4 --seed 1 "$W/curves.tsv" >"$W/scipy.tsv"

"$PY" "$D/fit_compare.py" "$W/ddk.tsv" "$W/scipy.tsv" \
	"$(echo "$t1 - $t0" | bc -l)"
awk -F'\t' 'NR > 1 { n[$6]++ } END { for (s in n) printf "ddk_status\t%s\t%d\n", s, n[s] }' \
	"$W/ddk.tsv" | sort
