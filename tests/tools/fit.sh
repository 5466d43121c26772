#!/bin/sh
# ddk-fit end to end: known pairs back from clean curves, every option,
# the man page examples, determinism, and results that do not depend on
# how the input is split (shell split, GNU Parallel --pipe, binary shards).
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
F=$B/ddk-fit
[ -x "$F" ] || { echo "no $F"; exit 1; }

# gen MODE N T KIND: N clean curves of the recurrence as a text stream.
# KIND const: one row y (x = 1); vary: two rows x then y.  Pair i is
# alpha = 0.002 + 0.001 i, beta = 0.01 + 0.003 i; the label holds it.
gen() {
	awk -v mode="$1" -v n="$2" -v T="$3" -v kind="$4" 'BEGIN {
		s = mode == "set" ? 1 : -1
		for (i = 0; i < n; i++) {
			a = 0.002 + 0.001 * i; b = 0.01 + 0.003 * i
			line = sprintf("c%02d\t%.6g,%.6g\t%d\t%d", i, a, b,
			               kind == "vary" ? 2 : 1, T)
			ys = ""; z = 1
			for (t = 0; t < T; t++) {
				x = kind == "vary" ? ((t * 7 + i) % 8 + 1) / 8 : 1
				if (kind == "vary")
					line = line sprintf("\t%.9g", x)
				z = z + a / z + s * b * x
				if (z < 0.001) z = 0.001
				ys = ys sprintf("\t%.9g", z)
			}
			print line ys
		}
	}'
}

# near TABLE CURVES TOL: every fitted pair within TOL (relative) of the
# pair in the curve's label.
near() {
	awk -F'\t' -v tol="$3" 'NR == FNR { split($2, p, ","); a[$1] = p[1];
		b[$1] = p[2]; next }
		FNR == 1 { next }
		{ n++; ea = ($2 - a[$1]) / a[$1]; eb = ($3 - b[$1]) / b[$1]
		  if (ea < 0) ea = -ea; if (eb < 0) eb = -eb
		  if (ea > tol || eb > tol) { print $1 ": " $2 "," $3; bad++ } }
		END { exit bad || !n }' "$2" "$1"
}

gen reset 12 60 const >"$W/const.tsv"
gen reset 12 60 vary >"$W/vary.tsv"
gen set 6 50 vary >"$W/set.tsv"

# -- command line -----------------------------------------------------------
"$F" --help >"$W/help" 2>"$W/err" || fail "--help exited nonzero"
grep -q '^usage: ddk-fit' "$W/help" || fail "--help: no usage on stdout"
[ -s "$W/err" ] && fail "--help wrote to stderr"
expect_status 2 "$F" --bogus
grep -q 'usage: ddk-fit' "$W/err" || fail "bad option: no usage on stderr"
[ -s "$W/out" ] && fail "bad option wrote to stdout"
expect_status 0 "$F" --version
expect_status 2 "$F" --range 0,1 --no-normalize "$W/const.tsv"

# -- known pairs come back ----------------------------------------------------
"$F" -q --no-normalize --restarts 3 "$W/const.tsv" >"$W/t1" ||
	fail "constant inputs: exit $?"
[ "$(head -1 "$W/t1")" = "$(printf 'key\talpha\tbeta\tssr\titerations\tstatus')" ] ||
	fail "header: $(head -1 "$W/t1")"
[ "$(wc -l <"$W/t1")" -eq 13 ] || fail "constant inputs: $(wc -l <"$W/t1") lines"
near "$W/t1" "$W/const.tsv" 1e-3 || fail "constant inputs: pairs off"
"$F" -q --no-normalize --restarts 3 "$W/vary.tsv" >"$W/t2" ||
	fail "varying inputs: exit $?"
near "$W/t2" "$W/vary.tsv" 1e-3 || fail "varying inputs: pairs off"
"$F" -q --set --no-normalize --restarts 3 "$W/set.tsv" >"$W/t3" ||
	fail "--set: exit $?"
near "$W/t3" "$W/set.tsv" 1e-3 || fail "--set: pairs off"
# LO = HI holds a parameter: curve c03 (alpha 0.005, beta 0.019) with
# alpha held at its value gives beta back and alpha exactly as held; with
# beta held, alpha comes back
grep '^c03	' "$W/vary.tsv" >"$W/c03.tsv"
"$F" -q --no-normalize --alpha-bounds 0.005,0.005 --beta-bounds 0,0.1 \
	"$W/c03.tsv" | awk -F'\t' 'NR == 2 { e = $3 / 0.019 - 1
	exit !($2 == 0.005 && e < 1e-4 && e > -1e-4) }' ||
	fail "--alpha-bounds 0.005,0.005: beta not found"
"$F" -q --no-normalize --beta-bounds 0.019,0.019 "$W/c03.tsv" |
	awk -F'\t' 'NR == 2 { e = $2 / 0.005 - 1
	exit !($3 == 0.019 && e < 1e-4 && e > -1e-4) }' ||
	fail "--beta-bounds 0.019,0.019: alpha not found"

# The whole x sequence given by --x fits a one-row curve like its own row.
head -1 "$W/vary.tsv" | awk -F'\t' '{ x = $5; for (i = 6; i < 5 + $4; i++)
	x = x "," $i; print x }' >"$W/xlist"
head -1 "$W/vary.tsv" | awk -F'\t' 'BEGIN { OFS = "\t" } {
	s = $1 OFS $2 OFS "1" OFS $4
	for (i = 5 + $4; i <= NF; i++) s = s OFS $i; print s }' >"$W/yonly.tsv"
"$F" -q --no-normalize --x "$(cat "$W/xlist")" "$W/yonly.tsv" >"$W/t4" ||
	fail "--x list: exit $?"
head -1 "$W/vary.tsv" | "$F" -q --no-normalize >"$W/t5"
cmp -s "$W/t4" "$W/t5" || fail "--x list differs from the x row"
"$F" -q --no-normalize --x 0.5 "$W/yonly.tsv" >"$W/t6"
cmp -s "$W/t4" "$W/t6" && fail "--x 0.5 gave the same fit as the sequence"

# An alpha bound above every true alpha: alpha ends on it.
"$F" -q --no-normalize --restarts 5 --alpha-bounds 0.05,0.5 "$W/const.tsv" |
	awk -F'\t' 'NR > 1 && ($2 < 0.05 || $2 > 0.05 * (1 + 1e-6)) { bad++ }
		END { exit bad }' || fail "--alpha-bounds: alpha not on its bound"
"$F" -q --no-normalize --beta-bounds 0,0.005 "$W/const.tsv" |
	awk -F'\t' 'NR > 1 && $3 > 0.005 { bad++ } END { exit bad }' ||
	fail "--beta-bounds: beta above its bound"

# --range undoes a change of units: conductance = 6e-6 + 2e-4 z.
awk -F'\t' 'BEGIN { OFS = "\t" } { for (i = 5; i <= NF; i++)
	$i = sprintf("%.9g", 6e-6 + 2e-4 * $i); print }' "$W/const.tsv" \
	>"$W/siemens.tsv"
"$F" -q --range 6u,206u --restarts 3 "$W/siemens.tsv" >"$W/t7" ||
	fail "--range: exit $?"
near "$W/t7" "$W/const.tsv" 1e-3 || fail "--range: pairs off"
"$F" -q --restarts 3 "$W/siemens.tsv" >"$W/t8"
cmp -s "$W/t7" "$W/t8" && fail "min-max and --range gave the same table"

# -- determinism and atomic output --------------------------------------------
"$F" -q --seed 9 --restarts 2 "$W/vary.tsv" >"$W/d1"
"$F" -q --seed 9 --restarts 2 -o "$W/d2" "$W/vary.tsv" >"$W/stdout"
cmp -s "$W/d1" "$W/d2" || fail "-o differs from stdout, or runs differ"
[ -s "$W/stdout" ] && fail "-o also wrote to stdout"
ls "$W" | grep -q '^d2.' && fail "-o left a temporary file"

# -- splitting never changes a result -----------------------------------------
cat "$W/const.tsv" "$W/vary.tsv" >"$W/all.tsv"
"$F" -q --restarts 2 "$W/all.tsv" | tail -n +2 >"$W/whole"
[ "$(wc -l <"$W/whole")" -eq 24 ] || fail "whole run: $(wc -l <"$W/whole") rows"
split -l 5 "$W/all.tsv" "$W/part."
for p in "$W"/part.*; do "$F" -q --restarts 2 "$p" | tail -n +2; done \
	>"$W/shards"
cmp -s "$W/whole" "$W/shards" || fail "split -l shards differ from the whole"
if command -v parallel >/dev/null 2>&1; then
	parallel --will-cite --pipe -N 5 -k "$F -q --restarts 2 | tail -n +2" \
		<"$W/all.tsv" >"$W/par" 2>"$W/par.err" ||
		fail "parallel --pipe: $(head -c 200 "$W/par.err")"
	cmp -s "$W/whole" "$W/par" || fail "parallel --pipe shards differ"
fi

# Binary shards (written here with Python's struct), one job per file.
if "$PY" -c 'import struct' 2>/dev/null; then
	"$PY" - "$W/all.tsv" "$W/bin" <<'EOF' || fail "writing binary shards"
import struct, sys
lines = [l.rstrip('\n').split('\t') for l in open(sys.argv[1])]
for k in range(0, len(lines), 7):
    with open('%s.%02d' % (sys.argv[2], k // 7), 'wb') as f:
        for l in lines[k:k + 7]:
            key, label = l[0].encode(), l[1].encode()
            rows, cols = int(l[2]), int(l[3])
            f.write(b'DDKS' + struct.pack('<5I', 1, len(key), len(label),
                                          rows, cols))
            f.write(key + label)
            f.write(struct.pack('<%df' % (rows * cols),
                                *map(float, l[4:])))
EOF
	cat "$W"/bin.* | "$F" -q --restarts 2 | tail -n +2 >"$W/binwhole"
	cmp -s "$W/whole" "$W/binwhole" || fail "binary stream differs from text"
	if command -v parallel >/dev/null 2>&1; then
		parallel --will-cite -k "$F -q --restarts 2 {} | tail -n +2" \
			::: "$W"/bin.* >"$W/binpar" 2>/dev/null
		cmp -s "$W/whole" "$W/binpar" || fail "parallel file shards differ"
	fi
fi

# -- --keep-going -------------------------------------------------------------
{
	head -3 "$W/const.tsv"
	printf 'flat\t\t1\t4\t0.5\t0.5\t0.5\t0.5\n'
	printf 'short\t\t1\t2\t1\t0.5\n'
	printf 'holes\t\t1\t4\t1\tnan\t0.5\t0.2\n'
	printf 'tall\t\t3\t3\t1\t1\t1\t1\t1\t1\t1\t0.5\t0.2\n'
	tail -2 "$W/const.tsv"
} >"$W/mixed.tsv"
"$F" -q --keep-going "$W/mixed.tsv" >"$W/kg" 2>"$W/kg.err"
[ $? -eq 1 ] || fail "--keep-going: want exit 1 after bad curves"
[ "$(wc -l <"$W/kg")" -eq 10 ] || fail "--keep-going: $(wc -l <"$W/kg") lines"
for k in flat short holes tall; do
	grep -q "^$k	nan	nan	nan	0	bad-input\$" "$W/kg" ||
		fail "--keep-going: $k not marked"
	grep -q "^ddk-fit: .*record [0-9]*: $k: " "$W/kg.err" ||
		fail "--keep-going: $k not reported"
done
{ head -3 "$W/const.tsv"; tail -2 "$W/const.tsv"; } | "$F" -q |
	tail -n +2 >"$W/good"
grep -v 'bad-input$' "$W/kg" | tail -n +2 | cmp -s - "$W/good" ||
	fail "--keep-going: good curves changed"
expect_status 1 "$F" -q -o "$W/kgo" "$W/mixed.tsv"
[ -e "$W/kgo" ] && fail "a bad curve without --keep-going left -o behind"
expect_status 1 "$F" -q --keep-going -o "$W/kgo" "$W/mixed.tsv"
[ "$(wc -l <"$W/kgo")" -eq 10 ] || fail "--keep-going -o: table not whole"

# -- --plot ---------------------------------------------------------------------
head -2 "$W/vary.tsv" | "$F" -q --plot "$W/plots" >/dev/null ||
	fail "--plot: exit $?"
for k in c00 c01; do
	[ "$(grep -vc '^#' "$W/plots/$k.dat")" -eq 61 ] ||
		fail "--plot: $k.dat rows"
	[ -s "$W/plots/$k.gp" ] || fail "--plot: no $k.gp"
done
if command -v gnuplot >/dev/null 2>&1; then
	(cd "$W/plots" && gnuplot c00.gp) 2>"$W/gp.err" ||
		fail "gnuplot c00.gp: $(head -c 200 "$W/gp.err")"
	head -c 8 "$W/plots/c00.png" | od -c | grep -q 'P   N   G' ||
		fail "--plot: c00.png is not a PNG"
fi

# The man page examples run in man-examples.sh.
finish
