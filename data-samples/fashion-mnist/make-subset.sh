#!/bin/sh
# make-subset.sh [OUTDIR [SRC]]: the Fashion-MNIST subset kept here.
#
# From SRC (default /usr/share/datasets/fashion-mnist, Debian's
# dataset-fashion-mnist) writes into OUTDIR (default this script's folder)
# the first 2000 training images and labels and the first 500 test images
# and labels, in IDX form under the original names, gzipped without a name
# or a time stamp (gzip -n -9), so the same gzip gives the same bytes.
set -eu
export LC_ALL=C
prog=make-subset.sh
n_train=2000
n_test=500
die() { echo "$prog: $*" >&2; exit 1; }
[ $# -le 2 ] || { echo "usage: $prog [OUTDIR [SRC]]" >&2; exit 2; }
out=${1:-$(dirname "$0")}
src=${2:-/usr/share/datasets/fashion-mnist}
[ -d "$src" ] || die "$src: no such folder (apt-get install" \
	"dataset-fashion-mnist)"
mkdir -p "$out" || die "$out: cannot make the folder"

# be32 N: N as four big-endian bytes.
be32() {
	for shift in 24 16 8 0; do
		printf "\\$(printf %03o $(( ($1 >> shift) & 255 )))"
	done
}

# cut_idx NAME N ITEM_BYTES MAGIC DIMS...: the first N items of NAME.
cut_idx() {
	name=$1 n=$2 item=$3 magic=$4; shift 4
	[ -f "$src/$name" ] || die "$src/$name: no such file"
	{
		be32 "$magic"; be32 "$n"
		for d; do be32 "$d"; done
		gzip -dc "$src/$name" | tail -c +$(( 9 + 4 * $# )) |
			head -c $(( n * item ))
	} | gzip -n -9 >"$out/.$name.$$"
	got=$(gzip -dc "$out/.$name.$$" | wc -c)
	[ "$got" -eq $(( 8 + 4 * $# + n * item )) ] ||
		die "$src/$name: shorter than $n items"
	mv "$out/.$name.$$" "$out/$name"
}

trap 'rm -f "$out"/.*-ubyte.gz.$$' EXIT
cut_idx train-images-idx3-ubyte.gz $n_train 784 2051 28 28
cut_idx train-labels-idx1-ubyte.gz $n_train 1 2049
cut_idx t10k-images-idx3-ubyte.gz $n_test 784 2051 28 28
cut_idx t10k-labels-idx1-ubyte.gz $n_test 1 2049
