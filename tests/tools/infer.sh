#!/bin/sh
# ddk-infer end to end: the prediction table, the accuracy line, --report
# and --vote checked against awk over the predictions, results that do not
# depend on batching or sharding, shape errors, and the Python reader of
# ddk-model(5) giving the same probabilities.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
TR=$B/ddk-train
IN=$B/ddk-infer
[ -x "$TR" ] && [ -x "$IN" ] || { echo "no $TR or $IN"; exit 1; }

# gen C N U T SEED: N maps per class, keys o<object>.<frame> with five
# frames an object; the noise level is high enough that a weak model
# makes mistakes.
gen() { maps "$1" "$2" "$3" "$4" "$5" 0.5 0.3 frames; }
gen 3 40 2 12 7 >"$W/train.tsv"
gen 3 20 2 12 99 >"$W/test.tsv"
"$TR" -q -m "$W/m.json" --epochs 20 --lr 0.05 --hidden 8 "$W/train.tsv" ||
	fail "training: exit $?"
# A weak model (two small steps) that gets some records wrong.
"$TR" -q -m "$W/weak.json" --epochs 2 --lr 0.01 --seed 2 "$W/train.tsv" ||
	fail "weak training: exit $?"

# -- command line -------------------------------------------------------------
"$IN" --help >"$W/help" 2>"$W/err" || fail "--help exited nonzero"
grep -q '^usage: ddk-infer' "$W/help" || fail "--help: no usage on stdout"
expect_status 2 "$IN" "$W/test.tsv"
expect_status 2 "$IN" -m "$W/m.json" --bogus "$W/test.tsv"
expect_status 2 "$IN" -m "$W/m.json" --vote "" "$W/test.tsv"

# -- the prediction table ---------------------------------------------------
"$IN" -m "$W/weak.json" "$W/test.tsv" >"$W/p.tsv" 2>"$W/err" ||
	fail "infer: exit $?"
[ "$(head -1 "$W/p.tsv" | tr '\t' ' ')" = \
	"key label predicted p_c0 p_c1 p_c2" ] ||
	fail "header: $(head -1 "$W/p.tsv")"
[ "$(wc -l <"$W/p.tsv")" -eq 61 ] || fail "$(wc -l <"$W/p.tsv") lines, not 61"
cut -f 1,2 "$W/test.tsv" >"$W/keys"
tail -n +2 "$W/p.tsv" | cut -f 1,2 | cmp -s - "$W/keys" ||
	fail "keys and labels are not the input's, in order"
# probabilities sum to 1; the prediction is the most probable class
awk -F'\t' 'NR > 1 { s = $4 + $5 + $6; m = 4
	for (j = 5; j <= 6; j++) if ($j > $m) m = j
	if (s < 1 - 1e-5 || s > 1 + 1e-5) { print "sum " s; bad++ }
	if ($3 != "c" (m - 4)) { print $1 " predicted " $3; bad++ }
	for (j = 4; j <= 6; j++) if ($j < 0 || $j > 1) bad++ }
	END { exit bad }' "$W/p.tsv" || fail "probabilities or argmax wrong"
right=$(awk -F'\t' 'NR > 1 && $2 == $3' "$W/p.tsv" | wc -l)
[ "$right" -gt 0 ] && [ "$right" -lt 60 ] ||
	fail "the weak model gets $right/60 right: the checks below need errors"
want=$(awk -v r="$right" 'BEGIN {
	printf "ddk-infer: accuracy %.6f (%d/60)", r / 60, r }')
[ "$(cat "$W/err")" = "$want" ] ||
	fail "accuracy line: $(cat "$W/err"), wanted $want"

# The trained model is right on almost every record.
"$IN" -q -m "$W/m.json" "$W/test.tsv" >/dev/null 2>"$W/err"
r=$(sed -n 's/.*(\([0-9]*\)\/60)$/\1/p' "$W/err")
[ -n "$r" ] && [ "$r" -ge 54 ] || fail "trained model: $(cat "$W/err")"

# -- --report: precision, recall and the confusion matrix -------------------
"$IN" -q -m "$W/weak.json" --report "$W/rep.tsv" "$W/test.tsv" \
	>/dev/null 2>&1 ||
	fail "--report: exit $?"
awk -F'\t' 'NR > 1 { n[$2]++; p[$3]++; m[$2, $3]++ }
	END { printf "class\trecords\tpredicted\tprecision\trecall\tc0\tc1\tc2\n"
	for (i = 0; i < 3; i++) { c = "c" i
		printf "%s\t%d\t%d", c, n[c], p[c]
		if (p[c]) printf "\t%.6f", m[c, c] / p[c]; else printf "\tnan"
		if (n[c]) printf "\t%.6f", m[c, c] / n[c]; else printf "\tnan"
		for (j = 0; j < 3; j++) printf "\t%d", m[c, "c" j]
		printf "\n" } }' "$W/p.tsv" >"$W/rep.want"
cmp -s "$W/rep.tsv" "$W/rep.want" ||
	fail "--report differs from awk: $(cat "$W/rep.tsv")"

# -- --vote: a majority per object (ties to the larger summed probability) --
"$IN" -m "$W/weak.json" --vote . "$W/test.tsv" >"$W/v.tsv" 2>"$W/verr" ||
	fail "--vote: exit $?"
[ "$(head -1 "$W/v.tsv" | tr '\t' ' ')" = \
	"group label predicted votes records p_c0 p_c1 p_c2" ] ||
	fail "--vote header: $(head -1 "$W/v.tsv")"
# vote_awk PREDICTIONS: the vote table (first five columns) from the
# record table of the same records, groups in order of first record
vote_awk() {
	awk -F'\t' 'NR > 1 { g = $1; sub(/\.[^.]*$/, "", g)
	if (!(g in lab)) { order[++n] = g; lab[g] = $2 }
	cnt[g]++; v[g, $3]++; for (j = 0; j < 3; j++) ps[g, j] += $(j + 4) }
	END { for (i = 1; i <= n; i++) { g = order[i]; b = 0
		for (j = 1; j < 3; j++)
			if (v[g, "c" j] > v[g, "c" b] || (v[g, "c" j] == v[g, "c" b] &&
			    ps[g, j] > ps[g, b])) b = j
		printf "%s\t%s\tc%d\t%d\t%d\n", g, lab[g], b, v[g, "c" b], cnt[g] } }' \
	"$1"
}
vote_awk "$W/p.tsv" >"$W/v.want"
tail -n +2 "$W/v.tsv" | cut -f 1-5 | cmp -s - "$W/v.want" ||
	fail "--vote differs from awk: $(diff "$W/v.want" "$W/v.tsv" | head -5)"
[ "$(wc -l <"$W/v.want")" -eq 12 ] || fail "--vote: not 12 objects"
awk -F'\t' 'NR > 1 { s = $6 + $7 + $8; if (s < 1 - 1e-5 || s > 1 + 1e-5) bad++ }
	END { exit bad }' "$W/v.tsv" || fail "--vote: mean probabilities"
vr=$(awk -F'\t' '$2 == $3' "$W/v.want" | wc -l)
va=$(awk -v r="$vr" 'BEGIN { printf "%.6f", r / 12 }')
grep -q "^ddk-infer: vote accuracy $va ($vr/12 groups)$" "$W/verr" ||
	fail "vote accuracy line: $(cat "$W/verr")"
# 300 objects whose frames come interleaved (groups found by name, not by
# being next to each other; the lookup table grows past its first size)
gen 3 500 2 12 9 |
	awk -F'\t' '{ split($1, a, "."); print a[2] "\t" NR "\t" $0 }' |
	sort -k1,1n -k2,2n | cut -f 3- >"$W/many.tsv"
"$IN" -q -m "$W/weak.json" "$W/many.tsv" >"$W/mp.tsv"
vote_awk "$W/mp.tsv" >"$W/mv.want"
"$IN" -q -m "$W/weak.json" --vote . "$W/many.tsv" | tail -n +2 | cut -f 1-5 |
	cmp -s - "$W/mv.want" || fail "--vote on interleaved frames differs"
[ "$(wc -l <"$W/mv.want")" -eq 300 ] || fail "--vote: not 300 objects"
# groups whose records disagree on the label: each takes its first
# record's, and one line on stderr counts them and names the first
awk -F'\t' 'BEGIN { OFS = "\t" }
	$1 ~ /^o001\.[1-4]$/ || $1 == "o003.4" {
		$2 = $2 == "c0" ? "c1" : "c0" }
	{ print }' "$W/test.tsv" >"$W/mixed.tsv"
"$IN" -q -m "$W/weak.json" --vote . "$W/mixed.tsv" >"$W/mv.tsv" \
	2>"$W/mverr" || fail "--vote on mixed labels: exit $?"
first=$(awk -F'\t' '$1 == "o001.1" { print $2 }' "$W/mixed.tsv")
want="ddk-infer: --vote: 2 groups hold records of more than one label"
want="$want (first: group o001, label '$first'); each group takes its"
[ "$(grep -c -- --vote: "$W/mverr")" -eq 1 ] &&
	grep -qxF "$want first record's" "$W/mverr" ||
	fail "--vote on mixed labels: $(cat "$W/mverr")"
cmp -s "$W/mv.tsv" "$W/v.tsv" || fail "--vote on mixed labels: other table"

# -- --digits: the probabilities to N significant digits ---------------------
# 9 digits agree with the default 6 to 6 digits (and in every other
# column); some need more than 6; 3 digits give at most 3; the vote table
# follows it too
"$IN" -q -m "$W/m.json" --digits 9 "$W/test.tsv" >"$W/d9.tsv" &&
	"$IN" -q -m "$W/m.json" "$W/test.tsv" >"$W/d6.tsv" &&
	"$IN" -q -m "$W/m.json" --digits 3 --vote . "$W/test.tsv" \
	>"$W/d3.tsv" 2>/dev/null || fail "--digits: exit $?"
paste "$W/d9.tsv" "$W/d6.tsv" | awk -F'\t' 'NR > 1 { h = NF / 2
	for (j = 1; j <= 3; j++) if ($j != $(j + h)) bad++
	for (j = 4; j <= h; j++) { d = $j - $(j + h); if (d < 0) d = -d
		if (d > 5e-6 * $j) bad++ } } END { exit bad || NR != 61 }' ||
	fail "--digits 9 and the default disagree"
awk -F'\t' 'NR > 1 { for (j = 4; j <= NF; j++) {
	d = $j; sub(/e.*/, "", d); gsub(/[^0-9]/, "", d); sub(/^0+/, "", d)
	if (length(d) > 9) bad++; if (length(d) > 6) long++ } }
	END { exit bad || !long }' "$W/d9.tsv" ||
	fail "--digits 9: more than 9 digits, or none past 6"
awk -F'\t' 'NR > 1 { for (j = 6; j <= NF; j++) {
	d = $j; sub(/e.*/, "", d); gsub(/[^0-9]/, "", d); sub(/^0+/, "", d)
	if (length(d) > 3) bad++ } } END { exit bad || NR != 13 }' \
	"$W/d3.tsv" || fail "--digits 3 --vote: $(head -3 "$W/d3.tsv")"
expect_status 2 "$IN" -m "$W/m.json" --digits 18 "$W/test.tsv"

# -- unlabelled records, unknown labels -------------------------------------
awk -F'\t' 'BEGIN { OFS = "\t" } { $2 = ""; print }' "$W/test.tsv" \
	>"$W/nolab.tsv"
"$IN" -m "$W/m.json" "$W/nolab.tsv" >"$W/u.tsv" 2>"$W/err" ||
	fail "unlabelled: exit $?"
[ -s "$W/err" ] && fail "unlabelled: stderr: $(cat "$W/err")"
[ "$(tail -n +2 "$W/u.tsv" | cut -f 2 | sort -u)" = "" ] ||
	fail "unlabelled: the label column is not empty"
sed 's/\tc0\t/\tc9\t/' "$W/test.tsv" >"$W/unk.tsv"
"$IN" -q -m "$W/m.json" "$W/unk.tsv" >/dev/null 2>"$W/err" ||
	fail "unknown labels: exit $?"
grep -q "^ddk-infer: 20 labelled records have a label the model does not \
know (first: key o000.0, label 'c9'); they count as wrong$" "$W/err" ||
	fail "unknown labels: $(cat "$W/err")"

# -- batching, sharding and -o do not change a byte ------------------------
"$IN" -q -m "$W/weak.json" "$W/test.tsv" >"$W/all.tsv" 2>/dev/null
"$IN" -q -m "$W/weak.json" --batch 1 "$W/test.tsv" >"$W/b1.tsv" 2>/dev/null
cmp -s "$W/all.tsv" "$W/b1.tsv" || fail "--batch 1 changes the output"
head -25 "$W/test.tsv" >"$W/s1.tsv"
tail -n +26 "$W/test.tsv" >"$W/s2.tsv"
{ "$IN" -q -m "$W/weak.json" "$W/s1.tsv" 2>/dev/null
  "$IN" -q -m "$W/weak.json" - <"$W/s2.tsv" 2>/dev/null | tail -n +2
} >"$W/sh.tsv"
cmp -s "$W/all.tsv" "$W/sh.tsv" || fail "two shards differ from the whole"
"$IN" -q -m "$W/weak.json" "$W/s1.tsv" "$W/s2.tsv" >"$W/two.tsv" 2>/dev/null
cmp -s "$W/all.tsv" "$W/two.tsv" || fail "two files differ from one"
"$IN" -q -m "$W/weak.json" -o "$W/o.tsv" "$W/test.tsv" 2>/dev/null ||
	fail "-o: exit $?"
cmp -s "$W/all.tsv" "$W/o.tsv" || fail "-o differs from stdout"

# -- a map of another shape is an error, naming the record -----------------
gen 2 1 3 12 5 >"$W/shape.tsv"
expect_status 1 "$IN" -q -m "$W/m.json" -o "$W/o2.tsv" "$W/test.tsv" \
	"$W/shape.tsv"
grep -q "^ddk-infer: .*shape.tsv: record 1 (key o000.0): map of 3x12, \
the model takes 2x12$" "$W/err" || fail "shape error: $(cat "$W/err")"
[ -e "$W/o2.tsv" ] && fail "a shape error left the -o file"

# -- the Python reader of ddk-model(5) gives the same probabilities --------
if "$PY" -c 'import numpy' 2>/dev/null; then
	sed -n '/^\.\\" python-reader-begin/,/^\.\\" python-reader-end/p' \
		"$T/man/ddk-model.5" | grep -v '^\.' |
		sed 's/\\e/\\/g; s/\\-/-/g' >"$W/reader.py"
	[ -s "$W/reader.py" ] || fail "no Python reader in ddk-model.5"
	# agree MODEL: ddk-infer and the reader, the same classes and
	# probabilities to 1e-5
	agree() {
		"$IN" -q -m "$1" "$W/test.tsv" >"$W/c.tsv" 2>/dev/null
		"$PY" "$W/reader.py" "$1" "$W/test.tsv" >"$W/py.tsv" &&
		[ -s "$W/py.tsv" ] &&
		paste "$W/c.tsv" "$W/py.tsv" | awk -F'\t' 'NR > 1 {
			if ($3 != $9) { print $1 ": " $3 " " $9; bad++ }
			for (j = 4; j <= 6; j++) { d = $j - $(j + 6)
				if (d > 1e-5 || d < -1e-5) bad++ } }
			END { exit bad || NR != 61 }'
	}
	# every layer type, layout, mode and activation in three models
	n=0
	for net in "--hidden 6,5 --batchnorm --channels 2 --per-row \
--feature-norm --activation tanh" "--mode set --hidden 4 --activation relu \
--feature-norm" "--no-ddk --hidden 3 --activation identity"; do
		n=$((n + 1))
		# shellcheck disable=SC2086
		"$TR" -q -m "$W/py$n.json" --epochs 20 --lr 0.05 $net \
			"$W/train.tsv" || fail "py model $n: exit $?"
		agree "$W/py$n.json" ||
			fail "the Python reader disagrees with ddk-infer ($net)"
	done
	# a file's batch normalisation eps is used (Keras writes 1e-3): 0.5
	# here, with other probabilities than 1e-5 and the reader's
	sed 's/"eps": [0-9.e-]*/"eps": 0.5/' "$W/py1.json" >"$W/eps.json"
	[ "$(grep -c '"eps": 0.5' "$W/eps.json")" -eq 2 ] ||
		fail "eps 0.5: not two batchnorm layers"
	agree "$W/eps.json" ||
		fail "the Python reader disagrees with ddk-infer (eps 0.5)"
	"$IN" -q -m "$W/py1.json" "$W/test.tsv" 2>/dev/null |
		cmp -s - "$W/c.tsv" &&
		fail "eps 0.5 gives the probabilities of 1e-5"
	# and training on from that model keeps it
	"$TR" -q --init-model "$W/eps.json" --epochs 1 -m "$W/eps2.json" \
		"$W/train.tsv" || fail "--init-model with eps 0.5: exit $?"
	[ "$(grep -c '"eps": 0.5,' "$W/eps2.json")" -eq 2 ] ||
		fail "--init-model with eps 0.5: $(grep '"eps"' "$W/eps2.json")"
fi

# -- the example file of ddk-model(5) is a model as it stands -----------------
sed -n '/^\.SH EXAMPLES/,/^\.EE/p' "$T/man/ddk-model.5" |
	sed -n '/^\.EX/,$p' | grep -v '^\.' |
	sed 's/\\-/-/g' >"$W/example.json"
printf 'x\ton\t1\t3\t1\t1\t1\n' >"$W/ones.tsv"
"$IN" -q -m "$W/example.json" "$W/ones.tsv" >"$W/ex.tsv" 2>/dev/null ||
	fail "the example of ddk-model(5) is not read"
# z = 0.85, 0.70882, 0.57936; logits +-0.064082; p_off = 0.532016
awk -F'\t' 'BEGIN { z = 1; for (t = 0; t < 3; t++) { z += 0.05 / z - 0.2
	f[t] = z }; o = 1.5 * f[0] - 0.25 * f[1] - 2 * f[2] + 0.125
	p = 1 / (1 + exp(-2 * o)) }
	NR == 2 { d = $4 - p; exit !($3 == "off" && d < 1e-5 && d > -1e-5) }' \
	"$W/ex.tsv" || fail "the example of ddk-model(5): $(cat "$W/ex.tsv")"

# -- class names with a quote, a backslash and a non-ASCII letter survive
# the model file's JSON and come back as they were ---------------------------
awk 'BEGIN { for (i = 0; i < 40; i++) {
	c = i % 3; v = c == 0 ? 0.1 : c == 1 ? 0.5 : 0.9
	n = c == 0 ? "say \"hi\"" : c == 1 ? "back\\slash" : "\303\251t\303\251"
	printf "r%d\t%s\t1\t4\t%g\t%g\t%g\t%g\n", i, n, v, v, v, v } }' \
	>"$W/names.tsv"
"$TR" -q --epochs 2 -m "$W/names.json" "$W/names.tsv" 2>/dev/null ||
	fail "training on names with quotes"
"$IN" -q -m "$W/names.json" "$W/names.tsv" >"$W/names.out" 2>/dev/null ||
	fail "inference on names with quotes"
head -1 "$W/names.out" | cut -f 4- >"$W/names.head"
printf 'p_back\\slash\tp_say "hi"\tp_\303\251t\303\251\n' |
	cmp -s - "$W/names.head" || fail "class names: $(cat "$W/names.head")"
cut -f 2 "$W/names.out" | sed 1d | LC_ALL=C sort -u | tr '\n' '|' \
	>"$W/names.got"
printf 'back\\slash|say "hi"|\303\251t\303\251|' | cmp -s - "$W/names.got" ||
	fail "labels: $(cat "$W/names.got")"

echo "infer: $nfail failed"
finish
