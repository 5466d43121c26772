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
