#!/bin/sh
# Run the EXAMPLES of every man page marked with the comment line
# '.\" examples-run'.  In each .EX block of that section, a line starting
# with "$ " is a command (continued while a line ends in a backslash); the
# lines after it, up to the next command or the block's end, are its exact
# output, when there are any.  Commands run in a scratch folder that sees
# data-samples/, with the built tools first on PATH.
. "$(dirname "$0")/lib.sh"
ln -s "$T/data-samples" "$W/data-samples"
PATH=$B:$PATH
export PATH
n=0
for page in "$T"/man/*.[157]; do
	grep -q '^\.\\" examples-run' "$page" || continue
	# Unescape roff and cut the EXAMPLES section into numbered files.
	awk -v dir="$W" -v base="$(basename "$page")" '
		/^\.SH / { inex = ($2 == "EXAMPLES") ; next }
		!inex { next }
		/^\.EX/ { inblock = 1; next }
		/^\.EE/ { inblock = 0; cont = 0; next }
		!inblock { next }
		{
			gsub(/\\-/, "-"); gsub(/\\e/, "\\"); gsub(/\\\(->/, "->")
			if (cont || substr($0, 1, 2) == "$ ") {
				if (!cont) {
					k++
					# zero-padded, so the glob runs them in order
					id = sprintf("%03d", k)
					cmd = dir "/" base "." id ".cmd"
					out = dir "/" base "." id ".want"
					printf "" > out
					sub(/^\$ /, "")
				}
				print > cmd
				cont = ($0 ~ /\\$/)
			} else if (k) {
				print > out
			}
		}' "$page"
done
for cmd in "$W"/*.cmd; do
	[ -f "$cmd" ] || continue
	n=$((n + 1))
	want=${cmd%.cmd}.want
	(cd "$W" && sh "$cmd") >"$W/got" 2>"$W/err" ||
		{ fail "$(basename "$cmd"): exit $?: $(head -c 300 "$W/err")"; continue; }
	if [ -s "$want" ] && ! cmp -s "$want" "$W/got"; then
		fail "$(basename "$cmd"): output differs: $(head -c 300 "$W/got")"
	fi
done
echo "man-examples: $n commands, $nfail failed"
[ $n -gt 0 ] || fail "no examples found"
finish
