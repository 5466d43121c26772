#!/bin/sh
# ddk-train end to end: learning works, every option has the effect its
# man page names (checked in the model file), --summary counts, one seed
# gives one file, and a run killed with SIGKILL and resumed gives the
# same file as a run left alone.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
TR=$B/ddk-train
IN=$B/ddk-infer
[ -x "$TR" ] && [ -x "$IN" ] || { echo "no $TR or $IN"; exit 1; }

# gen C N U T SEED: N maps of U x T per class, bright (0.6..0.8) in the
# class's block of columns and dim (0.1..0.3) elsewhere.
gen() { maps "$1" "$2" "$3" "$4" "$5" 0.2 0.5 plain; }
gen 3 40 2 12 7 >"$W/train.tsv"
gen 3 10 2 12 99 >"$W/test.tsv"
gen 3 10 2 12 123 >"$W/val.tsv"

# arr MODEL KEY: the first array called KEY in a model, one value a line
# (the writer puts each array on one line).
arr() {
	grep -m1 "\"$2\": \[" "$1" | sed 's/.*"'"$2"'": \[//; s/\].*//' |
		tr ',' '\n' | tr -d ' '
}
# layers MODEL: the classifier's layers as type:in:out, comma-separated.
layers() {
	grep -o '"type": "[a-z]*"\(, "in": [0-9]*, "out": [0-9]*\)\?'\
'\|"function": "[a-z]*"' "$1" |
		sed 's/"type": //; s/"function": //; s/, "in": /:/; s/, "out": /:/' |
		tr -d '"' | paste -sd, -
}
# acc MODEL FILE: the accuracy ddk-infer reports on FILE.
acc() {
	"$IN" -q -m "$1" "$2" 2>&1 >/dev/null |
		sed -n 's/^ddk-infer: accuracy \([0-9.]*\) .*/\1/p'
}
# ge A B: A >= B, as numbers.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
train() { "$TR" -q "$@" "$W/train.tsv"; }

# -- command line -------------------------------------------------------------
"$TR" --help >"$W/help" 2>"$W/err" || fail "--help exited nonzero"
grep -q '^usage: ddk-train' "$W/help" || fail "--help: no usage on stdout"
for o in hidden activation batchnorm epochs batch lr optimizer momentum \
	weight-decay lr-steps seed val val-split freeze-ddk init-model no-ddk \
	feature-norm summary resume checkpoint keep-checkpoint in-place; do
	grep -q -- "--$o" "$W/help" || fail "--help does not name --$o"
done
expect_status 2 "$TR" --bogus -m "$W/x.json" "$W/train.tsv"
expect_status 2 "$TR" "$W/train.tsv"
[ -e "$W/x.json" ] && fail "a usage error left a model behind"

# -- learning works: chance before, high accuracy after -----------------------
train -m "$W/m0.json" --epochs 1 --lr 1e-6 --hidden 8 ||
	fail "one tiny step: exit $?"
train -m "$W/m.json" --epochs 20 --lr 0.05 --hidden 8 2>"$W/err" ||
	fail "training: exit $?"
[ -s "$W/err" ] && fail "-q: wrote to stderr: $(head -c 200 "$W/err")"
a0=$(acc "$W/m0.json" "$W/test.tsv")
a1=$(acc "$W/m.json" "$W/test.tsv")
ge 0.6 "$a0" || fail "an untrained model already scores $a0"
ge "$a1" 0.95 || fail "a trained model scores only $a1 on separable data"
[ -e "$W/m.json.ckpt" ] && fail "the checkpoint was left after success"
grep -q '"format": "ddk-model"' "$W/m.json" || fail "no format name"
[ "$(arr "$W/m.json" classes | paste -sd, -)" = '"c0","c1","c2"' ] ||
	fail "classes: $(arr "$W/m.json" classes | paste -sd, -)"
grep -q '"input": {"rows": 2, "cols": 12}' "$W/m.json" || fail "input shape"
grep -q '"options": "--epochs 20 --lr 0.05 --hidden 8"' "$W/m.json" ||
	fail "the options are not recorded"
[ "$(grep -c '^      {"epoch": ' "$W/m.json")" -eq 20 ] ||
	fail "--epochs 20: not 20 epochs in the history"

# progress: the configuration once, then one line per epoch
"$TR" -m "$W/p.json" --epochs 3 --val "$W/val.tsv" "$W/train.tsv" \
	2>"$W/err" || fail "progress run: exit $?"
line='^ddk-train: epoch [0-9]/3 loss [0-9.]* train [0-9.]* val [0-9.]* [0-9.]* s$'
[ "$(grep -c "$line" "$W/err")" -eq 3 ] ||
	fail "epoch lines: $(cat "$W/err")"
grep -q '^ddk-train: 120 examples of 2x12, 3 classes, 30 for validation, in memory$' \
	"$W/err" || fail "configuration line: $(head -1 "$W/err")"

# -- the shape options change the layers ----------------------------------
[ "$(layers "$W/m.json")" = "dense:24:8,activation,sigmoid,dense:8:3" ] ||
	fail "--hidden 8: $(layers "$W/m.json")"
train -m "$W/lin.json" --epochs 1 || fail "linear: exit $?"
[ "$(layers "$W/lin.json")" = "dense:24:3" ] ||
	fail "no --hidden: $(layers "$W/lin.json")"
train -m "$W/deep.json" --epochs 1 --hidden 8,4 --activation relu \
	--batchnorm || fail "deep: exit $?"
bn_relu=batchnorm,activation,relu
[ "$(layers "$W/deep.json")" = "dense:24:8,$bn_relu,dense:8:4,$bn_relu,dense:4:3" ] ||
	fail "--hidden 8,4 --activation relu --batchnorm: $(layers "$W/deep.json")"
[ "$(arr "$W/deep.json" running_var | wc -l)" -eq 8 ] ||
	fail "--batchnorm: running_var of the wrong size"
for f in tanh identity; do
	train -m "$W/a.json" --epochs 1 --hidden 4 --activation $f ||
		fail "--activation $f: exit $?"
	grep -q "\"function\": \"$f\"" "$W/a.json" || fail "--activation $f"
done
train -m "$W/ch.json" --epochs 1 --channels 3 --per-row --mode set ||
	fail "channels: exit $?"
[ "$(arr "$W/ch.json" alpha | wc -l)" -eq 6 ] ||
	fail "--channels 3 --per-row: not 3 x 2 alphas"
grep -q '"layout": "row"' "$W/ch.json" || fail "--per-row: layout"
grep -q '"mode": "set"' "$W/ch.json" || fail "--mode set"
[ "$(layers "$W/ch.json")" = "dense:72:3" ] ||
	fail "--channels 3: $(layers "$W/ch.json")"

# -- --no-ddk: no DDK layer, the classifier sees the maps -----------------
train -m "$W/nd.json" --epochs 20 --lr 0.05 --no-ddk || fail "--no-ddk: exit $?"
grep -q '"ddk": null' "$W/nd.json" || fail "--no-ddk: a DDK layer is there"
ge "$(acc "$W/nd.json" "$W/test.tsv")" 0.95 || fail "--no-ddk does not learn"

# -- --feature-norm stores the training set's mean and variance ----------
# Without the DDK layer the features are the maps, so awk can check them.
train -m "$W/fn.json" --epochs 1 --no-ddk --feature-norm ||
	fail "--feature-norm: exit $?"
arr "$W/fn.json" mean >"$W/mean"
arr "$W/fn.json" inv_std >"$W/istd"
[ "$(wc -l <"$W/mean")" -eq 24 ] ||
	fail "--feature-norm: $(wc -l <"$W/mean") means"
awk -F'\t' 'FILENAME != "-" { if (FNR == 1) f++; v[f, FNR] = $1; next }
	{ n++; for (j = 1; j <= 24; j++) { s[j] += $(j + 4); q[j] += $(j + 4) ^ 2 } }
	END { for (j = 1; j <= 24; j++) {
		m = s[j] / n; var = q[j] / n - m * m
		is = 1 / sqrt(var + 1e-8)
		if ((m - v[1, j]) ^ 2 > (1e-5 * m) ^ 2 ||
		    (is - v[2, j]) ^ 2 > (1e-3 * is) ^ 2) {
			print j ": " m " " v[1, j] " " is " " v[2, j]; bad++ } }
		exit bad }' "$W/mean" "$W/istd" - <"$W/train.tsv" ||
	fail "--feature-norm: statistics are not the training set's"
train -m "$W/fn2.json" --epochs 1 --feature-norm || fail "fn with ddk: exit $?"
[ "$(arr "$W/fn2.json" inv_std | wc -l)" -eq 24 ] || fail "fn with ddk: size"
grep -q '"feature_norm": null' "$W/m.json" || fail "no --feature-norm: not null"

# -- --freeze-ddk keeps alpha and beta exactly; --alpha/--beta start there
train -m "$W/fz.json" --epochs 5 --lr 0.05 --alpha 0.3 --beta 0.2 \
	--freeze-ddk || fail "--freeze-ddk: exit $?"
[ "$(arr "$W/fz.json" alpha)" = 0.300000012 ] &&
	[ "$(arr "$W/fz.json" beta)" = 0.200000003 ] ||
	fail "--freeze-ddk moved the pair: $(arr "$W/fz.json" alpha)"
grep -q '"trainable": false' "$W/fz.json" || fail "--freeze-ddk: trainable"
train -m "$W/nf.json" --epochs 5 --lr 0.05 --alpha 0.3 --beta 0.2 ||
	fail "unfrozen: exit $?"
[ "$(arr "$W/nf.json" alpha)" != 0.300000012 ] ||
	fail "without --freeze-ddk alpha did not move"

# bounds hold after every step
train -m "$W/bd.json" --epochs 10 --lr 0.5 --alpha-bounds 0.1,0.2 \
	--beta-bounds 0.05,0.1 || fail "bounds: exit $?"
awk -v a="$(arr "$W/bd.json" alpha)" -v b="$(arr "$W/bd.json" beta)" \
	'BEGIN { e = 1e-7; exit !(a >= 0.1 - e && a <= 0.2 + e &&
	                         b >= 0.05 - e && b <= 0.1 + e) }' ||
	fail "bounds: alpha $(arr "$W/bd.json" alpha), beta $(arr "$W/bd.json" beta)"

# -- --init-model continues from a model ----------------------------------
# m.json was trained to a low loss; a fresh run starts near ln 3.
loss1() { grep -m1 '"epoch": 1,' "$1" | sed 's/.*"loss": \([^,]*\),.*/\1/'; }
"$TR" -q -m "$W/c.json" --init-model "$W/m.json" --freeze-ddk --epochs 1 \
	--lr 0.001 "$W/train.tsv" || fail "--init-model: exit $?"
[ "$(arr "$W/c.json" alpha)" = "$(arr "$W/m.json" alpha)" ] ||
	fail "--init-model --freeze-ddk moved alpha"
[ "$(layers "$W/c.json")" = "$(layers "$W/m.json")" ] ||
	fail "--init-model: another shape"
ge 0.2 "$(loss1 "$W/c.json")" && ge "$(loss1 "$W/m.json")" 1 ||
	fail "--init-model: first loss $(loss1 "$W/c.json"), fresh $(loss1 "$W/m.json")"
expect_status 2 "$TR" -m "$W/x.json" --init-model "$W/fz.json" --hidden 3 \
	"$W/train.tsv"

# -- optimiser options ------------------------------------------------------
# A learning rate cut to 0 after epoch 1 leaves the parameters of epoch 1.
train -m "$W/e1.json" --epochs 1 --lr 0.05 || fail "e1: exit $?"
train -m "$W/e3.json" --epochs 3 --lr 0.05 --lr-steps 1 --lr-gamma 0 ||
	fail "--lr-steps: exit $?"
for k in alpha beta weight bias; do
	[ "$(arr "$W/e1.json" $k)" = "$(arr "$W/e3.json" $k)" ] ||
		fail "--lr-steps 1 --lr-gamma 0: $k moved after epoch 1"
done
train -m "$W/e3b.json" --epochs 3 --lr 0.05 --lr-steps 2 --lr-gamma 0 ||
	fail "--lr-steps 2: exit $?"
[ "$(arr "$W/e1.json" weight)" != "$(arr "$W/e3b.json" weight)" ] ||
	fail "--lr-steps 2: epoch 2 did not train"
# Weight decay shrinks the weights.
sumsq() { arr "$1" weight | awk '{ s += $1 * $1 } END { print s }'; }
train -m "$W/wd0.json" --epochs 10 --lr 0.05 || fail "wd0: exit $?"
train -m "$W/wd1.json" --epochs 10 --lr 0.05 --weight-decay 1 ||
	fail "--weight-decay: exit $?"
ge "$(awk -v s="$(sumsq "$W/wd0.json")" 'BEGIN { print s / 2 }')" \
	"$(sumsq "$W/wd1.json")" ||
	fail "--weight-decay 1 did not halve the weights' squares"
train -m "$W/sgd.json" --epochs 20 --optimizer sgd --lr 0.5 --hidden 8 ||
	fail "sgd: exit $?"
ge "$(acc "$W/sgd.json" "$W/test.tsv")" 0.9 || fail "sgd does not learn"
train -m "$W/sgd0.json" --epochs 2 --optimizer sgd --lr 0.5 --momentum 0 ||
	fail "sgd0: exit $?"
train -m "$W/sgd9.json" --epochs 2 --optimizer sgd --lr 0.5 --momentum 0.9 ||
	fail "sgd9: exit $?"
cmp -s "$W/sgd0.json" "$W/sgd9.json" && fail "--momentum has no effect"
train -m "$W/b8.json" --epochs 2 --batch 8 || fail "--batch: exit $?"
train -m "$W/b9.json" --epochs 2 --batch 9 || fail "--batch: exit $?"
cmp -s "$W/b8.json" "$W/b9.json" && fail "--batch has no effect"

# -- validation: the best epoch is kept --------------------------------------
# A noisy validation set (labels of one class swapped) makes the
# validation accuracy wander; the model must be the best epoch's.
sed 's/\tc1\t/\tc2\t/' "$W/val.tsv" >"$W/noisy.tsv"
train -m "$W/v.json" --epochs 12 --lr 0.05 --hidden 8 \
	--val "$W/noisy.tsv" || fail "--val: exit $?"
grep '"val_accuracy"' "$W/v.json" |
	sed 's/.*"val_accuracy": \([0-9.e-]*\)}.*/\1/' >"$W/vacc"
best=$(awk '$1 > m || NR == 1 { m = $1; e = NR } END { print e }' "$W/vacc")
bacc=$(sed -n "${best}p" "$W/vacc")
grep -q "\"best_epoch\": $best," "$W/v.json" ||
	fail "--val: best_epoch is not $best"
[ "$best" -lt 12 ] || fail "--val: the test wants a best epoch before the last"
awk -v a="$(acc "$W/v.json" "$W/noisy.tsv")" -v b="$bacc" \
	'BEGIN { d = a - b; exit !(d < 1e-6 && d > -1e-6) }' ||
	fail "--val: the model scores $(acc "$W/v.json" "$W/noisy.tsv"), not $bacc"
grep -q '"val_examples": 30' "$W/v.json" || fail "--val: val_examples"

# --val-split holds out records by key, the same ones for the same seed
train -m "$W/vs.json" --epochs 2 --val-split 0.25 || fail "--val-split: exit $?"
n_tr=$(sed -n 's/.*"examples": \([0-9]*\),.*/\1/p' "$W/vs.json")
n_va=$(sed -n 's/.*"val_examples": \([0-9]*\),.*/\1/p' "$W/vs.json")
[ $((n_tr + n_va)) -eq 120 ] && [ "$n_va" -ge 15 ] && [ "$n_va" -le 45 ] ||
	fail "--val-split 0.25: $n_tr + $n_va"
tac "$W/train.tsv" >"$W/rev.tsv"
"$TR" -q -m "$W/vr.json" --epochs 1 --val-split 0.25 "$W/rev.tsv" ||
	fail "--val-split reversed: exit $?"
grep -q "\"val_examples\": $n_va," "$W/vr.json" ||
	fail "--val-split: another split when the input is reversed"
grep -q '"val_accuracy": null' "$W/vs.json" &&
	fail "--val-split: no validation accuracy"

# -- --summary: parameters and operations for a known shape -----------------
# 2 x 12 maps, K = 2 shared pairs, hidden 8 with batch norm, 3 classes.
U=2 T=12 K=2 H=8 C=3
F=$((K * U * T))
"$TR" -q -m "$W/s.json" --epochs 1 --channels $K --hidden $H --batchnorm \
	--feature-norm --summary "$W/train.tsv" >"$W/sum" || fail "--summary: exit $?"
printf '%s\t%s\t%s\n' part parameters operations ddk %d %d \
	feature_norm 0 %d classifier %d %d total %d %d >"$W/sum.fmt"
printf "$(cat "$W/sum.fmt")\n" \
	$((2 * K)) $F $F \
	$((F * H + H + 2 * H + H * C + C)) $((F * H + H + H * C)) \
	$((2 * K + F * H + H + 2 * H + H * C + C)) \
	$((F + F + F * H + H + H * C)) >"$W/sum.want"
cmp -s "$W/sum" "$W/sum.want" || fail "--summary: $(cat "$W/sum")"
"$IN" -m "$W/s.json" --summary >"$W/sum2" || fail "ddk-infer --summary: exit $?"
"$TR" -q -m "$W/s0.json" --epochs 1 --no-ddk --summary "$W/train.tsv" \
	>"$W/sum0" || fail "--no-ddk --summary: exit $?"
[ "$(sed -n 2p "$W/sum0")" = "$(printf 'ddk\t0\t0')" ] &&
	[ "$(sed -n 4p "$W/sum0")" = "$(printf 'classifier\t%d\t%d' \
		$((U * T * C + C)) $((U * T * C)))" ] ||
	fail "--no-ddk --summary: $(cat "$W/sum0")"
cmp -s "$W/sum" "$W/sum2" || fail "ddk-infer --summary differs from ddk-train's"

# -- recorded metadata --------------------------------------------------------
printf '{"adc_bits": 6, "array": [64, 64]}' >"$W/hw.json"
train -m "$W/r.json" --epochs 1 --recipe "ddk-pool -u 2" \
	--hardware "$W/hw.json" || fail "--recipe: exit $?"
grep -q '"recipe": "ddk-pool -u 2"' "$W/r.json" || fail "--recipe not stored"
grep -q '"hardware": {"adc_bits":6,"array":\[64,64\]}' "$W/r.json" ||
	fail "--hardware not stored: $(grep hardware "$W/r.json")"

# -- determinism ------------------------------------------------------------
train -m "$W/d1.json" --epochs 3 --hidden 8 --batchnorm --seed 5 ||
	fail "d1: exit $?"
train -m "$W/d2.json" --epochs 3 --hidden 8 --batchnorm --seed 5 ||
	fail "d2: exit $?"
cmp -s "$W/d1.json" "$W/d2.json" || fail "one seed, two model files"
train -m "$W/d3.json" --epochs 3 --hidden 8 --batchnorm --seed 6 ||
	fail "d3: exit $?"
cmp -s "$W/d1.json" "$W/d3.json" && fail "--seed has no effect"
"$TR" -q -m "$W/d4.json" --epochs 3 --hidden 8 --batchnorm --seed 5 - \
	<"$W/train.tsv" || fail "stdin: exit $?"
cmp -s "$W/d1.json" "$W/d4.json" ||
	fail "stdin and a named file give different models"

# -- binary and text streams give the same model and predictions ------------
F=$T/data-samples/fashion-mnist
if [ -f "$F/t10k-images-idx3-ubyte.gz" ]; then
	set -- --idx "$F/t10k-images-idx3-ubyte.gz" \
		--labels "$F/t10k-labels-idx1-ubyte.gz"
	"$B/ddk-pool" -q "$@" -o "$W/f.ddk" || fail "pool binary: exit $?"
	"$B/ddk-pool" -q "$@" --tsv -o "$W/f.tsv" || fail "pool text: exit $?"
	"$TR" -q -m "$W/fb.json" --epochs 2 --hidden 4 "$W/f.ddk" ||
		fail "binary input: exit $?"
	"$TR" -q -m "$W/ft.json" --epochs 2 --hidden 4 - <"$W/f.tsv" ||
		fail "text input: exit $?"
	cmp -s "$W/fb.json" "$W/ft.json" ||
		fail "binary and text streams train different models"
	grep -q '"input": {"rows": 28, "cols": 28}' "$W/fb.json" ||
		fail "Fashion-MNIST maps are not 28 x 28"
	"$IN" -q -m "$W/fb.json" "$W/f.ddk" >"$W/pb" 2>/dev/null
	"$IN" -q -m "$W/fb.json" "$W/f.tsv" >"$W/pt" 2>/dev/null
	[ "$(wc -l <"$W/pb")" -eq 501 ] && cmp -s "$W/pb" "$W/pt" ||
		fail "binary and text streams classify differently"

	# --in-place reads a binary file in place, holds a pipe in memory,
	# and everything once one input cannot be read in place: one model.
	set -- --epochs 2 --hidden 4 --feature-norm --val-split 0.2
	"$TR" -m "$W/fp.json" "$@" --in-place "$W/f.ddk" 2>"$W/err" ||
		fail "in place: exit $?"
	grep -q '^ddk-train: 400 examples of 28x28, 10 classes, 100 for validation, read in place$' \
		"$W/err" || fail "in place: $(head -1 "$W/err")"
	cat "$W/f.ddk" | "$TR" -m "$W/fq.json" "$@" --in-place - \
		2>"$W/err" || fail "pipe: exit $?"
	grep -q ', in memory$' "$W/err" || fail "pipe: $(head -1 "$W/err")"
	"$TR" -m "$W/fm.json" "$@" "$W/f.ddk" 2>"$W/err" ||
		fail "in memory: exit $?"
	grep -q ', in memory$' "$W/err" || fail "default: $(head -1 "$W/err")"
	cmp -s "$W/fp.json" "$W/fq.json" && cmp -s "$W/fp.json" "$W/fm.json" ||
		fail "in place, from a pipe and in memory: other models"
	"$TR" -m "$W/fx.json" "$@" --in-place "$W/f.ddk" "$W/f.tsv" \
		2>"$W/err" || fail "binary then text: exit $?"
	grep -q ', in memory$' "$W/err" || fail "mixed: $(head -1 "$W/err")"
	cat "$W/f.ddk" "$W/f.ddk" | "$TR" -q -m "$W/fy.json" "$@" - ||
		fail "twice from a pipe: exit $?"
	cmp -s "$W/fx.json" "$W/fy.json" ||
		fail "binary then text files: not the model of the same records"
	# More files than descriptors: the set moves to memory, same model.
	set -- --epochs 1 --hidden 4
	files=$(for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		printf '%s ' "$W/f.ddk"; done)
	# shellcheck disable=SC2086
	(ulimit -n 12 && exec "$TR" -m "$W/fz.json" "$@" --in-place $files) \
		2>"$W/err" || fail "past the descriptor limit: exit $?"
	grep -q ', in memory$' "$W/err" || fail "EMFILE: $(head -1 "$W/err")"
	# shellcheck disable=SC2086
	cat $files | "$TR" -q -m "$W/fw.json" "$@" - || fail "16 copies: exit $?"
	cmp -s "$W/fz.json" "$W/fw.json" ||
		fail "past the descriptor limit: another model"
fi

# -- SIGKILL, then --resume: the same file as an uninterrupted run ---------
# Many short epochs; the run is killed once epoch 5 is reported (its
# checkpoint is written before the report).
E=400
set -- --epochs $E --hidden 8 --batchnorm --lr 0.01 --seed 3 \
	--checkpoint "$W/run.ckpt" "$W/train.tsv"
"$TR" -m "$W/whole.json" "$@" 2>/dev/null || fail "uninterrupted: exit $?"
: >"$W/kerr"
"$TR" -m "$W/killed.json" "$@" 2>"$W/kerr" &
pid=$!
i=0
until grep -q '^ddk-train: epoch 5/' "$W/kerr" || [ $i -ge 2000 ]; do
	sleep 0.005; i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
[ -e "$W/killed.json" ] && fail "the run ended before it was killed"
[ -e "$W/run.ckpt" ] || fail "no checkpoint after the kill"
cp "$W/run.ckpt" "$W/copy.ckpt"
"$TR" -m "$W/killed.json" --resume "$@" 2>"$W/rerr" ||
	fail "--resume: exit $?: $(cat "$W/rerr")"
k=$(sed -n 's/^ddk-train: .*: resuming after epoch \([0-9]*\)$/\1/p' "$W/rerr")
[ -n "$k" ] && [ "$k" -ge 5 ] && [ "$k" -lt $E ] ||
	fail "--resume: did not resume (epoch '$k'): $(head -5 "$W/rerr")"
cmp -s "$W/whole.json" "$W/killed.json" ||
	fail "killed after epoch $k and resumed: another model"
[ -e "$W/run.ckpt" ] && fail "the checkpoint was left after the resumed run"
# --resume without a checkpoint says so and runs from the start.
"$TR" -m "$W/nock.json" --resume --epochs 3 --hidden 8 --batchnorm \
	--seed 5 "$W/train.tsv" 2>"$W/err" || fail "--resume, none: exit $?"
grep -q 'nock.json.ckpt: no checkpoint, starting from the beginning' \
	"$W/err" || fail "--resume without a checkpoint: $(head -3 "$W/err")"
cmp -s "$W/nock.json" "$W/d1.json" ||
	fail "--resume without a checkpoint: another model"
# A checkpoint of another run, or not a checkpoint, is refused.
"$TR" -q -m "$W/k.json" --epochs 9 --seed 4 --checkpoint "$W/copy.ckpt" \
	--resume "$W/train.tsv" 2>"$W/err" && fail "resumed another run"
grep -q 'copy.ckpt: checkpoint of a run with other data or options' \
	"$W/err" || fail "another run's checkpoint: $(cat "$W/err")"
# The same options and file name over data that differ in one value:
# refused too (the file is swapped in place, so only the data differ).
cp "$W/train.tsv" "$W/train.orig"
awk -F'\t' -v OFS='\t' 'NR == 7 { $5 = $5 + 0.001 } { print }' \
	"$W/train.orig" >"$W/train.tsv"
cmp -s "$W/train.tsv" "$W/train.orig" && fail "train.tsv is not changed"
"$TR" -q -m "$W/k.json" --epochs $E --hidden 8 --batchnorm --lr 0.01 \
	--seed 3 --checkpoint "$W/copy.ckpt" --resume "$W/train.tsv" \
	2>"$W/err" && fail "resumed over other data"
grep -q 'copy.ckpt: checkpoint of a run with other data or options' \
	"$W/err" || fail "other data's checkpoint: $(cat "$W/err")"
mv "$W/train.orig" "$W/train.tsv"
"$TR" -q -m "$W/k.json" --checkpoint "$W/m.json" --resume "$W/train.tsv" \
	2>"$W/err" && fail "resumed from a model file"
grep -q 'm.json: not a ddk-train checkpoint' "$W/err" ||
	fail "a model as checkpoint: $(cat "$W/err")"
[ -e "$W/k.json" ] && fail "a refused resume left a model"

# -- --keep-checkpoint, then --resume with more --epochs: an extended run ---
# 3 epochs kept, then extended to 6, give the file of 6 epochs run at once
# (with a validation split, a step schedule across the seam and feature
# statistics); a checkpoint past the run's epochs is refused.
set -- --hidden 8 --feature-norm --val-split 0.25 --lr-steps 2,4 \
	--lr 0.01 --seed 6 "$W/train.tsv"
"$TR" -q -m "$W/six.json" --epochs 6 "$@" || fail "6 epochs: exit $?"
"$TR" -q -m "$W/ext.json" --epochs 3 --keep-checkpoint "$@" ||
	fail "3 epochs, --keep-checkpoint: exit $?"
[ -e "$W/ext.json.ckpt" ] || fail "--keep-checkpoint: no checkpoint"
cp "$W/ext.json.ckpt" "$W/three.ckpt"
"$TR" -m "$W/ext.json" --epochs 6 --resume "$@" 2>"$W/err" ||
	fail "extended to 6 epochs: exit $?: $(cat "$W/err")"
grep -q 'ext.json.ckpt: resuming after epoch 3$' "$W/err" ||
	fail "extended to 6 epochs: $(head -5 "$W/err")"
[ "$(grep -c '^ddk-train: epoch [4-6]/6 ' "$W/err")" -eq 3 ] &&
	! grep -q '^ddk-train: epoch [1-3]/' "$W/err" ||
	fail "extended to 6 epochs: other epochs run: $(cat "$W/err")"
cmp -s "$W/six.json" "$W/ext.json" ||
	fail "3 epochs extended to 6 differ from 6 epochs"
[ -e "$W/ext.json.ckpt" ] && fail "the extended run left its checkpoint"
"$TR" -q -m "$W/two.json" --epochs 2 --checkpoint "$W/three.ckpt" \
	--resume "$@" 2>"$W/err"
[ $? -eq 1 ] && [ "$(cat "$W/err")" = "ddk-train: $W/three.ckpt:\
 checkpoint after epoch 3, past the run's 2 epochs" ] ||
	fail "a checkpoint past --epochs: $(cat "$W/err")"
[ -e "$W/two.json" ] && fail "a checkpoint past --epochs: a model written"
[ -e "$W/three.ckpt" ] || fail "a checkpoint past --epochs was removed"

echo "train: $nfail failed"
finish
