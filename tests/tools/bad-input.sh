#!/bin/sh
# Drive every table in tests/bad-input/: each line is
#   status TAB text TAB command
# The command runs under sh with $B (tools), $T (checkout), $D (data
# samples), $X (tests/data fixtures) and $W (scratch) set; it must exit with that status, print
# nothing on stdout, and say text (in exactly one line for status 1) (a fixed string) in one stderr line that
# starts with the tool's name, with no control character in it (a bad key
# is shown only up to its first).  A command writing -o $W/out must leave
# no $W/out behind.  Lines starting with # are comments.
. "$(dirname "$0")/lib.sh"
D=$T/data-samples
X=$T/tests/data
export B T D W X
n=0
tab=$(printf '\t')
for table in "$T"/tests/bad-input/*.tsv; do
	[ -f "$table" ] || continue
	while IFS="$tab" read -r want text cmd; do
		case $want in ''|\#*) continue ;; esac
		n=$((n + 1))
		rm -f "$W/out"
		sh -c "$cmd" >"$W/stdout" 2>"$W/stderr" </dev/null
		got=$?
		where="$(basename "$table"):$n: $cmd"
		if [ "$got" -ne "$want" ]; then
			fail "$where: status $got, wanted $want"
		elif ! grep -qF -- "$text" "$W/stderr"; then
			fail "$where: stderr lacks '$text': $(head -c 200 "$W/stderr")"
		elif [ "$want" -eq 1 ] && [ "$(wc -l <"$W/stderr")" -ne 1 ]; then
			fail "$where: wanted one line on stderr: $(cat "$W/stderr")"
		elif LC_ALL=C grep -q '[[:cntrl:]]' "$W/stderr"; then
			fail "$where: a control character on stderr"
		elif [ -s "$W/stdout" ]; then
			fail "$where: wrote to stdout"
		elif [ -e "$W/out" ]; then
			fail "$where: left $W/out behind"
		elif ! grep -q '^ddk-[a-z]*: \|^xbar-sim: ' "$W/stderr"; then
			fail "$where: message does not start with the tool's name"
		fi
	done <"$table"
done
echo "bad-input: $n cases, $nfail failed"
finish
