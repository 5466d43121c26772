#!/bin/sh
# The committed KLettres subset (8 kHz 16-bit mono WAV, a text-independent
# split) and, when klettres-data is installed, the scripts that make it and
# the manifests of the full set: the same bytes on a second run, paths that
# resolve, and ddk-pool reading every test file.
. "$(dirname "$0")/lib.sh"
S=/usr/share/klettres
K=$T/data-samples/klettres
M=$K/make-manifests.sh

# 0. The subset: 10 voices of 12 train and 4 test letters, no letter on
# both sides, every file there (pool.sh checks they are 8 kHz 16-bit mono).
cut -f 1 "$K/train.tsv" "$K/test.tsv" | (cd "$K" &&
	while read -r p; do [ -f "$p" ] || echo "$p"; done) >"$W/bad"
[ -s "$W/bad" ] && fail "subset: missing $(head -3 "$W/bad")"
[ "$(cut -f 2 "$K/train.tsv" | sort | uniq -c | awk '$1 == 12' |
	wc -l)" -eq 10 ] || fail "train.tsv: not 10 voices of 12"
[ "$(cut -f 2 "$K/test.tsv" | sort | uniq -c | awk '$1 == 4' |
	wc -l)" -eq 10 ] || fail "test.tsv: not 10 voices of 4"
[ -z "$(cut -f 1 "$K/train.tsv" "$K/test.tsv" | sort | uniq -d)" ] ||
	fail "a subset file is on both sides"
if [ ! -d $S ]; then
	echo "klettres.sh: no $S (klettres-data)"
	[ "$nfail" -eq 0 ] || finish; exit 77
fi

# 1. make-subset.sh (with sox) gives the committed files again.
if command -v sox >/dev/null; then
	sh "$K/make-subset.sh" "$W/s" $S 2>"$W/err" ||
		fail "make-subset.sh: $(head -3 "$W/err")"
	for f in train.tsv test.tsv; do
		cmp -s "$K/$f" "$W/s/$f" || fail "make-subset.sh: $f differs"
		cut -f 1 "$K/$f" | while read -r p; do
			cmp -s "$K/$p" "$W/s/$p" || echo "$p"
		done >"$W/bad"
		[ -s "$W/bad" ] &&
			fail "make-subset.sh: differ: $(head -3 "$W/bad")"
	done
else
	echo "klettres.sh: no sox, make-subset.sh not tried"
fi

# 2. Two runs into two folders give the same bytes.
sh "$M" "$W/a" 2>"$W/log" || fail "make-manifests: $(cat "$W/log")"
sh "$M" "$W/b" $S 2>/dev/null || fail "make-manifests, second run"
for f in train.tsv test.tsv; do
	[ -s "$W/a/$f" ] || fail "$f is empty"
	cmp -s "$W/a/$f" "$W/b/$f" || fail "$f differs between runs"
	LC_ALL=C sort -c "$W/a/$f" 2>/dev/null || fail "$f is not sorted"
done

# 3. No voice has an item (file name less .ogg) on both sides; every voice
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

# 4. Every path exists, relative to the manifests' folder.
cut -f 1 "$W/a/train.tsv" "$W/a/test.tsv" | (cd "$W/a" &&
	while read -r p; do [ -f "$p" ] || echo "$p"; done) >"$W/missing"
[ -s "$W/missing" ] && fail "missing: $(head -3 "$W/missing")"

# 5. ddk-pool reads every test file: keys and labels as in the manifest.
"$B/ddk-pool" -q -l 48000 -u 8 -p 60 --tsv --manifest "$W/a/test.tsv" \
	>"$W/maps" 2>"$W/err" || fail "ddk-pool: $(head -3 "$W/err")"
cut -f 1,2 "$W/maps" | cmp -s - "$W/a/test.tsv" ||
	fail "ddk-pool keys and labels differ from test.tsv"
[ "$(cut -f 3,4 "$W/maps" | sort -u)" = "8	100" ] ||
	fail "maps are not all 8 x 100"

# 6. The script refuses an OUTDIR whose klettres is not its own link.
mkdir -p "$W/c/klettres"
sh "$M" "$W/c" 2>"$W/err" && fail "overwrote a klettres folder"
grep -q 'not a symbolic link' "$W/err" || fail "message: $(cat "$W/err")"
[ -e "$W/c/train.tsv" ] && fail "wrote train.tsv beside a klettres folder"
finish
