#!/bin/sh
# make-subset.sh [OUTDIR [SRC]]: the small KLettres subset kept here.
#
# From SRC (default /usr/share/klettres, Debian's klettres-data) takes ten
# voices (language folders, one native speaker each) and, of each, the
# first 16 letters of alpha/ in C-locale file-name order.  Each recording is
# mixed down to mono and resampled to 8 kHz 16-bit WAV with sox, without
# dither, as OUTDIR/<voice>/<letter>.wav (default OUTDIR: this script's
# folder).  train.tsv gets the first 12 letters of each voice and test.tsv
# the other 4, so the split is text-independent.  The same SRC and sox give
# the same bytes on every run.
set -eu
export LC_ALL=C
prog=make-subset.sh
voices="cs da de en en_GB es fr he hu it"
per_voice=16
n_train=12
rate_hz=8000
die() { echo "$prog: $*" >&2; exit 1; }
[ $# -le 2 ] || { echo "usage: $prog [OUTDIR [SRC]]" >&2; exit 2; }
out=${1:-$(dirname "$0")}
src=${2:-/usr/share/klettres}
[ -d "$src" ] || die "$src: no such folder (apt-get install klettres-data)"
command -v sox >/dev/null || die "sox: not found (apt-get install sox)"
mkdir -p "$out" || die "$out: cannot make the folder"

# 1. Convert; the manifests are written beside, then moved into place.
trap 'rm -f "$out/.train.$$" "$out/.test.$$" "$out/.list.$$"' EXIT
: >"$out/.train.$$"
: >"$out/.test.$$"
for v in $voices; do
	ls "$src/$v/alpha" | grep '\.ogg$' | sort | head -n $per_voice \
		>"$out/.list.$$"
	[ "$(wc -l <"$out/.list.$$")" -eq $per_voice ] ||
		die "$src/$v/alpha: fewer than $per_voice .ogg files"
	mkdir -p "$out/$v"
	k=0
	while read -r f; do
		w=$v/${f%.ogg}.wav
		sox -R -D -V1 "$src/$v/alpha/$f" -b 16 -c 1 -e signed-integer \
			"$out/$w" rate $rate_hz || die "$src/$v/alpha/$f: sox failed"
		if [ $k -lt $n_train ]; then side=train; else side=test; fi
		printf '%s\t%s\n' "$w" "$v" >>"$out/.$side.$$"
		k=$((k + 1))
	done <"$out/.list.$$"
	rm -f "$out/.list.$$"
done

# 2. Sorted manifests.
sort "$out/.train.$$" >"$out/train.tsv"
sort "$out/.test.$$" >"$out/test.tsv"
