# Shared by the tool tests: sourced, not run.  Sets $B (built tools), $T
# (the checkout), $W (a scratch folder removed at exit) and helpers.
B=${DDK_BIN:-bin}
T=${DDK_TOP:-.}
case $B in /*) ;; *) B=$T/$B ;; esac
PY=${PYTHON:-/usr/bin/python3}
W=$(mktemp -d "${TMPDIR:-/tmp}/ddk-test.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
nfail=0
fail() { echo "  not ok: $*"; nfail=$((nfail + 1)); }
ok() { :; }
# expect_status WANT CMD...: run CMD, compare its exit status.
expect_status() {
	want=$1; shift
	"$@" >"$W/out" 2>"$W/err"; got=$?
	[ "$got" -eq "$want" ] || fail "$* exited $got, wanted $want: $(head -c 300 "$W/err")"
}
finish() { [ "$nfail" -eq 0 ]; exit $?; }
# maps C N U T SEED NOISE LIFT KEYS: N labelled maps of U x T per class
# c0..c(C-1), as text.  Every value is 0.1 plus uniform noise of width
# NOISE from a fixed LCG; class c adds LIFT in the c-th block of columns.
# KEYS is plain (k<c>_<i>) or frames (o<c><i/5>.<i%5>: five frames an
# object, for --vote).
maps() {
	awk -v C="$1" -v N="$2" -v U="$3" -v T="$4" -v s="$5" -v a="$6" \
	    -v lift="$7" -v keys="$8" 'BEGIN {
		for (c = 0; c < C; c++) for (i = 0; i < N; i++) {
			if (keys == "frames")
				key = sprintf("o%d%02d.%d", c, int(i / 5), i % 5)
			else
				key = sprintf("k%d_%03d", c, i)
			line = sprintf("%s\tc%d\t%d\t%d", key, c, U, T)
			for (u = 0; u < U; u++) for (t = 0; t < T; t++) {
				s = (s * 1103515245 + 12345) % 2147483648
				v = a * s / 2147483648
				v += int(t * C / T) == c ? 0.1 + lift : 0.1
				line = line sprintf("\t%.4g", v)
			}
			print line
		}
	}'
}
