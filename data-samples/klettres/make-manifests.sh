#!/bin/sh
# make-manifests.sh [OUTDIR [SRC]]: manifests of the full KLettres set.
#
# SRC (default /usr/share/klettres, Debian's klettres-data) holds one folder
# per language, each read by one native speaker: the language is the voice.
# Every .ogg file below SRC/<lang>/ (alpha/, syllab/, ...) is an example; its
# item is its file name without .ogg, the letter or syllable spoken (a name
# found in two subfolders is one item).  Voices with fewer than 24 items are
# left out.  The split is text-independent: in each voice the items are
# sorted (C locale) and every 4th (the 4th, 8th, ...) goes to test, the rest
# to train, with all of the item's files.
#
# Writes OUTDIR/train.tsv and OUTDIR/test.tsv (default OUTDIR: the current
# folder) as sorted `path<TAB>voice` lines, and the symbolic link
# OUTDIR/klettres -> SRC, so the paths (klettres/fr/alpha/a-0.ogg) are
# relative to the manifests' folder as ddk-pool reads them.  The same SRC
# gives byte-identical files on every run.
set -eu
export LC_ALL=C
prog=make-manifests.sh
min_items=24
test_every=4
die() { echo "$prog: $*" >&2; exit 1; }
[ $# -le 2 ] || { echo "usage: $prog [OUTDIR [SRC]]" >&2; exit 2; }
out=${1:-.}
src=${2:-/usr/share/klettres}

# 1. Resolve the folders; never overwrite the committed subset's manifests.
[ -d "$src" ] || die "$src: no such folder (apt-get install klettres-data)"
src=$(cd "$src" && pwd -P)
mkdir -p "$out" || die "$out: cannot make the folder"
here=$(cd "$(dirname "$0")" && pwd -P)
[ "$(cd "$out" && pwd -P)" != "$here" ] ||
	die "$out: holds the committed subset; choose another OUTDIR"
link=$out/klettres
[ -L "$link" ] || [ ! -e "$link" ] ||
	die "$link: exists and is not a symbolic link"

# 2. One line per file: voice, item, path; sorted by voice, item, path.
tab=$(printf '\t')
list=$out/.klettres-files.$$
trap 'rm -f "$list" "$list.s" "$out/.train.$$" "$out/.test.$$"' EXIT
(cd "$src" && find . -mindepth 3 -type f -name '*.ogg') >"$list" ||
	die "$src: cannot list the files"
! grep -q "$tab" "$list" || die "$src: a file name holds a tab"
awk -F/ -v t="$tab" '
	{ item = $NF; sub(/\.ogg$/, "", item); path = substr($0, 3)
	  print $2 t item t "klettres/" path }' "$list" |
	sort -t "$tab" -k1,1 -k2,2 -k3,3 >"$list.s"
mv "$list.s" "$list"
[ -s "$list" ] || die "$src: no .ogg files under $src/<language>/"

# 3. Count each voice's items, then number them: every 4th goes to test.
awk -F "$tab" -v min="$min_items" -v every="$test_every" \
	-v train="$out/.train.$$" -v test="$out/.test.$$" '
	NR == FNR { if ($1 != v || $2 != i) n[$1]++; v = $1; i = $2; next }
	FNR == 1 { v = ""; i = "" }
	{ if ($1 != v) k = -1; if ($1 != v || $2 != i) k++; v = $1; i = $2 }
	n[$1] < min { next }
	{ print $3 "\t" $1 > ((k % every == every - 1) ? test : train) }
	' "$list" "$list"

# 4. Sorted manifests, and the link that makes their paths resolve.
sort "$out/.train.$$" >"$out/train.tsv"
sort "$out/.test.$$" >"$out/test.tsv"
rm -f "$link"
ln -s "$src" "$link"
echo "$prog: $(cut -f 2 "$out/train.tsv" | sort -u | wc -l) voices," \
	"$(wc -l <"$out/train.tsv") train and $(wc -l <"$out/test.tsv")" \
	"test files" >&2
