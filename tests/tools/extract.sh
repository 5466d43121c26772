#!/bin/sh
# ddk-extract against a double-precision NumPy evaluation of the recurrence
# (tests/tools/extract_ref.py), and its options: channels, models, ddk-fit
# tables, noise and seeds, the device model, PNG pictures, atomic output.
. "$(dirname "$0")/lib.sh"
D=$T/data-samples
X=$B/ddk-extract
REF="$PY $T/tests/tools/extract_ref.py"
if ! "$PY" -c 'import numpy' 2>/dev/null; then
	echo "extract.sh: no numpy for $PY"; exit 77
fi

# Inputs: 500 Fashion-MNIST images (28 x 28) and 5 sounds (4 x 120).
"$B/ddk-pool" -q --idx "$D/fashion-mnist/t10k-images-idx3-ubyte.gz" \
	--labels "$D/fashion-mnist/t10k-labels-idx1-ubyte.gz" -o "$W/fm.ddk" ||
	fail "pool images"
"$B/ddk-pool" -q -l 24000 -u 4 -p 50 --manifest "$D/speech8k/manifest.tsv" \
	-o "$W/sp.ddk" || fail "pool speech"
cat "$W/fm.ddk" "$W/sp.ddk" >"$W/in.ddk"
"$B/ddk-pool" -q --tsv --idx "$D/fashion-mnist/t10k-images-idx3-ubyte.gz" \
	--labels "$D/fashion-mnist/t10k-labels-idx1-ubyte.gz" >"$W/in.tsv"
"$B/ddk-pool" -q --tsv -l 24000 -u 4 -p 50 \
	--manifest "$D/speech8k/manifest.tsv" >>"$W/in.tsv"

# 1. Stable pairs (beta^2 < 2 alpha), RESET and SET, to 1e-5.
for ab in 0.3,0.2 0.05,0.3 0.01,0.14 1,1 0.5,0; do
	a=${ab%,*} b=${ab#*,}
	"$X" -q -a "$a" -b "$b" --tsv "$W/in.ddk" >"$W/out.tsv" ||
		fail "extract -a $a -b $b"
	$REF check "$W/in.tsv" "$W/out.tsv" --alpha "$a" --beta "$b" ||
		fail "reset $a $b differs from the reference"
	"$X" -q -a "$a" -b "$b" --set --tsv "$W/in.ddk" >"$W/out.tsv" ||
		fail "extract --set -a $a -b $b"
	$REF check "$W/in.tsv" "$W/out.tsv" --alpha "$a" --beta "$b" --set ||
		fail "set $a $b differs from the reference"
done

# 2. Text input gives the same bytes as binary input.
"$X" -q -a 0.3 -b 0.2 "$W/in.tsv" >"$W/a.ddk"
"$X" -q -a 0.3 -b 0.2 <"$W/in.ddk" >"$W/b.ddk"
cmp -s "$W/a.ddk" "$W/b.ddk" || fail "text and binary input differ"

# 3. Unstable pairs: finite everywhere.
for ab in 0.001,1 0,1 0.02,0.9; do
	"$X" -q -a "${ab%,*}" -b "${ab#*,}" --tsv "$W/in.ddk" >"$W/out.tsv" ||
		fail "extract unstable $ab"
	$REF finite "$W/out.tsv" || fail "unstable $ab: not finite"
done

# 4. Three channels: 3U x T maps, channel by channel.
"$X" -q -a 0.1,0.3,0.02 -b 0.2,0.1,0.15 --tsv "$W/in.ddk" >"$W/out.tsv"
$REF check "$W/in.tsv" "$W/out.tsv" --alpha 0.1,0.3,0.02 \
	--beta 0.2,0.1,0.15 || fail "channels differ from the reference"

# 5. A ddk-fit table by key, and a table of one row for all.
printf 'key\talpha\tbeta\tssr\titerations\tstatus\n' >"$W/fit.tsv"
"$B/ddk-extract" -q -a 0 -b 0 --tsv "$W/in.ddk" | cut -f 1 |
	awk '{ printf "%s\t%.4f\t%.4f\t0\t5\tok\n", $1, 0.05 + (NR % 7) / 20, 0.01 * (NR % 13) }' \
	>>"$W/fit.tsv"
"$X" -q --params "$W/fit.tsv" --tsv "$W/in.ddk" >"$W/out.tsv" ||
	fail "extract --params"
$REF check "$W/in.tsv" "$W/out.tsv" --params "$W/fit.tsv" ||
	fail "--params differs from the reference"
head -2 "$W/fit.tsv" >"$W/one.tsv"
"$X" -q --params "$W/one.tsv" --tsv "$W/in.ddk" >"$W/out.tsv"
$REF check "$W/in.tsv" "$W/out.tsv" --params "$W/one.tsv" ||
	fail "--params with one row differs"

# 6. Model files: shared pairs (SET, 2 channels) and a pair per row.  The
# models are real ones, trained briefly on 20 maps by ddk-train (the
# library's loader takes nothing less), with their pairs then set to
# known values.
"$B/ddk-pool" -q --tsv --idx "$D/fashion-mnist/t10k-images-idx3-ubyte.gz" \
	--labels "$D/fashion-mnist/t10k-labels-idx1-ubyte.gz" >"$W/fm.tsv"
head -n 20 "$W/fm.tsv" >"$W/fm20.tsv"
# set_pairs MODEL ALPHAS BETAS: the model's pairs replaced
set_pairs() {
	"$PY" -c 'import json, sys
m = json.load(open(sys.argv[1]))
m["ddk"]["alpha"] = [float(x) for x in sys.argv[2].split(",")]
m["ddk"]["beta"] = [float(x) for x in sys.argv[3].split(",")]
json.dump(m, open(sys.argv[1], "w"))' "$@"
}
"$B/ddk-train" -q --epochs 1 --mode set --channels 2 -m "$W/shared.json" \
	"$W/fm20.tsv" || fail "ddk-train for -m shared"
set_pairs "$W/shared.json" 0.2,0.04 0.1,0.25
"$X" -q -m "$W/shared.json" --tsv "$W/fm.ddk" >"$W/out.tsv" ||
	fail "extract -m shared"
$REF check "$W/fm.tsv" "$W/out.tsv" --alpha 0.2,0.04 --beta 0.1,0.25 --set ||
	fail "-m shared differs"
al=$(awk 'BEGIN { for (i = 0; i < 28; i++) printf "%s%.3f", i ? "," : "", 0.05 + i / 100 }')
be=$(awk 'BEGIN { for (i = 0; i < 28; i++) printf "%s%.3f", i ? "," : "", 0.3 - i / 200 }')
"$B/ddk-train" -q --epochs 1 --per-row -m "$W/row.json" "$W/fm20.tsv" ||
	fail "ddk-train for -m row"
set_pairs "$W/row.json" "$al" "$be"
"$X" -q -m "$W/row.json" --tsv "$W/fm.ddk" >"$W/out.tsv" || fail "-m row"
$REF check "$W/fm.tsv" "$W/out.tsv" --alpha "$al" --beta "$be" --per-row ||
	fail "-m row differs"

# 7. Noise: same seed, same bytes; another seed, other bytes; sharding the
# input changes nothing; S = 0 is no noise.
"$X" -q -a 0.2 -b 0.3 --noise-alpha 0.3 --noise-beta 0.3 --seed 7 \
	"$W/in.ddk" >"$W/n1.ddk"
"$X" -q -a 0.2 -b 0.3 --noise-alpha 0.3 --noise-beta 0.3 --seed 7 \
	"$W/in.ddk" >"$W/n2.ddk"
cmp -s "$W/n1.ddk" "$W/n2.ddk" || fail "noise: same seed, other output"
"$X" -q -a 0.2 -b 0.3 --noise-alpha 0.3 --noise-beta 0.3 --seed 8 \
	"$W/in.ddk" >"$W/n3.ddk"
cmp -s "$W/n1.ddk" "$W/n3.ddk" && fail "noise: seed changes nothing"
{ "$X" -q -a 0.2 -b 0.3 --noise-alpha 0.3 --noise-beta 0.3 --seed 7 \
	"$W/sp.ddk"; } >"$W/sp-n.ddk"
"$X" -q -a 0.2 -b 0.3 --noise-alpha 0.3 --noise-beta 0.3 --seed 7 \
	"$W/fm.ddk" | cat - "$W/sp-n.ddk" | cmp -s - "$W/n1.ddk" ||
	fail "noise: sharding changes the output"
"$X" -q -a 0.2 -b 0.3 --noise-alpha 0 --seed 7 "$W/in.ddk" >"$W/n0.ddk"
"$X" -q -a 0.2 -b 0.3 "$W/in.ddk" | cmp -s - "$W/n0.ddk" ||
	fail "noise 0 is not the plain map"
# large noise stays in --alpha-bounds: with x(0) = 0, z(1) - 1 is alpha
awk 'BEGIN { for (i = 0; i < 200; i++) printf "k%d\t\t1\t2\t0\t0\n", i }' |
	"$X" -q -a 0.3 -b 0.1 --noise-alpha 2 --alpha-bounds 0.2,0.35 --tsv |
	awk -F '\t' '{ a = $5 - 1; if (a < 0.2 - 1e-6 || a > 0.35 + 1e-6) bad++
	       n[a > 0.2 + 1e-6 && a < 0.35 - 1e-6]++ }
	     END { exit bad || !n[0] || !n[1] }' ||
	fail "--noise-alpha: alpha leaves --alpha-bounds, or never moves"

# 8. Device: 100 constant RESET pulses decrease, SET increase; SI
# prefixes; larger amplitude resets further; variation is seeded.
printf 'c\t\t1\t100' >"$W/c.tsv"
i=0; while [ $i -lt 100 ]; do printf '\t0.5' >>"$W/c.tsv"; i=$((i + 1)); done
printf '\n' >>"$W/c.tsv"
"$X" -q --device --tsv "$W/c.tsv" >"$W/g.tsv" || fail "--device"
$REF device "$W/g.tsv" decreasing || fail "device RESET not decreasing"
"$X" -q --device --set --r-init 100k --tsv "$W/c.tsv" >"$W/gs.tsv"
$REF device "$W/gs.tsv" increasing || fail "device SET not increasing"
"$X" -q --device --width 100n --r-init 5k --g-min 6.1u --g-max 202.1u \
	--tsv "$W/c.tsv" | cmp -s - "$W/g.tsv" || fail "SI prefixes differ"
g_lo=$("$X" -q --device --v-lo 2 --v-hi 2 --tsv "$W/c.tsv" | cut -f 104)
g_hi=$("$X" -q --device --v-lo 3 --v-hi 3 --tsv "$W/c.tsv" | cut -f 104)
awk -v a="$g_lo" -v b="$g_hi" 'BEGIN { exit !(b < a) }' ||
	fail "3 V does not reset further than 2 V ($g_hi, $g_lo)"
g_w=$("$X" -q --device --pulse width --t-lo 200n --t-hi 200n --tsv \
	"$W/c.tsv" | cut -f 104)
awk -v a="$g_w" -v b="$(cut -f 104 "$W/g.tsv")" 'BEGIN { exit !(a < b) }' ||
	fail "200 ns does not reset further than 100 ns"
# each device option moves the last conductance the way the physics says
# (lower: the RESET went further than with the defaults, g.tsv)
last() { "$X" -q --device "$@" --tsv "$W/c.tsv" | cut -f 104; }
further() {  # further|less OPTIONS...: against the defaults
	how=$1; shift
	awk -v a="$(last "$@")" -v b="$(cut -f 104 "$W/g.tsv")" -v h="$how" \
		'BEGIN { exit !(h == "further" ? a < b : a > b) }' ||
		fail "device $*: does not reset $how than the defaults"
}
further further --pulse width --amplitude 3
further less --pulse width --amplitude 2
further further --thickness 8n
further less --thickness 12n
further further --mobility 3p
further less --mobility 1p
further further --diffusion 0.5p
further less --diffusion 3p
# --tol: a stiff device (a pulse could cross the whole window) settles
# where drift and diffusion balance, u = D / (mu v) = 0.04, that is
# g = 1 / (0.04 R_on + 0.96 R_off); a loose tolerance lands elsewhere
g_eq=$(last --mobility 1n --diffusion 100p --tol 1e-12)
awk -v g="$g_eq" 'BEGIN { r_on = 1 / 202.1e-6; r_off = 1 / 6.1e-6
	e = 1 / (0.04 * r_on + 0.96 * r_off)
	exit !(g / e - 1 < 1e-6 && e / g - 1 < 1e-6) }' ||
	fail "stiff device: $g_eq is not the balance"
[ "$(last --mobility 1n --diffusion 100p --tol 0.1)" != "$g_eq" ] ||
	fail "--tol 0.1 changes nothing"
# far too stiff for any RK4 step (a 1 pm film): solved exactly, at once,
# to the balance u = D / (mu v) = 0.4
g_eq=$(last --thickness 1e-12 --mobility 1 --diffusion 1)
awk -v g="$g_eq" 'BEGIN { r_on = 1 / 202.1e-6; r_off = 1 / 6.1e-6
	e = 1 / (0.4 * r_on + 0.6 * r_off)
	exit !(g / e - 1 < 1e-6 && e / g - 1 < 1e-6) }' ||
	fail "1 pm device: $g_eq is not the balance"
"$X" -q --device --relative --tsv "$W/c.tsv" | cut -f 5 |
	awk '{ exit !($1 < 1 && $1 > 0.5) }' || fail "--relative"
"$X" -q --device --c2c 0.1 --d2d 0.1 --seed 3 "$W/sp.ddk" >"$W/v1.ddk"
"$X" -q --device --c2c 0.1 --d2d 0.1 --seed 3 "$W/sp.ddk" | cmp -s - \
	"$W/v1.ddk" || fail "device variation not reproducible"
"$X" -q --device "$W/sp.ddk" | cmp -s - "$W/v1.ddk" &&
	fail "device variation changes nothing"

# 9. PNG heat maps: one valid PNG per record, the input beside it wider.
"$X" -q -a 0.05 -b 0.3 --png "$W/png" "$W/sp.ddk" >/dev/null ||
	fail "--png"
"$X" -q -a 0.05 -b 0.3 --png "$W/png2" --input "$W/sp.ddk" >/dev/null
[ "$(ls "$W/png" | wc -l)" -eq 5 ] || fail "--png: not 5 files"
for f in "$W"/png/*.png "$W"/png2/*.png; do
	[ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] ||
		fail "$f is not a PNG"
done
w1=$(od -An -tu1 -j 16 -N 4 "$W/png/de-b.wav.png" | awk '{ print $3 * 256 + $4 }')
w2=$(od -An -tu1 -j 16 -N 4 "$W/png2/de-b.wav.png" | awk '{ print $3 * 256 + $4 }')
[ "$w2" -gt "$w1" ] || fail "--input: picture not wider ($w2 <= $w1)"

# 10. -o is atomic and equals stdout; usage conventions.
"$X" -q -a 0.3 -b 0.2 -o "$W/o.ddk" "$W/in.ddk" || fail "-o"
cmp -s "$W/o.ddk" "$W/a.ddk" || fail "-o differs from stdout"
expect_status 0 "$X" --help
grep -q '^usage: ddk-extract' "$W/out" || fail "--help not on stdout"
expect_status 0 "$X" --version
expect_status 2 "$X" --bogus
expect_status 2 "$X" -a 0.1
expect_status 2 "$X" -a 2 -b 0.1
echo "extract: $nfail failed"
finish
