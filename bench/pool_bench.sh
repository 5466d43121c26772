#!/bin/sh
# pool_bench.sh [N [REPS]]: ddk-pool against `sox FILE -t f32 -` on the
# same WAV files, and ddk-pool's peak memory as the file count grows
# tenfold.  Run from the checkout after make; DDK_BIN names the tools'
# folder (default bin), KL the KLettres folder (/usr/share/klettres).
#
# Files: N (default 100) KLettres recordings spread over the voices, made
# 16 kHz 16-bit mono WAV by sox into a temporary folder; the big set is
# those N files copied 10 times under other names, so it differs from the
# small one only in the count, not in the longest file.
#
# Speed, on the big set (10 N files), each pair run REPS times (default 5)
# alternately, the ratios sox/ddk-pool of every repetition in wall time
# and in CPU time (user + system), then their medians (above 1: ddk-pool
# is faster):
#   per file  one process per file for both tools, in a shell loop;
#   total     one process for all files: ddk-pool FILES, sox FILES (sox
#             joins its inputs into one stream).
# ddk-pool runs twice over: -p 1 --normalize none writes every sample as
# float32, as sox does; -l 48000 -u 8 -p 60 is the paper's recipe.
# Memory: peak RSS (/usr/bin/time %M) of each command on N and on 10 N.
set -eu
export LC_ALL=C
N=${1:-100}
REPS=${2:-5}
B=${DDK_BIN:-bin}
KL=${KL:-/usr/share/klettres}
W=$(mktemp -d "${TMPDIR:-/tmp}/pool-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
command -v sox >/dev/null || { echo "pool_bench: no sox" >&2; exit 1; }
[ -d "$KL" ] || { echo "pool_bench: no $KL (klettres-data)" >&2; exit 1; }

# 1. N recordings spread over the set, then 10 copies of each.
find "$KL" -mindepth 3 -name '*.ogg' | sort >"$W/all"
total=$(wc -l <"$W/all")
[ "$total" -ge "$N" ] || { echo "pool_bench: only $total files" >&2; exit 1; }
mkdir "$W/small" "$W/big"
awk -v n="$N" -v t="$total" 'NR == 1 + int(k * t / n) { print; k++ }' \
	"$W/all" | head -n "$N" >"$W/pick"
k=0
while read -r f; do
	k=$((k + 1))
	sox -R -D -V1 "$f" -b 16 -c 1 -e signed-integer \
		"$W/small/$(printf %04d $k).wav" rate 16000
done <"$W/pick"
for c in 0 1 2 3 4 5 6 7 8 9; do
	for f in "$W"/small/*.wav; do cp "$f" "$W/big/$c-${f##*/}"; done
done
samples=$(for f in "$W"/small/*.wav; do soxi -s "$f"; done |
	awk '{ s += $1; if ($1 > m) m = $1 } END { print s / NR, m }')
echo "files: $N and $((10 * N)) WAV, 16 kHz 16-bit mono, mean and longest" \
	"$samples samples; $(uptime | sed 's/.*load/load/')"

# timed LABEL K SCRIPT: run SCRIPT K times in one sh, stdout to
# /dev/null; append "LABEL wall_seconds cpu_seconds" of one run (cpu: user
# + system of all its processes) to $W/times.  GNU time counts in 10 ms,
# so the short commands run K = 10 times.
timed() {
	/usr/bin/time -f '%e %U %S' -o "$W/t" \
		sh -c "for k in \$(seq $2); do $3; done" >/dev/null
	awk -v l="$1" -v k="$2" '{ print l, $1 / k, ($2 + $3) / k }' \
		"$W/t" >>"$W/times"
}
raw="-q -p 1 --normalize none"
recipe="-q -l 48000 -u 8 -p 60"
P=$B/ddk-pool
F="$W"/big/*.wav
loop() { echo "for f in $F; do $1; done"; }

# 2. Speed: the pairs alternate, REPS times.
: >"$W/times"
for r in $(seq "$REPS"); do
	timed file_ddk_raw 1 "$(loop "$P $raw \$f")"
	timed file_sox 1 "$(loop "sox \$f -t f32 -")"
	timed file_ddk_recipe 1 "$(loop "$P $recipe \$f")"
	timed all_ddk_raw 10 "$P $raw $F"
	timed all_sox 10 "sox $F -t f32 -"
	timed all_ddk_recipe 10 "$P $recipe $F"
done
echo
echo "speed on $((10 * N)) files, $REPS alternating repetitions: median" \
	"seconds, and the median of the $REPS ratios sox / ddk-pool"
awk -v files=$((10 * N)) '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ k = ++n[$1]; wall[$1, k] = $2; cpu[$1, k] = $3 }
	END {
		printf "%-5s %-11s %8s %8s %9s %8s %8s\n", "mode", "command",
			"wall s", "ms/file", "ratio", "cpu s", "ratio"
		split("file all", modes, " ")
		split("sox ddk_raw ddk_recipe", cmds, " ")
		for (m = 1; m <= 2; m++) for (c = 1; c <= 3; c++) {
			id = modes[m] "_" cmds[c]; sx = modes[m] "_sox"
			for (k = 1; k <= n[id]; k++) {
				a[k] = wall[id, k]; b[k] = cpu[id, k]
				r[k] = wall[sx, k] / wall[id, k]
				q[k] = cpu[sx, k] / cpu[id, k]
			}
			w = median(a, n[id]); u = median(b, n[id])
			printf "%-5s %-11s %8.3f %8.3f %9.2f %8.3f %8.2f\n",
				modes[m], cmds[c], w, 1000 * w / files,
				median(r, n[id]), u, median(q, n[id])
		}
	}' "$W/times"

# 3. Peak memory on N and on 10 N files.
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
ls "$W"/small/*.wav | sed 's|.*/||; s|$|\tx|' >"$W/small/m.tsv"
ls "$W"/big/*.wav | sed 's|.*/||; s|$|\tx|' >"$W/big/m.tsv"
echo
echo "peak RSS in KiB on $N and $((10 * N)) files"
for set in small big; do
	printf '%s\t%s\t%s\t%s\t%s\n' "$(ls "$W/$set"/*.wav | wc -l)" \
		"$(peak "$B/ddk-pool" $raw "$W/$set"/*.wav)" \
		"$(peak "$B/ddk-pool" $recipe "$W/$set"/*.wav)" \
		"$(peak "$B/ddk-pool" $recipe --manifest "$W/$set/m.tsv")" \
		"$(peak sox "$W/$set"/*.wav -t f32 -)"
done | awk 'BEGIN { printf "%6s %12s %12s %16s %10s\n", "files",
		"ddk raw", "ddk recipe", "ddk --manifest", "sox" }
	{ printf "%6s %12s %12s %16s %10s\n", $1, $2, $3, $4, $5 }'
