#!/bin/sh
# data-samples/klettres/make-manifests.sh on the full KLettres set: a
# text-independent split, paths that resolve, the same bytes on a second
# run, and ddk-pool reading every test file.
. "$(dirname "$0")/lib.sh"
S=/usr/share/klettres
M=$T/data-samples/klettres/make-manifests.sh
if [ ! -d $S ]; then
	echo "klettres.sh: no $S (klettres-data)"; exit 77
fi

# 1. Two runs into two folders give the same bytes.
sh "$M" "$W/a" 2>"$W/log" || fail "make-manifests: $(cat "$W/log")"
sh "$M" "$W/b" $S 2>/dev/null || fail "make-manifests, second run"
for f in train.tsv test.tsv; do
	[ -s "$W/a/$f" ] || fail "$f is empty"
	cmp -s "$W/a/$f" "$W/b/$f" || fail "$f differs between runs"
	LC_ALL=C sort -c "$W/a/$f" 2>/dev/null || fail "$f is not sorted"
done

# 2. No voice has an item (file name less .ogg) on both sides; every voice
# is on both sides with at least 24 items; no file is listed twice.
awk -F '\t' '
	{ f = FILENAME; sub(/.*\//, "", f)
	  n = split($1, p, "/"); item = p[n]; sub(/\.ogg$/, "", item)
	  if (seen[$1]++) { print "listed twice: " $1; bad = 1 }
	  if (!((f, $2, item) in got)) nitem[f, $2]++
	  got[f, $2, item] = 1; voices[$2] = 1 }
	END {
	  for (v in voices) {
		nv++
		a = nitem["train.tsv", v]; b = nitem["test.tsv", v]
		if (a == 0 || b == 0 || a + b < 24) {
			print "voice " v ": " a " + " b " items"; bad = 1 }
	  }
	  for (k in got) {
		split(k, fvi, SUBSEP)
		if (fvi[1] == "test.tsv" && (("train.tsv", fvi[2], fvi[3]) in got)) {
			print "shared: " fvi[2] " " fvi[3]; bad = 1 }
	  }
	  if (nv < 10) { print nv " voices"; bad = 1 }
	  exit bad }' "$W/a/train.tsv" "$W/a/test.tsv" 2>&1 >"$W/split" ||
	fail "split: $(head -5 "$W/split")"
[ -n "$(cd "$W/a" && awk -F '\t' '$1 !~ /^klettres\// || NF != 2' \
	train.tsv test.tsv)" ] && fail "lines not 'klettres/...<TAB>voice'"

# 3. Every path exists, relative to the manifests' folder.
cut -f 1 "$W/a/train.tsv" "$W/a/test.tsv" | (cd "$W/a" &&
	while read -r p; do [ -f "$p" ] || echo "$p"; done) >"$W/missing"
[ -s "$W/missing" ] && fail "missing: $(head -3 "$W/missing")"

# 4. ddk-pool reads every test file: keys and labels as in the manifest.
"$B/ddk-pool" -q -l 48000 -u 8 -p 60 --tsv --manifest "$W/a/test.tsv" \
	>"$W/maps" 2>"$W/err" || fail "ddk-pool: $(head -3 "$W/err")"
cut -f 1,2 "$W/maps" | cmp -s - "$W/a/test.tsv" ||
	fail "ddk-pool keys and labels differ from test.tsv"
[ "$(cut -f 3,4 "$W/maps" | sort -u)" = "8	100" ] ||
	fail "maps are not all 8 x 100"

# 5. The script refuses an OUTDIR whose klettres is not its own link.
mkdir -p "$W/c/klettres"
sh "$M" "$W/c" 2>"$W/err" && fail "overwrote a klettres folder"
grep -q 'not a symbolic link' "$W/err" || fail "message: $(cat "$W/err")"
[ -e "$W/c/train.tsv" ] && fail "wrote train.tsv beside a klettres folder"
finish
