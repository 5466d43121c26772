#!/bin/sh
# train_bench.sh [OUTDIR]: ddk-train against the PyTorch reference
# (bench/train_torch.py) on Fashion-MNIST and the full KLettres voices.
#
# For every configuration, the C runs and then the PyTorch runs, one seed
# after another, on the same pooled data, optimiser (Adam, lr 0.001),
# batch size (32) and epochs.  Each run appends one line to OUTDIR/runs.tsv:
#   set net variant impl seed test_acc epoch_s peak_kb data_kb
# (epoch_s: mean seconds per epoch as each program reports it; peak_kb:
# /usr/bin/time's peak RSS of ddk-train; data_kb: the training set as
# float32).  OUTDIR/summary.md gets the table of means.
#
# PARTS=memory measures ddk-train's peak RSS on the speech set repeated
# 1, 2, 4 and 10 times, in memory and --in-place: OUTDIR/memory.tsv.
#
# PARTS=speed times one epoch of each implementation alternately (REPS
# times) for the four networks with the DDK layer (NODDK=1: also three
# without it): OUTDIR/speed.tsv.
#
# DRAWS=ddk has the PyTorch runs take their initial weights and epoch
# permutations from ddk-train's generator (train_torch.py --draws ddk):
# paired runs that differ only in arithmetic.  IMPLS may add "torchr":
# the PyTorch twin with the recurrence's additions reassociated
# (train_torch.py --reassociate), PyTorch against itself rounded
# differently.
#
# DDK_FLAGS adds options to ddk-train's speed runs only (e.g.
# --in-place).
#
# Environment: PARTS ("fm sp"), SEEDS ("1 2 3"), FM_EPOCHS (5),
# SP_EPOCHS (50), IMPLS ("c torch"), DRAWS (torch), VARIANTS (all four), NETS (the speed part's networks by
# name, e.g. "fm-784-48-10"; all), PY (/usr/bin/python3),
# FM (/usr/share/datasets/fashion-mnist), KL (/usr/share/klettres).
set -eu
export LC_ALL=C OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
here=$(cd "$(dirname "$0")/.." && pwd -P)
bin=$here/bin
out=${1:-bench-train.out}
PARTS=${PARTS:-fm sp}
SEEDS=${SEEDS:-1 2 3}
FM_EPOCHS=${FM_EPOCHS:-5}
SP_EPOCHS=${SP_EPOCHS:-50}
IMPLS=${IMPLS:-c torch}
PY=${PY:-/usr/bin/python3}
FM=${FM:-/usr/share/datasets/fashion-mnist}
KL=${KL:-/usr/share/klettres}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
runs=$out/runs.tsv
[ -f "$runs" ] || printf 'set\tnet\tvariant\timpl\tseed\ttest_acc\tepoch_s\tpeak_kb\tdata_kb\n' >"$runs"

# 1. Pooled data, made once.
pool_fm() {
	[ -s "$out/fm-test.ddk" ] && return
	"$bin/ddk-pool" -q --idx "$FM/train-images-idx3-ubyte.gz" \
		--labels "$FM/train-labels-idx1-ubyte.gz" -o "$out/fm-train.ddk"
	"$bin/ddk-pool" -q --idx "$FM/t10k-images-idx3-ubyte.gz" \
		--labels "$FM/t10k-labels-idx1-ubyte.gz" -o "$out/fm-test.ddk"
}

pool_sp() {
	[ -s "$out/spa-test.ddk" ] && return
	sh "$here/data-samples/klettres/make-manifests.sh" "$out/kl" "$KL"
	for s in train test; do
		(cd "$out/kl" &&
		"$bin/ddk-pool" -q -l 48000 -u 8 -p 60 --manifest $s.tsv \
			-o "$out/sp-$s.ddk" &&
		"$bin/ddk-pool" -q -l 48000 -u 8 -p 60 --pool-op absmean \
			--manifest $s.tsv -o "$out/spa-$s.ddk")
	done
}

# 2. One run of each implementation: appends a line to runs.tsv.
# run_c SET NET VARIANT SEED EPOCHS DATA HIDDEN FLAGS...
run_c() {
	set_=$1 net=$2 var=$3 seed=$4 ep=$5 data=$6 hid=$7
	shift 7
	log=$out/log.c.$set_.$net.$var.$seed
	/usr/bin/time -f 'peak_kb %M' "$bin/ddk-train" --epochs "$ep" \
		--seed "$seed" --hidden "$hid" "$@" -m "$out/model.json" \
		"$out/$data-train.ddk" 2>"$log"
	"$bin/ddk-infer" -m "$out/model.json" "$out/$data-test.ddk" \
		2>>"$log" >/dev/null
	awk -v s="$set_" -v n="$net" -v v="$var" -v sd="$seed" '
		/ examples of / { split($5, d, "x"); ex = $2 }
		/ epoch [0-9]+\// { t += $(NF - 1); e++ }
		/^peak_kb/ { pk = $2 }
		/accuracy/ { acc = $3 }
		END { printf "%s\t%s\t%s\tc\t%s\t%s\t%.4f\t%d\t%d\n", s, n,
		      v, sd, acc, t / e, pk, ex * d[1] * d[2] * 4 / 1024 }
	' "$log" >>"$runs"
}

# run_torch SET NET VARIANT SEED EPOCHS DATA HIDDEN FLAGS...
run_torch() {
	set_=$1 net=$2 var=$3 seed=$4 ep=$5 data=$6 hid=$7
	shift 7
	log=$out/log.$impl.$set_.$net.$var.$seed
	"$PY" "$here/bench/train_torch.py" --epochs "$ep" --seed "$seed" \
		--draws "${DRAWS:-torch}" --hidden "$hid" "$@" \
		"$out/$data-train.ddk" \
		"$out/$data-test.ddk" >"$log"
	awk -v s="$set_" -v n="$net" -v v="$var" -v sd="$seed" \
		-v i="$impl" '/^test_accuracy/ {
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%.4f\t\t\n", s, n, v, i,
		       sd, $2, $4 }' "$log" >>"$runs"
}

run_torchr() {
	impl=torchr
	run_torch "$@" --reassociate
}

# 3. Every variant of one network: C then PyTorch, seed by seed.
variants() {
	set_=$1 net=$2 ep=$3 data=$4 hid=$5
	for var in ${VARIANTS:-ddk ddk+fn no-ddk no-ddk+fn}; do
		case $var in
		ddk) f= ;;
		ddk+fn) f=--feature-norm ;;
		no-ddk) f=--no-ddk ;;
		no-ddk+fn) f="--no-ddk --feature-norm" ;;
		esac
		for impl in $IMPLS; do
			for seed in $SEEDS; do
				# shellcheck disable=SC2086
				run_$impl "$set_" "$net" "$var" "$seed" "$ep" \
					"$data" "$hid" $f
			done
		done
	done
}

# 4. Speed: seconds per epoch of each, alternately, REPS times.  ddk-train
# by the difference of wall times of E+1 and 1 epochs over E (loading
# and start-up cancel); PyTorch by its own per-epoch clock.
now() { date +%s.%N; }

c_epoch_s() {   # DATA HIDDEN E [FLAGS]
	t0=$(now)
	# shellcheck disable=SC2086
	"$bin/ddk-train" -q --epochs 1 --hidden "$2" ${4:-} ${DDK_FLAGS:-} \
		-m "$out/speed.json" "$out/$1-train.ddk"
	t1=$(now)
	# shellcheck disable=SC2086
	"$bin/ddk-train" -q --epochs $(($3 + 1)) --hidden "$2" ${4:-} \
		${DDK_FLAGS:-} -m "$out/speed.json" "$out/$1-train.ddk"
	t2=$(now)
	echo "$t0 $t1 $t2 $3" | awk '{ printf "%.4f", ($3 - $2 - ($2 - $1)) / $4 }'
}

speed() {       # NAME DATA HIDDEN C_EPOCHS TORCH_EPOCHS [FLAGS]
	case " ${NETS:-$1} " in *" $1 "*) ;; *) return 0 ;; esac
	for rep in $(seq "$REPS"); do
		c=$(c_epoch_s "$2" "$3" "$4" "${6:-}")
		# shellcheck disable=SC2086
		t=$("$PY" "$here/bench/train_torch.py" --epochs "$5" ${6:-} \
			--hidden "$3" "$out/$2-train.ddk" "$out/$2-test.ddk" |
			awk '/^test_accuracy/ { print $4 }')
		printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$rep" "$c" "$t" \
			"$(uptime | sed 's/.*average: //; s/,.*//')" >>"$out/speed.tsv"
	done
}

# 5. Memory against the size of the data: the speech training set
# repeated 1, 2, 4 and 10 times, peak RSS of a 2-epoch 800-16-20 run of
# ddk-train (data in memory, the default), of the same run with
# --in-place, and of a 1-epoch run of the PyTorch twin.
memory() {
	printf 'copies\tdata_kb\tpeak_kb\tin_place_peak_kb\ttorch_peak_kb\n' \
		>"$out/memory.tsv"
	for k in 1 2 4 10; do
		: >"$out/mem.ddk"
		for i in $(seq "$k"); do
			cat "$out/sp-train.ddk" >>"$out/mem.ddk"
		done
		for m in memory place; do
			flag=
			[ $m = memory ] || flag=--in-place
			/usr/bin/time -f 'peak_kb %M' "$bin/ddk-train" $flag \
				--epochs 2 --hidden 16 -m "$out/mem.json" \
				"$out/mem.ddk" 2>"$out/mem.$m"
		done
		/usr/bin/time -f 'peak_kb %M' "$PY" "$here/bench/train_torch.py" \
			--epochs 1 --hidden 16 "$out/mem.ddk" "$out/sp-test.ddk" \
			2>&1 >/dev/null | awk '/^peak_kb/ { print $2 }' \
			>"$out/mem.torch"
		awk -v k="$k" -v tp="$(cat "$out/mem.torch")" '
			/ examples of / { split($5, d, "x"); ex = $2 }
			/^peak_kb/ { pk[FILENAME] = $2 }
			END { printf "%s\t%d\t%s\t%s\t%s\n", k,
			      ex * d[1] * d[2] * 4 / 1024, pk[ARGV[1]],
			      pk[ARGV[2]], tp }
		' "$out/mem.memory" "$out/mem.place" >>"$out/memory.tsv"
	done
	rm -f "$out/mem.ddk" "$out/mem.json" "$out/mem.torch" \
		"$out/mem.place" "$out/mem.memory"
}

REPS=${REPS:-3}
for part in $PARTS; do
	case $part in
	fm)
		pool_fm
		variants fm linear "$FM_EPOCHS" fm none
		variants fm 784-48-10 "$FM_EPOCHS" fm 48 ;;
	sp)
		pool_sp
		for op in mean absmean; do
			d=sp
			[ $op = mean ] || d=spa
			variants "sp-$op" linear "$SP_EPOCHS" $d none
			variants "sp-$op" 800-16-20 "$SP_EPOCHS" $d 16
		done ;;
	speed)
		pool_fm
		pool_sp
		printf 'net\trep\tddk_s\ttorch_s\tload\n' >"$out/speed.tsv"
		speed fm-linear fm none 3 2
		speed fm-784-48-10 fm 48 3 2
		speed sp-linear spa none 200 5
		speed sp-800-16-20 spa 16 200 5
		[ "${NODDK:-0}" = 0 ] || {
			speed fm-linear-no-ddk fm none 3 2 --no-ddk
			speed fm-784-48-10-no-ddk fm 48 3 2 --no-ddk
			speed sp-800-16-20-no-ddk spa 16 200 5 --no-ddk; } ;;
	memory)
		pool_sp
		memory ;;
	*) echo "train_bench.sh: $part: unknown part" >&2; exit 2 ;;
	esac
done

# 6. Means per configuration; median speed ratios.
awk -F '\t' '
	NR == 1 { next }
	{ k = $1 " | " $2 " | " $3
	  if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	  acc[k, $4] += $6; cnt[k, $4]++; sec[k, $4] += $7
	  if ($4 == "c") { pk[k] = $8 > pk[k] ? $8 : pk[k]; dk[k] = $9 } }
	END {
	  print "| set | network | variant | ddk acc % | torch acc % |" \
	        " ddk - torch | ddk s/epoch | torch s/epoch | speed-up |" \
	        " peak RSS / data |"
	  print "|---|---|---|---|---|---|---|---|---|---|"
	  for (i = 1; i <= n; i++) {
	    k = order[i]; c = cnt[k, "c"]; t = cnt[k, "torch"]
	    ac = c ? 100 * acc[k, "c"] / c : -1
	    at = t ? 100 * acc[k, "torch"] / t : -1
	    sc = c ? sec[k, "c"] / c : 0; st = t ? sec[k, "torch"] / t : 0
	    r = sc > 0 ? st / sc : 0; m = dk[k] ? pk[k] / dk[k] : 0
	    printf("| %s | %.2f | %.2f | %+.2f | %.3f | %.3f | %.0fx |" \
	           " %.1f / %.1f MB = %.2fx |\n", k, ac, at, ac - at, sc, st,
	           r, pk[k] / 1024, dk[k] / 1024, m)
	  } }' "$runs" >"$out/summary.md"
printf '\nSeed by seed (bench/train_pairs.awk):\n\n' >>"$out/summary.md"
awk -f "$here/bench/train_pairs.awk" "$runs" >>"$out/summary.md"
[ -f "$out/speed.tsv" ] && awk -F '\t' '
	NR == 1 { next }
	{ r[$1, ++n[$1]] = $4 / $3; c[$1, n[$1]] = $3; t[$1, n[$1]] = $4
	  if (n[$1] == 1) order[++k] = $1 }
	function med(a, name, m,   i, j, v, x) {
	  for (i = 1; i <= m; i++) v[i] = a[name, i]
	  for (i = 2; i <= m; i++)
	    for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
	      x = v[j]; v[j] = v[j - 1]; v[j - 1] = x }
	  return v[int((m + 1) / 2)] }
	END {
	  print "\n| network (DDK layer) | ddk s/epoch | torch s/epoch |" \
	        " median speed-up |"
	  print "|---|---|---|---|"
	  for (i = 1; i <= k; i++) {
	    q = order[i]
	    printf("| %s | %.4f | %.3f | %.0fx |\n", q, med(c, q, n[q]),
	           med(t, q, n[q]), med(r, q, n[q])) } }' "$out/speed.tsv" \
	>>"$out/summary.md"
cat "$out/summary.md"
