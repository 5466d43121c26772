#!/bin/sh
# ddk-extract -a A -b B on a large binary stream against cat of the same
# stream and against NumPy (bench/extract_numpy.py, float32, vectorised
# over rows), all writing to /dev/null with the file in the page cache.
# Usage: bench/extract_bench.sh [COPIES [REPS]] from the checkout, after
# make; DDK_BIN names the tools' folder (default bin), FM the folder of
# the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist).
#
# The stream is the 60,000 training images pooled by ddk-pool (28 x 28
# maps, 191 MB), concatenated COPIES times (default 3).  Each rep runs
# cat, ddk-extract, NumPy record by record and NumPy on batches of 4096
# records, one after the other (cat and ddk-extract alternately five
# times); the ratio to cat is the median of the paired ratios, the ratios
# to NumPy are medians over medians, so a busy machine shifts both sides.
# The same ratios in CPU time (user + sys) follow, less moved by load.
# Before timing, the outputs of ddk-extract and of both NumPy runs on one
# copy must have the same bytes.  Last, the peak RSS of ddk-extract on 1
# and 10 copies read from a pipe shows whether memory stays flat.
set -e
COPIES=${1:-3}
REPS=${2:-3}
A=0.1 BETA=0.2
B=${DDK_BIN:-bin}
PY=${PYTHON:-/usr/bin/python3}
FM=${FM:-/usr/share/datasets/fashion-mnist}
D=$(dirname "$0")
W=$(mktemp -d "${TMPDIR:-/tmp}/extract-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
TIME="/usr/bin/time -f %e\t%U\t%S\t%M"

"$B/ddk-pool" -q --idx "$FM/train-images-idx3-ubyte.gz" \
	--labels "$FM/train-labels-idx1-ubyte.gz" -o "$W/one.ddk"
for i in $(seq "$COPIES"); do cat "$W/one.ddk"; done >"$W/big.ddk"
values=$((60000 * 784 * COPIES))
echo "stream: $COPIES x 60000 maps of 28 x 28, $values values," \
	"$(wc -c <"$W/big.ddk") bytes"

# Same bytes from all three, or the comparison means nothing.
"$B/ddk-extract" -q -a $A -b $BETA "$W/one.ddk" >"$W/ours.ddk"
"$PY" "$D/extract_numpy.py" $A $BETA "$W/one.ddk" "$W/np.ddk"
cmp "$W/ours.ddk" "$W/np.ddk"
"$PY" "$D/extract_numpy.py" $A $BETA "$W/one.ddk" "$W/np.ddk" --batch 4096
cmp "$W/ours.ddk" "$W/np.ddk"
rm -f "$W/ours.ddk" "$W/np.ddk"
echo "outputs: ddk-extract and NumPy (both ways) give the same bytes"

# timed NAME CMD...: one line "NAME elapsed user sys maxrss_kB"; the
# elapsed time from date, to the nanosecond (time(1) gives 10 ms).
timed() {
	name=$1; shift
	t0=$(date +%s.%N)
	$TIME -o "$W/t" "$@" >/dev/null
	t1=$(date +%s.%N)
	printf '%s\t%.4f\t%s\n' "$name" "$(echo "$t1 - $t0" | bc -l)" \
		"$(cut -f 2- "$W/t")" >>"$W/times"
}

cat "$W/big.ddk" >/dev/null
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$W/times"
for r in $(seq "$REPS"); do
	for i in 1 2 3 4 5; do
		timed cat cat "$W/big.ddk"
		timed extract "$B/ddk-extract" -q -a $A -b $BETA \
			"$W/big.ddk"
	done
	timed numpy "$PY" "$D/extract_numpy.py" $A $BETA "$W/big.ddk" \
		/dev/null
	timed numpy-batch "$PY" "$D/extract_numpy.py" $A $BETA \
		"$W/big.ddk" /dev/null --batch 4096
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

printf 'run\telapsed_s\tuser_s\tsys_s\tmaxrss_kB\n'
cat "$W/times"
awk -F'\t' -v values="$values" '
	{ t[$1, ++n[$1]] = $2; c[$1, n[$1]] = $3 + $4 }
	function median(r, k,   i, j, x) {     # of r[1..k], sorted in place
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && r[j - 1] > r[j]; j--) {
				x = r[j]; r[j] = r[j - 1]; r[j - 1] = x
			}
		return k % 2 ? r[(k + 1) / 2] : (r[k / 2] + r[k / 2 + 1]) / 2
	}
	function med(a,   i, r) {
		for (i = 1; i <= n[a]; i++) r[i] = t[a, i]
		return median(r, n[a])
	}
	function paired(a, b,   i, r) {        # median of a_i / b_i
		for (i = 1; i <= n[a]; i++) r[i] = t[a, i] / t[b, i]
		return median(r, n[a])
	}
	function cmed(a,   i, r) {             # median CPU seconds
		for (i = 1; i <= n[a]; i++) r[i] = c[a, i]
		return median(r, n[a])
	}
	END {
		printf "median seconds: cat %.4f, ddk-extract %.4f, " \
		       "numpy %.2f, numpy-batch %.2f\n", med("cat"),
		       med("extract"), med("numpy"), med("numpy-batch")
		printf "values/s (medians): cat %.3g, ddk-extract %.3g, " \
		       "numpy %.3g, numpy-batch %.3g\n",
		       values / med("cat"), values / med("extract"),
		       values / med("numpy"), values / med("numpy-batch")
		printf "ddk-extract / cat: %.2f (median of %d paired runs)\n",
		       paired("extract", "cat"), n["cat"]
		printf "numpy / ddk-extract: %.1f (median over median)\n",
		       med("numpy") / med("extract")
		printf "numpy-batch / ddk-extract: %.1f\n",
		       med("numpy-batch") / med("extract")
		printf "median CPU seconds (user + sys, to 10 ms): cat %.2f, " \
		       "ddk-extract %.2f, numpy %.2f, numpy-batch %.2f\n",
		       cmed("cat"), cmed("extract"), cmed("numpy"),
		       cmed("numpy-batch")
		printf "in CPU time: ddk-extract / cat %.2f, numpy / " \
		       "ddk-extract %.1f, numpy-batch / ddk-extract %.1f\n",
		       cmed("extract") / cmed("cat"),
		       cmed("numpy") / cmed("extract"),
		       cmed("numpy-batch") / cmed("extract")
	}' "$W/times"

# Flat memory: the same peak RSS for 1 and 10 copies through a pipe.
for n in 1 10; do
	rss=$(for i in $(seq $n); do cat "$W/one.ddk"; done |
		/usr/bin/time -f %M "$B/ddk-extract" -q -a $A -b $BETA \
		2>&1 >/dev/null)
	echo "peak RSS of ddk-extract on $n copies from a pipe: $rss kB"
done
