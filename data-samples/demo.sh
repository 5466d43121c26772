#!/bin/sh
# The demo that `make demo` runs: the whole main job of the toolkit on the
# small real data in data-samples/: pool raw data into input maps, train a
# DDK network, classify the test side, print the accuracy and what the
# network costs.  Argument: the folder of the built tools.  Takes a few
# seconds.
set -e
B=${1:-bin}
D=$(dirname "$0")
W=$(mktemp -d "${TMPDIR:-/tmp}/ddk-demo.XXXXXX")
trap 'rm -rf "$W"' EXIT

# accuracy MODEL MAPS: classify MAPS, print ddk-infer's accuracy line.
accuracy() {
	"$B/ddk-infer" -q -m "$1" -o "$W/pred.tsv" "$2" 2>&1 |
		sed 's/^ddk-infer: /  /'
}
# pair MODEL: the learned alpha and beta.
pair() {
	sed -n 's/^ *"\(alpha\|beta\)": \[\([^]]*\)\],*$/\1 \2/p' "$1" |
		paste -sd' ' - | sed 's/^/  learned /'
}

echo "== Speech: who is talking?  10 KLettres voices; 12 letters of each"
echo "   to train on, 4 other letters of each to test (40 recordings)"
recipe="-l 8000 -u 8 -p 10 --pool-op absmean"
# shellcheck disable=SC2086
"$B/ddk-pool" -q $recipe --manifest "$D/klettres/train.tsv" \
	-o "$W/speech-train.ddk"
# shellcheck disable=SC2086
"$B/ddk-pool" -q $recipe --manifest "$D/klettres/test.tsv" \
	-o "$W/speech-test.ddk"
echo "ddk-pool $recipe:"
echo "  1 s at 8 kHz -> 8 utterances x 100 steps; the first test map:"
# shellcheck disable=SC2086
"$B/ddk-pool" -q $recipe --tsv --manifest "$D/klettres/test.tsv" |
	head -1 | cut -f 1-7 | sed 's/^/  /; s/$/\t.../'
echo "ddk-train: DDK layer (2 parameters) -> 800 features, normalised"
echo "  -> 16 sigmoid -> 10 voices, 100 epochs; --summary:"
"$B/ddk-train" -q -m "$W/speech.json" --hidden 16 --feature-norm \
	--epochs 100 --lr 0.003 --recipe "ddk-pool $recipe" --summary \
	"$W/speech-train.ddk"
pair "$W/speech.json"
accuracy "$W/speech.json" "$W/speech-test.ddk"
echo "the same classifier without the DDK layer (--no-ddk):"
"$B/ddk-train" -q -m "$W/speech-raw.json" --no-ddk --hidden 16 \
	--feature-norm --epochs 100 --lr 0.003 "$W/speech-train.ddk"
accuracy "$W/speech-raw.json" "$W/speech-test.ddk"
echo "(40 test recordings are too few to rank the two: one recording is"
echo " 2.5 points)"

echo
echo "== Fashion-MNIST: 2000 training and 500 test images, 10 classes"
F=$D/fashion-mnist
"$B/ddk-pool" -q --idx "$F/train-images-idx3-ubyte.gz" \
	--labels "$F/train-labels-idx1-ubyte.gz" -o "$W/fashion-train.ddk"
"$B/ddk-pool" -q --idx "$F/t10k-images-idx3-ubyte.gz" \
	--labels "$F/t10k-labels-idx1-ubyte.gz" -o "$W/fashion-test.ddk"
echo "ddk-pool --idx: each image -> a 28 x 28 map (rows are utterances)"
echo "ddk-train: DDK layer -> 784 features, normalised -> 48 sigmoid"
echo "  -> 10 classes (the paper's 784 -> 48 -> 10), 20 epochs; --summary:"
"$B/ddk-train" -q -m "$W/fashion.json" --hidden 48 --feature-norm \
	--epochs 20 --lr 0.003 --summary "$W/fashion-train.ddk"
pair "$W/fashion.json"
accuracy "$W/fashion.json" "$W/fashion-test.ddk"
"$B/ddk-infer" -q -m "$W/fashion.json" --report "$W/report.tsv" \
	"$W/fashion-test.ddk" >/dev/null 2>&1
echo "per class (ddk-infer --report):"
awk -F'\t' 'BEGIN { split("T-shirt/top Trouser Pullover Dress Coat " \
	"Sandal Shirt Sneaker Bag Ankle-boot", name, " ") }
	{ printf "  %-6s %-12s %8s %10s %10s %9s\n", $1,
	  NR == 1 ? "" : name[$1 + 1], $2, $3, $4, $5 }' "$W/report.tsv"
echo "the same classifier without the DDK layer (--no-ddk):"
"$B/ddk-train" -q -m "$W/fashion-raw.json" --no-ddk --hidden 48 \
	--feature-norm --epochs 20 --lr 0.003 "$W/fashion-train.ddk"
accuracy "$W/fashion-raw.json" "$W/fashion-test.ddk"
echo
echo "Full-size runs and the comparison with PyTorch: BENCHMARKS.md."
