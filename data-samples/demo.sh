#!/bin/sh
# The demo that `make demo` runs: what the toolkit does with the small real
# data in data-samples/.  Argument: the folder of the built tools.
set -e
B=${1:-bin}
D=$(dirname "$0")
W=$(mktemp -d "${TMPDIR:-/tmp}/ddk-demo.XXXXXX")
trap 'rm -rf "$W"' EXIT

echo "== ddk-pool: 160 spoken letters, 10 voices -> 8 x 100 input maps"
"$B/ddk-pool" -q -l 48000 -u 8 -p 60 --pool-op absmean \
	--manifest "$D/klettres/train.tsv" -o "$W/train.ddk"
"$B/ddk-pool" -q -l 48000 -u 8 -p 60 --pool-op absmean \
	--manifest "$D/klettres/test.tsv" -o "$W/test.ddk"
"$B/ddk-pool" -l 48000 -u 8 -p 60 --pool-op absmean --tsv \
	"$D/klettres/fr/a-0.ogg" | cut -f 1-9 | sed 's/$/\t.../'
echo "train: $(wc -c <"$W/train.ddk") bytes, test: $(wc -c <"$W/test.ddk") bytes"

echo "== ddk-pool: 200 Fashion-MNIST images -> 28 x 28 maps"
"$B/ddk-pool" -q --idx "$D/fashion-mnist/images-idx3-ubyte.gz" \
	--labels "$D/fashion-mnist/labels-idx1-ubyte.gz" --tsv |
	cut -f 1-4 | sort -t "$(printf '\t')" -k2,2 -u | head -10
